"""The solver's one pipeline: market data -> oracle -> regime -> surface -> risk -> quotes -> batch request.

    pipeline = QuotingPipeline(PipelineConfig(), instruments, warmup_returns, warmup_liquidation)
    quotes = pipeline.on_tick(tick, portfolio)                 # a QuoteSet: quotes, regime, risk
    plan = plan_batch(quotes, portfolio, oracle, spec)          # one expiry, in the engine's floats
    request = to_batch_request(plan)                            # the only float -> fixed conversion

Each tick (a MarketTick from solver.feeds) is aggregated by engine.oracle (median of healthy
feeds), the log return and liquidation volume update the regime detector (engine.regime), the
SVI surface is refitted when the tick carries observed smiles and otherwise follows the IV index
(engine.svi, engine.surface; repaired when arbitrageable), the book's Greeks, scenario grid and
VaR feed the circuit breaker (engine.risk), and engine.quoting turns surface and inventory into
bid/ask quotes. No quotes are shown while the oracle fails, the breaker is paused, or the market
is in a liquidation cascade; the QuoteSet says which.

The demo, the simulation study (study/) and the service (solver/service/) all call this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum

import numpy as np

from circuits.batch import BatchRequest, QuoteLine
from engine import fixed as fx
from engine.bsm import bsm_greeks
from engine.errors import DLPEError, InvalidInput
from engine.fixed_quote import PolicyFixed
from engine.fixed_risk import PositionFixed, RiskLimitsFixed
from engine.instruments import OptionInstrument
from engine.oracle import DEFAULT_CONFIGS, FeedKind, FeedQuote, InsufficientSources, MarketSnapshot, OracleConfig
from engine.oracle import aggregate_market
from engine.quoting import Inventory, Quote, QuotePolicy, min_half_spread, quote_options
from engine.regime import Regime, RegimeConfig, RegimeDetector, fit_vol_regime_model
from engine.risk import (
    BreakerState,
    CircuitBreaker,
    MarketState,
    Portfolio,
    PortfolioGreeks,
    RiskLimits,
    RiskMetrics,
    ScenarioResult,
    capital_utilization,
    delta_gamma_var,
    portfolio_greeks,
    scenario_grid_loss,
)
from engine.surface import SurfaceSlice, VolSurface, log_moneyness
from engine.svi import SviParams, fit_svi

Smile = tuple[float, np.ndarray, np.ndarray]
"""Implied vols observed elsewhere for one expiry: (t years, log-moneyness k, vols)."""


@dataclass(frozen=True)
class MarketTick:
    """One observation of the market, as every feed delivers it.

    timestamp: Unix seconds of the observation; feeds: each source's report per kind;
    liquidation_volume: units of underlying liquidated since the previous tick;
    smiles: observed smiles (refit the surface), or None between refits.
    """

    timestamp: float
    feeds: dict[FeedKind, list[FeedQuote]]
    liquidation_volume: float
    smiles: tuple[Smile, ...] | None = None

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc)


@dataclass(frozen=True)
class PipelineConfig:
    """What the pipeline holds fixed (policy, limits, thresholds); defaults suit a BTC chain."""

    policy: QuotePolicy = QuotePolicy()
    limits: RiskLimits = RiskLimits(max_var=3_000.0, max_scenario_loss=40_000.0, max_utilization=0.02)
    regime: RegimeConfig = RegimeConfig()
    oracle: dict[FeedKind, OracleConfig] = field(default_factory=lambda: dict(DEFAULT_CONFIGS))
    rate: float = 0.0
    capital: float = 2_000_000.0
    var_horizon_years: float = 1.0 / (365.0 * 24.0)
    regime_clip_mads: float = 3.0
    warm_filter_steps: int = 240  # history replayed through the regime filter before the first tick


class Withheld(Enum):
    """Why a tick produced no live quotes."""

    ORACLE = "oracle"  # too few healthy feeds
    NO_SURFACE = "no_surface"  # no smile observed yet
    BREAKER = "breaker"  # the circuit breaker is paused
    CASCADE = "liquidation_cascade"


@dataclass(frozen=True)
class QuoteSet:
    """The pipeline's answer to one tick. ``quotes`` follow the instruments' order (unexpired ones only)."""

    timestamp: float
    snapshot: MarketSnapshot | None
    regime: Regime
    breaker: BreakerState
    surface: VolSurface | None
    greeks: PortfolioGreeks | None
    metrics: RiskMetrics | None
    scenarios: ScenarioResult | None
    quotes: tuple[Quote, ...]
    withheld: Withheld | None

    @property
    def spot(self) -> float | None:
        return None if self.snapshot is None else self.snapshot.spot.value

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc)


class QuotingPipeline:
    """Oracle -> regime -> surface -> risk/breaker -> quotes, one tick at a time (see the module doc)."""

    def __init__(
        self,
        config: PipelineConfig,
        instruments: list[OptionInstrument] | tuple[OptionInstrument, ...],
        warmup_returns: np.ndarray,
        warmup_liquidation: np.ndarray,
    ):
        if len(instruments) == 0:
            raise InvalidInput("instruments", "the pipeline needs at least one option to quote", 0)
        self.config = config
        self.instruments = tuple(instruments)
        model = fit_vol_regime_model(warmup_returns, clip_mads=config.regime_clip_mads)
        self.detector = RegimeDetector(model, config.regime)
        n = config.warm_filter_steps
        for r, v in zip(warmup_returns[-n:], warmup_liquidation[-n:]):
            self.detector.update(float(r), float(v))  # warm the filter and the liquidation baseline
        self.breaker = CircuitBreaker(config.limits)
        self.surface: VolSurface | None = None
        self.fit_index = 1.0
        self.iv_index = 1.0
        self.spot: float | None = None
        self.flow_signed = 0.0
        self.flow_total = 1e-9
        self.updates = 0
        self.oracle_failures = 0
        self.surface_repairs = 0

    def on_tick(self, tick: MarketTick, portfolio: Portfolio) -> QuoteSet:
        """Quotes for ``tick`` given the current book (see the module doc for when none are live)."""
        self.updates += 1
        try:
            snap = aggregate_market(tick.feeds, tick.timestamp, self.config.oracle)
        except InsufficientSources:
            self.oracle_failures += 1
            return self._withheld(tick, None, Withheld.ORACLE)
        spot = snap.spot.value
        ret = 0.0 if self.spot is None else math.log(spot / self.spot)
        self.spot = spot
        regime = self.detector.update(ret, tick.liquidation_volume).regime
        self.iv_index = snap.iv_index.value
        if tick.smiles:
            self._refit(tick.smiles, self.iv_index)
        if self.surface is None:
            return self._withheld(tick, snap, Withheld.NO_SURFACE)
        surface = self.surface_now()
        now = tick.time
        market = MarketState(spot, self.config.rate, surface, now)
        greeks = portfolio_greeks(portfolio, market)
        scenarios = scenario_grid_loss(portfolio, market)
        var = delta_gamma_var(greeks.delta, greeks.gamma, spot, self.iv_index, self.config.var_horizon_years)
        metrics = RiskMetrics(
            var, scenarios.worst_loss_full, capital_utilization(scenarios.worst_loss_full, self.config.capital)
        )
        state = self.breaker.update(metrics, self.updates)
        withheld = (
            Withheld.BREAKER if state is BreakerState.PAUSED
            else Withheld.CASCADE if regime is Regime.LIQUIDATION_CASCADE
            else None
        )
        quotes: tuple[Quote, ...] = ()
        if withheld is None:
            live = [i for i in self.instruments if i.time_to_expiry(now) > 0]
            t = np.array([i.time_to_expiry(now) for i in live])
            flow = float(np.clip(self.flow_signed / self.flow_total, -1.0, 1.0))
            inventory = Inventory(greeks.delta, greeks.vega, flow)
            quotes = tuple(
                quote_options(live, t, spot, self.config.rate, surface, inventory, regime, self.config.policy)
            )
        return QuoteSet(tick.timestamp, snap, regime, state, surface, greeks, metrics, scenarios, quotes, withheld)

    def _withheld(self, tick: MarketTick, snap: MarketSnapshot | None, reason: Withheld) -> QuoteSet:
        return QuoteSet(tick.timestamp, snap, self.detector.regime, self.breaker.state, None, None, None, None, (),
                        reason)

    def _refit(self, smiles: tuple[Smile, ...], ivx: float) -> None:
        # warm start each expiry from its previous fit: the smile moves little between refits
        previous = [s.params for s in self.surface.slices] if self.surface else [None] * len(smiles)
        if len(previous) != len(smiles):
            previous = [None] * len(smiles)
        slices = [SurfaceSlice(t, fit_svi(k, v, t, initial=prev).params) for (t, k, v), prev in zip(smiles, previous)]
        surface = VolSurface(slices)
        if not surface.check_arbitrage().is_arbitrage_free:
            surface = surface.repaired()
            self.surface_repairs += 1
        self.surface = surface
        self.fit_index = ivx

    def surface_now(self) -> VolSurface:
        """The last fitted surface, its variance scaled by the IV index's move since the fit."""
        if self.surface is None:
            raise PipelineNotReady("no surface yet: no smile has been observed")
        return self.surface.scaled((self.iv_index / self.fit_index) ** 2)

    def on_trades(self, taker_buys: float, taker_sells: float) -> None:
        """Fold the step's taker volume (contracts) into the signed-flow signal (30-update memory)."""
        decay = math.exp(-1.0 / 30.0)
        self.flow_signed = decay * self.flow_signed + taker_buys - taker_sells
        self.flow_total = decay * self.flow_total + taker_buys + taker_sells


