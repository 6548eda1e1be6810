"""The vault's real book in fixed point: what circuits/book.py proves (docs/real-book.md).

The book is the vault's, not the solver's: P slots, each a series (expiry, strike, type) and
the vault's signed net position q in it. Every fill the vault records is one packed field
element (a *fill record*) appended to a Poseidon hash chain; a proof opens the last proven
book, applies the fills between two chain heads, and publishes the new book's commitment.
This module is the one definition of those integers, used by the circuit's witness, the
Python vault client and the tests:

- `pack_fill` / `unpack_fill`: the fill record, low bits first
  slot (8) | is_call (1) | strike - SPOT_MIN (80) | expiry (40) | dq + 2^72 (73): 202 bits;
- `pack_expiry_settled`: the chain's second kind of record, "expiry E settled" = E << 9: the
  expiry field 0 (no fill has expiry 0) marks it, E sits in the strike field, every other field
  is 0; applying it empties every slot of expiry E (its positions are paid by claims, not by
  the book). `pack_record` / `unpack_record` read and write either kind;
- `slot_record`: slot j's record, the fill-record packing of slot j with dq := q_j; an empty
  slot is (expiry 0, strike field 0, put, q = 0), packed the same way;
- `apply_fills`: the book after a run of chain records (a fill opens an empty slot or must
  match the series already there; a settlement empties its expiry's slots);
- the book's pricing and risk (per-slot Greeks and mid on the expiry's SVI smile, mark, net
  Greeks, the worst-case risk report with quote sizes, Durrleman's g(k)) follow below.

The hashes over these integers (the chain's heads, the book's commitment) are
circuits/book_hash.py's: engine imports no crypto (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

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


@dataclass(frozen=True)
class ExpirySettled:
    """The chain's second kind of record: the vault settled every series of `expiry` (unix s).
    Applying it empties each slot of that expiry: its positions are paid by claims from then on,
    so the next proof's book holds live expiries only."""

    expiry: int

    def __post_init__(self) -> None:
        if not 1 <= self.expiry <= EXPIRY_MAX:
            raise InvalidInput("settlement.expiry", "must be a unix time in [1, 2^40)", self.expiry)


ChainRecord = Fill | ExpirySettled
"""What the vault appends to the fill chain: a fill, or an expiry's settlement."""


def pack_expiry_settled(expiry: int) -> int:
    """The settlement record of `expiry`: E << STRIKE_OFFSET (= E·2^9). Its expiry field is 0,
    which no fill has (a fill's expiry is >= 1), and every field but the strike field, which
    carries E, is 0 (slot, type and the quantity field itself, not dq + 2^72)."""
    return ExpirySettled(expiry).expiry << STRIKE_OFFSET


def pack_record(record: ChainRecord) -> int:
    """The chain record of a fill (pack_fill) or of a settlement (pack_expiry_settled)."""
    if isinstance(record, ExpirySettled):
        return pack_expiry_settled(record.expiry)
    return pack_fill(record)


def unpack_record(record: int) -> ChainRecord:
    """The fill or settlement a chain record packs (the inverse of pack_record); InvalidInput
    for a record neither kind packs to."""
    if not 0 <= record < 1 << RECORD_BITS:
        raise InvalidInput("chain_record", f"must be an integer in [0, 2^{RECORD_BITS})", record)
    if _field(record, EXPIRY_OFFSET, EXPIRY_BITS):
        return unpack_fill(record)
    settled = _field(record, STRIKE_OFFSET, STRIKE_BITS)
    if record != settled << STRIKE_OFFSET or settled > EXPIRY_MAX:
        raise InvalidInput("chain_record", "expiry field 0 marks a settlement: only the strike field, "
                                           "holding an expiry below 2^40, may be non-zero", record)
    return ExpirySettled(settled)


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


def settle_expiry(book: Book, settled: ExpirySettled) -> Book:
    """The book after expiry E settled: every slot of expiry E emptied (series and position), the
    others unchanged; a no-op when no slot holds E."""
    return tuple(EMPTY_SLOT if slot.expiry == settled.expiry else slot for slot in book)


