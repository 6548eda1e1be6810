"""The iden3 binary container and its three BN254 files: `.r1cs` (v1), `.wtns` (v2), `.zkey` (v1).

Every file is an iden3 binary container (@iden3/binfileutils): the 4-byte magic,
a u32 version, a u32 section count, then sections, each a u32 type, a u64 byte
size and the data. Integers are little-endian; field elements take n8 = 32
bytes, little-endian.

r1cs v1 (iden3/r1csfile, doc/r1cs_bin_format.md), field elements in standard form:
  section 1, header: n8 (u32), prime (n8 bytes), nWires (u32), nPubOut (u32),
    nPubIn (u32), nPrvIn (u32), nLabels (u64), mConstraints (u32)
  section 2, constraints: for each, the rows A, B, C, each nTerms (u32) then
    nTerms x (wireId u32, coeff n8 bytes)
  section 3, wire-to-label map: nWires x labelId (u64)
wtns v2 (snarkjs src/wtns_utils.js):
  section 1, header: n8 (u32), prime (n8 bytes), nWitness (u32)
  section 2, values: nWitness x n8 bytes
zkey v1 (snarkjs src/zkey_utils.js): its sections are the prover's business
(prover.zkey); this module gives it the container and the point encoding, affine
with each F_q element in Montgomery form (x * 2^256 mod q), F_q2 as c0 then c1,
all zeros for the point at infinity.

Here every wire is its own label (labelId = wireId), so nLabels = nWires.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Sequence

import numpy as np

from bn254.constants import FIELD_BYTES, Q, R, G1Affine, G2Affine
from bn254.r1cs import R1CS, Constraints, NumberedNames, SparseRows

R1CS_MAGIC, R1CS_VERSION = b"r1cs", 1
WTNS_MAGIC, WTNS_VERSION = b"wtns", 2
ZKEY_MAGIC, ZKEY_VERSION = b"zkey", 1
G1_BYTES, G2_BYTES = 2 * FIELD_BYTES, 4 * FIELD_BYTES
"""Bytes of one affine point in a zkey (two, resp. four, F_q elements)."""

_MONTGOMERY = pow(2, 8 * FIELD_BYTES, Q)
_MONTGOMERY_INV = pow(_MONTGOMERY, Q - 2, Q)


class Iden3FormatError(ValueError):
    """A file that is not a well-formed iden3 container of the BN254 fields."""


def field_bytes(value: int) -> bytes:
    """n8 = 32 little-endian bytes of a field element in standard form."""
    return value.to_bytes(FIELD_BYTES, "little")



def container_bytes(magic: bytes, version: int, sections: Sequence[tuple[int, bytes]]) -> bytes:
    """An iden3 binary container: magic, version, section count, then (type, size, data) per section."""
    if len(magic) != 4:
        raise Iden3FormatError(f"magic must be 4 bytes, got {magic!r}")
    out = [magic, struct.pack("<II", version, len(sections))]
    for section_type, data in sections:
        out.append(struct.pack("<IQ", section_type, len(data)))
        out.append(data)
    return b"".join(out)


@dataclass(frozen=True)
class StreamedSection:
    """A section's data made piece by piece while it is written: its size in bytes, then the
    bytes-like pieces that fill it, in order (a generator is read once, as the file is written)."""

    size: int
    pieces: Iterable


def write_container(path: str | Path, magic: bytes, version: int, sections: Sequence[tuple[int, object]]) -> None:
    """container_bytes(...) written to `path` section by section, no copy of the whole file made.

    Each section's data is any bytes-like object (a numpy array's memoryview goes to the
    file as it is) or a StreamedSection, whose pieces must add up to its size.
    """
    if len(magic) != 4:
        raise Iden3FormatError(f"magic must be 4 bytes, got {magic!r}")
    with Path(path).open("wb") as f:
        f.write(magic + struct.pack("<II", version, len(sections)))
        for section_type, data in sections:
            if isinstance(data, StreamedSection):
                f.write(struct.pack("<IQ", section_type, data.size))
                written = sum(f.write(memoryview(piece).cast("B")) for piece in data.pieces)
                if written != data.size:
                    raise Iden3FormatError(f"section {section_type} announced {data.size} bytes and got {written}")
            else:
                view = memoryview(data).cast("B")
                f.write(struct.pack("<IQ", section_type, view.nbytes))
                f.write(view)


def container_sections(f: BinaryIO, magic: bytes, version: int) -> dict[int, tuple[int, int]]:
    """{type: (offset, size)} of the sections of the iden3 container in the open file f, read
    without reading the sections themselves; raises Iden3FormatError as read_container does."""
    f.seek(0, 2)
    length = f.tell()
    f.seek(0)
    head = f.read(12)
    if len(head) < 12 or head[:4] != magic:
        raise Iden3FormatError(f"not a {magic.decode()} file (magic {head[:4]!r})")
    got_version, n_sections = struct.unpack_from("<II", head, 4)
    if got_version != version:
        raise Iden3FormatError(f"{magic.decode()} version {got_version}, expected {version}")
    sections: dict[int, tuple[int, int]] = {}
    pos = 12
    for _ in range(n_sections):
        f.seek(pos)
        entry = f.read(12)
        if len(entry) < 12:
            raise Iden3FormatError(f"{magic.decode()} file ends before its {n_sections} sections")
        section_type, size = struct.unpack("<IQ", entry)
        pos += 12
        if pos + size > length or section_type in sections:
            raise Iden3FormatError(f"{magic.decode()} section {section_type} truncated or repeated")
        sections[section_type] = (pos, size)
        pos += size
    return sections


def read_container(data: bytes, magic: bytes, version: int) -> dict[int, bytes]:
    """The sections {type: data} of an iden3 container; raises Iden3FormatError for any other bytes."""
    if len(data) < 12 or bytes(data[:4]) != magic:
        raise Iden3FormatError(f"not a {magic.decode()} file (magic {bytes(data[:4])!r})")
    got_version, n_sections = struct.unpack_from("<II", data, 4)
    if got_version != version:
        raise Iden3FormatError(f"{magic.decode()} version {got_version}, expected {version}")
    sections: dict[int, bytes] = {}
    pos = 12
    for _ in range(n_sections):
        if pos + 12 > len(data):
            raise Iden3FormatError(f"{magic.decode()} file ends before its {n_sections} sections")
        section_type, size = struct.unpack_from("<IQ", data, pos)
        pos += 12
        if pos + size > len(data) or section_type in sections:
            raise Iden3FormatError(f"{magic.decode()} section {section_type} truncated or repeated")
        sections[section_type] = data[pos : pos + size]
        pos += size
    return sections


def require_sections(sections: dict[int, bytes], types: Sequence[int], what: str) -> None:
    """Raise Iden3FormatError unless every section type in `types` is present; `what` names the file."""
    missing = sorted(set(types) - set(sections))
    if missing:
        raise Iden3FormatError(f"{what} lacks sections {missing}")


# -- points in Montgomery form (zkey, ptau) -------------------------------------------------


def fq_montgomery_bytes(value: int) -> bytes:
    """32 little-endian bytes of value * 2^256 mod q (how snarkjs stores F_q)."""
    return (value * _MONTGOMERY % Q).to_bytes(FIELD_BYTES, "little")


def fq_from_montgomery_bytes(data: bytes, pos: int) -> int:
    """The F_q element stored (Montgomery form) at data[pos : pos + 32]."""
    return int.from_bytes(data[pos : pos + FIELD_BYTES], "little") * _MONTGOMERY_INV % Q


def g1_montgomery_bytes(points: Sequence[G1Affine]) -> bytes:
    """Affine G1 points, x then y, in Montgomery form; infinity (0, 0) stays all zeros."""
    return b"".join(fq_montgomery_bytes(x) + fq_montgomery_bytes(y) for x, y in points)


def g2_montgomery_bytes(points: Sequence[G2Affine]) -> bytes:
    """Affine G2 points, x.c0, x.c1, y.c0, y.c1, in Montgomery form."""
    return b"".join(
        fq_montgomery_bytes(x0) + fq_montgomery_bytes(x1) + fq_montgomery_bytes(y0) + fq_montgomery_bytes(y1)
        for (x0, x1), (y0, y1) in points
    )


def read_g1_montgomery(data: bytes, pos: int) -> G1Affine:
    """The affine G1 point stored at data[pos : pos + 64]."""
    return (fq_from_montgomery_bytes(data, pos), fq_from_montgomery_bytes(data, pos + FIELD_BYTES))


def read_g2_montgomery(data: bytes, pos: int) -> G2Affine:
    """The affine G2 point stored at data[pos : pos + 128]."""
    x0, x1, y0, y1 = (fq_from_montgomery_bytes(data, pos + i * FIELD_BYTES) for i in range(4))
    return ((x0, x1), (y0, y1))


# -- r1cs and wtns ---------------------------------------------------------------------------


_TERM_WORDS = 1 + FIELD_BYTES // 4  # a term of a row: wire (u32), then the coefficient (8 u32 words)


def _coefficient_words(coefficients: Sequence[int]) -> np.ndarray:
    """(u, 8) little-endian u32 words of each coefficient (as given: a negative one raises OverflowError)."""
    data = b"".join(value.to_bytes(FIELD_BYTES, "little") for value in coefficients)
    return np.frombuffer(data, "<u4").reshape(-1, FIELD_BYTES // 4)


def _constraint_section(constraints: Constraints) -> np.ndarray:
    """Section 2 as u32 words: per constraint, rows A, B, C, each nTerms then its terms sorted by wire."""
    m = len(constraints)
    counts = np.stack([np.diff(matrix.indptr) for matrix in constraints.matrices], axis=1)  # (m, 3)
    # Word offset of each row's header, rows in file order (A_0, B_0, C_0, A_1, ...).
    sizes = (1 + _TERM_WORDS * counts).reshape(-1)
    starts = np.zeros(3 * m + 1, np.int64)
    np.cumsum(sizes, out=starts[1:])
    words = np.empty(int(starts[-1]), "<u4")
    words[starts[:-1]] = counts.reshape(-1)
    table = _coefficient_words(constraints.coefficients)
    for k, matrix in enumerate(constraints.matrices):
        order = matrix.sorted_by_wire()  # each row's terms by wire, as snarkjs's files have them
        rows = matrix.term_rows()[order]
        rank = np.arange(rows.shape[0], dtype=np.int64) - matrix.indptr[rows]  # the term's place in its row
        at = starts[3 * rows + k] + 1 + _TERM_WORDS * rank
        words[at] = matrix.wires[order]
        words[at[:, None] + np.arange(1, _TERM_WORDS)] = table[matrix.terms[order]]
    return words


def r1cs_bytes(r1cs: R1CS) -> bytes:
    """The .r1cs (v1) encoding of a constraint system."""
    if r1cs.prime != R:
        raise Iden3FormatError("only the BN254 scalar field is supported")
    header = (
        struct.pack("<I", FIELD_BYTES)
        + field_bytes(R)
        + struct.pack(
            "<IIIIQI",
            r1cs.n_wires,
            r1cs.n_public_outputs,
            r1cs.n_public_inputs,
            r1cs.n_private_inputs,
            r1cs.n_wires,
            r1cs.n_constraints,
        )
    )
    constraints = _constraint_section(r1cs.constraints).tobytes()
    wire_map = np.arange(r1cs.n_wires, dtype="<u8").tobytes()
    return container_bytes(R1CS_MAGIC, R1CS_VERSION, [(1, header), (2, constraints), (3, wire_map)])


def wtns_bytes(witness: list[int]) -> bytes:
    """The .wtns (v2) encoding of a witness vector (values in [0, r))."""
    if any(not 0 <= v < R for v in witness):
        raise Iden3FormatError("witness values must be field elements in [0, r)")
    header = struct.pack("<I", FIELD_BYTES) + field_bytes(R) + struct.pack("<I", len(witness))
    return container_bytes(WTNS_MAGIC, WTNS_VERSION, [(1, header), (2, b"".join(map(field_bytes, witness)))])


def write_r1cs(r1cs: R1CS, path: str | Path) -> None:
    """Write `r1cs` to `path` in iden3 .r1cs v1."""
    Path(path).write_bytes(r1cs_bytes(r1cs))


def write_wtns(witness: list[int], path: str | Path) -> None:
    """Write a witness vector (in the R1CS's wire order) to `path` in iden3 .wtns v2."""
    Path(path).write_bytes(wtns_bytes(witness))


def _check_field(section: bytes) -> int:
    (n8,) = struct.unpack_from("<I", section, 0)
    if n8 != FIELD_BYTES or int.from_bytes(section[4 : 4 + n8], "little") != R:
        raise Iden3FormatError("field is not the BN254 scalar field")
    return 4 + n8


def _parse_constraints(body: bytes, m: int) -> Constraints:
    """Section 2 of a .r1cs: m constraints of rows A, B, C (nTerms, then terms of wire and coefficient)."""
    if len(body) % 4:
        raise Iden3FormatError("r1cs constraint section is not a whole number of 32-bit words")
    words = np.frombuffer(body, "<u4")
    # Row headers follow each other by the row's length: one pass finds them all (a memoryview of
    # native words reads each as a Python int without a numpy scalar on the way).
    native = memoryview(body).cast("B").cast("I") if sys.byteorder == "little" else words.tolist()
    starts, pos, n_words = array("q"), 0, words.shape[0]
    for _ in range(3 * m):
        if pos >= n_words:
            raise Iden3FormatError(f"r1cs constraint section ends before its {m} constraints")
        starts.append(pos)
        pos += 1 + _TERM_WORDS * native[pos]
    if pos != n_words:
        raise Iden3FormatError(f"r1cs constraint section holds {4 * (n_words - pos)} bytes after its {m} constraints")
    row_start = np.frombuffer(starts, np.int64) if m else np.zeros(0, np.int64)
    counts = words[row_start].astype(np.int64).reshape(m, 3)
    values: dict[bytes, int] = {}  # coefficient bytes -> index in the table
    matrices = []
    for k in range(3):
        k_counts = counts[:, k]
        indptr = np.zeros(m + 1, np.int64)
        np.cumsum(k_counts, out=indptr[1:])
        rows = np.repeat(np.arange(m, dtype=np.int64), k_counts)
        at = row_start.reshape(m, 3)[rows, k] + 1 + _TERM_WORDS * (np.arange(rows.shape[0], dtype=np.int64) - indptr[rows])
        wires = words[at].astype(np.uint32)
        if _repeats(rows, wires):
            raise Iden3FormatError("an r1cs row names a wire twice")
        terms = np.empty(rows.shape[0], np.uint32)
        for first in range(0, rows.shape[0], 1 << 16):  # coefficients in chunks: 2 MiB of them at a time
            chunk = words[at[first : first + (1 << 16), None] + np.arange(1, _TERM_WORDS)]
            distinct, inverse = np.unique(np.ascontiguousarray(chunk).view(f"V{FIELD_BYTES}").reshape(-1),
                                          return_inverse=True)
            ids = np.array([values.setdefault(v.tobytes(), len(values)) for v in distinct], np.uint32)
            terms[first : first + chunk.shape[0]] = ids[inverse.reshape(-1)]
        matrices.append(SparseRows(indptr, wires, terms))
    return Constraints(*matrices, [int.from_bytes(v, "little") for v in values])


def _repeats(rows: np.ndarray, wires: np.ndarray) -> bool:
    """True when some row lists a wire twice (terms need not be sorted by wire)."""
    if rows.shape[0] < 2:
        return False
    order = np.lexsort((wires, rows))
    rows, wires = rows[order], wires[order]
    return bool(((rows[1:] == rows[:-1]) & (wires[1:] == wires[:-1])).any())


def parse_r1cs(data: bytes) -> R1CS:
    """Decode a .r1cs v1 file (constraint labels become "constraint{i}", wire names "wire{i}")."""
    sections = read_container(memoryview(data), R1CS_MAGIC, R1CS_VERSION)  # views: no copy of the file
    require_sections(sections, (1, 2), "r1cs file")
    header = sections[1]
    pos = _check_field(header)
    n_wires, n_out, n_pub, n_prv, _n_labels, m = struct.unpack_from("<IIIIQI", header, pos)
    return R1CS(
        n_wires=n_wires,
        n_public_outputs=n_out,
        n_public_inputs=n_pub,
        n_private_inputs=n_prv,
        constraints=_parse_constraints(sections[2], m),
        labels=NumberedNames("constraint", m),
        wire_names=NumberedNames("wire", n_wires),
    )


def parse_wtns(data: bytes) -> list[int]:
    """Decode a .wtns v2 file into its witness vector."""
    sections = read_container(data, WTNS_MAGIC, WTNS_VERSION)
    require_sections(sections, (1, 2), "wtns file")
    pos = _check_field(sections[1])
    (n_witness,) = struct.unpack_from("<I", sections[1], pos)
    values = sections[2]
    if len(values) != n_witness * FIELD_BYTES:
        raise Iden3FormatError(f"witness section holds {len(values)} bytes for {n_witness} values")
    return [int.from_bytes(values[i : i + FIELD_BYTES], "little") for i in range(0, len(values), FIELD_BYTES)]
