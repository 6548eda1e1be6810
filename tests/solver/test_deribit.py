"""The Deribit feed against a local venue speaking Deribit's JSON-RPC websocket protocol
(tests/solver/deribit_venue.py): chain and history at connection, heartbeats answered, ticks
mapped into the oracle and through the pipeline to quotes, bad messages rejected with their
reason and counted, trade_seq gaps counted, reconnection after the venue hangs up."""

from __future__ import annotations

import threading
import time

import pytest

from engine import fixed as fx
from engine.oracle import FeedKind, aggregate_market
from engine.risk import Portfolio
from solver.feeds import TickRejected, TickRejection, TickValidator
from solver.feeds.deribit import DeribitConfig, DeribitError, DeribitFeed
from solver.pipeline import BatchSpec, PipelineConfig, QuotingPipeline, plan_batch, to_batch_request
from tests.solver.deribit_venue import DeribitVenue, dvol, index, option_ticker, trades

TICK_S = 0.3  # long enough for a round of notifications to arrive on loopback before the tick is cut


def now_ms(offset_s: float = 0.0) -> int:
    return int((time.time() + offset_s) * 1000)


@pytest.fixture
def venue():
    with DeribitVenue() as v:
        yield v


@pytest.fixture
def feed(venue):
    f = DeribitFeed(DeribitConfig(url=venue.url, tick_s=TICK_S, refit_s=0.0), TickValidator())
    yield f
    f.close()


def next_good_tick(feed: DeribitFeed, attempts: int = 20):
    for _ in range(attempts):
        try:
            return feed.next_tick()
        except TickRejected:
            continue
    raise AssertionError(f"no tick after {attempts} rejections")


def test_connects_subscribes_and_answers_heartbeats(venue, feed):
    methods = venue.methods()
    assert methods[0] == "public/set_heartbeat" and venue.received[0][1] == {"interval": 10}
    assert "public/test" in methods  # the answer to the venue's test_request
    assert methods.index("public/subscribe") > methods.index("public/get_instruments")
    assert "deribit_price_index.btc_usd" in venue.subscribed
    assert "ticker.BTC-PERPETUAL.100ms" in venue.subscribed
    assert f"ticker.{feed.instruments[0].name}.100ms" in venue.subscribed
    # nearest two expiries, 7 out-of-the-money strikes each around the index
    assert len(feed.instruments) == 14 and len({i.expiry for i in feed.instruments}) == 2
    assert all(i.is_call == (i.strike >= venue.spot) for i in feed.instruments)
    assert feed.warmup_returns.size == 599


def test_tick_feeds_the_oracle_and_the_pipeline_quotes(venue, feed):
    venue.send_round()
    tick = TickValidator(max_age_s=5.0).check(next_good_tick(feed))
    sources = {kind: {q.source for q in reports} for kind, reports in tick.feeds.items()}
    assert sources[FeedKind.SPOT] == {"deribit:index", "deribit:bitstamp", "deribit:coinbase", "deribit:kraken",
                                      "deribit:gemini"}
    assert sources[FeedKind.PERP_MARK] == {"deribit:BTC-PERPETUAL", "deribit:BTC_USDC-PERPETUAL"}
    assert sources[FeedKind.IV_INDEX] == {"deribit:dvol", "deribit:atm_mark_iv"}
    snapshot = aggregate_market(tick.feeds, time.time())
    assert snapshot.spot.value == pytest.approx(60_000.0, rel=1e-4)
    assert snapshot.iv_index.value == pytest.approx(0.60, abs=0.005)
    assert tick.smiles is not None and len(tick.smiles) == 2
    t, k, vols = tick.smiles[0]
    assert 6 / 365 < t < 8 / 365 and k.size == 7 and vols[3] == pytest.approx(0.60, abs=0.01)

    pipeline = QuotingPipeline(PipelineConfig(), feed.instruments, feed.warmup_returns, feed.warmup_liquidation)
    quotes = pipeline.on_tick(tick, Portfolio())
    assert quotes.withheld is None
    assert {q.instrument.name for q in quotes.quotes} == {i.name for i in feed.instruments}
    assert all(q.bid < q.ask for q in quotes.quotes if q.is_live)
    # and the service's next step: a batch request within the circuit's bounds
    plan = plan_batch(quotes, Portfolio(), oracle_spot=fx.to_fixed(quotes.spot), oracle_time=int(tick.timestamp),
                      nonce=1, spec=BatchSpec(n_quotes=1), config=PipelineConfig(), state_salt=1, portfolio_salt=2)
    assert to_batch_request(plan).spot == fx.to_fixed(quotes.spot)


def price_index_data(data: dict) -> dict:
    return {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": "deribit_price_index.btc_usd",
                                                                    "data": data}}


