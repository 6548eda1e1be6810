"""is_zero / is_equal and the order comparisons: exhaustive for small widths, hypothesis beyond."""

import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bn254.constants import R
from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets.bits import range_check, signed_range_check
from circuits.gadgets.comparators import (
    MAX_COMPARE_BITS,
    assert_equal,
    assert_less_equal,
    assert_less_than,
    assert_nonzero,
    greater_equal,
    greater_than,
    is_equal,
    is_zero,
    less_equal,
    less_than,
)
from circuits.lc import Boolean
from tests.circuits.adversary import (
    assert_hint_tampering_caught,
    assert_outputs_determined,
    assert_unsatisfiable,
    assert_wire_tampering_caught,
)

ZERO_TEST_VALUES = [0, 1, 2, R - 1, R // 2, 1 << 200, 123456789]


# -- equality ------------------------------------------------------------------------------------


@pytest.mark.parametrize("x", ZERO_TEST_VALUES)
def test_is_zero(x):
    cs = ConstraintSystem()
    z = is_zero(cs, cs.private_input("x", x))
    assert isinstance(z, Boolean) and z.value == int(x == 0) and cs.n_constraints == 2
    assert_outputs_determined(cs, [z], [int(x == 0)])
    assert_wire_tampering_caught(cs, [z])


@pytest.mark.parametrize("x", ZERO_TEST_VALUES)
def test_is_zero_hint_tampering(x):
    rejected = assert_hint_tampering_caught(lambda cs: [is_zero(cs, cs.private_input("x", x))])
    # For x != 0 the inverse is pinned (every wrong value is caught); for x = 0 it is free and harmless.
    assert (rejected > 0) == (x != 0)


@pytest.mark.parametrize("a", [0, 1, 5, R - 1])
@pytest.mark.parametrize("b", [0, 1, 5, R - 1])
def test_is_equal(a, b):
    cs = ConstraintSystem()
    e = is_equal(cs, cs.private_input("a", a), cs.private_input("b", b))
    assert e.value == int(a == b)
    assert_outputs_determined(cs, [e], [int(a == b)])
    assert_wire_tampering_caught(cs, [e])


def test_equality_of_constants_is_free():
    cs = ConstraintSystem()
    assert is_zero(cs, 0).value == 1 and is_zero(cs, 3).value == 0 and is_equal(cs, 4, 4).value == 1
    assert_equal(cs, 7, 7)
    assert cs.n_constraints == 0


@pytest.mark.parametrize("a, b", [(3, 3), (3, 4), (0, R - 1)])
def test_assert_equal(a, b):
    cs = ConstraintSystem()
    assert_equal(cs, cs.private_input("a", a), cs.private_input("b", b))
    assert cs.n_constraints == 1 and cs.is_satisfied() == (a == b)


@pytest.mark.parametrize("x", ZERO_TEST_VALUES)
def test_assert_nonzero(x):
    cs = ConstraintSystem()
    assert_nonzero(cs, cs.private_input("x", x))
    if x:
        assert_outputs_determined(cs, [], [])
        assert_hint_tampering_caught(lambda cs: assert_nonzero(cs, cs.private_input("x", x)) or [])
    else:
        assert_unsatisfiable(cs)


# -- order: exhaustive over small widths ----------------------------------------------------------

N = 4
UNSIGNED = range(1 << N)
SIGNED = range(-(1 << (N - 1)), 1 << (N - 1))
BOOLEAN_COMPARISONS = [
    (less_than, operator.lt),
    (less_equal, operator.le),
    (greater_than, operator.gt),
    (greater_equal, operator.ge),
]


@pytest.mark.parametrize("gadget, reference", BOOLEAN_COMPARISONS, ids=lambda f: getattr(f, "__name__", ""))
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_comparisons_exhaustive(gadget, reference, signed):
    values = SIGNED if signed else UNSIGNED
    for a in values:
        for b in values:
            cs = ConstraintSystem()
            out = gadget(cs, cs.private_input("a", a), cs.private_input("b", b), N, signed=signed)
            want = int(reference(a, b))
            assert isinstance(out, Boolean) and out.value == want, (a, b)
            assert cs.n_constraints == 3 * N + 4
            assert_outputs_determined(cs, [out], [want])


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_comparisons_reject_operands_out_of_range(signed):
    values = SIGNED if signed else UNSIGNED
    outside = [values[-1] + 1, values[0] - 1, values[-1] + 5, R // 2, R - 9, 1 << 128]
    for bad in outside:
        for good in (values[0], values[-1]):
            for a, b in ((bad, good), (good, bad)):
                cs = ConstraintSystem()
                less_than(cs, cs.private_input("a", a), cs.private_input("b", b), N, signed=signed)
                assert_unsatisfiable(cs)


@pytest.mark.parametrize("gadget, reference", [(assert_less_than, operator.lt), (assert_less_equal, operator.le)])
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_order_assertions_exhaustive(gadget, reference, signed):
    values = SIGNED if signed else UNSIGNED
    for a in values:
        for b in values:
            cs = ConstraintSystem()
            gadget(cs, cs.private_input("a", a), cs.private_input("b", b), N, signed=signed)
            assert cs.n_constraints == 3 * (N + 1)
            if reference(a, b):
                assert_outputs_determined(cs, [], [])
            else:
                assert_unsatisfiable(cs)


def test_order_assertions_reject_operands_out_of_range():
    # 1 < 20 as integers, but 20 is not a 4-bit operand; nor is r - 1 (-1 unsigned).
    for a, b in ((1, 20), (R - 1, 3), (2, R - 1)):
        cs = ConstraintSystem()
        assert_less_than(cs, cs.private_input("a", a), cs.private_input("b", b), N)
        assert_unsatisfiable(cs)


# -- order: any width ---------------------------------------------------------------------------------


def _operands(signed):
    def for_width(n):
        lo, hi = (-(1 << (n - 1)), (1 << (n - 1)) - 1) if signed else (0, (1 << n) - 1)
        edge = st.sampled_from([lo, lo + 1, hi - 1, hi, 0])
        value = st.one_of(st.integers(lo, hi), edge)
        return st.tuples(st.just(n), value, value)

    return st.integers(2, MAX_COMPARE_BITS).flatmap(for_width)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_less_than_any_width(signed, data):
    n, a, b = data.draw(_operands(signed))
    cs = ConstraintSystem()
    out = less_than(cs, cs.private_input("a", a), cs.private_input("b", b), n, signed=signed)
    assert out.value == int(a < b) and cs.is_satisfied()
    cs = ConstraintSystem()
    assert_less_than(cs, cs.private_input("a", a), cs.private_input("b", b), n, signed=signed)
    assert cs.is_satisfied() == (a < b)


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_less_than_tampering_any_width(data):
    n, a, b = data.draw(_operands(True).filter(lambda t: t[0] <= 24))

    def build(cs):
        return [less_than(cs, cs.private_input("a", a), cs.private_input("b", b), n, signed=True)]

    assert assert_hint_tampering_caught(build) > 0
    cs = ConstraintSystem()
    assert_wire_tampering_caught(cs, build(cs))


def test_flipping_the_comparison_bit_is_caught():
    # The attack circomlib's LessThan invites: claim the opposite answer via the top bit of the difference.
    def flip_top(label, value):
        return 1 - value if label.endswith("less_than/bits/bit64") else value

    cs = ConstraintSystem(tamper_hint=flip_top)
    out = less_than(cs, cs.private_input("a", 10), cs.private_input("b", 20), 64)
    assert out.value == 0
    assert "less_than/bits/recompose" in cs.first_failure().label


@pytest.mark.parametrize("n", [0, MAX_COMPARE_BITS + 1])
def test_comparison_widths_are_bounded(n):
    cs = ConstraintSystem()
    with pytest.raises(CircuitError):
        less_than(cs, cs.private_input("a", 1), cs.private_input("b", 2), n)


# -- reuse of range checks ------------------------------------------------------------------------


def test_range_checked_operands_are_reused():
    cs = ConstraintSystem()
    a = range_check(cs, cs.private_input("a", 3), 16)
    b = range_check(cs, cs.private_input("b", 9), 16)
    before = cs.n_constraints
    assert less_than(cs, a, b, 16).value == 1
    assert cs.n_constraints - before == 16 + 2  # only the difference's bits
    before = cs.n_constraints
    assert_less_than(cs, a, b, 16)
    assert cs.n_constraints - before == 16 + 1


def test_signed_checked_operands_are_reused_only_for_signed_comparisons():
    cs = ConstraintSystem()
    a = signed_range_check(cs, cs.private_input("a", -3), 16)
    b = signed_range_check(cs, cs.private_input("b", 2), 16)
    before = cs.n_constraints
    assert less_than(cs, a, b, 16, signed=True).value == 1
    assert cs.n_constraints - before == 16 + 2
    before = cs.n_constraints
    less_than(cs, a, b, 16)  # unsigned: -3 is r - 3, out of range, and it must be checked again
    assert cs.n_constraints - before == 3 * 16 + 4
    assert not cs.is_satisfied()


def test_comparison_with_a_constant():
    cs = ConstraintSystem()
    x = cs.private_input("x", 70)
    assert less_than(cs, x, 100, 8).value == 1
    assert cs.n_constraints == (8 + 1) + (8 + 2)  # the constant costs nothing
    with pytest.raises(CircuitError):
        less_than(cs, x, 256, 8)  # the constant itself does not fit
