"""Read and write snarkjs Groth16 `.zkey` files, so that we and snarkjs prove with the same keys.

A .zkey is an iden3 binary container (bn254.iden3), magic "zkey", version 1.
Groth16 sections (snarkjs src/zkey_utils.js, src/zkey_new.js):
  1 header: u32 protocol (1 = groth16)
  2 groth16 header: u32 n8q, q, u32 n8r, r, u32 nVars, u32 nPublic, u32 domainSize,
    alpha_1, beta_1, beta_2, gamma_2, delta_1, delta_2
  3 IC: nPublic + 1 G1 points          4 coefficients of the A and B matrices
  5 A: nVars G1   6 B1: nVars G1   7 B2: nVars G2   8 C: nVars - nPublic - 1 G1
  9 H: domainSize G1                   10 contributions (the phase-2 transcript)
Points are affine with each F_q element in Montgomery form (bn254.iden3).
Section 4 holds u32 count, then per entry u32 matrix (0 = A, 1 = B), u32
constraint, u32 wire and the coefficient times 2^512 mod r (snarkjs stores it
"twice Montgomery" so that one Montgomery product with a plain witness value
yields the Montgomery form of the product). Section 10 starts with a 64-byte
hash of the circuit, then the u32 number of contributions.

snarkjs's layout is the one prover.qap uses (padding rows, H as odd Lagrange
points of the doubled domain), so the query vectors map one to one onto ours.
The zkey omits the C matrix, so the reader takes the R1CS the zkey was made
from and checks that the zkey's A and B coefficients are exactly its own.

A zkey with no phase-2 contribution is a development key at best (prover.trust):
the reader refuses it unless asked for development=True, and our own development
keys are written that way.
"""

from __future__ import annotations

import struct
from pathlib import Path
from itertools import chain
from typing import BinaryIO, Callable, Iterable, Iterator

import numpy as np

from bn254.constants import CURVE_B, FIELD_BYTES, Q, R, G1Affine
from bn254.curve import InvalidPoint, validate_g1, validate_g2
from bn254.iden3 import (
    G1_BYTES,
    G2_BYTES,
    ZKEY_MAGIC,
    ZKEY_VERSION,
    Iden3FormatError,
    StreamedSection,
    container_bytes,
    container_sections,
    field_bytes,
    g1_montgomery_bytes,
    g2_montgomery_bytes,
    read_g1_montgomery,
    read_g2_montgomery,
    require_sections,
    write_container,
)
from bn254.r1cs import R1CS
from prover.errors import KeyFormatError, KeyMismatch, UntrustedKey
from prover.backends.fast_points import first_invalid_g1, first_invalid_g2
from prover.keys import DEVELOPMENT_ZKEY_SETUP, ProvingKey, VerifyingKey
from prover.point_runs import PointRun, cache_aligned_bytes, encoded_points
from prover.progress import Progress, report
from prover.qap import domain_power
from prover.trust import require_usable, untrusted_reasons

_GROTH16 = 1
_N8, _G1_BYTES, _G2_BYTES = FIELD_BYTES, G1_BYTES, G2_BYTES
_COEFFICIENT_FACTOR = pow(2, 512, R)
_COEFFICIENT_INV_R = pow(_COEFFICIENT_FACTOR, R - 2, R)
_CIRCUIT_HASH_BYTES = 64
_g1, _g2 = read_g1_montgomery, read_g2_montgomery


class _ZkeyFile:
    """The sections of a .zkey file, each read on its own into its own buffer when asked for.

    A query vector's buffer is kept by its PointRun (and used in place by the fast
    backend); the coefficient section is read, checked and dropped. Reading the whole
    file into one buffer kept all of it for as long as the key lived.
    """

    def __init__(self, f: BinaryIO):
        self._file = f
        try:
            self._table = container_sections(f, ZKEY_MAGIC, ZKEY_VERSION)
            require_sections(self._table, range(1, 11), "zkey")
        except Iden3FormatError as error:
            raise KeyFormatError(str(error)) from error

    def __getitem__(self, section: int) -> bytes:
        """The section's bytes."""
        offset, size = self._table[section]
        self._file.seek(offset)
        data = self._file.read(size)
        if len(data) != size:
            raise KeyFormatError(f"zkey section {section} ends early: the file changed while it was read")
        return data

    def points(self, section: int) -> np.ndarray:
        """A query section's bytes as uint8, in a writable buffer (numba's kernels take writable
        arrays) that starts on a cache line (prover.point_runs.cache_aligned_bytes)."""
        offset, size = self._table[section]
        data = cache_aligned_bytes(size)
        self._file.seek(offset)
        if self._file.readinto(memoryview(data)) != size:
            raise KeyFormatError(f"zkey section {section} ends early: the file changed while it was read")
        return data


