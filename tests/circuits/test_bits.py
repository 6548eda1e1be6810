"""Booleans, bit decompositions, range checks: honest witnesses pass, every attack fails."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bn254.constants import R
from bn254.field import to_signed
from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets.bits import (
    MAX_UNIQUE_BITS,
    assert_bits_at_most,
    assert_boolean,
    from_bits,
    logical_and,
    logical_or,
    logical_xor,
    new_boolean,
    range_check,
    signed_range_check,
    to_bits,
    to_bits_canonical,
)
from circuits.lc import Boolean, RangeChecked
from tests.circuits.adversary import (
    assert_hint_tampering_caught,
    assert_outputs_determined,
    assert_unsatisfiable,
    assert_wire_tampering_caught,
    wrong_values,
)

# Field elements an attacker likes: just past a bound, the top of the field, r - 2^k.
NASTY = [R - 1, R - 2, R - 16, R - 8, R // 2, (1 << 253), (1 << 253) + 1, R - (1 << 128)]


# -- booleans ------------------------------------------------------------------------------


@pytest.mark.parametrize("v", [0, 1])
def test_boolean_accepts_zero_and_one(v):
    cs = ConstraintSystem()
    b = assert_boolean(cs, cs.private_input("b", v))
    assert isinstance(b, Boolean) and cs.n_constraints == 1
    assert_outputs_determined(cs, [b], [v])


@pytest.mark.parametrize("v", [2, 3, R - 1, R // 2, 1 << 200])
def test_boolean_rejects_everything_else(v):
    cs = ConstraintSystem()
    assert_boolean(cs, cs.private_input("b", v))
    assert not cs.is_satisfied()
    assert_unsatisfiable(cs)


def test_boolean_of_a_constant_is_free_or_refused():
    cs = ConstraintSystem()
    assert_boolean(cs, 1)
    assert cs.n_constraints == 0
    with pytest.raises(CircuitError):
        assert_boolean(cs, 2)


@pytest.mark.parametrize("bad", wrong_values(1))
def test_new_boolean_accepts_only_bits(bad):
    # A new boolean is the prover's free choice of a bit: 0 and 1 pass, nothing else does.
    cs = ConstraintSystem(tamper_hint=lambda label, value: bad)
    new_boolean(cs, 1, "flag")
    assert cs.is_satisfied() == (bad in (0, 1))


@pytest.mark.parametrize("a", [0, 1])
@pytest.mark.parametrize("b", [0, 1])
def test_logic_gates_exhaustive(a, b):
    cs = ConstraintSystem()
    x = assert_boolean(cs, cs.private_input("a", a))
    y = assert_boolean(cs, cs.private_input("b", b))
    outs = [logical_and(cs, x, y), logical_or(cs, x, y), logical_xor(cs, x, y), x.negate()]
    assert all(isinstance(o, Boolean) for o in outs)
    expected = [a & b, a | b, a ^ b, 1 - a]
    assert [o.value for o in outs] == expected
    assert cs.n_constraints == 2 + 3
    assert_outputs_determined(cs, outs, expected)
    assert_wire_tampering_caught(cs, outs)


# -- bit decomposition ---------------------------------------------------------------------------


N_SMALL = 4


@pytest.mark.parametrize("x", range(1 << N_SMALL))
def test_to_bits_exhaustive_small_width_is_unique(x):
    cs = ConstraintSystem()
    bits = to_bits(cs, cs.private_input("x", x), N_SMALL)
    expected = [(x >> i) & 1 for i in range(N_SMALL)]
    assert [b.value for b in bits] == expected
    assert cs.n_constraints == N_SMALL + 1
    assert_outputs_determined(cs, bits, expected)
    assert_wire_tampering_caught(cs, bits)


@pytest.mark.parametrize("x", [1 << N_SMALL, (1 << N_SMALL) + 3, 255, *NASTY])
def test_to_bits_rejects_values_too_wide(x):
    cs = ConstraintSystem()
    to_bits(cs, cs.private_input("x", x), N_SMALL)
    assert not cs.is_satisfied()
    assert_unsatisfiable(cs)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, MAX_UNIQUE_BITS).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, (1 << n) - 1))))
def test_to_bits_any_width(case):
    n, x = case
    cs = ConstraintSystem()
    bits = to_bits(cs, cs.private_input("x", x), n)
    assert [b.value for b in bits] == [(x >> i) & 1 for i in range(n)]
    assert from_bits(bits).value == x
    assert cs.is_satisfied() and cs.n_constraints == n + 1


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 24), st.data())
def test_to_bits_hint_and_wire_tampering(n, data):
    x = data.draw(st.integers(0, (1 << n) - 1))

    def build(cs):
        return to_bits(cs, cs.private_input("x", x), n)

    assert assert_hint_tampering_caught(build) > 0
    cs = ConstraintSystem()
    assert_wire_tampering_caught(cs, build(cs))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 252).flatmap(lambda n: st.tuples(st.just(n), st.integers(1 << n, R - 1))))
def test_to_bits_rejects_any_out_of_range_value(case):
    n, x = case
    cs = ConstraintSystem()
    to_bits(cs, cs.private_input("x", x), n)
    assert not cs.is_satisfied()


def test_to_bits_refuses_non_unique_widths():
    cs = ConstraintSystem()
    x = cs.private_input("x", 1)
    for n in (0, MAX_UNIQUE_BITS + 1, 254):
        for gadget in (to_bits, range_check, signed_range_check):
            with pytest.raises(CircuitError):
                gadget(cs, x, n)


def test_boolean_operations_refuse_unchecked_operands():
    cs = ConstraintSystem()
    raw = cs.private_input("raw", 1)
    bit = assert_boolean(cs, cs.private_input("bit", 1))
    for gadget in (logical_and, logical_or, logical_xor):
        with pytest.raises(TypeError, match="Boolean"):
            gadget(cs, raw, bit)
    with pytest.raises(TypeError, match="Boolean"):
        assert_bits_at_most(cs, [raw, bit], 2)


def test_to_bits_of_a_constant_is_free():
    cs = ConstraintSystem()
    assert [b.value for b in to_bits(cs, 6, 3)] == [0, 1, 1]
    assert cs.n_constraints == 0
    with pytest.raises(CircuitError):
        to_bits(cs, 8, 3)


def test_253_bits_reach_just_below_r():
    # 2^253 - 1 < r, so 253 bits are unique; the honest decomposition of 2^253 - 1 passes.
    cs = ConstraintSystem()
    to_bits(cs, cs.private_input("x", (1 << 253) - 1), 253)
    assert cs.is_satisfied()


# -- the full 254-bit decomposition with its alias check --------------------------------------


@pytest.mark.parametrize("x", [0, 1, 5, R - 1, R - 2, (1 << 253) + 12345, R // 3])
def test_canonical_bits_of_any_field_element(x):
    cs = ConstraintSystem()
    bits = to_bits_canonical(cs, cs.private_input("x", x))
    assert [b.value for b in bits] == [(x >> i) & 1 for i in range(254)]
    assert cs.is_satisfied()


@pytest.mark.parametrize("x", [0, 1, 12345, (1 << 254) - R - 1])
def test_canonical_bits_reject_the_alias_x_plus_r(x):
    # x + r < 2^254 is a valid 254-bit boolean decomposition of x mod r: only the alias check stops it.
    alias = x + R
    assert alias < (1 << 254)

    def tamper(label, value):
        return (alias >> int(label.rsplit("bit", 1)[1])) & 1

    cs = ConstraintSystem(tamper_hint=tamper)
    bits = to_bits_canonical(cs, cs.private_input("x", x))
    assert from_bits(bits).value == x  # the sum constraint holds ...
    failure = cs.first_failure()
    assert failure is not None and "/at_most/" in failure.label  # ... the alias check does not


def test_canonical_bits_cost():
    cs = ConstraintSystem()
    to_bits_canonical(cs, cs.private_input("x", 3))
    # 254 booleans, the recomposition, and one alias-check constraint per bit below r - 1's top bit.
    assert cs.n_constraints == 254 + 1 + 253


@pytest.mark.parametrize("bound", [0, 1, 5, 9, 10, 15])
def test_bits_at_most_exhaustive(bound):
    for x in range(16):
        cs = ConstraintSystem()
        bits = to_bits(cs, cs.private_input("x", x), 4)
        assert_bits_at_most(cs, bits, bound)
        assert cs.is_satisfied() == (x <= bound), (x, bound)
        if x <= bound:
            assert_outputs_determined(cs, bits, [(x >> i) & 1 for i in range(4)])
        else:
            assert_unsatisfiable(cs)


# -- range checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("x", range(-4, 20))
def test_range_check_exhaustive_small_width(x):
    cs = ConstraintSystem()
    checked = range_check(cs, cs.private_input("x", x), N_SMALL)
    assert isinstance(checked, RangeChecked) and checked.lo == 0 and checked.n_bits == N_SMALL
    if 0 <= x < 1 << N_SMALL:
        assert checked.integer == x
        assert_outputs_determined(cs, [checked], [x])
    else:
        assert_unsatisfiable(cs)


@pytest.mark.parametrize("x", range(-10, 10))
def test_signed_range_check_exhaustive_small_width(x):
    cs = ConstraintSystem()
    checked = signed_range_check(cs, cs.private_input("x", x), N_SMALL)
    assert checked.lo == -8 and checked.n_bits == N_SMALL
    assert cs.n_constraints == N_SMALL + 1
    if -8 <= x < 8:
        assert checked.integer == x
        assert_outputs_determined(cs, [checked], [x])
    else:
        assert_unsatisfiable(cs)


@pytest.mark.parametrize("x", [R - (1 << 63) - 1, R // 2, 1 << 63, 1 << 253, R - (1 << 128)])
def test_signed_range_check_rejects_nasty_elements(x):
    cs = ConstraintSystem()
    signed_range_check(cs, cs.private_input("x", x), 64)
    assert not cs.is_satisfied()


@pytest.mark.parametrize("x", [R - 1, R - (1 << 63)])
def test_signed_range_check_reads_the_top_of_the_field_as_negative(x):
    cs = ConstraintSystem()
    checked = signed_range_check(cs, cs.private_input("x", x), 64)
    assert cs.is_satisfied() and checked.integer == x - R


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 253).flatmap(lambda n: st.tuples(st.just(n), st.integers(-(1 << 260), 1 << 260))))
def test_signed_range_check_any_width(case):
    n, x = case
    cs = ConstraintSystem()
    signed_range_check(cs, cs.private_input("x", x), n)
    v = to_signed(x)  # the input is the field element x mod r
    assert cs.is_satisfied() == (-(1 << (n - 1)) <= v < (1 << (n - 1)))


def test_range_checked_values_are_not_checked_twice():
    cs = ConstraintSystem()
    x = range_check(cs, cs.private_input("x", 5), 8)
    n = cs.n_constraints
    assert range_check(cs, x, 8) is x and range_check(cs, x, 16) is x
    assert signed_range_check(cs, x, 9) is x  # [0, 2^8) lies inside [-2^8, 2^8)
    assert cs.n_constraints == n
    range_check(cs, x, 4)  # narrower: must be checked again
    signed_range_check(cs, x, 8)  # [0, 2^8) is not inside [-2^7, 2^7)
    assert cs.n_constraints == n + 5 + 9
    # Arithmetic forgets the fact.
    y = x + 1
    assert not isinstance(y, RangeChecked)
