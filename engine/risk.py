"""Risk service: positions and fills, portfolio Greeks, VaR, the scenario grid, and the circuit breaker.

- Portfolio: cash, option positions (engine.instruments) and a perpetual
  position, marked at spot (funding and basis ignored); fills move cash.
- Greeks: sum of quantity times BSM Greeks (engine.bsm) at surface vols; the
  perp adds 1 per unit to delta.
- Parametric VaR, delta-gamma-normal (Zangari 1996, "A VaR methodology for
  portfolios that include options", RiskMetrics Monitor Q1): P&L = a Z + b Z^2
  with a = Delta S sigma sqrt(h), b = Gamma S^2 sigma^2 h / 2, whose quantile
  is computed exactly (one risk factor).
- Monte Carlo VaR: full repricing under jump-diffusion spot and correlated
  implied-vol moves (engine.montecarlo), time decayed by the horizon.
- Scenario grid, the one the risk-limit circuit checks: spot x 0.80, 0.85, ...,
  1.20 (9 steps) crossed with implied vol +10 vol points, unchanged, and
  -10 vol points (floored at 1 vol point), sticky strike, no time decay; P&L
  by full repricing and by the delta-gamma-vega expansion
  Delta dS + Gamma dS^2 / 2 + vega dsigma, and the gap between the two.
- Capital utilization: worst scenario loss / capital (the portfolio-margin
  idea: margin = worst loss on the grid).
- Circuit breaker: pauses quoting when VaR, worst scenario loss or utilization
  breaches its limit, resumes when all are back under ``resume_fraction`` of
  their limits and the pause has lasted ``min_pause_steps``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Union

import numpy as np
from scipy import optimize
from scipy.special import ndtr

from engine.bsm import bsm_greeks, bsm_price
from engine.errors import InvalidInput
from engine.instruments import OptionInstrument
from engine.montecarlo import JumpDiffusion, LossQuantiles, simulate_market_shocks, var_from_pnl
from engine.surface import VolSurface, log_moneyness

MIN_VOL = 0.01  # scenario vols are floored at 1 vol point


@dataclass(frozen=True)
class Perpetual:
    """Perpetual future on ``underlying``, marked at spot (funding ignored)."""

    underlying: str

    @property
    def name(self) -> str:
        return f"{self.underlying}-PERPETUAL"


Instrument = Union[OptionInstrument, Perpetual]


@dataclass(frozen=True)
class Fill:
    """A trade of the book: quantity > 0 bought, < 0 sold, at ``price`` per unit, paying ``fee`` (currency)."""

    instrument: Instrument
    quantity: float
    price: float
    fee: float = 0.0
    timestamp: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.instrument, (OptionInstrument, Perpetual)):
            raise InvalidInput("instrument", "must be an OptionInstrument or a Perpetual", self.instrument)
        for name in ("quantity", "price", "fee"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidInput(name, "must be finite", getattr(self, name))
        if self.quantity == 0:
            raise InvalidInput("quantity", "must be non-zero", self.quantity)
        if self.price < 0:
            raise InvalidInput("price", "must be >= 0", self.price)
        if self.fee < 0:
            raise InvalidInput("fee", "must be >= 0", self.fee)


@dataclass
class Portfolio:
    """Cash (currency), option quantities (contracts, + long) and perpetual quantity (units of underlying)."""

    cash: float = 0.0
    options: dict[OptionInstrument, float] = field(default_factory=dict)
    perp: float = 0.0

    def apply_fill(self, fill: Fill) -> None:
        self.cash -= fill.quantity * fill.price + fill.fee
        if isinstance(fill.instrument, Perpetual):
            self.perp += fill.quantity
            return
        quantity = self.options.get(fill.instrument, 0.0) + fill.quantity
        if abs(quantity) < 1e-12:
            self.options.pop(fill.instrument, None)
        else:
            self.options[fill.instrument] = quantity

    def settle_expired(self, now: datetime, spot: float) -> float:
        """Cash-settle options expired at ``now`` against ``spot``; returns the cash paid in (+) or out (-)."""
        settled = 0.0
        for inst in [i for i in self.options if i.time_to_expiry(now) <= 0.0]:
            payoff = max(spot - inst.strike, 0.0) if inst.is_call else max(inst.strike - spot, 0.0)
            settled += self.options.pop(inst) * payoff
        self.cash += settled
        return settled


@dataclass(frozen=True)
class MarketState:
    """What risk needs of the market: spot, rates (continuous, per year), the vol surface and the time."""

    spot: float
    rate: float
    surface: VolSurface
    now: datetime
    carry: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.spot) and self.spot > 0):
            raise InvalidInput("spot", "must be finite and > 0", self.spot)
        for name in ("rate", "carry"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidInput(name, "must be finite", getattr(self, name))


@dataclass(frozen=True)
class OptionBook:
    """The live option positions as arrays, with surface vols at the current market."""

    quantity: np.ndarray
    strike: np.ndarray
    t: np.ndarray
    vol: np.ndarray
    is_call: np.ndarray


def option_book(portfolio: Portfolio, market: MarketState) -> OptionBook:
    """Arrays of the unexpired option positions (expired ones must be settled first)."""
    insts = list(portfolio.options)
    t = np.array([i.time_to_expiry(market.now) for i in insts])
    if np.any(t <= 0):
        raise InvalidInput(
            "portfolio", "holds expired options; settle them first", [i.name for i, ti in zip(insts, t) if ti <= 0]
        )
    strike = np.array([i.strike for i in insts])
    vol = (
        market.surface.implied_vol(log_moneyness(strike, market.spot, t, market.rate, market.carry), t)
        if insts
        else np.zeros(0)
    )
    return OptionBook(
        quantity=np.array([portfolio.options[i] for i in insts]),
        strike=strike,
        t=t,
        vol=np.asarray(vol),
        is_call=np.array([i.is_call for i in insts], dtype=bool),
    )


@dataclass(frozen=True)
class PortfolioGreeks:
    """Book totals. value: options plus perp plus cash (currency); Greeks in engine.bsm's units, times quantity."""

    value: float
    delta: float
    gamma: float
    vega: float
    theta: float
    vanna: float
    volga: float


