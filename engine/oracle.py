"""Oracle aggregation: one robust value from several price feeds.

Each market input (spot index, perpetual mark price, implied-volatility index)
comes from several independent sources. The aggregate is the median of the
healthy sources, where a source is healthy when it is

1. well formed: a finite, positive value;
2. fresh: its timestamp is at most ``max_staleness_s`` old and not from the
   future beyond ``max_clock_skew_s``;
3. not an outlier: its robust z-score ``|x - median| / (1.4826 * MAD)`` is at
   most ``max_robust_z`` (MAD = median absolute deviation, the scale floored
   at ``min_relative_scale * median`` so that identical feeds do not turn a
   one-tick difference into an outlier);
4. not diverging: ``|x - median| / median`` is at most ``max_relative_deviation``.

Every rejected feed is returned with its reason; nothing is dropped silently.
Fewer than ``min_sources`` healthy feeds is an error (InsufficientSources).

Sources: the median / MAD rule of Hampel (1974) and Leys et al. (2013),
"Detecting outliers: do not use standard deviation around the mean, use
absolute deviation around the median"; the staleness and deviation guards
follow Chainlink's and Pyth's aggregation (median of fresh reports).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

import numpy as np

from engine.errors import DLPEError, InvalidInput

MAD_TO_SIGMA = 1.4826  # 1 / Phi^-1(3/4): MAD of a normal sample times this estimates sigma


class FeedKind(Enum):
    """Which market quantity a feed reports."""

    SPOT = "spot"
    PERP_MARK = "perp_mark"
    IV_INDEX = "iv_index"


class RejectionReason(Enum):
    """Why a feed was left out of the aggregate."""

    INVALID_VALUE = "invalid_value"
    STALE = "stale"
    FROM_FUTURE = "from_future"
    OUTLIER = "outlier"
    DIVERGING = "diverging"


@dataclass(frozen=True)
class FeedQuote:
    """One source's report: ``value`` (price in quote currency, or vol as a decimal) at ``timestamp`` (Unix seconds)."""

    source: str
    value: float
    timestamp: float


@dataclass(frozen=True)
class FeedRejection:
    """A feed left out of the aggregate, and why (``detail`` gives the numbers)."""

    quote: FeedQuote
    reason: RejectionReason
    detail: str


@dataclass(frozen=True)
class OracleConfig:
    """Health limits of one feed kind.

    max_staleness_s: oldest acceptable report, seconds.
    max_clock_skew_s: how far in the future a timestamp may be, seconds.
    max_robust_z: MAD-based outlier cut (3.5 is Iglewicz & Hoaglin's choice).
    min_relative_scale: floor of the robust scale, as a fraction of the median.
    max_relative_deviation: largest accepted |x - median| / median.
    min_sources: fewest healthy feeds that make a valid aggregate.
    """

    max_staleness_s: float = 10.0
    max_clock_skew_s: float = 2.0
    max_robust_z: float = 3.5
    min_relative_scale: float = 1e-4
    max_relative_deviation: float = 0.01
    min_sources: int = 2

    def __post_init__(self) -> None:
        for name in (
            "max_staleness_s",
            "max_clock_skew_s",
            "max_robust_z",
            "min_relative_scale",
            "max_relative_deviation",
        ):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise InvalidInput(name, "must be a finite positive number", value)
        if not isinstance(self.min_sources, int) or self.min_sources < 1:
            raise InvalidInput("min_sources", "must be an integer >= 1", self.min_sources)


@dataclass(frozen=True)
class AggregatedValue:
    """The aggregate of one feed kind: the median of ``used``; ``rejected`` lists the rest with reasons."""

    kind: FeedKind
    value: float
    used: tuple[FeedQuote, ...]
    rejected: tuple[FeedRejection, ...]
    robust_scale: float  # 1.4826 * MAD of the fresh feeds, same unit as value

    @property
    def used_sources(self) -> tuple[str, ...]:
        return tuple(q.source for q in self.used)

    @property
    def rejected_sources(self) -> dict[str, RejectionReason]:
        return {r.quote.source: r.reason for r in self.rejected}


@dataclass(frozen=True)
class MarketSnapshot:
    """Aggregated spot, perpetual mark and implied-vol index, and the perp basis (mark / spot - 1)."""

    spot: AggregatedValue
    perp_mark: AggregatedValue
    iv_index: AggregatedValue
    timestamp: float

    @property
    def basis(self) -> float:
        return self.perp_mark.value / self.spot.value - 1.0