def apply_record(book: Book, record: ChainRecord) -> Book:
    """The book after one chain record of either kind."""
    if isinstance(record, ExpirySettled):
        return settle_expiry(book, record)
    return apply_fill(book, record)


def apply_fills(book: Book, fills: Iterable[ChainRecord], capacity: int | None = None) -> Book:
    """The book after the chain records (fills and settlements) in order; at most `capacity` of
    them (the circuit's F, which counts records of both kinds) when given."""
    fills = list(fills)
    if capacity is not None and len(fills) > capacity:
        raise BookCapacityExceeded(f"{len(fills)} chain records between two proofs; the circuit takes at most "
                                   f"{capacity}")
    for record in fills:
        book = apply_record(book, record)
    return book



# ---------------------------------------------------------------- pricing the book

YEAR_SECONDS = 365 * 24 * 3600
MAX_EXPIRIES = 4  # E: the book's live expiries, each with its own smile in the proof
MID_ABS_MAX = (1 << (fx.FRAC_BITS + 37)) - 1
"""|mid| <= 2^37 - 1: the window each slot's (and quote's) mid is range-checked to (circuits.layout)."""


@dataclass(frozen=True)
class ExpirySmile:
    """One of the proof's public expiries: its unix time and its SVI smile."""

    expiry: int
    svi: fx.SVIFixed

    def __post_init__(self) -> None:
        if not 1 <= self.expiry <= EXPIRY_MAX:
            raise InvalidInput("expiry", "must be a unix time in [1, 2^40)", self.expiry)


@dataclass(frozen=True)
class BookMarket:
    """What the book is priced on: spot (2^-48), the oracle's time (unix seconds), the governance
    rate and carry (2^-48), and the E public expiries in strictly increasing order (a repeated
    expiry would let two smiles price one expiry)."""

    spot: int
    now: int
    rate: int
    carry: int
    expiries: tuple[ExpirySmile, ...]

    def __post_init__(self) -> None:
        if not fx.SPOT_MIN <= self.spot <= fx.SPOT_MAX:
            raise InvalidInput("spot", "outside the fixed-point domain [2^-8, 2^32]", fx.from_fixed(self.spot))
        if not 0 <= self.now <= EXPIRY_MAX:
            raise InvalidInput("now", "must be a unix time in [0, 2^40)", self.now)
        if not self.expiries:
            raise InvalidInput("expiries", "at least one expiry")
        times = [e.expiry for e in self.expiries]
        if any(b <= a for a, b in zip(times, times[1:])):
            raise InvalidInput("expiries", "must be strictly increasing", times)
        for e in self.expiries:
            year_fraction(e.expiry, self.now)  # raises for an expired or too distant expiry

    def terms(self, index: int) -> fx.ExpiryTerms:
        return fx.expiry_terms(year_fraction(self.expiries[index].expiry, self.now), self.rate, self.carry)

    def expiry_index(self, expiry: int) -> int:
        for i, e in enumerate(self.expiries):
            if e.expiry == expiry:
                return i
        raise UnknownExpiry(f"expiry {expiry} is none of the proof's expiries "
                            f"{[e.expiry for e in self.expiries]}")


def year_fraction(expiry: int, now: int) -> int:
    """t = round((expiry - now) / YEAR_SECONDS) at 2^-48 (fx.div on the raw second counts),
    in (0, 4] years."""
    if expiry <= now:
        raise InvalidInput("expiry", f"expired (oracle time {now})", expiry)
    t = fx.div(expiry - now, YEAR_SECONDS)
    if not 1 <= t <= fx.T_MAX:
        raise InvalidInput("expiry", "more than 4 years away", expiry)
    return t


def position_product(quantity: int, per_contract: int) -> int:
    """round(q·g) at 2^-48, exactly the circuit's product; its width is bounded by the operands'
    windows (up to 2^109), not by fx.VALUE_BOUND."""
    return fx.round_shift(quantity * per_contract, fx.FRAC_BITS)


