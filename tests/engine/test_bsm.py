"""Tests of engine.bsm: generalized Black-Scholes-Merton prices and Greeks (float64 fast path)."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.bsm import PARALLEL_MIN_OPTIONS, Greeks, bsm_greeks, bsm_price
from engine.errors import InvalidInput

EPS = np.finfo(float).eps

# The domain of the fast path: S/K in [0.25, 4], t in [1 hour, 3 years],
# vol in [0.05, 5], rate and carry in [-0.05, 0.2]; strikes over many scales.
option_inputs = st.fixed_dictionaries(
    {
        "moneyness": st.floats(0.25, 4.0),
        "strike": st.floats(0.01, 1e4),
        "t": st.floats(1.0 / 8760.0, 3.0),
        "rate": st.floats(-0.05, 0.2),
        "vol": st.floats(0.05, 5.0),
        "is_call": st.booleans(),
        "carry": st.floats(-0.05, 0.2),
    }
)


def unpack(o: dict) -> tuple[float, float, float, float, float, bool, float]:
    """(spot, strike, t, rate, vol, is_call, carry) from a drawn `option_inputs`."""
    return o["moneyness"] * o["strike"], o["strike"], o["t"], o["rate"], o["vol"], o["is_call"], o["carry"]


def assert_same_to_rounding(actual, desired, ulps: int = 4, err_msg: str = "") -> None:
    """Two kernels' results agree to `ulps` units of rounding at the array's scale.

    Not bitwise: kernels compiled apart (serial and parallel, price and Greeks) may
    round exp, log and erfc differently where numba vectorizes them with a math
    library chosen per machine (Intel SVML where installed); a wrong index or
    formula differs by far more than this.
    """
    actual, desired = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    scale = float(np.max(np.abs(desired))) if desired.size else 0.0
    np.testing.assert_allclose(actual, desired, rtol=ulps * EPS, atol=ulps * EPS * scale, err_msg=err_msg)


def discounted(spot, strike, t, rate, carry):
    """A = S e^{-qt} (discounted forward) and B = K e^{-rt} (discounted strike)."""
    return spot * np.exp(-carry * t), strike * np.exp(-rate * t)


# --- textbook values -------------------------------------------------------------------------


def test_hull_example_15_6():
    # Hull, Options, Futures, and Other Derivatives, Example 15.6: c = 4.76, p = 0.81.
    assert bsm_price(42.0, 40.0, 0.5, 0.1, 0.2, True) == pytest.approx(4.76, abs=0.005)
    assert bsm_price(42.0, 40.0, 0.5, 0.1, 0.2, False) == pytest.approx(0.81, abs=0.005)


def test_hull_greeks_example():
    # Hull, chapter 19 ("The Greek Letters"): S=49, K=50, r=5%, sigma=20%, T=20 weeks.
    g = bsm_greeks(49.0, 50.0, 0.3846, 0.05, 0.2, True)
    assert g.price == pytest.approx(2.40, abs=0.005)
    assert g.delta == pytest.approx(0.522, abs=0.0005)
    assert g.gamma == pytest.approx(0.066, abs=0.0005)
    assert g.vega == pytest.approx(12.1, abs=0.05)
    assert g.theta == pytest.approx(-4.31, abs=0.005)
    assert g.rho == pytest.approx(8.91, abs=0.005)


# Haug, The Complete Guide to Option Pricing Formulas (2nd ed.), worked examples;
# b is Haug's cost of carry, so carry q = r - b.
HAUG_EXAMPLES = [
    # (what, spot, strike, t, rate, vol, is_call, carry, expected, attribute)
    ("Merton 1973 put, dividend yield", 100.0, 95.0, 0.5, 0.10, 0.20, False, 0.05, 2.4648, "price"),
    ("Black-76 call on futures", 19.0, 19.0, 0.75, 0.10, 0.28, True, 0.10, 1.7011, "price"),
    ("Black-76 put on futures", 19.0, 19.0, 0.75, 0.10, 0.28, False, 0.10, 1.7011, "price"),
    ("Garman-Kohlhagen currency call", 1.56, 1.60, 0.5, 0.06, 0.12, True, 0.08, 0.0291, "price"),
    ("futures call delta", 105.0, 100.0, 0.5, 0.10, 0.36, True, 0.10, 0.5946, "delta"),
    ("futures put delta", 105.0, 100.0, 0.5, 0.10, 0.36, False, 0.10, -0.3566, "delta"),
    ("stock gamma", 55.0, 60.0, 0.75, 0.10, 0.30, True, 0.0, 0.0278, "gamma"),
    ("index put theta", 430.0, 405.0, 0.0833, 0.07, 0.20, False, 0.05, -31.1924, "theta"),
    ("stock call rho", 72.0, 75.0, 1.0, 0.09, 0.19, True, 0.0, 38.7325, "rho"),
]


@pytest.mark.parametrize("example", HAUG_EXAMPLES, ids=[e[0] for e in HAUG_EXAMPLES])
def test_haug_examples(example):
    _, spot, strike, t, rate, vol, is_call, carry, expected, attribute = example
    value = getattr(bsm_greeks(spot, strike, t, rate, vol, is_call, carry), attribute)
    assert value == pytest.approx(expected, abs=5e-5)  # Haug prints 4 decimals


# --- accuracy ---------------------------------------------------------------------------------


def test_price_accurate_to_a_few_ulp_of_each_term():
    """Against a 40-digit mpmath evaluation of the same formula on the same float inputs."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    rng = np.random.default_rng(20240515)
    n = 300
    strike = np.exp(rng.uniform(np.log(0.01), np.log(1e4), n))
    spot = strike * np.exp(rng.uniform(np.log(0.25), np.log(4.0), n))
    t = np.exp(rng.uniform(np.log(1 / 8760), np.log(3.0), n))
    rate, carry = rng.uniform(-0.05, 0.2, n), rng.uniform(-0.05, 0.2, n)
    vol = np.exp(rng.uniform(np.log(0.05), np.log(5.0), n))
    is_call = rng.random(n) < 0.5
    ours = bsm_price(spot, strike, t, rate, vol, is_call, carry)
    for i in range(n):
        S, K, T, r, v, q = (mp.mpf(float(a[i])) for a in (spot, strike, t, rate, vol, carry))
        s = v * mp.sqrt(T)
        a, b = S * mp.exp(-q * T), K * mp.exp(-r * T)
        d1 = (mp.log(S / K) + (r - q) * T) / s + s / 2
        d2 = d1 - s
        w = 1 if is_call[i] else -1
        term1, term2 = a * mp.ncdf(w * d1), b * mp.ncdf(w * d2)
        exact = w * (term1 - term2)
        # Each term is rounded to about one ulp of itself, except for the rounding
        # of d, which N amplifies by |d phi(d) / N(d)| ~ d^2 in the tail: so no
        # tail probability may be computed as 1 - N (that would cost eps * A).
        assert abs(ours[i] - exact) <= 4 * EPS * max(a, b), i
        if min(term1, term2) > 1e-290:  # no subnormal terms
            assert abs(ours[i] - exact) <= 4 * EPS * (term1 * (1 + d1**2) + term2 * (1 + d2**2)), i


