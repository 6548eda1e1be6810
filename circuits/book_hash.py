"""The Poseidon side of the vault's book: the fill chain's heads and the book's commitment.

docs/real-book.md: the vault appends every chain record (engine.fixed_book.pack_record: a fill or
an expiry settlement) to a hash chain, head_0 = 0, head_{k+1} = Poseidon(head_k, record_k), and
commits to a book of P slots as h_P, h_0 = 0, h_{j+1} = Poseidon(h_j, slot_record_j)
(engine.fixed_book.slot_record). Poseidon is circomlib's for two inputs (t = 3,
circuits.poseidon), the hash the circuit opens (circuits/book.py) and PoseidonT3.sol computes.

These live in circuits/, not engine/: engine holds the book's integers and imports no crypto
(DESIGN.md); the hashes over them are the circuit's.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from circuits.poseidon import poseidon_hash
from engine import fixed_book as fb


def chain_head(head: int, record: int) -> int:
    """head_{k+1} = Poseidon(head_k, record_k) (circomlib's Poseidon(2))."""
    return poseidon_hash([head, record])


def fill_chain(records: Iterable[int], head: int = 0) -> list[int]:
    """The heads after each record, starting from `head` (head_0 = 0 for the vault's first record)."""
    heads = []
    for record in records:
        head = chain_head(head, record)
        heads.append(head)
    return heads


def book_commitment(book: Sequence[fb.BookSlot]) -> int:
    """C(book) = h_P, h_0 = 0, h_{j+1} = Poseidon(h_j, slot_record_j)."""
    h = 0
    for j, slot in enumerate(book):
        h = chain_head(h, fb.slot_record(j, slot))
    return h
