import json
from dataclasses import replace

import numpy as np
import pytest

from engine.simulator import (
    FlowParams,
    MarketParams,
    QuoteArrays,
    draw_order_flow,
    fair_value_grid,
    listed_options,
    simulate_market,
)
from study.backtest import StudyConfig, _observations, run_quoter, run_study

# Two hours of market with a high-vol-prone chain, so both quoters trade; small enough for a fast test.
SMALL = StudyConfig(market=MarketParams(n_steps=120, warmup_steps=600, p_low_to_high=1 / 60))


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    return out, run_study(seed=11, out_dir=out, config=SMALL)


def test_study_writes_plots_and_tables(study):
    out, result = study
    names = sorted(p.name for p in result.files)
    assert names == ["market.png", "pnl_inventory.png", "summary.json", "summary.md"]
    for p in result.files:
        assert p.parent == out and p.stat().st_size > 0
    payload = json.loads((out / "summary.json").read_text())
    assert payload["seed"] == 11
    assert payload["dlpe"]["lp_pnl"] == pytest.approx(result.dlpe.lp_pnl)
    table = (out / "summary.md").read_text()
    assert "| LP PnL (USD) |" in table and "static AMM" in table


def test_study_summaries_are_consistent(study):
    _, result = study
    for s in (result.dlpe, result.amm):
        assert s.trades > 0
        assert 0 <= s.informed_trades <= s.trades
        assert 0.0 <= s.quoting_share <= 1.0
        assert s.max_drawdown >= 0 and s.hedging_cost >= 0
        assert np.isfinite([s.lp_pnl, s.spread_capture, s.adverse_selection_loss]).all()
    assert sum(result.regime_share.values()) == pytest.approx(1.0)
    assert 0.0 <= result.regime_detection_accuracy <= 1.0


def test_study_is_deterministic_in_its_seed(tmp_path, study):
    _, first = study
    again = run_study(seed=11, out_dir=tmp_path, config=SMALL)
    assert again.dlpe == first.dlpe and again.amm == first.amm


class SilentQuoter:
    name = "silent"

    def quote(self, step, obs, portfolio):
        return QuoteArrays.empty(12)

    def book_delta(self, step, portfolio):
        return portfolio.perp

    def hedge_band(self):
        return 1.0

    def on_trades(self, trades):
        return None


def test_a_quoter_that_never_quotes_neither_trades_nor_moves():
    cfg = replace(SMALL, flow=FlowParams(noise_rate=1.0, informed_rate=1.0))
    path = simulate_market(cfg.market, 3)
    grid = fair_value_grid(path, listed_options(cfg.market))
    flow = draw_order_flow(path.n_steps, 12, cfg.flow, 4)
    record = run_quoter(SilentQuoter(), path, grid, flow, _observations(path, grid, cfg, 5), cfg)
    assert record.trades == [] and record.hedge_volume == 0
    np.testing.assert_array_equal(record.equity, cfg.capital)
