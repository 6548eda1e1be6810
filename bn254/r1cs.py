"""The rank-1 constraint system as plain data: what a Groth16 prover consumes.

A constraint i holds when <A_i, w> * <B_i, w> = <C_i, w> over F_r, with A_i, B_i,
C_i sparse rows {wire: coeff} and w the witness vector. Wires follow the iden3
(circom/snarkjs) order: w[0] = 1, then the public outputs, the public inputs,
the private inputs, and the internal wires.

Circuits build it, the prover consumes it, and the iden3 .r1cs format
(bn254.iden3) carries it; it knows nothing about options or gadgets.
"""

from __future__ import annotations

from dataclasses import dataclass

from bn254.constants import R

Row = dict[int, int]
"""A sparse linear combination {wire index: coefficient in [1, r)}; wire 0 is the constant 1."""

Constraint = tuple[Row, Row, Row]
"""(A, B, C) of one constraint A * B = C."""


class InvalidWitness(ValueError):
    """A witness vector that is not an assignment of this system's wires at all."""


@dataclass(frozen=True, slots=True)
class ConstraintFailure:
    """The first constraint a witness violates, with the three sides' values."""

    index: int
    label: str
    a: int
    b: int
    c: int

    def __str__(self) -> str:
        return f"constraint {self.index} ({self.label}): {self.a} * {self.b} != {self.c}"


@dataclass(frozen=True, slots=True)
class R1CS:
    """A rank-1 constraint system over the BN254 scalar field.

    n_wires counts wire 0. Public wires are 1..n_public (outputs first, as snarkjs
    orders public signals); private inputs follow them.
    """

    n_wires: int
    n_public_outputs: int
    n_public_inputs: int
    n_private_inputs: int
    constraints: list[Constraint]
    labels: list[str]
    wire_names: list[str]
    prime: int = R

    @property
    def n_public(self) -> int:
        """Number of public wires (outputs + inputs), excluding the constant wire 0."""
        return self.n_public_outputs + self.n_public_inputs

    @property
    def n_constraints(self) -> int:
        return len(self.constraints)

    def validate_witness(self, witness: list[int]) -> None:
        """Raise InvalidWitness unless witness has n_wires entries in [0, r) and w[0] = 1."""
        if len(witness) != self.n_wires:
            raise InvalidWitness(f"witness has {len(witness)} values, the system has {self.n_wires} wires")
        if witness[0] != 1:
            raise InvalidWitness(f"wire 0 must hold 1, got {witness[0]}")
        for i, v in enumerate(witness):
            if not 0 <= v < self.prime:
                raise InvalidWitness(f"wire {i} ({self.wire_names[i]}) holds {v}, outside [0, r)")

    def first_failure(self, witness: list[int]) -> ConstraintFailure | None:
        """The first constraint the witness violates, or None when it satisfies them all."""
        self.validate_witness(witness)
        p = self.prime
        for i, (a, b, c) in enumerate(self.constraints):
            av = sum(k * witness[w] for w, k in a.items()) % p
            bv = sum(k * witness[w] for w, k in b.items()) % p
            cv = sum(k * witness[w] for w, k in c.items()) % p
            if av * bv % p != cv:
                return ConstraintFailure(i, self.labels[i], av, bv, cv)
        return None

    def is_satisfied(self, witness: list[int]) -> bool:
        """True when the witness satisfies every constraint."""
        return self.first_failure(witness) is None

    def public_values(self, witness: list[int]) -> list[int]:
        """The public signals (outputs, then inputs) of a witness, as a verifier sees them."""
        return witness[1 : 1 + self.n_public]
