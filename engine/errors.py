"""Typed errors of the engine.

Every domain failure is one of these types, carrying the name of the offending
field, so that callers (the CLI, the API) can answer with a clear message
instead of a trace. Subclassing ValueError keeps them catchable by generic code.
"""

from __future__ import annotations


class DLPEError(Exception):
    """Base class of every error DLPE raises on purpose."""


class InvalidInput(DLPEError, ValueError):
    """An input is outside its domain (negative strike, NaN, t <= 0, bad shape, ...)."""

    def __init__(self, field: str, reason: str, value: object = None):
        self.field = field
        self.reason = reason
        self.value = value
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{field}: {reason}{shown}")


class PriceOutsideArbitrageBounds(InvalidInput):
    """An option price no volatility can produce: below intrinsic value or above the upper bound."""


class FixedPointOverflow(DLPEError, OverflowError):
    """A fixed-point value left its declared bounds (the circuit could not represent it)."""
