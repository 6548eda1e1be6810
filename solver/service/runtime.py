"""The running solver: feed -> validation -> pipeline on one thread, the batch scheduler on another,
prover workers in their own processes, and the state the API reads (latest quotes, risk, batches).

    runtime = SolverRuntime.start(settings)    # keys, chain, store, feed, threads
    runtime.latest                              # the latest QuoteSet
    runtime.stop()
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from engine.errors import DLPEError
from engine.risk import Portfolio
from solver.feeds import FeedExhausted, MarketFeed, TickRejected, TickValidator
from solver.feeds.replay import ReplayFeed
from solver.feeds.simulated import SimulatedFeed
from engine import fixed as fx
from solver.book_plan import BookSpec
from solver.pipeline import BatchLimits, PipelineConfig, QuoteSet, QuotingPipeline, limits_fixed
from solver.service.chain import Chain, DevnetTerms, connect
from solver.service.config import ServiceSettings
from solver.service.metrics import ServiceMetrics
from solver.service.proving import CircuitKeys, ProverPool, circuit_keys
from solver.service.scheduler import BatchScheduler
from solver.service.store import JobStore
from solver.settlement import BookCapacity, vault_limits
from verifier_contracts.vault import Margins, MarketSettings, compile_vault

log = logging.getLogger("dlpe.runtime")


def make_feed(settings: ServiceSettings, validator: TickValidator) -> MarketFeed:
    if settings.feed == "replay":
        assert settings.replay_path is not None
        return ReplayFeed(settings.replay_path, validator, retime=True, speed=settings.replay_speed)
    if settings.feed == "deribit":
        from solver.feeds.deribit import DeribitConfig, DeribitFeed

        return DeribitFeed(DeribitConfig(url=settings.deribit_url, max_expiries=settings.deribit_expiries,
                                         strikes_per_expiry=settings.deribit_strikes, tick_s=settings.deribit_tick_s,
                                         backoff_s=settings.backoff_s, backoff_max_s=settings.backoff_max_s),
                           validator)
    from engine.simulator import MarketParams

    params = MarketParams(n_steps=settings.sim_steps, step_seconds=settings.sim_step_seconds)
    return SimulatedFeed.live(params, seed=settings.sim_seed)


def devnet_terms(settings: ServiceSettings, spec: BookSpec, config: PipelineConfig) -> DevnetTerms:
    """The market, limits, margins and collateral of a vault the service deploys on a devnet."""
    market = MarketSettings(rate=fx.to_fixed(config.rate), carry=0, spot_tolerance=fx.to_fixed(settings.spot_tolerance),
                            iv_band=fx.to_fixed(settings.iv_band))
    return DevnetTerms(vault_limits(limits_fixed(spec.limits)), market, Margins(model_margin=fx.ONE, solvency_margin=0),
                       collateral=settings.devnet_collateral * 10**6)


def make_pool(settings: ServiceSettings, keys: CircuitKeys) -> ProverPool:
    """Local prover processes (the default), or the Dask cluster at ``settings.workers``."""
    if settings.workers is None:
        return ProverPool(settings.prover_workers, settings.prover_nice, keys.path)
    from solver.service.dask_pool import DaskProverPool

    return DaskProverPool(settings.workers, keys.path, keys.fingerprint, settings.prover_nice)  # type: ignore[return-value]


@dataclass
class SolverRuntime:
    settings: ServiceSettings
    feed: MarketFeed
    validator: TickValidator
    pipeline: QuotingPipeline
    store: JobStore
    keys: CircuitKeys
    chain: Chain
    pool: ProverPool
    scheduler: BatchScheduler
    metrics: ServiceMetrics
    book: Portfolio
    latest: QuoteSet | None = None
    feed_state: str = "starting"
    started: float = 0.0

    @classmethod
    def start(cls, settings: ServiceSettings) -> SolverRuntime:
        metrics = ServiceMetrics()
        capacity = BookCapacity(slots=settings.book_slots, fills=settings.book_fills,
                                expiries=settings.book_expiries, quotes=settings.batch_quotes)
        spec = BookSpec(capacity=capacity, quote_size=settings.quote_size, limits=BatchLimits())
        config = PipelineConfig()
        store = JobStore(settings.db_path)
        log.info("loading or setting up the book batch circuit's keys",
                 extra={"slots": capacity.slots, "fills": capacity.fills, "expiries": capacity.expiries,
                        "quotes": capacity.quotes})
        keys = circuit_keys(capacity, settings.key_dir)
        key = settings.operator_key.get_secret_value() if settings.operator_key else None
        chain, deployed = connect(
            rpc_url=settings.rpc_url, vault_address=settings.vault_address, operator_key=key,
            post_oracle=settings.post_oracle, contracts=compile_vault(capacity.layout().to_json()), capacity=capacity,
            verifying_key=keys.verifying_key, terms=devnet_terms(settings, spec, config), deployment=store.deployment,
            key_fingerprint=keys.fingerprint)
        if deployed is not None:
            store.record_deployment(chain.chain_id, deployed, keys.fingerprint)
        if chain.anvil is not None:
            store.reject_unfinished("the service's own devnet was restarted: its batches are gone with it")
        pool = make_pool(settings, keys)
        # the feed starts last: a live feed's first tick is due now, not when the keys were made
        validator = TickValidator(max_age_s=settings.max_tick_age_s)
        feed = make_feed(settings, validator)
        pipeline = QuotingPipeline(config, feed.instruments, feed.warmup_returns, feed.warmup_liquidation)
        book = Portfolio()
        runtime = cls(settings, feed, validator, pipeline, store, keys, chain, pool, None, metrics, book)  # type: ignore[arg-type]
        runtime.scheduler = BatchScheduler(
            store=store, pool=pool, chain=chain, spec=spec, config=config, latest_quotes=lambda: runtime.latest,
            book=lambda: runtime.book, metrics=metrics, cut_interval_s=settings.cut_interval_s,
            cut_on_move=settings.cut_on_move, prove_attempts=settings.prove_attempts, backoff_s=settings.backoff_s,
            backoff_max_s=settings.backoff_max_s, receipt_timeout_s=settings.receipt_timeout_s)
        runtime.scheduler.recover()
        runtime.started = time.time()
        return runtime

    def run_threads(self, on_quotes: Callable[[QuoteSet], Any]) -> None:
        """Start the feed and scheduler threads; ``on_quotes`` is called (feed thread) on every quote set."""
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._feed_loop, args=(on_quotes,), name="dlpe-feed", daemon=True),
            threading.Thread(target=self.scheduler.run, args=(self._stop.is_set,), name="dlpe-scheduler",
                             daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _feed_loop(self, on_quotes: Callable[[QuoteSet], Any]) -> None:
        self.feed_state = "running"
        while not self._stop.is_set():
            try:
                tick = self.validator.check(self.feed.next_tick())
            except FeedExhausted as end:
                self.feed_state = "exhausted"
                log.warning("feed ended", extra={"detail": str(end)})
                return
            except TickRejected as rejected:
                self.metrics.tick_rejections.labels(rejected.reason.value).inc()
                continue
            self.metrics.ticks.inc()
            try:
                quotes = self.pipeline.on_tick(tick, self.book)
            except DLPEError as error:
                self.metrics.pipeline_errors.inc()
                log.warning("pipeline failed on a tick", extra={"error": str(error)})
                continue
            if quotes.snapshot is not None:
                for agg in (quotes.snapshot.spot, quotes.snapshot.perp_mark, quotes.snapshot.iv_index):
                    for rejection in agg.rejected:
                        self.metrics.oracle_rejections.labels(agg.kind.value, rejection.reason.value).inc()
            self.metrics.live_quotes.set(sum(q.is_live for q in quotes.quotes))
            self.latest = quotes
            on_quotes(quotes)

    def stop(self) -> None:
        if hasattr(self, "_stop"):
            self._stop.set()
            for t in self._threads:
                t.join(timeout=5)
        self.pool.close()
        self.chain.close()
        self.store.close()


def broadcaster(loop: asyncio.AbstractEventLoop, queues: set[asyncio.Queue]) -> Callable[[QuoteSet], None]:
    """A feed-thread callback that hands each quote set to every websocket's queue on the event loop."""

    def publish(quotes: QuoteSet) -> None:
        for q in list(queues):
            loop.call_soon_threadsafe(_offer, q, quotes)

    return publish


def _offer(queue: asyncio.Queue, item: Any) -> None:
    if queue.full():
        queue.get_nowait()  # a slow client gets the newest quotes, not a growing backlog
    queue.put_nowait(item)
