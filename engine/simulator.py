"""Market simulator: a regime-switching crypto market and the option order flow a market maker faces.

Price process, one step per ``step_seconds``, regimes LOW_VOL / HIGH_VOL /
LIQUIDATION_CASCADE following a Markov chain (cascades are entered from high
vol only and are short):

    log S_{t+1} - log S_t = mu_r + sigma_r sqrt(dt) Z + sum of N_t jumps,  N_t ~ Poisson(lambda_r),
    jumps ~ Normal(m_r, s_r^2),

with mu_r < 0 in a cascade (forced selling), jump intensity highest there, and
a liquidation volume that is log-normal around a base level times a regime
multiplier. Implied vol (the market's 30-day ATM vol) reverts to a regime
target with a half-life, plus noise, and jumps up when spot jumps down
(-``iv_jump_beta`` times the jump). The market's whole surface is SSVI
(Gatheral & Jacquier 2014) with ATM vol term structure
sigma_atm(T) = sigma_long + (sigma_short - sigma_long) e^{-T/tau}, sigma_short
chosen so that the curve passes through the 30-day ATM vol; short expiries
therefore move more than long ones, as in crypto vol term structures.

Order flow on each listed option (Poisson arrivals per step):
- noise traders buy or sell at random and accept a quote with probability
  exp(-kappa * max(edge, 0)), edge = how far the quote is from the market's fair
  value in vol points (the exponential fill intensity of Avellaneda & Stoikov
  2008);
- informed traders know the fair value ``horizon_steps`` ahead (future spot and
  implied vol) and trade whenever a quote is mispriced against it by more
  than ``informed_threshold_vol_points`` (Glosten & Milgrom 1985 adverse selection).

Arrivals, sizes and acceptance draws are drawn once per seed, so two quoters
run against exactly the same market and the same traders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np

from engine.bsm import bsm_greeks
from engine.errors import InvalidInput
from engine.instruments import SECONDS_PER_YEAR, OptionInstrument, OptionKind
from engine.oracle import FeedKind, FeedQuote
from engine.regime import Regime
from engine.svi import SsviParams
from engine.surface import VolSurface

REGIMES = (Regime.LOW_VOL, Regime.HIGH_VOL, Regime.LIQUIDATION_CASCADE)


@dataclass(frozen=True)
class MarketParams:
    """The simulated market. Per-regime tuples are (low vol, high vol, cascade); probabilities are per step.

    Vols are annualized decimals; drifts, jump sizes and noise are per step in log terms.
    """

    start: datetime = datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)
    spot0: float = 60_000.0
    rate: float = 0.0
    n_steps: int = 1440
    warmup_steps: int = 2880
    step_seconds: float = 60.0
    realized_vol: tuple[float, float, float] = (0.45, 0.85, 1.60)
    drift: tuple[float, float, float] = (0.0, 0.0, -0.0015)
    jump_probability: tuple[float, float, float] = (0.002, 0.01, 0.15)
    jump_mean: tuple[float, float, float] = (0.0, -0.001, -0.006)
    jump_std: tuple[float, float, float] = (0.003, 0.006, 0.008)
    p_low_to_high: float = 1 / 480
    p_high_to_low: float = 1 / 240
    p_high_to_cascade: float = 1 / 600
    p_cascade_to_high: float = 1 / 20
    implied_vol_target: tuple[float, float, float] = (0.50, 0.85, 1.30)
    iv_halflife_steps: float = 20.0
    iv_noise: float = 0.003
    iv_jump_beta: float = 2.0
    iv_long_run: float = 0.60
    term_decay_days: float = 60.0
    ssvi_rho: float = -0.35
    ssvi_eta: float = 1.0
    ssvi_gamma: float = 0.45
    liquidation_base: float = 20.0
    liquidation_noise: float = 0.5
    liquidation_multiplier: tuple[float, float, float] = (1.0, 2.0, 40.0)

    def __post_init__(self) -> None:
        if not (isinstance(self.n_steps, int) and self.n_steps >= 1):
            raise InvalidInput("n_steps", "must be an integer >= 1", self.n_steps)
        if not (isinstance(self.warmup_steps, int) and self.warmup_steps >= 0):
            raise InvalidInput("warmup_steps", "must be an integer >= 0", self.warmup_steps)
        for name in (
            "spot0",
            "step_seconds",
            "iv_halflife_steps",
            "iv_long_run",
            "term_decay_days",
            "liquidation_base",
        ):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise InvalidInput(name, "must be finite and > 0", getattr(self, name))
        for name in ("p_low_to_high", "p_high_to_low", "p_high_to_cascade", "p_cascade_to_high"):
            if not 0 <= getattr(self, name) <= 1:
                raise InvalidInput(name, "must be a probability", getattr(self, name))
        if self.p_high_to_low + self.p_high_to_cascade > 1:
            raise InvalidInput(
                "p_high_to_cascade", "p_high_to_low + p_high_to_cascade must be <= 1", self.p_high_to_cascade
            )
        if self.start.tzinfo is None:
            raise InvalidInput("start", "must be timezone-aware", self.start)

    @property
    def dt_years(self) -> float:
        return self.step_seconds / SECONDS_PER_YEAR

    @property
    def ssvi(self) -> SsviParams:
        return SsviParams(self.ssvi_rho, self.ssvi_eta, self.ssvi_gamma)

    def transition_matrix(self) -> np.ndarray:
        """P[i, j] = P(regime_{t+1} = j | regime_t = i), regimes in REGIMES order."""
        return np.array(
            [
                [1 - self.p_low_to_high, self.p_low_to_high, 0.0],
                [self.p_high_to_low, 1 - self.p_high_to_low - self.p_high_to_cascade, self.p_high_to_cascade],
                [0.0, self.p_cascade_to_high, 1 - self.p_cascade_to_high],
            ]
        )


@dataclass(frozen=True)
class MarketPath:
    """One simulated market. Index 0 of each array is the start of the studied day; ``warmup_*`` is the history before it.

    spot: (n_steps + 1,) index price; regime: (n_steps + 1,) index into REGIMES; atm_iv: 30-day ATM implied vol;
    liquidation_volume: units of underlying liquidated in the step ending at that index.
    """

    params: MarketParams
    spot: np.ndarray
    regime: np.ndarray
    atm_iv: np.ndarray
    liquidation_volume: np.ndarray
    warmup_returns: np.ndarray
    warmup_liquidation: np.ndarray

    @property
    def n_steps(self) -> int:
        return self.spot.size - 1

    def time(self, step: int) -> datetime:
        return self.params.start + timedelta(seconds=step * self.params.step_seconds)

    def atm_vol_term(self, step: int | np.ndarray, t_years: np.ndarray | float) -> np.ndarray:
        """Market ATM vol at expiry t: sigma_long + (sigma_short - sigma_long) e^{-T/tau}, with the 30-day point pinned to atm_iv."""
        p = self.params
        tau = p.term_decay_days / 365.0
        iv30 = np.asarray(self.atm_iv[step])
        # choose sigma_short so that the curve passes through atm_iv at 30 days
        short = p.iv_long_run + (iv30 - p.iv_long_run) / math.exp(-(30.0 / 365.0) / tau)
        return p.iv_long_run + (short - p.iv_long_run) * np.exp(-np.asarray(t_years) / tau)

    def implied_vol(self, step: int | np.ndarray, strike: np.ndarray, t_years: np.ndarray) -> np.ndarray:
        """The market's (true) implied vol of options at ``strike`` and expiry ``t_years`` at ``step`` (broadcast)."""
        theta = self.atm_vol_term(step, t_years) ** 2 * t_years
        k = np.log(strike / np.asarray(self.spot[step])) - self.params.rate * t_years
        return np.sqrt(self.params.ssvi.total_variance(k, theta) / t_years)

    def surface(self, step: int, expiries: np.ndarray) -> VolSurface:
        """The market's true surface at ``step`` as SVI slices at the given expiries (years)."""
        theta = self.atm_vol_term(step, np.asarray(expiries)) ** 2 * np.asarray(expiries)
        return VolSurface.from_ssvi(self.params.ssvi, list(map(float, expiries)), list(map(float, theta)))


