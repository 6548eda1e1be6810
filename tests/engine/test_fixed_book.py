"""engine.fixed_book: fill-record packing, the fill chain, the book commitment, applying fills."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circuits.poseidon import poseidon_hash
from engine import fixed as fx
from engine import fixed_book as fb
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
    assert fb.fill_chain([expected]) == [
        15935959852357606896906908083708863497866994148446463112770332007285758146696]


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


def test_chain_is_poseidon_of_head_and_record():
    a = fb.pack_fill(fb.Fill(0, True, 100 * ONE, 1_700_000_000, -ONE))
    b = fb.pack_fill(fb.Fill(1, False, 90 * ONE, 1_700_000_000, ONE // 2))
    heads = fb.fill_chain([a, b])
    assert heads == [poseidon_hash([0, a]), poseidon_hash([poseidon_hash([0, a]), b])]
    assert fb.fill_chain([b], head=heads[0]) == heads[1:]
    assert fb.fill_chain([b, a]) != heads  # order matters


def test_empty_book_commitment_and_slot_records():
    book = fb.empty_book(4)
    h = 0
    for j in range(4):
        record = j + ((1 << 72) << fb.QUANTITY_OFFSET)  # slot index and the quantity bias only
        assert fb.slot_record(j, book[j]) == record
        h = poseidon_hash([h, record])
    assert fb.book_commitment(book) == h
    assert h == 6032751096789635616315999875366561345361274904829962121803934853659457843694
    assert fb.book_commitment(fb.empty_book(5)) != h


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
    assert fb.book_commitment(book) != fb.book_commitment(fb.empty_book(4))


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


def test_empty_slot_must_be_all_zero():
    with pytest.raises(InvalidInput, match="empty slot"):
        fb.BookSlot(0, 100 * ONE, False, 0)
