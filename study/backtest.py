"""The market-making study (backtest): a simulated day of the DLPE against a static AMM-style quoter.

Both quoters face the same simulated market (engine.simulator: regime
switching, jumps, liquidation cascades) and the same traders, noise and
informed, drawn once per seed. Both delta-hedge on the same simulated perp
book (engine.hedging) with TWAP child orders. They differ in how they quote:

- DLPE: the solver's pipeline (solver.pipeline): oracle aggregation of noisy feeds (engine.oracle), regime detection
  (engine.regime; Markov-switching model fitted on the history before the day),
  an SVI surface refitted to observed smiles and repaired when arbitrageable
  (engine.surface), followed between refits by the IV index; inventory-, gamma-
  and regime-aware quotes (engine.quoting), a risk service with the scenario
  grid, delta-gamma VaR and a circuit breaker (engine.risk), and a
  Whalley-Wilmott hedge band.
- Static AMM: one flat vol set at the open from the IV index, a fixed
  half-spread in vol points, fixed sizes, always quoting, a fixed hedge band.

Metrics (currency; options marked at the market's true fair value):
LP PnL (equity change), spread capture sum q (fair_t - price), adverse-selection
loss -sum q (fair_{t+H} - fair_t) with H the informed horizon, hedging cost
(spread, fee and impact paid on the perp), and maximum drawdown of equity.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Protocol

import numba
import numpy as np

from engine.bsm import bsm_greeks, bsm_price
from engine.hedging import (
    PerpBookParams,
    SimulatedPerpBook,
    plan_delta_hedge,
    twap_child_sizes,
    whalley_wilmott_half_width,
)
from engine.oracle import InsufficientSources, aggregate_market
from engine.quoting import QuotePolicy
from engine.regime import Regime, RegimeConfig
from engine.risk import (
    BreakerState,
    CircuitBreaker,
    Fill,
    MarketState,
    Perpetual,
    Portfolio,
    RiskLimits,
    RiskMetrics,
    portfolio_greeks,
)
from engine.simulator import (
    REGIMES,
    FeedParams,
    FlowParams,
    MarketParams,
    MarketPath,
    OptionGrid,
    OptionTrade,
    OrderFlow,
    QuoteArrays,
    draw_order_flow,
    fair_value_grid,
    listed_options,
    match_order_flow,
    simulate_market,
)
from solver.feeds.simulated import SimulatedFeed
from solver.pipeline import MarketTick, PipelineConfig, QuotingPipeline

PERP = Perpetual("BTC")


@dataclass(frozen=True)
class StudyConfig:
    """Everything the study holds fixed; defaults are the published study."""

    market: MarketParams = MarketParams()
    flow: FlowParams = FlowParams()
    feeds: FeedParams = FeedParams()
    perp_book: PerpBookParams = PerpBookParams()
    # Spreads and inventory aversion chosen on seeds 2-8 (seed 1, the published run, was not used to tune).
    policy: QuotePolicy = QuotePolicy(
        base_half_spread=25.0, k_gamma=1.5e-4, vega_risk_aversion=4e-3, base_size=1.0, max_abs_net_vega=1e5
    )
    # A safety device for stress, not a steering tool: limits well above the book's usual risk.
    limits: RiskLimits = RiskLimits(
        max_var=3_000.0, max_scenario_loss=40_000.0, max_utilization=0.02, resume_fraction=0.8, min_pause_steps=15
    )
    regime: RegimeConfig = RegimeConfig()
    capital: float = 2_000_000.0
    var_horizon_years: float = 1.0 / (365.0 * 24.0)
    refit_every_steps: int = 30
    hedge_children: int = 3
    hedge_band_floor: float = 0.25
    hedge_risk_aversion: float = 2e-5
    amm_half_spread_vol_points: float = 0.75
    amm_size: float = 1.0
    amm_hedge_band: float = 1.0
    regime_clip_mads: float = 3.0

    def pipeline(self) -> PipelineConfig:
        """The solver pipeline's settings for this study."""
        return PipelineConfig(
            policy=self.policy, limits=self.limits, regime=self.regime, rate=self.market.rate, capital=self.capital,
            var_horizon_years=self.var_horizon_years, regime_clip_mads=self.regime_clip_mads,
        )


class Quoter(Protocol):
    name: str

    def quote(self, step: int, obs: MarketTick, portfolio: Portfolio) -> QuoteArrays: ...

    def book_delta(self, step: int, portfolio: Portfolio) -> float: ...

    def hedge_band(self) -> float: ...

    def on_trades(self, trades: list[OptionTrade]) -> None: ...