def _on_g1(p: G1Affine) -> bool:
    x, y = p
    return (x == 0 and y == 0) or (y * y - x * x * x - CURVE_B) % Q == 0


def _points(section: bytes, count: int, size: int, read: Callable[[bytes, int], tuple], name: str) -> tuple:
    """A short run of G1 points decoded to ints (the IC of the verifying key)."""
    if len(section) != count * size:
        raise KeyFormatError(f"zkey section {name} holds {len(section)} bytes, expected {count} points")
    points = tuple(read(section, i * size) for i in range(count))
    for i, point in enumerate(points):
        if not _on_g1(point):  # cheap, and catches a misread encoding at once
            raise KeyFormatError(f"zkey point {name}[{i}] is not on its curve")
    return points


def _point_run(section: np.ndarray, count: int, group: int, name: str) -> PointRun:
    """A query vector kept in its encoding (prover.point_runs), every point checked on its curve in one pass."""
    size = _G1_BYTES if group == 1 else _G2_BYTES
    if len(section) != count * size:
        raise KeyFormatError(f"zkey section {name} holds {len(section)} bytes, expected {count} points")
    run = PointRun(section.view("<u8"), group)
    bad = (first_invalid_g1 if group == 1 else first_invalid_g2)(run.limbs)
    if bad >= 0:
        raise KeyFormatError(f"zkey point {name}[{bad}] is not on its curve (or has a coordinate >= q)")
    return run


_ENTRY = np.dtype([("matrix", "<u4"), ("constraint", "<u4"), ("wire", "<u4"), ("value", "<u8", (4,))])
"""One entry of section 4: matrix (0 = A, 1 = B), constraint, wire, coefficient * 2^512 mod r."""


_CONSTRAINTS_PER_CHUNK = 1 << 16  # section 4 is made (and checked) this many constraints at a time


