"""Typed errors of the prover package.

The verifier rejects malformed input with one of these before any pairing (as
ark-groth16's verifier and the EIP-196/197 precompiles do); a proof that is
well formed but wrong is not an error: verify() returns False. All subclass
ValueError so that generic code can catch them. The point errors (InvalidPoint
and its subclasses) are bn254.curve's, raised by its checks; the prover package
exports them by name with its own.
"""

from __future__ import annotations

from bn254.r1cs import ConstraintFailure


class ProverError(Exception):
    """Base class of every error the prover package raises on purpose."""


class InvalidWitness(ProverError, ValueError):
    """A witness vector that is not an assignment of the key's wires (length, range, w[0] != 1)."""


class UnsatisfiedConstraint(InvalidWitness):
    """The witness violates a constraint; `failure` names the first one and its three sides."""

    def __init__(self, failure: ConstraintFailure) -> None:
        self.failure = failure
        super().__init__(f"witness does not satisfy the R1CS: {failure}")


class InvalidPublicInputs(ProverError, ValueError):
    """Public inputs the verifier refuses before any pairing."""


class PublicInputCountMismatch(InvalidPublicInputs):
    """The number of public inputs differs from the verifying key's nPublic."""


class PublicInputOutOfRange(InvalidPublicInputs):
    """A public input that is not an integer in [0, r) (a value and value + r would alias)."""


class KeyFormatError(ProverError, ValueError):
    """A key, proof or public-input file that is not well formed (snarkjs JSON, .zkey)."""


class KeyMismatch(ProverError, ValueError):
    """A key that does not belong to the given constraint system (sizes or coefficients differ)."""


class CircuitTooLarge(ProverError, ValueError):
    """A constraint system whose evaluation domain would exceed 2^28, the 2-adicity of r - 1."""


class UntrustedKey(ProverError, ValueError):
    """A key nobody should trust (gamma = delta, delta = [1]_2, no phase-2 contribution) not flagged
    as a development key, or a development key used where only a trustworthy one may be."""


class StaleKey(KeyMismatch):
    """A saved key whose circuit fingerprint is not that of the constraint system asked for."""
