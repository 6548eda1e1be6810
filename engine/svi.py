"""SVI and SSVI volatility smiles: formulas, fitting, and butterfly arbitrage.

Raw SVI (Gatheral 2004) gives the total implied variance ``w = sigma_imp^2 * T``
of one expiry as a function of log-moneyness ``k = ln(K / F)``::

    w(k) = a + b * (rho * (k - m) + sqrt((k - m)^2 + sigma^2))

with b >= 0, |rho| < 1, sigma > 0 and a + b*sigma*sqrt(1 - rho^2) >= 0 (the
minimum of w is non-negative), the parameter domain QuantLib's
``checkSviParameters`` enforces.

SSVI (Gatheral & Jacquier 2014, "Arbitrage-free SVI volatility surfaces",
Quantitative Finance 14(1)) ties the expiries together through the ATM total
variance theta_t::

    w(k, theta) = theta / 2 * (1 + rho*phi*k + sqrt((phi*k + rho)^2 + 1 - rho^2))
    phi(theta)  = eta / (theta^gamma * (1 + theta)^(1 - gamma))      (power law, their eq. 4.5)

which is free of butterfly arbitrage when eta*(1 + |rho|) <= 2 and
0 < gamma <= 1/2 (their Remark 4.4), and of calendar arbitrage when theta_t is
non-decreasing (Theorem 4.1 holds for this phi).

A slice is free of butterfly arbitrage when Durrleman's density condition holds
(Gatheral & Jacquier 2014, Lemma 2.2)::

    g(k) = (1 - k*w'/(2w))^2 - w'^2/4 * (1/w + 1/4) + w''/2 >= 0.

Fitting follows the quasi-explicit method of Zeliade Systems (2009, "Quasi-
explicit calibration of Gatheral's SVI model"): for fixed (m, sigma) the model
is linear in (a, b*rho*sigma, b*sigma), so a 2-D outer search over (m, sigma)
gives the start, then a bounded nonlinear least-squares fit in implied
volatility, weighted by Black vega, polishes all five parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from engine.errors import DLPEError, InvalidInput

_RHO_LIMIT = 1.0 - 1e-9  # |rho| < 1 strictly
_SIGMA_FLOOR = 1e-8
_W_FLOOR = 1e-12  # total variance floor when taking square roots


class CalibrationFailed(DLPEError):
    """The optimizer could not produce parameters in the admissible domain."""


def _finite_array(name: str, values: object) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidInput(name, "must be a non-empty 1-D array", arr.shape)
    if not np.all(np.isfinite(arr)):
        raise InvalidInput(name, "must be finite", values)
    return arr


def _check_positive_time(t: float) -> float:
    if not (isinstance(t, (int, float, np.floating)) and math.isfinite(t) and t > 0):
        raise InvalidInput("t", "time to expiry must be a finite positive number of years", t)
    return float(t)


@dataclass(frozen=True)
class SviParams:
    """Raw SVI parameters of one expiry (total variance, dimensionless).

    a: vertical level; b: wing slope (>= 0); rho: skew in (-1, 1);
    m: horizontal shift (log-moneyness); sigma: ATM curvature (> 0).
    """

    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def __post_init__(self) -> None:
        for name in ("a", "b", "rho", "m", "sigma"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidInput(name, "must be finite", getattr(self, name))
        if self.b < 0:
            raise InvalidInput("b", "must be >= 0", self.b)
        if not abs(self.rho) < 1:
            raise InvalidInput("rho", "must satisfy |rho| < 1", self.rho)
        if self.sigma <= 0:
            raise InvalidInput("sigma", "must be > 0", self.sigma)
        if self.min_total_variance < -1e-14:
            raise InvalidInput("a", "a + b*sigma*sqrt(1-rho^2) must be >= 0 (negative variance)", self.a)

    @property
    def min_total_variance(self) -> float:
        """min_k w(k) = a + b*sigma*sqrt(1 - rho^2)."""
        return self.a + self.b * self.sigma * math.sqrt(1.0 - self.rho * self.rho)

    def total_variance(self, k: np.ndarray | float) -> np.ndarray:
        """w(k) at log-moneyness k = ln(K/F)."""
        x = np.asarray(k, dtype=float) - self.m
        return self.a + self.b * (self.rho * x + np.sqrt(x * x + self.sigma**2))

    def total_variance_dk(self, k: np.ndarray | float) -> np.ndarray:
        """w'(k) = b * (rho + (k - m) / sqrt((k - m)^2 + sigma^2))."""
        x = np.asarray(k, dtype=float) - self.m
        return self.b * (self.rho + x / np.sqrt(x * x + self.sigma**2))

    def total_variance_dk2(self, k: np.ndarray | float) -> np.ndarray:
        """w''(k) = b * sigma^2 / ((k - m)^2 + sigma^2)^(3/2)."""
        x = np.asarray(k, dtype=float) - self.m
        return self.b * self.sigma**2 / (x * x + self.sigma**2) ** 1.5

    def implied_vol(self, k: np.ndarray | float, t: float) -> np.ndarray:
        """Black implied volatility (annualized, decimal) at log-moneyness k and expiry t years."""
        return np.sqrt(np.maximum(self.total_variance(k), 0.0) / t)

    def as_array(self) -> np.ndarray:
        return np.array([self.a, self.b, self.rho, self.m, self.sigma])