class DlpeQuoter:
    """The solver's pipeline (solver.pipeline: oracle -> regime -> surface -> risk/breaker -> quotes)
    and a Whalley-Wilmott hedge band."""

    name = "DLPE"

    def __init__(self, config: StudyConfig, path: MarketPath, grid: OptionGrid):
        self.config = config
        self.path = path
        self.pipeline = QuotingPipeline(
            config.pipeline(), grid.instruments, path.warmup_returns, path.warmup_liquidation
        )
        self.index = {inst: i for i, inst in enumerate(grid.instruments)}
        self.gamma = 0.0
        self.regimes: list[Regime] = []
        self.states: list[BreakerState] = []
        self.scenario_gaps: list[float] = []
        self.metrics: list[RiskMetrics] = []

    @property
    def breaker(self) -> CircuitBreaker:
        return self.pipeline.breaker

    @property
    def oracle_failures(self) -> int:
        return self.pipeline.oracle_failures

    @property
    def repairs(self) -> int:
        return self.pipeline.surface_repairs

    def quote(self, step: int, obs: MarketTick, portfolio: Portfolio) -> QuoteArrays:
        result = self.pipeline.on_tick(obs, portfolio)
        self.regimes.append(result.regime)
        self.states.append(result.breaker)
        if result.greeks is not None:
            self.gamma = result.greeks.gamma
        if result.scenarios is not None and result.metrics is not None:
            self.scenario_gaps.append(result.scenarios.worst_loss_gap)
            self.metrics.append(result.metrics)
        arrays = QuoteArrays.empty(len(self.index))
        for q in result.quotes:
            i = self.index[q.instrument]
            arrays.bid[i], arrays.ask[i], arrays.bid_size[i], arrays.ask_size[i] = q.bid, q.ask, q.bid_size, q.ask_size
        return arrays

    def book_delta(self, step: int, portfolio: Portfolio) -> float:
        if self.pipeline.surface is None or self.pipeline.spot is None:
            return portfolio.perp
        market = MarketState(self.pipeline.spot, self.config.market.rate, self.pipeline.surface_now(), self.path.time(step))
        return portfolio_greeks(portfolio, market).delta

    def hedge_band(self) -> float:
        cost = self.config.perp_book.half_spread + self.config.perp_book.taker_fee
        spot = self.pipeline.spot or self.path.params.spot0
        width = whalley_wilmott_half_width(self.gamma, spot, cost, self.config.hedge_risk_aversion)
        return max(width, self.config.hedge_band_floor)

    def on_trades(self, trades: list[OptionTrade]) -> None:
        taker_buys = sum(-t.quantity for t in trades if t.quantity < 0)
        taker_sells = sum(t.quantity for t in trades if t.quantity > 0)
        self.pipeline.on_trades(taker_buys, taker_sells)


class StaticAmmQuoter:
    """Static AMM-style quoter: flat vol fixed at the open, fixed vol spread, fixed size, always on."""

    name = "Static AMM"

    def __init__(self, config: StudyConfig, path: MarketPath, grid: OptionGrid, opening_iv: float):
        self.config = config
        self.path = path
        self.grid = grid
        self.vol = opening_iv
        self.spot = path.params.spot0

    def quote(self, step: int, obs: MarketTick, portfolio: Portfolio) -> QuoteArrays:
        n = self.grid.strike.size
        try:
            self.spot = aggregate_market(obs.feeds, obs.timestamp).spot.value
        except InsufficientSources:
            return QuoteArrays.empty(n)
        h = self.config.amm_half_spread_vol_points / 100.0
        args = (self.spot, self.grid.strike, self.grid.t[step], self.config.market.rate)
        bid = np.asarray(bsm_price(*args, max(self.vol - h, 0.01), self.grid.is_call))
        ask = np.asarray(bsm_price(*args, self.vol + h, self.grid.is_call))
        size = np.full(n, self.config.amm_size)
        return QuoteArrays(bid, ask, size.copy(), size.copy())

    def book_delta(self, step: int, portfolio: Portfolio) -> float:
        index = {inst: i for i, inst in enumerate(self.grid.instruments)}
        if not portfolio.options:
            return portfolio.perp
        idx = np.array([index[i] for i in portfolio.options])
        q = np.array(list(portfolio.options.values()))
        d = np.asarray(
            bsm_greeks(
                self.spot,
                self.grid.strike[idx],
                self.grid.t[step, idx],
                self.config.market.rate,
                self.vol,
                self.grid.is_call[idx],
            ).delta
        )
        return portfolio.perp + float(q @ d)

    def hedge_band(self) -> float:
        return self.config.amm_hedge_band

    def on_trades(self, trades: list[OptionTrade]) -> None:
        return None


