import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InvalidInput
from engine.hedging import (
    ImpactModel,
    PerpBookParams,
    RebalanceTo,
    SimulatedPerpBook,
    execute_schedule,
    plan_delta_hedge,
    twap_child_sizes,
    vwap_child_sizes,
    whalley_wilmott_half_width,
)


def test_inside_band_no_trade():
    plan = plan_delta_hedge(0.8, band=1.0)
    assert not plan.trades and plan.delta_after == 0.8


def test_outside_band_trades_to_edge_or_zero():
    plan = plan_delta_hedge(3.0, band=1.0)
    assert plan.quantity == -2.0 and plan.delta_after == 1.0
    plan = plan_delta_hedge(-3.0, band=1.0, rebalance_to=RebalanceTo.ZERO)
    assert plan.quantity == 3.0 and plan.delta_after == 0.0


@given(delta=st.floats(-1e4, 1e4), band=st.floats(0, 100))
def test_hedge_lands_in_band_with_the_smallest_trade(delta, band):
    plan = plan_delta_hedge(delta, band)
    assert abs(delta + plan.quantity) <= band * (1 + 1e-12) + 1e-12
    assert abs(plan.quantity) == pytest.approx(max(abs(delta) - band, 0.0), abs=1e-9)


def test_whalley_wilmott_band_scaling():
    h = whalley_wilmott_half_width(gamma=1e-4, spot=60000.0, cost_rate=1e-3, risk_aversion=1e-4)
    assert h == pytest.approx((1.5 * 1e-3 * 60000.0 * 1e-8 / 1e-4) ** (1 / 3))
    assert whalley_wilmott_half_width(8e-4, 60000.0, 1e-3, 1e-4) == pytest.approx(4 * h)  # Gamma^(2/3)
    assert whalley_wilmott_half_width(1e-4, 60000.0, 8e-3, 1e-4) == pytest.approx(2 * h)  # cost^(1/3)


def test_twap_and_vwap_sizes():
    np.testing.assert_allclose(twap_child_sizes(-6.0, 4), [-1.5] * 4)
    sizes = vwap_child_sizes(10.0, [1.0, 3.0, 0.0, 6.0])
    np.testing.assert_allclose(sizes, [1.0, 3.0, 0.0, 6.0])
    assert sizes.sum() == pytest.approx(10.0)


def test_fill_prices_linear_impact_exact():
    p = PerpBookParams(
        half_spread=1e-4,
        taker_fee=0.0,
        impact_model=ImpactModel.LINEAR,
        impact_coefficient=1.0,
        daily_volume=1000.0,
        daily_vol=0.03,
        permanent_fraction=0.0,
    )
    book = SimulatedPerpBook(p)
    buy = book.execute(10.0, 100.0)
    assert buy.price == pytest.approx(100.0 * (1 + 1e-4 + 0.03 * 10 / 1000))
    sell = book.execute(-10.0, 100.0)
    assert sell.price == pytest.approx(100.0 * (1 - 1e-4 - 0.03 * 10 / 1000))
    assert buy.cost == pytest.approx(sell.cost) and buy.cost > 0


def test_square_root_impact_rewards_splitting():
    p = PerpBookParams(permanent_fraction=0.0)
    mids = np.full(10, 60000.0)
    block = execute_schedule([50.0] + [0.0] * 9, mids, p)
    twap = execute_schedule(twap_child_sizes(50.0, 10), mids, p)
    assert block.quantity == pytest.approx(twap.quantity)
    impact_block = block.cost_vs_mid - block.fees
    impact_twap = twap.cost_vs_mid - twap.fees
    spread = 50.0 * 60000.0 * p.half_spread
    # impact cost: Q * I(Q) for the block, n * (Q/n) * I(Q/n) = Q * I(Q) / sqrt(n) when split
    assert (impact_twap - spread) == pytest.approx((impact_block - spread) / math.sqrt(10), rel=1e-9)


def test_permanent_impact_makes_later_children_dearer_and_decays():
    p = PerpBookParams(permanent_fraction=0.5, impact_decay_steps=5.0)
    report = execute_schedule(twap_child_sizes(20.0, 5), np.full(5, 60000.0), p)
    prices = [f.price for f in report.fills]
    assert all(b > a for a, b in zip(prices, prices[1:]))
    book = SimulatedPerpBook(p)
    book.execute(20.0, 60000.0)
    before = book.offset
    book.advance(5.0)
    assert book.offset == pytest.approx(before * math.exp(-1.0))


def test_shortfall_is_cost_plus_market_drift():
    mids = np.array([100.0, 101.0, 102.0, 103.0])
    report = execute_schedule(twap_child_sizes(4.0, 4), mids)
    drift = sum(1.0 * (m - 100.0) for m in mids)
    assert report.implementation_shortfall == pytest.approx(report.cost_vs_mid + drift)
    assert report.average_price > 100.0


def test_bad_input():
    with pytest.raises(InvalidInput) as info:
        plan_delta_hedge(1.0, band=-1.0)
    assert info.value.field == "band"
    with pytest.raises(InvalidInput) as info:
        vwap_child_sizes(1.0, [0.0, 0.0])
    assert info.value.field == "expected_volumes"
    with pytest.raises(InvalidInput) as info:
        execute_schedule([1.0, 1.0], [100.0])
    assert info.value.field == "mids"
    with pytest.raises(InvalidInput) as info:
        PerpBookParams(daily_volume=0.0)
    assert info.value.field == "daily_volume"
    with pytest.raises(InvalidInput) as info:
        SimulatedPerpBook().execute(1.0, float("nan"))
    assert info.value.field == "mid"
