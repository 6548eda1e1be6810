"""Constraint cost of each gadget, measured by building it alone (for `dlpe circuit-info` and
benchmarks/bench_circuits.py). Input declarations and their domain checks are not counted."""

from __future__ import annotations

from typing import Callable

from circuits.builder import ConstraintSystem
from circuits.gadgets import fixed as gf
from circuits.gadgets import transcendental as gt
from circuits.gadgets.bits import range_check
from circuits.gadgets.hash import poseidon
from engine import fixed as fx

ONE = fx.ONE
WIDE = 1 << (fx.FRAC_BITS + 20)


def _cost(build: Callable[[ConstraintSystem, Callable[[str, int, int], gf.Fixed]], object]) -> int:
    cs = ConstraintSystem()
    declared = 0

    def declare(name: str, lo: int, hi: int) -> gf.Fixed:
        nonlocal declared
        before = cs.n_constraints
        x = gf.fixed_input(cs, name, lo, lo, hi, public=False)
        declared += cs.n_constraints - before
        return x

    build(cs, declare)
    return cs.n_constraints - declared


GADGETS: dict[str, Callable] = {
    "range check, 64 bits": lambda cs, d: range_check(cs, cs.private_input("x", 0), 64),
    "fixed mul (|x|, |y| < 2^20)": lambda cs, d: gf.mul(cs, d("a", -WIDE, WIDE), d("b", -WIDE, WIDE)),
    "fixed div (|x| < 2^20, y in [1, 2^20])": lambda cs, d: gf.div(cs, d("a", -WIDE, WIDE), d("b", ONE, WIDE),
                                                                  (-(1 << 110), 1 << 110)),
    "sqrt (x in [0, 2^20])": lambda cs, d: gf.sqrt(cs, d("a", 0, WIDE)),
    "exp (|x| <= 2)": lambda cs, d: gt.exp(cs, d("x", -2 * ONE, 2 * ONE), (0, 8 * ONE)),
    "ln (x in [1/16, 16])": lambda cs, d: gt.ln(cs, d("x", ONE >> 4, ONE << 4), (-3 * ONE, 3 * ONE)),
    "normal cdf": lambda cs, d: gt.normal_cdf(cs, gt.normal_argument(cs, d("x", -WIDE, WIDE))),
    "normal cdf + pdf (shared argument)": lambda cs, d: (
        lambda arg: (gt.normal_cdf(cs, arg), gt.normal_pdf(cs, arg)))(gt.normal_argument(cs, d("x", -WIDE, WIDE))),
    "Poseidon, 2 inputs (t = 3)": lambda cs, d: poseidon(cs, [cs.private_input("x", 1), cs.private_input("y", 2)]),
    "Poseidon, 5 inputs (t = 6)": lambda cs, d: poseidon(cs, [cs.private_input(f"x{i}", i) for i in range(5)]),
}


def gadget_costs() -> dict[str, int]:
    """Constraints of each gadget in GADGETS."""
    return {name: _cost(build) for name, build in GADGETS.items()}