@dataclass
class RunRecord:
    """A quoter's day: equity and inventory per step, its trades, and its hedging."""

    name: str
    equity: np.ndarray
    net_delta: np.ndarray
    net_vega: np.ndarray
    quoting: np.ndarray
    trades: list[OptionTrade] = field(default_factory=list)
    hedge_cost: float = 0.0
    hedge_volume: float = 0.0


def run_quoter(
    quoter: Quoter,
    path: MarketPath,
    grid: OptionGrid,
    flow: OrderFlow,
    observations: list[MarketTick],
    config: StudyConfig,
    progress: Callable[[int], None] | None = None,
) -> RunRecord:
    """Run one quoter through the day: quote, trade with the flow, hedge, mark to the true fair values."""
    n_steps = path.n_steps
    portfolio = Portfolio(cash=config.capital)
    book = SimulatedPerpBook(config.perp_book)
    pending: deque[float] = deque()
    index = {inst: i for i, inst in enumerate(grid.instruments)}
    record = RunRecord(
        quoter.name,
        np.zeros(n_steps + 1),
        np.zeros(n_steps + 1),
        np.zeros(n_steps + 1),
        np.zeros(n_steps + 1, dtype=bool),
    )
    for step in range(n_steps + 1):
        quotes = quoter.quote(step, observations[step], portfolio)
        record.quoting[step] = bool(np.any(quotes.bid_size > 0) or np.any(quotes.ask_size > 0))
        trades = match_order_flow(step, quotes, flow, grid)
        for tr in trades:
            portfolio.apply_fill(Fill(grid.instruments[tr.option], tr.quantity, tr.price))
        record.trades.extend(trades)
        quoter.on_trades(trades)

        delta = quoter.book_delta(step, portfolio)
        plan = plan_delta_hedge(delta + sum(pending), quoter.hedge_band())
        if plan.trades:
            pending = deque(twap_child_sizes(plan.quantity + sum(pending), config.hedge_children).tolist())
        if pending:
            child = book.execute(pending.popleft(), float(path.spot[step]), step)
            portfolio.apply_fill(Fill(PERP, child.quantity, child.price, child.fee))
            record.hedge_cost += child.cost
            record.hedge_volume += abs(child.quantity)
        book.advance()

        # mark to the market's true fair values (the study's omniscient view, not the quoter's)
        idx = np.array([index[i] for i in portfolio.options], dtype=int)
        q = np.array(list(portfolio.options.values()), dtype=float)
        record.equity[step] = portfolio.cash + portfolio.perp * path.spot[step] + float(q @ grid.value[step, idx])
        record.net_delta[step] = portfolio.perp + float(q @ grid.delta[step, idx])
        record.net_vega[step] = float(q @ grid.vega_point[step, idx])
        if progress is not None:
            progress(1)
    return record


@dataclass(frozen=True)
class StrategySummary:
    """Day totals of one quoter, currency unless stated."""

    lp_pnl: float
    spread_capture: float
    adverse_selection_loss: float
    adverse_selection_loss_informed: float
    hedging_cost: float
    max_drawdown: float
    trades: int
    informed_trades: int
    option_volume: float  # contracts
    hedge_volume: float  # units of underlying
    quoting_share: float  # fraction of steps with a live quote
    final_net_delta: float  # units of underlying, at true Greeks
    final_net_vega_per_point: float  # currency per vol point


def summarize(record: RunRecord, grid: OptionGrid, horizon: int) -> StrategySummary:
    last = grid.value.shape[0] - 1
    spread = sum(t.quantity * (grid.value[t.step, t.option] - t.price) for t in record.trades)
    markout = [
        t.quantity * (grid.value[min(t.step + horizon, last), t.option] - grid.value[t.step, t.option])
        for t in record.trades
    ]
    informed = [m for m, t in zip(markout, record.trades) if t.informed]
    drawdown = float(np.max(np.maximum.accumulate(record.equity) - record.equity))
    return StrategySummary(
        lp_pnl=float(record.equity[-1] - record.equity[0]),
        spread_capture=float(spread),
        adverse_selection_loss=float(-sum(markout)),
        adverse_selection_loss_informed=float(-sum(informed)),
        hedging_cost=float(record.hedge_cost),
        max_drawdown=drawdown,
        trades=len(record.trades),
        informed_trades=sum(t.informed for t in record.trades),
        option_volume=float(sum(abs(t.quantity) for t in record.trades)),
        hedge_volume=float(record.hedge_volume),
        quoting_share=float(record.quoting.mean()),
        final_net_delta=float(record.net_delta[-1]),
        final_net_vega_per_point=float(record.net_vega[-1]),
    )


