"""Option instruments and their Deribit-style names.

A Deribit option name reads ``UNDERLYING-DMMMYY-STRIKE-KIND``, for example
``BTC-27DEC24-60000-C``: the day has no leading zero, the month is the three
upper-case English letters, the year has two digits, a fractional strike writes
its decimal point as ``d`` (``XRP_USDC-30AUG24-0d625-C``), and the kind is ``C``
or ``P``. Options expire at 08:00 UTC on the expiry date (Deribit's convention).

Source: Deribit API documentation, "Instrument naming".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from enum import Enum

import numpy as np

from engine.errors import InvalidInput

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
EXPIRY_TIME_UTC = time(8, 0, tzinfo=timezone.utc)
SECONDS_PER_YEAR = 365.0 * 24 * 3600  # ACT/365, as crypto venues quote time to expiry

_NAME = re.compile(
    r"^(?P<underlying>[A-Z0-9]+(?:_[A-Z0-9]+)?)"
    r"-(?P<day>[1-9][0-9]?)(?P<month>[A-Z]{3})(?P<year>[0-9]{2})"
    r"-(?P<strike>[0-9]+(?:d[0-9]+)?)"
    r"-(?P<kind>[A-Z])$"
)
_UNDERLYING = re.compile(r"^[A-Z0-9]+(?:_[A-Z0-9]+)?$")


class OptionKind(Enum):
    """Call or put; the value is the letter of the Deribit name."""

    CALL = "C"
    PUT = "P"


@dataclass(frozen=True)
class OptionInstrument:
    """A European-style listed option.

    underlying: ticker, upper case (``BTC``, ``XRP_USDC``).
    expiry: expiry date; the option expires at 08:00 UTC that day.
    strike: strike price in the quote currency (> 0).
    kind: call or put.
    """

    underlying: str
    expiry: date
    strike: float
    kind: OptionKind

    def __post_init__(self) -> None:
        if not isinstance(self.underlying, str) or not _UNDERLYING.match(self.underlying):
            raise InvalidInput("underlying", "must be upper-case letters/digits, optionally X_Y", self.underlying)
        if not isinstance(self.expiry, date) or isinstance(self.expiry, datetime):
            raise InvalidInput("expiry", "must be a datetime.date", self.expiry)
        if not 2000 <= self.expiry.year <= 2099:
            raise InvalidInput("expiry", "year must be within 2000..2099 (two-digit years)", self.expiry)
        strike = float(self.strike)
        if not np.isfinite(strike) or strike <= 0.0:
            raise InvalidInput("strike", "must be a finite positive number", self.strike)
        object.__setattr__(self, "strike", strike)
        if not isinstance(self.kind, OptionKind):
            raise InvalidInput("kind", "must be an OptionKind", self.kind)

    @property
    def is_call(self) -> bool:
        return self.kind is OptionKind.CALL

    @property
    def name(self) -> str:
        """The Deribit name, e.g. ``BTC-27DEC24-60000-C``."""
        return format_instrument_name(self)

    def expiry_datetime(self) -> datetime:
        """Expiry instant: 08:00 UTC on the expiry date."""
        return datetime.combine(self.expiry, EXPIRY_TIME_UTC)

    def time_to_expiry(self, now: datetime) -> float:
        """Time to expiry in years (ACT/365) from ``now``, a timezone-aware datetime; 0 once expired."""
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise InvalidInput("now", "must be a timezone-aware datetime", now)
        seconds = (self.expiry_datetime() - now).total_seconds()
        return max(seconds, 0.0) / SECONDS_PER_YEAR


def format_strike(strike: float) -> str:
    """Shortest decimal that reads back as the same float, with ``d`` for the decimal point."""
    text = np.format_float_positional(float(strike), trim="-")
    return text.replace(".", "d")


def format_instrument_name(instrument: OptionInstrument) -> str:
    """Deribit name of an option: ``UNDERLYING-DMMMYY-STRIKE-C|P``."""
    e = instrument.expiry
    return (
        f"{instrument.underlying}-{e.day}{MONTHS[e.month - 1]}{e.year % 100:02d}"
        f"-{format_strike(instrument.strike)}-{instrument.kind.value}"
    )


def parse_instrument_name(name: str) -> OptionInstrument:
    """Parse a Deribit option name such as ``BTC-27DEC24-60000-C``.

    Raises InvalidInput(field="name") when the text is not an option name, and
    names the part at fault (month, day, strike, kind) in the reason.
    """
    if not isinstance(name, str):
        raise InvalidInput("name", "must be a string", name)
    match = _NAME.match(name)
    if match is None:
        raise InvalidInput("name", "not of the form UNDERLYING-DMMMYY-STRIKE-C|P", name)
    month = match["month"]
    if month not in MONTHS:
        raise InvalidInput("name", f"unknown month {month!r}", name)
    kind_letter = match["kind"]
    if kind_letter not in ("C", "P"):
        raise InvalidInput("name", f"option kind must be C or P, not {kind_letter!r}", name)
    year = 2000 + int(match["year"])
    try:
        expiry = date(year, MONTHS.index(month) + 1, int(match["day"]))
    except ValueError as exc:  # 31FEB24 and the like
        raise InvalidInput("name", f"no such date: {exc}", name) from None
    strike_text = match["strike"]
    strike = float(strike_text.replace("d", "."))
    if strike <= 0.0:
        raise InvalidInput("name", "strike must be positive", name)
    if format_strike(strike) != strike_text:
        # Leading zeros or trailing fractional zeros: not a name Deribit would produce.
        raise InvalidInput("name", f"strike {strike_text!r} is not in canonical form", name)
    return OptionInstrument(match["underlying"], expiry, strike, OptionKind(kind_letter))
