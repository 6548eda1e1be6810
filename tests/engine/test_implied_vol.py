"""Tests of engine.implied_vol: BSM implied volatility (float64 fast path)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings

from engine.bsm import bsm_greeks, bsm_price
from engine.errors import InvalidInput, PriceOutsideArbitrageBounds
from engine.implied_vol import BOUND_RTOL, PARALLEL_MIN_OPTIONS, implied_vol, solve_normalized_vol
from tests.engine.test_bsm import EPS, INVALID, VALID, discounted, option_inputs, unpack

# The documented accuracy: |sigma_solved - sigma| <= 1e-12 where the normalized
# vega vega / max(A, B) is at least 1e-3 (A = S e^{-qt}, B = K e^{-rt}).
VEGA_THRESHOLD = 1e-3
VOL_TOLERANCE = 1e-12
# Backward error everywhere: the solved vol reprices the input to within the
# rounding of two BSM prices (each ~2 ulp of max(A, B)).
REPRICE_ULPS = 6


def random_chain(n: int, seed: int) -> dict[str, np.ndarray]:
    """Options over the whole domain, log-uniform in moneyness, expiry and vol."""
    rng = np.random.default_rng(seed)
    strike = np.exp(rng.uniform(np.log(0.01), np.log(1e4), n))
    return {
        "spot": strike * np.exp(rng.uniform(np.log(0.25), np.log(4.0), n)),
        "strike": strike,
        "t": np.exp(rng.uniform(np.log(1 / 8760), np.log(3.0), n)),
        "rate": rng.uniform(-0.05, 0.2, n),
        "vol": np.exp(rng.uniform(np.log(0.05), np.log(5.0), n)),
        "is_call": rng.random(n) < 0.5,
        "carry": rng.uniform(-0.05, 0.2, n),
    }


def check_round_trip(spot, strike, t, rate, vol, is_call, carry):
    """Price, invert, and check the forward error where vega is not negligible and the backward error everywhere.

    Returns the indices (into the flattened, broadcast inputs) where the forward error was checked.
    """
    spot, strike, t, rate, vol, is_call, carry = (
        np.atleast_1d(a).ravel() for a in np.broadcast_arrays(spot, strike, t, rate, vol, is_call, carry)
    )
    price = bsm_price(spot, strike, t, rate, vol, is_call, carry)
    keep = price > 0  # far OTM prices underflow to 0, which no vol inverts
    spot, strike, t, rate, vol, is_call, carry, price = (
        a[keep] for a in (spot, strike, t, rate, vol, is_call, carry, price)
    )
    solved = implied_vol(price, spot, strike, t, rate, is_call, carry)
    a, b = discounted(spot, strike, t, rate, carry)
    scale = np.maximum(a, b)

    normalized_vega = bsm_greeks(spot, strike, t, rate, vol, is_call, carry).vega / scale
    checked = normalized_vega >= VEGA_THRESHOLD
    error = np.abs(solved - vol)
    assert np.all(error[checked] <= VOL_TOLERANCE), error[checked].max()

    # 0 means the price is on the intrinsic bound (its time value is below rounding):
    # within BOUND_RTOL of the upper bound (max(A, B) for an ITM option), plus the few
    # ulp by which this test's numpy exp may differ from the kernel's libm exp.
    intrinsic = np.where(is_call, np.maximum(a - b, 0), np.maximum(b - a, 0))
    at_bound = solved == 0
    assert np.all(intrinsic[at_bound] > 0)  # an OTM price is never on its lower bound
    assert np.all(price[at_bound] - intrinsic[at_bound] <= (BOUND_RTOL + 4 * EPS) * scale[at_bound])
    inside = ~at_bound
    assert np.all(np.isfinite(solved[inside]) & (solved[inside] > 0))
    repriced = bsm_price(*(a[inside] for a in (spot, strike, t, rate, solved, is_call, carry)))
    assert np.all(np.abs(repriced - price[inside]) <= REPRICE_ULPS * EPS * scale[inside])
    return np.flatnonzero(keep)[checked]


# --- round trips ------------------------------------------------------------------------------


def test_hull_example_round_trip():
    price = bsm_price(42.0, 40.0, 0.5, 0.1, 0.2, True)
    assert implied_vol(price, 42.0, 40.0, 0.5, 0.1, True) == pytest.approx(0.2, abs=1e-15)
    put = bsm_price(42.0, 40.0, 0.5, 0.1, 0.2, False)
    assert implied_vol(put, 42.0, 40.0, 0.5, 0.1, False) == pytest.approx(0.2, abs=1e-15)


@settings(max_examples=300, deadline=None)
@given(option_inputs)
def test_round_trip(o):
    spot, strike, t, rate, vol, is_call, carry = unpack(o)
    assume(bsm_price(spot, strike, t, rate, vol, is_call, carry) > 0)
    check_round_trip(spot, strike, t, rate, vol, is_call, carry)


def test_round_trip_over_a_random_chain():
    chain = random_chain(200_000, seed=2024)
    checked = check_round_trip(**chain)
    # The forward check must cover the hard cases, not only the easy middle.
    moneyness = np.abs(np.log(chain["spot"] / chain["strike"]))[checked]
    assert np.count_nonzero(moneyness >= math.log(2.0)) > 10_000  # deep ITM/OTM: S/K <= 1/2 or >= 2
    assert np.count_nonzero(chain["t"][checked] <= 1 / 365) > 1_000  # expiries under a day
    assert np.count_nonzero(chain["vol"][checked] >= 2.0) > 10_000


@pytest.mark.parametrize("moneyness", [0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0])
@pytest.mark.parametrize("t", [1 / 8760, 1 / 365, 1 / 52, 1.0, 3.0])
def test_round_trip_on_a_grid_of_moneyness_and_short_expiries(moneyness, t):
    vol = np.array([0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0])[:, None]
    is_call = np.array([True, False])[:, None, None]
    rate = np.array([-0.05, 0.2])[:, None, None, None]
    check_round_trip(moneyness * 100.0, 100.0, t, rate, vol, is_call, np.array([0.2, -0.05]))


def test_at_the_money_forward_round_trip():
    # x = ln(F/K) = 0 exactly: the normalized price is erf(s / (2 sqrt 2)), with no inflection branch.
    vol = np.geomspace(0.05, 5.0, 60)
    for t in (1 / 8760, 1 / 365, 0.5, 3.0):
        check_round_trip(100.0, 100.0, t, 0.03, vol, True, 0.03)


def test_tiny_out_of_the_money_prices_keep_relative_accuracy():
    """Where the price is tiny the solver works on ln(price), so sigma keeps ~1e-12 relative accuracy.

    Vega is negligible there (no forward bound is promised); this checks the log
    regime. The remaining error comes from the cancellation between the two
    tail terms of the price itself (measured <= 1.4e-11 over 1e6 random OTM options down to 1e-300).
    """
    spot = np.array([1.0, 1.0, 4.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    strike = np.array([4.0, 2.0, 1.0, 1.5, 4.0, 3.0, 0.25, 1.1])
    t = np.array([0.1, 0.05, 0.1, 1 / 365, 1.0, 1 / 8760, 0.05, 1 / 8760])
    vol = np.array([0.2, 0.1, 0.2, 0.5, 0.05, 5.0, 0.3, 0.3])
    is_call = spot < strike  # out of the money
    price = bsm_price(spot, strike, t, 0.01, vol, is_call)
    assert np.all((price > 1e-300) & (price < 1e-50))
    solved = implied_vol(price, spot, strike, t, 0.01, is_call)
    np.testing.assert_allclose(solved, vol, rtol=2e-11)


def test_solver_converges_in_few_householder_steps():
    # Pins the cost of the solver (as constraint counts are pinned for circuits):
    # normalized problems over x in [-4, 0], s in [1e-3, 10], prices above 1e-300.
    x = -np.concatenate([[0.0], np.geomspace(1e-6, 4.0, 40)])
    s = np.geomspace(1e-3, 10.0, 60)
    xx, ss = np.meshgrid(x, s)
    # With S = e^{x/2}, K = e^{-x/2}, t = 1, r = q = 0, the call price is the normalized b(x, s).
    beta = bsm_price(np.exp(xx / 2), np.exp(-xx / 2), 1.0, 0.0, ss, True)
    worst = 0
    for b_value, x_value, s_value in zip(beta.ravel(), xx.ravel(), ss.ravel()):
        if not 1e-300 < b_value < math.exp(x_value / 2) * (1 - 1e-12):
            continue
        solved, iterations = solve_normalized_vol(b_value, x_value)
        worst = max(worst, iterations)
        assert solved == pytest.approx(s_value, rel=1e-6)
    assert worst <= 8


# --- bounds -----------------------------------------------------------------------------------


def test_price_below_intrinsic_raises_with_count_and_first_index():
    spot, strike, t, rate = 120.0, 100.0, 1.0, 0.05
    a, b = discounted(spot, strike, t, rate, 0.0)
    good = bsm_price(spot, strike, t, rate, 0.3, True)
    price = np.array([good, 0.9 * (a - b), good, 0.5 * (a - b), good])
    with pytest.raises(PriceOutsideArbitrageBounds) as info:
        implied_vol(price, spot, strike, t, rate, True)
    assert isinstance(info.value, InvalidInput)
    assert info.value.field == "price"
    assert info.value.value == price[1]
    assert "2 of 5 prices" in info.value.reason and "first at index 1" in info.value.reason
    assert "below the discounted intrinsic value" in info.value.reason


def test_price_above_upper_bound_raises():
    # A put is worth at most K e^{-rt}; a call at most S e^{-qt}.
    b = 100.0 * math.exp(-0.05 * 2.0)
    with pytest.raises(PriceOutsideArbitrageBounds) as info:
        implied_vol(b * 1.001, 90.0, 100.0, 2.0, 0.05, False)
    assert "above the upper bound" in info.value.reason and "1 of 1 prices" in info.value.reason
    with pytest.raises(PriceOutsideArbitrageBounds):
        implied_vol(95.0 * math.exp(-0.02) * 1.001, 95.0, 100.0, 1.0, 0.05, True, 0.02)


def test_arbitrage_error_names_a_multi_dimensional_index():
    price = np.full((2, 3), bsm_price(100.0, 100.0, 1.0, 0.0, 0.2, True))
    price[1, 2] = 150.0  # above S
    with pytest.raises(PriceOutsideArbitrageBounds) as info:
        implied_vol(price, 100.0, 100.0, 1.0, 0.0, True)
    assert "first at index (1, 2)" in info.value.reason


def test_on_error_nan_marks_only_the_offending_entries():
    spot = np.array([100.0, 100.0, 100.0, 100.0])
    strike = np.array([80.0, 100.0, 120.0, 100.0])
    is_call = np.array([True, True, False, False])
    price = bsm_price(spot, strike, 0.5, 0.02, 0.4, is_call)
    price[0] = 10.0  # below the intrinsic value of about 20.8
    price[2] = 200.0  # above K e^{-rt}
    solved = implied_vol(price, spot, strike, 0.5, 0.02, is_call, on_error="nan")
    assert np.isnan(solved[0]) and np.isnan(solved[2])
    np.testing.assert_allclose(solved[[1, 3]], 0.4, rtol=0, atol=1e-13)


def ulps_away(value: float, steps: int) -> float:
    """`value` moved by `steps` units in the last place (down for negative steps)."""
    direction = math.inf if steps > 0 else -math.inf
    for _ in range(abs(steps)):
        value = math.nextafter(value, direction)
    return value


def test_prices_on_the_bounds_give_zero_and_infinite_vol():
    a, b = discounted(120.0, 100.0, 1.0, 0.05, 0.01)
    assert implied_vol(a - b, 120.0, 100.0, 1.0, 0.05, True, 0.01) == 0.0  # ITM call at intrinsic
    assert implied_vol(a, 120.0, 100.0, 1.0, 0.05, True, 0.01) == math.inf  # call at S e^{-qt}
    assert implied_vol(b, 120.0, 100.0, 1.0, 0.05, False, 0.01) == math.inf  # put at K e^{-rt}
    a, b = discounted(80.0, 100.0, 1.0, 0.05, 0.0)
    assert implied_vol(b - a, 80.0, 100.0, 1.0, 0.05, False) == 0.0  # ITM put at intrinsic
    assert 0.0 < implied_vol(b - a + 1e-6, 80.0, 100.0, 1.0, 0.05, False) < 0.1  # just above it


BOUND_CASES = [  # spot, strike, t, rate, carry: ITM and OTM calls and puts, several scales
    (120.0, 100.0, 1.0, 0.05, 0.01),
    (80.0, 100.0, 1.0, 0.05, 0.0),
    (95_000.0, 1.0, 0.25, 0.04, 0.0),
    (2e-5, 3e-5, 2.0, -0.03, 0.1),
    (1e12, 9e11, 0.5, 5.0, 0.2),
]


@pytest.mark.parametrize("case", BOUND_CASES, ids=[str(c) for c in BOUND_CASES])
@pytest.mark.parametrize("steps", [-4, -1, 0, 1, 4])
def test_prices_within_a_few_ulp_of_a_bound_map_to_its_vol(case, steps):
    """Decided by the stated tolerance, not by the last bit of exp: the bounds computed
    here with numpy's exp, moved a few ulp either way, still give 0 and inf."""
    spot, strike, t, rate, carry = case
    a, b = (float(v) for v in discounted(spot, strike, t, rate, carry))
    for is_call, intrinsic, upper in ((True, a - b, a), (False, b - a, b)):
        assert implied_vol(ulps_away(upper, steps), spot, strike, t, rate, is_call, carry) == math.inf
        if intrinsic > 0:
            assert implied_vol(ulps_away(intrinsic, steps), spot, strike, t, rate, is_call, carry) == 0.0


