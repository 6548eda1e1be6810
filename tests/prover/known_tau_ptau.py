"""A prepared .ptau written from a KNOWN tau, alpha and beta: test material only, never for value.

snarkjs needs minutes to make and prepare a power-15 .ptau on two cores (its
`powersoftau contribute` alone took 2 min here), which the smallest vault circuit
(23k constraints, domain 2^15) needs. Phase 1 from snarkjs is exercised on a small
circuit in test_ceremony.py; the acceptance test of the toolchain only needs a
.ptau in snarkjs's layout (prover.ptau's docstring), which this module writes
from secrets it chooses, with fixed-base multiplications:
  2: [tau^i]_1, i < 2^(power+1) - 1     3: [tau^i]_2, i < 2^power
  4, 5: [alpha tau^i]_1, [beta tau^i]_1  6: [beta]_2     7: no contribution
  12: [L_i(tau)]_1 of every domain 2^p, p = 0 .. power + 1; 13, 14, 15: [L_i(tau)]_2,
      [alpha L_i(tau)]_1, [beta L_i(tau)]_1 of every domain up to 2^power.
"""

from __future__ import annotations

import struct
from pathlib import Path

from bn254.constants import FIELD_BYTES, Q, R
from bn254.iden3 import container_bytes
from prover.backends import get_backend
from prover.point_runs import encoded_points
from prover.ptau import PTAU_MAGIC, PTAU_VERSION
from prover.qap import lagrange_basis_at


def _powers(x: int, count: int, scale: int = 1) -> list[int]:
    out, value = [], scale % R
    for _ in range(count):
        out.append(value)
        value = value * x % R
    return out


def write_known_tau_ptau(path: Path, power: int, *, tau: int, alpha: int, beta: int) -> Path:
    """Write a prepared .ptau of `power` for these secrets (which must not be 0 or in any domain)."""
    backend = get_backend()  # the fast one gives PointRuns, already in the file's encoding
    g1, g2 = backend.g1_generator_muls, backend.g2_generator_muls
    n = 1 << power
    lagrange = {p: lagrange_basis_at(tau, 1 << p) for p in range(power + 2)}
    lagrange_up_to_power = [v for p in range(power + 1) for v in lagrange[p]]
    header = struct.pack("<I", FIELD_BYTES) + Q.to_bytes(FIELD_BYTES, "little") + struct.pack("<II", power, power)
    sections = [
        (1, header),
        (2, encoded_points(g1(_powers(tau, 2 * n - 1)), 1)),
        (3, encoded_points(g2(_powers(tau, n)), 2)),
        (4, encoded_points(g1(_powers(tau, n, alpha)), 1)),
        (5, encoded_points(g1(_powers(tau, n, beta)), 1)),
        (6, encoded_points(g2([beta]), 2)),
        (7, struct.pack("<I", 0)),
        (12, encoded_points(g1([v for p in range(power + 2) for v in lagrange[p]]), 1)),
        (13, encoded_points(g2(lagrange_up_to_power), 2)),
        (14, encoded_points(g1([alpha * v % R for v in lagrange_up_to_power]), 1)),
        (15, encoded_points(g1([beta * v % R for v in lagrange_up_to_power]), 1)),
    ]
    path.write_bytes(container_bytes(PTAU_MAGIC, PTAU_VERSION, sections))
    return path
