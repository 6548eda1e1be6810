import math
from datetime import date, datetime, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from engine.bsm import bsm_greeks
from engine.errors import InvalidInput
from engine.instruments import OptionInstrument, OptionKind
from engine.montecarlo import JumpDiffusion
from engine.risk import (
    BreakerState,
    CircuitBreaker,
    Fill,
    MarketState,
    Perpetual,
    Portfolio,
    RiskLimits,
    RiskMetrics,
    ScenarioGrid,
    capital_utilization,
    delta_gamma_var,
    monte_carlo_var,
    portfolio_greeks,
    scenario_grid_loss,
)
from engine.svi import SsviParams
from engine.surface import VolSurface, log_moneyness

NOW = datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)
SPOT, RATE = 60000.0, 0.03
FLAT = VolSurface.from_ssvi(SsviParams(0.0, 1e-6, 0.5), [30 / 365, 90 / 365], [0.36 * 30 / 365, 0.36 * 90 / 365])
SMILE = VolSurface.from_ssvi(SsviParams(-0.3, 0.7, 0.4), [30 / 365, 90 / 365], [0.36 * 30 / 365, 0.34 * 90 / 365])
CALL = OptionInstrument("BTC", date(2025, 1, 31), 60000.0, OptionKind.CALL)
PUT = OptionInstrument("BTC", date(2025, 1, 31), 55000.0, OptionKind.PUT)
PERP = Perpetual("BTC")


def market(surface=SMILE, spot=SPOT):
    return MarketState(spot, RATE, surface, NOW)


def book(*positions, perp=0.0):
    p = Portfolio(cash=1e6)
    for inst, qty in positions:
        p.apply_fill(Fill(inst, qty, 1000.0))
    if perp:
        p.apply_fill(Fill(PERP, perp, SPOT))
    return p


def test_fills_move_cash_and_positions():
    p = Portfolio(cash=0.0)
    p.apply_fill(Fill(CALL, 2.0, 1500.0, fee=3.0))
    p.apply_fill(Fill(CALL, -0.5, 1600.0))
    p.apply_fill(Fill(PERP, -1.0, 60000.0))
    assert p.cash == pytest.approx(-3000.0 - 3.0 + 800.0 + 60000.0)
    assert p.options == {CALL: 1.5}
    assert p.perp == -1.0
    p.apply_fill(Fill(CALL, -1.5, 1600.0))
    assert p.options == {}


def test_settle_expired_pays_intrinsic():
    p = book((CALL, 2.0), (PUT, -1.0))
    after = datetime(2025, 2, 1, tzinfo=timezone.utc)
    cash = p.cash
    assert p.settle_expired(after, 62000.0) == pytest.approx(2 * 2000.0)
    assert p.options == {} and p.cash == pytest.approx(cash + 4000.0)


def test_portfolio_greeks_sum_positions():
    p = book((CALL, 2.0), (PUT, -3.0), perp=-0.5)
    m = market()
    t = CALL.time_to_expiry(NOW)
    strikes = np.array([60000.0, 55000.0])
    vols = SMILE.implied_vol(log_moneyness(strikes, SPOT, t, RATE), t)
    g = bsm_greeks(SPOT, strikes, t, RATE, vols, np.array([True, False]))
    q = np.array([2.0, -3.0])
    pg = portfolio_greeks(p, m)
    assert pg.delta == pytest.approx(q @ g.delta - 0.5)
    assert pg.gamma == pytest.approx(q @ g.gamma)
    assert pg.vega == pytest.approx(q @ g.vega)
    assert pg.value == pytest.approx(p.cash - 0.5 * SPOT + q @ g.price)


def test_delta_gamma_var_without_gamma_is_normal_var():
    v = delta_gamma_var(3.0, 0.0, SPOT, 0.6, 1 / 365, 0.99)
    assert v == pytest.approx(norm.ppf(0.99) * 3.0 * SPOT * 0.6 * math.sqrt(1 / 365), rel=1e-12)


@pytest.mark.parametrize("delta, gamma", [(2.0, -5e-4), (-1.0, -1e-3), (0.5, 2e-4), (0.0, -1e-4), (0.0, 1e-4)])
def test_delta_gamma_var_matches_exact_quadratic_quantile(delta, gamma):
    h, vol = 1 / 365, 0.6
    z = np.random.default_rng(0).standard_normal(2_000_000)
    pnl = delta * SPOT * vol * math.sqrt(h) * z + 0.5 * gamma * (SPOT * vol) ** 2 * h * z * z
    exact = -np.quantile(pnl, 0.01)
    assert delta_gamma_var(delta, gamma, SPOT, vol, h, 0.99) == pytest.approx(max(exact, 0.0), rel=0.01, abs=1e-6)


def test_monte_carlo_var_of_a_perp_matches_lognormal_quantile():
    p = book(perp=2.0)
    model = JumpDiffusion(drift=0.0, vol=0.6, jump_intensity=0.0, vol_of_vol=0.0)
    h = 1 / 365
    result = monte_carlo_var(p, market(), h, model, 0.99, n_paths=200_000, seed=1)
    z = norm.ppf(0.01)
    expected = -2.0 * SPOT * (math.exp(-0.5 * 0.36 * h + 0.6 * math.sqrt(h) * z) - 1)
    assert result.var == pytest.approx(expected, rel=0.02)
    assert result.expected_shortfall > result.var


def test_monte_carlo_var_short_options_worse_with_jumps():
    p = book((CALL, -5.0), (PUT, -5.0))
    calm = JumpDiffusion(jump_intensity=0.0)
    jumpy = JumpDiffusion(jump_intensity=50.0, jump_mean=-0.05, jump_std=0.05)
    h = 1 / 365
    assert monte_carlo_var(p, market(), h, jumpy, seed=2).var > monte_carlo_var(p, market(), h, calm, seed=2).var