@settings(max_examples=300, deadline=None)
@given(option_inputs)
def test_put_call_parity(o):
    spot, strike, t, rate, vol, _, carry = unpack(o)
    call = bsm_price(spot, strike, t, rate, vol, True, carry)
    put = bsm_price(spot, strike, t, rate, vol, False, carry)
    a, b = discounted(spot, strike, t, rate, carry)
    # C - P = S e^{-qt} - K e^{-rt}; each price carries ~2 ulp of max(A, B).
    assert abs((call - put) - (a - b)) <= 8 * EPS * max(a, b)


def test_call_and_put_prices_lie_within_the_no_arbitrage_bounds():
    rng = np.random.default_rng(7)
    n = 20000
    spot = np.exp(rng.uniform(np.log(0.25), np.log(4.0), n))
    t = np.exp(rng.uniform(np.log(1 / 8760), np.log(3.0), n))
    rate, carry = rng.uniform(-0.05, 0.2, n), rng.uniform(-0.05, 0.2, n)
    vol = np.exp(rng.uniform(np.log(0.05), np.log(5.0), n))
    a, b = discounted(spot, 1.0, t, rate, carry)
    call = bsm_price(spot, 1.0, t, rate, vol, True, carry)
    put = bsm_price(spot, 1.0, t, rate, vol, False, carry)
    slack = 4 * EPS * np.maximum(a, b)
    assert np.all(call >= np.maximum(a - b, 0) - slack) and np.all(call <= a + slack)
    assert np.all(put >= np.maximum(b - a, 0) - slack) and np.all(put <= b + slack)