def simulate_market(params: MarketParams, seed: int) -> MarketPath:
    """Simulate ``warmup_steps`` of history and then the studied ``n_steps``."""
    rng = np.random.default_rng(seed)
    n = params.warmup_steps + params.n_steps
    P = params.transition_matrix()
    cumulative = np.cumsum(P, axis=1)
    u = rng.random(n)
    regime = np.empty(n + 1, dtype=np.int64)
    regime[0] = 0
    for i in range(n):  # a three-state chain: a short Python loop, no faster way that stays readable
        regime[i + 1] = min(int(np.searchsorted(cumulative[regime[i]], u[i], side="right")), 2)
    r = regime[1:]
    vol = np.asarray(params.realized_vol)[r]
    drift = np.asarray(params.drift)[r]
    jump_hit = rng.random(n) < np.asarray(params.jump_probability)[r]
    jumps = np.where(jump_hit, rng.normal(np.asarray(params.jump_mean)[r], np.asarray(params.jump_std)[r]), 0.0)
    returns = drift - 0.5 * vol**2 * params.dt_years + vol * math.sqrt(params.dt_years) * rng.standard_normal(n) + jumps
    log_spot = math.log(params.spot0) + np.concatenate([[0.0], np.cumsum(returns)])

    keep = math.exp(-math.log(2.0) / params.iv_halflife_steps)
    targets = np.asarray(params.implied_vol_target)[r]
    iv_shocks = params.iv_noise * rng.standard_normal(n) - params.iv_jump_beta * np.minimum(jumps, 0.0)
    iv = np.empty(n + 1)
    iv[0] = params.implied_vol_target[0]
    for i in range(n):  # mean reversion with state-dependent target
        iv[i + 1] = max(keep * iv[i] + (1 - keep) * targets[i] + iv_shocks[i], 0.05)

    liq = (
        params.liquidation_base
        * np.asarray(params.liquidation_multiplier)[r]
        * rng.lognormal(0.0, params.liquidation_noise, n)
    )

    w = params.warmup_steps
    # Re-anchor the studied day at spot0 so every seed starts from the same price.
    spot = np.exp(log_spot[w:] - log_spot[w]) * params.spot0
    return MarketPath(
        params=params,
        spot=spot,
        regime=regime[w:],
        atm_iv=iv[w:],
        liquidation_volume=np.concatenate([[liq[w - 1] if w else params.liquidation_base], liq[w:]]),
        warmup_returns=returns[:w],
        warmup_liquidation=liq[:w],
    )