@dataclass(frozen=True)
class StudyResult:
    """The study's outcome: both strategies' summaries, the DLPE's internals, and the files written."""

    seed: int
    run_seconds: float
    dlpe: StrategySummary
    amm: StrategySummary
    regime_share: dict[str, float]
    regime_detection_accuracy: float
    breaker_pauses: int
    oracle_failures: int
    surface_repairs: int
    max_scenario_gap: float
    files: tuple[Path, ...]


def _observations(path: MarketPath, grid: OptionGrid, config: StudyConfig, seed: int) -> list[MarketTick]:
    """The whole day as the simulator feed delivers it (solver.feeds.simulated), drawn once per seed."""
    feed = SimulatedFeed(path, np.unique(grid.t[0]), config.feeds, config.refit_every_steps, seed)
    return [feed.tick(step) for step in range(path.n_steps + 1)]


def run_study(
    seed: int, out_dir: Path, config: StudyConfig = StudyConfig(), progress: Callable[[int], None] | None = None
) -> StudyResult:
    """Simulate one day (seed ``seed``), run the DLPE and the static AMM on it, write plots and tables to ``out_dir``.

    ``progress``, if given, is called with the number of steps just done (2 x (n_steps + 1) in all).
    """
    # The pricing kernels are parallel numba; on arrays of a dozen options the thread
    # start-up costs far more than the work (milliseconds per call on a busy 2-core
    # machine), and the study makes about ten thousand such calls: run it on one thread.
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return _run_study(seed, out_dir, config, progress)
    finally:
        numba.set_num_threads(threads)


def _run_study(seed: int, out_dir: Path, config: StudyConfig, progress: Callable[[int], None] | None) -> StudyResult:
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = simulate_market(config.market, seed)
    grid = fair_value_grid(path, listed_options(config.market))
    flow = draw_order_flow(path.n_steps, len(grid.instruments), config.flow, seed + 1)
    observations = _observations(path, grid, config, seed + 2)

    dlpe = DlpeQuoter(config, path, grid)
    dlpe_run = run_quoter(dlpe, path, grid, flow, observations, config, progress)
    opening_iv = aggregate_market(observations[0].feeds, config.market.start.timestamp()).iv_index.value
    amm_run = run_quoter(
        StaticAmmQuoter(config, path, grid, opening_iv), path, grid, flow, observations, config, progress
    )

    horizon = config.flow.horizon_steps
    dlpe_summary, amm_summary = summarize(dlpe_run, grid, horizon), summarize(amm_run, grid, horizon)
    true_regimes = [REGIMES[r] for r in path.regime]
    detected = dlpe.regimes
    accuracy = float(np.mean([a is b for a, b in zip(true_regimes, detected)]))
    shares = {r.value: float(np.mean(path.regime == i)) for i, r in enumerate(REGIMES)}
    pauses = sum(e.state is BreakerState.PAUSED for e in dlpe.breaker.events)
    run_seconds = time.perf_counter() - started

    files = _plots(out_dir, path, dlpe_run, amm_run, detected, dlpe.states)
    result = StudyResult(
        seed=seed,
        run_seconds=run_seconds,
        dlpe=dlpe_summary,
        amm=amm_summary,
        regime_share=shares,
        regime_detection_accuracy=accuracy,
        breaker_pauses=pauses,
        oracle_failures=dlpe.oracle_failures,
        surface_repairs=dlpe.repairs,
        max_scenario_gap=float(max(dlpe.scenario_gaps, default=0.0)),
        files=(),
    )
    files += _tables(out_dir, result)
    return replace(result, files=tuple(files))


