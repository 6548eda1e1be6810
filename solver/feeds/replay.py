"""Replay of a recorded market: a JSON-lines file, one JSON object per line.

Format ``dlpe-market-v1``. The first line is the header, every later line a tick:

    {"kind": "header", "format": "dlpe-market-v1", "rate": 0.0,
     "instruments": ["BTC-8JAN25-54000-P", ...],              # Deribit names of the listed options
     "warmup_returns": [...], "warmup_liquidation": [...]}     # per-tick history before the first tick
    {"kind": "tick", "timestamp": 1735718400.0,                # Unix seconds of the observation
     "liquidation_volume": 20.3,                               # underlying units liquidated since the last tick
     "feeds": {"spot": [{"source": "spot_0", "value": 60001.2, "timestamp": 1735718399.1}, ...],
               "perp_mark": [...], "iv_index": [...]},         # every source's report; IV as a decimal
     "smiles": [{"t": 0.0192, "k": [...], "vols": [...]}]}     # or null: observed smiles (t in years,
                                                               # k = ln(K/F), vols decimal)

A tick line that cannot be read (bad JSON, a missing field, a wrong type) is rejected as
malformed by the feed's validator, logged and counted, and the replay goes on; a bad header is an
error (ReplayFormatError). ``record`` writes a file in this format from any feed.

When ``retime`` is set, the replay shifts every timestamp (ticks and reports alike) so that the
first tick lands on the wall clock at the first call, and paces ticks at their recorded spacing
divided by ``speed``: a recording from any day then feeds a live chain, whose oracle accepts
only current timestamps.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from engine.errors import DLPEError
from engine.instruments import parse_instrument_name
from engine.oracle import FeedKind, FeedQuote
from solver.feeds.base import FeedExhausted, MarketFeed
from solver.feeds.validation import TickRejection, TickValidator
from solver.pipeline import MarketTick

FORMAT = "dlpe-market-v1"


class ReplayFormatError(DLPEError):
    """The file is not a dlpe-market-v1 recording (its header is missing or wrong)."""


def tick_to_json(tick: MarketTick, shift: float = 0.0) -> dict[str, Any]:
    return {
        "kind": "tick",
        "timestamp": tick.timestamp + shift,
        "liquidation_volume": tick.liquidation_volume,
        "feeds": {kind.value: [{"source": q.source, "value": q.value, "timestamp": q.timestamp + shift}
                               for q in reports] for kind, reports in tick.feeds.items()},
        "smiles": None if tick.smiles is None else [
            {"t": t, "k": np.asarray(k).tolist(), "vols": np.asarray(v).tolist()} for t, k, v in tick.smiles],
    }


def tick_from_json(data: Any, shift: float = 0.0) -> MarketTick:
    """A tick from its JSON object; raises KeyError, TypeError or ValueError when it is not one."""
    if not isinstance(data, dict) or data.get("kind") != "tick":
        raise ValueError("not a tick object")
    feeds = {FeedKind(kind): [FeedQuote(str(r["source"]), float(r["value"]), float(r["timestamp"]) + shift)
                              for r in reports] for kind, reports in data["feeds"].items()}
    smiles = data.get("smiles")
    return MarketTick(
        float(data["timestamp"]) + shift,
        feeds,
        float(data["liquidation_volume"]),
        None if smiles is None else tuple(
            (float(s["t"]), np.asarray(s["k"], dtype=float), np.asarray(s["vols"], dtype=float)) for s in smiles),
    )


def record(feed: MarketFeed, path: Path, n_ticks: int) -> Path:
    """Write the feed's header and its next ``n_ticks`` ticks to ``path`` (dlpe-market-v1)."""
    with open(path, "w") as out:
        header = {"kind": "header", "format": FORMAT, "rate": feed.rate,
                  "instruments": [i.name for i in feed.instruments],
                  "warmup_returns": np.asarray(feed.warmup_returns).tolist(),
                  "warmup_liquidation": np.asarray(feed.warmup_liquidation).tolist()}
        out.write(json.dumps(header) + "\n")
        for _ in range(n_ticks):
            out.write(json.dumps(tick_to_json(feed.next_tick())) + "\n")
    return path


class ReplayFeed:
    """Ticks read back from a dlpe-market-v1 file (see the module doc)."""

    def __init__(self, path: Path, validator: TickValidator | None = None, *, retime: bool = False,
                 speed: float = 1.0):
        if not speed > 0:
            raise ReplayFormatError(f"replay speed must be > 0, not {speed}")
        self.path = Path(path)
        self.validator = validator or TickValidator()
        self.retime = retime
        self.speed = speed
        self._lines: TextIO = open(self.path)
        self._shift: float | None = None if retime else 0.0
        self._started = 0.0
        self._first = 0.0
        self.line_number = 1
        try:
            header = json.loads(self._lines.readline())
            if not isinstance(header, dict) or header.get("kind") != "header" or header.get("format") != FORMAT:
                raise ValueError(f"the first line must be a {FORMAT} header")
            self.instruments = tuple(parse_instrument_name(n) for n in header["instruments"])
            self.rate = float(header["rate"])
            self.warmup_returns = np.asarray(header["warmup_returns"], dtype=float)
            self.warmup_liquidation = np.asarray(header["warmup_liquidation"], dtype=float)
        except (ValueError, KeyError, TypeError, DLPEError) as err:
            self._lines.close()
            raise ReplayFormatError(f"{self.path}: {err}") from None

    def next_tick(self) -> MarketTick:
        """The next readable tick (unreadable lines are rejected and skipped); FeedExhausted at the end."""
        while True:
            line = self._lines.readline()
            if not line:
                self._lines.close()
                raise FeedExhausted(f"{self.path}: end of the recording after line {self.line_number}")
            self.line_number += 1
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                recorded = float(data["timestamp"])
                if self._shift is None:
                    self._started, self._first = time.time(), recorded
                    self._shift = self._started - recorded
                tick = tick_from_json(data, self._shift)
            except (ValueError, KeyError, TypeError) as err:
                raise self.validator.reject(TickRejection.MALFORMED, f"line {self.line_number}: {err}") from None
            if self.retime:
                due = self._started + (recorded - self._first) / self.speed
                time.sleep(max(0.0, due - time.time()))
            return tick