def _scaled_coefficients(coefficients: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """((u, 4) limbs of k * 2^512 mod r, nonzero flags) for each distinct coefficient k: scaled once, not per term."""
    scaled = b"".join(field_bytes(k % R * _COEFFICIENT_FACTOR % R) for k in coefficients)
    return np.frombuffer(scaled, "<u8").reshape(-1, 4), np.array([k % R != 0 for k in coefficients], np.bool_)


def _entry_count(r1cs: R1CS) -> int:
    """How many entries section 4 holds for r1cs: the nonzero A and B terms and the padding rows."""
    _, nonzero = _scaled_coefficients(r1cs.constraints.coefficients)
    a, b = r1cs.constraints.a, r1cs.constraints.b
    return int(nonzero[a.terms].sum()) + int(nonzero[b.terms].sum()) + r1cs.n_public + 1


def _entry_chunks(r1cs: R1CS) -> Iterator[np.ndarray]:
    """The entries a zkey made for r1cs holds in section 4 (zero coefficients omitted), as _ENTRY records,
    a chunk of constraints at a time, then the padding rows.

    In our writer's order: per constraint its A terms, then its B terms (each row in the
    R1CS's own term order: a .r1cs file's, snarkjs's order), then the padding rows. Made
    from the R1CS's sparse rows (bn254.r1cs.Constraints) in chunks, so that the 1.5
    million entries of the 64-quote batch (66 MB) never exist at once.
    """
    constraints = r1cs.constraints
    scaled, nonzero = _scaled_coefficients(constraints.coefficients)
    a, b = constraints.a, constraints.b
    m = len(constraints)
    for first in range(0, m, _CONSTRAINTS_PER_CHUNK):
        last = min(m, first + _CONSTRAINTS_PER_CHUNK)
        offset = int(a.indptr[first] + b.indptr[first])  # entries before this chunk
        chunk = np.empty(int(a.indptr[last] + b.indptr[last]) - offset, _ENTRY)
        keep = np.empty(chunk.shape[0], np.bool_)
        # Constraint i's A terms follow every earlier A and B term; its B terms follow its A terms too.
        for matrix, other_ends, index in ((a, b.indptr[:-1], 0), (b, a.indptr[1:], 1)):
            lo, hi = int(matrix.indptr[first]), int(matrix.indptr[last])
            rows = first + np.repeat(np.arange(last - first, dtype=np.int64), np.diff(matrix.indptr[first : last + 1]))
            at = np.arange(lo, hi, dtype=np.int64) + other_ends[rows] - offset
            terms = matrix.terms[lo:hi]
            chunk["matrix"][at] = index
            chunk["constraint"][at] = rows
            chunk["wire"][at] = matrix.wires[lo:hi]
            chunk["value"][at] = scaled[terms]
            keep[at] = nonzero[terms]
        yield chunk if keep.all() else chunk[keep]
    n_padding = r1cs.n_public + 1  # snarkjs's padding rows w_j * 0 = 0
    padding = np.empty(n_padding, _ENTRY)
    padding["matrix"] = 0
    padding["constraint"] = m + np.arange(n_padding)
    padding["wire"] = np.arange(n_padding)
    padding["value"] = np.frombuffer(field_bytes(_COEFFICIENT_FACTOR), "<u8")
    yield padding


def _expected_entries(r1cs: R1CS) -> np.ndarray:
    """Every entry of section 4 for r1cs at once (_entry_chunks joined)."""
    return np.concatenate(list(_entry_chunks(r1cs)))


def _zkey_entries(section: bytes) -> np.ndarray:
    if len(section) < 4:
        raise KeyFormatError("zkey coefficient section is empty")
    (count,) = struct.unpack_from("<I", section, 0)
    if len(section) != 4 + count * _ENTRY.itemsize:
        raise KeyFormatError(f"zkey coefficient section holds {len(section)} bytes for {count} entries")
    return np.frombuffer(section, _ENTRY, count=count, offset=4)


def _canonical(entries: np.ndarray) -> np.ndarray | None:
    """The entries without zero values, sorted by (matrix, constraint, wire); None when a key repeats."""
    entries = entries[entries["value"].any(axis=1)]
    order = np.lexsort((entries["wire"], entries["constraint"], entries["matrix"]))
    entries = entries[order]
    keys = np.stack([entries["matrix"], entries["constraint"], entries["wire"]], axis=1)
    if len(keys) > 1 and not (keys[1:] != keys[:-1]).any(axis=1).all():
        return None
    return entries


def _coefficients_match(section: bytes, r1cs: R1CS) -> bool:
    """True when section 4 holds exactly r1cs's A and B coefficients (and the padding rows)."""
    zkey_entries = _zkey_entries(section)
    if zkey_entries.shape[0] == _entry_count(r1cs) and _same_as_chunks(zkey_entries, _entry_chunks(r1cs)):
        return True  # in our writer's order (every key we saved, and snarkjs's for a .r1cs read back)
    expected_entries = _expected_entries(r1cs)
    found, expected = _canonical(zkey_entries), _canonical(expected_entries)
    if found is None:  # an entry listed twice: its values add up (a linear combination); compare the sums
        return _summed(zkey_entries) == _summed(expected_entries)
    return found.tobytes() == expected.tobytes()


def _same_as_chunks(entries: np.ndarray, chunks: Iterable[np.ndarray]) -> bool:
    """entries holds exactly the records of chunks, in order (compared as words, no copy of entries)."""
    position = 0
    for chunk in chunks:
        part = entries[position : position + chunk.shape[0]]
        if part.shape != chunk.shape or not np.array_equal(part.view("<u4"), chunk.view("<u4")):
            return False
        position += chunk.shape[0]
    return position == entries.shape[0]


def _summed(entries: np.ndarray) -> dict[tuple[int, int, int], int]:
    found: dict[tuple[int, int, int], int] = {}
    for entry in entries:
        key = (int(entry["matrix"]), int(entry["constraint"]), int(entry["wire"]))
        value = int.from_bytes(entry["value"].tobytes(), "little") * _COEFFICIENT_INV_R % R
        found[key] = (found.get(key, 0) + value) % R
    return {key: value for key, value in found.items() if value}


def _contributions(section: bytes) -> int:
    # A 64-byte circuit hash, then the u32 number of phase-2 contributions.
    return struct.unpack_from("<I", section, 64)[0] if len(section) >= 68 else 0


def read_zkey(
    path: str | Path, r1cs: R1CS, *, development: bool = False, progress: Progress | None = None
) -> ProvingKey:
    """The ProvingKey (and, as pk.vk, VerifyingKey) of a snarkjs Groth16 zkey made for `r1cs`.

    Raises KeyFormatError for a file that is not a BN254 Groth16 zkey, KeyMismatch
    when the zkey was made for another constraint system, and UntrustedKey for a
    zkey with no phase-2 contribution (or gamma = delta, or delta = [1]_2) unless
    development=True, which flags it as a development key (prover.trust).
    `progress` (prover.progress) hears of each stage.
    """
    report(progress, "zkey: reading the file", 0.0)
    with Path(path).open("rb") as f:
        return _read_zkey(_ZkeyFile(f), path, r1cs, development, progress)


def _read_zkey(sections: _ZkeyFile, path: str | Path, r1cs: R1CS, development: bool,
               progress: Progress | None) -> ProvingKey:
    protocol = int.from_bytes(sections[1][:4], "little")
    if protocol != _GROTH16:
        raise KeyFormatError(f"zkey protocol {protocol} is not groth16 ({_GROTH16})")
    header = sections[2]
    if len(header) != 8 + 2 * _N8 + 12 + 3 * _G1_BYTES + 3 * _G2_BYTES:
        raise KeyFormatError(f"zkey groth16 header holds {len(header)} bytes, not that of BN254")
    n8q = struct.unpack_from("<I", header, 0)[0]
    q = int.from_bytes(header[4 : 4 + n8q], "little")
    n8r = struct.unpack_from("<I", header, 4 + n8q)[0]
    r = int.from_bytes(header[8 + n8q : 8 + n8q + n8r], "little")
    if (n8q, q, n8r, r) != (_N8, Q, _N8, R):
        raise KeyFormatError("zkey is not over BN254 (q or r differ)")
    pos = 8 + 2 * _N8
    n_vars, n_public, domain_size = struct.unpack_from("<III", header, pos)
    pos += 12
    alpha_g1, beta_g1 = _g1(header, pos), _g1(header, pos + _G1_BYTES)
    pos += 2 * _G1_BYTES
    beta_g2, gamma_g2 = _g2(header, pos), _g2(header, pos + _G2_BYTES)
    pos += 2 * _G2_BYTES
    delta_g1 = _g1(header, pos)
    delta_g2 = _g2(header, pos + _G1_BYTES)

    if (n_vars, n_public) != (r1cs.n_wires, r1cs.n_public):
        raise KeyMismatch(
            f"zkey has {n_vars} wires and {n_public} public signals, "
            f"the R1CS {r1cs.n_wires} and {r1cs.n_public}"
        )
    if domain_size != 1 << domain_power(r1cs):
        raise KeyMismatch(f"zkey domain size {domain_size}, the R1CS needs {1 << domain_power(r1cs)}")
    report(progress, "zkey: checking the A and B coefficients", 0.1)
    if not _coefficients_match(sections[4], r1cs):
        raise KeyMismatch("the zkey's A and B coefficients are not those of this R1CS")

    try:
        validate_g1(alpha_g1, "zkey alpha_1")
        validate_g1(beta_g1, "zkey beta_1")
        validate_g1(delta_g1, "zkey delta_1")
        for name, point in (("beta_2", beta_g2), ("gamma_2", gamma_g2), ("delta_2", delta_g2)):
            validate_g2(point, f"zkey {name}")
    except InvalidPoint as error:
        raise KeyFormatError(str(error)) from error

    n_contributions = _contributions(sections[10])
    if development:
        setup = DEVELOPMENT_ZKEY_SETUP if n_contributions == 0 else (
            f"development: zkey with {n_contributions} phase-2 contribution(s), flagged for development"
        )
    else:
        setup = f"snarkjs zkey with {n_contributions} phase-2 contribution(s): as trustworthy as its ceremony"
    vk = VerifyingKey(
        alpha_g1=alpha_g1,
        beta_g2=beta_g2,
        gamma_g2=gamma_g2,
        delta_g2=delta_g2,
        gamma_abc_g1=_points(sections[3], n_public + 1, _G1_BYTES, _g1, "IC"),
        setup=setup,
    )
    if not development and n_contributions == 0:
        reasons = ["it has no phase-2 contribution", *untrusted_reasons(vk)]
        raise UntrustedKey(
            f"refusing the zkey {path}: {'; '.join(reasons)}. Contribute to it (snarkjs zkey contribute), "
            "or read it with development=True to use it as a development key on a local devnet"
        )
    require_usable(vk, f"read the zkey {path}")
    report(progress, "zkey: reading the G1 queries", 0.2)
    a_query = _point_run(sections.points(5), n_vars, 1, "A")
    b_g1_query = _point_run(sections.points(6), n_vars, 1, "B1")
    report(progress, "zkey: reading the G2 query", 0.5)
    b_g2_query = _point_run(sections.points(7), n_vars, 2, "B2")
    report(progress, "zkey: reading the C and H queries", 0.7)
    pk = ProvingKey(
        vk=vk,
        beta_g1=beta_g1,
        delta_g1=delta_g1,
        a_query=a_query,
        b_g1_query=b_g1_query,
        b_g2_query=b_g2_query,
        l_query=_point_run(sections.points(8), n_vars - n_public - 1, 1, "C"),
        h_query=_point_run(sections.points(9), domain_size, 1, "H"),
        r1cs=r1cs,
    )
    report(progress, "zkey: done", 1.0)
    return pk


def _zkey_sections(pk: ProvingKey) -> list[tuple[int, object]]:
    """The sections of pk's .zkey; a query held as a PointRun is its limbs' memory, not a copy."""
    vk = pk.vk
    require_usable(vk, "export a zkey")
    r1cs = pk.r1cs
    header = b"".join(
        [
            struct.pack("<I", _N8), field_bytes(Q), struct.pack("<I", _N8), field_bytes(R),
            struct.pack("<III", r1cs.n_wires, vk.n_public, pk.domain_size),
            g1_montgomery_bytes([vk.alpha_g1, pk.beta_g1]),
            g2_montgomery_bytes([vk.beta_g2, vk.gamma_g2]),
            g1_montgomery_bytes([pk.delta_g1]),
            g2_montgomery_bytes([vk.delta_g2]),
        ]
    )
    count = _entry_count(r1cs)
    coefficients = StreamedSection(4 + count * _ENTRY.itemsize, chain([struct.pack("<I", count)], _entry_chunks(r1cs)))

    def points(run, group: int):
        return memoryview(run.limbs) if isinstance(run, PointRun) and run.group == group else encoded_points(run, group)

    return [
        (1, struct.pack("<I", _GROTH16)),
        (2, header),
        (3, g1_montgomery_bytes(vk.gamma_abc_g1)),
        (4, coefficients),
        (5, points(pk.a_query, 1)),
        (6, points(pk.b_g1_query, 1)),
        (7, points(pk.b_g2_query, 2)),
        (8, points(pk.l_query, 1)),
        (9, points(pk.h_query, 1)),
        (10, bytes(_CIRCUIT_HASH_BYTES) + struct.pack("<I", 0)),
    ]


def zkey_bytes(pk: ProvingKey) -> bytes:
    """The snarkjs .zkey encoding of pk: what `snarkjs groth16 prove` reads.

    The contributions section lists none and its circuit hash is zeros (snarkjs's
    prover reads neither): a zkey we write is a development key to whoever reads
    it, which is what our single-party setup makes. Raises UntrustedKey for a key
    nobody should trust that is not flagged as a development key.
    """
    sections = [
        (t, b"".join(map(bytes, d.pieces)) if isinstance(d, StreamedSection) else bytes(memoryview(d)))
        for t, d in _zkey_sections(pk)
    ]
    return container_bytes(ZKEY_MAGIC, ZKEY_VERSION, sections)


def write_zkey(pk: ProvingKey, path: str | Path) -> None:
    """Write pk to `path` as a snarkjs .zkey (zkey_bytes), section by section: no copy of the whole file."""
    write_container(path, ZKEY_MAGIC, ZKEY_VERSION, _zkey_sections(pk))
