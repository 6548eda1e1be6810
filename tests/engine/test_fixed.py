"""The fixed-point reference: exact rounding of the arithmetic, error bounds of the
functions against 50-digit references, and Black-Scholes accuracy against the float64
fast path over the domain of the foundation issue."""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import fixed as fx
from engine.bsm import bsm_greeks, bsm_price
from engine.errors import FixedPointOverflow, InvalidInput

mp.mp.dps = 50
ONE = fx.ONE
ULP = mp.mpf(2) ** -fx.FRAC_BITS
ROOT = Path(__file__).resolve().parents[2]

# operands whose exact results stay inside the declared bound 2^95
factors = st.integers(min_value=-(1 << 70), max_value=1 << 70)
dividends = st.integers(min_value=-(1 << 46), max_value=1 << 46)
positives = st.integers(min_value=1, max_value=1 << 80)
values = st.integers(min_value=-(1 << 94), max_value=1 << 94)


def round_half_up(q: Fraction) -> int:
    return math.floor(q + Fraction(1, 2))


def ulps(got: int, exact) -> float:
    return float(abs(mp.mpf(got) / ONE - exact) / ULP)


# ---------------------------------------------------------------- arithmetic rounds as documented


@given(factors, factors)
def test_mul_rounds_half_up(a, b):
    assert fx.mul(a, b) == round_half_up(Fraction(a * b, ONE))


@given(dividends, positives)
def test_div_rounds_half_up(a, b):
    assert fx.div(a, b) == round_half_up(Fraction(a * ONE, b))


@given(values)
def test_half_rounds_half_up(a):
    assert fx.half(a) == round_half_up(Fraction(a, 2))


@given(st.integers(min_value=0, max_value=1 << 90))
def test_sqrt_is_nearest(a):
    s = fx.sqrt(a)
    # floor(sqrt(X) + 1/2) = s  <=>  s - 1/2 <= sqrt(X) < s + 1/2, X = a·2^48
    x = a << fx.FRAC_BITS
    assert (2 * s + 1) ** 2 > 4 * x
    assert s == 0 or (2 * s - 1) ** 2 <= 4 * x


def test_sqrt_of_zero_and_tie_free_squares():
    assert fx.sqrt(0) == 0
    assert fx.sqrt(4 * ONE) == 2 * ONE
    assert fx.sqrt(ONE) == ONE


def test_division_requires_positive_divisor():
    with pytest.raises(InvalidInput, match="divisor"):
        fx.div(ONE, 0)
    with pytest.raises(InvalidInput, match="divisor"):
        fx.div(ONE, -ONE)


def test_values_outside_bounds_are_refused():
    with pytest.raises(FixedPointOverflow):
        fx.mul(fx.VALUE_BOUND - 1, 2 * ONE)
    with pytest.raises(FixedPointOverflow):
        fx.to_fixed(2.0**50)
    with pytest.raises(InvalidInput):
        fx.to_fixed(float("nan"))


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_to_fixed_is_exact_rounding_and_round_trips(x):
    v = fx.to_fixed(x)
    assert v == round_half_up(Fraction(x) * ONE)
    assert abs(fx.from_fixed(v) - x) <= 2.0**-49 + abs(x) * 2.0**-52


# ---------------------------------------------------------------- function error bounds


def fixed_of(x: float) -> int:
    return fx.to_fixed(x)


@settings(max_examples=400)
@given(st.floats(min_value=-60.0, max_value=32.0))
def test_exp_error_bound(x):
    X = fixed_of(x)
    exact = mp.exp(mp.mpf(X) / ONE)
    assert ulps(fx.exp(X), exact) <= 1 + float(exact) / 2


def test_exp_domain():
    assert fx.exp(0) == ONE
    assert fx.exp(-60 * ONE) == 0
    with pytest.raises(FixedPointOverflow):
        fx.exp(33 * ONE)


@settings(max_examples=400)
@given(st.floats(min_value=1e-6, max_value=1e9))
def test_ln_error_bound(x):
    X = fixed_of(x)
    assert ulps(fx.ln(X), mp.log(mp.mpf(X) / ONE)) <= 1.5


