"""Progress of long work, as plain lines that read the same on a terminal and in a log.

A step reports `(what, fraction)`; a line is written when the step changes, when it is
done, and otherwise at most once per `interval` seconds, each stamped with the seconds
since the reporter started:

    [   4.1 s] Groth16 setup (43,935 constraints): G1 fixed-base multiplications 40%

Lines go to a stream (stderr, say) and, when given, to a log file as well, so a run
whose output is redirected still says what it is doing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, TextIO

Progress = Callable[[str, float | None], None]
"""A progress callback: what is being done, and how far along (0..1) when that is known."""


class ProgressLines:
    """A Progress callback writing stamped plain lines (rate-limited per step)."""

    def __init__(self, stream: TextIO | None, log_file: Path | None = None, interval: float = 1.0):
        """stream: where lines go (e.g. sys.stderr; None for the log file only)."""
        self._streams = [s for s in (stream, open(log_file, "a", encoding="utf-8") if log_file else None) if s]
        self._interval = interval
        self._start = time.perf_counter()
        self._step: str | None = None
        self._last = -float("inf")

    def __call__(self, step: str, fraction: float | None = None) -> None:
        now = time.perf_counter()
        finished = fraction is not None and fraction >= 1.0
        if step == self._step and not finished and now - self._last < self._interval:
            return
        self._step, self._last = step, now
        self.line(step if fraction is None else f"{step} {100 * min(fraction, 1.0):.0f}%")

    def line(self, text: str) -> None:
        """Write one stamped line to every stream."""
        stamped = f"[{time.perf_counter() - self._start:7.1f} s] {text}\n"
        for s in self._streams:
            s.write(stamped)
            s.flush()

    def sub(self, prefix: str) -> Progress:
        """A callback that reports a sub-task's steps under `prefix` (e.g. the prover's setup stages)."""
        return lambda step, fraction=None: self(f"{prefix}: {step}", fraction)
