"""Implied volatility of a CSV file of option prices (what `dlpe iv --csv FILE` reads).

Columns, in any order, named on the first line: price, spot, strike, t (years),
rate, type (call/put or C/P, any case), and optionally carry (0 when absent).
Every other column is refused, so that a misspelt optional column (`cary`) cannot
silently mean carry 0. A bad row is reported by its row number (the first data
row is row 1), its line in the file and the column.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import DLPEError, InvalidInput
from engine.implied_vol import implied_vol

REQUIRED_COLUMNS = ("price", "spot", "strike", "t", "rate", "type")
OPTIONAL_COLUMNS = ("carry",)
NUMERIC_COLUMNS = ("price", "spot", "strike", "t", "rate", "carry")
_OPTION_TYPES = {"call": True, "c": True, "put": False, "p": False}


class OptionCsvError(DLPEError, ValueError):
    """A CSV file of options that cannot be read: bad header, or a bad value in a row and column."""


@dataclass(frozen=True)
class OptionRows:
    """The options of a CSV file, one array entry per data row."""

    lines: np.ndarray  # line of each row in the file (the header is line 1)
    price: np.ndarray
    spot: np.ndarray
    strike: np.ndarray
    t: np.ndarray
    rate: np.ndarray
    carry: np.ndarray
    is_call: np.ndarray

    def __len__(self) -> int:
        return self.price.size


def _where(row: int, line: int, column: str) -> str:
    return f"row {row} (line {line}), column '{column}'"


def read_option_rows(path: Path) -> OptionRows:
    """Read and parse the CSV file; raises OptionCsvError naming the row and column of a bad value."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise OptionCsvError(f"{path}: empty file, expected the header {','.join(REQUIRED_COLUMNS)}[,carry]")
        columns = [name.strip().lower() for name in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if missing or unknown or repeated:
            problems = [f"{label} {', '.join(names)}" for label, names in
                        (("missing column(s)", missing), ("unknown column(s)", unknown),
                         ("repeated column(s)", repeated)) if names]
            raise OptionCsvError(
                f"{path}: header {'; '.join(problems)}; expected {','.join(REQUIRED_COLUMNS)}[,carry]")
        values: dict[str, list[float]] = {c: [] for c in NUMERIC_COLUMNS}
        is_call: list[bool] = []
        lines: list[int] = []
        for fields in reader:
            if not any(field.strip() for field in fields):
                continue  # blank line
            row, line = len(lines) + 1, reader.line_num
            if len(fields) != len(columns):
                raise OptionCsvError(f"{path}: row {row} (line {line}) has {len(fields)} fields, "
                                     f"the header {len(columns)}")
            record = dict(zip(columns, (field.strip() for field in fields)))
            record.setdefault("carry", "0")
            for column in NUMERIC_COLUMNS:
                values[column].append(_number(record[column], _where(row, line, column)))
            kind = _OPTION_TYPES.get(record["type"].lower())
            if kind is None:
                raise OptionCsvError(f"{_where(row, line, 'type')}: must be call, put, C or P "
                                     f"(got {record['type']!r})")
            is_call.append(kind)
            lines.append(line)
    if not lines:
        raise OptionCsvError(f"{path}: no option rows after the header")
    return OptionRows(np.array(lines), *(np.array(values[c], dtype=np.float64) for c in NUMERIC_COLUMNS),
                      np.array(is_call, dtype=bool))


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise OptionCsvError(f"{where}: not a number (got {text!r})") from None
    if not math.isfinite(value):
        raise OptionCsvError(f"{where}: must be finite (got {text!r})")
    return value


def implied_vols(rows: OptionRows) -> np.ndarray:
    """Implied volatility of every row (engine.implied_vol, one vectorized call).

    A row the engine refuses (a value outside its domain, a price outside the
    no-arbitrage bounds) is located by re-running the rows one at a time, and
    reported as OptionCsvError with its row, line and column.
    """
    args = (rows.price, rows.spot, rows.strike, rows.t, rows.rate, rows.is_call, rows.carry)
    try:
        return implied_vol(*args)
    except InvalidInput:
        pass
    for i in range(len(rows)):  # only on failure: find the first row the engine refuses
        try:
            implied_vol(*(float(a[i]) if a.dtype != bool else bool(a[i]) for a in args))
        except InvalidInput as err:
            raise OptionCsvError(f"{_where(i + 1, int(rows.lines[i]), err.field)}: {err.reason}"
                                 f"{'' if err.value is None else f' (got {err.value!r})'}") from None
    raise AssertionError("implied_vol refused the file but accepted each of its rows")
