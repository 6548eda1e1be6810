import math

import numpy as np
import pytest

from engine.bsm import bsm_price
from engine.errors import InvalidInput
from engine.instruments import parse_instrument_name
from engine.oracle import FeedKind, aggregate_market
from engine.simulator import (
    FeedParams,
    FlowParams,
    MarketParams,
    QuoteArrays,
    draw_order_flow,
    fair_value_grid,
    listed_options,
    match_order_flow,
    observed_smiles,
    oracle_feeds,
    simulate_market,
)

SHORT = MarketParams(n_steps=240, warmup_steps=100)


@pytest.fixture(scope="module")
def long_path():
    return simulate_market(MarketParams(n_steps=40_000, warmup_steps=0), seed=5)


def test_reproducible_and_anchored():
    a, b = simulate_market(SHORT, 3), simulate_market(SHORT, 3)
    np.testing.assert_array_equal(a.spot, b.spot)
    assert a.spot[0] == SHORT.spot0
    assert a.spot.shape == a.regime.shape == a.atm_iv.shape == (241,)
    assert a.warmup_returns.shape == (100,)
    assert not np.array_equal(a.spot, simulate_market(SHORT, 4).spot)


def test_regime_chain_enters_cascades_only_from_high_vol(long_path):
    r = long_path.regime
    pairs = set(zip(r[:-1].tolist(), r[1:].tolist()))
    assert (0, 2) not in pairs and (2, 0) not in pairs
    assert {0, 1, 2} <= set(r.tolist())


def test_regimes_have_their_volatility_and_cascades_fall(long_path):
    p = long_path.params
    returns = np.diff(np.log(long_path.spot))
    state = long_path.regime[1:]
    # diffusive vol, robustly (MAD ignores the jumps)
    for i in (0, 1):
        x = returns[state == i]
        robust_sd = 1.4826 * np.median(np.abs(x - np.median(x)))
        assert robust_sd == pytest.approx(p.realized_vol[i] * math.sqrt(p.dt_years), rel=0.1)
    assert returns[state == 2].mean() < -0.001
    assert np.median(long_path.liquidation_volume[1:][state == 2]) > 10 * np.median(
        long_path.liquidation_volume[1:][state == 0]
    )


def test_implied_vol_tracks_regime_targets(long_path):
    p = long_path.params
    for i in (0, 1):
        assert np.median(long_path.atm_iv[long_path.regime == i]) == pytest.approx(p.implied_vol_target[i], abs=0.05)


def test_term_structure_passes_through_the_30_day_point():
    path = simulate_market(SHORT, 1)
    assert path.atm_vol_term(10, 30 / 365) == pytest.approx(path.atm_iv[10], rel=1e-12)


def test_surface_agrees_with_implied_vol_function():
    path = simulate_market(SHORT, 1)
    expiries = np.array([7 / 365, 28 / 365])
    surf = path.surface(20, expiries)
    strikes = np.array([54000.0, 60000.0, 66000.0])
    for t in expiries:
        k = np.log(strikes / path.spot[20])
        np.testing.assert_allclose(surf.implied_vol(k, t), path.implied_vol(20, strikes, np.full(3, t)), rtol=1e-12)
    assert surf.check_arbitrage().is_arbitrage_free


def test_listed_options_are_out_of_the_money_and_named():
    insts = listed_options(SHORT)
    assert len(insts) == 12
    for inst in insts:
        assert parse_instrument_name(inst.name) == inst
        assert (inst.strike >= SHORT.spot0) if inst.is_call else (inst.strike <= SHORT.spot0)


def test_fair_value_grid_is_bsm_on_the_market_surface():
    path = simulate_market(SHORT, 2)
    grid = fair_value_grid(path, listed_options(SHORT))
    assert grid.value.shape == (241, 12)
    s, i = 100, 3
    expected = bsm_price(path.spot[s], grid.strike[i], grid.t[s, i], 0.0, grid.vol[s, i], bool(grid.is_call[i]))
    assert grid.value[s, i] == pytest.approx(expected, rel=1e-12)
    assert grid.t[1, 0] == pytest.approx(grid.t[0, 0] - 60 / (365 * 86400))


