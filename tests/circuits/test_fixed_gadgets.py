"""Fixed-point gadgets: the proven integers are the engine's integers, and no other witness passes.

Pairs, as gnark's ProverSucceeded / ProverFailed: each gadget is built on random inputs
and must equal engine/fixed.py exactly and satisfy its constraints; then a malicious
prover changes one wire (any internal wire, each of several wrong values) or one
meaningful hint (quotient, remainder, shift, sign, square root) and rebuilds everything
after it: the system must fail, or the outputs must not change.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bn254.constants import R
from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets import fixed as gf
from circuits.gadgets import transcendental as gt
from engine import fixed as fx
from tests.circuits.adversary import assert_hint_tampering_caught, assert_wire_tampering_caught

ONE = fx.ONE
WIDE = 1 << 70
MEANINGFUL = ("quotient", "remainder", "isqrt", "nonnegative", "normalising_shift", "mantissa")


def meaningful(label: str) -> bool:
    return label.rsplit("/", 1)[-1] in MEANINGFUL


def private(cs: ConstraintSystem, name: str, value: int, lo: int, hi: int) -> gf.Fixed:
    return gf.fixed_input(cs, name, value, lo, hi, public=False)


# ---------------------------------------------------------------- builders used by both halves of each pair


def build_mul(a: int, b: int):
    def build(cs):
        return [gf.mul(cs, private(cs, "a", a, -WIDE, WIDE), private(cs, "b", b, -WIDE, WIDE)).lc]
    return build


def build_div(a: int, b: int):
    def build(cs):
        q = gf.div(cs, private(cs, "a", a, -(1 << 60), 1 << 60), private(cs, "b", b, 1, WIDE), (-(1 << 110), 1 << 110))
        return [q.lc]
    return build


def build_sqrt(a: int):
    def build(cs):
        return [gf.sqrt(cs, private(cs, "a", a, 0, 1 << 90)).lc]
    return build


def build_exp(x: int):
    def build(cs):
        return [gt.exp(cs, private(cs, "x", x, -32 * ONE, 32 * ONE), (0, fx.exp(32 * ONE) + 16)).lc]
    return build


def build_ln(x: int, hi: int = 1 << 60):
    def build(cs):
        return [gt.ln(cs, private(cs, "x", x, 1, hi), (-64 * ONE, 64 * ONE)).lc]
    return build


def build_normal(x: int):
    def build(cs):
        arg = gt.normal_argument(cs, private(cs, "x", x, -WIDE, WIDE))
        return [gt.normal_cdf(cs, arg).lc, gt.normal_pdf(cs, arg).lc]
    return build


def honest(build) -> tuple[ConstraintSystem, list[int]]:
    cs = ConstraintSystem()
    outputs = build(cs)
    assert cs.is_satisfied(), cs.first_failure()
    return cs, [gf.to_signed(o.value) for o in outputs]


# ---------------------------------------------------------------- the engine's integers


@settings(max_examples=60, deadline=None)
@given(st.integers(-WIDE, WIDE), st.integers(-WIDE, WIDE))
def test_mul_equals_engine(a, b):
    assert honest(build_mul(a, b))[1] == [fx.mul(a, b)]


@settings(max_examples=60, deadline=None)
@given(st.integers(-(1 << 46), 1 << 46), st.integers(1, WIDE))
def test_div_equals_engine(a, b):
    """(dividends within the engine's value bound for every divisor)"""
    assert honest(build_div(a, b))[1] == [fx.div(a, b)]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 1 << 90))
def test_sqrt_equals_engine(a):
    assert honest(build_sqrt(a))[1] == [fx.sqrt(a)]


@settings(max_examples=40, deadline=None)
@given(st.integers(-32 * ONE, 32 * ONE))
def test_exp_equals_engine(x):
    assert honest(build_exp(x))[1] == [fx.exp(x)]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 1 << 60))
def test_ln_equals_engine(x):
    assert honest(build_ln(x))[1] == [fx.ln(x)]


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 1 << 40))
def test_ln_equals_engine_when_mantissa_is_a_left_shift(x):
    assert honest(build_ln(x, hi=1 << 40))[1] == [fx.ln(x)]


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.integers(-20 * ONE, 20 * ONE), st.integers(-WIDE, WIDE), st.sampled_from([0, 1, -1, 16 * ONE])))
def test_normal_cdf_and_pdf_equal_engine(x):
    assert honest(build_normal(x))[1] == [fx.normal_cdf(x), fx.normal_pdf(x)]


def test_edge_values():
    assert honest(build_exp(-32 * ONE))[1] == [fx.exp(-32 * ONE)]
    assert honest(build_exp(32 * ONE))[1] == [fx.exp(32 * ONE)]
    assert honest(build_ln(1))[1] == [fx.ln(1)]
    assert honest(build_ln(1 << 60))[1] == [fx.ln(1 << 60)]
    assert honest(build_sqrt(0))[1] == [0]
    assert honest(build_div(-(1 << 46), 1))[1] == [fx.div(-(1 << 46), 1)]
    assert honest(build_div(1 << 60, WIDE))[1] == [fx.div(1 << 60, WIDE)]


# ---------------------------------------------------------------- a malicious prover fails


