"""Feeds: the simulator and a replayed recording behind one interface; bad ticks never pass."""

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from engine.oracle import FeedKind
from engine.simulator import MarketParams
from solver.feeds import FeedExhausted, TickRejected, TickRejection, TickValidator
from solver.feeds.replay import ReplayFeed, ReplayFormatError, record
from solver.feeds.simulated import SimulatedFeed

RECORDING = Path(__file__).resolve().parents[1] / "data" / "market_replay.jsonl"


def small_feed(seed=3):
    feed = SimulatedFeed.live(MarketParams(n_steps=20, warmup_steps=300, step_seconds=1.0), seed=seed,
                              refit_every=10, start=datetime(2025, 3, 1, tzinfo=timezone.utc))
    feed.paced = False
    return feed


def test_recording_and_replay_give_back_the_same_ticks(tmp_path):
    live = small_feed()
    original = [live.next_tick() for _ in range(12)]
    path = record(small_feed(), tmp_path / "day.jsonl", 12)
    replay = ReplayFeed(path)
    again = [replay.next_tick() for _ in range(12)]
    for a, b in zip(original, again):
        assert a.timestamp == b.timestamp and a.liquidation_volume == b.liquidation_volume
        assert a.feeds == b.feeds
        assert (a.smiles is None) == (b.smiles is None)
        for (ta, ka, va), (tb, kb, vb) in zip(a.smiles or (), b.smiles or ()):
            assert ta == tb and np.array_equal(ka, kb) and np.array_equal(va, vb)
    with pytest.raises(FeedExhausted):
        replay.next_tick()
    assert [i.name for i in replay.instruments] == [i.name for i in small_feed().instruments]


def test_the_shipped_recording_replays():
    replay = ReplayFeed(RECORDING)
    validator = TickValidator()
    n = 0
    while True:
        try:
            validator.check(replay.next_tick())
        except FeedExhausted:
            break
        n += 1
    assert n == 40 and validator.accepted == 40 and not validator.counts


def test_unreadable_lines_are_rejected_counted_and_skipped(tmp_path, caplog):
    lines = RECORDING.read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([lines[0], lines[1], "{not json", json.dumps({"kind": "tick"}), lines[2]]) + "\n")
    validator = TickValidator()
    replay = ReplayFeed(broken, validator)
    first = replay.next_tick()
    for _ in range(2):
        with pytest.raises(TickRejected) as rejected:
            replay.next_tick()
        assert rejected.value.reason is TickRejection.MALFORMED
    assert replay.next_tick().timestamp > first.timestamp
    assert validator.counts[TickRejection.MALFORMED] == 2
    assert "tick rejected" in caplog.text


def test_a_file_without_the_header_is_refused(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(RECORDING.read_text().splitlines()[1] + "\n")
    with pytest.raises(ReplayFormatError, match="header"):
        ReplayFeed(bad)


def test_validator_rejects_out_of_order_stale_future_and_malformed_ticks():
    now = [1_000_000.0]
    validator = TickValidator(max_age_s=5.0, max_clock_skew_s=1.0, clock=lambda: now[0])
    tick = replace(ReplayFeed(RECORDING).next_tick(), timestamp=now[0])
    validator.check(tick)
    cases = {
        TickRejection.OUT_OF_ORDER: replace(tick, timestamp=now[0]),
        TickRejection.STALE: replace(tick, timestamp=now[0] - 6.0),
        TickRejection.FROM_FUTURE: replace(tick, timestamp=now[0] + 3.0),
        TickRejection.MALFORMED: replace(tick, timestamp=now[0] + 0.5, liquidation_volume=-1.0),
    }
    for reason, bad in cases.items():
        if reason is TickRejection.STALE:
            validator.last_timestamp = now[0] - 10.0  # so that order is not what fails
        with pytest.raises(TickRejected) as rejected:
            validator.check(bad)
        assert rejected.value.reason is reason
        validator.last_timestamp = now[0]
    missing = replace(tick, timestamp=now[0] + 0.5, feeds={k: v for k, v in tick.feeds.items() if k is not FeedKind.IV_INDEX})
    with pytest.raises(TickRejected, match="missing"):
        validator.check(missing)
    bad_smile = replace(tick, timestamp=now[0] + 0.5, smiles=((0.1, np.zeros(5), np.full(5, np.nan)),))
    with pytest.raises(TickRejected, match="smile"):
        validator.check(bad_smile)
    assert validator.accepted == 1 and sum(validator.counts.values()) == 6
    validator.check(replace(tick, timestamp=now[0] + 0.5))
    assert validator.accepted == 2
