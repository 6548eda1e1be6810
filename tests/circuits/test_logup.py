"""The lookup mode's settle step: its cost formula pinned, and each attack on the lookup paired with its honest twin."""

import pytest

from bn254.constants import R
from circuits.builder import ConstraintSystem
from circuits.gadgets.bits import range_check
from circuits.gadgets.logup import (
    CHALLENGE_NAME,
    SHARED_ROWS,
    ChallengeCollision,
    check_cost,
    choose_limb_bits,
    lookup_cost,
)
from circuits.gadgets.rangecheck import LookupSettled


def _system(values_and_widths, tamper=None, single=True):
    """A lookup-mode system checking each (value, width); single=False checks x + y (no single wire)."""
    cs = ConstraintSystem(range_mode="lookup", tamper_hint=tamper)
    for i, (v, n) in enumerate(values_and_widths):
        with cs.scope(f"c{i}"):
            x = cs.private_input("x", v)
            range_check(cs, x if single else x + cs.private_input("zero", 0), n)
    return cs


def test_cost_formula():
    # ceil(n/L) limbs, one more query for a partial top limb, one recomposition unless x is a single wire
    assert check_cost(48, 8, True) == 6 and check_cost(48, 10, True) == 5 + 1
    assert check_cost(48, 10, False) == 7 and check_cost(3, 8, True) == 2
    # the shared part: 2^L table rows, the sum, the blinding row
    assert lookup_cost([(48, True)] * 10, 8) == 60 + 256 + SHARED_ROWS
    # checks no cheaper by lookup go as bits (n + 1), and then no table is paid for
    assert lookup_cost([(1, True), (2, False)], 4) == 2 + 3
    assert choose_limb_bits([(1, True)]) is None and lookup_cost([(1, True)], None) == 2  # a lone bit: no table
    assert choose_limb_bits([(1, True), (2, True)]) is None  # L = 1 would cost 1 + 2 + 2 + 2 > 2 + 3


@pytest.mark.parametrize("widths,limb_bits,constraints", [
    ([48] * 10, 4, 10 * 12 + 16 + SHARED_ROWS),  # L = 6 would cost 10 * 8 + 64 + 2 = 146
    ([48] * 200, 8, 200 * 6 + 256 + SHARED_ROWS),  # L = 6: 200 * 8 + 64 + 2 = 1666
    ([57, 144, 1, 8], 4, (15 + 1) + 36 + 2 + 2 + 16 + SHARED_ROWS),  # the lone bit goes as bits
])
def test_the_settled_system_costs_what_the_formula_says(widths, limb_bits, constraints):
    cs = _system([((1 << n) - 1, n) for n in widths])
    shapes = [(n, True) for n in widths]
    assert choose_limb_bits(shapes) == limb_bits
    cs.finish()
    settlement = cs.range_checker.settlement
    assert settlement.limb_bits == limb_bits and cs.n_constraints == constraints == lookup_cost(shapes, limb_bits)
    assert cs.is_satisfied()


def test_a_value_that_is_not_one_wire_pays_its_recomposition():
    cs = _system([(5, 48)] * 20, single=False)
    cs.finish()
    L = cs.range_checker.settlement.limb_bits
    assert cs.n_constraints == lookup_cost([(48, False)] * 20, L)
    assert cs.is_satisfied()


def test_the_challenge_is_the_last_public_signal_and_the_blinding_is_committed():
    cs = _system([(7, 20), (9, 30)])
    r1cs = cs.to_r1cs()
    s = cs.range_checker.settlement
    index = cs.export_index()
    assert index[s.challenge_wire] == r1cs.n_public and r1cs.wire_names[r1cs.n_public].endswith(CHALLENGE_NAME)
    assert s.committed_wires[-1] == s.blinding_wire
    assert all(cs.is_private_wire(w) for w in s.committed_wires)
    assert s.challenge_wire not in s.committed_wires


def test_the_table_is_pinned_in_the_constraints():
    # row j reads term_j * (alpha - j) = m_j: the table entry is the constant of the B row, in order
    cs = _system([(3, 9)] * 30)
    cs.finish()
    s = cs.range_checker.settlement
    rows = [(a, b) for (a, b, _c), i in zip(cs.constraints, range(cs.n_constraints))
            if cs.constraint_label(i).startswith("lookup/table:")]
    assert len(rows) == 1 << s.limb_bits
    for j, (a, b) in enumerate(rows):
        assert a == {s.table_wires[j]: 1}
        assert b == ({s.challenge_wire: 1, 0: (-j) % R} if j else {s.challenge_wire: 1})