@dataclass(frozen=True)
class BookPricing:
    """Per-slot BSM (None for an empty slot), the mark Σ q·mid and the net Greeks Σ q·g."""

    slots: tuple[fx.FixedBSM | None, ...]
    mark: int
    net_delta: int
    net_gamma: int
    net_vega: int


def _check_mid(bsm: fx.FixedBSM, what: str) -> None:
    if not -MID_ABS_MAX <= bsm.price <= MID_ABS_MAX:
        raise fx.FixedPointOverflow(f"{what}: mid {fx.from_fixed(bsm.price):g} outside ±2^37")


def price_slot(market: BookMarket, slot: BookSlot) -> fx.FixedBSM:
    """A live slot's BSM on its expiry's smile at the market's spot, after the no-arbitrage check."""
    e = market.expiry_index(slot.expiry)
    terms = market.terms(e)
    svi = market.expiries[e].svi
    k = fx.forward_log_moneyness(market.spot, slot.strike, terms)
    require_no_butterfly(k, svi, f"strike {fx.from_fixed(slot.strike):g}")
    bsm = fx.bsm_fixed_svi(market.spot, slot.strike, terms, svi, slot.is_call)
    _check_mid(bsm, "slot")
    return bsm


def price_book(market: BookMarket, book: Sequence[BookSlot]) -> BookPricing:
    """Greeks and mid of every live slot, the mark and the net Greeks (one rounding per product).

    An empty slot contributes zero; the circuit prices it at a dummy point (strike = spot on the
    first expiry's smile), which must lie in the BSM domain too: it is priced here as well."""
    if len(book) > MAX_SLOTS:
        raise BookCapacityExceeded(f"{len(book)} slots; at most {MAX_SLOTS}")
    live_expiries = {s.expiry for s in book if not s.empty}
    if len(live_expiries) > len(market.expiries):
        raise BookCapacityExceeded(f"{len(live_expiries)} live expiries; the proof has {len(market.expiries)}")
    if any(s.empty for s in book):
        _check_mid(fx.bsm_fixed_svi(market.spot, market.spot, market.terms(0), market.expiries[0].svi, False),
                   "empty slot's dummy point")
    priced = tuple(None if s.empty else price_slot(market, s) for s in book)
    live = [(s, b) for s, b in zip(book, priced) if b is not None]
    return BookPricing(
        priced,
        sum(position_product(s.quantity, b.price) for s, b in live),
        sum(position_product(s.quantity, b.delta) for s, b in live),
        sum(position_product(s.quantity, b.gamma) for s, b in live),
        sum(position_product(s.quantity, b.vega) for s, b in live),
    )


# ---------------------------------------------------------------- Durrleman's condition


def durrleman_scaled(log_moneyness: int, svi: fx.SVIFixed) -> int:
    """G = R³·w²·g(k) for the SVI smile, in fixed point (one rounding per product, as the circuit).

    Durrleman (2005), Gatheral & Jacquier (2014), eq. 2.1: no butterfly arbitrage iff
    g(k) = (1 - k·w'/(2w))² - (w'²/4)(1/w + 1/4) + w''/2 >= 0. For raw SVI, with u = k - m,
    R = sqrt(u² + σ²), p = b·(ρR + u): w' = p/R and w'' = b·σ²/R³; multiplying by R³w² > 0
    removes every division:  G = R·(wR - k·p/2)² - R·p²·(w/4 + w²/16) + b·σ²·w²/2.
    """
    u = fx.sub(log_moneyness, svi.m)
    sigma_sq = fx.mul(svi.sigma, svi.sigma)
    root = fx.sqrt(fx.add(fx.mul(u, u), sigma_sq))
    w = fx.add(svi.a, fx.mul(svi.b, fx.add(fx.mul(svi.rho, u), root)))
    p = fx.mul(svi.b, fx.add(fx.mul(svi.rho, root), u))
    centre = fx.sub(fx.mul(w, root), fx.half(fx.mul(log_moneyness, p)))
    ww = fx.mul(w, w)
    w_quarter = fx.round_shift(4 * w + ww, 4)  # w/4 + w²/16
    first = fx.mul(root, fx.mul(centre, centre))
    second = fx.mul(root, fx.mul(fx.mul(p, p), w_quarter))
    third = fx.half(fx.mul(fx.mul(svi.b, sigma_sq), ww))
    return fx.add(fx.sub(first, second), third)


