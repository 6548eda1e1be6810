"""The vault's real book in fixed point: what circuits/book.py proves (docs/real-book.md).

The book is the vault's, not the solver's: P slots, each a series (expiry, strike, type) and
the vault's signed net position q in it. Every fill the vault records is one packed field
element (a *fill record*) appended to a Poseidon hash chain; a proof opens the last proven
book, applies the fills between two chain heads, and publishes the new book's commitment.
This module is the one definition of those integers, used by the circuit's witness, the
Python vault client and the tests:

- `pack_fill` / `unpack_fill`: the fill record, low bits first
  slot (8) | is_call (1) | strike - SPOT_MIN (80) | expiry (40) | dq + 2^72 (73): 202 bits;
- `chain_head`, `fill_chain`: head_{k+1} = Poseidon(head_k, record_k), head_0 = 0;
- `slot_record`, `book_commitment`: h_{j+1} = Poseidon(h_j, slot_record_j), h_0 = 0, where a
  slot's record is the fill-record packing of slot j with dq := q_j; an empty slot is
  (expiry 0, strike field 0, put, q = 0), packed the same way;
- `apply_fills`: the book after a run of fills (a fill opens an empty slot or must match the
  series already there);
- the book's pricing and risk (per-slot Greeks and mid on the expiry's SVI smile, mark, net
  Greeks, the worst-case risk report with quote sizes, Durrleman's g(k)) follow below.

Poseidon is circomlib's (circuits.poseidon, pure F_r arithmetic over BN254 constants).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from circuits.poseidon import poseidon_hash
from engine import fixed as fx
from engine import fixed_risk as fr
from engine.errors import DLPEError, InvalidInput

# ---------------------------------------------------------------- fill record packing

SLOT_BITS = 8
FLAG_BITS = 1
STRIKE_BITS = (fx.SPOT_MAX - fx.SPOT_MIN).bit_length()  # 80: the strike window [SPOT_MIN, SPOT_MIN + 2^80)
EXPIRY_BITS = 40  # unix seconds, uint40
QUANTITY_FIELD_BITS = fr.QUANTITY_BITS + 1  # dq + 2^72 in [0, 2^73)

IS_CALL_OFFSET = SLOT_BITS
STRIKE_OFFSET = IS_CALL_OFFSET + FLAG_BITS
EXPIRY_OFFSET = STRIKE_OFFSET + STRIKE_BITS
QUANTITY_OFFSET = EXPIRY_OFFSET + EXPIRY_BITS
RECORD_BITS = QUANTITY_OFFSET + QUANTITY_FIELD_BITS
assert RECORD_BITS < 253, "a fill record must stay one field element below 2^253"

MAX_SLOTS = 1 << SLOT_BITS
QUANTITY_BIAS = 1 << fr.QUANTITY_BITS
QUANTITY_MIN, QUANTITY_MAX = -(1 << fr.QUANTITY_BITS), (1 << fr.QUANTITY_BITS) - 1
"""A position or a fill's change, at 2^-48: [-2^24, 2^24) contracts (engine.fixed_risk.QUANTITY_BITS)."""
EXPIRY_MAX = (1 << EXPIRY_BITS) - 1


class BookCapacityExceeded(DLPEError):
    """More series, expiries or fills than the circuit's capacity (the vault refuses such a fill)."""


class SeriesMismatch(DLPEError):
    """A fill names a slot that holds another series."""


class UnknownExpiry(DLPEError):
    """A live slot's expiry is none of the proof's public expiries."""


@dataclass(frozen=True)
class Fill:
    """One fill the vault recorded: its book slot, the series, and dq, the change of the vault's
    position at 2^-48 (a taker buying n contracts gives dq = -n)."""

    slot: int
    is_call: bool
    strike: int
    expiry: int
    dq: int

    def __post_init__(self) -> None:
        _check_series("fill", self.slot, self.strike, self.expiry)
        if not QUANTITY_MIN <= self.dq <= QUANTITY_MAX:
            raise InvalidInput("fill.dq", f"must lie in [-2^{fr.QUANTITY_BITS - 48}, 2^{fr.QUANTITY_BITS - 48}) "
                                          "contracts", fx.from_fixed(self.dq))
        if not isinstance(self.is_call, bool):
            raise InvalidInput("fill.is_call", "must be a bool", self.is_call)


def _check_series(what: str, slot: int, strike: int, expiry: int) -> None:
    if not 0 <= slot < MAX_SLOTS:
        raise InvalidInput(f"{what}.slot", f"must be in [0, {MAX_SLOTS})", slot)
    if not 1 <= expiry <= EXPIRY_MAX:
        raise InvalidInput(f"{what}.expiry", "must be a unix time in [1, 2^40)", expiry)
    if not fx.SPOT_MIN <= strike <= fx.SPOT_MAX:
        raise InvalidInput(f"{what}.strike", "outside the fixed-point domain [2^-8, 2^32]", fx.from_fixed(strike))


def _pack(slot: int, is_call: bool, strike_field: int, expiry: int, quantity: int) -> int:
    return (slot | int(is_call) << IS_CALL_OFFSET | strike_field << STRIKE_OFFSET | expiry << EXPIRY_OFFSET
            | (quantity + QUANTITY_BIAS) << QUANTITY_OFFSET)


def pack_fill(fill: Fill) -> int:
    """The fill record: slot | is_call | strike - SPOT_MIN | expiry | dq + 2^72, low bits first."""
    return _pack(fill.slot, fill.is_call, fill.strike - fx.SPOT_MIN, fill.expiry, fill.dq)


