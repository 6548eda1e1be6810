"""From the pipeline's quotes to a book batch the vault will check: the service's cut.

    spec = BookSpec()                                   # the circuit's P, F, E, N and the quoted size
    plan = plan_book_batch(quotes, settlement, spec=spec, config=config, state_salt=salt)
    plan.request                                        # a circuits.book_batch.BookBatchRequest

Everything the vault fixes is read from the chain by solver.settlement.Settlement.book_request: the
oracle's spot and time, governance's rate, carry, limits and margin, the next nonce, the book as of
the last proof and every fill recorded since. What the solver chooses is chosen here:

- the expiries (E of them, increasing): every expiry the book holds a series of (the proof prices
  the whole book), then the nearest expiry with enough live quotes, then the next listed ones, and
  past the listed ones a 30-day step; each gets the pipeline's smile at its time (pipeline.svi_at);
- the quotes: the N live quotes of the chosen expiry nearest the money, `spec.quote_size` contracts
  each, half spread the larger of the engine's and the policy's floor on the book as proven (the
  circuit's own rule, in fixed point, so the floor is met exactly).

Each smile's ATM vol must lie within governance's band around the IV index the vault reads; a cut
that would break it is refused here (NothingToBatch) rather than proven and then reverted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from circuits import book_batch as bb
from engine import fixed as fx
from engine import fixed_book as fb
from engine.errors import InvalidInput
from engine.fixed_quote import PolicyFixed
from engine.regime import Regime
from solver.pipeline import BatchLimits, NothingToBatch, PipelineConfig, QuoteSet, svi_at
from solver.settlement import BookCapacity, Settlement, on_size_grid, quote_at_floor

DAY = 86_400
FILLER_STEP_S = 30 * DAY
"""Expiries past the listed ones (the circuit always proves E of them) are spaced this far apart."""


@dataclass(frozen=True)
class BookSpec:
    """The book batch circuit the service proves (the smallest by default) and how it quotes."""

    capacity: BookCapacity = BookCapacity(slots=4, fills=2, expiries=2, quotes=1)
    quote_size: float = 1.0
    """Contracts offered each way per quote (floored to the 2^-12 contract grid)."""
    limits: BatchLimits = BatchLimits()
    """The limits a vault the service deploys starts with (governance may change them)."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.quote_size) and self.quote_size > 0):
            raise InvalidInput("quote_size", "must be finite and > 0", self.quote_size)


@dataclass(frozen=True)
class BookPlan:
    """A cut: the request, the expiry its quotes are on, and the quoted instruments' names."""

    request: bb.BookBatchRequest
    expiry: int
    instruments: tuple[str, ...]


def book_expiries(book: fb.Book, oracle_time: int) -> list[int]:
    """The expiries the book holds series of; NothingToBatch if one has passed (it must be settled first)."""
    held = sorted({slot.expiry for slot in book if not slot.empty})
    expired = [e for e in held if e <= oracle_time]
    if expired:
        raise NothingToBatch(f"the book holds series expired at {expired} (oracle time {oracle_time}): "
                             "settle them before proving another batch")
    return held


def choose_expiries(held: list[int], listed: list[int], quoted: int, count: int) -> tuple[int, ...]:
    """`count` increasing expiries: the held ones and `quoted`, then listed ones, then 30-day steps."""
    chosen = set(held) | {quoted}
    if len(chosen) > count:
        raise NothingToBatch(f"the book and the quotes span {len(chosen)} expiries; the circuit proves {count}")
    for e in listed:
        if len(chosen) == count:
            break
        chosen.add(e)
    while len(chosen) < count:
        chosen.add(max(chosen) + FILLER_STEP_S)
    return tuple(sorted(chosen))


def expiry_smile(quotes: QuoteSet, expiry: int, oracle_time: int) -> fb.ExpirySmile:
    """The pipeline's smile at `expiry`, at 2^-48 (InvalidInput when outside the circuit's SVI domain)."""
    assert quotes.surface is not None
    t = fx.from_fixed(fb.year_fraction(expiry, oracle_time))
    p = svi_at(quotes.surface, t)
    f = fx.to_fixed
    return fb.ExpirySmile(expiry, fx.SVIFixed(a=f(p.a), b=f(p.b), rho=f(p.rho), m=f(p.m), sigma=f(p.sigma)))


