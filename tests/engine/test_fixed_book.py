"""engine.fixed_book: fill and settlement record packing, slot records, applying records, pricing and risk
(the chain heads and the book commitment over them: tests/circuits/test_book_hash.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import fixed as fx
from engine import fixed_book as fb
from engine import fixed_risk as fr
from engine.errors import InvalidInput

ONE = fx.ONE

fills = st.builds(
    fb.Fill,
    slot=st.integers(0, fb.MAX_SLOTS - 1),
    is_call=st.booleans(),
    strike=st.integers(fx.SPOT_MIN, fx.SPOT_MAX),
    expiry=st.integers(1, fb.EXPIRY_MAX),
    dq=st.integers(fb.QUANTITY_MIN, fb.QUANTITY_MAX),
)


@given(fills)
def test_unpack_inverts_pack(fill):
    record = fb.pack_fill(fill)
    assert 0 <= record < 1 << fb.RECORD_BITS
    assert fb.unpack_fill(record) == fill


def test_record_layout_vector():
    # The vector the vault side checks too: slot 3, call, strike 50,000, expiry 1,700,000,000,
    # a taker buying 2 contracts (dq = -2).
    fill = fb.Fill(3, True, 50_000 * ONE, 1_700_000_000, -2 * ONE)
    expected = (3 + (1 << 8) + ((50_000 * ONE - fx.SPOT_MIN) << 9) + (1_700_000_000 << 89)
                + ((-2 * ONE + (1 << 72)) << 129))
    assert fb.pack_fill(fill) == expected
    assert fb.RECORD_BITS == 202
    # pinned decimals, shared with the vault's tests (a change here is a change of the interface)
    assert expected == 3213875705394095334611710647344601810047549505977238364881155


@pytest.mark.parametrize("field, kwargs", [
    ("fill.slot", {"slot": 256}),
    ("fill.slot", {"slot": -1}),
    ("fill.expiry", {"expiry": 0}),
    ("fill.expiry", {"expiry": 1 << 40}),
    ("fill.strike", {"strike": fx.SPOT_MIN - 1}),
    ("fill.strike", {"strike": fx.SPOT_MAX + 1}),
    ("fill.dq", {"dq": fb.QUANTITY_MAX + 1}),
    ("fill.dq", {"dq": fb.QUANTITY_MIN - 1}),
])
def test_fill_outside_its_fields_is_refused(field, kwargs):
    base = {"slot": 0, "is_call": True, "strike": 100 * ONE, "expiry": 1_700_000_000, "dq": ONE}
    with pytest.raises(InvalidInput, match=field):
        fb.Fill(**{**base, **kwargs})


def test_unpack_refuses_records_outside_the_width():
    with pytest.raises(InvalidInput, match="fill_record"):
        fb.unpack_fill(1 << fb.RECORD_BITS)
    with pytest.raises(InvalidInput, match="fill.expiry"):
        fb.unpack_fill(0)  # expiry 0 is no fill


def test_empty_slot_records():
    book = fb.empty_book(4)
    for j in range(4):
        assert fb.slot_record(j, book[j]) == j + ((1 << 72) << fb.QUANTITY_OFFSET)  # index and quantity bias only


def test_apply_fills_opens_and_updates_slots():
    expiry = 1_700_000_000
    book = fb.apply_fills(fb.empty_book(4), [
        fb.Fill(0, True, 100 * ONE, expiry, -3 * ONE),
        fb.Fill(1, False, 90 * ONE, expiry, 2 * ONE),
        fb.Fill(0, True, 100 * ONE, expiry, ONE),
    ])
    assert book[0] == fb.BookSlot(expiry, 100 * ONE, True, -2 * ONE)
    assert book[1] == fb.BookSlot(expiry, 90 * ONE, False, 2 * ONE)
    assert book[2:] == (fb.EMPTY_SLOT, fb.EMPTY_SLOT)
    # the slot record of a live slot is the fill packing with dq := q
    assert fb.slot_record(0, book[0]) == fb.pack_fill(fb.Fill(0, True, 100 * ONE, expiry, -2 * ONE))


def test_apply_fills_refuses_mismatch_capacity_and_overflow():
    expiry = 1_700_000_000
    book = fb.apply_fill(fb.empty_book(2), fb.Fill(0, True, 100 * ONE, expiry, ONE))
    with pytest.raises(fb.SeriesMismatch, match="slot 0"):
        fb.apply_fill(book, fb.Fill(0, False, 100 * ONE, expiry, ONE))
    with pytest.raises(fb.BookCapacityExceeded, match="2 slots"):
        fb.apply_fill(book, fb.Fill(2, True, 100 * ONE, expiry, ONE))
    with pytest.raises(fb.BookCapacityExceeded, match="at most 1"):
        fb.apply_fills(book, [fb.Fill(1, True, 1 * ONE, expiry, ONE)] * 2, capacity=1)
    full = fb.apply_fill(fb.empty_book(1), fb.Fill(0, True, 100 * ONE, expiry, fb.QUANTITY_MAX))
    with pytest.raises(fb.BookCapacityExceeded, match="position"):
        fb.apply_fill(full, fb.Fill(0, True, 100 * ONE, expiry, 1))


# ---------------------------------------------------------------- expiry settlement records


def test_settlement_record_vector():
    # shared with the vault's tests: expiry 1,700,000,000 settled packs to E << 9, every other field 0
    record = fb.pack_expiry_settled(1_700_000_000)
    assert record == 1_700_000_000 << fb.STRIKE_OFFSET == 870_400_000_000
    assert fb.pack_record(fb.ExpirySettled(1_700_000_000)) == record
    assert fb.unpack_record(record) == fb.ExpirySettled(1_700_000_000)


@given(st.one_of(fills, st.builds(fb.ExpirySettled, st.integers(1, fb.EXPIRY_MAX))))
def test_unpack_record_inverts_pack_record(record):
    value = fb.pack_record(record)
    assert 0 <= value < 1 << fb.RECORD_BITS
    assert fb.unpack_record(value) == record
    # the expiry field tells the kinds apart: 0 for a settlement only
    assert (value >> fb.EXPIRY_OFFSET & fb.EXPIRY_MAX == 0) == isinstance(record, fb.ExpirySettled)


@pytest.mark.parametrize("record, field", [
    (0, "settlement.expiry"),  # the settlement of expiry 0 is no record
    (fb.pack_expiry_settled(1) | 3, "chain_record"),  # a slot field
    (fb.pack_expiry_settled(1) | 1 << fb.IS_CALL_OFFSET, "chain_record"),
    (fb.pack_expiry_settled(1) | fb.QUANTITY_BIAS << fb.QUANTITY_OFFSET, "chain_record"),  # dq = 0 is still a field
    ((fb.EXPIRY_MAX + 1) << fb.STRIKE_OFFSET, "chain_record"),  # an expiry beyond 40 bits
    (1 << fb.RECORD_BITS, "chain_record"),
])
def test_unpack_record_refuses_what_neither_kind_packs(record, field):
    with pytest.raises(InvalidInput, match=field):
        fb.unpack_record(record)


def test_settlement_empties_only_its_expiry_and_frees_the_slots():
    gone, live = 1_700_000_000, 1_700_086_400
    book = fb.apply_fills(fb.empty_book(4), [
        fb.Fill(0, True, 100 * ONE, gone, -ONE),
        fb.Fill(1, False, 90 * ONE, live, 2 * ONE),
        fb.Fill(2, False, 95 * ONE, gone, 3 * ONE),
    ])
    settled = fb.apply_fills(book, [fb.ExpirySettled(gone)])
    assert settled == (fb.EMPTY_SLOT, book[1], fb.EMPTY_SLOT, fb.EMPTY_SLOT)
    assert fb.apply_fills(book, [fb.ExpirySettled(live + 1)]) == book  # an expiry the book lacks: no change
    # a freed slot takes a new series, in the same run of records
    reuse = fb.Fill(2, True, 110 * ONE, live, ONE)
    assert fb.apply_fills(book, [fb.ExpirySettled(gone), reuse])[2] == fb.BookSlot(live, 110 * ONE, True, ONE)
    with pytest.raises(fb.SeriesMismatch):  # not before the settlement
        fb.apply_fills(book, [reuse])
    with pytest.raises(fb.BookCapacityExceeded, match="at most 1"):  # settlements count against F
        fb.apply_fills(book, [fb.ExpirySettled(gone), reuse], capacity=1)
    with pytest.raises(InvalidInput, match="settlement.expiry"):
        fb.ExpirySettled(0)


def test_empty_slot_must_be_all_zero():
    with pytest.raises(InvalidInput, match="empty slot"):
        fb.BookSlot(0, 100 * ONE, False, 0)


# ---------------------------------------------------------------- pricing and risk

NOW = 1_700_000_000
DAY = 86_400
SMILE = fx.SVIFixed(fx.to_fixed(0.04), fx.to_fixed(0.1), fx.to_fixed(-0.3), 0, fx.to_fixed(0.2))
VOGT = fx.SVIFixed(fx.to_fixed(-0.0410), fx.to_fixed(0.1331), fx.to_fixed(0.3060), fx.to_fixed(0.3586),
                   fx.to_fixed(0.4153))  # Gatheral & Jacquier (2014), §5: butterfly arbitrage near k = 1


def market(spot=100.0, smiles=(SMILE, SMILE)):
    return fb.BookMarket(fx.to_fixed(spot), NOW, fx.to_fixed(0.01), 0,
                         tuple(fb.ExpirySmile(NOW + 30 * DAY * (i + 1), s) for i, s in enumerate(smiles)))


def test_year_fraction_and_expiry_order():
    assert fb.year_fraction(NOW + fb.YEAR_SECONDS, NOW) == ONE
    with pytest.raises(InvalidInput, match="expired"):
        fb.year_fraction(NOW, NOW)
    with pytest.raises(InvalidInput, match="4 years"):
        fb.year_fraction(NOW + 5 * fb.YEAR_SECONDS, NOW)
    with pytest.raises(InvalidInput, match="increasing"):
        fb.BookMarket(100 * ONE, NOW, 0, 0, (fb.ExpirySmile(NOW + DAY, SMILE), fb.ExpirySmile(NOW + DAY, SMILE)))


def test_price_book_mark_and_greeks_follow_each_slots_own_smile():
    m = market(smiles=(SMILE, fx.SVIFixed(fx.to_fixed(0.09), *(getattr(SMILE, f) for f in ("b", "rho", "m", "sigma")))))
    e0, e1 = m.expiries[0].expiry, m.expiries[1].expiry
    book = (fb.BookSlot(e0, 100 * ONE, True, -2 * ONE), fb.BookSlot(e1, 100 * ONE, True, ONE), fb.EMPTY_SLOT)
    priced = fb.price_book(m, book)
    c0 = fx.bsm_fixed_svi(m.spot, 100 * ONE, m.terms(0), SMILE, True)
    c1 = fx.bsm_fixed_svi(m.spot, 100 * ONE, m.terms(1), m.expiries[1].svi, True)
    assert priced.slots == (c0, c1, None)
    assert c1.price > c0.price  # the second expiry's own, richer smile
    assert priced.mark == fb.position_product(-2 * ONE, c0.price) + fb.position_product(ONE, c1.price)
    assert priced.net_vega == fb.position_product(-2 * ONE, c0.vega) + fb.position_product(ONE, c1.vega)


def test_unknown_expiry_and_too_many_expiries():
    m = market()
    with pytest.raises(fb.UnknownExpiry, match="none of the proof's expiries"):
        fb.price_book(m, (fb.BookSlot(NOW + 7 * DAY, 100 * ONE, True, ONE),))
    book = tuple(fb.BookSlot(NOW + (i + 1) * DAY, 100 * ONE, True, ONE) for i in range(3))
    with pytest.raises(fb.BookCapacityExceeded, match="3 live expiries"):
        fb.price_book(m, book)


def test_durrleman_sign_on_a_clean_and_an_arbitrageable_smile():
    assert all(fb.durrleman_scaled(fx.to_fixed(k), SMILE) >= 0 for k in (-2, -1, -0.3, 0, 0.3, 1, 2))
    assert fb.durrleman_scaled(fx.to_fixed(1.0), VOGT) < 0
    assert fb.durrleman_scaled(fx.to_fixed(-0.5), VOGT) > 0
    with pytest.raises(fb.ButterflyArbitrage, match="g\\(k\\) < 0"):
        fb.require_no_butterfly(fx.to_fixed(1.0), VOGT, "strike")


def test_risk_report_covers_quote_sizes():
    m = market()
    e0 = m.expiries[0].expiry
    pricing = fb.price_book(m, (fb.BookSlot(e0, 100 * ONE, True, -ONE),))
    quote = fb.QuoteOrder(110 * ONE, 0, True, ONE, 10 * ONE)
    bsm = fb.quote_bsm(m, quote)
    limits = fr.RiskLimitsFixed(5 * ONE, ONE, 1000 * ONE, 10_000 * ONE)
    alone = fb.book_risk_report(pricing, [], limits, m.spot, 0)
    quoted = fb.book_risk_report(pricing, [(quote, bsm)], limits, m.spot, 0)
    assert alone.risk_ok and quoted.exposure_delta == fb.position_product(10 * ONE, bsm.delta)
    assert quoted.worst_loss > alone.worst_loss
    big = fb.QuoteOrder(quote.strike, 0, True, ONE, 10_000 * ONE)
    breached = fb.book_risk_report(pricing, [(big, bsm)], limits, m.spot, 0)
    assert not breached.risk_ok and "delta" in breached.breaches and "scenario_loss" in breached.breaches
    assert fb.worst_loss(pricing, [(big, bsm)], m.spot, 0) == breached.worst_loss


def test_quote_order_grid():
    with pytest.raises(InvalidInput, match="quote.strike"):
        fb.QuoteOrder(100 * ONE + 1, 0, True, ONE, ONE)
    with pytest.raises(InvalidInput, match="quote.size"):
        fb.QuoteOrder(100 * ONE, 0, True, ONE, ONE + 1)
