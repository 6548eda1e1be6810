"""circuits/book_hash.py: the fill chain's heads and the book commitment, pinned with the vault's tests."""

from circuits import book_hash as bh
from circuits.poseidon import poseidon_hash
from engine import fixed as fx
from engine import fixed_book as fb

ONE = fx.ONE


def test_pinned_heads_of_a_fill_and_a_settlement():
    # shared with the vault's tests (a change here is a change of the interface)
    fill = fb.pack_fill(fb.Fill(3, True, 50_000 * ONE, 1_700_000_000, -2 * ONE))
    assert fill == 3213875705394095334611710647344601810047549505977238364881155
    assert bh.fill_chain([fill]) == [15935959852357606896906908083708863497866994148446463112770332007285758146696]
    settled = fb.pack_expiry_settled(1_700_000_000)
    assert bh.fill_chain([settled]) == [poseidon_hash([0, settled])]


def test_chain_is_poseidon_of_head_and_record():
    a = fb.pack_fill(fb.Fill(0, True, 100 * ONE, 1_700_000_000, -ONE))
    b = fb.pack_fill(fb.Fill(1, False, 90 * ONE, 1_700_000_000, ONE // 2))
    heads = bh.fill_chain([a, b])
    assert heads == [poseidon_hash([0, a]), poseidon_hash([poseidon_hash([0, a]), b])]
    assert bh.chain_head(heads[0], b) == heads[1]
    assert bh.fill_chain([b], head=heads[0]) == heads[1:]
    assert bh.fill_chain([b, a]) != heads  # order matters


def test_book_commitment_chains_the_slot_records():
    book = fb.empty_book(4)
    h = 0
    for j in range(4):
        h = poseidon_hash([h, fb.slot_record(j, book[j])])
    assert bh.book_commitment(book) == h
    assert h == 6032751096789635616315999875366561345361274904829962121803934853659457843694  # pinned, P = 4
    assert bh.book_commitment(fb.empty_book(5)) != h
    filled = fb.apply_fills(book, [fb.Fill(0, True, 100 * ONE, 1_700_000_000, -3 * ONE)])
    assert bh.book_commitment(filled) != h
    assert bh.book_commitment(fb.apply_fills(filled, [fb.ExpirySettled(1_700_000_000)])) == h  # settled: empty again