def durrleman_g(params: SviParams, k: np.ndarray | float) -> np.ndarray:
    """Durrleman's butterfly condition g(k); the implied density is non-negative where g >= 0.

    g(k) = (1 - k w'/(2w))^2 - (w'^2/4)(1/w + 1/4) + w''/2   (Gatheral & Jacquier 2014, eq. 2.1).
    """
    k = np.asarray(k, dtype=float)
    w = np.maximum(params.total_variance(k), _W_FLOOR)
    w1 = params.total_variance_dk(k)
    w2 = params.total_variance_dk2(k)
    return (1.0 - k * w1 / (2.0 * w)) ** 2 - w1 * w1 / 4.0 * (1.0 / w + 0.25) + w2 / 2.0


def black_vega_weights(k: np.ndarray, total_variance: np.ndarray) -> np.ndarray:
    """Black (1976) vega per unit forward, phi(d1) * sqrt(T), scaled to mean 1; d1 = -k/sqrt(w) + sqrt(w)/2.

    Used as fitting weights so each quote counts by its price sensitivity to vol
    (price error ~ vega * vol error); the sqrt(T) factor cancels after scaling.
    """
    sqrt_w = np.sqrt(np.maximum(total_variance, _W_FLOOR))
    d1 = -k / sqrt_w + 0.5 * sqrt_w
    vega = np.exp(-0.5 * d1 * d1)
    return vega / vega.mean()


@dataclass(frozen=True)
class SviFit:
    """Result of fitting one expiry: parameters, expiry (years), and the vega-weighted RMS vol error."""

    params: SviParams
    t: float
    rmse_vol: float
    max_abs_error_vol: float


def _params_from_search_vector(x: np.ndarray) -> SviParams:
    """Decode (w_min, b, rho, m, sigma): writing a = w_min - b*sigma*sqrt(1-rho^2) makes every bound a box bound."""
    w_min, b, rho, m, sigma = (float(v) for v in x)
    return SviParams(w_min - b * sigma * math.sqrt(1.0 - rho * rho), b, rho, m, sigma)


def _search_vector(params: SviParams) -> np.ndarray:
    return np.array([max(params.min_total_variance, 0.0), params.b, params.rho, params.m, params.sigma])


_LOWER = np.array([0.0, 0.0, -_RHO_LIMIT, -np.inf, _SIGMA_FLOOR])
_UPPER = np.array([np.inf, np.inf, _RHO_LIMIT, np.inf, np.inf])


