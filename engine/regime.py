"""Market regime detection: low vol, high vol, or liquidation cascade.

Two layers:

1. Low vs high volatility: a 2-state Gaussian Markov-switching model of
   returns with switching mean and variance (Hamilton 1989, "A new approach to
   the economic analysis of nonstationary time series and the business
   cycle", Econometrica 57(2)), fitted by maximum likelihood with statsmodels'
   ``MarkovRegression``. Online, the Hamilton filter turns each new return into
   the filtered probability P(high vol | returns so far), O(1) per step.
2. Liquidation cascade: explicit triggers, either a liquidation-volume
   z-score above ``cascade_enter_z`` (against an EWMA baseline of
   log(1 + volume) that is frozen during cascades so a cascade does not
   inflate its own yardstick), or a fast drawdown: the log return over the
   last ``drawdown_window`` steps below ``-cascade_drawdown``.

Hysteresis keeps the label from flapping: high vol is entered at
P(high) >= ``enter_high_prob`` and left at P(high) <= ``exit_high_prob``; a
regime is held at least ``min_dwell_steps`` steps before a vol-driven change;
a cascade is entered at once (withdrawing late is the costly mistake) and left
only after ``min_cascade_steps`` steps and once the z-score is back under
``cascade_exit_z`` and the drawdown under half its trigger, into HIGH_VOL.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

import numpy as np

from engine.errors import DLPEError, InvalidInput


class Regime(Enum):
    LOW_VOL = "low_vol"
    HIGH_VOL = "high_vol"
    LIQUIDATION_CASCADE = "liquidation_cascade"


class RegimeModelFitFailed(DLPEError):
    """The Markov-switching fit did not converge to two distinct variance states."""


@dataclass(frozen=True)
class VolRegimeModel:
    """Fitted 2-state Markov-switching model of per-step log returns.

    State 0 is low vol, state 1 high vol. ``means`` and ``stds`` are per step
    (same unit as the returns); ``transition[i][j]`` = P(s_t = j | s_{t-1} = i).
    """

    means: tuple[float, float]
    stds: tuple[float, float]
    transition: tuple[tuple[float, float], tuple[float, float]]
    clip: tuple[float, float] = (-math.inf, math.inf)  # returns are winsorized to this range before filtering

    def __post_init__(self) -> None:
        if not all(s > 0 for s in self.stds):
            raise InvalidInput("stds", "must be > 0", self.stds)
        p = np.asarray(self.transition, dtype=float)
        if p.shape != (2, 2) or np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0):
            raise InvalidInput("transition", "must be a 2x2 row-stochastic matrix", self.transition)

    def stationary_distribution(self) -> np.ndarray:
        """Long-run state probabilities pi with pi P = pi."""
        p01, p10 = self.transition[0][1], self.transition[1][0]
        total = p01 + p10
        if total == 0:
            return np.array([0.5, 0.5])
        return np.array([p10 / total, p01 / total])

    def expected_duration(self) -> tuple[float, float]:
        """Expected stay in each state, in steps: 1 / (1 - p_ii)."""
        return tuple(1.0 / max(1.0 - self.transition[i][i], 1e-12) for i in range(2))  # type: ignore[return-value]


def fit_vol_regime_model(returns: Sequence[float] | np.ndarray, clip_mads: float | None = None) -> VolRegimeModel:
    """Fit the 2-state switching-variance model to per-step log returns by maximum likelihood.

    Returns are standardized before the fit (statsmodels' optimizer is poorly
    scaled for variances near 1e-6) and the parameters scaled back after.
    ``clip_mads``: when given, returns are winsorized at median +- clip_mads *
    1.4826 * MAD before the fit, and the model keeps that range so the filter
    clips the same way. Without it, on data with jumps the two states split
    "jump" from "no jump" instead of low from high diffusive vol; jumps and
    cascades are the explicit triggers' job (they see unclipped returns).
    Needs at least 50 returns.
    """
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    r = np.asarray(returns, dtype=float)
    if r.ndim != 1 or r.size < 50:
        raise InvalidInput("returns", "need a 1-D series of at least 50 returns", r.shape)
    if not np.all(np.isfinite(r)):
        raise InvalidInput("returns", "must be finite", returns)
    clip = (-math.inf, math.inf)
    if clip_mads is not None:
        if not (math.isfinite(clip_mads) and clip_mads > 0):
            raise InvalidInput("clip_mads", "must be finite and > 0", clip_mads)
        center = float(np.median(r))
        spread = clip_mads * 1.4826 * float(np.median(np.abs(r - center)))
        clip = (center - spread, center + spread)
        r = np.clip(r, *clip)
    scale = float(np.std(r))
    if scale == 0:
        raise InvalidInput("returns", "must not be constant", scale)
    model = MarkovRegression(r / scale, k_regimes=2, trend="c", switching_variance=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the result is checked below
        result = model.fit(disp=False)
    params = dict(zip(model.param_names, np.asarray(result.params)))
    variances = np.array([params["sigma2[0]"], params["sigma2[1]"]])
    means = np.array([params["const[0]"], params["const[1]"]])
    # statsmodels: regime_transition[i, j] = P(s_t = i | s_{t-1} = j); transpose to row-stochastic.
    transition = np.asarray(result.regime_transition)[:, :, 0].T
    if not np.all(np.isfinite(variances)) or np.min(variances) <= 0:
        raise RegimeModelFitFailed(f"degenerate variances {variances}")
    order = np.argsort(variances)  # state 0 = low vol
    transition = transition[np.ix_(order, order)]
    return VolRegimeModel(
        means=(float(means[order[0]] * scale), float(means[order[1]] * scale)),
        stds=(float(math.sqrt(variances[order[0]]) * scale), float(math.sqrt(variances[order[1]]) * scale)),
        transition=(
            (float(transition[0, 0]), float(transition[0, 1])),
            (float(transition[1, 0]), float(transition[1, 1])),
        ),
        clip=clip,
    )


class HamiltonFilter:
    """Online Hamilton (1989) filter: P(state | returns so far), one return at a time.

    predict:  prior_t = P^T posterior_{t-1}
    update:   posterior_t proportional to prior_t * N(r_t; mu_s, sd_s^2)
    Starts from the stationary distribution (as statsmodels does).
    """

    def __init__(self, model: VolRegimeModel):
        self.model = model
        self._transition = np.asarray(model.transition, dtype=float)
        self._means = np.asarray(model.means)
        self._stds = np.asarray(model.stds)
        self.posterior = model.stationary_distribution()

    def update(self, log_return: float) -> float:
        """Absorb one return; returns the filtered probability of the high-vol state."""
        if not math.isfinite(log_return):
            raise InvalidInput("log_return", "must be finite", log_return)
        prior = self._transition.T @ self.posterior
        clipped = min(max(log_return, self.model.clip[0]), self.model.clip[1])
        z = (clipped - self._means) / self._stds
        # log-space likelihoods so that a 20-sigma jump does not underflow both states to 0
        log_like = -0.5 * z * z - np.log(self._stds)
        weights = prior * np.exp(log_like - log_like.max())
        self.posterior = weights / weights.sum()
        return float(self.posterior[1])


def high_vol_probability(model: VolRegimeModel, returns: Sequence[float] | np.ndarray) -> np.ndarray:
    """Filtered P(high vol | r_1..r_t) for every t (Hamilton filter over the series)."""
    f = HamiltonFilter(model)
    return np.array([f.update(float(r)) for r in np.asarray(returns, dtype=float)])


@dataclass(frozen=True)
class RegimeConfig:
    """Thresholds of the regime state machine (steps are observation intervals).

    enter_high_prob / exit_high_prob: P(high vol) that enters / leaves HIGH_VOL.
    min_dwell_steps: shortest stay in LOW_VOL or HIGH_VOL before a vol-driven switch.
    cascade_enter_z / cascade_exit_z: liquidation-volume z-score that enters / may leave a cascade.
    cascade_drawdown: log-return over ``drawdown_window`` steps (as a positive number) that enters a cascade.
    min_cascade_steps: shortest cascade.
    liquidation_halflife: half-life, in steps, of the EWMA baseline of log(1 + liquidation volume).
    warmup_steps: steps of baseline before the z-score trigger is armed.
    """

    enter_high_prob: float = 0.8
    exit_high_prob: float = 0.2
    min_dwell_steps: int = 10
    cascade_enter_z: float = 4.0
    cascade_exit_z: float = 1.5
    cascade_drawdown: float = 0.03
    drawdown_window: int = 15
    min_cascade_steps: int = 10
    liquidation_halflife: float = 120.0
    warmup_steps: int = 30

    def __post_init__(self) -> None:
        if not 0 < self.exit_high_prob < self.enter_high_prob < 1:
            raise InvalidInput(
                "exit_high_prob",
                "need 0 < exit_high_prob < enter_high_prob < 1",
                (self.exit_high_prob, self.enter_high_prob),
            )
        if not self.cascade_exit_z < self.cascade_enter_z:
            raise InvalidInput("cascade_exit_z", "must be below cascade_enter_z", self.cascade_exit_z)
        for name in ("min_dwell_steps", "drawdown_window", "min_cascade_steps", "warmup_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidInput(name, "must be an integer >= 1", value)
        for name in ("cascade_drawdown", "liquidation_halflife"):
            if not getattr(self, name) > 0:
                raise InvalidInput(name, "must be > 0", getattr(self, name))


@dataclass(frozen=True)
class RegimeReading:
    """The detector's output for one step, with the signals behind it."""

    regime: Regime
    high_vol_probability: float
    liquidation_z: float
    window_return: float  # log return over the drawdown window
    changed: bool