BAD_MESSAGES = {
    "not JSON": (lambda: "{not json", TickRejection.MALFORMED, "not JSON"),
    "not JSON-RPC": (lambda: '{"id": 1, "result": "ok"}', TickRejection.MALFORMED, "JSON-RPC"),
    "no timestamp": (lambda: price_index_data({"price": 1.0}), TickRejection.MALFORMED, "timestamp"),
    "price a string": (lambda: price_index_data({"price": "NaN", "timestamp": now_ms()}), TickRejection.MALFORMED,
                       "price"),
    "negative vol": (lambda: dvol(now_ms(), volatility=-3.0), TickRejection.MALFORMED, "volatility"),
    "no channel": (lambda: {"jsonrpc": "2.0", "method": "subscription", "params": {}}, TickRejection.MALFORMED,
                   "channel"),
    "a minute old": (lambda: index(now_ms(-60)), TickRejection.STALE, "age"),
}


@pytest.mark.parametrize("case", BAD_MESSAGES)
def test_bad_messages_are_rejected_counted_and_never_reach_a_tick(venue, feed, case):
    make, reason, detail = BAD_MESSAGES[case]
    venue.send(make())
    with pytest.raises(TickRejected) as rejected:
        feed.next_tick()
    assert rejected.value.reason is reason and detail in rejected.value.detail
    assert feed.validator.counts[reason] == 1
    venue.send_round()
    tick = next_good_tick(feed)
    assert {q.value for q in tick.feeds[FeedKind.SPOT] if q.source == "deribit:index"} == {60_000.0}
    assert {q.value for q in tick.feeds[FeedKind.IV_INDEX]} == {0.60}


def test_out_of_order_messages_are_rejected(venue, feed):
    venue.send_round()
    next_good_tick(feed)
    name = feed.instruments[3].name
    venue.send(option_ticker(name, now_ms(-1.0), mark_iv=99.0))  # older than the round's ticker
    with pytest.raises(TickRejected) as rejected:
        feed.next_tick()
    assert rejected.value.reason is TickRejection.OUT_OF_ORDER and name in rejected.value.detail
    venue.send(trades(now_ms(), [10, 11]), trades(now_ms(), [11]))
    with pytest.raises(TickRejected) as rejected:
        feed.next_tick()
    assert rejected.value.reason is TickRejection.OUT_OF_ORDER and "trade_seq 11" in rejected.value.detail
    assert feed.validator.counts[TickRejection.OUT_OF_ORDER] == 2


def test_trade_sequence_gaps_are_counted_and_liquidations_summed(venue, feed):
    venue.send_round()
    next_good_tick(feed)
    venue.send(trades(now_ms(), [1, 2]), trades(now_ms(), [5], liquidation=True, amount=60_000.0))
    venue.send(index(now_ms()))
    tick = next_good_tick(feed)
    assert feed.gaps["trades.BTC-PERPETUAL.100ms"] == 1
    assert tick.liquidation_volume == pytest.approx(1.0)  # 60,000 USD at 60,000 USD per BTC


def test_error_answers_are_counted(venue, feed):
    venue.send({"jsonrpc": "2.0", "id": 999, "error": {"code": 10028, "message": "too_many_requests"}},
               index(now_ms()))
    venue.send_round()
    next_good_tick(feed)
    assert feed.errors[10028] == 1


def test_reconnects_and_resubscribes_after_the_venue_hangs_up(venue, feed):
    venue.send_round()
    next_good_tick(feed)

    def hang_up_then_stream() -> None:
        venue.drop()
        deadline = time.time() + 10
        while venue.methods().count("public/subscribe") < 2 and time.time() < deadline:
            time.sleep(0.02)
        venue.send_round()

    helper = threading.Thread(target=hang_up_then_stream)
    helper.start()
    tick = next_good_tick(feed)  # sees the close, reconnects with backoff, resubscribes, reads the round
    helper.join()
    assert feed.reconnects == 1 and venue.methods().count("public/subscribe") == 2
    assert venue.methods().count("public/set_heartbeat") == 2
    assert tick.feeds[FeedKind.SPOT]


def test_no_venue_is_a_typed_error():
    with pytest.raises(DeribitError, match="no connection"):
        DeribitFeed(DeribitConfig(url="ws://127.0.0.1:9/ws/api/v2", connect_attempts=2, backoff_s=0.01))


def test_a_venue_that_answers_errors_is_a_typed_error(venue):
    venue.refuse.add("public/get_instruments")
    with pytest.raises(DeribitError, match="public/get_instruments"):
        DeribitFeed(DeribitConfig(url=venue.url, connect_attempts=1))


def test_settings_take_the_deribit_feed_and_a_dask_scheduler(monkeypatch):
    from pydantic import ValidationError

    from solver.service.config import ServiceSettings

    monkeypatch.delenv("DLPE_CONFIG", raising=False)  # another test's config file must not apply

    settings = ServiceSettings(feed="deribit", deribit_url="ws://127.0.0.1:9000/ws/api/v2",
                               workers="tcp://127.0.0.1:8786")
    assert settings.feed == "deribit" and settings.workers == "tcp://127.0.0.1:8786"
    with pytest.raises(ValidationError, match="workers"):
        ServiceSettings(workers="127.0.0.1:8786")  # no scheme: not a scheduler address