def _quasi_explicit_start(k: np.ndarray, w: np.ndarray, weights: np.ndarray) -> SviParams:
    """Zeliade's reduction: for fixed (m, s) solve the weighted linear problem w ~ a + d*y + c*sqrt(y^2+1)."""
    sqrt_weights = np.sqrt(weights)

    def inner(m: float, s: float) -> tuple[SviParams, float]:
        y = (k - m) / s
        design = np.column_stack([np.ones_like(y), y, np.sqrt(y * y + 1.0)])
        coef, *_ = np.linalg.lstsq(design * sqrt_weights[:, None], w * sqrt_weights, rcond=None)
        a, d, c = coef
        c = max(c, 1e-12)  # b >= 0
        d = float(np.clip(d, -_RHO_LIMIT * c, _RHO_LIMIT * c))  # |rho| < 1
        b, rho = c / s, d / c
        a = max(a, -b * s * math.sqrt(1.0 - rho * rho))  # non-negative minimum variance
        params = SviParams(a, b, rho, m, s)
        residual = (params.total_variance(k) - w) * sqrt_weights
        return params, float(residual @ residual)

    def outer(x: np.ndarray) -> float:
        return inner(x[0], math.exp(x[1]))[1]

    spread = float(k.max() - k.min())
    best: optimize.OptimizeResult | None = None
    for m0 in (float(k[np.argmin(w)]), 0.0):
        for s0 in (0.05 * spread + 1e-3, 0.3 * spread + 1e-3):
            res = optimize.minimize(
                outer,
                [m0, math.log(s0)],
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-18, "maxiter": 4000},
            )
            if best is None or res.fun < best.fun:
                best = res
    assert best is not None
    return inner(best.x[0], math.exp(best.x[1]))[0]


def fit_svi(
    log_moneyness: np.ndarray,
    implied_vols: np.ndarray,
    t: float,
    weights: np.ndarray | None = None,
    initial: SviParams | None = None,
) -> SviFit:
    """Fit raw SVI to one expiry's market implied vols by vega-weighted least squares.

    log_moneyness: k = ln(K/F) of each quote; implied_vols: Black vols (decimal,
    annualized); t: expiry in years; weights: optional per-quote weights
    (default: Black vega, ``black_vega_weights``); initial: a previous fit to
    start from (a refit of a slowly moving smile), which skips the quasi-explicit
    search. Needs at least 5 quotes.
    Minimizes sum_i weight_i * (sigma_SVI(k_i) - sigma_mkt_i)^2 over the
    admissible domain (see module docstring).
    """
    t = _check_positive_time(t)
    k = _finite_array("log_moneyness", log_moneyness)
    vols = _finite_array("implied_vols", implied_vols)
    if vols.shape != k.shape:
        raise InvalidInput("implied_vols", "must have the same shape as log_moneyness", (vols.shape, k.shape))
    if k.size < 5:
        raise InvalidInput("log_moneyness", "at least 5 quotes are needed to fit 5 SVI parameters", k.size)
    if np.any(vols <= 0):
        raise InvalidInput("implied_vols", "must be > 0", vols)
    if np.unique(k).size != k.size:
        raise InvalidInput("log_moneyness", "strikes must be distinct", k)
    w_market = vols * vols * t
    if weights is None:
        weights = black_vega_weights(k, w_market)
    else:
        weights = _finite_array("weights", weights)
        if weights.shape != k.shape or np.any(weights < 0) or not np.any(weights > 0):
            raise InvalidInput("weights", "must be non-negative, not all zero, one per quote", weights)
    sqrt_weights = np.sqrt(weights)

    start = _quasi_explicit_start(k, w_market, weights) if initial is None else initial

    def residuals(x: np.ndarray) -> np.ndarray:
        w_min, b, rho, m, sigma = x
        a = w_min - b * sigma * np.sqrt(1.0 - rho * rho)
        y = k - m
        w = a + b * (rho * y + np.sqrt(y * y + sigma * sigma))
        return (np.sqrt(np.maximum(w, _W_FLOOR) / t) - vols) * sqrt_weights

    x0 = np.clip(_search_vector(start), _LOWER + 1e-12, _UPPER - 1e-12)
    result = optimize.least_squares(
        residuals,
        x0,
        bounds=(_LOWER, _UPPER),
        method="trf",
        x_scale="jac",
        ftol=1e-15,
        xtol=1e-15,
        gtol=1e-15,
        max_nfev=5000,
    )
    try:
        params = _params_from_search_vector(result.x)
    except InvalidInput as exc:
        raise CalibrationFailed(f"SVI fit left the admissible domain: {exc}") from exc
    errors = params.implied_vol(k, t) - vols
    rmse = float(np.sqrt(np.sum(weights * errors**2) / np.sum(weights)))
    return SviFit(params, t, rmse, float(np.max(np.abs(errors))))


