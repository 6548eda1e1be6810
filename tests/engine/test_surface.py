import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InvalidInput
from engine.svi import SsviParams, SviParams, durrleman_g
from engine.surface import SurfaceSlice, VolSurface, log_moneyness

SSVI = SsviParams(-0.4, 0.8, 0.35)
EXPIRIES = [0.05, 0.25, 1.0]
THETAS = [0.02, 0.09, 0.33]
GRID = np.linspace(-1.5, 1.5, 121)


def surface():
    return VolSurface.from_ssvi(SSVI, EXPIRIES, THETAS)


def test_vol_at_fitted_expiries_matches_slices():
    s = surface()
    k = np.linspace(-0.5, 0.5, 11)
    for t, th in zip(EXPIRIES, THETAS):
        np.testing.assert_allclose(s.total_variance(k, t), SSVI.total_variance(k, th), rtol=1e-13)


def test_linear_interpolation_in_total_variance():
    s = surface()
    k = np.array([-0.3, 0.0, 0.2])
    t = 0.15  # halfway between 0.05 and 0.25
    expected = 0.5 * (SSVI.total_variance(k, THETAS[0]) + SSVI.total_variance(k, THETAS[1]))
    np.testing.assert_allclose(s.total_variance(k, t), expected, rtol=1e-13)
    np.testing.assert_allclose(s.implied_vol(k, t), np.sqrt(expected / t), rtol=1e-13)


def test_extrapolation_keeps_implied_vol_constant():
    s = surface()
    k = np.array([-0.2, 0.0, 0.2])
    np.testing.assert_allclose(s.implied_vol(k, 0.01), s.implied_vol(k, 0.05), rtol=1e-13)
    np.testing.assert_allclose(s.implied_vol(k, 3.0), s.implied_vol(k, 1.0), rtol=1e-13)


@given(t1=st.floats(0.001, 3.0), t2=st.floats(0.001, 3.0), k=st.floats(-1.5, 1.5))
def test_total_variance_non_decreasing_in_t(t1, t2, k):
    s = surface()
    lo, hi = sorted((t1, t2))
    assert s.total_variance(k, lo) <= s.total_variance(k, hi) + 1e-15


def test_vectorized_per_element_expiries():
    s = surface()
    k = np.array([0.0, 0.1, -0.1, 0.0])
    t = np.array([0.05, 0.5, 0.02, 2.0])
    scalar = [float(s.implied_vol(ki, ti)) for ki, ti in zip(k, t)]
    np.testing.assert_allclose(s.implied_vol(k, t), scalar, rtol=1e-14)


def test_ssvi_surface_is_arbitrage_free():
    assert surface().check_arbitrage(GRID).is_arbitrage_free


def test_calendar_arbitrage_detected_and_repaired():
    near = SSVI.slice_params(0.09)
    far = SSVI.slice_params(0.07)  # less total variance at a later date: calendar arbitrage
    s = VolSurface([SurfaceSlice(0.25, near), SurfaceSlice(0.5, far)])
    report = s.check_arbitrage(GRID)
    assert report.calendar and report.calendar[0].drop > 0.01
    assert not report.butterfly
    fixed = s.repaired(GRID)
    assert fixed.check_arbitrage(GRID).is_arbitrage_free
    assert fixed.slices[0].params == near  # an admissible slice is left untouched


def test_butterfly_arbitrage_detected_and_repaired():
    vogt = SviParams(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)
    s = VolSurface([SurfaceSlice(1.0, vogt), SurfaceSlice(2.0, SSVI.slice_params(0.5))])
    report = s.check_arbitrage(GRID)
    assert [v.t for v in report.butterfly] == [1.0]
    fixed = s.repaired(GRID)
    assert fixed.check_arbitrage(GRID).is_arbitrage_free
    assert durrleman_g(fixed.slices[0].params, np.linspace(-1.5, 1.5, 2001)).min() >= 0


def test_fit_surface_from_market_vols():
    k = np.linspace(-0.4, 0.4, 9)
    market = [(t, k, np.sqrt(SSVI.total_variance(k, th) / t)) for t, th in zip(EXPIRIES, THETAS)]
    fitted = VolSurface.fit(market)
    kq = np.linspace(-0.4, 0.4, 33)
    for t in (0.05, 0.1, 0.6, 1.0):
        np.testing.assert_allclose(fitted.implied_vol(kq, t), surface().implied_vol(kq, t), atol=1e-6)


def test_vol_at_strike_and_log_moneyness():
    s = surface()
    k = log_moneyness(np.array([55000.0, 60000.0]), 60000.0, 0.25, 0.05, 0.01)
    np.testing.assert_allclose(k, np.log([55000 / 60000, 1.0]) - 0.04 * 0.25)
    forward = 60000.0 * np.exp(0.04 * 0.25)
    np.testing.assert_allclose(s.vol_at_strike([55000.0, 60000.0], 0.25, forward), s.implied_vol(k, 0.25))


def test_bad_input():
    with pytest.raises(InvalidInput) as info:
        surface().implied_vol(0.0, 0.0)
    assert info.value.field == "t"
    with pytest.raises(InvalidInput) as info:
        VolSurface([])
    assert info.value.field == "slices"
    with pytest.raises(InvalidInput):
        VolSurface([SurfaceSlice(0.5, SSVI.slice_params(0.1)), SurfaceSlice(0.5, SSVI.slice_params(0.2))])
    with pytest.raises(InvalidInput) as info:
        surface().vol_at_strike(-1.0, 0.5, 60000.0)
    assert info.value.field == "strike"
