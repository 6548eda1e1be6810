import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidInput
from engine.svi import SsviParams, SviParams, durrleman_g, fit_ssvi, fit_svi, repair_svi_slice

K = np.linspace(-0.6, 0.6, 21)
# Axel Vogt's slice, the standard example of butterfly arbitrage in SVI
# (Gatheral & Jacquier 2014, Example 3.1), T = 1.
VOGT = SviParams(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)


@settings(max_examples=15, deadline=None)
@given(
    b=st.floats(0.05, 0.3),
    rho=st.floats(-0.8, 0.4),
    m=st.floats(-0.1, 0.1),
    sigma=st.floats(0.05, 0.4),
    w_min=st.floats(0.002, 0.05),
    t=st.floats(0.05, 1.0),
)
def test_fit_recovers_known_svi_parameters(b, rho, m, sigma, w_min, t):
    a = w_min - b * sigma * np.sqrt(1 - rho * rho)
    truth = SviParams(a, b, rho, m, sigma)
    fit = fit_svi(K, truth.implied_vol(K, t), t)
    assert np.max(np.abs(fit.params.as_array() - truth.as_array())) < 1e-6
    assert fit.rmse_vol < 1e-9


def test_fit_with_noise_stays_close_and_admissible():
    truth = SviParams(0.01, 0.15, -0.5, 0.02, 0.2)
    rng = np.random.default_rng(3)
    vols = truth.implied_vol(K, 0.25) + rng.normal(0, 0.002, K.size)
    fit = fit_svi(K, vols, 0.25)
    assert fit.rmse_vol < 0.003
    assert np.max(np.abs(fit.params.implied_vol(K, 0.25) - truth.implied_vol(K, 0.25))) < 0.006
    assert fit.params.min_total_variance >= 0


def test_fit_rejects_bad_input():
    with pytest.raises(InvalidInput) as info:
        fit_svi(K[:4], np.full(4, 0.5), 0.5)
    assert info.value.field == "log_moneyness"
    with pytest.raises(InvalidInput) as info:
        fit_svi(K, np.full(K.size, -0.5), 0.5)
    assert info.value.field == "implied_vols"
    with pytest.raises(InvalidInput) as info:
        fit_svi(K, np.full(K.size, 0.5), 0.0)
    assert info.value.field == "t"
    with pytest.raises(InvalidInput) as info:
        fit_svi(K, np.full(K.size - 1, 0.5), 0.5)
    assert info.value.field == "implied_vols"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(a=0.01, b=-0.1, rho=0.0, m=0.0, sigma=0.1), "b"),
        (dict(a=0.01, b=0.1, rho=1.0, m=0.0, sigma=0.1), "rho"),
        (dict(a=0.01, b=0.1, rho=0.0, m=0.0, sigma=0.0), "sigma"),
        (dict(a=-0.5, b=0.1, rho=0.0, m=0.0, sigma=0.1), "a"),
        (dict(a=float("nan"), b=0.1, rho=0.0, m=0.0, sigma=0.1), "a"),
    ],
)
def test_svi_parameter_domain(kwargs, field):
    with pytest.raises(InvalidInput) as info:
        SviParams(**kwargs)
    assert info.value.field == field


def test_derivatives_match_finite_differences():
    p = SviParams(0.01, 0.15, -0.5, 0.02, 0.2)
    h = 1e-5
    fd1 = (p.total_variance(K + h) - p.total_variance(K - h)) / (2 * h)
    fd2 = (p.total_variance(K + h) - 2 * p.total_variance(K) + p.total_variance(K - h)) / h**2
    np.testing.assert_allclose(p.total_variance_dk(K), fd1, atol=1e-9)
    np.testing.assert_allclose(p.total_variance_dk2(K), fd2, atol=1e-4)


def test_durrleman_flags_vogt_example_and_repair_removes_it():
    grid = np.linspace(-1.5, 1.5, 121)
    g = durrleman_g(VOGT, grid)
    assert g.min() < -0.01  # the known violation, on the call wing
    assert np.all(grid[g < 0] > 0.5)
    repaired = repair_svi_slice(VOGT, grid)
    dense = np.linspace(-1.5, 1.5, 3001)
    assert durrleman_g(repaired, dense).min() >= 0.0
    # The repair moves the slice a little, not to something unrelated.
    assert np.max(np.abs(repaired.total_variance(grid) - VOGT.total_variance(grid))) < 0.02


def test_arbitrage_free_slice_has_positive_g():
    p = SsviParams(-0.4, 0.8, 0.4).slice_params(0.04)
    assert durrleman_g(p, np.linspace(-2, 2, 401)).min() > 0


def test_ssvi_slice_mapping_is_exact():
    s = SsviParams(-0.4, 0.8, 0.35)
    for theta in (0.01, 0.1, 0.5):
        np.testing.assert_allclose(s.slice_params(theta).total_variance(K), s.total_variance(K, theta), rtol=1e-13)
        assert s.total_variance(0.0, theta) == pytest.approx(theta)


def test_ssvi_fit_recovers_known_parameters():
    truth = SsviParams(-0.45, 0.9, 0.3)
    expiries = [0.02, 0.08, 0.25, 0.5, 1.0]
    thetas = [0.012, 0.04, 0.1, 0.18, 0.33]
    k = np.linspace(-0.4, 0.4, 9)
    slices = [(t, k, np.sqrt(truth.total_variance(k, th) / t)) for t, th in zip(expiries, thetas)]
    fit = fit_ssvi(slices)
    assert fit.params.rho == pytest.approx(truth.rho, abs=1e-6)
    assert fit.params.eta == pytest.approx(truth.eta, abs=1e-6)
    assert fit.params.gamma == pytest.approx(truth.gamma, abs=1e-6)
    np.testing.assert_allclose(fit.thetas, thetas, atol=1e-6)
    assert fit.params.is_butterfly_free


def test_ssvi_domain():
    with pytest.raises(InvalidInput) as info:
        SsviParams(0.0, 1.0, 0.7)
    assert info.value.field == "gamma"
    assert not SsviParams(0.5, 1.5, 0.3).is_butterfly_free