# --- Greeks against finite differences -------------------------------------------------------
#
# Each derivative is compared with the 5-point central difference
#     f'(p) ~ (f(p - 2h) - 8 f(p - h) + 8 f(p + h) - f(p + 2h)) / (12 h),
# whose truncation error is h^4 |f^(5)| / 30 and whose rounding error is about
# 1.5 eps_f / h, with eps_f ~ 2 eps max(A, B) the rounding of a price.
# The step is h = delta / L_p, where L_p bounds |d arg / dp| over the arguments
# of the price (d1, d2, ln A, ln B): on the scale 1/L_p the price changes by
# O(max(A, B)), so f^(k) ~ C_k max(A, B) L_p^k with C_k of order 1-100 for
# Gaussian integrals. With delta = 1e-3 the error is
#     max(A, B) L_p (3 eps / delta + C_5 delta^4 / 30) <= ~5e-12 max(A, B) L_p,
# and the test allows 1e-10 of that scale (20x margin; 6e-13 is the worst seen
# over 4000 random and edge cases). Second-order Greeks: the same with the
# first-order Greek in place of the price, scale max(A, B) L_p L_q.

STEP = 1e-3
TOLERANCE = 1e-10


def five_point(f, p: float, h: float) -> float:
    return (f(p - 2 * h) - 8 * f(p - h) + 8 * f(p + h) - f(p + 2 * h)) / (12 * h)


def sensitivity_scales(spot, strike, t, rate, vol, carry) -> dict[str, float]:
    """L_p: bounds on |d arg/dp| for p in spot, vol, t, rate (see the comment above)."""
    s = vol * math.sqrt(t)
    x = math.log(spot / strike) + (rate - carry) * t
    return {
        "spot": max(1 / (spot * s), 1 / spot),
        "vol": max(math.sqrt(t) * (0.5 + abs(x) / s**2), 1 / vol),
        "t": max(abs(rate - carry) / s + abs(x) / (2 * s * t) + vol / (4 * math.sqrt(t)), abs(rate), abs(carry), 1 / t),
        "rate": t * max(1 / s, 1.0),
    }


