"""The attacks of tests/circuits/adversary.py catch deliberately broken gadgets.

Each broken gadget here is a classic bug: a hint nobody pins, circomlib's
LessThan without operand range checks, a decomposition whose bits are not
boolean. If the attacks did not flag them, the gadget tests would prove nothing.
"""

import pytest

from bn254.constants import R
from bn254.field import inverse
from circuits.builder import ConstraintSystem
from circuits.gadgets.bits import to_bits
from circuits.gadgets.comparators import is_zero, less_than
from circuits.lc import LC, linear_combination
from tests.circuits.adversary import (
    assert_hint_tampering_caught,
    assert_outputs_determined,
    assert_unsatisfiable,
    assert_wire_tampering_caught,
    solve_all,
)


def is_zero_missing_second_constraint(cs: ConstraintSystem, x: LC) -> LC:
    inv = cs.hint(inverse(x.value) if x.value else 0, "inverse")
    return 1 - cs.mul(x, inv, "x_times_inverse")


def less_than_without_operand_checks(cs: ConstraintSystem, a: LC, b: LC, n: int) -> LC:
    return 1 - to_bits(cs, a - b + (1 << n), n + 1)[n]


def bits_not_boolean(cs: ConstraintSystem, x: LC, n: int) -> list[LC]:
    bits = [cs.hint((x.value >> i) & 1, f"bit{i}") for i in range(n)]
    cs.enforce_equal(linear_combination((1 << i, b) for i, b in enumerate(bits)), x, "recompose")
    return bits


def vacuous_output(cs: ConstraintSystem, x: LC) -> LC:
    out = cs.hint(x.value, "copy")
    cs.enforce(out, 0 * x, 0, "vacuous")  # out * 0 = 0 holds for every out
    return out


def test_hint_tampering_flags_an_unpinned_inverse():
    with pytest.raises(AssertionError, match="inverse"):
        assert_hint_tampering_caught(lambda cs: [is_zero_missing_second_constraint(cs, cs.private_input("x", 5))])
    assert_hint_tampering_caught(lambda cs: [is_zero(cs, cs.private_input("x", 5))])


def test_solver_flags_an_unpinned_inverse():
    cs = ConstraintSystem()
    out = is_zero_missing_second_constraint(cs, cs.private_input("x", 5))
    with pytest.raises(AssertionError, match="free"):
        assert_outputs_determined(cs, [out], [0])


def test_solver_flags_less_than_without_operand_range_checks():
    # r - 1 is not a 4-bit number, yet the unchecked difference r - 1 - 3 + 16 = 12 (mod r) "proves" r - 1 < 3.
    cs = ConstraintSystem()
    out = less_than_without_operand_checks(cs, cs.private_input("a", R - 1), cs.private_input("b", 3), 4)
    assert cs.is_satisfied() and out.value == 1
    with pytest.raises(AssertionError, match="witnesses satisfy"):
        assert_unsatisfiable(cs)
    cs = ConstraintSystem()
    less_than(cs, cs.private_input("a", R - 1), cs.private_input("b", 3), 4)
    assert_unsatisfiable(cs)


def test_solver_flags_non_boolean_bits():
    cs = ConstraintSystem()
    bits = bits_not_boolean(cs, cs.private_input("x", 6), 3)
    with pytest.raises(AssertionError, match="free"):
        assert_outputs_determined(cs, bits, [0, 1, 1])


def test_wire_tampering_flags_a_vacuous_constraint():
    cs = ConstraintSystem()
    out = vacuous_output(cs, cs.private_input("x", 9))
    with pytest.raises(AssertionError, match="copy"):
        assert_wire_tampering_caught(cs, [out])


def test_solver_enumerates_every_root():
    # x * x = 4 has the two roots 2 and r - 2; b * (b - 1) = 0 has 0 and 1.
    constraints = [({1: 1}, {1: 1}, {0: 4}), ({2: 1}, {2: 1, 0: R - 1}, {})]
    solutions = solve_all(constraints, {0: 1})
    assert sorted((s[1], s[2]) for s in solutions) == [(2, 0), (2, 1), (R - 2, 0), (R - 2, 1)]
    # x * x = 5 has no root in F_r (5 is a non-residue).
    assert solve_all([({1: 1}, {1: 1}, {0: 5})], {0: 1}) == []