def listed_options(
    params: MarketParams,
    expiry_days: tuple[int, ...] = (7, 28),
    strike_offsets: tuple[float, ...] = (-0.10, -0.05, 0.0, 0.05, 0.10),
) -> list[OptionInstrument]:
    """Out-of-the-money options (puts below spot, calls at and above) on a strike grid around spot0, rounded to 1000."""
    out = []
    for days in expiry_days:
        expiry: date = (params.start + timedelta(days=days)).date()
        for offset in strike_offsets:
            strike = round(params.spot0 * (1 + offset) / 1000.0) * 1000.0
            kinds = (
                [OptionKind.PUT]
                if offset < 0
                else [OptionKind.CALL]
                if offset > 0
                else [OptionKind.PUT, OptionKind.CALL]
            )
            out.extend(OptionInstrument("BTC", expiry, strike, kind) for kind in kinds)
    return out


@dataclass(frozen=True)
class OptionGrid:
    """Fair values of the listed options along the path (market's true surface), shape (n_steps + 1, n_options).

    t: time to expiry in years; vol: market implied vol; value, delta, vega_point (vega per 1 vol point).
    """

    instruments: tuple[OptionInstrument, ...]
    strike: np.ndarray
    is_call: np.ndarray
    t: np.ndarray
    vol: np.ndarray
    value: np.ndarray
    delta: np.ndarray
    vega_point: np.ndarray