# -- pairs: honest and tampered ----------------------------------------------------------------


@pytest.mark.parametrize("n", [8, 13, 48])
def test_a_value_outside_the_range_is_refused(n):
    for v, ok in [((1 << n) - 1, True), (0, True), (1 << n, False), ((1 << n) + 3, False), (R - 1, False)]:
        cs = _system([(v, n), (5, n)])
        assert cs.is_satisfied() is ok, (v, n)
        if not ok:
            assert cs.first_failure().label == "lookup/sum"


def test_a_wrong_limb_is_refused_even_when_the_limbs_still_add_up():
    # x = 2^L * 3 + 1 spelled (1 + 2^L, 2): the recomposition holds, but limb 0 is not in the table
    n = 20
    honest = _system([(3 * 1024 + 1, n)] * 40, single=False)
    assert honest.is_satisfied()
    L = honest.range_checker.settlement.limb_bits

    def shift_a_unit(label, value):
        if label == "lookup/c0/range/limb0":
            return value + (1 << L)
        if label == "lookup/c0/range/limb1":
            return value - 1
        return value

    cs = _system([(3 * 1024 + 1, n)] * 40, tamper=shift_a_unit, single=False)
    assert cs.first_failure().label == "lookup/sum"


def test_a_wrong_multiplicity_is_refused():
    def one_more(label, value):
        return value + 1 if label == "lookup/multiplicity3" else value

    assert _system([(3, 12), (3, 12)]).is_satisfied()
    assert _system([(3, 12), (3, 12)], tamper=one_more).first_failure().label == "lookup/sum"


def test_multiplicities_on_the_wrong_table_entries_are_refused():
    # the same counts, each moved one entry along: the table entries are out of place
    honest = _system([(3, 12), (3, 12), (5, 12)])
    honest.finish()
    counts = honest.range_checker.settlement.multiplicities

    def moved(label, value):
        if label.startswith("lookup/multiplicity"):
            j = int(label.removeprefix("lookup/multiplicity"))
            return counts[j - 1] if j else counts[-1]
        return value

    cs = _system([(3, 12), (3, 12), (5, 12)], tamper=moved)
    assert cs.first_failure().label == "lookup/sum"


def test_terms_from_another_challenge_are_refused_and_the_right_ones_recomputed():
    cs = _system([(100, 16), (7, 40)])
    cs.finish()
    s = cs.range_checker.settlement
    other = 123456789
    stale = list(cs.values)
    stale[s.challenge_wire] = other  # the challenge changed, the terms after it did not
    assert not cs.is_satisfied(stale)
    assert cs.is_satisfied(s.values_for_challenge(cs.values, other))
    with pytest.raises(ChallengeCollision):
        s.values_for_challenge(cs.values, 5)  # a table entry: no inverse


def test_settled_once_then_no_more_checks():
    cs = _system([(1, 16)])
    cs.finish()
    n = cs.n_constraints
    cs.finish()
    assert cs.n_constraints == n
    with pytest.raises(LookupSettled, match="after the lookup was settled"):
        range_check(cs, cs.private_input("late", 1), 16)


def test_checks_no_cheaper_by_lookup_stay_bits_without_a_challenge():
    cs = _system([(1, 1), (0, 2)])
    r1cs = cs.to_r1cs()
    assert cs.range_checker.settlement is None and r1cs.n_public == 0
    assert cs.n_constraints == 2 + 3 and cs.is_satisfied()
    assert not _system([(2, 1)]).is_satisfied()


def test_both_modes_publish_bit_identical_outputs():
    from solver.mode_costs import build_batch

    bits, lookup = build_batch(2, "bits"), build_batch(2, "lookup")
    bits_public = bits.to_r1cs().public_values(bits.witness())
    lookup_public = lookup.to_r1cs().public_values(lookup.witness())
    assert lookup_public[:-1] == bits_public and len(lookup_public) == len(bits_public) + 1  # the challenge, last
    assert lookup.is_satisfied() and lookup.n_constraints < bits.n_constraints / 3