def portfolio_greeks(portfolio: Portfolio, market: MarketState) -> PortfolioGreeks:
    """Mark-to-market value and net Greeks of the book (the perp contributes value q*S and delta q)."""
    book = option_book(portfolio, market)
    base = portfolio.cash + portfolio.perp * market.spot
    if book.quantity.size == 0:
        return PortfolioGreeks(base, portfolio.perp, 0.0, 0.0, 0.0, 0.0, 0.0)
    g = bsm_greeks(market.spot, book.strike, book.t, market.rate, book.vol, book.is_call, market.carry)
    q = book.quantity
    return PortfolioGreeks(
        value=base + float(q @ g.price),
        delta=portfolio.perp + float(q @ g.delta),
        gamma=float(q @ g.gamma),
        vega=float(q @ g.vega),
        theta=float(q @ g.theta),
        vanna=float(q @ g.vanna),
        volga=float(q @ g.volga),
    )


def quadratic_pnl_cdf(x: float, a: float, b: float) -> float:
    """P(a Z + b Z^2 <= x) for Z ~ N(0, 1): the normal mass where the quadratic is below x."""
    if b == 0.0:
        if a == 0.0:
            return 1.0 if x >= 0 else 0.0
        return float(ndtr(x / abs(a)))
    disc = a * a + 4.0 * b * x
    if b > 0:  # convex: below x between the roots
        if disc <= 0:
            return 0.0
        root = math.sqrt(disc)
        return float(ndtr((-a + root) / (2 * b)) - ndtr((-a - root) / (2 * b)))
    if disc <= 0:  # concave: below x outside the roots
        return 1.0
    root = math.sqrt(disc)
    lo, hi = sorted(((-a + root) / (2 * b), (-a - root) / (2 * b)))
    return float(ndtr(lo) + ndtr(-hi))


def delta_gamma_var(
    delta: float, gamma: float, spot: float, vol: float, horizon_years: float, confidence: float = 0.99
) -> float:
    """Parametric delta-gamma VaR (positive loss, currency) over ``horizon_years`` at ``confidence``.

    With one risk factor the delta-gamma P&L is X = a Z + b Z^2, a = delta*S*vol*sqrt(h),
    b = gamma*S^2*vol^2*h/2, Z ~ N(0, 1), and its quantile is found exactly: solve
    P(X <= x) = 1 - c (``quadratic_pnl_cdf``) by Brent's method; VaR = max(-x, 0). This is
    the delta-gamma-normal model of Zangari (1996), "A VaR methodology for portfolios that
    include options", RiskMetrics Monitor Q1, without the Cornish-Fisher approximation,
    which fails for the bounded losses of long-gamma books.
    """
    for name, value in (("delta", delta), ("gamma", gamma)):
        if not math.isfinite(value):
            raise InvalidInput(name, "must be finite", value)
    for name, value in (("spot", spot), ("vol", vol), ("horizon_years", horizon_years)):
        if not (math.isfinite(value) and value > 0):
            raise InvalidInput(name, "must be finite and > 0", value)
    if not 0.5 < confidence < 1:
        raise InvalidInput("confidence", "must lie in (0.5, 1)", confidence)
    a = delta * spot * vol * math.sqrt(horizon_years)
    b = 0.5 * gamma * spot**2 * vol**2 * horizon_years
    if a == 0.0 and b == 0.0:
        return 0.0
    alpha = 1.0 - confidence
    bound = 12.0 * abs(a) + 144.0 * abs(b)  # |a Z + b Z^2| <= bound unless |Z| > 12 (probability 4e-33)
    x = optimize.brentq(lambda v: quadratic_pnl_cdf(v, a, b) - alpha, -bound, bound, xtol=1e-12 * bound, rtol=1e-14)
    return max(-x, 0.0)


