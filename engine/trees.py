"""Binomial (CRR) and trinomial lattices for European and American options.

Cox-Ross-Rubinstein (1979, "Option pricing: a simplified approach", J. Financial
Economics 7): u = exp(sigma sqrt(dt)), d = 1/u, risk-neutral up probability
p = (exp((r - q) dt) - d) / (u - d), discount exp(-r dt) per step.

Trinomial in log price (Boyle 1988; the parametrization of Clewlow & Strickland
1998, "Implementing Derivative Models", section 3.6): dx = sigma sqrt(3 dt),
nu = r - q - sigma^2/2,
    p_up   = ((sigma^2 dt + nu^2 dt^2) / dx^2 + nu dt / dx) / 2
    p_down = ((sigma^2 dt + nu^2 dt^2) / dx^2 - nu dt / dx) / 2
    p_mid  = 1 - p_up - p_down.

American options compare continuation with immediate exercise at every node.
Both lattices converge to Black-Scholes-Merton for Europeans at rate O(1/N).
Backward induction is one numpy vector operation per time step.
Arguments follow engine.bsm: spot, strike, t (years), rate and carry
(continuous, per year), vol (annualized), is_call.
"""

from __future__ import annotations

import math
from enum import Enum

import numpy as np

from engine.errors import InvalidInput


class ExerciseStyle(Enum):
    EUROPEAN = "european"
    AMERICAN = "american"


def _check_inputs(
    spot: float, strike: float, t: float, rate: float, vol: float, carry: float, steps: int, style: ExerciseStyle
) -> None:
    for name, value in (("spot", spot), ("strike", strike), ("t", t), ("vol", vol)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InvalidInput(name, "must be a finite number > 0", value)
    for name, value in (("rate", rate), ("carry", carry)):
        if not (isinstance(value, (int, float)) and math.isfinite(value)):
            raise InvalidInput(name, "must be finite", value)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise InvalidInput("steps", "must be an integer >= 1", steps)
    if not isinstance(style, ExerciseStyle):
        raise InvalidInput("style", "must be an ExerciseStyle", style)


def binomial_crr_price(
    spot: float,
    strike: float,
    t: float,
    rate: float,
    vol: float,
    is_call: bool,
    carry: float = 0.0,
    steps: int = 500,
    style: ExerciseStyle = ExerciseStyle.AMERICAN,
) -> float:
    """Option price on a CRR binomial tree with ``steps`` time steps, currency per unit of underlying.

    >>> round(binomial_crr_price(50.0, 50.0, 5 / 12, 0.10, 0.40, False, steps=5), 2)  # Hull, Figure 21.3
    4.49
    """
    _check_inputs(spot, strike, t, rate, vol, carry, steps, style)
    dt = t / steps
    u = math.exp(vol * math.sqrt(dt))
    d = 1.0 / u
    p = (math.exp((rate - carry) * dt) - d) / (u - d)
    if not 0.0 < p < 1.0:
        raise InvalidInput("steps", f"too few steps: CRR up probability {p:.4f} is outside (0, 1)", steps)
    disc = math.exp(-rate * dt)
    sign = 1.0 if is_call else -1.0
    j = np.arange(steps + 1)
    values = np.maximum(sign * (spot * u ** (2.0 * j - steps) - strike), 0.0)
    for i in range(steps - 1, -1, -1):
        values = disc * (p * values[1:] + (1.0 - p) * values[:-1])
        if style is ExerciseStyle.AMERICAN:
            nodes = spot * u ** (2.0 * np.arange(i + 1) - i)
            values = np.maximum(values, sign * (nodes - strike))
    return float(values[0])


def trinomial_price(
    spot: float,
    strike: float,
    t: float,
    rate: float,
    vol: float,
    is_call: bool,
    carry: float = 0.0,
    steps: int = 500,
    style: ExerciseStyle = ExerciseStyle.AMERICAN,
) -> float:
    """Option price on a trinomial tree in log price with ``steps`` time steps, currency per unit of underlying."""
    _check_inputs(spot, strike, t, rate, vol, carry, steps, style)
    dt = t / steps
    dx = vol * math.sqrt(3.0 * dt)
    nu = rate - carry - 0.5 * vol * vol
    a = (vol * vol * dt + nu * nu * dt * dt) / (dx * dx)
    p_up = 0.5 * (a + nu * dt / dx)
    p_down = 0.5 * (a - nu * dt / dx)
    p_mid = 1.0 - p_up - p_down
    if min(p_up, p_down, p_mid) < 0.0:
        raise InvalidInput(
            "steps",
            f"too few steps: trinomial probabilities ({p_up:.4f}, {p_mid:.4f}, {p_down:.4f}) not all >= 0",
            steps,
        )
    disc = math.exp(-rate * dt)
    sign = 1.0 if is_call else -1.0
    j = np.arange(-steps, steps + 1)
    values = np.maximum(sign * (spot * np.exp(j * dx) - strike), 0.0)
    for i in range(steps - 1, -1, -1):
        # node j at step i reaches j+1, j, j-1 at step i+1
        values = disc * (p_up * values[2:] + p_mid * values[1:-1] + p_down * values[:-2])
        if style is ExerciseStyle.AMERICAN:
            nodes = spot * np.exp(np.arange(-i, i + 1) * dx)
            values = np.maximum(values, sign * (nodes - strike))
    return float(values[0])


def early_exercise_premium(
    spot: float, strike: float, t: float, rate: float, vol: float, is_call: bool, carry: float = 0.0, steps: int = 500
) -> float:
    """American minus European price on the same CRR tree (the lattice error largely cancels)."""
    american = binomial_crr_price(spot, strike, t, rate, vol, is_call, carry, steps, ExerciseStyle.AMERICAN)
    european = binomial_crr_price(spot, strike, t, rate, vol, is_call, carry, steps, ExerciseStyle.EUROPEAN)
    return american - european