class PipelineNotReady(DLPEError):
    """The pipeline cannot answer yet (no surface, no quotes)."""


# -- from quotes to a batch request ------------------------------------------------------------


@dataclass(frozen=True)
class BatchLimits:
    """The vault's risk limits in engine units: |net delta| (underlying), |net gamma|, |net vega|
    (currency per 1.00 vol) and the worst scenario loss (currency)."""

    max_abs_delta: float = 200.0
    max_abs_gamma: float = 1.0
    max_abs_vega: float = 5e5
    max_loss: float = 5e6


@dataclass(frozen=True)
class BookLine:
    """One position of the book: signed quantity and per-contract Greeks (engine.bsm units)."""

    quantity: float
    delta: float
    gamma: float
    vega: float


@dataclass(frozen=True)
class BatchQuote:
    """One quoted option of a batch and the half spread the solver commits to (currency per contract)."""

    instrument: OptionInstrument
    half_spread: float


@dataclass(frozen=True)
class BatchPlan:
    """A batch in the engine's float units, plus what arrives already fixed.

    ``spot`` and ``t`` come from the vault's oracle as 2^-48 integers (the proof must carry exactly
    those), so they are kept as integers; everything else is float and is converted once, by
    to_batch_request.
    """

    spot: int
    t: int
    expiry: int  # Unix seconds of the expiry (the vault derives t from it)
    rate: float
    svi: SviParams
    high_vol: bool
    nonce: int
    policy: QuotePolicy
    net_vega: float
    quotes: tuple[BatchQuote, ...]
    book: tuple[BookLine, ...]
    limits: BatchLimits
    state_salt: int
    portfolio_salt: int


