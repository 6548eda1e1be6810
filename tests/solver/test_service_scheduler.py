"""The batch scheduler's handling of prover faults that the live tests cannot time reliably: a pool
broken by a worker that died while idle (found killing the live service's worker between proofs:
every later submit raised BrokenProcessPool and the batch stayed queued for good), and a worker
that raises an unexpected error (its batch was queued again without end, past prove_attempts).

The pool and the chain are stand-ins; the store is the real SQLite one. The chain's checks of a
queued batch (oracle, nonce) are answered "still valid", since they are not what is tested here.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from engine.risk import Portfolio
from solver.book_plan import BookSpec
from solver.pipeline import PipelineConfig
from solver.service.metrics import ServiceMetrics
from solver.service.proving import shape_request
from solver.service.scheduler import BatchScheduler
from solver.service.store import BatchState, JobStore


class StandInPool:
    """A prover pool whose first ``broken`` submits raise BrokenProcessPool (an idle worker died),
    and whose futures are handed to the test to settle."""

    def __init__(self, broken: int = 0):
        self.broken = broken
        self.restarts = 0
        self.futures: list[Future] = []

    def submit(self, request) -> Future:
        if self.broken:
            self.broken -= 1
            raise BrokenProcessPool("A child process terminated abruptly, the process pool is not usable anymore")
        future: Future = Future()
        self.futures.append(future)
        return future

    def restart(self) -> None:
        self.restarts += 1


@pytest.fixture
def store(tmp_path: Path):
    jobs = JobStore(tmp_path / "solver.sqlite")
    yield jobs
    jobs.close()


def scheduler_with(store: JobStore, pool: StandInPool, metrics: ServiceMetrics) -> BatchScheduler:
    scheduler = BatchScheduler(
        store=store, pool=pool, chain=None, spec=BookSpec(), config=PipelineConfig(),  # type: ignore[arg-type]
        latest_quotes=lambda: None, book=Portfolio, metrics=metrics, cut_interval_s=3600, cut_on_move=1.0,
        prove_attempts=3, backoff_s=0.01, backoff_max_s=0.01, receipt_timeout_s=1)
    scheduler._stale = lambda batch: None  # the chain's validity checks are not under test
    return scheduler


def queued_batch(store: JobStore) -> int:
    return store.add(shape_request(BookSpec().capacity), expiry=1_900_000_000, instruments=["BTC-7DEC26-60000-C"])


def restarts(metrics: ServiceMetrics) -> float:
    return metrics.registry.get_sample_value("dlpe_prover_restarts_total")


def test_a_pool_broken_while_idle_is_restarted_and_the_batch_proven(store: JobStore) -> None:
    pool, metrics = StandInPool(broken=1), ServiceMetrics()
    scheduler = scheduler_with(store, pool, metrics)
    batch_id = queued_batch(store)
    assert scheduler.step() == 0.0
    batch = store.get(batch_id)
    assert (batch.state, batch.attempts) == (BatchState.PROVING, 1)
    assert pool.restarts == 1 and len(pool.futures) == 1 and restarts(metrics) == 1


def test_a_pool_that_stays_broken_leaves_the_batch_queued_for_the_next_step(store: JobStore) -> None:
    pool, metrics = StandInPool(broken=2), ServiceMetrics()
    scheduler = scheduler_with(store, pool, metrics)
    batch_id = queued_batch(store)
    with pytest.raises(BrokenProcessPool):  # to the run loop, which logs it and steps again after a backoff
        scheduler.step()
    assert store.get(batch_id).state is BatchState.QUEUED
    assert scheduler.step() == 0.0 and store.get(batch_id).state is BatchState.PROVING


def test_a_worker_that_raises_rejects_the_batch_with_the_error(store: JobStore) -> None:
    pool, metrics = StandInPool(), ServiceMetrics()
    scheduler = scheduler_with(store, pool, metrics)
    batch_id = queued_batch(store)
    scheduler.step()
    pool.futures[0].set_exception(RuntimeError("the key file is unreadable"))
    scheduler.step()
    batch = store.get(batch_id)
    assert batch.state is BatchState.REJECTED
    assert batch.error == "proof failed: RuntimeError: the key file is unreadable"
    assert scheduler.step() == 0.0 and len(pool.futures) == 1  # nothing queued again


def test_a_worker_that_dies_mid_proof_is_retried_up_to_prove_attempts(store: JobStore) -> None:
    pool, metrics = StandInPool(), ServiceMetrics()
    scheduler = scheduler_with(store, pool, metrics)
    batch_id = queued_batch(store)
    for attempt in (1, 2, 3):
        scheduler.step()  # queued -> proving
        assert store.get(batch_id).attempts == attempt
        pool.futures[-1].set_exception(BrokenProcessPool("killed"))
        scheduler.step()  # proving -> queued again, or rejected after the last attempt
    batch = store.get(batch_id)
    assert batch.state is BatchState.REJECTED and batch.error == "prover worker died 3 times"
    assert pool.restarts == 3 and restarts(metrics) == 3
