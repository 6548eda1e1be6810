"""select (two-way mux) and MultilinearSelector (table lookup by index bits)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bn254.constants import R
from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets.bits import assert_boolean, to_bits
from circuits.gadgets.select import MultilinearSelector, select
from tests.circuits.adversary import (
    assert_hint_tampering_caught,
    assert_outputs_determined,
    assert_unsatisfiable,
    assert_wire_tampering_caught,
)

elements = st.integers(0, R - 1)


@pytest.mark.parametrize("b", [0, 1])
@pytest.mark.parametrize("x, y", [(7, 9), (0, R - 1), (5, 5)])
def test_select(b, x, y):
    cs = ConstraintSystem()
    bit = assert_boolean(cs, cs.private_input("b", b))
    out = select(cs, bit, cs.private_input("x", x), cs.private_input("y", y))
    want = x if b else y
    assert out.value == want and cs.n_constraints == 2
    assert_outputs_determined(cs, [out], [want])
    assert_wire_tampering_caught(cs, [out])


@pytest.mark.parametrize("b", [2, R - 1, R // 2])
def test_select_with_a_non_boolean_selector_is_unsatisfiable(b):
    cs = ConstraintSystem()
    bit = assert_boolean(cs, cs.private_input("b", b))
    select(cs, bit, cs.private_input("x", 1), cs.private_input("y", 2))
    assert_unsatisfiable(cs)


def test_select_needs_a_boolean():
    cs = ConstraintSystem()
    with pytest.raises(TypeError, match="Boolean"):
        select(cs, cs.private_input("b", 1), 3, 4)


def test_select_between_constants_and_constant_selector_is_cheap():
    cs = ConstraintSystem()
    bit = assert_boolean(cs, cs.private_input("b", 1))
    assert select(cs, bit, 10, 20).value == 10  # b * (10 - 20) is a scaling: free
    assert cs.n_constraints == 1
    from circuits.lc import Boolean

    assert select(cs, Boolean.constant_bit(False), cs.private_input("x", 3), 8).value == 8
    assert cs.n_constraints == 1


# -- multilinear table selector --------------------------------------------------------------------

TABLES = [
    [3, 1, 4, 1, 5, 9, 2, 6],
    [0, 0, 0, 0, 0, 0, 0, R - 1],
    [-5, 17, 1 << 200, 0, 8, -1, 42, 7],
]


@pytest.mark.parametrize("index", range(8))
def test_table_lookup_exhaustive_three_bits(index):
    cs = ConstraintSystem()
    bits = to_bits(cs, cs.private_input("index", index), 3)
    selector = MultilinearSelector(cs, bits)
    outs = [selector.lookup(t) for t in TABLES]
    want = [t[index] % R for t in TABLES]
    assert [o.value for o in outs] == want
    assert_outputs_determined(cs, outs, want)
    assert_wire_tampering_caught(cs, outs)


@pytest.mark.parametrize("index", [8, 9, R - 1])
def test_table_lookup_with_an_out_of_range_index_is_unsatisfiable(index):
    cs = ConstraintSystem()
    selector = MultilinearSelector(cs, to_bits(cs, cs.private_input("index", index), 3))
    selector.lookup(TABLES[0])
    assert_unsatisfiable(cs)


@pytest.mark.parametrize("k", range(1, 7))
def test_monomials_cost_once_and_lookups_are_free(k):
    cs = ConstraintSystem()
    bits = [assert_boolean(cs, cs.private_input(f"b{i}", i % 2)) for i in range(k)]
    before = cs.n_constraints
    selector = MultilinearSelector(cs, bits)
    assert cs.n_constraints - before == (1 << k) - k - 1
    before = cs.n_constraints
    for shift in range(5):
        selector.lookup([(i + shift) ** 3 for i in range(1 << k)])
    assert cs.n_constraints == before


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6).flatmap(lambda k: st.tuples(st.integers(0, (1 << k) - 1), st.lists(elements, min_size=1 << k, max_size=1 << k))))
def test_table_lookup_any_table(case):
    index, table = case
    k = (len(table) - 1).bit_length() or 1
    cs = ConstraintSystem()
    selector = MultilinearSelector(cs, to_bits(cs, cs.private_input("index", index), k))
    assert selector.lookup(table).value == table[index]
    assert cs.is_satisfied()


def test_table_lookup_hint_tampering():
    def build(cs):
        selector = MultilinearSelector(cs, to_bits(cs, cs.private_input("index", 5), 3))
        return [selector.lookup(t) for t in TABLES]

    assert assert_hint_tampering_caught(build) > 0


def test_selector_argument_checks():
    cs = ConstraintSystem()
    with pytest.raises(CircuitError):
        MultilinearSelector(cs, [])
    with pytest.raises(TypeError):
        MultilinearSelector(cs, [cs.private_input("raw", 1)])
    selector = MultilinearSelector(cs, to_bits(cs, cs.private_input("i", 1), 2))
    with pytest.raises(CircuitError, match="2\\^2"):
        selector.lookup([1, 2, 3])
