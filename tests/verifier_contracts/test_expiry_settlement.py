"""QuoteVault's expiry settlement (issue 11 item 4), on both devnets, over the real proofs of
solver/scripted_book.py: a taker buys the proven call at T0, the chain moves past its expiry, the oracle
posts, anyone settles, the holder claims.

Every refusal goes through Scene.refused (test_book_vault.py): the typed error by eth_call, then
the same transaction mined fails without running out of gas and the vault's state, the balances,
the taker's position and the chain head are as they were.
"""

from __future__ import annotations

import pytest

from circuits import book_hash as bh
from engine import fixed as fx
from engine import fixed_book as fb
from solver.book_plan import book_expiries
from solver.pipeline import NothingToBatch
from solver.scripted_book import CAPACITY, DAY, EXPIRIES, FILLS, FIRST_NONCE, STRIKE, T0, T1
from solver.settlement import Settlement
from tests.verifier_contracts.test_book_vault import (  # noqa: F401  (fixtures)
    COLLATERAL,
    DECIMALS,
    SERIES,
    Scene,
    chain,
    contracts,
    material,
    open_scene,
    traded_scene,
)
from verifier_contracts.devnet import mine_block_at

ONE = fx.ONE
EXPIRY = EXPIRIES[0]
UNIT = 10**DECIMALS
WINDOW = 3_600
"""QuoteVault.DEFAULT_SETTLEMENT_WINDOW (DEFAULT_MAX_MARK_AGE is a DAY)."""
GAP = 7 * DAY
"""QuoteVault.DEFAULT_MAX_PROOF_GAP: a week without a proof while an expiry is live winds the vault down."""


def payoff_floor(spot: int, strike: int, size: int) -> int:
    """A call's payoff in token units, rounded down (what a holder is paid): written with Python's
    integers, the other way from the contract's shifts."""
    return max(spot - strike, 0) * size * UNIT // 2**96


def bought_scene(chain, contracts, material) -> Scene:
    """The first batch accepted at T0 and the taker holding 1 call of EXPIRY (one fill, unproven)."""
    scene = open_scene(chain, contracts, material)
    scene.post(T0)
    scene.submit(material.first)
    scene.buy(FIRST_NONCE, ONE)
    return scene


def post_spot(scene: Scene, time: int, spot: int) -> None:
    mine_block_at(scene.w3, time)
    scene.stack.oracle.post(spot, time)


