"""The vault's whole life once (solver/vault_life.py, issue 11 item 7): smallest circuit, keys
from prover.keys_for (shared with solver/scripted_book.py's circuit), anvil when
installed. ~35 s with cached keys."""

from __future__ import annotations

from solver.vault_life import DEPOSITS, run_vault_life
from engine import fixed as fx


def test_the_whole_life_leaves_the_lps_with_premiums_minus_payoffs():
    report = run_vault_life()
    names = [s.what.split(":")[0] for s in report.steps]
    assert names == ["deposit", "deposit", "oracle post", "submitBatch", "fill", "submitBatch", "fill",
                     "oracle post (settlement price)", "settleExpiry", "claim", "claim", "submitBatch", "redeem",
                     "redeem"]
    assert all(s.gas > 21_000 for s in report.steps)
    spot = report.settlement_price
    unit = 10**report.decimals
    # 1 call at 100 and 1 put at 115 settle at 112: paid 12 and 3, each floor(intrinsic · unit).
    assert report.payoffs == ((spot - 100 * fx.ONE) * unit // fx.ONE, (115 * fx.ONE - spot) * unit // fx.ONE)
    assert report.payoffs == (12 * unit, 3 * unit) and report.unclaimed_dust == 0
    pnl = report.premiums - sum(report.payoffs)
    assert pnl > 0
    gained = [r - d for r, d in zip(report.redeemed, DEPOSITS)]
    # Shares price at NAV with virtual shares: each LP is within a few units of its pro-rata P&L,
    # and never above it (rounding in the vault's favour).
    for gain, deposit in zip(gained, DEPOSITS):
        fair = pnl * deposit // sum(DEPOSITS)
        assert fair - 5 <= gain <= fair