def test_oracle_feeds_aggregate_to_the_truth():
    path = simulate_market(SHORT, 2)
    rng = np.random.default_rng(0)
    feeds = oracle_feeds(path, 50, FeedParams(p_stale=0.0, p_corrupt=0.0), rng)
    assert [len(feeds[k]) for k in FeedKind] == [5, 3, 3]
    snap = aggregate_market(feeds, SHORT.start.timestamp() + 50 * 60)
    assert snap.spot.value == pytest.approx(path.spot[50], rel=5e-4)
    assert snap.iv_index.value == pytest.approx(path.atm_iv[50], rel=0.03)


def test_observed_smiles_are_noisy_market_vols():
    path = simulate_market(SHORT, 2)
    smiles = observed_smiles(path, 0, np.array([7 / 365]), np.random.default_rng(0), vol_noise=0.0)
    t, k, vols = smiles[0]
    strikes = path.spot[0] * np.exp(k)
    np.testing.assert_allclose(vols, path.implied_vol(0, strikes, np.full(k.size, t)), rtol=1e-12)


def test_informed_traders_pick_off_mispriced_quotes():
    path = simulate_market(SHORT, 2)
    grid = fair_value_grid(path, listed_options(SHORT))
    flow = draw_order_flow(240, 12, FlowParams(noise_rate=0.0, informed_rate=50.0), seed=0)
    step = 5
    later = grid.value[step + flow.params.horizon_steps]
    cheap = QuoteArrays(np.zeros(12), later - 5.0 * grid.vega_point[step], np.zeros(12), np.full(12, 0.05))
    trades = match_order_flow(step, cheap, flow, grid)
    # they lift every cheap ask, up to its size (their own size is at least 0.1)
    assert len(trades) == 12 and all(t.informed and t.quantity == -0.05 for t in trades)
    fair = QuoteArrays(
        later - 0.1 * grid.vega_point[step], later + 0.1 * grid.vega_point[step], np.ones(12), np.ones(12)
    )
    assert match_order_flow(step, fair, flow, grid) == []  # inside their threshold: no trade


def test_noise_traders_shy_away_from_wide_quotes():
    path = simulate_market(SHORT, 2)
    grid = fair_value_grid(path, listed_options(SHORT))
    flow = draw_order_flow(240, 12, FlowParams(informed_rate=0.0, noise_rate=0.5), seed=1)

    def fills(half_spread_points):
        n = 0
        for step in range(240):
            h = half_spread_points * grid.vega_point[step]
            q = QuoteArrays(grid.value[step] - h, grid.value[step] + h, np.full(12, 10.0), np.full(12, 10.0))
            n += len(match_order_flow(step, q, flow, grid))
        return n

    arrivals = int(flow.noise_arrives[:240].sum())
    assert fills(0.0) == arrivals
    assert fills(2.0) == pytest.approx(arrivals * math.exp(-2.0 * flow.params.kappa), rel=0.15)
    assert match_order_flow(0, QuoteArrays.empty(12), flow, grid) == []


def test_bad_input():
    with pytest.raises(InvalidInput) as info:
        MarketParams(n_steps=0)
    assert info.value.field == "n_steps"
    with pytest.raises(InvalidInput) as info:
        MarketParams(p_high_to_low=0.7, p_high_to_cascade=0.5)
    assert info.value.field == "p_high_to_cascade"
    with pytest.raises(InvalidInput) as info:
        fair_value_grid(
            simulate_market(MarketParams(n_steps=20_000, warmup_steps=0), 0), listed_options(SHORT, expiry_days=(7,))
        )
    assert info.value.field == "instruments"