@settings(max_examples=150, deadline=None)
@given(option_inputs)
def test_greeks_equal_finite_differences(o):
    spot, strike, t, rate, vol, is_call, carry = unpack(o)
    g = bsm_greeks(spot, strike, t, rate, vol, is_call, carry)
    L = sensitivity_scales(spot, strike, t, rate, vol, carry)
    scale = max(discounted(spot, strike, t, rate, carry))

    def at(**change):
        args = {"spot": spot, "strike": strike, "t": t, "rate": rate, "vol": vol, "is_call": is_call, "carry": carry}
        return bsm_greeks(**(args | change))

    def check(value, fd, natural_scale, what):
        assert abs(value - fd) <= TOLERANCE * natural_scale, (what, value, fd)

    h = {p: STEP / L[p] for p in L}
    check(g.delta, five_point(lambda x: at(spot=x).price, spot, h["spot"]), scale * L["spot"], "delta")
    check(g.vega, five_point(lambda x: at(vol=x).price, vol, h["vol"]), scale * L["vol"], "vega")
    check(g.theta, -five_point(lambda x: at(t=x).price, t, h["t"]), scale * L["t"], "theta")
    check(g.rho, five_point(lambda x: at(rate=x).price, rate, h["rate"]), scale * L["rate"], "rho")
    # Second order: differences of the analytic first-order Greeks.
    check(g.gamma, five_point(lambda x: at(spot=x).delta, spot, h["spot"]), scale * L["spot"] ** 2, "gamma")
    check(g.vanna, five_point(lambda x: at(vol=x).delta, vol, h["vol"]), scale * L["spot"] * L["vol"], "vanna")
    check(g.volga, five_point(lambda x: at(vol=x).vega, vol, h["vol"]), scale * L["vol"] ** 2, "volga")


def test_greeks_price_equals_bsm_price():
    spot, vol, is_call = np.array([80.0, 100.0, 125.0]), np.array([0.1, 0.5, 2.0]), np.array([True, False, True])
    args = (spot, 100.0, 0.25, 0.03, vol, is_call, 0.01)
    assert_same_to_rounding(bsm_greeks(*args).price, bsm_price(*args))


def test_greeks_is_frozen():
    g = bsm_greeks(100.0, 100.0, 1.0, 0.0, 0.2, True)
    with pytest.raises(FrozenInstanceError):
        g.delta = 0.0  # type: ignore[misc]


# --- limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("is_call", [True, False])
def test_expiry_limit_is_intrinsic_value(is_call):
    spot = np.array([0.25, 0.5, 0.99, 1.01, 2.0, 4.0])
    price = bsm_price(spot, 1.0, 1e-12, 0.2, 5.0, is_call, -0.05)
    intrinsic = np.maximum(spot - 1.0, 0.0) if is_call else np.maximum(1.0 - spot, 0.0)
    # Left: discounting over 1e-12 years (2e-13 relative); the time value, N(-|ln S/K| / 5e-6), is 0.
    np.testing.assert_allclose(price, intrinsic, rtol=0, atol=1e-12)


def test_expiry_limit_at_the_money_is_brenner_subrahmanyam():
    # At S = K, r = q = 0: price = S (2 N(s/2) - 1) = S s / sqrt(2 pi) (1 - s^2/24 + ...), s = vol sqrt t.
    t = np.array([1e-8, 1e-10, 1e-12])
    s = 0.8 * np.sqrt(t)
    for is_call in (True, False):
        price = bsm_price(100.0, 100.0, t, 0.0, 0.8, is_call)
        np.testing.assert_allclose(price, 100.0 * s / math.sqrt(2 * math.pi), rtol=1e-7)


@pytest.mark.parametrize("is_call", [True, False])
def test_zero_vol_limit_is_discounted_forward_intrinsic(is_call):
    spot = np.array([0.25, 0.5, 0.95, 1.05, 2.0, 4.0])
    t, rate, carry = 2.0, 0.15, -0.03
    a, b = discounted(spot, 1.0, t, rate, carry)
    price = bsm_price(spot, 1.0, t, rate, 1e-9, is_call, carry)
    expected = np.maximum(a - b, 0.0) if is_call else np.maximum(b - a, 0.0)
    assert np.all(np.abs(price - expected) <= 4 * EPS * np.maximum(a, b)), price - expected


def test_infinite_vol_limit_is_the_upper_bound():
    a, b = discounted(120.0, 100.0, 2.0, 0.05, 0.02)
    assert bsm_price(120.0, 100.0, 2.0, 0.05, 1e4, True, 0.02) == pytest.approx(a, rel=1e-14)
    assert bsm_price(120.0, 100.0, 2.0, 0.05, 1e4, False, 0.02) == pytest.approx(b, rel=1e-14)