@pytest.mark.parametrize("case", BOUND_CASES, ids=[str(c) for c in BOUND_CASES])
def test_prices_beyond_the_tolerance_are_solved_or_refused(case):
    spot, strike, t, rate, carry = case
    a, b = (float(v) for v in discounted(spot, strike, t, rate, carry))
    for is_call, intrinsic, upper in ((True, a - b, a), (False, b - a, b)):
        margin = 4 * BOUND_RTOL * upper
        with pytest.raises(PriceOutsideArbitrageBounds, match="above the upper bound"):
            implied_vol(upper + margin, spot, strike, t, rate, is_call, carry)
        assert 0.0 < implied_vol(upper - margin, spot, strike, t, rate, is_call, carry) < math.inf
        if intrinsic > 0:
            with pytest.raises(PriceOutsideArbitrageBounds, match="below the discounted intrinsic"):
                implied_vol(intrinsic - margin, spot, strike, t, rate, is_call, carry)
            assert 0.0 < implied_vol(intrinsic + margin, spot, strike, t, rate, is_call, carry) < math.inf


def test_out_of_the_money_prices_have_no_lower_tolerance():
    # An OTM option's intrinsic value is exactly 0: the smallest positive price is solved.
    assert 0.0 < implied_vol(5e-324, 100.0, 130.0, 0.5, 0.0, True) < 0.1
    assert 0.0 < implied_vol(1e-300, 100.0, 70.0, 0.5, 0.0, False) < 0.1