def test_ln_exact_points_and_domain():
    assert fx.ln(ONE) == 0
    assert abs(fx.ln(2 * ONE) - fx.to_fixed(math.log(2))) <= 1
    for bad in (0, -ONE):
        with pytest.raises(InvalidInput):
            fx.ln(bad)


@settings(max_examples=400)
@given(st.floats(min_value=-18.0, max_value=18.0))
def test_normal_cdf_and_pdf_error_bounds(x):
    X = fixed_of(x)
    z = mp.mpf(X) / ONE
    assert ulps(fx.normal_cdf(X), mp.ncdf(z)) <= 1
    assert ulps(fx.normal_pdf(X), mp.npdf(z)) <= 1


@given(st.integers(min_value=1, max_value=20 * ONE))
def test_normal_cdf_is_symmetric(x):
    assert fx.normal_cdf(-x) == ONE - fx.normal_cdf(x)
    assert fx.normal_pdf(-x) == fx.normal_pdf(x)


def test_normal_cdf_tails_and_centre():
    assert fx.normal_cdf(-16 * ONE) == 0
    assert fx.normal_cdf(16 * ONE) == ONE
    assert fx.normal_cdf(0) == ONE // 2


@given(st.lists(st.integers(min_value=-(1 << 57), max_value=1 << 57), min_size=2, max_size=11),
       st.integers(min_value=-(1 << 46), max_value=1 << 46))
def test_horner_matches_exact_polynomial(coeffs, u):
    """Grouped rounding keeps Horner within a few units of 2^-56 of the exact value."""
    coeffs = tuple(coeffs)
    exact = sum(Fraction(c, 1 << fx.COEF_BITS) * Fraction(u, ONE) ** i for i, c in enumerate(coeffs))
    got = Fraction(fx.horner(coeffs, u), 1 << fx.COEF_BITS)
    # each rounding adds <= 1/2 unit, amplified by |u|^k <= 2^-2k afterwards
    assert abs(got - exact) <= Fraction(len(coeffs), 1 << fx.COEF_BITS)


def test_piece_offset_is_centred():
    j, u = fx.piece_and_offset(ONE + ONE // 16 + 5, lo=1, piece_bits=4)
    assert j == 1 and u == 5 - ONE // 32


def test_tables_regenerate_identically():
    generated = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_fixed_tables.py")],
                               capture_output=True, text=True, check=True).stdout
    assert generated == (ROOT / "engine" / "fixed_tables.py").read_text()


# ---------------------------------------------------------------- Black-Scholes-Merton accuracy


def ref_greeks(fixed_inputs, is_call):
    """The float64 fast path at the *dequantized* fixed inputs, so quantization is not counted."""
    s, k, t, r, v, q = (fx.from_fixed(x) for x in fixed_inputs)
    return s, bsm_greeks(s, k, t, r, v, is_call, carry=q)


HOUR = 1.0 / (365.0 * 24.0)
option_inputs = st.tuples(
    st.floats(min_value=1.0, max_value=1e5),  # spot
    st.floats(min_value=0.25, max_value=4.0),  # S/K
    st.floats(min_value=HOUR, max_value=3.0),  # t
    st.floats(min_value=-0.05, max_value=0.2),  # rate
    st.floats(min_value=0.05, max_value=5.0),  # vol
    st.floats(min_value=-0.05, max_value=0.2),  # carry
    st.booleans(),
)


def check_accuracy(inputs):
    spot, s_over_k, t, rate, vol, carry, is_call = inputs
    fixed_inputs = tuple(fx.to_fixed(x) for x in (spot, spot / s_over_k, t, rate, vol, carry))
    out = fx.bsm_fixed(*fixed_inputs[:5], is_call, carry=fixed_inputs[5])
    s, ref = ref_greeks(fixed_inputs, is_call)
    price_err = abs(fx.from_fixed(out.price) - float(ref.price)) / s
    delta_err = abs(fx.from_fixed(out.delta) - float(ref.delta))
    return out, ref, price_err, delta_err


