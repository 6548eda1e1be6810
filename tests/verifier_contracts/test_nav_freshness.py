"""NAV freshness and the redemption queue (issue 11 items 2 and 3): deposits and instant
redemptions stop when the proven mark is older than governance's maxMarkAge; instant redemptions
never take the collateral below the liabilities plus the proven worst-case loss plus what queued
requests are owed; an ERC-7540-style requestRedeem waits in the queue, paid in order at the next
fresh mark the free collateral covers. Both devnets, real proofs (solver/scripted_book.py): the mark
proven at T1 over the traded book goes stale a day later; the pure book update at T2 makes it fresh again.
"""

from __future__ import annotations

from solver.scripted_book import DAY, T1, T2, TIGHT
from tests.verifier_contracts.test_book_vault import (  # noqa: F401  (fixtures)
    DECIMALS,
    chain,
    contracts,
    material,
    open_scene,
    traded_scene,
    worst_loss,
)
from solver.settlement import vault_limits
from verifier_contracts.devnet import mine_block_at
from verifier_contracts.vault import worst_loss_liability


def test_a_stale_mark_stops_deposits_and_redemptions_and_a_request_waits_for_the_next_mark(
        chain, contracts, material):
    empty = open_scene(chain, contracts, material)
    assert empty.vault.call("markFresh")  # nothing open: NAV needs no mark
    scene = traded_scene(chain, contracts, material)
    vault, lp = scene.vault, scene.lp
    scene.post(T1)
    accepted = scene.submit(material.second)
    shares = vault.shares(lp)
    # the proof's worst case stays in the vault: instant redemptions take NAV less it
    reserve = worst_loss_liability(worst_loss(material.second), DECIMALS)
    assert accepted.worst_loss == worst_loss(material.second) > 0
    assert vault.state().proven_worst_loss == vault.worst_loss_reserve() == reserve
    assert vault.call("markFresh") and vault.free_assets() == vault.total_assets() - reserve
    assert vault.max_withdraw(lp) == vault.instant_assets() == vault.free_assets()
    assert 0 < vault.max_redeem(lp) < shares
    scene.refused("redeem", (shares, lp, lp), "ERC4626ExceededMaxRedeem",
                  {"owner": lp, "shares": shares, "max": vault.max_redeem(lp)}, sender=lp)
    governance = scene.stack.governance
    governance.schedule(vault, "setRiskLimits", vault_limits(TIGHT).as_tuple())  # what the T2 proof was made with
    stale_time = T1 + DAY + 10
    mine_block_at(chain, stale_time)
    governance.execute(vault, "setRiskLimits", vault_limits(TIGHT).as_tuple())

    assert not vault.call("markFresh")
    assert (vault.call("maxDeposit", lp), vault.call("maxMint", lp)) == (0, 0)
    assert (vault.max_redeem(lp), vault.max_withdraw(lp), vault.instant_assets()) == (0, 0, 0)
    scene.refused("redeem", (shares, lp, lp), "ERC4626ExceededMaxRedeem", {"owner": lp, "shares": shares, "max": 0},
                  sender=lp)
    scene.refused("deposit", (10**6, lp), "ERC4626ExceededMaxDeposit", {"receiver": lp, "assets": 10**6, "max": 0},
                  sender=lp)
    scene.refused("requestRedeem", (0,), "RedeemRequestEmpty", {}, sender=lp)

    half = shares // 2
    receipt = vault.transact("requestRedeem", half, sender=lp)
    assert vault.events("RedeemRequested", receipt) == [{"id": 0, "owner": lp, "shares": half}]
    assert vault.shares(lp) == shares - half and vault.shares(vault.address) == half
    assert vault.state().redeem_queue == (1, 0, half)
    requested_at = vault.call("redeemRequests", 0)[1]
    scene.refused("settleRedeem", (0,), "RedeemRequestWaitsForMark",
                  {"id": 0, "requestedAt": requested_at, "markTime": T1}, sender=lp)
    scene.refused("settleRedeem", (1,), "RedeemRequestNotNext", {"id": 1, "next": 0}, sender=scene.taker)

    scene.post(T2)
    update = scene.submit(material.update)  # a pure book update: the mark at T2, after the request
    assert vault.call("markFresh")
    # the first batch's quotes expired long before T2: the update's own worst case is the reserve
    assert vault.worst_loss_reserve() == worst_loss_liability(update.worst_loss, DECIMALS)
    nav_per_half = vault.call("previewRedeem", half)
    assert nav_per_half <= vault.free_assets()
    balance = scene.stack.token.balance_of(lp)
    receipt = vault.transact("settleRedeem", 0, sender=scene.taker)  # anyone pays the oldest request
    assert vault.events("RedeemRequestSettled", receipt) == [
        {"id": 0, "owner": lp, "shares": half, "assets": nav_per_half}]
    assert scene.stack.token.balance_of(lp) == balance + nav_per_half
    assert vault.shares(vault.address) == 0 and vault.call("redeemRequests", 0)[0] == "0x" + "00" * 20
    assert vault.state().redeem_queue == (1, 1, 0)
    assert vault.max_withdraw(lp) == vault.free_assets() < vault.call("convertToAssets", shares - half)