def test_bounds_closer_than_the_tolerance_give_the_lower_vol():
    # K e^{-rt} = 1e-12 is far below the rounding of S = 1e6: every vol prices the call to
    # S - K e^{-rt} = S, so the price is on both bounds, and the lower one (vol 0) is answered.
    a, b = discounted(1e6, 1e-12, 1.0, 0.0, 0.0)
    assert implied_vol(float(a), 1e6, 1e-12, 1.0, 0.0, True) == 0.0


# --- shapes, scalars, validation --------------------------------------------------------------


def test_scalar_and_array_calls():
    price = bsm_price(100.0, 110.0, 0.25, 0.01, 0.6, True)
    assert type(implied_vol(price, 100.0, 110.0, 0.25, 0.01, True)) is float
    assert type(implied_vol(np.float64(price), 100, 110, 0.25, 0.01, np.bool_(True))) is float
    strikes = np.array([[80.0, 100.0], [120.0, 140.0]])
    vols = np.array([[0.3, 0.5], [0.7, 0.9]])
    prices = bsm_price(100.0, strikes, 0.25, 0.01, vols, False)
    solved = implied_vol(prices, 100.0, strikes, 0.25, 0.01, False)
    assert solved.shape == (2, 2)
    np.testing.assert_allclose(solved, vols, rtol=0, atol=1e-13)
    assert implied_vol(np.zeros(0), 100.0, 100.0, 1.0, 0.0, True).shape == (0,)


