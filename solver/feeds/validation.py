"""The gate between a feed and the pipeline: every tick is checked, and a rejected tick never
reaches a quote. Each rejection is logged with its reason and counted (``counts``, exported by
the service as Prometheus counters).

A tick is rejected when it is
- malformed: a non-finite timestamp or liquidation volume, a negative volume, a feed kind
  missing, a report with a non-finite timestamp, or a smile whose arrays disagree, hold
  non-finite numbers, or whose expiry is not > 0;
- out of order: its timestamp is not after the last accepted tick's (a duplicate included);
- stale: older than ``max_age_s`` by the validator's clock (live feeds only; None turns it off);
- from the future: ahead of the clock by more than ``max_clock_skew_s``.

Single bad reports inside a good tick (one stale exchange, a corrupt value) are the oracle's
business: engine.oracle leaves them out of the median and says why.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from enum import Enum
from typing import Callable

import numpy as np

from engine.errors import DLPEError
from engine.oracle import FeedKind
from solver.pipeline import MarketTick

log = logging.getLogger("dlpe.feeds")


class TickRejection(Enum):
    MALFORMED = "malformed"
    OUT_OF_ORDER = "out_of_order"
    STALE = "stale"
    FROM_FUTURE = "from_future"


class TickRejected(DLPEError):
    """A tick failed validation; ``reason`` says which rule, ``detail`` the numbers."""

    def __init__(self, reason: TickRejection, detail: str):
        self.reason = reason
        self.detail = detail
        super().__init__(f"tick rejected ({reason.value}): {detail}")


class TickValidator:
    """Checks ticks in arrival order (see the module doc); ``clock`` gives Unix seconds."""

    def __init__(self, max_age_s: float | None = None, max_clock_skew_s: float = 2.0,
                 clock: Callable[[], float] = time.time):
        self.max_age_s = max_age_s
        self.max_clock_skew_s = max_clock_skew_s
        self.clock = clock
        self.last_timestamp: float | None = None
        self.accepted = 0
        self.counts: Counter[TickRejection] = Counter()

    def check(self, tick: MarketTick) -> MarketTick:
        """Return ``tick`` if it passes; otherwise log, count and raise TickRejected."""
        try:
            self._check(tick)
        except TickRejected as rejected:
            self.counts[rejected.reason] += 1
            log.warning("tick rejected", extra={"reason": rejected.reason.value, "detail": rejected.detail})
            raise
        self.last_timestamp = tick.timestamp
        self.accepted += 1
        return tick

    def reject(self, reason: TickRejection, detail: str) -> TickRejected:
        """Count and log a rejection found before a tick could be built (e.g. an unreadable line)."""
        self.counts[reason] += 1
        log.warning("tick rejected", extra={"reason": reason.value, "detail": detail})
        return TickRejected(reason, detail)

    def _check(self, tick: MarketTick) -> None:
        malformed = _malformed(tick)
        if malformed:
            raise TickRejected(TickRejection.MALFORMED, malformed)
        if self.last_timestamp is not None and tick.timestamp <= self.last_timestamp:
            raise TickRejected(TickRejection.OUT_OF_ORDER,
                               f"timestamp {tick.timestamp} is not after the last accepted {self.last_timestamp}")
        if self.max_age_s is not None:
            now = self.clock()
            if now - tick.timestamp > self.max_age_s:
                raise TickRejected(TickRejection.STALE, f"age {now - tick.timestamp:.3f}s > {self.max_age_s}s")
            if tick.timestamp - now > self.max_clock_skew_s:
                raise TickRejected(TickRejection.FROM_FUTURE,
                                   f"{tick.timestamp - now:.3f}s ahead > {self.max_clock_skew_s}s")


def _malformed(tick: MarketTick) -> str | None:
    """What is wrong with the tick's shape or numbers, or None."""
    if not isinstance(tick.timestamp, (int, float)) or not math.isfinite(tick.timestamp):
        return f"timestamp {tick.timestamp!r} is not a finite number"
    volume = tick.liquidation_volume
    if not isinstance(volume, (int, float)) or not math.isfinite(volume) or volume < 0:
        return f"liquidation_volume {volume!r} is not a finite number >= 0"
    missing = [k.value for k in FeedKind if k not in tick.feeds]
    if missing:
        return f"feed kinds {missing} missing"
    for kind, reports in tick.feeds.items():
        for report in reports:
            if not isinstance(report.timestamp, (int, float)) or not math.isfinite(report.timestamp):
                return f"{kind.value} report {report.source!r} has timestamp {report.timestamp!r}"
    for i, smile in enumerate(tick.smiles or ()):
        t, k, vols = smile
        k, vols = np.asarray(k, dtype=float), np.asarray(vols, dtype=float)
        if not (math.isfinite(t) and t > 0):
            return f"smile {i}: expiry {t!r} is not > 0 years"
        if k.shape != vols.shape or k.ndim != 1 or k.size < 5:
            return f"smile {i}: k {k.shape} and vols {vols.shape} must be equal 1-d arrays of >= 5 points"
        if not (np.all(np.isfinite(k)) and np.all(np.isfinite(vols)) and np.all(vols > 0)):
            return f"smile {i}: k and vols must be finite, vols > 0"
    return None
