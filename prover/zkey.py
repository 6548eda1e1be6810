"""Read snarkjs Groth16 `.zkey` files into a ProvingKey, to prove with keys snarkjs made.

A .zkey is an iden3 binary container (@iden3/binfileutils): magic "zkey", u32
version 1, u32 section count, then sections (u32 type, u64 size, data), all
little-endian. Groth16 sections (snarkjs src/zkey_utils.js, src/zkey_new.js):
  1 header: u32 protocol (1 = groth16)
  2 groth16 header: u32 n8q, q, u32 n8r, r, u32 nVars, u32 nPublic, u32 domainSize,
    alpha_1, beta_1, beta_2, gamma_2, delta_1, delta_2
  3 IC: nPublic + 1 G1 points          4 coefficients of the A and B matrices
  5 A: nVars G1   6 B1: nVars G1   7 B2: nVars G2   8 C: nVars - nPublic - 1 G1
  9 H: domainSize G1                   10 contributions (the phase-2 transcript)
Points are affine with each F_q element in Montgomery form (x * 2^256 mod q),
32 bytes little-endian, F_q2 as c0 then c1; all zeros is the point at infinity.
Section 4 holds u32 count, then per entry u32 matrix (0 = A, 1 = B), u32
constraint, u32 wire and the coefficient times 2^512 mod r (snarkjs stores it
"twice Montgomery" so that one Montgomery product with a plain witness value
yields the Montgomery form of the product).

snarkjs's layout is the one prover.qap uses (padding rows, H as odd Lagrange
points of the doubled domain), so the query vectors map one to one onto ours.
The zkey omits the C matrix, so the reader takes the R1CS the zkey was made
from and checks that the zkey's A and B coefficients are exactly its own.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable

from bn254.constants import FIELD_BYTES, Q, R, G1Affine, G2Affine
from bn254.curve import InvalidPoint, is_on_g1, is_on_twist, validate_g1, validate_g2
from bn254.iden3 import (
    G1_BYTES,
    G2_BYTES,
    ZKEY_MAGIC,
    ZKEY_VERSION,
    Iden3FormatError,
    read_container,
    read_g1_montgomery,
    read_g2_montgomery,
    require_sections,
)
from bn254.r1cs import R1CS
from prover.errors import KeyFormatError, KeyMismatch
from prover.keys import ProvingKey, VerifyingKey
from prover.qap import domain_power

_GROTH16 = 1
_N8, _G1_BYTES, _G2_BYTES = FIELD_BYTES, G1_BYTES, G2_BYTES
_COEFFICIENT_INV_R = pow(2**512, R - 2, R)
_g1, _g2 = read_g1_montgomery, read_g2_montgomery


def _sections(data: bytes) -> dict[int, bytes]:
    try:
        sections = read_container(data, ZKEY_MAGIC, ZKEY_VERSION)
        require_sections(sections, range(1, 11), "zkey")
    except Iden3FormatError as error:
        raise KeyFormatError(str(error)) from error
    return sections


def _points(
    section: bytes, count: int, size: int, read: Callable[[bytes, int], tuple], on_curve: Callable, name: str
) -> tuple:
    if len(section) != count * size:
        raise KeyFormatError(f"zkey section {name} holds {len(section)} bytes, expected {count} points")
    points = tuple(read(section, i * size) for i in range(count))
    for i, point in enumerate(points):
        if not on_curve(point):  # cheap, and catches a misread encoding at once
            raise KeyFormatError(f"zkey point {name}[{i}] is not on its curve")
    return points


def _expected_coefficients(r1cs: R1CS) -> dict[tuple[int, int, int], int]:
    expected: dict[tuple[int, int, int], int] = {}
    for i, (row_a, row_b, _row_c) in enumerate(r1cs.constraints):
        for matrix, row in ((0, row_a), (1, row_b)):
            for wire, coefficient in row.items():
                if coefficient % R:
                    expected[(matrix, i, wire)] = coefficient % R
    for wire in range(r1cs.n_public + 1):
        expected[(0, r1cs.n_constraints + wire, wire)] = 1  # snarkjs's padding rows w_j * 0 = 0
    return expected


def _zkey_coefficients(section: bytes) -> dict[tuple[int, int, int], int]:
    if len(section) < 4:
        raise KeyFormatError("zkey coefficient section is empty")
    (count,) = struct.unpack_from("<I", section, 0)
    entry = 12 + _N8
    if len(section) != 4 + count * entry:
        raise KeyFormatError(f"zkey coefficient section holds {len(section)} bytes for {count} entries")
    found: dict[tuple[int, int, int], int] = {}
    for k in range(count):
        pos = 4 + k * entry
        key = struct.unpack_from("<III", section, pos)
        value = int.from_bytes(section[pos + 12 : pos + entry], "little") * _COEFFICIENT_INV_R % R
        found[key] = (found.get(key, 0) + value) % R
    return {key: value for key, value in found.items() if value}


def _contributions(section: bytes) -> int:
    # A 64-byte circuit hash, then the u32 number of phase-2 contributions.
    return struct.unpack_from("<I", section, 64)[0] if len(section) >= 68 else 0


def read_zkey(path: str | Path, r1cs: R1CS) -> ProvingKey:
    """The ProvingKey (and, as pk.vk, VerifyingKey) of a snarkjs Groth16 zkey made for `r1cs`.

    Raises KeyFormatError for a file that is not a BN254 Groth16 zkey and
    KeyMismatch when the zkey was made for another constraint system.
    """
    sections = _sections(Path(path).read_bytes())
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
    if _zkey_coefficients(sections[4]) != _expected_coefficients(r1cs):
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
    vk = VerifyingKey(
        alpha_g1=alpha_g1,
        beta_g2=beta_g2,
        gamma_g2=gamma_g2,
        delta_g2=delta_g2,
        gamma_abc_g1=_points(sections[3], n_public + 1, _G1_BYTES, _g1, is_on_g1, "IC"),
        setup=f"snarkjs zkey with {n_contributions} phase-2 contribution(s): as trustworthy as its ceremony",
    )
    return ProvingKey(
        vk=vk,
        beta_g1=beta_g1,
        delta_g1=delta_g1,
        a_query=_points(sections[5], n_vars, _G1_BYTES, _g1, is_on_g1, "A"),
        b_g1_query=_points(sections[6], n_vars, _G1_BYTES, _g1, is_on_g1, "B1"),
        b_g2_query=_points(sections[7], n_vars, _G2_BYTES, _g2, is_on_twist, "B2"),
        l_query=_points(sections[8], n_vars - n_public - 1, _G1_BYTES, _g1, is_on_g1, "C"),
        h_query=_points(sections[9], domain_size, _G1_BYTES, _g1, is_on_g1, "H"),
        r1cs=r1cs,
    )