def test_parallel_and_single_thread_kernels_agree():
    # Large arrays run on the thread pool, small ones on one thread (PARALLEL_MIN_OPTIONS).
    # Not bitwise: kernels compiled apart may round exp/log/erfc differently (see
    # test_bsm.assert_same_to_rounding), which 1/vega amplifies where vega is tiny. So:
    # the same vols to the documented accuracy where vega is not negligible, and
    # everywhere vols that reprice the input equally well.
    chain = random_chain(4 * PARALLEL_MIN_OPTIONS, seed=5)
    price = bsm_price(**chain)
    chain = {k: v[price > 0] for k, v in chain.items()}
    price = price[price > 0]
    args = [chain[k] for k in ("spot", "strike", "t", "rate", "is_call", "carry")]
    whole = implied_vol(price, *args)
    chunks = [implied_vol(price[j : j + 50], *(a[j : j + 50] for a in args)) for j in range(0, price.size, 50)]
    parts = np.concatenate(chunks)
    np.testing.assert_array_equal(whole == 0, parts == 0)
    np.testing.assert_array_equal(np.isinf(whole), np.isinf(parts))
    scale = np.maximum(*discounted(chain["spot"], chain["strike"], chain["t"], chain["rate"], chain["carry"]))
    greeks = bsm_greeks(chain["spot"], chain["strike"], chain["t"], chain["rate"], chain["vol"], chain["is_call"],
                        chain["carry"])
    checked = greeks.vega / scale >= VEGA_THRESHOLD
    assert np.all(np.abs(whole - parts)[checked] <= 2 * VOL_TOLERANCE)
    inside = (whole > 0) & np.isfinite(whole)
    reprice = [bsm_price(*(a[inside] for a in (chain["spot"], chain["strike"], chain["t"], chain["rate"])), vol,
                         chain["is_call"][inside], chain["carry"][inside]) for vol in (whole[inside], parts[inside])]
    assert np.all(np.abs(reprice[0] - reprice[1]) <= 2 * REPRICE_ULPS * EPS * scale[inside])