def monte_carlo_var(
    portfolio: Portfolio,
    market: MarketState,
    horizon_years: float,
    model: JumpDiffusion,
    confidence: float = 0.99,
    n_paths: int = 20_000,
    seed: int = 0,
) -> LossQuantiles:
    """VaR and expected shortfall by full repricing over ``horizon_years`` (sticky-strike vols scaled by the vol shock)."""
    book = option_book(portfolio, market)
    shocks = simulate_market_shocks(model, horizon_years, n_paths, seed)
    spot_h = market.spot * shocks.spot_factor
    pnl = portfolio.perp * (spot_h - market.spot)
    if book.quantity.size:
        now_value = np.asarray(
            bsm_price(market.spot, book.strike, book.t, market.rate, book.vol, book.is_call, market.carry)
        )
        t_h = np.maximum(book.t - horizon_years, 1e-8)
        vol_h = np.maximum(book.vol[None, :] * shocks.vol_factor[:, None], MIN_VOL)
        later = bsm_price(
            spot_h[:, None], book.strike[None, :], t_h[None, :], market.rate, vol_h, book.is_call[None, :], market.carry
        )
        pnl = pnl + (np.asarray(later) - now_value[None, :]) @ book.quantity
    return var_from_pnl(pnl, confidence)


@dataclass(frozen=True)
class ScenarioGrid:
    """Spot multipliers and absolute implied-vol shifts (vol units: 0.10 = 10 vol points)."""

    spot_multipliers: tuple[float, ...] = tuple(np.round(np.linspace(0.80, 1.20, 9), 2).tolist())
    vol_shifts: tuple[float, ...] = (0.10, 0.0, -0.10)


@dataclass(frozen=True)
class ScenarioResult:
    """P&L (currency) per scenario, shape (spot steps, vol shifts), both ways, and their gap.

    worst_loss_*: the largest loss on the grid as a positive number (0 if no scenario loses);
    max_gap: max |full - expansion| over the grid; worst_loss_gap: |worst_loss_full - worst_loss_expansion|.
    """

    spot_multipliers: tuple[float, ...]
    vol_shifts: tuple[float, ...]
    pnl_full: np.ndarray
    pnl_expansion: np.ndarray
    worst_loss_full: float
    worst_loss_expansion: float
    max_gap: float
    worst_loss_gap: float


def scenario_grid_loss(
    portfolio: Portfolio, market: MarketState, grid: ScenarioGrid = ScenarioGrid()
) -> ScenarioResult:
    """Scenario P&L of the book by full repricing and by the delta-gamma-vega expansion."""
    m = np.asarray(grid.spot_multipliers, dtype=float)
    dv = np.asarray(grid.vol_shifts, dtype=float)
    if m.size == 0 or dv.size == 0 or np.any(m <= 0) or not np.all(np.isfinite(dv)):
        raise InvalidInput("grid", "needs positive spot multipliers and finite vol shifts", grid)
    book = option_book(portfolio, market)
    d_spot = market.spot * (m - 1.0)  # (S,)
    full = np.broadcast_to((portfolio.perp * d_spot)[:, None], (m.size, dv.size)).copy()
    expansion = full.copy()
    if book.quantity.size:
        g = bsm_greeks(market.spot, book.strike, book.t, market.rate, book.vol, book.is_call, market.carry)
        vol_shocked = np.maximum(book.vol[None, None, :] + dv[None, :, None], MIN_VOL)  # (1, V, n)
        spot_shocked = (market.spot * m)[:, None, None]  # (S, 1, 1)
        later = np.asarray(
            bsm_price(spot_shocked, book.strike, book.t, market.rate, vol_shocked, book.is_call, market.carry)
        )
        full += (later - np.asarray(g.price)) @ book.quantity
        q = book.quantity
        delta, gamma = float(q @ g.delta), float(q @ g.gamma)
        # the floor at MIN_VOL is part of the scenario, so the expansion uses the same realized shift
        realized_dv = (vol_shocked - book.vol[None, None, :])[0]  # (V, n)
        vega_term = realized_dv @ (q * np.asarray(g.vega))  # (V,)
        expansion += (delta * d_spot + 0.5 * gamma * d_spot**2)[:, None] + vega_term[None, :]
    worst_full = max(0.0, float(-full.min()))
    worst_expansion = max(0.0, float(-expansion.min()))
    return ScenarioResult(
        spot_multipliers=tuple(m.tolist()),
        vol_shifts=tuple(dv.tolist()),
        pnl_full=full,
        pnl_expansion=expansion,
        worst_loss_full=worst_full,
        worst_loss_expansion=worst_expansion,
        max_gap=float(np.max(np.abs(full - expansion))),
        worst_loss_gap=abs(worst_full - worst_expansion),
    )


