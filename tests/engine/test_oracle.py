import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InvalidInput
from engine.oracle import (
    FeedKind,
    FeedQuote,
    InsufficientSources,
    OracleConfig,
    RejectionReason,
    aggregate_feed,
    aggregate_market,
)

NOW = 1_700_000_000.0


def quotes(*values, ages=None):
    ages = ages or [0.0] * len(values)
    return [FeedQuote(f"src{i}", v, NOW - a) for i, (v, a) in enumerate(zip(values, ages))]


def test_median_of_healthy_feeds():
    agg = aggregate_feed(FeedKind.SPOT, quotes(60000.0, 60010.0, 60030.0), NOW)
    assert agg.value == 60010.0
    assert agg.used_sources == ("src0", "src1", "src2")
    assert agg.rejected == ()


def test_stale_feed_is_reported_not_used():
    agg = aggregate_feed(FeedKind.SPOT, quotes(60000.0, 60010.0, 60030.0, ages=[0.0, 30.0, 1.0]), NOW)
    assert agg.rejected_sources == {"src1": RejectionReason.STALE}
    assert agg.value == pytest.approx(60015.0)


def test_future_timestamp_is_rejected():
    qs = quotes(60000.0, 60010.0, 60030.0, ages=[0.0, -60.0, 0.0])
    agg = aggregate_feed(FeedKind.SPOT, qs, NOW)
    assert agg.rejected_sources == {"src1": RejectionReason.FROM_FUTURE}


def test_outlier_rejected_by_mad():
    agg = aggregate_feed(FeedKind.SPOT, quotes(60000.0, 60005.0, 59995.0, 60010.0, 60400.0), NOW)
    assert agg.rejected_sources == {"src4": RejectionReason.OUTLIER}
    assert agg.value == pytest.approx(60002.5)


def test_identical_feeds_tolerate_one_tick():
    # MAD is 0 here; the relative floor keeps a one-dollar difference from being an outlier.
    agg = aggregate_feed(FeedKind.SPOT, quotes(60000.0, 60000.0, 60000.0, 60001.0), NOW)
    assert agg.rejected == ()


def test_diverging_feed_rejected_even_when_scale_is_wide():
    # Two camps: the MAD is large, so no robust outlier, but the deviation guard still fires.
    cfg = OracleConfig(max_relative_deviation=0.018, min_sources=2)
    values = (60000.0, 60000.0, 60500.0, 59500.0, 61000.0, 59000.0, 61200.0)
    agg = aggregate_feed(FeedKind.SPOT, quotes(*values), NOW, cfg)
    assert agg.robust_scale == pytest.approx(1.4826 * 500.0)
    assert agg.rejected_sources == {"src6": RejectionReason.DIVERGING}
    assert agg.value == 60000.0


def test_invalid_values_rejected():
    agg = aggregate_feed(FeedKind.SPOT, quotes(60000.0, float("nan"), -1.0, 60001.0), NOW)
    assert agg.rejected_sources == {"src1": RejectionReason.INVALID_VALUE, "src2": RejectionReason.INVALID_VALUE}


def test_too_few_healthy_sources_is_typed_error():
    with pytest.raises(InsufficientSources) as info:
        aggregate_feed(FeedKind.SPOT, quotes(60000.0, 60000.0, ages=[0.0, 100.0]), NOW, OracleConfig(min_sources=2))
    assert info.value.healthy == 1
    assert info.value.required == 2
    assert info.value.rejected[0].reason is RejectionReason.STALE


def test_two_disagreeing_sources_cannot_be_resolved():
    with pytest.raises(InsufficientSources):
        aggregate_feed(FeedKind.SPOT, quotes(60000.0, 90000.0), NOW)


def test_duplicate_sources_and_bad_config():
    qs = [FeedQuote("a", 1.0, NOW), FeedQuote("a", 1.0, NOW)]
    with pytest.raises(InvalidInput) as info:
        aggregate_feed(FeedKind.SPOT, qs, NOW)
    assert info.value.field == "quotes"
    with pytest.raises(InvalidInput) as info:
        OracleConfig(max_staleness_s=-1.0)
    assert info.value.field == "max_staleness_s"


def test_market_snapshot_and_basis():
    snap = aggregate_market(
        {
            FeedKind.SPOT: quotes(60000.0, 60010.0, 60020.0),
            FeedKind.PERP_MARK: quotes(60060.0, 60070.0, 60080.0),
            FeedKind.IV_INDEX: quotes(0.55, 0.56, 0.90),
        },
        NOW,
    )
    assert snap.spot.value == 60010.0
    assert snap.basis == pytest.approx(60070.0 / 60010.0 - 1.0)
    assert snap.iv_index.value == pytest.approx(0.555)
    assert snap.iv_index.rejected_sources == {"src2": RejectionReason.OUTLIER}
    with pytest.raises(InvalidInput):
        aggregate_market({FeedKind.SPOT: quotes(1.0, 1.0)}, NOW)


@given(
    honest=st.lists(st.floats(min_value=-0.001, max_value=0.001), min_size=3, max_size=9),
    bad=st.floats(min_value=0.05, max_value=10.0),
)
def test_single_corrupt_feed_never_moves_the_aggregate_far(honest, bad):
    values = [60000.0 * (1.0 + e) for e in honest] + [60000.0 * (1.0 + bad)]
    agg = aggregate_feed(FeedKind.SPOT, quotes(*values), NOW)
    assert f"src{len(values) - 1}" in agg.rejected_sources
    assert min(values[:-1]) <= agg.value <= max(values[:-1])
    assert all(math.isfinite(q.value) for q in agg.used)
    assert len(agg.used) + len(agg.rejected) == len(values)