class ButterflyArbitrage(DLPEError):
    """The smile violates Durrleman's condition g(k) >= 0 at a quoted or book strike."""


def require_no_butterfly(log_moneyness: int, svi: fx.SVIFixed, where: str) -> None:
    g = durrleman_scaled(log_moneyness, svi)
    if g < 0:
        raise ButterflyArbitrage(f"{where}: Durrleman's g(k) < 0 at k = {fx.from_fixed(log_moneyness):.6g} "
                                 f"(R³w²g = {fx.from_fixed(g):.3g})")


def atm_total_variance(svi: fx.SVIFixed) -> int:
    """w(0), the smile's total variance at the forward (the vault bands its vol against an IV index)."""
    return fx.svi_total_variance(0, svi)


# ---------------------------------------------------------------- the worst case with the quotes

STRIKE_GRID_BITS = 32
"""Quoted strikes are multiples of 2^-16 (2^32 ulps) above SPOT_MIN: 48 bits in the packed quote."""
SIZE_GRID_BITS = 36
SIZE_BITS = 36
"""A quote's size is a multiple of 2^-12 contracts below 2^24 contracts: 36 bits in the packed quote."""


@dataclass(frozen=True)
class QuoteOrder:
    """One quote of a batch: strike (2^-48, on the 2^-16 grid), its expiry's index among the
    proof's expiries, type, half spread (2^-48) and size (contracts at 2^-48, on the 2^-12 grid):
    it may be filled up to `size` either way."""

    strike: int
    expiry_index: int
    is_call: bool
    half_spread: int
    size: int

    def __post_init__(self) -> None:
        if not fx.SPOT_MIN <= self.strike <= fx.SPOT_MAX or (self.strike - fx.SPOT_MIN) % (1 << STRIKE_GRID_BITS):
            raise InvalidInput("quote.strike", "must be SPOT_MIN plus a multiple of 2^-16 inside [2^-8, 2^32]",
                               fx.from_fixed(self.strike))
        if not 0 <= self.size < 1 << (SIZE_GRID_BITS + SIZE_BITS) or self.size % (1 << SIZE_GRID_BITS):
            raise InvalidInput("quote.size", "must be a multiple of 2^-12 contracts in [0, 2^24)",
                               fx.from_fixed(self.size))
        if not 0 <= self.expiry_index < MAX_EXPIRIES:
            raise InvalidInput("quote.expiry_index", f"must be in [0, {MAX_EXPIRIES})", self.expiry_index)


@dataclass(frozen=True)
class BookRiskReport:
    """The book's net Greeks, the quotes' exposure A_g = Σ size·|g|, the loss bound of each
    spot row of the grid (worst vol point, quotes filled the worst way, margin included), the
    worst loss max(0, rows), and which limits break (risk_ok = no breach)."""

    net_delta: int
    net_gamma: int
    net_vega: int
    exposure_delta: int
    exposure_gamma: int
    exposure_vega: int
    row_losses: tuple[int, ...]
    worst_loss: int
    breaches: tuple[str, ...]

    @property
    def risk_ok(self) -> bool:
        return not self.breaches