def _field(record: int, offset: int, bits: int) -> int:
    return (record >> offset) & ((1 << bits) - 1)


def unpack_fill(record: int) -> Fill:
    """The fill a record packs (the inverse of pack_fill); InvalidInput for a record no fill packs to."""
    if not 0 <= record < 1 << RECORD_BITS:
        raise InvalidInput("fill_record", f"must be an integer in [0, 2^{RECORD_BITS})", record)
    fill = Fill(_field(record, 0, SLOT_BITS), bool(_field(record, IS_CALL_OFFSET, FLAG_BITS)),
                _field(record, STRIKE_OFFSET, STRIKE_BITS) + fx.SPOT_MIN, _field(record, EXPIRY_OFFSET, EXPIRY_BITS),
                _field(record, QUANTITY_OFFSET, QUANTITY_FIELD_BITS) - QUANTITY_BIAS)
    return fill


# ---------------------------------------------------------------- the book and its commitment


@dataclass(frozen=True)
class BookSlot:
    """One slot: a series and the vault's net position q in it (2^-48 contracts, short negative).
    The empty slot is expiry 0, strike 0, put, q 0."""

    expiry: int
    strike: int
    is_call: bool
    quantity: int

    @property
    def empty(self) -> bool:
        return self.expiry == 0

    def __post_init__(self) -> None:
        if self.expiry == 0:
            if (self.strike, self.is_call, self.quantity) != (0, False, 0):
                raise InvalidInput("slot", "an empty slot (expiry 0) has strike 0, is_call False and quantity 0")
            return
        _check_series("slot", 0, self.strike, self.expiry)
        if not QUANTITY_MIN <= self.quantity <= QUANTITY_MAX:
            raise InvalidInput("slot.quantity", f"must lie in [-2^{fr.QUANTITY_BITS - 48}, "
                                                f"2^{fr.QUANTITY_BITS - 48}) contracts", fx.from_fixed(self.quantity))


EMPTY_SLOT = BookSlot(0, 0, False, 0)

Book = tuple[BookSlot, ...]


def empty_book(capacity: int) -> Book:
    """P empty slots."""
    if not 1 <= capacity <= MAX_SLOTS:
        raise InvalidInput("capacity", f"must be in [1, {MAX_SLOTS}]", capacity)
    return (EMPTY_SLOT,) * capacity


def slot_record(index: int, slot: BookSlot) -> int:
    """Slot j's record: the fill-record packing of (j, series, dq := q_j); an empty slot packs its
    strike field as 0 (it has no strike in the window)."""
    if not 0 <= index < MAX_SLOTS:
        raise InvalidInput("slot index", f"must be in [0, {MAX_SLOTS})", index)
    strike_field = 0 if slot.empty else slot.strike - fx.SPOT_MIN
    return _pack(index, slot.is_call, strike_field, slot.expiry, slot.quantity)


def chain_head(head: int, record: int) -> int:
    """head_{k+1} = Poseidon(head_k, record_k) (circomlib's Poseidon(2))."""
    return poseidon_hash([head, record])


def fill_chain(records: Iterable[int], head: int = 0) -> list[int]:
    """The heads after each record, starting from `head` (head_0 = 0 for the vault's first fill)."""
    heads = []
    for record in records:
        head = chain_head(head, record)
        heads.append(head)
    return heads


def book_commitment(book: Sequence[BookSlot]) -> int:
    """C(book) = h_P, h_0 = 0, h_{j+1} = Poseidon(h_j, slot_record_j)."""
    h = 0
    for j, slot in enumerate(book):
        h = chain_head(h, slot_record(j, slot))
    return h


def apply_fill(book: Book, fill: Fill) -> Book:
    """The book after one fill: the fill's slot is empty (it takes the fill's series) or holds that
    very series; its position changes by dq."""
    if fill.slot >= len(book):
        raise BookCapacityExceeded(f"fill for slot {fill.slot}: the book has {len(book)} slots")
    slot = book[fill.slot]
    if not slot.empty and (slot.expiry, slot.strike, slot.is_call) != (fill.expiry, fill.strike, fill.is_call):
        raise SeriesMismatch(f"fill for slot {fill.slot} names expiry {fill.expiry}, strike "
                             f"{fx.from_fixed(fill.strike):g}, {'call' if fill.is_call else 'put'}; the slot holds "
                             f"expiry {slot.expiry}, strike {fx.from_fixed(slot.strike):g}, "
                             f"{'call' if slot.is_call else 'put'}")
    quantity = slot.quantity + fill.dq
    if not QUANTITY_MIN <= quantity <= QUANTITY_MAX:
        raise BookCapacityExceeded(f"slot {fill.slot}: position {fx.from_fixed(quantity):g} contracts leaves "
                                   f"[-2^{fr.QUANTITY_BITS - 48}, 2^{fr.QUANTITY_BITS - 48})")
    updated = BookSlot(fill.expiry, fill.strike, fill.is_call, quantity)
    return book[:fill.slot] + (updated,) + book[fill.slot + 1:]


def apply_fills(book: Book, fills: Iterable[Fill], capacity: int | None = None) -> Book:
    """The book after the fills in order; at most `capacity` fills (the circuit's F) when given."""
    fills = list(fills)
    if capacity is not None and len(fills) > capacity:
        raise BookCapacityExceeded(f"{len(fills)} fills between two proofs; the circuit takes at most {capacity}")
    for fill in fills:
        book = apply_fill(book, fill)
    return book

