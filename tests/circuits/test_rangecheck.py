"""The range-check factory: the mode is chosen once, bits mode is today's R1CS byte for byte,
lookup mode collects every check for the settle step, and each check comes with its attacks."""

import hashlib

import pytest

from bn254.constants import R
from bn254.field import inverse
from bn254.iden3 import r1cs_bytes, wtns_bytes
from circuits import quote as cq
from circuits.batch import batch_circuit
from circuits.builder import CircuitError, ConstraintSystem, ConstraintViolated
from circuits.gadgets.bits import range_check, to_bits
from circuits.gadgets.rangecheck import (
    BitsRangeChecker,
    LookupRangeChecker,
    LookupSettled,
    PendingCheck,
    RangeCheckMode,
)
from circuits.lc import RangeChecked
from solver.samples import sample_batch_request
from tests.circuits.adversary import (
    assert_hint_tampering_caught,
    assert_outputs_determined,
    assert_unsatisfiable,
    assert_wire_tampering_caught,
)

N = 6  # small enough for the exhaustive solver (2^6 branches)

# (r + 1)/2 is "1/2" in the field; an attacker's favourite way to sneak a value between integers.
FRACTIONS = [inverse(2), 3 * inverse(2) % R, inverse(3), (R - 1) * inverse(2) % R, 5 * inverse(1 << N) % R]


# -- the mode is the system's -----------------------------------------------------------------


def test_bits_is_the_default_mode_and_the_checker_is_made_once():
    cs = ConstraintSystem()
    assert cs.range_mode is RangeCheckMode.BITS
    assert isinstance(cs.range_checker, BitsRangeChecker) and cs.range_checker is cs.range_checker


@pytest.mark.parametrize("mode", ["lookup", RangeCheckMode.LOOKUP])
def test_lookup_mode_is_chosen_when_the_system_is_created(mode):
    cs = ConstraintSystem(range_mode=mode)
    assert cs.range_mode is RangeCheckMode.LOOKUP and isinstance(cs.range_checker, LookupRangeChecker)


def test_an_unknown_mode_is_refused():
    with pytest.raises(CircuitError, match="unknown range-check mode 'table'.*bits, lookup"):
        ConstraintSystem(range_mode="table")


@pytest.mark.parametrize("mode", list(RangeCheckMode))
@pytest.mark.parametrize("width", [0, -1, 254])
def test_widths_without_a_unique_decomposition_are_refused(mode, width):
    rc = ConstraintSystem(range_mode=mode).range_checker
    x = rc.cs.private_input("x", 1)
    for request in (rc.check, rc.check_signed, rc.decompose):
        with pytest.raises(CircuitError, match="bit width"):
            request(x, width)


@pytest.mark.parametrize("mode", list(RangeCheckMode))
def test_constants_are_checked_at_build_time_in_either_mode(mode):
    cs = ConstraintSystem(range_mode=mode)
    assert cs.range_checker.check(15, 4).integer == 15
    assert [b.value for b in cs.range_checker.decompose(6, 3)] == [0, 1, 1]
    assert cs.range_checker.check_signed(-8, 4).integer == -8
    assert cs.n_constraints == 0
    with pytest.raises(CircuitError, match="does not fit in 4 bits"):
        cs.range_checker.check(16, 4)
    with pytest.raises(CircuitError, match="does not fit"):
        cs.range_checker.check_signed(8, 4)
    cs.finish()  # nothing pending: settles in either mode


# -- bits mode: a check is a decomposition, with its attacks -------------------------------------


@pytest.mark.parametrize("x", range(1 << N))
def test_bits_check_accepts_exactly_the_range(x):
    cs = ConstraintSystem()
    checked = cs.range_checker.check(cs.private_input("x", x), N)
    assert isinstance(checked, RangeChecked) and (checked.lo, checked.n_bits) == (0, N)
    assert cs.n_constraints == N + 1
    assert_outputs_determined(cs, [checked], [x])
    assert_wire_tampering_caught(cs, [checked])