def repair_svi_slice(
    params: SviParams,
    k_grid: np.ndarray,
    floor: SviParams | None = None,
    margin: float = 1e-7,
) -> SviParams:
    """Closest SVI slice (least squares in total variance on ``k_grid``) free of arbitrage on that grid's range.

    Constraints, imposed at every grid point by SLSQP: Durrleman's
    g(k) >= margin (no butterfly arbitrage) and, when ``floor`` is given (the
    previous expiry's slice), w(k) >= w_floor(k) + margin (no calendar
    arbitrage). In the spirit of Gatheral & Jacquier (2014), section 5: keep
    the slice where it is admissible, move it as little as possible where it
    is not. Raises CalibrationFailed if no admissible slice is found.
    """
    k = _finite_array("k_grid", k_grid)
    target = params.total_variance(k)
    scale = float(np.mean(target**2))

    def decode(x: np.ndarray) -> SviParams:
        return _params_from_search_vector(np.clip(x, _LOWER, _UPPER))

    def objective(x: np.ndarray) -> float:
        diff = decode(x).total_variance(k) - target
        return float(diff @ diff) / scale

    bounds = list(zip(np.maximum(_LOWER, -1e6), np.minimum(_UPPER, 1e6)))
    x0 = np.clip(_search_vector(params), _LOWER, _UPPER)
    # The constraints bind at grid points only and the slice can dip between
    # them, so the result is checked on a grid 8x finer and the margin raised
    # until it holds there.
    fine = np.linspace(k.min(), k.max(), 8 * k.size)
    w_floor = None if floor is None else floor.total_variance(k)
    worst_g = worst_gap = -np.inf
    for _ in range(5):
        constraints = [{"type": "ineq", "fun": lambda x, mg=margin: durrleman_g(decode(x), k) - mg}]
        if floor is not None:
            constraints.append(
                {
                    "type": "ineq",
                    "fun": lambda x, mg=margin: (decode(x).total_variance(k) - w_floor - mg) / math.sqrt(scale),
                }
            )
        result = optimize.minimize(
            objective,
            x0,
            method="SLSQP",
            bounds=bounds,
            constraints=constraints,
            options={"maxiter": 500, "ftol": 1e-14},
        )
        repaired = decode(result.x)
        worst_g = float(np.min(durrleman_g(repaired, fine)))
        worst_gap = 0.0 if floor is None else float(np.min(repaired.total_variance(fine) - floor.total_variance(fine)))
        if worst_g >= 0.0 and worst_gap >= 0.0:
            return repaired
        margin *= 10.0
    raise CalibrationFailed(
        f"SVI repair did not remove arbitrage: min g = {worst_g:.3e}, min calendar gap = {worst_gap:.3e}"
    )