IMPLIED_INVALID = [case for case in INVALID if case[0] != "vol"] + [
    ("price", 0.0, "must be > 0"),
    ("price", -1.0, "must be > 0"),
    ("price", math.nan, "must not be NaN"),
    ("price", math.inf, "must be finite"),
    ("t", 0.0, "must be > 0 for implied volatility"),
    ("on_error", "ignore", "must be 'raise' or 'nan'"),
]


@pytest.mark.parametrize(("field", "bad", "reason"), IMPLIED_INVALID, ids=[f"{f}={b!r}" for f, b, _ in IMPLIED_INVALID])
def test_invalid_input_raises_naming_the_field(field, bad, reason):
    args = {k: v for k, v in VALID.items() if k != "vol"} | {"price": 5.0}
    with pytest.raises(InvalidInput) as info:
        implied_vol(**(args | {field: bad}))
    assert info.value.field == field
    assert info.value.reason.startswith(reason)
    assert not isinstance(info.value, PriceOutsideArbitrageBounds)


def test_expiry_has_no_implied_vol():
    with pytest.raises(InvalidInput) as info:
        implied_vol(np.array([5.0, 5.0]), 100.0, 100.0, np.array([0.5, 0.0]), 0.0, True)
    assert info.value.field == "t"
    assert "at expiry" in info.value.reason and "index 1" in info.value.reason


def test_shapes_that_do_not_broadcast_raise_naming_the_field():
    with pytest.raises(InvalidInput) as info:
        implied_vol(np.full(3, 5.0), np.full(2, 100.0), 100.0, 1.0, 0.0, True)
    assert info.value.field == "spot"