def fair_value_grid(path: MarketPath, instruments: list[OptionInstrument]) -> OptionGrid:
    """Price every listed option at every step on the market's true surface, in one vectorized pass."""
    steps = np.arange(path.n_steps + 1)
    strike = np.array([i.strike for i in instruments])
    is_call = np.array([i.is_call for i in instruments], dtype=bool)
    expiry_s = np.array([(i.expiry_datetime() - path.params.start).total_seconds() for i in instruments])
    t = (expiry_s[None, :] - steps[:, None] * path.params.step_seconds) / SECONDS_PER_YEAR
    if np.any(t <= 0):
        raise InvalidInput("instruments", "an option expires inside the simulated day", [i.name for i in instruments])
    vol = path.implied_vol(steps[:, None], strike[None, :], t)
    g = bsm_greeks(path.spot[:, None], strike[None, :], t, path.params.rate, vol, is_call[None, :])
    return OptionGrid(
        tuple(instruments),
        strike,
        is_call,
        t,
        vol,
        np.asarray(g.price),
        np.asarray(g.delta),
        np.asarray(g.vega) / 100.0,
    )


@dataclass(frozen=True)
class FeedParams:
    """Oracle feeds: counts per kind, relative noise, and per-step probabilities of a stale or corrupted report."""

    n_spot: int = 5
    n_perp: int = 3
    n_iv: int = 3
    spot_noise: float = 2e-4
    perp_basis_noise: float = 3e-4
    iv_noise: float = 0.01
    p_stale: float = 0.02
    stale_seconds: float = 45.0
    p_corrupt: float = 0.005
    corrupt_factor: float = 1.05


def oracle_feeds(
    path: MarketPath, step: int, feed: FeedParams, rng: np.random.Generator
) -> dict[FeedKind, list[FeedQuote]]:
    """The feed reports a quoter sees at ``step``: noisy copies of spot, perp mark and the 30-day IV, some stale or corrupt."""
    now = path.params.start.timestamp() + step * path.params.step_seconds
    lag_steps = int(math.ceil(feed.stale_seconds / path.params.step_seconds))

    def reports(kind: FeedKind, n: int, truth: np.ndarray, noise: float) -> list[FeedQuote]:
        out = []
        for j in range(n):
            stale = rng.random() < feed.p_stale
            at = max(step - lag_steps, 0) if stale else step
            value = float(truth[at]) * (1.0 + noise * rng.standard_normal())
            if rng.random() < feed.p_corrupt:
                value *= feed.corrupt_factor
            ts = now - (feed.stale_seconds if stale else rng.uniform(0.0, 2.0))
            out.append(FeedQuote(f"{kind.value}_{j}", value, ts))
        return out

    return {
        FeedKind.SPOT: reports(FeedKind.SPOT, feed.n_spot, path.spot, feed.spot_noise),
        FeedKind.PERP_MARK: reports(FeedKind.PERP_MARK, feed.n_perp, path.spot, feed.perp_basis_noise),
        FeedKind.IV_INDEX: reports(FeedKind.IV_INDEX, feed.n_iv, path.atm_iv, feed.iv_noise),
    }