def capital_utilization(worst_scenario_loss: float, capital: float) -> float:
    """Share of capital the book's margin uses: worst scenario loss / capital (0 when no scenario loses)."""
    if not (math.isfinite(capital) and capital > 0):
        raise InvalidInput("capital", "must be finite and > 0", capital)
    if not (math.isfinite(worst_scenario_loss) and worst_scenario_loss >= 0):
        raise InvalidInput("worst_scenario_loss", "must be finite and >= 0", worst_scenario_loss)
    return worst_scenario_loss / capital


class BreakerState(Enum):
    QUOTING = "quoting"
    PAUSED = "paused"


@dataclass(frozen=True)
class RiskLimits:
    """Limits in currency (VaR, worst scenario loss) and as a fraction of capital (utilization).

    resume_fraction: quoting resumes only when every metric is below this fraction of its limit.
    min_pause_steps: shortest pause, in breaker updates.
    """

    max_var: float
    max_scenario_loss: float
    max_utilization: float
    resume_fraction: float = 0.8
    min_pause_steps: int = 5

    def __post_init__(self) -> None:
        for name in ("max_var", "max_scenario_loss", "max_utilization"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise InvalidInput(name, "must be finite and > 0", getattr(self, name))
        if not 0 < self.resume_fraction < 1:
            raise InvalidInput("resume_fraction", "must lie in (0, 1)", self.resume_fraction)
        if not isinstance(self.min_pause_steps, int) or self.min_pause_steps < 0:
            raise InvalidInput("min_pause_steps", "must be an integer >= 0", self.min_pause_steps)


@dataclass(frozen=True)
class RiskMetrics:
    var: float
    scenario_loss: float
    utilization: float


@dataclass(frozen=True)
class BreakerEvent:
    """A change of breaker state at ``step``, with the metrics that caused it."""

    step: int
    state: BreakerState
    reasons: tuple[str, ...]
    metrics: RiskMetrics


class CircuitBreaker:
    """Pauses quoting on a limit breach; resumes with hysteresis (lower threshold and a minimum pause)."""

    def __init__(self, limits: RiskLimits):
        self.limits = limits
        self.state = BreakerState.QUOTING
        self.events: list[BreakerEvent] = []
        self._paused_steps = 0

    def breaches(self, metrics: RiskMetrics, fraction: float = 1.0) -> tuple[str, ...]:
        """Names of the metrics above ``fraction`` times their limit."""
        lim = self.limits
        checks = (
            ("var", metrics.var, lim.max_var),
            ("scenario_loss", metrics.scenario_loss, lim.max_scenario_loss),
            ("utilization", metrics.utilization, lim.max_utilization),
        )
        return tuple(name for name, value, limit in checks if not value <= fraction * limit)  # NaN counts as a breach

    def update(self, metrics: RiskMetrics, step: int) -> BreakerState:
        if self.state is BreakerState.QUOTING:
            reasons = self.breaches(metrics)
            if reasons:
                self.state = BreakerState.PAUSED
                self._paused_steps = 0
                self.events.append(BreakerEvent(step, self.state, reasons, metrics))
        else:
            self._paused_steps += 1
            still = self.breaches(metrics, self.limits.resume_fraction)
            if not still and self._paused_steps >= self.limits.min_pause_steps:
                self.state = BreakerState.QUOTING
                self.events.append(BreakerEvent(step, self.state, (), metrics))
        return self.state