# --- at expiry (t = 0) ------------------------------------------------------------------------


def test_at_expiry_the_price_is_the_payoff_and_delta_its_slope():
    # As py_vollib and QuantLib answer at expiry; rate, carry and vol no longer matter.
    spot = np.array([90.0, 100.0, 110.0, 90.0, 100.0, 110.0])
    is_call = np.array([True, True, True, False, False, False])
    g = bsm_greeks(spot, 100.0, 0.0, 0.07, 0.4, is_call, 0.02)
    np.testing.assert_array_equal(g.price, [0.0, 0.0, 10.0, 10.0, 0.0, 0.0])
    np.testing.assert_array_equal(g.delta, [0.0, 0.5, 1.0, -1.0, -0.5, -0.0])
    for field in ("gamma", "vega", "theta", "rho", "vanna", "volga"):
        np.testing.assert_array_equal(getattr(g, field), np.zeros(6), err_msg=field)
    np.testing.assert_array_equal(bsm_price(spot, 100.0, 0.0, 0.07, 0.4, is_call, 0.02), g.price)
    assert bsm_price(95_000.0, 1.0, 0.0, 0.05, 0.6, True) == 94_999.0
    assert type(bsm_greeks(100.0, 100.0, 0.0, 0.0, 0.2, True).delta) is float


def test_expiry_entries_mix_with_live_ones_in_one_call():
    rng = np.random.default_rng(17)
    n = 2 * PARALLEL_MIN_OPTIONS  # the parallel kernel too
    spot, vol = rng.uniform(50, 150, n), rng.uniform(0.05, 2.0, n)
    t = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(1e-4, 3.0, n))
    is_call = rng.random(n) < 0.5
    g = bsm_greeks(spot, 100.0, t, 0.03, vol, is_call, 0.01)
    expired = t == 0
    payoff = np.where(is_call, np.maximum(spot - 100.0, 0.0), np.maximum(100.0 - spot, 0.0))
    np.testing.assert_array_equal(g.price[expired], payoff[expired])
    np.testing.assert_array_equal(np.abs(g.delta[expired]), np.where(payoff[expired] > 0, 1.0, 0.0))
    live = ~expired
    alone = bsm_greeks(spot[live], 100.0, t[live], 0.03, vol[live], is_call[live], 0.01)
    for field in Greeks.__dataclass_fields__:
        assert_same_to_rounding(getattr(g, field)[live], getattr(alone, field), err_msg=field)


@pytest.mark.parametrize("is_call", [True, False])
def test_price_tends_to_the_payoff_as_t_tends_to_zero(is_call):
    spot = np.array([0.25, 0.99, 1.0, 1.01, 4.0])
    at_expiry = bsm_price(spot, 1.0, 0.0, 0.2, 5.0, is_call, -0.05)
    just_before = bsm_price(spot, 1.0, 1e-300, 0.2, 5.0, is_call, -0.05)
    # At S = K the time value is S sigma sqrt(t) / sqrt(2 pi) ~ 2e-150; elsewhere it underflows.
    np.testing.assert_allclose(just_before, at_expiry, rtol=0, atol=1e-149)


def test_carry_equal_to_rate_is_black_76():
    # Black-76: c = e^{-rt} (F N(d1) - K N(d2)) with d1 = (ln(F/K) + vol^2 t / 2) / (vol sqrt t).
    forward, strike, t, rate, vol = 1850.0, 1900.0, 0.4, 0.045, 0.35
    s = vol * math.sqrt(t)
    d1 = (math.log(forward / strike) + 0.5 * s * s) / s
    n = lambda z: 0.5 * math.erfc(-z / math.sqrt(2))  # noqa: E731
    black76 = math.exp(-rate * t) * (forward * n(d1) - strike * n(d1 - s))
    assert bsm_price(forward, strike, t, rate, vol, True, carry=rate) == pytest.approx(black76, rel=1e-14)


# --- QuantLib ---------------------------------------------------------------------------------


