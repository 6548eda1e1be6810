"""Small circuits for the prover tests, built with circuits.builder (the prover never sees this code)."""

from __future__ import annotations

from bn254.r1cs import R1CS
from circuits.builder import ConstraintSystem
from circuits.gadgets.bits import range_check
from circuits.gadgets.comparators import assert_less_than


def multiplication_chain(length: int, x: int = 3, y: int = 11) -> ConstraintSystem:
    """out = y * x^length: public input x, private y, `length` products and one output constraint."""
    cs = ConstraintSystem()
    base = cs.public_input("x", x)
    acc = cs.private_input("y", y)
    with cs.scope("chain"):
        for i in range(length):
            acc = cs.mul(acc, base, f"step{i}")
    cs.public_output("out", acc)
    return cs


def chain_with_constraints(n_constraints: int) -> ConstraintSystem:
    """A multiplication chain with exactly n_constraints constraints (n_public = 2)."""
    return multiplication_chain(n_constraints - 1)


def range_checked_spend(balance: int = 200, spend: int = 73, tamper_hint=None) -> ConstraintSystem:
    """Public limit 255; private balance and spend, each < 2^8, spend < balance; public remainder.

    Range checks decompose into bit hints, so tamper_hint can play a malicious prover.
    """
    cs = ConstraintSystem(tamper_hint=tamper_hint)
    limit = cs.public_input("limit", 255)
    b = cs.private_input("balance", balance)
    s = cs.private_input("spend", spend)
    with cs.scope("ranges"):
        range_check(cs, b, 8)
        range_check(cs, s, 8)
        assert_less_than(cs, s, b, 8)
        assert_less_than(cs, b, limit + 1, 9)
    cs.public_output("remainder", b - s)
    return cs


def no_public_signals(root: int = 5) -> ConstraintSystem:
    """Knowledge of a square root of 25 (a circuit constant): no public signal at all."""
    cs = ConstraintSystem()
    x = cs.private_input("x", root)
    cs.enforce(x, x, 25, "square_is_25")
    return cs


def unused_public_input(bound: int = 42) -> ConstraintSystem:
    """A public input that no constraint mentions: only snarkjs's padding rows bind it to the proof."""
    cs = ConstraintSystem()
    cs.public_input("memo", bound)
    x = cs.private_input("x", 6)
    y = cs.mul(x, x, "square")
    cs.public_output("square", y)
    return cs


def build(cs: ConstraintSystem) -> tuple[R1CS, list[int]]:
    """The R1CS and witness of a built circuit, checked to be satisfied."""
    r1cs, witness = cs.to_r1cs(), cs.witness()
    assert r1cs.is_satisfied(witness)
    return r1cs, witness


def interop_circuit(x: int = 3, y: int = 201) -> ConstraintSystem:
    """A multiplication chain whose private factor is range-checked to 8 bits: 14 constraints, domain 32."""
    cs = ConstraintSystem()
    base = cs.public_input("x", x)
    acc = cs.private_input("y", y)
    with cs.scope("y_range"):
        range_check(cs, acc, 8)
    with cs.scope("chain"):
        for i in range(4):
            acc = cs.mul(acc, base, f"step{i}")
    cs.public_output("out", acc)
    return cs