def test_an_expiry_settles_at_the_first_observation_after_it_and_only_the_holder_claims(chain, contracts, material):
    scene = bought_scene(chain, contracts, material)
    vault, lp, taker = scene.vault, scene.lp, scene.taker
    assert list(vault.call("lifecycle")) == [WINDOW, DAY, GAP]
    # Before expiry: the only observation (index 0, at T0) is before it; index 1 does not exist yet.
    scene.refused("settleExpiry", (EXPIRY, 0), "ObservationBeforeExpiry",
                  {"index": 0, "observedAt": T0, "expiry": EXPIRY}, sender=lp)
    scene.refused("settleExpiry", (EXPIRY, 1), "SettlementObservationMissing",
                  {"expiry": EXPIRY, "index": 1, "count": 1}, sender=lp)
    scene.refused("claim", (EXPIRY, STRIKE, True), "ExpiryNotSettled", {"expiry": EXPIRY}, sender=taker)

    settle_spot, later_spot = 110 * ONE + ONE // 3, 150 * ONE
    post_spot(scene, EXPIRY + 10, settle_spot)
    post_spot(scene, EXPIRY + 20, later_spot)
    assert scene.stack.oracle.first_observation_at_or_after(EXPIRY) == 1
    # No proof since T0 and the call is live: the vault winds down (no batch, fill or deposit) while
    # settlement goes on.
    assert vault.winding_down() and EXPIRY > T0 + GAP
    wound = {"markTime": T0, "maxProofGap": GAP}
    scene.refuse_submit(material.second, "WindingDown", wound)
    scene.refuse_fill(FIRST_NONCE, ONE, "WindingDown", wound)
    scene.refused("deposit", (UNIT, lp), "ERC4626ExceededMaxDeposit", {"receiver": lp, "assets": UNIT, "max": 0},
                  sender=lp)
    # A time the book holds no series of (observation 1 is the first after it): nothing to settle.
    scene.refused("settleExpiry", (EXPIRY + 5, 1), "ExpiryNotLive", {"expiry": EXPIRY + 5}, sender=lp)
    # Only the first observation at or after the expiry settles it, never a later (higher) one.
    scene.refused("settleExpiry", (EXPIRY, 2), "ObservationNotFirst",
                  {"index": 2, "previousAt": EXPIRY + 10, "expiry": EXPIRY}, sender=lp)

    before = vault.state()
    receipt = vault.settle_expiry(EXPIRY, 1, sender=lp)  # anyone may settle
    owed = -(-(settle_spot - STRIKE) * ONE * UNIT // 2**96)  # the vault's short 1 contract, rounded up
    assert owed == payoff_floor(settle_spot, STRIKE, ONE) + 1  # the third of a unit does not divide
    assert vault.events("ExpirySettled", receipt) == [
        {"expiry": EXPIRY, "price": settle_spot, "observedAt": EXPIRY + 10, "owed": owed, "paid": owed}]
    assert vault.events("SeriesSettled", receipt) == [
        {"expiry": EXPIRY, "strike": STRIKE, "isCall": True, "position": -ONE, "owed": owed}]
    records = [fb.pack_fill(FILLS[0]), fb.pack_expiry_settled(EXPIRY)]
    head = bh.fill_chain(records)[-1]
    assert vault.events("ExpirySettlementRecorded", receipt) == [
        {"index": 1, "expiry": EXPIRY, "record": EXPIRY << 9, "head": head}]
    after = vault.state()
    assert (after.book.fill_count, vault.chain_head(2)) == (2, head)
    assert vault.book_slot(0) == (0, 0, False, 0)  # the series left the book
    assert after.unclaimed_payoffs == owed
    # Before, the unproven premium stood for the open call; with no expiry live, only the payoff is owed.
    assert before.total_assets == before.collateral - vault.call("premiumsIn", 1)
    assert after.total_assets == after.collateral - owed
    settled = vault.settlement(EXPIRY)
    assert (settled.price, settled.observed_at, settled.owed, settled.paid) == (settle_spot, EXPIRY + 10, owed, owed)

    scene.refused("settleExpiry", (EXPIRY, 1), "ExpiryAlreadySettled", {"expiry": EXPIRY}, sender=lp)
    scene.refused("claim", (EXPIRY, STRIKE, True), "NothingToClaim", {"holder": lp, "series": SERIES}, sender=lp)
    balance = scene.stack.token.balance_of(taker)
    claim = vault.claim(EXPIRY, STRIKE, True, sender=taker)
    paid = payoff_floor(settle_spot, STRIKE, ONE)
    assert (claim.holder, claim.series, claim.size, claim.payoff) == (taker, SERIES, ONE, paid)
    assert scene.stack.token.balance_of(taker) == balance + paid
    final = vault.state()
    assert final.unclaimed_payoffs == owed - paid == 1  # the rounding stays with the vault
    assert final.collateral == after.collateral - paid
    assert vault.long_position(taker, SERIES) == 0
    scene.refused("claim", (EXPIRY, STRIKE, True), "NothingToClaim", {"holder": taker, "series": SERIES},
                  sender=taker)
    # Nothing is live any more: the wind-down is over and NAV needs no mark; the LP redeems every share.
    assert not vault.winding_down() and vault.call("markFresh") and vault.worst_loss_reserve() == 0
    shares = vault.shares(lp)
    assert vault.max_redeem(lp) == shares
    balance = scene.stack.token.balance_of(lp)
    vault.redeem(shares, sender=lp)
    gone = vault.state()
    assert gone.total_supply == 0 and gone.collateral - gone.unclaimed_payoffs <= 1  # a virtual unit's rounding
    assert scene.stack.token.balance_of(lp) - balance == final.collateral - final.unclaimed_payoffs - (
        gone.collateral - gone.unclaimed_payoffs)


def test_settlement_refuses_an_observation_outside_the_window_and_waits_for_the_fill_capacity(
        chain, contracts, material):
    scene = traded_scene(chain, contracts, material)  # F = 2 fills recorded, none proven
    vault, lp = scene.vault, scene.lp
    late = EXPIRY + WINDOW + 1
    post_spot(scene, late, 120 * ONE)
    scene.refused("settleExpiry", (EXPIRY, 1), "ObservationOutsideWindow",
                  {"index": 1, "observedAt": late, "deadline": EXPIRY + WINDOW}, sender=lp)
    scene.refused("setLifecycle", ((2 * WINDOW, DAY, GAP),), "NotGovernance", {"caller": lp}, sender=lp)

    governance = scene.stack.governance
    governance.schedule(vault, "setLifecycle", (2 * WINDOW, DAY, GAP))
    mine_block_at(scene.w3, late + DAY + 60)  # the schedule was mined a few seconds after `late`
    governance.execute(vault, "setLifecycle", (2 * WINDOW, DAY, GAP))
    assert list(vault.call("lifecycle")) == [2 * WINDOW, DAY, GAP]
    # The record counts against the circuit's F like a fill: F records await a proof already.
    scene.refused("settleExpiry", (EXPIRY, 1), "FillCapacityReached", {"unproven": 2, "fillCapacity": 2},
                  sender=lp)


def test_payoffs_beyond_the_collateral_are_paid_pro_rata(chain, contracts, material):
    scene = bought_scene(chain, contracts, material)
    vault, taker = scene.vault, scene.taker
    crash_spot = 100_000 * ONE  # the call ends far beyond anything the collateral covers
    post_spot(scene, EXPIRY, crash_spot)
    collateral = vault.state().collateral
    full = payoff_floor(crash_spot, STRIKE, ONE)
    assert full > collateral > COLLATERAL
    receipt = vault.settle_expiry(EXPIRY, 1, sender=taker)
    (settled,) = vault.events("ExpirySettled", receipt)
    assert (settled["owed"], settled["paid"]) == (full, collateral)  # 99,900 · 10^6 divides exactly
    assert vault.total_assets() == 0 and vault.call("maxDeposit", scene.lp) == 0  # new money would pay old debts
    claim = vault.claim(EXPIRY, STRIKE, True, sender=taker)
    assert claim.payoff == full * collateral // full == collateral  # the sole holder takes all that was set aside
    state = vault.state()
    assert (state.collateral, state.unclaimed_payoffs) == (0, 0)


def test_the_solver_finds_what_to_settle_and_plans_over_the_book_after_the_settlement(chain, contracts, material):
    """What the service does before a cut (solver.service.scheduler): settle each expiry of the book that
    the oracle has observed at or after; the next batch's expiries are those of the book after the
    pending records, though the proven book keeps the settled expiry's slot until that proof."""
    scene = traded_scene(chain, contracts, material)
    scene.post(T1)
    scene.submit(material.second)  # proves FILLS: the proven book holds EXPIRY's call
    settlement = Settlement(scene.stack, scene.solver, CAPACITY)
    assert settlement.settleable_expiries() == []  # no observation at or after EXPIRY yet
    assert book_expiries(settlement.vault_book().current, T1) == [EXPIRY]
    post_spot(scene, EXPIRY + 10, 110 * ONE)
    index = scene.stack.oracle.first_observation_at_or_after(EXPIRY)
    assert settlement.settleable_expiries() == [(EXPIRY, index)]
    with pytest.raises(NothingToBatch, match="settle them"):
        book_expiries(settlement.vault_book().current, EXPIRY + 10)

    scene.vault.settle_expiry(EXPIRY, index, sender=scene.lp)
    book = settlement.vault_book()
    assert settlement.settleable_expiries() == []
    assert [slot.expiry for slot in book.proven if not slot.empty] == [EXPIRY]  # until the next proof
    assert [type(record) for record in book.pending] == [fb.ExpirySettled]
    assert book_expiries(book.current, EXPIRY + 10) == []  # a batch can be planned again
