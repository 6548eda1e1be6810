"""Expiry settlement records in the book circuit (circuits/book.py apply_fills, fb.pack_expiry_settled).

Smallest capacities: P = 4 slots, F = 2 chain records, E = 2 expiries. The book transition alone
(open, apply the records, close) is built for the record-level cases; the whole book batch for
"an expired series is unprovable until its settlement is applied". Each lie is a malicious
prover's witness (hints replaced, everything after computed from the lie, as in
tests/circuits/adversary.py) that publishes the book its lie produces; the R1CS must refuse it,
at the constraint that names the lie. Every case has its honest twin.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from circuits import book as cbk
from circuits import book_batch as bb
from circuits import book_hash as bh
from circuits.builder import ConstraintSystem
from circuits.lc import LC
from engine import fixed as fx
from engine import fixed_book as fb
from engine import fixed_quote as fq
from engine import fixed_risk as fr
from tests.circuits.adversary import assert_wire_tampering_caught

ONE = fx.ONE
NOW, DAY = 1_700_000_000, 86_400
GONE, LIVE, LATER = NOW - DAY, NOW + 30 * DAY, NOW + 60 * DAY  # GONE expired yesterday
OLD_BOOK = fb.apply_fills(fb.empty_book(4), [
    fb.Fill(0, True, 100 * ONE, GONE, -ONE),
    fb.Fill(1, False, 90 * ONE, LIVE, 2 * ONE),
    fb.Fill(2, False, 95 * ONE, GONE, 3 * ONE),
])
SETTLE_GONE = fb.pack_expiry_settled(GONE)
REUSE = fb.Fill(0, True, 105 * ONE, LATER, -2 * ONE)  # a new series in the slot the settlement freed


def transition(old_book: fb.Book, records: list[int], new_book: fb.Book | None = None, capacity: int = 2,
               tamper=None) -> tuple[ConstraintSystem, list[cbk.LiveSlot]]:
    """open_book -> apply_fills -> close_book, publishing the vault's values; `new_book` is the book
    the prover claims (default: the engine's)."""
    if new_book is None:
        new_book = fb.apply_fills(old_book, [fb.unpack_record(r) for r in records])
    heads = bh.fill_chain(records)
    cs = ConstraintSystem(tamper_hint=tamper)
    before = cs.public_input("book_before", bh.book_commitment(old_book))
    chain_from = cs.public_input("chain_from", 0)
    chain_to = cs.public_input("chain_to", heads[-1] if heads else 0)
    after = cs.public_input("book_after", bh.book_commitment(new_book))
    count = cs.public_input("fill_count", len(records))
    states = cbk.open_book(cs, old_book, before)
    states = cbk.apply_fills(cs, states, records, capacity, chain_from, chain_to, count)
    return cs, cbk.close_book(cs, states, after)


class _Tamper:
    """Each hint whose label fully matches a pattern gets rules[pattern](value); `hits` lists them."""

    def __init__(self, rules: dict) -> None:
        self.rules, self.hits = rules, []

    def __call__(self, label: str, value: int) -> int:
        for pattern, change in self.rules.items():
            if re.fullmatch(pattern, label):
                self.hits.append(label)
                return change(value)
        return value


def test_settlement_empties_its_expirys_slots_and_frees_them_for_a_new_series():
    records = [SETTLE_GONE, fb.pack_fill(REUSE)]
    cs, slots = transition(OLD_BOOK, records)
    assert cs.is_satisfied(), cs.first_failure()
    expected = (fb.BookSlot(LATER, 105 * ONE, True, -2 * ONE), OLD_BOOK[1], fb.EMPTY_SLOT, fb.EMPTY_SLOT)
    assert fb.apply_fills(OLD_BOOK, [fb.ExpirySettled(GONE), REUSE]) == expected
    assert [s.live.value for s in slots] == [1, 1, 0, 0]
    assert [s.expiry.value for s in slots] == [LATER, LIVE, 0, 0]
    assert [s.quantity.value for s in slots] == [-2 * ONE, 2 * ONE, 0, 0]


def test_settling_an_expiry_the_book_does_not_hold_changes_nothing():
    cs, slots = transition(OLD_BOOK, [fb.pack_expiry_settled(LATER)])
    assert cs.is_satisfied(), cs.first_failure()
    assert [s.expiry.value for s in slots] == [GONE, LIVE, GONE, 0]


@pytest.mark.parametrize("slot", [0, 2])
def test_a_settlement_that_leaves_a_slot_of_its_expiry_is_unsatisfiable(slot):
    kept = fb.apply_fills(OLD_BOOK, [fb.ExpirySettled(GONE)])
    kept = kept[:slot] + (OLD_BOOK[slot],) + kept[slot + 1:]  # the book the lie produces, published
    tamper = _Tamper({rf"fill\[0\]/slot\[{slot}\]/settles": lambda v: 0})
    cs, _ = transition(OLD_BOOK, [SETTLE_GONE], new_book=kept, tamper=tamper)
    assert tamper.hits == [f"fill[0]/slot[{slot}]/settles"]
    failure = cs.first_failure()
    assert failure is not None and "settles_all_its_expiry" in str(failure)


def test_a_settlement_that_removes_a_slot_of_another_expiry_is_unsatisfiable():
    removed = fb.apply_fills(OLD_BOOK, [fb.ExpirySettled(GONE)])
    removed = (removed[0], fb.EMPTY_SLOT) + removed[2:]  # slot 1 (LIVE) removed too, published
    tamper = _Tamper({r"fill\[0\]/slot\[1\]/settles": lambda v: 1})
    cs, _ = transition(OLD_BOOK, [SETTLE_GONE], new_book=removed, tamper=tamper)
    assert tamper.hits == ["fill[0]/slot[1]/settles"]
    failure = cs.first_failure()
    assert failure is not None and "settles_only_its_expiry" in str(failure)


def test_a_fill_or_padding_removes_nothing():
    # a fill record (expiry field non-zero) and an inactive padding record both claiming a removal
    records = [fb.pack_fill(fb.Fill(1, False, 90 * ONE, LIVE, ONE))]
    after = fb.apply_fills(OLD_BOOK, [fb.unpack_record(records[0])])
    for label in (r"fill\[0\]/slot\[0\]/settles", r"fill\[1\]/slot\[0\]/settles"):
        lie = (fb.EMPTY_SLOT,) + after[1:]
        tamper = _Tamper({label: lambda v: 1})
        cs, _ = transition(OLD_BOOK, records, new_book=lie, tamper=tamper)
        assert len(tamper.hits) == 1
        failure = cs.first_failure()
        assert failure is not None and "settles_only_its_expiry" in str(failure)


def test_a_settlement_record_holding_more_than_its_expiry_is_unsatisfiable():
    # the vault only appends E << 9; a record with expiry field 0 and a slot or quantity set is no record
    for extra in (3, 1 << fb.IS_CALL_OFFSET, fb.QUANTITY_BIAS << fb.QUANTITY_OFFSET):
        record = SETTLE_GONE | extra
        with pytest.raises(Exception, match="chain_record"):
            fb.unpack_record(record)
        settled = fb.apply_fills(OLD_BOOK, [fb.ExpirySettled(GONE)])
        cs, _ = transition(OLD_BOOK, [record], new_book=settled)
        failure = cs.first_failure()
        assert failure is not None and "settlement_holds_only_its_expiry" in str(failure)


def test_cost_is_8_constraints_per_slot_and_record():
    def apply_cost(slots: int) -> int:
        book = OLD_BOOK + (fb.EMPTY_SLOT,) * (slots - 4)
        cs = ConstraintSystem()
        before = cs.public_input("book_before", bh.book_commitment(book))
        states = cbk.open_book(cs, book, before)
        start = cs.n_constraints
        records = [SETTLE_GONE, fb.pack_fill(REUSE)]
        cbk.apply_fills(cs, states, records, 2, cs.public_input("chain_from", 0),
                        cs.public_input("chain_to", bh.fill_chain(records)[-1]), 2)
        return cs.n_constraints - start
    assert apply_cost(5) - apply_cost(4) == 2 * 8


# ---------------------------------------------------------------- the whole book batch

SMILE = fx.SVIFixed(fx.to_fixed(0.04), fx.to_fixed(0.1), fx.to_fixed(-0.3), 0, fx.to_fixed(0.2))
LIVE_MARKET = fb.BookMarket(100 * ONE, NOW, fx.to_fixed(0.01), 0,
                            (fb.ExpirySmile(LIVE, SMILE), fb.ExpirySmile(LATER, SMILE)))
POLICY = fq.PolicyFixed(fx.to_fixed(0.5), fx.to_fixed(0.01), fx.to_fixed(0.001), ONE, 2 * ONE)
LIMITS = fr.RiskLimitsFixed(50 * ONE, 10 * ONE, 10_000 * ONE, 100_000 * ONE)
PROVEN = bh.fill_chain([fb.pack_fill(fb.Fill(0, True, 100 * ONE, GONE, -ONE))])[0]  # any proven head


def _unchecked_market(expiries: tuple[fb.ExpirySmile, ...]) -> fb.BookMarket:
    """LIVE_MARKET with other expiries, past BookMarket's own validation (a malicious prover's)."""
    market = object.__new__(fb.BookMarket)
    for field in dataclasses.fields(fb.BookMarket):
        object.__setattr__(market, field.name, getattr(LIVE_MARKET, field.name))
    object.__setattr__(market, "expiries", expiries)
    return market


def book_update(records: tuple[fb.ChainRecord, ...]) -> bb.BookBatchRequest:
    return bb.book_batch_request(LIVE_MARKET, OLD_BOOK, records, 2, 3, PROVEN, policy=POLICY, state_salt=7,
                                 limits=LIMITS, margin=ONE)


def test_an_expired_series_is_unprovable_until_its_settlement_is_applied():
    # no smile may price it: the engine refuses an expired public expiry and a book it does not cover
    with pytest.raises(Exception, match="expired"):
        dataclasses.replace(LIVE_MARKET, expiries=(fb.ExpirySmile(GONE, SMILE),) + LIVE_MARKET.expiries[1:])
    with pytest.raises(fb.UnknownExpiry):
        fb.price_book(LIVE_MARKET, OLD_BOOK)
    # a proof over the book as it stands: the expired slots cannot pick a public expiry ...
    cs = ConstraintSystem()
    bb.book_batch_circuit(cs, book_update(()))
    failure = cs.first_failure()
    assert failure is not None and "own_expiry" in str(failure)
    # ... and a prover who skips the engine's check to publish the expired one gets no t for it
    cs = ConstraintSystem()
    bb.book_batch_circuit(cs, dataclasses.replace(book_update(()), market=_unchecked_market(
        (fb.ExpirySmile(GONE, SMILE), fb.ExpirySmile(LIVE, SMILE)))))
    failure = cs.first_failure()
    assert failure is not None and "expiry[0]/t/" in str(failure)
    # after the vault's settlement record (and a fill reusing the freed slot) the book proves
    req = book_update((fb.ExpirySettled(GONE), REUSE))
    cs = ConstraintSystem()
    wires = bb.book_batch_circuit(cs, req)
    assert cs.is_satisfied(), cs.first_failure()
    book = fb.apply_fills(OLD_BOOK, req.fills)
    assert wires.book.mark.value == fb.price_book(LIVE_MARKET, book).mark
    layout = wires.layout
    public = cs.witness()[1:1 + layout.n_public_inputs]
    whole = dict(zip((w.name for w in layout.whole), public))
    assert whole["book_after"] == bh.book_commitment(book)
    assert whole["chain_to"] == bh.fill_chain([SETTLE_GONE, fb.pack_fill(REUSE)], PROVEN)[-1]
    assert layout.unpack(public[len(layout.whole):])["mark"] == fb.price_book(LIVE_MARKET, book).mark


def test_no_single_wire_of_a_settlement_and_a_fill_can_change_the_book_unseen():
    # adversary.py's wire attack on the records' application: every internal wire, set to each
    # wrong value, breaks a constraint or leaves every slot's (code, expiry, q) as it was
    records = [SETTLE_GONE, fb.pack_fill(REUSE)]
    cs = ConstraintSystem()
    before = cs.public_input("book_before", bh.book_commitment(OLD_BOOK))
    chain_to = cs.public_input("chain_to", bh.fill_chain(records)[-1])
    states = cbk.apply_fills(cs, cbk.open_book(cs, OLD_BOOK, before), records, 2, LC.constant(0), chain_to, 2)
    assert_wire_tampering_caught(cs, [lc for s in states for lc in (s.code, s.expiry, s.quantity)])
