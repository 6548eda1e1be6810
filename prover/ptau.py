"""Read a snarkjs powers-of-tau file (.ptau, prepared for phase 2): the points a phase-2 setup starts from.

A .ptau is an iden3 binary container (bn254.iden3), magic "ptau", version 1,
points affine in Montgomery form as in a .zkey (snarkjs src/powersoftau_new.js,
powersoftau_preparephase2.js):
  1 header: u32 n8, q (n8 bytes), u32 power, u32 ceremonyPower
  2 tauG1: [tau^i]_1, i < 2^(power+1) - 1     3 tauG2: [tau^i]_2, i < 2^power
  4 alphaTauG1: [alpha tau^i]_1               5 betaTauG1: [beta tau^i]_1
  6 betaG2: [beta]_2                          7 the phase-1 contributions
  12..15: sections 2..5 in the Lagrange basis of every domain 2^p, p = 0 .. power
          (and power + 1 for tauG1), one after another: domain 2^p starts at
          point 2^p - 1.
Phase 1 is not verified here: `snarkjs powersoftau verify` does that, and the
Perpetual Powers of Tau files are public and verified by many.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from bn254.constants import FIELD_BYTES, Q, G1Affine, G2Affine
from bn254.iden3 import G1_BYTES, G2_BYTES, Iden3FormatError, read_container, read_g1_montgomery, read_g2_montgomery
from prover.errors import ProverError

PTAU_MAGIC, PTAU_VERSION = b"ptau", 1
_LAGRANGE_SECTIONS = (12, 13, 14, 15)


class PowersOfTauError(ProverError, ValueError):
    """A .ptau file that is malformed, not prepared for phase 2, or too small for the circuit."""


@dataclass(frozen=True)
class PowersOfTau:
    """The sections of a prepared .ptau, kept as bytes; points are decoded on demand."""

    power: int
    sections: dict[int, bytes]

    @classmethod
    def read(cls, path: str | Path) -> "PowersOfTau":
        """Raises PowersOfTauError unless `path` is a BN254 .ptau prepared for phase 2."""
        try:
            sections = read_container(Path(path).read_bytes(), PTAU_MAGIC, PTAU_VERSION)
        except Iden3FormatError as error:
            raise PowersOfTauError(f"{path}: {error}") from error
        except OSError as error:
            raise PowersOfTauError(f"cannot read the powers of tau {path}: {error.strerror}") from error
        header = sections.get(1, b"")
        if len(header) != 4 + FIELD_BYTES + 8:
            raise PowersOfTauError(f"{path}: the ptau header holds {len(header)} bytes, not that of BN254")
        n8 = struct.unpack_from("<I", header, 0)[0]
        q = int.from_bytes(header[4 : 4 + FIELD_BYTES], "little")
        if n8 != FIELD_BYTES or q != Q:
            raise PowersOfTauError(f"{path}: the powers of tau are not over BN254")
        power = struct.unpack_from("<I", header, 4 + FIELD_BYTES)[0]
        missing = [s for s in (2, 3, 4, 5, 6, *_LAGRANGE_SECTIONS) if s not in sections]
        if any(s in _LAGRANGE_SECTIONS for s in missing):
            raise PowersOfTauError(
                f"{path} is not prepared for phase 2 (no Lagrange sections): run `snarkjs powersoftau prepare phase2`"
            )
        if missing:
            raise PowersOfTauError(f"{path} lacks sections {missing}")
        return cls(power=power, sections=sections)

    def require_domain(self, domain_size: int) -> None:
        """Raise PowersOfTauError unless the file covers a circuit of this domain (snarkjs: 2^power at most)."""
        if domain_size > 1 << self.power:
            needed = domain_size.bit_length() - 1
            raise PowersOfTauError(
                f"the powers of tau go up to 2^{self.power}; this circuit's domain of {domain_size} needs "
                f"a .ptau of power {needed} or more"
            )

    def _g1(self, section: int, start: int, count: int) -> list[G1Affine]:
        data = self.sections[section]
        if (start + count) * G1_BYTES > len(data):
            raise PowersOfTauError(f"ptau section {section} is shorter than its power {self.power} needs")
        return [read_g1_montgomery(data, (start + i) * G1_BYTES) for i in range(count)]

    def _g2(self, section: int, start: int, count: int) -> list[G2Affine]:
        data = self.sections[section]
        if (start + count) * G2_BYTES > len(data):
            raise PowersOfTauError(f"ptau section {section} is shorter than its power {self.power} needs")
        return [read_g2_montgomery(data, (start + i) * G2_BYTES) for i in range(count)]

    def alpha_g1(self) -> G1Affine:
        return self._g1(4, 0, 1)[0]

    def beta_g1(self) -> G1Affine:
        return self._g1(5, 0, 1)[0]

    def beta_g2(self) -> G2Affine:
        return self._g2(6, 0, 1)[0]

    def tau_powers_g1(self, count: int) -> list[G1Affine]:
        """[tau^i]_1 for i < count."""
        return self._g1(2, 0, count)

    def lagrange_g1(self, section: int, n: int) -> list[G1Affine]:
        """[L_i(tau)]_1-type points of a Lagrange section (12, 14, 15) for the domain of size n."""
        return self._g1(section, n - 1, n)

    def lagrange_tau_g2(self, n: int) -> list[G2Affine]:
        """[L_i(tau)]_2 for the domain of size n."""
        return self._g2(13, n - 1, n)
