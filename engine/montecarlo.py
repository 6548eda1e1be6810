"""Monte Carlo scenarios: jump-diffusion spot with a correlated implied-vol move.

Spot follows Merton's (1976, "Option pricing when underlying stock returns are
discontinuous", J. Financial Economics 3) jump diffusion over a horizon h:

    ln(S_h / S_0) = (mu - lambda*kappa - sigma^2/2) h + sigma sqrt(h) Z + sum_{i<=N} J_i
    N ~ Poisson(lambda h),  J_i ~ Normal(m_J, s_J^2),  kappa = exp(m_J + s_J^2/2) - 1

so E[S_h] = S_0 exp(mu h) (the jump compensator lambda*kappa keeps the drift
exact). Given N, the jump sum is Normal(N m_J, N s_J^2), drawn in one shot.
Implied vol moves log-normally, sigma_h = sigma_0 exp(nu sqrt(h) Z_v - nu^2 h / 2)
with corr(Z, Z_v) = rho (the spot-vol correlation, negative in crypto sell-offs).

Everything is vectorized numpy driven by ``numpy.random.default_rng(seed)``:
the same seed gives the same scenarios.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.errors import InvalidInput


@dataclass(frozen=True)
class JumpDiffusion:
    """Parameters, annualized: drift mu, diffusion vol sigma, jump intensity lambda (jumps per year),
    log-jump mean m_J and std s_J, vol-of-implied-vol nu, and spot-vol correlation rho."""

    drift: float = 0.0
    vol: float = 0.6
    jump_intensity: float = 10.0
    jump_mean: float = -0.03
    jump_std: float = 0.05
    vol_of_vol: float = 1.0
    spot_vol_correlation: float = -0.5

    def __post_init__(self) -> None:
        for name in ("drift", "vol", "jump_intensity", "jump_mean", "jump_std", "vol_of_vol", "spot_vol_correlation"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidInput(name, "must be finite", getattr(self, name))
        for name in ("vol", "jump_intensity", "jump_std", "vol_of_vol"):
            if getattr(self, name) < 0:
                raise InvalidInput(name, "must be >= 0", getattr(self, name))
        if not -1 <= self.spot_vol_correlation <= 1:
            raise InvalidInput("spot_vol_correlation", "must lie in [-1, 1]", self.spot_vol_correlation)

    @property
    def jump_compensator(self) -> float:
        """kappa = E[exp(J)] - 1."""
        return math.exp(self.jump_mean + 0.5 * self.jump_std**2) - 1.0


@dataclass(frozen=True)
class MarketShocks:
    """Scenario multipliers: spot S_h / S_0 and implied vol sigma_h / sigma_0, one entry per path."""

    spot_factor: np.ndarray
    vol_factor: np.ndarray


def _check_simulation(horizon_years: float, n_paths: int) -> None:
    if not (math.isfinite(horizon_years) and horizon_years > 0):
        raise InvalidInput("horizon_years", "must be finite and > 0", horizon_years)
    if not isinstance(n_paths, int) or n_paths < 1:
        raise InvalidInput("n_paths", "must be an integer >= 1", n_paths)


def simulate_market_shocks(model: JumpDiffusion, horizon_years: float, n_paths: int, seed: int) -> MarketShocks:
    """Draw ``n_paths`` joint (spot, implied vol) moves over ``horizon_years``."""
    _check_simulation(horizon_years, n_paths)
    rng = np.random.default_rng(seed)
    h = horizon_years
    z = rng.standard_normal(n_paths)
    z_vol = model.spot_vol_correlation * z + math.sqrt(1.0 - model.spot_vol_correlation**2) * rng.standard_normal(
        n_paths
    )
    n_jumps = rng.poisson(model.jump_intensity * h, n_paths)
    jumps = n_jumps * model.jump_mean + np.sqrt(n_jumps) * model.jump_std * rng.standard_normal(n_paths)
    drift = (model.drift - model.jump_intensity * model.jump_compensator - 0.5 * model.vol**2) * h
    spot_factor = np.exp(drift + model.vol * math.sqrt(h) * z + jumps)
    vol_factor = np.exp(model.vol_of_vol * math.sqrt(h) * z_vol - 0.5 * model.vol_of_vol**2 * h)
    return MarketShocks(spot_factor, vol_factor)


def simulate_spot_paths(
    spot: float, model: JumpDiffusion, horizon_years: float, steps: int, n_paths: int, seed: int
) -> np.ndarray:
    """Spot paths of shape (n_paths, steps + 1) on an even grid over ``horizon_years``; column 0 is ``spot``."""
    _check_simulation(horizon_years, n_paths)
    if not (math.isfinite(spot) and spot > 0):
        raise InvalidInput("spot", "must be finite and > 0", spot)
    if not isinstance(steps, int) or steps < 1:
        raise InvalidInput("steps", "must be an integer >= 1", steps)
    rng = np.random.default_rng(seed)
    dt = horizon_years / steps
    z = rng.standard_normal((n_paths, steps))
    n_jumps = rng.poisson(model.jump_intensity * dt, (n_paths, steps))
    jumps = n_jumps * model.jump_mean + np.sqrt(n_jumps) * model.jump_std * rng.standard_normal((n_paths, steps))
    increments = (model.drift - model.jump_intensity * model.jump_compensator - 0.5 * model.vol**2) * dt
    increments = increments + model.vol * math.sqrt(dt) * z + jumps
    log_paths = np.concatenate([np.zeros((n_paths, 1)), np.cumsum(increments, axis=1)], axis=1)
    return spot * np.exp(log_paths)


@dataclass(frozen=True)
class LossQuantiles:
    """Value at risk and expected shortfall of a P&L sample, as positive losses in currency."""

    var: float
    expected_shortfall: float
    confidence: float
    n_paths: int


def var_from_pnl(pnl: np.ndarray, confidence: float) -> LossQuantiles:
    """VaR = -quantile_{1-c}(P&L); ES = mean loss beyond VaR (Acerbi & Tasche 2002)."""
    pnl = np.asarray(pnl, dtype=float)
    if pnl.ndim != 1 or pnl.size == 0 or not np.all(np.isfinite(pnl)):
        raise InvalidInput("pnl", "must be a non-empty 1-D finite array", pnl.shape)
    if not 0.5 < confidence < 1:
        raise InvalidInput("confidence", "must lie in (0.5, 1)", confidence)
    losses = -pnl
    var = float(np.quantile(losses, confidence))
    tail = losses[losses >= var]
    return LossQuantiles(var, float(tail.mean()), confidence, pnl.size)