def _plots(
    out_dir: Path, path: MarketPath, dlpe: RunRecord, amm: RunRecord, detected: list[Regime], states: list[BreakerState]
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = np.arange(path.n_steps + 1) * path.params.step_seconds / 60.0
    colors = {0: "#e8f4e8", 1: "#fdf0d5", 2: "#f8d7da"}
    files = []

    fig, axes = plt.subplots(3, 1, figsize=(11, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1.5, 1]})
    ax = axes[0]
    ax.plot(minutes, path.spot, color="black", lw=1)
    low, high = path.spot.min() * 0.995, path.spot.max() * 1.005
    for code_, color in colors.items():
        ax.fill_between(minutes, low, high, where=path.regime == code_, color=color, step="post", lw=0)
    ax.set_ylim(low, high)
    ax.set_ylabel("BTC spot (USD)")
    ax.set_title("Simulated day: spot, true regime (green low vol, yellow high vol, red cascade)")
    axes[1].plot(minutes, path.atm_iv * 100, color="tab:purple")
    axes[1].set_ylabel("30d ATM IV (%)")
    code = {Regime.LOW_VOL: 0, Regime.HIGH_VOL: 1, Regime.LIQUIDATION_CASCADE: 2}
    axes[2].step(minutes[: len(detected)], [code[r] for r in detected], where="post", label="detected regime")
    axes[2].step(minutes, path.regime, where="post", alpha=0.6, label="true regime")
    axes[2].step(
        minutes[: len(states)],
        [2.5 if s is BreakerState.PAUSED else np.nan for s in states],
        where="post",
        color="red",
        lw=4,
        label="breaker paused",
    )
    axes[2].set_yticks([0, 1, 2])
    axes[2].set_yticklabels(["low", "high", "cascade"])
    axes[2].set_xlabel("minutes")
    axes[2].legend(loc="upper left", fontsize=7, ncol=3)
    fig.tight_layout()
    files.append(out_dir / "market.png")
    fig.savefig(files[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(3, 1, figsize=(11, 8), sharex=True)
    for run, color in ((dlpe, "tab:blue"), (amm, "tab:orange")):
        axes[0].plot(minutes, run.equity - run.equity[0], color=color, label=run.name)
        axes[1].plot(minutes, run.net_delta, color=color, label=run.name)
        axes[2].plot(minutes, run.net_vega, color=color, label=run.name)
    axes[0].set_ylabel("LP PnL (USD)")
    axes[1].set_ylabel("net delta (BTC)")
    axes[2].set_ylabel("net vega (USD / vol pt)")
    axes[2].set_xlabel("minutes")
    axes[0].legend()
    axes[0].set_title("DLPE vs static AMM: PnL and inventory (options marked at the market's fair value)")
    fig.tight_layout()
    files.append(out_dir / "pnl_inventory.png")
    fig.savefig(files[-1], dpi=110)
    plt.close(fig)
    return files


def _tables(out_dir: Path, result: StudyResult) -> list[Path]:
    rows = [
        ("LP PnL (USD)", "lp_pnl", "{:,.0f}"),
        ("spread capture (USD)", "spread_capture", "{:,.0f}"),
        ("adverse-selection loss (USD)", "adverse_selection_loss", "{:,.0f}"),
        ("  of which informed traders (USD)", "adverse_selection_loss_informed", "{:,.0f}"),
        ("hedging cost (USD)", "hedging_cost", "{:,.0f}"),
        ("max drawdown (USD)", "max_drawdown", "{:,.0f}"),
        ("trades", "trades", "{:d}"),
        ("informed trades", "informed_trades", "{:d}"),
        ("option volume (contracts)", "option_volume", "{:,.1f}"),
        ("hedge volume (BTC)", "hedge_volume", "{:,.1f}"),
        ("time quoting", "quoting_share", "{:.1%}"),
        ("final net delta (BTC)", "final_net_delta", "{:+.2f}"),
        ("final net vega (USD/vol pt)", "final_net_vega_per_point", "{:+,.0f}"),
    ]
    lines = [
        f"# DLPE vs static AMM, seed {result.seed}",
        "",
        "| metric | DLPE | static AMM |",
        "|---|---:|---:|",
    ]
    for label, key, fmt in rows:
        lines.append(f"| {label} | {fmt.format(getattr(result.dlpe, key))} | {fmt.format(getattr(result.amm, key))} |")
    lines += [
        "",
        "Regime share (true): " + ", ".join(f"{k} {v:.1%}" for k, v in result.regime_share.items()),
        f"Regime detection accuracy (DLPE vs true, per step): {result.regime_detection_accuracy:.1%}",
        f"Breaker pauses: {result.breaker_pauses}; oracle failures: {result.oracle_failures}; surface repairs: {result.surface_repairs}",
        f"Largest scenario-grid worst-loss gap, full repricing vs delta-gamma-vega (USD): {result.max_scenario_gap:,.0f}",
        f"Run time: {result.run_seconds:.1f} s",
        "",
    ]
    md = out_dir / "summary.md"
    md.write_text("\n".join(lines))
    payload = {k: v for k, v in asdict(result).items() if k != "files"}
    js = out_dir / "summary.json"
    js.write_text(json.dumps(payload, indent=2))
    return [md, js]
