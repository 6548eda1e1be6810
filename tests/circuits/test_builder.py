"""The constraint-system builder: LCs, constant folding, labels, export order, checks, profile."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from circuits.builder import (
    CircuitError,
    ConstraintSystem,
    ConstraintViolated,
    UnconstrainedWire,
    UnsatisfiableConstraint,
)
from bn254.constants import R
from circuits.gadgets.bits import assert_boolean, range_check
from circuits.gadgets.comparators import is_zero, less_than
from circuits.gadgets.hash import poseidon
from circuits.gadgets.select import MultilinearSelector, select
from circuits.lc import LC, as_lc, linear_combination
from circuits.profile import profile_table, profile_tree

elements = st.integers(min_value=0, max_value=R - 1)


# -- linear combinations ---------------------------------------------------------


@given(elements, elements, elements, elements)
def test_lc_arithmetic_tracks_values(x, y, k, c):
    cs = ConstraintSystem()
    a, b = cs.private_input("a", x), cs.private_input("b", y)
    e = k * a - b + c - (a * 3) + 5 * b
    assert e.value == (k * x - y + c - 3 * x + 5 * y) % R
    assert e.value == e.evaluate(cs.values)
    assert (-e).value == -e.value % R
    assert (c - e).value == (c - e.value) % R


def test_lc_cancellation_leaves_a_constant():
    cs = ConstraintSystem()
    a = cs.private_input("a", 4)
    e = (a + 7) - a
    assert e.is_constant and e.const == 7 and e.value == 7 and e.terms == {}
    assert (a * 0).is_constant and (a * R).is_constant


def test_constants_fold_and_cost_nothing():
    cs = ConstraintSystem()
    a = cs.private_input("a", 6)
    three = as_lc(3)
    assert three.is_constant and three.value == 3
    assert cs.mul(three, a).value == 18 and cs.mul(a, 2).value == 12
    assert cs.mul(three, 5).const == 15
    cs.enforce(2, 3, 6, "constant_ok")
    cs.enforce_equal(a - a, 0, "cancels")
    assert cs.n_constraints == 0 and cs.n_wires == 2


def test_constant_constraint_that_cannot_hold_is_refused():
    cs = ConstraintSystem()
    with cs.scope("s"), pytest.raises(UnsatisfiableConstraint, match="s/bad"):
        cs.enforce(2, 3, 7, "bad")


def test_product_of_two_wires_needs_the_builder():
    cs = ConstraintSystem()
    a, b = cs.private_input("a", 2), cs.private_input("b", 3)
    with pytest.raises(TypeError, match="cs.mul"):
        a * b
    p = cs.mul(a, b, "p")
    assert p.value == 6 and cs.n_constraints == 1
    assert cs.constraints[0] == ({1: 1}, {2: 1}, {3: 1})


def test_negative_inputs_map_to_field_elements():
    cs = ConstraintSystem()
    assert cs.public_input("x", -1).value == R - 1
    assert cs.private_input("y", -5).value == R - 5


def test_linear_combination_matches_chained_operators():
    cs = ConstraintSystem()
    xs = [cs.private_input(f"x{i}", i * i + 3) for i in range(5)]
    coeffs = [3, -1, 0, R - 2, 7]
    chained = LC.constant(0)
    for k, x in zip(coeffs, xs):
        chained = chained + k * x
    fast = linear_combination(zip(coeffs, xs))
    assert fast.terms == chained.terms and fast.value == chained.value and fast.const == chained.const


# -- labels, scopes, strictness -------------------------------------------------------


def test_labels_follow_scopes():
    cs = ConstraintSystem()
    x = cs.private_input("x", 300)
    with cs.scope("quote[3]"), cs.scope("bsm"):
        range_check(cs, x, 8)
    r1cs = cs.to_r1cs()
    assert r1cs.labels[0] == "quote[3]/bsm/range/bits/bit0"
    assert r1cs.labels[7] == "quote[3]/bsm/range/bits/bit7"
    failure = cs.first_failure()
    assert failure is not None and failure.label == "quote[3]/bsm/range/bits/recompose"
    assert r1cs.first_failure(cs.witness()).label == failure.label


@pytest.mark.parametrize("name", ["", "a/b"])
def test_scope_names_are_path_components(name):
    cs = ConstraintSystem()
    with pytest.raises(CircuitError), cs.scope(name):
        pass


def test_duplicate_inputs_are_refused_but_scoped_names_are_distinct():
    cs = ConstraintSystem()
    cs.private_input("x", 1)
    with cs.scope("q[0]"):
        cs.private_input("x", 2)
    with pytest.raises(CircuitError, match="twice"):
        cs.public_input("x", 3)


def test_strict_mode_raises_at_the_violated_constraint():
    cs = ConstraintSystem(strict=True)
    x = cs.private_input("x", 16)
    with pytest.raises(ConstraintViolated, match="range/bits/recompose"):
        range_check(cs, x, 4)


# -- export -----------------------------------------------------------------------------


def test_export_uses_iden3_wire_order():
    cs = ConstraintSystem()
    priv = cs.private_input("secret", 3)
    pub = cs.public_input("price", 4)
    p = cs.mul(priv, pub, "p")
    cs.public_output("out", p + 1)
    r1cs = cs.to_r1cs()
    assert (r1cs.n_wires, r1cs.n_public_outputs, r1cs.n_public_inputs, r1cs.n_private_inputs) == (5, 1, 1, 1)
    assert r1cs.wire_names == ["one", "out", "price", "secret", "p"]
    w = cs.witness()
    assert w == [1, 13, 4, 3, 12]
    assert r1cs.public_values(w) == [13, 4]
    assert r1cs.is_satisfied(w)
    assert cs.export_index() == [0, 3, 2, 4, 1]


def test_tampered_export_witness_fails_with_label():
    cs = ConstraintSystem()
    a = cs.private_input("a", 3)
    with cs.scope("sq"):
        cs.public_output("a2", cs.mul(a, a, "square"))
    r1cs, w = cs.to_r1cs(), cs.witness()
    w[1] = 10
    failure = r1cs.first_failure(w)
    assert failure is not None and failure.label == "sq/output:a2" and failure.index == 1


def test_invalid_witness_vectors_are_rejected():
    from bn254.r1cs import InvalidWitness

    cs = ConstraintSystem()
    cs.public_output("y", cs.mul(cs.private_input("x", 2), 5))
    r1cs, w = cs.to_r1cs(), cs.witness()
    for bad in (w[:-1], [2] + w[1:], w[:-1] + [R]):
        with pytest.raises(InvalidWitness):
            r1cs.first_failure(bad)


def test_unconstrained_hint_is_refused():
    cs = ConstraintSystem()
    x = cs.private_input("x", 2)
    cs.enforce(x, x, 4, "square")
    with cs.scope("gadget"):
        cs.hint(7, "forgotten")
    with pytest.raises(UnconstrainedWire, match="gadget/forgotten"):
        cs.to_r1cs()


def test_unused_private_input_is_refused():
    cs = ConstraintSystem()
    cs.private_input("unused", 2)
    with pytest.raises(UnconstrainedWire, match="unused"):
        cs.to_r1cs()


def test_tamper_hint_sees_labels_and_replaces_values():
    seen = []

    def tamper(label, value):
        seen.append((label, value))
        return value + 1 if label.endswith("bit0") else value

    cs = ConstraintSystem(tamper_hint=tamper)
    x = cs.private_input("x", 6)
    range_check(cs, x, 3)
    assert [label for label, _ in seen] == ["range/bits/bit0", "range/bits/bit1", "range/bits/bit2"]
    assert cs.values[cs.hint_wires()[0]] == 1
    assert not cs.is_satisfied()


# -- shape independence and the profile -----------------------------------------------------


def _mixed_circuit(cs: ConstraintSystem, a: int, b: int, index: int) -> None:
    x = cs.public_input("a", a)
    y = cs.private_input("b", b)
    with cs.scope("hash"):
        h = poseidon(cs, [x, y])
    with cs.scope("compare"):
        lt = less_than(cs, x, y, 16)
        z = is_zero(cs, x - y)
    bits = [assert_boolean(cs, cs.private_input(f"i{k}", (index >> k) & 1), f"index_bit{k}") for k in range(3)]
    table = MultilinearSelector(cs, bits).lookup([5, 1, 4, 1, 5, 9, 2, 6])
    cs.public_output("h", h)
    cs.public_output("pick", select(cs, lt, table, z))


@settings(max_examples=20, deadline=None)
@given(
    st.integers(0, (1 << 16) - 1), st.integers(0, (1 << 16) - 1),
    st.integers(0, (1 << 16) - 1), st.integers(0, (1 << 16) - 1),
    st.integers(0, 7), st.integers(0, 7),
)
def test_shape_does_not_depend_on_witness(a1, b1, a2, b2, i1, i2):
    first, second = ConstraintSystem(), ConstraintSystem()
    _mixed_circuit(first, a1, b1, i1)
    _mixed_circuit(second, a2, b2, i2)
    r1, r2 = first.to_r1cs(), second.to_r1cs()
    assert r1.constraints == r2.constraints and r1.labels == r2.labels and r1.wire_names == r2.wire_names
    assert r1.is_satisfied(first.witness()) and r2.is_satisfied(second.witness())


def test_profile_counts_constraints_per_scope():
    cs = ConstraintSystem()
    _mixed_circuit(cs, 3, 9, 5)
    prof = cs.profile("mixed")
    assert prof.total == cs.n_constraints
    assert prof.find("hash").total == 240
    assert prof.find("compare/less_than/a/range").total == 17
    assert prof.find("compare/less_than").total == 3 * 17 + 1
    assert prof.find("compare/is_zero").total == 2
    assert prof.find("monomials").total == 8 - 3 - 1
    assert prof.own == 3 + 2  # index booleans and the two outputs sit at the top
    assert sum(node.own for _, node in prof.walk()) + prof.own == prof.total
    console = Console(record=True, width=120)
    console.print(profile_tree(prof, max_depth=2))
    console.print(profile_table(prof, max_depth=1))
    text = console.export_text()
    assert "poseidon2" in text and "less_than" in text and "bits" not in text
