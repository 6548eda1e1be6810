"""Implied-volatility surface: SVI slices joined linearly in total variance.

The surface holds one raw SVI slice per fitted expiry (see engine.svi) and
answers the implied vol at any log-moneyness k = ln(K/F) and expiry t:

- between two slices t_i <= t <= t_{i+1}, total variance is linear in t at
  fixed k: w(k, t) = w_i(k) + (t - t_i)/(t_{i+1} - t_i) * (w_{i+1}(k) - w_i(k));
- before the first slice, w(k, t) = w_1(k) * t / t_1 (constant implied vol);
- after the last slice, w(k, t) = w_N(k) * t / t_N (constant implied vol).

Linear interpolation at fixed k keeps the surface free of calendar arbitrage
whenever the slices are (Gatheral & Jacquier 2014, section 2: calendar
arbitrage is absent iff w(k, t) is non-decreasing in t at every k, for
zero rates and dividends; with carry, k is measured against the forward).

Arbitrage checks on a k grid: butterfly (Durrleman's g(k) >= 0 on each slice)
and calendar (w_i(k) <= w_{i+1}(k)). ``repaired()`` returns the closest
surface without either, expiry by expiry (engine.svi.repair_svi_slice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from engine.errors import InvalidInput
from engine.svi import SsviParams, SviParams, durrleman_g, fit_svi, repair_svi_slice

DEFAULT_K_GRID = np.linspace(-1.5, 1.5, 121)


@dataclass(frozen=True)
class SurfaceSlice:
    """One expiry of the surface: t in years and its raw SVI parameters."""

    t: float
    params: SviParams


@dataclass(frozen=True)
class ButterflyViolation:
    """Slice at expiry t has Durrleman g < 0; worst value g_min at log-moneyness k."""

    t: float
    k: float
    g_min: float


@dataclass(frozen=True)
class CalendarViolation:
    """Total variance falls from expiry t_near to t_far at log-moneyness k by ``drop`` (> 0)."""

    t_near: float
    t_far: float
    k: float
    drop: float


@dataclass(frozen=True)
class ArbitrageReport:
    butterfly: tuple[ButterflyViolation, ...]
    calendar: tuple[CalendarViolation, ...]

    @property
    def is_arbitrage_free(self) -> bool:
        return not self.butterfly and not self.calendar


class VolSurface:
    """Implied vol surface in (log-moneyness, expiry); immutable once built."""

    def __init__(self, slices: Sequence[SurfaceSlice]):
        if len(slices) == 0:
            raise InvalidInput("slices", "a surface needs at least one expiry", 0)
        ordered = sorted(slices, key=lambda s: s.t)
        times = np.array([s.t for s in ordered])
        if not np.all(np.isfinite(times)) or times[0] <= 0:
            raise InvalidInput("slices", "expiries must be finite and > 0 years", times)
        if np.any(np.diff(times) <= 0):
            raise InvalidInput("slices", "expiries must be distinct", times)
        self.slices: tuple[SurfaceSlice, ...] = tuple(ordered)
        self.expiries = times

    @classmethod
    def from_ssvi(cls, params: SsviParams, expiries: Sequence[float], thetas: Sequence[float]) -> VolSurface:
        """Surface whose slices are the SSVI smiles at the given expiries (years) and ATM total variances."""
        if len(expiries) != len(thetas):
            raise InvalidInput("thetas", "need one ATM total variance per expiry", (len(expiries), len(thetas)))
        return cls([SurfaceSlice(float(t), params.slice_params(float(th))) for t, th in zip(expiries, thetas)])

    @classmethod
    def fit(cls, market: Sequence[tuple[float, np.ndarray, np.ndarray]]) -> VolSurface:
        """Fit raw SVI to each expiry of ``market``: tuples (t years, log-moneyness, implied vols)."""
        return cls([SurfaceSlice(float(t), fit_svi(k, v, t).params) for t, k, v in market])

    def scaled(self, factor: float) -> VolSurface:
        """The surface with every total variance multiplied by ``factor`` (> 0): vols scale by sqrt(factor).

        Used to follow an implied-vol index between two fits. Every slice scales
        alike, so calendar monotonicity is kept; Durrleman's g is not invariant
        under scaling, so call ``check_arbitrage`` again when the factor is far from 1.
        """
        if not (math.isfinite(factor) and factor > 0):
            raise InvalidInput("factor", "must be finite and > 0", factor)
        return VolSurface(
            [
                SurfaceSlice(
                    s.t, SviParams(s.params.a * factor, s.params.b * factor, s.params.rho, s.params.m, s.params.sigma)
                )
                for s in self.slices
            ]
        )

    def total_variance(self, k: np.ndarray | float, t: np.ndarray | float) -> np.ndarray:
        """w(k, t) = implied_vol^2 * t at log-moneyness k and expiry t (years), broadcast together."""
        k, t = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(t, dtype=float))
        if np.any(~np.isfinite(t)) or np.any(t <= 0):
            raise InvalidInput("t", "time to expiry must be finite and > 0 years", t)
        if np.any(~np.isfinite(k)):
            raise InvalidInput("k", "log-moneyness must be finite", k)
        per_slice = np.stack([s.params.total_variance(k) for s in self.slices])  # (n_slices, *shape)
        times = self.expiries
        if times.size == 1:
            return per_slice[0] * t / times[0]
        right = np.clip(np.searchsorted(times, t, side="left"), 1, times.size - 1)
        left = right - 1
        w_left = np.take_along_axis(per_slice, left[None], axis=0)[0]
        w_right = np.take_along_axis(per_slice, right[None], axis=0)[0]
        frac = (t - times[left]) / (times[right] - times[left])
        inside = w_left + frac * (w_right - w_left)
        before = per_slice[0] * t / times[0]
        after = per_slice[-1] * t / times[-1]
        return np.where(t < times[0], before, np.where(t > times[-1], after, inside))

    def implied_vol(self, k: np.ndarray | float, t: np.ndarray | float) -> np.ndarray:
        """Annualized implied vol (decimal) at log-moneyness k and expiry t years."""
        t_arr = np.asarray(t, dtype=float)
        return np.sqrt(np.maximum(self.total_variance(k, t_arr), 0.0) / t_arr)

    def vol_at_strike(
        self, strike: np.ndarray | float, t: np.ndarray | float, forward: np.ndarray | float
    ) -> np.ndarray:
        """Implied vol at strike K and expiry t given the forward F (same currency as K): k = ln(K/F)."""
        strike = np.asarray(strike, dtype=float)
        forward = np.asarray(forward, dtype=float)
        if np.any(~(strike > 0)):
            raise InvalidInput("strike", "must be > 0", strike)
        if np.any(~(forward > 0)):
            raise InvalidInput("forward", "must be > 0", forward)
        return self.implied_vol(np.log(strike / forward), t)

    def atm_vol(self, t: float) -> float:
        """At-the-forward implied vol at expiry t years."""
        return float(self.implied_vol(0.0, t))

    def check_arbitrage(self, k_grid: np.ndarray = DEFAULT_K_GRID, tolerance: float = 1e-12) -> ArbitrageReport:
        """Butterfly (g(k) < -tolerance) and calendar (w drops by more than tolerance) violations on ``k_grid``."""
        k_grid = np.asarray(k_grid, dtype=float)
        butterfly = []
        for s in self.slices:
            g = durrleman_g(s.params, k_grid)
            worst = int(np.argmin(g))
            if g[worst] < -tolerance:
                butterfly.append(ButterflyViolation(s.t, float(k_grid[worst]), float(g[worst])))
        calendar = []
        for near, far in zip(self.slices, self.slices[1:]):
            drop = near.params.total_variance(k_grid) - far.params.total_variance(k_grid)
            worst = int(np.argmax(drop))
            if drop[worst] > tolerance:
                calendar.append(CalendarViolation(near.t, far.t, float(k_grid[worst]), float(drop[worst])))
        return ArbitrageReport(tuple(butterfly), tuple(calendar))

    def repaired(self, k_grid: np.ndarray = DEFAULT_K_GRID) -> VolSurface:
        """The surface with every slice moved as little as needed to remove butterfly and calendar arbitrage on k_grid.

        Expiries are repaired in order: each slice is made butterfly-free and
        kept above the previous (already repaired) slice's total variance.
        Slices that are already admissible are left untouched.
        """
        k_grid = np.asarray(k_grid, dtype=float)
        fixed: list[SurfaceSlice] = []
        for s in self.slices:
            floor = fixed[-1].params if fixed else None
            ok_butterfly = float(np.min(durrleman_g(s.params, k_grid))) >= 0.0
            ok_calendar = floor is None or bool(np.all(s.params.total_variance(k_grid) >= floor.total_variance(k_grid)))
            params = s.params if ok_butterfly and ok_calendar else repair_svi_slice(s.params, k_grid, floor)
            fixed.append(SurfaceSlice(s.t, params))
        return VolSurface(fixed)


def log_moneyness(
    strike: np.ndarray | float, spot: float, t: np.ndarray | float, rate: float, carry: float = 0.0
) -> np.ndarray:
    """k = ln(K / F) with forward F = S * exp((rate - carry) * t); rates continuously compounded, t in years."""
    if not (math.isfinite(spot) and spot > 0):
        raise InvalidInput("spot", "must be > 0", spot)
    strike = np.asarray(strike, dtype=float)
    if np.any(~(strike > 0)):
        raise InvalidInput("strike", "must be > 0", strike)
    return np.log(strike / spot) - (rate - carry) * np.asarray(t, dtype=float)
