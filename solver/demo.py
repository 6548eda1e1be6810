"""The demo job: price an option chain on the float64 fast path and on the fixed-point
reference (what the circuits prove), and show how far apart they are."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine import fixed as fx
from engine.bsm import bsm_greeks

DAY = 1.0 / 365.0


@dataclass(frozen=True)
class ChainRow:
    expiry_days: float
    strike: float
    is_call: bool
    vol: float
    float_price: float
    fixed_price: float
    delta: float
    gamma: float
    vega: float

    @property
    def error(self) -> float:
        return abs(self.fixed_price - self.float_price)


@dataclass(frozen=True)
class ChainReport:
    spot: float
    rows: list[ChainRow]
    float_seconds: float
    fixed_seconds: float

    @property
    def worst_error_over_spot(self) -> float:
        return max(r.error for r in self.rows) / self.spot


def demo_chain(spot: float = 95_000.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A BTC-like chain: 5 expiries x 7 strikes, out-of-the-money side quoted (puts below spot).

    Vols follow a downward skew and a term structure typical of BTC options (illustrative
    inputs, not market data)."""
    expiries = np.array([1, 7, 30, 90, 180]) * DAY
    moneyness = np.array([0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2])
    t, m = np.meshgrid(expiries, moneyness, indexing="ij")
    strikes = np.round(spot * m / 500.0) * 500.0
    atm = 0.55 + 0.08 * np.sqrt(t)  # upward-sloping term structure
    vols = atm - 0.25 * np.log(m) / np.sqrt(1.0 + 4.0 * t)  # put skew, flattening with t
    return t.ravel(), strikes.ravel(), vols.ravel(), (strikes >= spot).ravel()


def price_chain(spot: float = 95_000.0, rate: float = 0.04, carry: float = 0.0) -> ChainReport:
    t, strikes, vols, is_call = demo_chain(spot)
    bsm_greeks(spot, strikes, t, rate, vols, is_call, carry=carry)  # load the compiled kernels first
    start = time.perf_counter()
    g = bsm_greeks(spot, strikes, t, rate, vols, is_call, carry=carry)
    float_seconds = time.perf_counter() - start

    start = time.perf_counter()
    fixed = [
        fx.bsm_fixed(*(fx.to_fixed(x) for x in (spot, k, tt, rate, v)), bool(c), carry=fx.to_fixed(carry))
        for tt, k, v, c in zip(t, strikes, vols, is_call)
    ]
    fixed_seconds = time.perf_counter() - start

    rows = [
        ChainRow(tt / DAY, k, bool(c), v, float(p), fx.from_fixed(f.price), float(d), float(gm), float(vg))
        for tt, k, v, c, p, d, gm, vg, f in zip(t, strikes, vols, is_call, g.price, g.delta, g.gamma, g.vega, fixed)
    ]
    return ChainReport(spot, rows, float_seconds, fixed_seconds)