class RegimeDetector:
    """Stateful classifier: feed one (log return, liquidation volume) per step, read the regime."""

    def __init__(self, model: VolRegimeModel, config: RegimeConfig = RegimeConfig(), initial: Regime = Regime.LOW_VOL):
        self.config = config
        self._filter = HamiltonFilter(model)
        self.regime = initial
        self._dwell = 0
        self._window: deque[float] = deque(maxlen=config.drawdown_window)
        self._alpha = 1.0 - 0.5 ** (1.0 / config.liquidation_halflife)
        self._liq_mean = 0.0
        self._liq_var = 0.0
        self._liq_count = 0

    def _liquidation_z(self, volume: float) -> float:
        x = math.log1p(volume)
        if self._liq_count < self.config.warmup_steps:
            z = 0.0
        else:
            # std floored at 0.1 (10% in volume): a near-constant baseline must not make every bump a cascade
            z = (x - self._liq_mean) / max(math.sqrt(self._liq_var), 0.1)
        if self.regime is not Regime.LIQUIDATION_CASCADE and (
            self._liq_count < self.config.warmup_steps or z < self.config.cascade_enter_z
        ):
            # Baseline learns only from calm steps: a spike must not raise its own bar.
            if self._liq_count == 0:
                self._liq_mean = x
            a = 1.0 / (self._liq_count + 1) if self._liq_count < self.config.warmup_steps else self._alpha
            delta = x - self._liq_mean
            self._liq_mean += a * delta
            self._liq_var = (1 - a) * (self._liq_var + a * delta * delta)
            self._liq_count += 1
        return z

    def update(self, log_return: float, liquidation_volume: float = 0.0) -> RegimeReading:
        """Absorb one step: its log return and its liquidation volume (any unit, >= 0)."""
        if not (math.isfinite(liquidation_volume) and liquidation_volume >= 0):
            raise InvalidInput("liquidation_volume", "must be finite and >= 0", liquidation_volume)
        cfg = self.config
        p_high = self._filter.update(log_return)
        z = self._liquidation_z(liquidation_volume)
        self._window.append(log_return)
        window_return = float(sum(self._window))

        previous = self.regime
        cascade_trigger = z >= cfg.cascade_enter_z or window_return <= -cfg.cascade_drawdown
        if self.regime is Regime.LIQUIDATION_CASCADE:
            calm = z <= cfg.cascade_exit_z and window_return > -0.5 * cfg.cascade_drawdown
            if self._dwell >= cfg.min_cascade_steps and calm:
                self.regime = Regime.HIGH_VOL
        elif cascade_trigger:
            self.regime = Regime.LIQUIDATION_CASCADE
        elif self._dwell >= cfg.min_dwell_steps:
            if self.regime is Regime.LOW_VOL and p_high >= cfg.enter_high_prob:
                self.regime = Regime.HIGH_VOL
            elif self.regime is Regime.HIGH_VOL and p_high <= cfg.exit_high_prob:
                self.regime = Regime.LOW_VOL
        changed = self.regime is not previous
        # _dwell: labels already emitted in the current regime, this step included
        self._dwell = 1 if changed else self._dwell + 1
        return RegimeReading(self.regime, p_high, z, window_return, changed)


def classify_regimes(
    model: VolRegimeModel,
    returns: Sequence[float] | np.ndarray,
    liquidation_volume: Sequence[float] | np.ndarray | None = None,
    config: RegimeConfig = RegimeConfig(),
) -> list[Regime]:
    """Regime at every step of a return series (and optional liquidation volumes, same length)."""
    r = np.asarray(returns, dtype=float)
    liq = np.zeros_like(r) if liquidation_volume is None else np.asarray(liquidation_volume, dtype=float)
    if liq.shape != r.shape:
        raise InvalidInput("liquidation_volume", "must have one value per return", liq.shape)
    detector = RegimeDetector(model, config)
    return [detector.update(float(x), float(v)).regime for x, v in zip(r, liq)]