class InsufficientSources(DLPEError):
    """Too few healthy feeds to aggregate; carries the rejections for the operator."""

    def __init__(self, kind: FeedKind, healthy: int, required: int, rejected: tuple[FeedRejection, ...]):
        self.kind = kind
        self.healthy = healthy
        self.required = required
        self.rejected = rejected
        reasons = ", ".join(f"{r.quote.source}: {r.reason.value}" for r in rejected) or "no feeds"
        super().__init__(f"{kind.value}: {healthy} healthy source(s), {required} required ({reasons})")


def aggregate_feed(
    kind: FeedKind, quotes: Sequence[FeedQuote], now: float, config: OracleConfig = OracleConfig()
) -> AggregatedValue:
    """Median of the healthy feeds among ``quotes`` at time ``now`` (Unix seconds).

    Raises InvalidInput for duplicate source names or a non-finite ``now``, and
    InsufficientSources when fewer than ``config.min_sources`` feeds survive.
    """
    if not math.isfinite(now):
        raise InvalidInput("now", "must be finite", now)
    sources = [q.source for q in quotes]
    if len(set(sources)) != len(sources):
        raise InvalidInput("quotes", "duplicate source names", sources)

    rejected: list[FeedRejection] = []
    fresh: list[FeedQuote] = []
    for q in quotes:
        value = float(q.value)
        if not (math.isfinite(value) and value > 0.0) or not math.isfinite(q.timestamp):
            rejected.append(FeedRejection(q, RejectionReason.INVALID_VALUE, f"value={q.value!r}, ts={q.timestamp!r}"))
        elif now - q.timestamp > config.max_staleness_s:
            rejected.append(
                FeedRejection(q, RejectionReason.STALE, f"age {now - q.timestamp:.3f}s > {config.max_staleness_s}s")
            )
        elif q.timestamp - now > config.max_clock_skew_s:
            rejected.append(
                FeedRejection(
                    q, RejectionReason.FROM_FUTURE, f"{q.timestamp - now:.3f}s ahead > {config.max_clock_skew_s}s"
                )
            )
        else:
            fresh.append(q)

    robust_scale = 0.0
    used: list[FeedQuote] = []
    if fresh:
        values = np.array([q.value for q in fresh], dtype=float)
        center = float(np.median(values))
        robust_scale = MAD_TO_SIGMA * float(np.median(np.abs(values - center)))
        scale = max(robust_scale, config.min_relative_scale * center)
        for q in fresh:
            z = abs(q.value - center) / scale
            deviation = abs(q.value - center) / center
            if z > config.max_robust_z:
                rejected.append(FeedRejection(q, RejectionReason.OUTLIER, f"robust z {z:.2f} > {config.max_robust_z}"))
            elif deviation > config.max_relative_deviation:
                rejected.append(
                    FeedRejection(
                        q, RejectionReason.DIVERGING, f"deviation {deviation:.4%} > {config.max_relative_deviation:.4%}"
                    )
                )
            else:
                used.append(q)

    if len(used) < config.min_sources:
        raise InsufficientSources(kind, len(used), config.min_sources, tuple(rejected))
    value = float(np.median([q.value for q in used]))
    return AggregatedValue(kind, value, tuple(used), tuple(rejected), robust_scale)


DEFAULT_CONFIGS: dict[FeedKind, OracleConfig] = {
    FeedKind.SPOT: OracleConfig(max_relative_deviation=0.005),
    FeedKind.PERP_MARK: OracleConfig(max_relative_deviation=0.005),
    # Vol indices disagree more (different methodologies); 5% relative is about 3 vol points at 60%.
    FeedKind.IV_INDEX: OracleConfig(max_relative_deviation=0.05, min_relative_scale=1e-3),
}


def aggregate_market(
    feeds: dict[FeedKind, Sequence[FeedQuote]],
    now: float,
    configs: dict[FeedKind, OracleConfig] = DEFAULT_CONFIGS,
) -> MarketSnapshot:
    """Aggregate spot, perp mark and IV-index feeds into one snapshot at ``now`` (Unix seconds)."""
    missing = [k.value for k in FeedKind if k not in feeds]
    if missing:
        raise InvalidInput("feeds", f"missing feed kinds {missing}", sorted(k.value for k in feeds))
    aggregated = {k: aggregate_feed(k, feeds[k], now, configs.get(k, OracleConfig())) for k in FeedKind}
    return MarketSnapshot(aggregated[FeedKind.SPOT], aggregated[FeedKind.PERP_MARK], aggregated[FeedKind.IV_INDEX], now)
