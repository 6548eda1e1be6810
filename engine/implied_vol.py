"""Implied volatility under generalized Black-Scholes-Merton: the float64 fast path.

The solver works in normalized Black variables, after P. Jaeckel, "Let's Be
Rational", Wilmott (2015) 2015(75), 40-53 (the approach, not the code):

    A = S e^{-qt}, B = K e^{-rt},   x = ln(A/B) = ln(S/K) + (r - q) t,
    s = sigma sqrt t,               beta = (price of the OTM option) / sqrt(A B),
    b(x, s) = e^{x/2} N(x/s + s/2) - e^{-x/2} N(x/s - s/2)   (normalized call).

Put-call parity turns every option into the out-of-the-money call of the
normalized problem (x <= 0), so the in-the-money intrinsic value is removed
before solving and the symmetric case never doubles the code. On x <= 0,
b(., s) rises from 0 to e^{x/2}, is convex below its inflection point
s_c = sqrt(2|x|) and concave above it. Three objectives keep the iteration well
conditioned: ln b - ln beta below s_c (prices that may be astronomically
small), the same above s_c while beta <= e^{x/2}/2, and ln(e^{x/2} - b) -
ln(e^{x/2} - beta) close to the upper bound, where the complement
c = e^{x/2} N(-d1) + e^{-x/2} N(d2) is a sum of positive terms (no
cancellation). Each objective is solved by third-order Householder steps
(convergence of order four), safeguarded by a bracket that every evaluation
shrinks (a step leaving the bracket is replaced by bisection). First guesses:
below s_c, the tail asymptotics of b far from the money and the Corrado-Miller
formula near it, capped by the tangent at s_c; above s_c, that tangent, or
near the upper bound the large-s limit e^{x/2} - b -> (e^{x/2} + e^{-x/2})
N(-s/2). On random chains over the domain below, 99% of options take at most
4 steps. The derivatives have closed forms:
b' = exp(-(x^2/s^2 + s^2/4)/2) / sqrt(2 pi), b''/b' = x^2/s^3 - s/4,
b'''/b' = (b''/b')^2 - 3x^2/s^4 - 1/4.

Accuracy: the solver stops after a step below 1e-8 relative; convergence being
of order four, the error after that step is ~1e-32, and the rounding error of
b is the only error left. An input price P carries a rounding error of about
eps * max(A, B) (the error of any float64 BSM price; ITM prices also lose that
much to the subtraction of the intrinsic value), which moves the implied
volatility by eps * max(A, B) / vega. Hence the documented accuracy: with

    normalized vega  nu = vega / max(A, B) = sqrt(t) phi(d1) A / max(A, B),

the implied volatility of a price computed by `engine.bsm.bsm_price` is
recovered to |sigma_solved - sigma| <= 1e-12 wherever nu >= 1e-3 (in the
domain S/K in [0.25, 4], t in [1 hour, 3 years], sigma in [0.05, 5], r and q
in [-0.05, 0.2]; the worst seen over 1e6 random options is 2.4e-13). Below
that the error grows like eps / nu, an ill-conditioning of the problem rather
than of the solver; the solved vol still reprices the input to a few ulp of
max(A, B). Out-of-the-money prices are not reduced by any subtraction, and the
log objective keeps their relative accuracy however small they are: their vol
comes back to about 1e-11 relative down to prices of 1e-300 (what is left is
the cancellation between the two tail terms of b, in the input price and in
the solver).

Speed: one numba kernel over the options, parallel (prange) from
PARALLEL_MIN_OPTIONS options up and single-threaded below; about 2.5
Householder steps per option on average, each costing two erfc, one exp and
one log.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike

from engine.bsm import norm_cdf
from engine.errors import PriceOutsideArbitrageBounds
from engine.validation import check_on_error, shaped_result, validated_implied_vol_inputs

_EPS = 2.220446049250313e-16
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_STEP_TOLERANCE = 1e-8  # relative: the error after a fourth-order step that small is ~1e-32
_MAX_ITERATIONS = 100  # bisection alone needs < 100 halvings over the float64 range
# Prices within BOUND_RTOL * U of a bound (U the upper bound: A for a call, B for a
# put) count as on it. Both bounds and any float64 BSM price carry a rounding error
# of a few ulp of U (exp and the products, ~1.5 ulp each for A and B, and one more
# for A - B), and the last bit of exp differs between libm implementations: a
# decision finer than this would be made by that last bit, not by the price.
BOUND_RTOL = 8.0 * _EPS

_OK, _BELOW_INTRINSIC, _ABOVE_UPPER_BOUND = 0, 1, 2

# Below this many options (about 1 ms of work on one core) the kernel runs on
# one thread: waking the thread pool costs ~20 us on an idle machine but a
# scheduler tick, milliseconds, when the other cores are busy.
PARALLEL_MIN_OPTIONS = 2_500


@njit(cache=True, error_model="numpy")
def _upper_tail_quantile(p: float) -> float:
    """z with N(-z) = p for 0 < p <= 1/2, to 4.5e-4 (Abramowitz & Stegun 26.2.23); a first guess only."""
    w = math.sqrt(-2.0 * math.log(p))
    return w - (2.515517 + w * (0.802853 + w * 0.010328)) / (1.0 + w * (1.432788 + w * (0.189269 + w * 0.001308)))


@njit(cache=True, error_model="numpy")
def _near_money_guess(beta: float, x: float) -> float:
    """Approximation of s near the money, in normalized form (S -> e^{x/2}, K -> e^{-x/2}).

    C. J. Corrado, T. W. Miller, "A note on a simple, accurate formula to compute
    implied standard deviations", J. Banking & Finance 20 (1996) 595-603.
    """
    half_diff = math.sinh(0.5 * x)  # (S - K) / 2
    m = beta - half_diff
    disc = m * m - 4.0 * half_diff * half_diff / math.pi  # (C - (S-K)/2)^2 - (S-K)^2/pi
    return math.sqrt(2.0 * math.pi) / (2.0 * math.cosh(0.5 * x)) * (m + math.sqrt(max(disc, 0.0)))


@njit(cache=True, error_model="numpy")
def _lower_guess(beta: float, x: float, s_c: float, b_c: float, vega_c: float) -> float:
    """First guess of s for beta < b(x, s_c), x < 0."""
    # Deep in the tail (|x| >> s): the leading asymptotics (Mills ratio for both
    # terms) b ~ exp(-x^2/(2s^2) - s^2/8) s^3 / (sqrt(2 pi) x^2), solved for s by
    # fixed-point iteration.
    minus_log_beta = -math.log(beta)
    s = -x / math.sqrt(2.0 * minus_log_beta)
    for _ in range(3):
        w = minus_log_beta + math.log(s * s * s * _INV_SQRT_2PI / (x * x)) - 0.125 * s * s
        if w <= 0.0:
            break
        s = -x / math.sqrt(2.0 * w)
    # Closer to the money the tail expansion fails; Corrado-Miller does better
    # there (the threshold 5 minimized the mean iteration count on random chains).
    if -x < 5.0 * s:
        s = _near_money_guess(beta, x)
    # b is convex below s_c, so the root of its tangent at s_c lies above the solution.
    tangent = s_c - (b_c - beta) / vega_c
    if 0.0 < tangent < s:
        return tangent
    return min(s, s_c)


@njit(cache=True, error_model="numpy")
def _bisect(lo: float, hi: float) -> float:
    """A point inside the bracket (lo, hi), where lo may be 0 and hi may be inf."""
    if lo == 0.0:
        return 0.5 * hi
    if hi == math.inf:
        return 2.0 * lo
    return 0.5 * (lo + hi)


@njit(cache=True, error_model="numpy")
def solve_normalized_vol(beta: float, x: float) -> tuple[float, int]:
    """Total volatility s with b(x, s) = beta, for x <= 0 and 0 < beta < e^{x/2}.

    Returns (s, number of iterations).
    """
    e_half = math.exp(0.5 * x)
    if x < 0.0:
        s_c = math.sqrt(-2.0 * x)  # inflection point of b(x, .)
        h = x / s_c
        b_c = e_half * norm_cdf(h + 0.5 * s_c) - norm_cdf(h - 0.5 * s_c) / e_half
        vega_c = _INV_SQRT_2PI * math.exp(-0.5 * (h * h + 0.25 * s_c * s_c))
    else:
        s_c, b_c, vega_c = 0.0, 0.0, _INV_SQRT_2PI
    # The objective is g = ln u - target, with u = b (increasing in s) or its
    # complement e^{x/2} - b (decreasing), on the bracket (lo, hi).
    if beta < b_c:
        lo, hi = 0.0, s_c
        increasing, target = True, math.log(beta)
        s = _lower_guess(beta, x, s_c, b_c, vega_c)
    elif beta <= 0.5 * e_half:
        lo, hi = s_c, math.inf
        increasing, target = True, math.log(beta)
        s = s_c + (beta - b_c) / vega_c  # tangent at s_c: below the root, b being concave there
    else:
        lo, hi = s_c, math.inf
        gap = e_half - beta  # exact (Sterbenz): the normalized price of the complement
        increasing, target = False, math.log(gap)
        # Far above s_c, x/s -> 0 and e^{x/2} - b -> (e^{x/2} + e^{-x/2}) N(-s/2).
        s = 2.0 * _upper_tail_quantile(gap / (e_half + 1.0 / e_half))
    if not lo < s < hi:
        s = _bisect(lo, hi)

    for iteration in range(1, _MAX_ITERATIONS + 1):
        h = x / s
        half_s = 0.5 * s
        d1 = h + half_s
        d2 = h - half_s
        vega = _INV_SQRT_2PI * math.exp(-0.5 * (h * h + half_s * half_s))  # b'(s)
        if increasing:
            u = e_half * norm_cdf(d1) - norm_cdf(d2) / e_half
            slope = vega / u  # g' = d ln u / ds
        else:
            u = e_half * norm_cdf(-d1) + norm_cdf(d2) / e_half  # positive terms only
            slope = -vega / u
        g = math.log(u) - target if u > 0.0 else -math.inf  # u underflows only far from the root
        if g == 0.0:
            return s, iteration
        if (g > 0.0) == increasing:
            hi = s
        else:
            lo = s
        if not (math.isfinite(g) and math.isfinite(slope) and slope != 0.0):
            s = _bisect(lo, hi)
            continue
        # Third-order Householder step: nu = -g/g', h2 = g''/g', h3 = g'''/g',
        # step = nu (1 + h2 nu / 2) / (1 + nu (h2 + h3 nu / 6)); for g = ln u,
        # g''/g' = u''/u' - g' and g'''/g' = u'''/u' - 3 (u''/u') g' + 2 g'^2.
        r2 = h * h / s - 0.5 * half_s  # u''/u' = b''/b' = x^2/s^3 - s/4
        r3 = r2 * r2 - 3.0 * h * h / (s * s) - 0.25  # u'''/u' = b'''/b'
        nu = -g / slope
        h2 = r2 - slope
        h3 = r3 - 3.0 * r2 * slope + 2.0 * slope * slope
        step = nu * (1.0 + 0.5 * h2 * nu) / (1.0 + nu * (h2 + h3 * nu / 6.0))
        if not step * nu > 0.0:  # the higher-order terms reversed the step: take Newton's
            step = nu
        if abs(step) <= _STEP_TOLERANCE * s:
            # Tested before the bracket: a converged step may fall on an end of it.
            return min(max(s + step, lo), hi), iteration
        s = s + step
        if not lo < s < hi:
            s = _bisect(lo, hi)
    return s, _MAX_ITERATIONS


@njit(cache=True, error_model="numpy")
def _implied_vol_one(i, price, spot, strike, t, rate, carry, is_call, vol, status):
    a = spot[i] * math.exp(-carry[i] * t[i])
    b = strike[i] * math.exp(-rate[i] * t[i])
    if is_call[i]:
        intrinsic, upper = max(a - b, 0.0), a
    else:
        intrinsic, upper = max(b - a, 0.0), b
    tolerance = BOUND_RTOL * upper
    if price[i] < intrinsic - tolerance:
        vol[i], status[i] = math.nan, _BELOW_INTRINSIC
        return
    if price[i] > upper + tolerance:
        vol[i], status[i] = math.nan, _ABOVE_UPPER_BOUND
        return
    status[i] = _OK
    # The bounds are decided on the price itself, before any subtraction. An OTM
    # option has intrinsic 0 exactly and no tolerance below: any positive price is
    # solved, however small. An ITM option's intrinsic A - B carries the rounding.
    if intrinsic > 0.0 and price[i] <= intrinsic + tolerance:
        vol[i] = 0.0
        return
    if price[i] >= upper - tolerance:
        vol[i] = math.inf
        return
    otm = price[i] - intrinsic  # the OTM option of the same strike, by put-call parity
    x = -abs(math.log(spot[i] / strike[i]) + (rate[i] - carry[i]) * t[i])
    beta = otm / (math.sqrt(a) * math.sqrt(b))  # sqrt(A B) without overflowing A B
    if otm >= min(a, b) or beta >= math.exp(0.5 * x):
        # The solver's precondition beta < e^{x/2}: only fails within the rounding of x.
        vol[i] = math.inf
    else:
        vol[i] = solve_normalized_vol(beta, x)[0] / math.sqrt(t[i])


@njit(cache=True, error_model="numpy")
def _implied_vol_serial(price, spot, strike, t, rate, carry, is_call, vol, status):
    for i in range(price.size):
        _implied_vol_one(i, price, spot, strike, t, rate, carry, is_call, vol, status)


@njit(cache=True, parallel=True, error_model="numpy")
def _implied_vol_parallel(price, spot, strike, t, rate, carry, is_call, vol, status):
    for i in prange(price.size):
        _implied_vol_one(i, price, spot, strike, t, rate, carry, is_call, vol, status)


def implied_vol(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
    carry: ArrayLike = 0.0,
    on_error: str = "raise",
) -> float | np.ndarray:
    """Black-Scholes-Merton implied volatility of European option prices.

    Args (all broadcast together; units and domain as in `engine.bsm.bsm_price`,
    declared in engine.validation):
        price: option price (finite, > 0), in the currency of spot.
        spot, strike, rate, is_call, carry: as in `bsm_price`.
        t: as in `bsm_price` but > 0: at expiry every vol gives the same
            price, the payoff, so t = 0 is refused.
        on_error: "raise" (default) raises on prices outside the no-arbitrage
            bounds; "nan" returns NaN for those entries instead.

    Returns:
        Annualized volatility sigma: a Python float when every input is a
        scalar, else an array of the broadcast shape. With A = S e^{-qt} and
        B = K e^{-rt}, the bounds are max(A - B, 0) <= call <= U = A and
        max(B - A, 0) <= put <= U = B. Prices are compared with the bounds
        at the relative tolerance BOUND_RTOL = 8 eps (1.8e-15) of U, the
        rounding of the bounds themselves, so that no last bit of a libm
        call decides (the same answer on every CPU):
          - an in-the-money price within BOUND_RTOL * U of the intrinsic
            value gives 0.0 (an out-of-the-money option's intrinsic value is
            exactly 0, and any positive price is solved, however small);
          - a price within BOUND_RTOL * U of U gives inf;
          - where the two bounds are closer than that (a strike negligible
            next to the spot, or the reverse), the lower one wins;
          - a price further than BOUND_RTOL * U outside the bounds is an
            error (or NaN with on_error="nan").

    Accuracy: |sigma - true sigma| <= 1e-12 where the normalized vega
    vega / max(A, B) >= 1e-3; see the module docstring for why and beyond.

    Raises:
        InvalidInput: an input is NaN, infinite, outside its domain, not real,
            ragged or does not broadcast, or t = 0 (names the field), or
            on_error is not "raise"/"nan".
        PriceOutsideArbitrageBounds: with on_error="raise", some price lies
            outside the bounds; the message says how many and the first index.

    >>> round(implied_vol(4.759422392871532, 42.0, 40.0, 0.5, 0.1, True), 12)  # Hull, Example 15.6
    0.2
    """
    check_on_error(on_error)
    shape, f = validated_implied_vol_inputs(price, spot, strike, t, rate, is_call, carry)
    n = f["price"].size
    vol = np.empty(n)
    status = np.empty(n, dtype=np.int8)
    kernel = _implied_vol_parallel if n >= PARALLEL_MIN_OPTIONS else _implied_vol_serial
    kernel(f["price"], f["spot"], f["strike"], f["t"], f["rate"], f["carry"], f["is_call"], vol, status)
    if on_error == "raise" and n and status.any():
        raise _arbitrage_error(f, status, shape)
    return shaped_result(vol, shape)


def _arbitrage_error(
    f: dict[str, np.ndarray], status: np.ndarray, shape: tuple[int, ...]
) -> PriceOutsideArbitrageBounds:
    """The error for the prices the kernel flagged: how many, and the first one with its bound."""
    bad = np.flatnonzero(status)
    first = int(bad[0])
    a = f["spot"][first] * np.exp(-f["carry"][first] * f["t"][first])
    b = f["strike"][first] * np.exp(-f["rate"][first] * f["t"][first])
    kind = "call" if f["is_call"][first] else "put"
    if status[first] == _BELOW_INTRINSIC:
        bound = max(a - b, 0.0) if kind == "call" else max(b - a, 0.0)
        side = f"below the discounted intrinsic value {float(bound)!r}"
    else:
        bound = a if kind == "call" else b
        side = f"above the upper bound {float(bound)!r}"
    index = tuple(int(i) for i in np.unravel_index(first, shape))
    where = "" if shape == () else f"; first at index {index[0] if len(index) == 1 else index}"
    return PriceOutsideArbitrageBounds(
        "price",
        f"{bad.size} of {status.size} prices outside the no-arbitrage bounds{where}: {kind} price {side}",
        float(f["price"][first]),
    )