def test_scenario_grid_shape_and_levels():
    grid = ScenarioGrid()
    assert grid.spot_multipliers == (0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2)
    assert grid.vol_shifts == (0.10, 0.0, -0.10)
    r = scenario_grid_loss(book((CALL, -2.0), (PUT, -2.0)), market())
    assert r.pnl_full.shape == r.pnl_expansion.shape == (9, 3)
    assert r.pnl_full[4, 1] == pytest.approx(0.0, abs=1e-9)  # unchanged market, no decay
    assert r.worst_loss_full == pytest.approx(-r.pnl_full.min())


def test_linear_book_expansion_is_exact():
    r = scenario_grid_loss(book(perp=-3.0), market())
    np.testing.assert_allclose(r.pnl_full, r.pnl_expansion, atol=1e-9)
    assert r.worst_loss_full == pytest.approx(3.0 * 0.2 * SPOT)
    assert r.max_gap < 1e-9


def test_short_options_gap_grows_with_shock_size():
    r = scenario_grid_loss(book((CALL, -2.0), (PUT, -2.0)), market())
    gap = np.abs(r.pnl_full - r.pnl_expansion)[:, 1]
    assert r.max_gap == pytest.approx(np.abs(r.pnl_full - r.pnl_expansion).max())
    assert gap[4] < 1e-9
    assert gap[0] > gap[3] and gap[8] > gap[5]  # +-20% further from the expansion than +-5%
    assert r.worst_loss_full > 0 and r.worst_loss_expansion > 0
    assert r.worst_loss_gap == pytest.approx(abs(r.worst_loss_full - r.worst_loss_expansion))


def test_small_shocks_expansion_agrees_with_repricing():
    grid = ScenarioGrid(spot_multipliers=(0.999, 1.0, 1.001), vol_shifts=(0.001, 0.0, -0.001))
    r = scenario_grid_loss(book((CALL, 3.0), (PUT, -1.0), perp=-1.0), market(FLAT), grid)
    scale = np.abs(r.pnl_full).max()
    assert r.max_gap < 1e-3 * scale


def test_capital_utilization():
    assert capital_utilization(2.5e5, 1e6) == 0.25
    with pytest.raises(InvalidInput) as info:
        capital_utilization(1.0, 0.0)
    assert info.value.field == "capital"


LIMITS = RiskLimits(
    max_var=100.0, max_scenario_loss=1000.0, max_utilization=0.5, resume_fraction=0.8, min_pause_steps=3
)


def metrics(var=0.0, loss=0.0, util=0.0):
    return RiskMetrics(var, loss, util)


def test_breaker_trips_and_resumes_with_hysteresis():
    b = CircuitBreaker(LIMITS)
    assert b.update(metrics(var=90), 0) is BreakerState.QUOTING
    assert b.update(metrics(var=101), 1) is BreakerState.PAUSED
    assert b.events[-1].reasons == ("var",)
    # below the limit but above 80% of it: stay paused
    for step in range(2, 8):
        assert b.update(metrics(var=95), step) is BreakerState.PAUSED
    assert b.update(metrics(var=70), 8) is BreakerState.QUOTING
    assert [e.state for e in b.events] == [BreakerState.PAUSED, BreakerState.QUOTING]


def test_breaker_minimum_pause():
    b = CircuitBreaker(LIMITS)
    b.update(metrics(util=0.9), 0)
    assert b.update(metrics(), 1) is BreakerState.PAUSED
    assert b.update(metrics(), 2) is BreakerState.PAUSED
    assert b.update(metrics(), 3) is BreakerState.QUOTING


def test_breaker_reports_every_breached_limit_and_nan():
    b = CircuitBreaker(LIMITS)
    b.update(metrics(var=float("nan"), loss=2000.0), 0)
    assert b.events[0].reasons == ("var", "scenario_loss")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 200.0), min_size=5, max_size=200))
def test_breaker_never_flaps(vars_):
    b = CircuitBreaker(LIMITS)
    states = [b.update(metrics(var=v), i) for i, v in enumerate(vars_)]
    for e in b.events:
        if e.state is BreakerState.QUOTING:
            assert vars_[e.step] <= LIMITS.resume_fraction * LIMITS.max_var
    pauses = [e.step for e in b.events if e.state is BreakerState.PAUSED]
    resumes = [e.step for e in b.events if e.state is BreakerState.QUOTING]
    for p, r in zip(pauses, resumes):
        assert r - p >= LIMITS.min_pause_steps
    assert all(s is BreakerState.PAUSED for s, v in zip(states, vars_) if v > LIMITS.max_var)


def test_bad_input():
    with pytest.raises(InvalidInput) as info:
        Fill(CALL, 0.0, 1.0)
    assert info.value.field == "quantity"
    with pytest.raises(InvalidInput) as info:
        MarketState(-1.0, RATE, SMILE, NOW)
    assert info.value.field == "spot"
    with pytest.raises(InvalidInput) as info:
        RiskLimits(max_var=0.0, max_scenario_loss=1.0, max_utilization=1.0)
    assert info.value.field == "max_var"
    expired = book((CALL, 1.0))
    with pytest.raises(InvalidInput) as info:
        portfolio_greeks(expired, MarketState(SPOT, RATE, SMILE, datetime(2025, 3, 1, tzinfo=timezone.utc)))
    assert info.value.field == "portfolio"
    with pytest.raises(InvalidInput) as info:
        delta_gamma_var(1.0, 0.0, SPOT, 0.6, 1 / 365, confidence=1.5)
    assert info.value.field == "confidence"
