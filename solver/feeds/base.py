"""The feed interface: what the pipeline needs from any source of market data."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from engine.errors import DLPEError
from engine.instruments import OptionInstrument
from solver.pipeline import MarketTick


class FeedExhausted(DLPEError):
    """The feed has no more ticks (a replay reached its end, a simulated day is over)."""


class MarketFeed(Protocol):
    """A source of market ticks and of the history the regime model is fitted on.

    instruments: the listed options the feed's market quotes; rate: the continuous rate;
    warmup_returns / warmup_liquidation: per-tick log returns and liquidation volumes before
    the first tick (the regime model's history); next_tick: the next tick, waiting for it
    when the feed is live; raises FeedExhausted at the end.
    """

    instruments: tuple[OptionInstrument, ...]
    rate: float
    warmup_returns: np.ndarray
    warmup_liquidation: np.ndarray

    def next_tick(self) -> MarketTick: ...