@dataclass(frozen=True)
class BatchSpec:
    """The shape of a batch circuit and how a plan fills it: quote count, book lines, the tick the
    half spread is rounded up to (currency), and the vault's limits."""

    n_quotes: int = 1
    n_positions: int = 4
    spread_tick: float = 0.01
    limits: BatchLimits = BatchLimits()

    def __post_init__(self) -> None:
        if self.n_quotes < 1:
            raise InvalidInput("n_quotes", "must be >= 1", self.n_quotes)
        if self.n_positions < 0:
            raise InvalidInput("n_positions", "must be >= 0", self.n_positions)
        if not (math.isfinite(self.spread_tick) and self.spread_tick > 0):
            raise InvalidInput("spread_tick", "must be finite and > 0", self.spread_tick)


class NothingToBatch(DLPEError):
    """No batch can be cut now (no live quotes, a cascade, or too few quotes of one expiry)."""


def to_batch_request(plan: BatchPlan) -> BatchRequest:
    """The one float -> fixed-point conversion of the solver (engine.fixed.to_fixed, round to nearest).

    Raises InvalidInput when a value is outside the circuit's declared domain."""
    f = fx.to_fixed
    svi = fx.SVIFixed(a=f(plan.svi.a), b=f(plan.svi.b), rho=f(plan.svi.rho), m=f(plan.svi.m), sigma=f(plan.svi.sigma))
    lines = tuple(QuoteLine(f(q.instrument.strike), q.instrument.is_call, f(q.half_spread)) for q in plan.quotes)
    positions = tuple(PositionFixed(f(p.quantity), f(p.delta), f(p.gamma), f(p.vega)) for p in plan.book)
    return BatchRequest(
        spot=plan.spot, t=plan.t, rate=f(plan.rate), carry=0, svi=svi, high_vol=plan.high_vol, nonce=plan.nonce,
        policy=PolicyFixed.from_policy(plan.policy), net_vega=f(plan.net_vega), state_salt=plan.state_salt,
        quotes=lines, positions=positions, portfolio_salt=plan.portfolio_salt,
        limits=limits_fixed(plan.limits),
    )


def limits_fixed(limits: BatchLimits) -> RiskLimitsFixed:
    """The vault's limits at 2^-48 (part of to_batch_request's conversion; the vault is deployed with these)."""
    f = fx.to_fixed
    return RiskLimitsFixed(f(limits.max_abs_delta), f(limits.max_abs_gamma), f(limits.max_abs_vega), f(limits.max_loss))


def svi_at(surface: VolSurface, t: float) -> SviParams:
    """One raw SVI smile for expiry t: the nearest slice with its total variance scaled so that the
    at-the-money variance is the surface's at t (exact at slices; between slices the wings follow
    the nearest slice's shape)."""
    nearest = min(surface.slices, key=lambda s: abs(s.t - t))
    factor = float(surface.total_variance(0.0, t)) / float(nearest.params.total_variance(0.0))
    p = nearest.params
    return SviParams(p.a * factor, p.b * factor, p.rho, p.m, p.sigma)