@dataclass(frozen=True)
class SsviParams:
    """SSVI with the power-law phi of Gatheral & Jacquier (2014), eq. 4.5.

    rho: spot-vol correlation (skew), |rho| < 1; eta > 0 and gamma in (0, 1/2]:
    curvature phi(theta) = eta / (theta^gamma * (1 + theta)^(1 - gamma)).
    """

    rho: float
    eta: float
    gamma: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rho) and abs(self.rho) < 1):
            raise InvalidInput("rho", "must satisfy |rho| < 1", self.rho)
        if not (math.isfinite(self.eta) and self.eta > 0):
            raise InvalidInput("eta", "must be > 0", self.eta)
        if not (math.isfinite(self.gamma) and 0 < self.gamma <= 0.5):
            raise InvalidInput("gamma", "must lie in (0, 1/2]", self.gamma)

    @property
    def is_butterfly_free(self) -> bool:
        """Sufficient condition eta * (1 + |rho|) <= 2 (Gatheral & Jacquier 2014, Remark 4.4)."""
        return self.eta * (1.0 + abs(self.rho)) <= 2.0 + 1e-12

    def phi(self, theta: np.ndarray | float) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        return self.eta / (theta**self.gamma * (1.0 + theta) ** (1.0 - self.gamma))

    def total_variance(self, k: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray:
        """w(k, theta) = theta/2 * (1 + rho*phi*k + sqrt((phi*k + rho)^2 + 1 - rho^2))."""
        k = np.asarray(k, dtype=float)
        theta = np.asarray(theta, dtype=float)
        pk = self.phi(theta) * k
        return 0.5 * theta * (1.0 + self.rho * pk + np.sqrt((pk + self.rho) ** 2 + 1.0 - self.rho**2))

    def slice_params(self, theta: float) -> SviParams:
        """The raw SVI slice equal to SSVI at ATM total variance theta (Gatheral & Jacquier 2014, Lemma 3.1 style mapping).

        (a, b, rho, m, sigma) = (theta(1-rho^2)/2, theta*phi/2, rho, -rho/phi, sqrt(1-rho^2)/phi).
        """
        if not (math.isfinite(theta) and theta > 0):
            raise InvalidInput("theta", "ATM total variance must be > 0", theta)
        phi = float(self.phi(theta))
        r = self.rho
        return SviParams(0.5 * theta * (1 - r * r), 0.5 * theta * phi, r, -r / phi, math.sqrt(1 - r * r) / phi)


@dataclass(frozen=True)
class SsviFit:
    """SSVI fitted across expiries: global (rho, eta, gamma), one theta per expiry, and the RMS vol error."""

    params: SsviParams
    expiries: tuple[float, ...]
    thetas: tuple[float, ...]
    rmse_vol: float


def fit_ssvi(slices: list[tuple[float, np.ndarray, np.ndarray]]) -> SsviFit:
    """Fit SSVI to several expiries, each ``(t_years, log_moneyness, implied_vols)``.

    Free parameters: rho, eta, gamma and the ATM total variance theta of every
    expiry, by vega-weighted least squares in implied vol. The no-butterfly
    bound eta*(1+|rho|) <= 2 is kept by writing eta = 2u/(1+|rho|) with
    u in (0, 1]; thetas are left free and checked for monotonicity by the
    surface's calendar check.
    """
    if len(slices) < 1:
        raise InvalidInput("slices", "need at least one expiry", len(slices))
    ts, ks, vols, weights, theta0, owner = [], [], [], [], [], []
    for i, (t, k, v) in enumerate(slices):
        t = _check_positive_time(t)
        k = _finite_array("log_moneyness", k)
        v = _finite_array("implied_vols", v)
        if k.shape != v.shape or k.size < 3 or np.any(v <= 0):
            raise InvalidInput("slices", f"expiry {i}: need >= 3 positive vols, one per strike", (k.shape, v.shape))
        w = v * v * t
        order = np.argsort(k)
        theta0.append(float(np.interp(0.0, k[order], w[order])))
        ts.append(np.full(k.size, t))
        ks.append(k)
        vols.append(v)
        weights.append(black_vega_weights(k, w))
        owner.append(np.full(k.size, i))
    expiries = tuple(float(s[0]) for s in slices)
    t_all, k_all, v_all = np.concatenate(ts), np.concatenate(ks), np.concatenate(vols)
    sqrt_w = np.sqrt(np.concatenate(weights))
    idx = np.concatenate(owner)
    n = len(slices)

    def decode(x: np.ndarray) -> tuple[SsviParams, np.ndarray]:
        rho, u, gamma = x[0], x[1], x[2]
        return SsviParams(float(rho), float(2.0 * u / (1.0 + abs(rho))), float(gamma)), x[3:]

    def residuals(x: np.ndarray) -> np.ndarray:
        p, thetas = decode(x)
        w = p.total_variance(k_all, thetas[idx])
        return (np.sqrt(np.maximum(w, _W_FLOOR) / t_all) - v_all) * sqrt_w

    lower = np.concatenate([[-_RHO_LIMIT, 1e-6, 1e-6], np.full(n, 1e-8)])
    upper = np.concatenate([[_RHO_LIMIT, 1.0, 0.5], np.full(n, np.inf)])
    best = None
    for rho0 in (-0.5, 0.0, 0.5):
        for u0 in (0.3, 0.8):
            x0 = np.concatenate([[rho0, u0, 0.4], theta0])
            res = optimize.least_squares(
                residuals,
                x0,
                bounds=(lower, upper),
                method="trf",
                x_scale="jac",
                ftol=1e-15,
                xtol=1e-15,
                gtol=1e-15,
                max_nfev=5000,
            )
            if best is None or res.cost < best.cost:
                best = res
    assert best is not None
    params, thetas = decode(best.x)
    rmse = float(np.sqrt(np.mean((best.fun / sqrt_w) ** 2)))
    return SsviFit(params, expiries, tuple(float(th) for th in thetas), rmse)