CASES = [
    ("mul", build_mul(3 * ONE + 12345, -7 * ONE - 999)),
    ("mul_negative", build_mul(-(1 << 69), 1 << 69)),
    ("div", build_div(-5 * ONE - 77, 3 * ONE + 1)),
    ("sqrt", build_sqrt(2 * ONE + 5)),
    ("exp", build_exp(-fx.to_fixed(0.731))),
    ("exp_large", build_exp(fx.to_fixed(20.25))),
    ("ln", build_ln(fx.to_fixed(3.7))),
    ("ln_below_one", build_ln(fx.to_fixed(0.013))),
    ("normal", build_normal(fx.to_fixed(-1.2345))),
    ("normal_zero", build_normal(0)),
    ("normal_saturated", build_normal(fx.to_fixed(17.5))),
]


@pytest.mark.parametrize("name,build", CASES, ids=[c[0] for c in CASES])
def test_single_wire_tampering_is_caught(name, build):
    cs, _ = honest(build)
    outputs = build(ConstraintSystem())  # LC shapes are value-independent: reuse them on cs's wires
    assert_wire_tampering_caught(cs, outputs)


@pytest.mark.parametrize("name,build", CASES, ids=[c[0] for c in CASES])
def test_hint_tampering_is_caught(name, build):
    rejected = assert_hint_tampering_caught(build, only=meaningful)
    assert rejected > 0


def test_off_by_one_quotient_fails_with_its_label():
    """A mul result one ulp off (remainder adjusted to match) fails the remainder's range check."""
    def tamper(label, value):
        return value + 1 if label.endswith("mul/quotient") else value

    cs = ConstraintSystem(tamper_hint=tamper)
    out = gf.mul(cs, private(cs, "a", 5 * ONE + 3, -WIDE, WIDE), private(cs, "b", ONE + 1, -WIDE, WIDE))
    assert gf.to_signed(out.lc.value) == fx.mul(5 * ONE + 3, ONE + 1) + 1
    failure = cs.first_failure()
    assert failure is not None and failure.label.startswith("mul/")


@pytest.mark.parametrize(
    "name,build,step",
    [
        ("mul", build_mul(3 * ONE + 12345, -7 * ONE - 999), 1 << fx.FRAC_BITS),
        ("mul_negative", build_mul(-(1 << 69), 1 << 69), 1 << fx.FRAC_BITS),
        ("div", build_div(-5 * ONE - 77, 3 * ONE + 1), 2 * (3 * ONE + 1)),
    ],
)
def test_quotient_shifted_by_a_field_fraction_is_caught(name, build, step):
    """The classic unsound-division attack: q' = q + 1/step mod r makes q'·step = q·step + 1, so
    the remainder drops by one and stays in range; only q's own range check can refuse it."""
    def tamper(label, value):
        return (value + pow(step, -1, R)) % R if label.endswith("quotient") else value

    cs = ConstraintSystem(tamper_hint=tamper)
    build(cs)
    assert not cs.is_satisfied()


def test_sign_hint_at_zero_cannot_change_the_cdf():
    """At x = 0 the sign hint is free; flipping it must give the same N(0) = 1/2."""
    def flip(label, value):
        return 1 - value if label.endswith("nonnegative") else value

    cs = ConstraintSystem(tamper_hint=flip)
    arg = gt.normal_argument(cs, private(cs, "x", 0, -WIDE, WIDE))
    cdf = gt.normal_cdf(cs, arg)
    assert cs.is_satisfied() and cdf.value == ONE // 2


def test_sign_hint_away_from_zero_is_caught():
    def flip(label, value):
        return 1 - value if label.endswith("nonnegative") else value

    cs = ConstraintSystem(tamper_hint=flip)
    gt.normal_cdf(cs, gt.normal_argument(cs, private(cs, "x", -3, -WIDE, WIDE)))
    assert not cs.is_satisfied()


def test_inputs_outside_their_domain_are_unsatisfiable():
    cs = ConstraintSystem()
    private(cs, "x", 33 * ONE, -32 * ONE, 32 * ONE)
    assert not cs.is_satisfied()
    cs = ConstraintSystem()
    private(cs, "x", R - 1, 0, 1 << 90)  # -1 as a field element
    assert not cs.is_satisfied()


def test_gadgets_refuse_operands_whose_bounds_break_their_precondition():
    cs = ConstraintSystem()
    with pytest.raises(CircuitError, match="divisor"):
        gf.div(cs, private(cs, "a", 1, 0, 10), private(cs, "b", 1, 0, 10), (0, 10))
    with pytest.raises(CircuitError, match=">= 0"):
        gf.sqrt(cs, private(cs, "c", 1, -1, 10))
    with pytest.raises(CircuitError, match=r"\|x\| <= 32"):
        gt.exp(cs, private(cs, "d", 0, -33 * ONE, 0), (0, ONE))
    with pytest.raises(CircuitError, match="wrap"):
        gf.mul(cs, private(cs, "e", 0, 0, 1 << 130), private(cs, "f", 0, 0, 1 << 130))


def test_constraint_counts_are_pinned():
    """A cost regression shows here first (gnark pins counts the same way)."""
    def count(build) -> int:
        cs = ConstraintSystem()
        before = len(cs.constraints)
        build(cs)
        return len(cs.constraints) - before

    def input_cost(lo, hi):
        return count(lambda cs: private(cs, "x", lo, lo, hi))

    assert count(build_exp(0)) - input_cost(-32 * ONE, 32 * ONE) == 797
    assert count(build_ln(ONE)) - input_cost(1, 1 << 60) == 718
    assert count(build_normal(0)) - input_cost(-WIDE, WIDE) == 1466