@settings(max_examples=300, deadline=None)
@given(option_inputs)
def test_bsm_price_and_delta_meet_requirement(inputs):
    out, ref, price_err, delta_err = check_accuracy(inputs)
    assert price_err <= 1e-10
    assert delta_err <= 1e-10


@settings(max_examples=300, deadline=None)
@given(option_inputs)
def test_bsm_gamma_and_vega_relative_where_not_negligible(inputs):
    """Relative 1e-8 where not negligible: phi(d1) >= 1e-5 and the value itself >= 1e-5."""
    out, ref, _, _ = check_accuracy(inputs)
    if fx.from_fixed(fx.normal_pdf(out.d1)) < 1e-5:
        return
    for got, want in ((out.gamma, float(ref.gamma)), (out.vega, float(ref.vega))):
        if abs(want) >= 1e-5:
            assert abs(fx.from_fixed(got) - want) <= 1e-8 * abs(want)


def test_bsm_short_dated_low_vol_corner():
    """The hardest corner for delta: one hour, 5% vol, at the money (d1 amplifies ln's ulps ~2000x)."""
    worst = 0.0
    for m in np.linspace(0.9995, 1.0005, 41):
        _, _, price_err, delta_err = check_accuracy((30_000.0, float(m), HOUR, 0.05, 0.05, 0.0, True))
        assert price_err <= 1e-10
        worst = max(worst, delta_err)
    assert worst <= 1e-10


def test_bsm_hull_example():
    """Hull, Options Futures and Other Derivatives, Example 15.6: S=42, K=40, r=10%, sigma=20%, T=0.5."""
    args = [fx.to_fixed(x) for x in (42, 40, 0.5, 0.1, 0.2)]
    assert round(fx.from_fixed(fx.bsm_fixed(*args, True).price), 2) == 4.76
    assert round(fx.from_fixed(fx.bsm_fixed(*args, False).price), 2) == 0.81


def test_bsm_put_call_parity_in_fixed_point():
    s, k, t, r, v, q = (fx.to_fixed(x) for x in (100, 110, 0.75, 0.03, 0.4, 0.01))
    call = fx.bsm_fixed(s, k, t, r, v, True, q)
    put = fx.bsm_fixed(s, k, t, r, v, False, q)
    forward_value = fx.mul(s, fx.exp(-fx.mul(q, t))) - fx.mul(k, fx.exp(-fx.mul(r, t)))
    assert abs((call.price - put.price) - forward_value) <= 8
    assert call.gamma == put.gamma and call.vega == put.vega


@pytest.mark.parametrize(
    "field,args",
    [
        ("spot", (0, 100, 1, 0, 0.2)),
        ("strike", (100, -5, 1, 0, 0.2)),
        ("t", (100, 100, 0, 0, 0.2)),
        ("vol", (100, 100, 1, 0, 0)),
        ("rate", (100, 100, 1, 2, 0.2)),
        ("vol", (100, 100, 1e-9, 0, 0.05)),  # total vol below the domain
        ("strike", (100, 1e5, 1, 0, 0.2)),  # moneyness outside [2^-8, 2^8]
    ],
)
def test_bsm_rejects_out_of_domain_inputs(field, args):
    with pytest.raises(InvalidInput) as err:
        fx.bsm_fixed(*(fx.to_fixed(a) for a in args), True)
    assert err.value.field == field


def test_float_path_agrees_on_price_for_a_chain():
    """Vectorised float path vs fixed point on one chain (the demo's comparison)."""
    strikes = np.array([80.0, 90.0, 100.0, 110.0, 120.0])
    float_prices = bsm_price(100.0, strikes, 0.25, 0.02, 0.6, True)
    for k, want in zip(strikes, float_prices):
        got = fx.bsm_fixed(*(fx.to_fixed(x) for x in (100.0, k, 0.25, 0.02, 0.6)), True).price
        assert abs(fx.from_fixed(got) - want) <= 1e-10 * 100