@pytest.mark.parametrize("x", [1 << N, (1 << N) + 1, R - 1, R - (1 << N), 1 << 253, *FRACTIONS])
def test_bits_check_refuses_values_outside_and_field_fractions(x):
    cs = ConstraintSystem()
    cs.range_checker.check(cs.private_input("x", x), N)
    assert not cs.is_satisfied()
    assert_unsatisfiable(cs)


@pytest.mark.parametrize("x", [-(1 << (N - 1)), -1, 0, (1 << (N - 1)) - 1])
def test_bits_signed_check_pair(x):
    cs = ConstraintSystem()
    checked = cs.range_checker.check_signed(cs.private_input("x", x), N)
    assert checked.integer == x and cs.n_constraints == N + 1
    assert_outputs_determined(cs, [checked], [x])
    for bad in (1 << (N - 1), -(1 << (N - 1)) - 1, *FRACTIONS):
        cs = ConstraintSystem()
        cs.range_checker.check_signed(cs.private_input("x", bad), N)
        assert_unsatisfiable(cs)


def test_a_tampered_bit_is_caught():
    def build(cs):
        return [cs.range_checker.check(cs.private_input("x", 45), N)]

    assert assert_hint_tampering_caught(build) > 0

    def flip_bit3(label, value):
        return 1 - value if label.endswith("range/bits/bit3") else value

    cs = ConstraintSystem(tamper_hint=flip_bit3)
    build(cs)
    assert cs.first_failure().label == "range/bits/recompose"


def test_fraction_bits_summing_to_the_value_are_caught():
    # x = 1 spelled as b0 = 1/2, b1 = 1/4: sum 2^i b_i = 1, but neither "bit" is boolean.
    halves = {"range/bits/bit0": inverse(2), "range/bits/bit1": inverse(4)}
    cs = ConstraintSystem(tamper_hint=lambda label, value: halves.get(label, value))
    cs.range_checker.check(cs.private_input("x", 1), N)
    failure = cs.first_failure()
    assert failure is not None and failure.label == "range/bits/bit0"


def test_an_earlier_check_is_reused_for_free():
    cs = ConstraintSystem()
    x = cs.range_checker.check(cs.private_input("x", 5), 8)
    n = cs.n_constraints
    assert cs.range_checker.check(x, 9) is x and cs.range_checker.check_signed(x, 9) is x
    assert cs.n_constraints == n


# -- lookup mode: checks are collected and settled at the end ----------------------------------------


def test_lookup_collects_checks_with_value_width_and_label():
    cs = ConstraintSystem(range_mode="lookup")
    x = cs.private_input("x", 5)
    with cs.scope("quote[0]"), cs.scope("spread"):
        checked = range_check(cs, x, 8)
        cs.range_checker.check_signed(x - 7, 4)
    assert checked.n_bits == 8 and cs.n_constraints == 0
    pending = cs.range_checker.pending
    assert [(p.n_bits, p.label) for p in pending] == [(8, "quote[0]/spread/range"),
                                                      (4, "quote[0]/spread/signed_range")]
    assert isinstance(pending[0], PendingCheck)
    assert pending[0].value.value == 5 and pending[1].value.value == (5 - 7 + 8)  # shifted into [0, 2^4)
    assert cs.range_checker.check(checked, 8) is checked and len(cs.range_checker.pending) == 2


def test_lookup_decomposition_emits_the_bits_the_caller_reads():
    cs = ConstraintSystem(range_mode="lookup")
    bits = to_bits(cs, cs.private_input("x", 11), 5)
    assert [b.value for b in bits] == [1, 1, 0, 1, 0]
    assert cs.n_constraints == 6 and cs.range_checker.pending == ()
    assert cs.is_satisfied()