def row_losses(net_delta: int, net_gamma: int, net_vega: int, exposure: tuple[int, int, int], spot: int,
               margin: int) -> tuple[int, ...]:
    """Per spot move m - 1 of the grid (dS = S·(m - 1)):
    -(Δ·dS + Γ/2·dS²) + |V·0.1| + |dS|·A_Δ + (dS²/2)·A_Γ + 0.1·A_V + margin, one rounding per product.
    The book's loss at the row's worst vol point, plus the most the quotes' fills could add."""
    a_delta, a_gamma, a_vega = exposure
    half_gamma = fx.half(net_gamma)
    half_a_gamma = fx.half(a_gamma)
    abs_vega_up = abs(position_product(net_vega, fr.VOL_SHIFT))
    fill_vega = position_product(a_vega, fr.VOL_SHIFT)
    rows = []
    for move in fr.SPOT_MOVES:
        d_spot = position_product(spot, move)
        d_spot_sq = position_product(d_spot, d_spot)
        spot_term = position_product(net_delta, d_spot) + position_product(half_gamma, d_spot_sq)
        fills = position_product(abs(d_spot), a_delta) + position_product(half_a_gamma, d_spot_sq) + fill_vega
        rows.append(-spot_term + abs_vega_up + fills + margin)
    return tuple(rows)


def quote_bsm(market: BookMarket, quote: QuoteOrder) -> fx.FixedBSM:
    """The quoted option's BSM on its expiry's smile, after the no-arbitrage check at its strike."""
    if quote.expiry_index >= len(market.expiries):
        raise UnknownExpiry(f"quote expiry index {quote.expiry_index}; the proof has {len(market.expiries)} expiries")
    terms = market.terms(quote.expiry_index)
    svi = market.expiries[quote.expiry_index].svi
    require_no_butterfly(fx.forward_log_moneyness(market.spot, quote.strike, terms), svi,
                         f"quote strike {fx.from_fixed(quote.strike):g}")
    bsm = fx.bsm_fixed_svi(market.spot, quote.strike, terms, svi, quote.is_call)
    _check_mid(bsm, "quote")
    return bsm


def quote_exposure(quotes: Sequence[tuple[QuoteOrder, fx.FixedBSM]]) -> tuple[int, int, int]:
    """(A_Δ, A_Γ, A_V) = Σ size·|g| over the quotes: the most their fills can move each net Greek
    (Greeks are linear in quantity; |Γ| and |V| also where rounding leaves them a hair below 0)."""
    return (sum(position_product(q.size, abs(b.delta)) for q, b in quotes),
            sum(position_product(q.size, abs(b.gamma)) for q, b in quotes),
            sum(position_product(q.size, abs(b.vega)) for q, b in quotes))


def book_risk_report(pricing: BookPricing, quotes: Sequence[tuple[QuoteOrder, fx.FixedBSM]],
                     limits: fr.RiskLimitsFixed, spot: int, margin: int) -> BookRiskReport:
    """The worst case of the book after any fills of the quotes up to their sizes (docs/real-book.md §4):
    |net_g| + A_g <= limit_g, and worst_loss <= max_loss."""
    if not 0 <= margin < 1 << fr.LIMIT_BITS:
        raise InvalidInput("margin", f"must lie in [0, 2^{fr.LIMIT_BITS - 48})", fx.from_fixed(margin))
    exposure = quote_exposure(quotes)
    rows = row_losses(pricing.net_delta, pricing.net_gamma, pricing.net_vega, exposure, spot, margin)
    worst = max(0, *rows)
    breaches = tuple(name for name, value, limit in (
        ("delta", abs(pricing.net_delta) + exposure[0], limits.max_abs_delta),
        ("gamma", abs(pricing.net_gamma) + exposure[1], limits.max_abs_gamma),
        ("vega", abs(pricing.net_vega) + exposure[2], limits.max_abs_vega),
        ("scenario_loss", worst, limits.max_loss)) if value > limit)
    return BookRiskReport(pricing.net_delta, pricing.net_gamma, pricing.net_vega, *exposure, rows, worst, breaches)


def worst_loss(pricing: BookPricing, quotes: Sequence[tuple[QuoteOrder, fx.FixedBSM]], spot: int, margin: int) -> int:
    """max(0, every row's loss bound): the public output the vault checks solvency against."""
    exposure = quote_exposure(quotes)
    return max(0, *row_losses(pricing.net_delta, pricing.net_gamma, pricing.net_vega, exposure, spot, margin))