def test_agrees_with_quantlib_analytic_european_engine():
    ql = pytest.importorskip("QuantLib")
    today = ql.Date(15, 1, 2024)
    ql.Settings.instance().evaluationDate = today
    day_count = ql.Actual365Fixed()
    rng = np.random.default_rng(11)
    for _ in range(60):
        spot = float(np.exp(rng.uniform(np.log(0.25), np.log(4.0)))) * 100.0
        days = int(rng.integers(1, 3 * 365))
        t = days / 365.0  # QuantLib measures time in whole days
        rate, carry = rng.uniform(-0.05, 0.2, 2)
        vol = float(np.exp(rng.uniform(np.log(0.05), np.log(5.0))))
        is_call = bool(rng.random() < 0.5)

        def curve(r):
            return ql.YieldTermStructureHandle(ql.FlatForward(today, float(r), day_count))  # continuous

        process = ql.BlackScholesMertonProcess(
            ql.QuoteHandle(ql.SimpleQuote(spot)),
            curve(carry),
            curve(rate),
            ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), vol, day_count)),
        )
        payoff = ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, 100.0)
        option = ql.VanillaOption(payoff, ql.EuropeanExercise(today + days))
        option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
        ours = bsm_greeks(spot, 100.0, t, rate, vol, is_call, carry)
        scale = max(discounted(spot, 100.0, t, rate, carry))
        # Same formulas in double precision: agreement to rounding, relative to each Greek's scale.
        assert ours.price == pytest.approx(option.NPV(), abs=1e-13 * scale)
        assert ours.delta == pytest.approx(option.delta(), abs=1e-13)
        assert ours.gamma == pytest.approx(option.gamma(), rel=1e-12, abs=1e-15)
        assert ours.vega == pytest.approx(option.vega(), abs=1e-13 * scale)
        assert ours.theta == pytest.approx(option.theta(), rel=1e-12, abs=1e-13 * scale)
        assert ours.rho == pytest.approx(option.rho(), abs=1e-13 * scale)


# --- shapes and scalars -----------------------------------------------------------------------


def test_scalar_inputs_return_python_floats():
    assert type(bsm_price(100.0, 100.0, 1.0, 0.0, 0.2, True)) is float
    assert type(bsm_price(np.float64(100.0), 100, 1, 0, np.array(0.2), np.bool_(True))) is float
    g = bsm_greeks(100.0, 100.0, 1.0, 0.0, 0.2, True)
    assert all(type(getattr(g, f)) is float for f in Greeks.__dataclass_fields__)


def test_arrays_broadcast_and_match_scalar_calls():
    spot = np.array([[80.0], [100.0], [120.0]])  # (3, 1)
    strike = np.array([90.0, 100.0, 110.0, 130.0])  # (4,)
    is_call = np.array([True, False, True, False])
    prices = bsm_price(spot, strike, 0.5, 0.02, 0.3, is_call, 0.01)
    greeks = bsm_greeks(spot, strike, 0.5, 0.02, 0.3, is_call, 0.01)
    assert prices.shape == (3, 4) and greeks.vanna.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = bsm_greeks(float(spot[i, 0]), float(strike[j]), 0.5, 0.02, 0.3, bool(is_call[j]), 0.01)
            assert_same_to_rounding(prices[i, j], one.price)
            assert_same_to_rounding(greeks.gamma[i, j], one.gamma)
            assert_same_to_rounding(greeks.theta[i, j], one.theta)