def book_lines(portfolio: Portfolio, market: MarketState, n_positions: int) -> tuple[BookLine, ...]:
    """The book as the risk circuit takes it: one line per option (Greeks at the market) and one
    for the perpetual (delta 1), padded with empty lines to the circuit's ``n_positions``."""
    options = list(portfolio.options.items())
    lines: list[BookLine] = []
    if options:
        insts = [i for i, _ in options]
        t = np.array([i.time_to_expiry(market.now) for i in insts])
        strikes = np.array([i.strike for i in insts])
        vol = market.surface.implied_vol(log_moneyness(strikes, market.spot, t, market.rate), t)
        g = bsm_greeks(market.spot, strikes, t, market.rate, vol, np.array([i.is_call for i in insts]))
        for j, (_, q) in enumerate(options):
            lines.append(BookLine(q, float(np.atleast_1d(g.delta)[j]), float(np.atleast_1d(g.gamma)[j]),
                                  float(np.atleast_1d(g.vega)[j])))
    if portfolio.perp != 0.0:
        lines.append(BookLine(portfolio.perp, 1.0, 0.0, 0.0))
    if len(lines) > n_positions:
        raise InvalidInput("portfolio", f"{len(lines)} positions; the batch circuit holds {n_positions}", len(lines))
    return tuple(lines) + (BookLine(0.0, 0.0, 0.0, 0.0),) * (n_positions - len(lines))


def plan_batch(
    quotes: QuoteSet,
    portfolio: Portfolio,
    *,
    oracle_spot: int,
    oracle_time: int,
    nonce: int,
    spec: BatchSpec,
    config: PipelineConfig,
    state_salt: int,
    portfolio_salt: int,
) -> BatchPlan:
    """A batch of ``spec.n_quotes`` live quotes of one expiry, priced at the oracle's observation.

    The expiry is the nearest one with enough live quotes; its quotes nearest the money are taken.
    Each half spread is the larger of the engine's quoted one and the policy floor recomputed on
    the batch's smile at the oracle's spot, moved up to the next multiple of ``spec.spread_tick``, so that the circuit's
    floor (the same rule in fixed point) is met. Raises NothingToBatch when no batch can be cut."""
    from verifier_contracts.vault import years_to_expiry

    if quotes.withheld is not None or quotes.surface is None or quotes.greeks is None:
        raise NothingToBatch(f"no live quotes ({quotes.withheld.value if quotes.withheld else 'no surface'})")
    live = [q for q in quotes.quotes if q.is_live]
    by_expiry: dict[int, list[Quote]] = {}
    for q in live:
        by_expiry.setdefault(int(q.instrument.expiry_datetime().timestamp()), []).append(q)
    candidates = sorted(e for e, qs in by_expiry.items() if len(qs) >= spec.n_quotes and e > oracle_time)
    if not candidates:
        raise NothingToBatch(f"no expiry has {spec.n_quotes} live quote(s) after the oracle's time")
    expiry = candidates[0]
    spot = fx.from_fixed(oracle_spot)
    chosen = sorted(by_expiry[expiry], key=lambda q: abs(math.log(q.instrument.strike / spot)))[: spec.n_quotes]
    chosen.sort(key=lambda q: q.instrument.strike)
    t_fixed = years_to_expiry(expiry, oracle_time)
    t = fx.from_fixed(t_fixed)
    svi = svi_at(quotes.surface, t)

    strikes = np.array([q.instrument.strike for q in chosen])
    is_call = np.array([q.instrument.is_call for q in chosen])
    k = np.log(strikes / spot) - config.rate * t
    vol = np.sqrt(np.maximum(svi.total_variance(k), 0.0) / t)
    g = bsm_greeks(spot, strikes, t, config.rate, vol, is_call)
    multiplier = config.policy.spread_multiplier(quotes.regime)
    floor = np.atleast_1d(min_half_spread(config.policy, g.gamma, g.vega, quotes.greeks.vega, multiplier, spot))
    tick = spec.spread_tick
    lines = tuple(
        BatchQuote(q.instrument, (math.floor(max(q.half_spread, float(h)) / tick) + 1) * tick)  # the next tick up
        for q, h in zip(chosen, floor)
    )
    market = MarketState(spot, config.rate, quotes.surface, quotes.time)
    return BatchPlan(
        spot=oracle_spot, t=t_fixed, expiry=expiry, rate=config.rate, svi=svi,
        high_vol=quotes.regime is Regime.HIGH_VOL, nonce=nonce, policy=config.policy, net_vega=quotes.greeks.vega,
        quotes=lines, book=book_lines(portfolio, market, spec.n_positions), limits=spec.limits,
        state_salt=state_salt, portfolio_salt=portfolio_salt,
    )