def test_lookup_settles_once_and_refuses_later_checks():
    cs = ConstraintSystem(range_mode="lookup")
    with cs.scope("risk"):
        range_check(cs, cs.private_input("x", 3), 16)
    for settle in (cs.finish, cs.to_r1cs, cs.is_satisfied, cs.witness):
        settle()
    assert cs.range_checker.settlement is not None and cs.is_satisfied()
    with pytest.raises(LookupSettled, match="risk/range: range check asked for after"):
        with cs.scope("risk"):
            range_check(cs, cs.private_input("y", 3), 16)
    assert issubclass(LookupSettled, CircuitError)


def test_strict_lookup_refuses_an_out_of_range_value_as_it_is_collected():
    cs = ConstraintSystem(strict=True, range_mode="lookup")
    range_check(cs, cs.private_input("ok", 255), 8)
    with pytest.raises(ConstraintViolated, match="not below 2\\^8"):
        range_check(cs, cs.private_input("x", 256), 8)
    with pytest.raises(ConstraintViolated):
        range_check(cs, cs.private_input("half", inverse(2)), 8)


# -- one batch, both modes ------------------------------------------------------------------------


def _build(mode, n_quotes):
    cs = ConstraintSystem(range_mode=mode)
    wires = batch_circuit(cs, sample_batch_request(n_quotes))
    return cs, wires


def _quote_outputs(wires):
    return [(q.bid.value, q.ask.value, q.bsm.delta.lc.value, q.bsm.gamma.lc.value) for q in wires.quotes]


def test_both_modes_compute_the_same_outputs_and_lookup_replaces_only_the_range_proofs():
    bits_cs, bits_wires = _build("bits", 2)
    lookup_cs, lookup_wires = _build("lookup", 2)
    assert _quote_outputs(bits_wires) == _quote_outputs(lookup_wires)
    pending = lookup_cs.range_checker.pending
    # the honest witness passes every collected check
    assert all(p.value.value < 1 << p.n_bits for p in pending)
    # each collected check stands for exactly the n + 1 constraints bits mode emits for it
    assert bits_cs.n_constraints == lookup_cs.n_constraints + sum(p.n_bits + 1 for p in pending)


# -- bits mode is today's R1CS, byte for byte (and its cost is pinned) -------------------------------

# Recorded from the circuits as they were before the factory (commit d836244): the exported .r1cs
# and .wtns of a 1-quote batch (solver.samples.sample_batch_request(1)) and of a single quote on the
# same inputs. A change here is a change of circuit: a cost regression, or a deliberate new
# layout, to be recorded with its reason.
PINNED = {
    "batch_of_1": (23469, 23324, "31d8f0bf9697f1082a6b6c2fb24070b7eb1c52c61c887803c99935a5b67de163",
                   "7ee82563d047a03ec290f2dbb062753fb63c31d5aa85b7fbb88750e0bc48ec96"),
    "single_quote": (11191, 11112, "0947c2ec879c4a4ef988e812a90642bd2b0d3fbdb7b069166722f603acc23477",
                     "1c2c1b05a75acff25d448cf7cd3ce27ff04f240ca83c22d7356adacff477d1d6"),
}


def _single_quote(cs):
    req = sample_batch_request(1)
    line = req.quotes[0]
    cq.single_quote_circuit(cs, cq.QuoteRequest(
        spot=req.spot, strike=line.strike, t=req.t, rate=req.rate, carry=req.carry, svi=req.svi,
        is_call=line.is_call, high_vol=req.high_vol, policy=req.policy, net_vega=req.net_vega,
        salt=req.state_salt, half_spread=line.half_spread))


@pytest.mark.parametrize("name,build", [
    ("batch_of_1", lambda cs: batch_circuit(cs, sample_batch_request(1))),
    ("single_quote", _single_quote),
])
def test_bits_mode_exports_the_pinned_r1cs(name, build):
    cs = ConstraintSystem(range_mode="bits")
    build(cs)
    r1cs = cs.to_r1cs()
    got = (cs.n_constraints, r1cs.n_wires, hashlib.sha256(r1cs_bytes(r1cs)).hexdigest(),
           hashlib.sha256(wtns_bytes(cs.witness())).hexdigest())
    assert got == PINNED[name]