def require_in_band(smiles: tuple[fb.ExpirySmile, ...], oracle_time: int, iv_index: int, band: int) -> None:
    """NothingToBatch unless each smile's ATM vol is within `band` of `iv_index` (the vault's check,
    BatchChecks.requireAtmVolInBand, on the same integers)."""
    lo, hi = max(iv_index - band, 0), iv_index + band
    for e in smiles:
        scaled = fb.atm_total_variance(e.svi) * fx.ONE * fb.YEAR_SECONDS
        seconds = e.expiry - oracle_time
        if lo * lo * seconds > scaled or scaled > hi * hi * seconds:
            vol = math.sqrt(max(fx.from_fixed(fb.atm_total_variance(e.svi)), 0.0) * fb.YEAR_SECONDS / seconds)
            raise NothingToBatch(f"the smile of expiry {e.expiry} has ATM vol {vol:.4f}, outside the vault's band "
                                 f"{fx.from_fixed(iv_index):.4f} ± {fx.from_fixed(band):.4f}")


def plan_book_batch(quotes: QuoteSet, settlement: Settlement, *, spec: BookSpec, config: PipelineConfig,
                    state_salt: int) -> BookPlan:
    """The book batch to prove now over the vault's book (see the module doc); NothingToBatch when none can be cut."""
    if quotes.withheld is not None or quotes.surface is None or quotes.greeks is None:
        raise NothingToBatch(f"no live quotes ({quotes.withheld.value if quotes.withheld else 'no surface'})")
    stack = settlement.stack
    spot, oracle_time = stack.oracle.latest()
    if oracle_time == 0:
        raise NothingToBatch("the oracle has no price yet")
    iv_index, iv_time = stack.iv_oracle.latest()
    if iv_time == 0:
        raise NothingToBatch("the implied-vol index has no value yet")
    n_quotes = settlement.capacity.quotes
    by_expiry: dict[int, list] = {}
    for q in quotes.quotes:
        if q.is_live:
            by_expiry.setdefault(int(q.instrument.expiry_datetime().timestamp()), []).append(q)
    listed = sorted(e for e in by_expiry if e > oracle_time)
    candidates = [e for e in listed if len(by_expiry[e]) >= n_quotes]
    if not candidates:
        raise NothingToBatch(f"no expiry has {n_quotes} live quote(s) after the oracle's time")
    book = settlement.vault_book()
    current = book.current
    # the book after the pending records: a settled expiry has left it, though the proven book keeps
    # its slots until this proof (the circuit prices only the new book's slots)
    held = book_expiries(current, oracle_time)
    quoted = next((e for e in candidates if len(set(held) | {e}) <= settlement.capacity.expiries), None)
    if quoted is None:
        raise NothingToBatch(f"the book already spans {len(held)} expiries: no room for a quoted one")
    expiries = choose_expiries(held, listed, quoted, settlement.capacity.expiries)
    smiles = tuple(expiry_smile(quotes, e, oracle_time) for e in expiries)
    settings = stack.vault.state().market_settings
    require_in_band(smiles, oracle_time, iv_index, settings.iv_band)
    market = fb.BookMarket(spot, oracle_time, settings.rate, settings.carry, smiles)

    spot_float = fx.from_fixed(spot)
    chosen = sorted(by_expiry[quoted], key=lambda q: abs(math.log(q.instrument.strike / spot_float)))[:n_quotes]
    chosen.sort(key=lambda q: q.instrument.strike)
    policy = PolicyFixed.from_policy(config.policy)
    high_vol = quotes.regime is Regime.HIGH_VOL
    size = on_size_grid(fx.to_fixed(spec.quote_size))
    index = expiries.index(quoted)
    orders = []
    for q in chosen:
        floor = quote_at_floor(market, current, fx.to_fixed(q.instrument.strike), index, q.instrument.is_call, size,
                               policy, high_vol)
        orders.append(fb.QuoteOrder(floor.strike, index, floor.is_call,
                                    max(floor.half_spread, fx.to_fixed(q.half_spread)), size))
    request = settlement.book_request(smiles, orders, policy=policy, state_salt=state_salt, high_vol=high_vol)
    if (request.market.spot, request.market.now) != (spot, oracle_time):
        raise NothingToBatch("the oracle posted while the batch was planned")
    return BookPlan(request, quoted, tuple(q.instrument.name for q in chosen))
