"""Progress reports of long prover work (setup, key loading), for a caller to show.

The prover never prints. Work that can last longer than a second takes an
optional `progress` callable and calls it with a stage name and the fraction of
the whole work done before that stage, in [0, 1]; the last call has fraction 1.
"""

from __future__ import annotations

from typing import Callable

Progress = Callable[[str, float], None]
"""progress(stage, fraction_done): e.g. ("G1 fixed-base multiplications", 0.25)."""


def report(progress: Progress | None, stage: str, fraction: float) -> None:
    """Call progress(stage, fraction) when a callback was given."""
    if progress is not None:
        progress(stage, fraction)
