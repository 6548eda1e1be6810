import dataclasses
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.bsm import bsm_greeks
from engine.errors import InvalidInput
from engine.instruments import OptionInstrument, OptionKind
from engine.quoting import Inventory, QuotePolicy, min_half_spread, quote_options
from engine.regime import Regime
from engine.svi import SsviParams
from engine.surface import VolSurface, log_moneyness

SPOT, RATE = 60000.0, 0.03
SURFACE = VolSurface.from_ssvi(
    SsviParams(-0.3, 0.7, 0.4), [7 / 365, 30 / 365, 90 / 365], [0.36 * 7 / 365, 0.36 * 30 / 365, 0.34 * 90 / 365]
)
INSTRUMENTS = [
    OptionInstrument("BTC", date(2025, 1, 31), k, kind)
    for k in (50000.0, 55000.0, 60000.0, 65000.0, 70000.0)
    for kind in OptionKind
]
T = np.full(len(INSTRUMENTS), 30 / 365)
POLICY = QuotePolicy()


def quotes(inventory=Inventory(), regime=Regime.LOW_VOL, policy=POLICY):
    return quote_options(INSTRUMENTS, T, SPOT, RATE, SURFACE, inventory, regime, policy)


def test_min_half_spread_formula():
    p = QuotePolicy(base_half_spread=2.0, k_gamma=1e-4, k_vega=1e-6)
    h = min_half_spread(p, gamma=-3e-5, vega=5000.0, net_vega_inventory=-1e4, regime_multiplier=2.0, spot=60000.0)
    assert h == pytest.approx(2.0 * (2.0 + 1e-4 * 3e-5 * 3.6e9 + 1e-6 * 5e7))
    # linear in each charge
    h0 = min_half_spread(p, 0.0, 0.0, 0.0, 1.0, 60000.0)
    assert h0 == 2.0


def test_flat_inventory_quotes_are_centered_on_surface_mid():
    k = log_moneyness(np.array([q.instrument.strike for q in quotes()]), SPOT, T, RATE)
    vols = SURFACE.implied_vol(k, T)
    is_call = np.array([i.is_call for i in INSTRUMENTS])
    g = bsm_greeks(SPOT, np.array([i.strike for i in INSTRUMENTS]), T, RATE, vols, is_call)
    for q, price, gamma, vega in zip(quotes(), g.price, g.gamma, g.vega):
        assert q.mid == pytest.approx(price, rel=1e-12)
        assert q.reservation == pytest.approx(q.mid, rel=1e-12)
        assert q.half_spread == pytest.approx(min_half_spread(POLICY, gamma, vega, 0.0, 1.0, SPOT))
        assert q.ask - q.mid == pytest.approx(q.mid - q.bid)
        assert q.bid_size == q.ask_size == POLICY.base_size


def test_long_delta_lowers_calls_and_raises_puts():
    long = quotes(Inventory(net_delta=5.0))
    flat = quotes()
    for q, f in zip(long, flat):
        if q.instrument.is_call:
            assert q.reservation < f.reservation
        else:
            assert q.reservation > f.reservation


def test_long_vega_shifts_quoted_vol_down_and_short_vega_up():
    for q in quotes(Inventory(net_vega=5e4)):
        assert q.vol < q.surface_vol and q.reservation < q.mid
    for q in quotes(Inventory(net_vega=-5e4)):
        assert q.vol > q.surface_vol and q.reservation > q.mid


def test_taker_buying_lifts_quoted_vol():
    for q in quotes(Inventory(signed_flow=0.8)):
        assert q.vol == pytest.approx(q.surface_vol + 0.8 * POLICY.flow_vol_shift)


def test_vol_shift_is_capped():
    for q in quotes(Inventory(net_vega=1e12)):
        assert q.vol == pytest.approx(q.surface_vol - POLICY.max_vol_shift)


def test_regimes_widen_shrink_and_withdraw():
    low, high, cascade = quotes(), quotes(regime=Regime.HIGH_VOL), quotes(regime=Regime.LIQUIDATION_CASCADE)
    for lo, hi in zip(low, high):
        assert hi.half_spread == pytest.approx(
            lo.half_spread * POLICY.spread_multiplier_high / POLICY.spread_multiplier_low
        )
        assert hi.ask_size < lo.ask_size
    assert not any(q.is_live for q in cascade)


def test_vega_limit_blocks_the_side_that_adds_vega():
    at_limit = quotes(Inventory(net_vega=POLICY.max_abs_net_vega))
    assert all(q.bid_size == 0 and q.ask_size > 0 for q in at_limit)
    short_limit = quotes(Inventory(net_vega=-POLICY.max_abs_net_vega))
    assert all(q.ask_size == 0 for q in short_limit)


@settings(max_examples=40, deadline=None)
@given(
    net_delta=st.floats(-50, 50),
    net_vega=st.floats(-3e5, 3e5),
    flow=st.floats(-1, 1),
    regime=st.sampled_from([Regime.LOW_VOL, Regime.HIGH_VOL]),
)
def test_quotes_are_ordered_and_respect_min_spread(net_delta, net_vega, flow, regime):
    inv = Inventory(net_delta, net_vega, flow)
    for q in quotes(inv, regime):
        assert 0 <= q.bid <= q.reservation < q.ask
        assert q.ask - q.reservation == pytest.approx(q.half_spread)
        assert q.bid_size >= 0 and q.ask_size >= 0
        if q.bid > 0:
            assert q.ask - q.bid == pytest.approx(2 * q.half_spread)


def test_policy_is_plain_numbers_and_validated():
    values = dataclasses.astuple(POLICY)
    assert all(type(v) in (int, float) for v in values)
    with pytest.raises(InvalidInput) as info:
        QuotePolicy(k_gamma=-1.0)
    assert info.value.field == "k_gamma"
    with pytest.raises(dataclasses.FrozenInstanceError):
        POLICY.k_gamma = 1.0  # type: ignore[misc]


def test_bad_input():
    with pytest.raises(InvalidInput) as info:
        quote_options(INSTRUMENTS, T[:-1], SPOT, RATE, SURFACE, Inventory(), Regime.LOW_VOL, POLICY)
    assert info.value.field == "times_to_expiry"
    with pytest.raises(InvalidInput) as info:
        quote_options(INSTRUMENTS, T, -1.0, RATE, SURFACE, Inventory(), Regime.LOW_VOL, POLICY)
    assert info.value.field == "spot"
    with pytest.raises(InvalidInput) as info:
        Inventory(signed_flow=2.0)
    assert info.value.field == "signed_flow"
