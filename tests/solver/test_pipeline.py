"""The pipeline from ticks to quotes to a batch request the circuit accepts."""

from dataclasses import replace
from pathlib import Path

import pytest

from circuits.builder import ConstraintSystem
from circuits.batch import batch_circuit
from engine import fixed as fx
from engine.fixed_quote import min_half_spread_fixed, PolicyFixed
from engine.oracle import FeedKind, FeedQuote
from engine.risk import Portfolio
from solver.feeds.replay import ReplayFeed
from solver.pipeline import (
    BatchSpec,
    NothingToBatch,
    PipelineConfig,
    QuotingPipeline,
    Withheld,
    plan_batch,
    to_batch_request,
)

RECORDING = Path(__file__).resolve().parents[1] / "data" / "market_replay.jsonl"


@pytest.fixture(scope="module")
def quoted():
    feed = ReplayFeed(RECORDING)
    pipeline = QuotingPipeline(PipelineConfig(), feed.instruments, feed.warmup_returns, feed.warmup_liquidation)
    ticks = [feed.next_tick() for _ in range(5)]
    return pipeline, [pipeline.on_tick(t, Portfolio()) for t in ticks], ticks


def test_ticks_become_live_two_sided_quotes(quoted):
    pipeline, results, _ = quoted
    last = results[-1]
    assert last.withheld is None and len(last.quotes) == len(pipeline.instruments)
    for q in last.quotes:
        assert q.is_live and 0 <= q.bid < q.mid < q.ask
    assert last.spot == pytest.approx(60_000, rel=0.02)


def test_a_tick_without_healthy_feeds_withholds_quotes(quoted):
    pipeline, _, ticks = quoted
    broken = replace(ticks[-1], timestamp=ticks[-1].timestamp + 1,
                     feeds={**ticks[-1].feeds, FeedKind.SPOT: [FeedQuote("spot_0", float("nan"), ticks[-1].timestamp)]})
    result = pipeline.on_tick(broken, Portfolio())
    assert result.withheld is Withheld.ORACLE and result.quotes == ()
    with pytest.raises(NothingToBatch):
        plan_batch(result, Portfolio(), oracle_spot=fx.to_fixed(60_000.0), oracle_time=int(broken.timestamp),
                   nonce=1, spec=BatchSpec(), config=pipeline.config, state_salt=1, portfolio_salt=2)


@pytest.mark.parametrize("oracle_move", [0.0, 0.003])
def test_a_planned_batch_satisfies_the_circuit_at_the_oracle_spot(quoted, oracle_move):
    """Half spreads are recomputed at the oracle's spot and moved to the next tick, so the circuit's
    fixed-point floor is met even when the oracle's spot is not the feed's."""
    pipeline, results, ticks = quoted
    quotes = results[-1]
    oracle_spot = fx.to_fixed(quotes.spot * (1 + oracle_move))
    spec = BatchSpec(n_quotes=2, n_positions=3)
    plan = plan_batch(quotes, Portfolio(), oracle_spot=oracle_spot, oracle_time=int(ticks[-1].timestamp), nonce=7,
                      spec=spec, config=pipeline.config, state_salt=11, portfolio_salt=12)
    request = to_batch_request(plan)
    assert request.spot == oracle_spot and request.nonce == 7 and len(request.quotes) == 2
    assert len(request.positions) == 3 and all(p.quantity == 0 for p in request.positions)
    assert len({plan.quotes[0].instrument.expiry, plan.quotes[1].instrument.expiry}) == 1
    terms = fx.expiry_terms(request.t, request.rate, request.carry)
    for line in request.quotes:
        g = fx.bsm_fixed_svi(request.spot, line.strike, terms, request.svi, line.is_call)
        floor = min_half_spread_fixed(request.policy, request.spot, g.gamma, g.vega, request.net_vega,
                                      request.high_vol)
        assert line.half_spread > floor
    cs = ConstraintSystem()
    batch_circuit(cs, request)
    assert cs.first_failure() is None


def test_to_batch_request_refuses_values_outside_the_circuit_domain(quoted):
    pipeline, results, ticks = quoted
    plan = plan_batch(results[-1], Portfolio(), oracle_spot=fx.to_fixed(60_000.0), oracle_time=int(ticks[-1].timestamp),
                      nonce=1, spec=BatchSpec(), config=pipeline.config, state_salt=1, portfolio_salt=2)
    with pytest.raises(ValueError, match="svi.m"):
        to_batch_request(replace(plan, svi=replace(plan.svi, m=3.0)))  # a smile the circuit's domain cannot hold
    assert PolicyFixed.from_policy(plan.policy) == to_batch_request(plan).policy