def observed_smiles(
    path: MarketPath,
    step: int,
    expiries: np.ndarray,
    rng: np.random.Generator,
    vol_noise: float = 0.003,
    n_strikes: int = 11,
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Implied vols quoted elsewhere at ``step`` (true surface plus noise of ``vol_noise``), per expiry: (t, k, vols)."""
    out = []
    for t in expiries:
        width = 2.5 * float(path.atm_vol_term(step, t)) * math.sqrt(t)
        k = np.linspace(-width, width, n_strikes)
        strike = path.spot[step] * np.exp(k + path.params.rate * t)
        vols = path.implied_vol(step, strike, np.full(n_strikes, t)) + vol_noise * rng.standard_normal(n_strikes)
        out.append((float(t), k, np.maximum(vols, 0.05)))
    return out


@dataclass(frozen=True)
class FlowParams:
    """Order flow per listed option and step.

    noise_rate / informed_rate: Poisson arrival rates per option per step; *_size: mean size in contracts
    (exponentially distributed); kappa: noise traders' price sensitivity per vol point of edge;
    horizon_steps: how far ahead informed traders see; informed_threshold_vol_points: the edge they need.
    """

    noise_rate: float = 0.08
    noise_size: float = 0.5
    informed_rate: float = 0.02
    informed_size: float = 1.0
    kappa: float = 0.6
    horizon_steps: int = 10
    informed_threshold_vol_points: float = 0.3


@dataclass(frozen=True)
class OrderFlow:
    """Pre-drawn traders, shape (n_steps + 1, n_options): arrivals, directions, sizes, acceptance draws."""

    params: FlowParams
    noise_arrives: np.ndarray
    noise_buys: np.ndarray
    noise_size: np.ndarray
    noise_draw: np.ndarray
    informed_arrives: np.ndarray
    informed_size: np.ndarray


def draw_order_flow(n_steps: int, n_options: int, flow: FlowParams, seed: int) -> OrderFlow:
    """Draw every trader of the day once, so that competing quoters face the same ones."""
    rng = np.random.default_rng(seed)
    shape = (n_steps + 1, n_options)
    return OrderFlow(
        params=flow,
        noise_arrives=rng.random(shape) < 1 - math.exp(-flow.noise_rate),
        noise_buys=rng.random(shape) < 0.5,
        noise_size=rng.exponential(flow.noise_size, shape) + 0.05,
        noise_draw=rng.random(shape),
        informed_arrives=rng.random(shape) < 1 - math.exp(-flow.informed_rate),
        informed_size=rng.exponential(flow.informed_size, shape) + 0.1,
    )


@dataclass(frozen=True)
class OptionTrade:
    """A fill of the market maker: ``quantity`` from its side (+ it bought), at ``price``; ``informed`` trader or not."""

    step: int
    option: int
    quantity: float
    price: float
    informed: bool


@dataclass
class QuoteArrays:
    """One quoter's quotes at a step, one entry per listed option (size 0: side not shown)."""

    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray

    @classmethod
    def empty(cls, n: int) -> QuoteArrays:
        zeros = np.zeros(n)
        return cls(zeros.copy(), np.full(n, np.inf), zeros.copy(), zeros.copy())


def match_order_flow(step: int, quotes: QuoteArrays, flow: OrderFlow, grid: OptionGrid) -> list[OptionTrade]:
    """Trades that the step's traders make against ``quotes``. Informed traders move first."""
    p = flow.params
    fair_now = grid.value[step]
    fair_later = grid.value[min(step + p.horizon_steps, grid.value.shape[0] - 1)]
    vega = np.maximum(grid.vega_point[step], 1e-9)
    bid_left, ask_left = quotes.bid_size.copy(), quotes.ask_size.copy()
    trades = []
    threshold = p.informed_threshold_vol_points * vega
    for i in np.flatnonzero(flow.informed_arrives[step]):
        if ask_left[i] > 0 and fair_later[i] - quotes.ask[i] > threshold[i]:
            qty = min(flow.informed_size[step, i], ask_left[i])
            ask_left[i] -= qty
            trades.append(OptionTrade(step, int(i), -qty, float(quotes.ask[i]), True))
        elif bid_left[i] > 0 and quotes.bid[i] - fair_later[i] > threshold[i]:
            qty = min(flow.informed_size[step, i], bid_left[i])
            bid_left[i] -= qty
            trades.append(OptionTrade(step, int(i), qty, float(quotes.bid[i]), True))
    for i in np.flatnonzero(flow.noise_arrives[step]):
        buys = bool(flow.noise_buys[step, i])
        left = ask_left if buys else bid_left
        if left[i] <= 0:
            continue
        price = quotes.ask[i] if buys else quotes.bid[i]
        edge = (price - fair_now[i]) / vega[i] if buys else (fair_now[i] - price) / vega[i]
        if flow.noise_draw[step, i] < math.exp(-p.kappa * max(edge, 0.0)):
            qty = min(flow.noise_size[step, i], left[i])
            left[i] -= qty
            trades.append(OptionTrade(step, int(i), -qty if buys else qty, float(price), False))
    return trades