def test_parallel_and_single_thread_kernels_agree():
    # Large arrays run on the thread pool, small ones on one thread (PARALLEL_MIN_OPTIONS).
    rng = np.random.default_rng(3)
    n = 4 * PARALLEL_MIN_OPTIONS
    spot, t, vol = rng.uniform(25, 400, n), rng.uniform(0.001, 3, n), rng.uniform(0.05, 5, n)
    args = (spot, 100.0, t, 0.03, vol, rng.random(n) < 0.5, 0.01)
    whole = bsm_greeks(*args)
    chunks = [bsm_greeks(*(a[j : j + 100] if np.ndim(a) else a for a in args)) for j in range(0, n, 100)]
    for field in Greeks.__dataclass_fields__:
        parts = np.concatenate([getattr(c, field) for c in chunks])
        assert_same_to_rounding(getattr(whole, field), parts, err_msg=field)
    assert_same_to_rounding(bsm_price(*args), whole.price)


def test_empty_arrays_give_empty_results():
    assert bsm_price(np.zeros(0), 100.0, 1.0, 0.0, 0.2, True).shape == (0,)
    assert bsm_greeks(np.zeros(0), 100.0, 1.0, 0.0, 0.2, True).delta.shape == (0,)


# --- validation -------------------------------------------------------------------------------

VALID = {"spot": 100.0, "strike": 100.0, "t": 1.0, "rate": 0.01, "vol": 0.2, "is_call": True, "carry": 0.0}

INVALID = [
    ("spot", -1.0, "must be > 0"),
    ("spot", 0.0, "must be > 0"),
    ("spot", math.nan, "must not be NaN"),
    ("spot", math.inf, "must be finite"),
    ("strike", -1.0, "must be > 0"),
    ("strike", math.nan, "must not be NaN"),
    ("t", -0.5, "must be >= 0"),
    ("t", -1e-300, "must be >= 0"),
    ("t", math.inf, "must be finite"),
    ("t", 100.5, "must be <= 100"),
    ("vol", 0.0, "must be > 0"),
    ("vol", -0.2, "must be > 0"),
    ("vol", math.nan, "must not be NaN"),
    ("vol", 1e-320, "must be >= 1e-09"),
    ("vol", 2e4, "must be <= 10000"),
    ("spot", 1e-19, "must be >= 1e-18"),
    ("strike", 2e18, "must be <= 1e+18"),
    ("rate", -800.0, "rate·t must be in [-500, 500]"),
    ("rate", 2e4, "must be <= 10000"),
    ("carry", 600.0, "carry·t must be in [-500, 500]"),
    ("carry", -1e5, "must be >= -10000"),
    ("rate", math.nan, "must not be NaN"),
    ("rate", -math.inf, "must be finite"),
    ("carry", math.nan, "must not be NaN"),
    ("carry", math.inf, "must be finite"),
    ("spot", "100", "must be a real number"),
    ("vol", 0.2 + 0.1j, "must be a real number"),
    ("strike", True, "must be a real number"),
    ("is_call", "c", "must be a bool"),
    ("is_call", 1, "must be a bool"),
]


@pytest.mark.parametrize("function", [bsm_price, bsm_greeks])
@pytest.mark.parametrize(("field", "bad", "reason"), INVALID, ids=[f"{f}={b!r}" for f, b, _ in INVALID])
def test_invalid_scalar_input_raises_naming_the_field(function, field, bad, reason):
    with pytest.raises(InvalidInput) as info:
        function(**(VALID | {field: bad}))
    assert info.value.field == field
    assert info.value.reason.startswith(reason)


@pytest.mark.parametrize("function", [bsm_price, bsm_greeks])
def test_invalid_array_entry_names_the_field_value_and_index(function):
    strike = np.array([100.0, 90.0, -5.0, 0.0])
    with pytest.raises(InvalidInput) as info:
        function(**(VALID | {"strike": strike}))
    assert info.value.field == "strike"
    assert info.value.value == -5.0
    assert "index 2" in info.value.reason


@pytest.mark.parametrize("function", [bsm_price, bsm_greeks])
def test_shapes_that_do_not_broadcast_raise_naming_the_field(function):
    with pytest.raises(InvalidInput) as info:
        function(**(VALID | {"spot": np.full(3, 100.0), "vol": np.full(4, 0.2)}))
    assert info.value.field == "vol"
    assert "broadcast" in info.value.reason
