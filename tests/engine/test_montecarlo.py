import math

import numpy as np
import pytest

from engine.bsm import bsm_price
from engine.errors import InvalidInput
from engine.montecarlo import JumpDiffusion, simulate_market_shocks, simulate_spot_paths, var_from_pnl

N = 200_000


def merton_call(spot, strike, t, rate, vol, lam, m, s, terms=60):
    """Merton (1976) series: a Poisson mixture of BSM prices (reference for the jump simulation)."""
    kappa = math.exp(m + 0.5 * s * s) - 1
    lam_prime = lam * (1 + kappa)
    total = 0.0
    for n in range(terms):
        vol_n = math.sqrt(vol * vol + n * s * s / t)
        rate_n = rate - lam * kappa + n * math.log(1 + kappa) / t
        weight = math.exp(-lam_prime * t) * (lam_prime * t) ** n / math.factorial(n)
        total += weight * bsm_price(spot, strike, t, rate_n, vol_n, True)
    return total


def test_drift_is_exact_with_jumps():
    model = JumpDiffusion(drift=0.05, vol=0.6, jump_intensity=20.0, jump_mean=-0.05, jump_std=0.08)
    f = simulate_market_shocks(model, 0.25, N, seed=1).spot_factor
    se = f.std() / math.sqrt(N)
    assert abs(f.mean() - math.exp(0.05 * 0.25)) < 4 * se


def test_jump_diffusion_prices_match_merton_series():
    model = JumpDiffusion(drift=0.03, vol=0.4, jump_intensity=5.0, jump_mean=-0.1, jump_std=0.15)
    t, strike = 0.5, 100.0
    payoff = np.maximum(100.0 * simulate_market_shocks(model, t, N, seed=2).spot_factor - strike, 0.0) * math.exp(
        -0.03 * t
    )
    se = payoff.std() / math.sqrt(N)
    assert abs(payoff.mean() - merton_call(100.0, strike, t, 0.03, 0.4, 5.0, -0.1, 0.15)) < 4 * se


def test_no_jumps_prices_match_bsm():
    model = JumpDiffusion(drift=0.02, vol=0.5, jump_intensity=0.0)
    payoff = np.maximum(90.0 - 100.0 * simulate_market_shocks(model, 1.0, N, seed=3).spot_factor, 0.0) * math.exp(-0.02)
    se = payoff.std() / math.sqrt(N)
    assert abs(payoff.mean() - bsm_price(100.0, 90.0, 1.0, 0.02, 0.5, False)) < 4 * se


def test_vol_factor_is_mean_one_and_correlated():
    model = JumpDiffusion(jump_intensity=0.0, vol_of_vol=1.5, spot_vol_correlation=-0.6)
    shocks = simulate_market_shocks(model, 1 / 52, N, seed=4)
    assert abs(shocks.vol_factor.mean() - 1.0) < 4 * shocks.vol_factor.std() / math.sqrt(N)
    corr = np.corrcoef(np.log(shocks.spot_factor), np.log(shocks.vol_factor))[0, 1]
    assert corr == pytest.approx(-0.6, abs=0.01)


def test_seeded_and_reproducible():
    model = JumpDiffusion()
    a = simulate_market_shocks(model, 0.1, 100, seed=7)
    b = simulate_market_shocks(model, 0.1, 100, seed=7)
    c = simulate_market_shocks(model, 0.1, 100, seed=8)
    np.testing.assert_array_equal(a.spot_factor, b.spot_factor)
    assert not np.array_equal(a.spot_factor, c.spot_factor)


def test_paths_start_at_spot_and_have_the_right_terminal_mean():
    model = JumpDiffusion(drift=0.1, vol=0.8, jump_intensity=30.0)
    paths = simulate_spot_paths(50.0, model, 0.5, 50, 20_000, seed=5)
    assert paths.shape == (20_000, 51)
    assert np.all(paths[:, 0] == 50.0)
    terminal = paths[:, -1]
    assert abs(terminal.mean() - 50.0 * math.exp(0.05)) < 4 * terminal.std() / math.sqrt(terminal.size)


def test_var_of_normal_pnl():
    rng = np.random.default_rng(0)
    q = var_from_pnl(rng.normal(0, 100.0, N), 0.99)
    assert q.var == pytest.approx(232.6, rel=0.02)
    assert q.expected_shortfall == pytest.approx(266.5, rel=0.02)  # sigma * phi(z) / (1 - c)


def test_bad_input():
    with pytest.raises(InvalidInput) as info:
        JumpDiffusion(vol=-0.1)
    assert info.value.field == "vol"
    with pytest.raises(InvalidInput) as info:
        simulate_market_shocks(JumpDiffusion(), 0.0, 10, seed=0)
    assert info.value.field == "horizon_years"
    with pytest.raises(InvalidInput) as info:
        var_from_pnl(np.zeros(10), 0.2)
    assert info.value.field == "confidence"
