"""Export to, and read back, the iden3 binary formats: `.r1cs` (v1) and `.wtns` (v2).

Both are iden3 binary containers (@iden3/binfileutils): the 4-byte magic, a
u32 version, a u32 section count, then sections, each a u32 type, a u64 byte
size and the data. Integers are little-endian; field elements take n8 = 32
bytes, little-endian, in standard (not Montgomery) form.

r1cs v1 (iden3/r1csfile, doc/r1cs_bin_format.md):
  section 1, header: n8 (u32), prime (n8 bytes), nWires (u32), nPubOut (u32),
    nPubIn (u32), nPrvIn (u32), nLabels (u64), mConstraints (u32)
  section 2, constraints: for each, the rows A, B, C, each nTerms (u32) then
    nTerms x (wireId u32, coeff n8 bytes)
  section 3, wire-to-label map: nWires x labelId (u64)
wtns v2 (snarkjs src/wtns_utils.js):
  section 1, header: n8 (u32), prime (n8 bytes), nWitness (u32)
  section 2, values: nWitness x n8 bytes

Here every wire is its own label (labelId = wireId), so nLabels = nWires.
"""

from __future__ import annotations

import struct
from pathlib import Path

from circuits.field import R
from circuits.r1cs import R1CS, Row

FIELD_BYTES = 32
_R1CS_MAGIC, _R1CS_VERSION = b"r1cs", 1
_WTNS_MAGIC, _WTNS_VERSION = b"wtns", 2


class Iden3FormatError(ValueError):
    """A file that is not a well-formed iden3 .r1cs / .wtns of the BN254 scalar field."""


def _field(value: int) -> bytes:
    return value.to_bytes(FIELD_BYTES, "little")


def _container(magic: bytes, version: int, sections: list[tuple[int, bytes]]) -> bytes:
    out = [magic, struct.pack("<II", version, len(sections))]
    for section_type, data in sections:
        out.append(struct.pack("<IQ", section_type, len(data)))
        out.append(data)
    return b"".join(out)


def _row_bytes(row: Row) -> bytes:
    parts = [struct.pack("<I", len(row))]
    for wire in sorted(row):
        parts.append(struct.pack("<I", wire))
        parts.append(_field(row[wire]))
    return b"".join(parts)


def r1cs_bytes(r1cs: R1CS) -> bytes:
    """The .r1cs (v1) encoding of a constraint system."""
    if r1cs.prime != R:
        raise Iden3FormatError("only the BN254 scalar field is supported")
    header = (
        struct.pack("<I", FIELD_BYTES)
        + _field(R)
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
    constraints = b"".join(_row_bytes(a) + _row_bytes(b) + _row_bytes(c) for a, b, c in r1cs.constraints)
    wire_map = struct.pack(f"<{r1cs.n_wires}Q", *range(r1cs.n_wires))
    return _container(_R1CS_MAGIC, _R1CS_VERSION, [(1, header), (2, constraints), (3, wire_map)])


def wtns_bytes(witness: list[int]) -> bytes:
    """The .wtns (v2) encoding of a witness vector (values in [0, r))."""
    if any(not 0 <= v < R for v in witness):
        raise Iden3FormatError("witness values must be field elements in [0, r)")
    header = struct.pack("<I", FIELD_BYTES) + _field(R) + struct.pack("<I", len(witness))
    return _container(_WTNS_MAGIC, _WTNS_VERSION, [(1, header), (2, b"".join(map(_field, witness)))])


def write_r1cs(r1cs: R1CS, path: str | Path) -> None:
    """Write `r1cs` to `path` in iden3 .r1cs v1."""
    Path(path).write_bytes(r1cs_bytes(r1cs))


def write_wtns(witness: list[int], path: str | Path) -> None:
    """Write a witness vector (in the R1CS's wire order) to `path` in iden3 .wtns v2."""
    Path(path).write_bytes(wtns_bytes(witness))


def _sections(data: bytes, magic: bytes, version: int) -> dict[int, bytes]:
    if len(data) < 12 or data[:4] != magic:
        raise Iden3FormatError(f"not a {magic.decode()} file (magic {data[:4]!r})")
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
            raise Iden3FormatError(f"section {section_type} truncated or repeated")
        sections[section_type] = data[pos : pos + size]
        pos += size
    return sections


def _check_field(section: bytes) -> int:
    (n8,) = struct.unpack_from("<I", section, 0)
    if n8 != FIELD_BYTES or int.from_bytes(section[4 : 4 + n8], "little") != R:
        raise Iden3FormatError("field is not the BN254 scalar field")
    return 4 + n8


def parse_r1cs(data: bytes) -> R1CS:
    """Decode a .r1cs v1 file (constraint labels become "constraint{i}", wire names "wire{i}")."""
    sections = _sections(data, _R1CS_MAGIC, _R1CS_VERSION)
    header = sections[1]
    pos = _check_field(header)
    n_wires, n_out, n_pub, n_prv, _n_labels, m = struct.unpack_from("<IIIIQI", header, pos)
    body = sections[2]
    pos = 0

    def read_row() -> Row:
        nonlocal pos
        (n_terms,) = struct.unpack_from("<I", body, pos)
        pos += 4
        row: Row = {}
        for _ in range(n_terms):
            (wire,) = struct.unpack_from("<I", body, pos)
            row[wire] = int.from_bytes(body[pos + 4 : pos + 4 + FIELD_BYTES], "little")
            pos += 4 + FIELD_BYTES
        return row

    constraints = [(read_row(), read_row(), read_row()) for _ in range(m)]
    return R1CS(
        n_wires=n_wires,
        n_public_outputs=n_out,
        n_public_inputs=n_pub,
        n_private_inputs=n_prv,
        constraints=constraints,
        labels=[f"constraint{i}" for i in range(m)],
        wire_names=[f"wire{i}" for i in range(n_wires)],
    )


def parse_wtns(data: bytes) -> list[int]:
    """Decode a .wtns v2 file into its witness vector."""
    sections = _sections(data, _WTNS_MAGIC, _WTNS_VERSION)
    pos = _check_field(sections[1])
    (n_witness,) = struct.unpack_from("<I", sections[1], pos)
    values = sections[2]
    if len(values) != n_witness * FIELD_BYTES:
        raise Iden3FormatError(f"witness section holds {len(values)} bytes for {n_witness} values")
    return [int.from_bytes(values[i : i + FIELD_BYTES], "little") for i in range(0, len(values), FIELD_BYTES)]
