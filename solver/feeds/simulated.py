"""The market simulator (engine.simulator) as a feed: a simulated path, observed as a quoter would.

Each tick carries the oracle reports of that step (noisy, sometimes stale or corrupt:
engine.simulator.oracle_feeds), the step's liquidation volume, and every ``refit_every`` steps
the smiles quoted elsewhere (engine.simulator.observed_smiles). The draws come from one
generator seeded once, so a seed fixes the whole day; the study (study.backtest) reads the same
ticks as the service does.

``SimulatedFeed.live`` starts the simulated market at the wall clock and paces ``next_tick``
so that each tick arrives at its own timestamp (one tick per ``step_seconds``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np

from engine.simulator import FeedParams, MarketParams, MarketPath, listed_options, observed_smiles, oracle_feeds
from engine.simulator import simulate_market
from solver.feeds.base import FeedExhausted
from circuits.batch import BatchRequest
from solver.pipeline import BatchSpec, MarketTick, PipelineConfig, QuotingPipeline, plan_batch, to_batch_request

YEAR_SECONDS = 365.0 * 86400.0


class SimulatedFeed:
    """Ticks of a simulated market path (see the module doc). ``expiries``: the listed expiries in
    years from the path's start, whose smiles are observed."""

    def __init__(self, path: MarketPath, expiries: np.ndarray, feeds: FeedParams, refit_every: int, seed: int,
                 *, paced: bool = False):
        self.path = path
        self.expiries = np.asarray(expiries, dtype=float)
        self.feed_params = feeds
        self.refit_every = refit_every
        self.rng = np.random.default_rng(seed)
        self.paced = paced
        self.step = 0
        self.instruments = tuple(listed_options(path.params))
        self.rate = path.params.rate
        self.warmup_returns = path.warmup_returns
        self.warmup_liquidation = path.warmup_liquidation

    @classmethod
    def live(cls, params: MarketParams = MarketParams(), *, seed: int = 1, feeds: FeedParams = FeedParams(),
             refit_every: int = 30, start: datetime | None = None) -> SimulatedFeed:
        """A simulated market starting at ``start`` (default: now, to the second), paced in real time."""
        start = start or datetime.fromtimestamp(int(time.time()), tz=timezone.utc)
        params = replace(params, start=start)
        path = simulate_market(params, seed)
        expiries = np.array([(i.expiry_datetime() - start).total_seconds() for i in listed_options(params)])
        return cls(path, np.unique(expiries) / YEAR_SECONDS, feeds, refit_every, seed + 2, paced=True)

    def tick(self, step: int) -> MarketTick:
        """The observation at ``step`` (draws from the feed's generator: call in step order)."""
        params = self.path.params
        smiles = None
        if step % self.refit_every == 0:
            t_now = self.expiries - step * params.step_seconds / YEAR_SECONDS
            smiles = tuple(observed_smiles(self.path, step, t_now, self.rng))
        reports = oracle_feeds(self.path, step, self.feed_params, self.rng)
        timestamp = params.start.timestamp() + step * params.step_seconds
        return MarketTick(timestamp, reports, float(self.path.liquidation_volume[step]), smiles)

    def next_tick(self) -> MarketTick:
        """The next step's tick; when paced, waits until its timestamp. FeedExhausted after the last step."""
        if self.step > self.path.n_steps:
            raise FeedExhausted(f"the simulated market ended after {self.path.n_steps + 1} ticks")
        tick = self.tick(self.step)
        self.step += 1
        if self.paced:
            time.sleep(max(0.0, tick.timestamp - time.time()))
        return tick


def simulated_batch_request(n_quotes: int, seed: int = 1, *, nonce: int = 1,
                            spec: BatchSpec | None = None) -> tuple[BatchRequest, int]:
    """A batch request made the way the service makes one: a simulated market (seed ``seed``) run
    through the pipeline until it quotes, then planned at the feed's own spot as the oracle's.

    Returns the request and its expiry, as seconds after the oracle observation (the vault derives
    t from the two). For the demo and the benchmarks; the service plans against its real oracle."""
    from engine import fixed as fx
    from engine.risk import Portfolio

    config = PipelineConfig()
    feed = SimulatedFeed.live(MarketParams(n_steps=120, warmup_steps=600), seed=seed,
                              start=datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc))
    feed.paced = False
    pipeline = QuotingPipeline(config, feed.instruments, feed.warmup_returns, feed.warmup_liquidation)
    book = Portfolio()
    spec = spec or BatchSpec(n_quotes=n_quotes)
    while True:
        tick = feed.next_tick()  # FeedExhausted if the simulated day never quotes
        quotes = pipeline.on_tick(tick, book)
        if quotes.withheld is None:
            oracle_time = int(tick.timestamp)
            plan = plan_batch(quotes, book, oracle_spot=fx.to_fixed(quotes.spot), oracle_time=oracle_time,
                              nonce=nonce, spec=spec, config=config, state_salt=seed, portfolio_salt=seed + 1)
            return to_batch_request(plan), plan.expiry - oracle_time
