"""QuoteVault over its own book, with real proofs of the smallest book batch, on both devnets.

The proofs (solver/scripted_book.py) bind absolute oracle times, so each test runs on a fresh chain
(py-evm, then anvil) that it moves to those times. Every refusal is checked as
test_quote_vault.py does: the error by eth_call, then the same call mined with ample gas fails
without running out of it, and the vault's state, the balances and the taker's position are as
they were.

The issue's five attacks, replayed with valid proofs (issue 10):
  1 a batch over the book without the taker's fills          FillsPending; a proof over another book: ProofInvalid
  2 a book the solver declares                                 the vault assembles its own commitment: ProofInvalid
  3 buying beyond a quote                                      QuoteSizeExceeded
  4 a drain through a 250%-vol smile                           AtmVolOutsideBand
  5 fills at an old ask after the oracle moved / went stale    SpotMoved, QuoteExpired, quoteLifetime <= maxOracleAge
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from web3 import Web3

from engine import fixed as fx
from engine import fixed_book as fb
from circuits import book_batch as bb
from circuits import book_hash as bh
from bn254.constants import R
from circuits.merkle import merkle_path, root_from_path
from solver.scripted_book import (
    CAPACITY,
    DAY,
    EXPIRIES,
    FILLS,
    FIRST_NONCE,
    IV_INDEX,
    LIMITS,
    MARGINS,
    MARKET,
    POLICY,
    SALT,
    SIZE,
    SPOT,
    STRIKE,
    T0,
    T1,
    T2,
    TIGHT,
    BookMaterial,
    make_book_material,
    make_material,
    quotes_request,
    market,
    smile,
)
from solver.settlement import ProvenBookBatch, quote_at_floor, vault_limits
from verifier_contracts.client import ContractReverted, Groth16VerifierClient, TransactionFailed
from verifier_contracts.devnet import Anvil, find_anvil, in_process_web3, latest_timestamp, mine_block_at
from verifier_contracts.vault import (
    VaultContracts,
    VaultQuote,
    VaultStack,
    compile_vault,
    deploy_vault_stack,
    mark_liability,
    premium,
    series_id,
    worst_loss_liability,
)

SUBMIT_GAS = 3_000_000
FILL_GAS = 1_000_000
MAX_ORACLE_AGE = 300
QUOTE_LIFETIME = 300
DECIMALS = 6
FUNDS = 10**12
COLLATERAL = 10**10
ONE = fx.ONE
SERIES = series_id(EXPIRIES[0], STRIKE, True)


@pytest.fixture(scope="module")
def material() -> BookMaterial:
    return make_book_material()


@pytest.fixture(scope="module")
def contracts(material: BookMaterial) -> VaultContracts:
    return compile_vault(CAPACITY.layout().to_json())


@pytest.fixture(params=("py-evm", "anvil"))
def chain(request: pytest.FixtureRequest) -> Iterator[Web3]:
    """A fresh chain per test: the proofs bind absolute times, which a chain passes only once."""
    if request.param == "py-evm":
        yield in_process_web3()
        return
    if find_anvil() is None:
        pytest.skip("the anvil binary (npm @foundry-rs/anvil) is not installed: run `make install`")
    with Anvil() as anvil:
        yield anvil.web3()


@dataclass
class Scene:
    """One test's chain, stack and actors."""

    w3: Web3
    stack: VaultStack
    solver: str
    lp: str
    taker: str

    @property
    def vault(self):
        return self.stack.vault

    def post(self, time: int, spot: int = SPOT, iv_index: int = IV_INDEX) -> None:
        """Move the chain to `time` and post spot and the IV index observed then."""
        if latest_timestamp(self.w3) < time:
            mine_block_at(self.w3, time)
        self.stack.oracle.post(spot, time)
        self.stack.iv_oracle.post(iv_index, time)

    def submit(self, proven: ProvenBookBatch):
        return self.vault.submit_batch(proven.proof, proven.book_after, proven.quotes_root, proven.packed,
                                       proven.quote_elements, sender=self.solver, gas=SUBMIT_GAS)

    def buy(self, batch_id: int, size: int):
        return self.vault.fill(batch_id, 0, size, 2**256 - 1, sender=self.taker, gas=FILL_GAS)

    def sell(self, batch_id: int, size: int):
        return self.vault.sell(batch_id, 0, size, 0, sender=self.taker, gas=FILL_GAS)

    def snapshot(self) -> tuple:
        token = self.stack.token
        return (self.vault.state(), token.balance_of(self.taker), token.balance_of(self.lp),
                self.vault.long_position(self.taker, SERIES), self.vault.chain_head(self.vault.book_state().fill_count))

    def refused(self, function: str, args: tuple, error: str, values: dict | None = None, *,
                sender: str | None = None, gas: int = SUBMIT_GAS) -> None:
        """`function(*args)` reverts with `error` (and `values`); mined, it fails without running out of
        gas and changes nothing."""
        sender = sender or self.solver
        before = self.snapshot()
        with pytest.raises(ContractReverted) as raised:
            self.vault.call(function, *args, sender=sender)
        assert raised.value.error == error, raised.value
        if values is not None:
            assert raised.value.values == values
        with pytest.raises(TransactionFailed) as failed:
            self.vault.transact(function, *args, sender=sender, gas=gas)
        assert failed.value.receipt["gasUsed"] < gas
        assert self.snapshot() == before

    def refuse_submit(self, proven: ProvenBookBatch, error: str, values: dict | None = None, *,
                      book_after: int | None = None, sender: str | None = None) -> None:
        args = self.vault.submit_arguments(proven.proof, proven.book_after if book_after is None else book_after,
                                           proven.quotes_root, proven.packed, proven.quote_elements)
        self.refused("submitBatch", args, error, values, sender=sender)

    def refuse_fill(self, batch_id: int, size: int, error: str, values: dict | None = None, *,
                    buy: bool = True, quote_index: int = 0, max_premium: int = 2**256 - 1,
                    min_premium: int = 0) -> None:
        function, bound = ("fill", max_premium) if buy else ("sell", min_premium)
        self.refused(function, self.vault.trade_arguments(batch_id, quote_index, size, bound), error, values,
                     sender=self.taker, gas=FILL_GAS)


def open_scene(w3: Web3, contracts: VaultContracts, material: BookMaterial, *, deposit: int = COLLATERAL,
               limits=LIMITS, market_settings=MARKET, margins=MARGINS) -> Scene:
    """Deploy the stack, fund the LP and the taker, deposit, publish the policy commitment; the
    chain stays before T0 (nothing is posted yet)."""
    _, solver, lp, taker = w3.eth.accounts[:4]
    stack = deploy_vault_stack(
        w3, contracts, solver=solver, first_nonce=FIRST_NONCE, limits=vault_limits(limits), market=market_settings,
        margins=margins, book_capacity=CAPACITY.slots, fill_capacity=CAPACITY.fills,
        verifier=Groth16VerifierClient.deploy(w3, material.verifying_key), max_oracle_age=MAX_ORACLE_AGE,
        quote_lifetime=QUOTE_LIFETIME, token_decimals=DECIMALS, quote_path=merkle_path)
    for account in (lp, taker):
        stack.token.mint(account, FUNDS)
        stack.token.approve(stack.vault.address, 2**256 - 1, sender=account)
    if deposit:
        stack.vault.deposit(deposit, sender=lp)
    # every proof of the material opens the same policy commitment
    stack.vault.set_state_commitment(next(iter(material.proofs.values())).state_commitment, sender=solver)
    return Scene(w3, stack, solver, lp, taker)


def engine_quote(proven: ProvenBookBatch) -> VaultQuote:
    """The batch's quote as the engine prices it: mid on its expiry's smile, ± its half spread."""
    req = proven.request
    (order,) = req.quotes
    mid = fb.quote_bsm(req.market, order).price
    return VaultQuote(req.market.expiries[order.expiry_index].expiry, order.strike, order.is_call,
                      mid - order.half_spread, mid + order.half_spread, order.size)


def worst_loss(proven: ProvenBookBatch) -> int:
    """The engine's worst-case loss of the batch's book with its quotes filled the worst way."""
    req = proven.request
    book = fb.apply_fills(req.old_book, req.fills)
    pricing = fb.price_book(req.market, book)
    quotes = [(q, fb.quote_bsm(req.market, q)) for q in req.quotes]
    return fb.book_risk_report(pricing, quotes, req.limits, req.market.spot, req.margin).worst_loss


def traded_scene(chain, contracts, material) -> Scene:
    """The first batch accepted at T0, and FILLS traded on it (buy 1, sell 0.5 back) at T0."""
    scene = open_scene(chain, contracts, material)
    scene.post(T0)
    scene.submit(material.first)
    scene.buy(FIRST_NONCE, -FILLS[0].dq)
    scene.sell(FIRST_NONCE, FILLS[1].dq)
    return scene


# ---------------------------------------------------------------------------------- the book's life


def test_a_batch_trades_and_the_next_proof_opens_the_book_with_its_fills(chain, contracts, material):
    scene = open_scene(chain, contracts, material)
    vault = scene.vault
    empty = vault.book_state()
    assert (empty.book_commitment, empty.fill_count) == (bh.book_commitment(fb.empty_book(CAPACITY.slots)), 0)
    scene.post(T0)
    accepted = scene.submit(material.first)
    want = engine_quote(material.first)
    assert (accepted.batch_id, accepted.live, accepted.spot, accepted.oracle_time) == (FIRST_NONCE, True, SPOT, T0)
    assert accepted.valid_until == T0 + QUOTE_LIFETIME and accepted.quotes == (want,)
    assert want.size == SIZE and 0 < want.bid < want.ask
    assert accepted.worst_loss == worst_loss(material.first) > 0
    assert vault.state().live_batch == (True, FIRST_NONCE)

    bought = scene.buy(FIRST_NONCE, ONE)
    assert bought.premium == premium(want.ask, ONE, DECIMALS, taker_buys=True)
    assert vault.call("unprovenPremiums") == bought.premium
    assert vault.total_assets() == COLLATERAL  # the premium is a liability until a proof marks the option
    sold = scene.sell(FIRST_NONCE, ONE // 2)
    assert sold.premium == premium(want.bid, ONE // 2, DECIMALS, taker_buys=False)
    records = [fb.pack_fill(f) for f in FILLS]
    assert vault.book_state().fill_count == 2 and vault.chain_head(2) == bh.fill_chain(records)[-1]
    assert vault.book_slot(0) == (EXPIRIES[0], STRIKE, True, -ONE // 2)
    assert vault.quote(FIRST_NONCE, 0).used == ONE + ONE // 2

    scene.post(T1)
    second = scene.submit(material.second)
    book = fb.apply_fills(fb.empty_book(CAPACITY.slots), FILLS)
    mark = fb.price_book(market(T1), book).mark
    state = vault.state()
    assert (second.batch_id, second.live, second.fills_to) == (FIRST_NONCE + 1, True, 2)
    assert state.book.book_commitment == bh.book_commitment(book) == material.second.book_after
    assert (state.book.proven_fills, state.live_batch) == (2, (True, FIRST_NONCE + 1))
    assert mark < 0 and state.mark == (mark, mark_liability(mark, DECIMALS), T1)
    assert vault.call("unprovenPremiums") == 0
    assert state.total_assets == state.collateral - mark_liability(mark, DECIMALS)
    # the second batch superseded the first: its quote no longer fills
    scene.refuse_fill(FIRST_NONCE, ONE // 4, "BatchNotLive", {"batchId": FIRST_NONCE})
    scene.buy(FIRST_NONCE + 1, ONE // 4)


def test_the_solver_cancels_its_quotes(chain, contracts, material):
    scene = open_scene(chain, contracts, material)
    scene.post(T0)
    scene.submit(material.first)
    scene.refused("cancelQuotes", (), "NotSolver", {"caller": scene.taker}, sender=scene.taker)
    receipt = scene.vault.cancel_quotes(sender=scene.solver)
    assert scene.vault.events("QuotesCancelled", receipt) == [{"batchId": FIRST_NONCE}]
    assert scene.vault.state().live_batch[0] is False
    scene.refuse_fill(FIRST_NONCE, ONE, "BatchNotLive", {"batchId": FIRST_NONCE})


# ---------------------------------------------------------------------------------- fills: each check


def test_each_fill_check_fires_and_changes_nothing(chain, contracts, material):
    scene = open_scene(chain, contracts, material)
    scene.post(T0)
    scene.submit(material.first)
    want = engine_quote(material.first)
    scene.refuse_fill(FIRST_NONCE + 5, ONE, "UnknownBatch", {"batchId": FIRST_NONCE + 5})
    scene.refuse_fill(FIRST_NONCE, ONE, "QuoteIndexOutOfRange", {"quoteIndex": 1, "quoteCount": 1}, quote_index=1)
    scene.refuse_fill(FIRST_NONCE, 0, "SizeOutOfRange")
    # attack 3: nobody buys beyond the quote's proven size
    scene.refuse_fill(FIRST_NONCE, SIZE + 1, "QuoteSizeExceeded", {"quoteIndex": 0, "size": SIZE + 1,
                                                                   "remaining": SIZE})
    cost = premium(want.ask, ONE, DECIMALS, taker_buys=True)
    scene.refuse_fill(FIRST_NONCE, ONE, "PremiumAboveMaximum", {"premium": cost, "maxPremium": cost - 1},
                      max_premium=cost - 1)
    scene.refuse_fill(FIRST_NONCE, ONE, "PositionTooSmall", {"held": 0, "size": ONE}, buy=False)
    # attack 5: the oracle moved 10% (beyond the 2% tolerance): the old ask no longer fills
    scene.post(T0 + 30, spot=SPOT * 11 // 10)
    scene.refuse_fill(FIRST_NONCE, ONE, "SpotMoved", {"batchSpot": SPOT, "spot": SPOT * 11 // 10,
                                                      "tolerance": MARKET.spot_tolerance})
    scene.post(T0 + 40)
    scene.buy(FIRST_NONCE, ONE)
    scene.refuse_fill(FIRST_NONCE, ONE + 1, "QuoteSizeExceeded", {"quoteIndex": 0, "size": ONE + 1, "remaining": ONE})
    scene.sell(FIRST_NONCE, ONE // 2)
    # F = 2 fills wait for a proof: a third is refused until one applies them
    scene.refuse_fill(FIRST_NONCE, ONE // 4, "FillCapacityReached", {"unproven": 2, "fillCapacity": 2})
    # attack 5: past the quote's lifetime (never longer than the oracle's maximum age)
    mine_block_at(chain, T0 + QUOTE_LIFETIME + 1)
    scene.refuse_fill(FIRST_NONCE, ONE // 4, "QuoteExpired")


def test_quote_lifetime_never_exceeds_the_oracles_maximum_age(chain, contracts, material):
    with pytest.raises(ContractReverted) as raised:
        deploy_vault_stack(chain, contracts, solver=chain.eth.accounts[1], first_nonce=1, limits=vault_limits(LIMITS),
                           market=MARKET, margins=MARGINS, book_capacity=4, fill_capacity=2,
                           verifier=Groth16VerifierClient.deploy(chain, material.verifying_key),
                           max_oracle_age=300, quote_lifetime=600, quote_path=merkle_path)
    assert (raised.value.error, raised.value.values) == ("OracleSettingsInvalid",
                                                         {"maxOracleAge": 300, "quoteLifetime": 600})


# ---------------------------------------------------------------------------------- submitBatch: each check


def test_each_submit_check_fires_and_changes_nothing(chain, contracts, material):
    scene = open_scene(chain, contracts, material, deposit=0)
    first = material.first
    mine_block_at(chain, T0)
    scene.stack.oracle.post(SPOT, T0)
    scene.refuse_submit(first, "NoVolIndex", {})
    scene.stack.iv_oracle.post(IV_INDEX, T0)
    scene.refuse_submit(first, "NotSolver", {"caller": scene.taker}, sender=scene.taker)
    # solvency: the proven worst case (plus the margin) must fit the free collateral
    needed = -(-worst_loss(first) * 10**DECIMALS >> fx.FRAC_BITS) + MARGINS.solvency_margin
    scene.refuse_submit(first, "Insolvent", {"needed": needed, "available": 0})
    scene.vault.deposit(COLLATERAL, sender=scene.lp)
    # attack 4: a smile whose ATM vol is 250% against an index of 60% ± 10%
    scene.refuse_submit(material.rich, "AtmVolOutsideBand")
    # the proof binds book_after (and every packed field): another one does not verify
    scene.refuse_submit(first, "ProofInvalid", book_after=first.book_after + 1)
    forged = dataclasses.replace(first, public_inputs=first.public_inputs[:-1] + [first.public_inputs[-1] ^ (1 << 140)])
    scene.refuse_submit(forged, "ProofInvalid")
    # the next nonce only, and only at the oracle's latest observation
    scene.refuse_submit(material.stale, "OracleTimeMismatch", {"oracleTime": T0, "packedOracleTime": T1})
    mine_block_at(chain, T0 + MAX_ORACLE_AGE + 1)
    scene.refuse_submit(first, "StaleObservation")
    scene.post(T1)
    scene.refuse_submit(material.stale, "NonceMismatch", {"expected": FIRST_NONCE, "packed": FIRST_NONCE + 1})
    scene.refuse_submit(first, "OracleTimeMismatch", {"oracleTime": T1, "packedOracleTime": T0})


def test_a_proof_with_another_spot_is_refused(chain, contracts, material):
    scene = open_scene(chain, contracts, material)
    scene.post(T0, spot=SPOT + ONE)
    scene.refuse_submit(material.first, "SpotMismatch", {"oracleSpot": SPOT + ONE, "packedSpot": SPOT})


@pytest.mark.parametrize("setting", ["rate", "limits", "model_margin"])
def test_a_proof_with_values_governance_did_not_set_is_refused(chain, contracts, material, setting):
    changed = {
        "rate": {"market_settings": dataclasses.replace(MARKET, rate=MARKET.rate + 1)},
        "limits": {"limits": dataclasses.replace(LIMITS, max_loss=LIMITS.max_loss - 1)},
        "model_margin": {"margins": dataclasses.replace(MARGINS, model_margin=MARGINS.model_margin + 1)},
    }[setting]
    scene = open_scene(chain, contracts, material, **changed)
    scene.post(T0)
    error = {"rate": "RateMismatch", "limits": "RiskLimitMismatch", "model_margin": "RiskLimitMismatch"}[setting]
    scene.refuse_submit(material.first, error)


# ---------------------------------------------------------------------------------- the book is the vault's


def test_a_batch_over_a_book_without_the_fills_is_refused(chain, contracts, material):
    # attack 1: after a taker's fills, a batch with quotes over the unchanged book
    scene = traded_scene(chain, contracts, material)
    scene.post(T1)
    scene.refuse_submit(material.stale, "FillsPending", {"fillsTo": 0, "fillCount": 2})
    # attack 2: a proof may open no book but the vault's (here: a book_after of another book)
    scene.refuse_submit(material.second, "ProofInvalid", book_after=material.stale.book_after)
    scene.submit(material.second)


def test_a_proof_beyond_the_recorded_fills_is_refused(chain, contracts, material):
    scene = open_scene(chain, contracts, material)
    scene.post(T0)
    scene.submit(material.first)
    scene.post(T1)
    scene.refuse_submit(material.second, "FillRangeInvalid", {"fillsFrom": 0, "fillsTo": 2, "provenFills": 0,
                                                              "fillCount": 0})


def test_breached_limits_stop_quotes_but_never_the_book(chain, contracts, material):
    scene = traded_scene(chain, contracts, material)
    scene.post(T1)
    scene.submit(material.second)
    governance = scene.stack.governance
    governance.schedule(scene.vault, "setRiskLimits", vault_limits(TIGHT).as_tuple())
    mine_block_at(chain, T1 + DAY + 10)
    governance.execute(scene.vault, "setRiskLimits", vault_limits(TIGHT).as_tuple())
    scene.post(T2)
    scene.refuse_submit(material.breached, "RiskLimitsBreached", {})
    update = scene.submit(material.update)
    assert (update.live, update.fills_to) == (False, 2)
    assert scene.vault.state().live_batch == (True, FIRST_NONCE + 1)  # a book update supersedes no quotes
    book = fb.apply_fills(fb.empty_book(CAPACITY.slots), FILLS)
    mark = fb.price_book(market(T2), book).mark
    assert scene.vault.state().mark == (mark, mark_liability(mark, DECIMALS), T2)


# ---------------------------------------------------------------------------------- trades the vault refuses at any price
#
# A non-positive ask needs mid + half spread <= 0: the fixed-point BSM mid of this smile stays positive
# across the whole strike window ([spot/16, 16 spot]: about 1e-5 at its ends) and a half spread is never
# negative, so no real proof reaches AskNotPositive; the forge suite fires it (QuoteVault.t.sol).

OTM_PUT = fx.to_fixed(6.25)
"""spot / 16, the strike window's edge: the put's mid (~1e-5) is far below the policy's 0.5 floor."""
LOWER_SPOT = SPOT * 985 // 1000
LOWER_VOL = 0.35
LOWER_INDEX = fx.to_fixed(0.42)


def refusal_requests() -> dict[str, bb.BookBatchRequest]:
    """'otm': nonce 1 at T0, a put struck at OTM_PUT over the empty book, at the floor: its bid is
    negative. 'lower': nonce 2 at T1, a pure book update over the first batch's buy of one call
    (FILLS[0]) at spot -1.5% (within the fills' tolerance) on a 35% smile (the index at 42%): the
    book's mark falls below the first quote's bid."""
    empty = fb.empty_book(CAPACITY.slots)
    common = {"policy": POLICY, "state_salt": SALT, "limits": LIMITS, "margin": MARGINS.model_margin}
    m0 = market(T0)
    otm = quote_at_floor(m0, empty, OTM_PUT, 0, False, SIZE, POLICY)
    m1 = fb.BookMarket(LOWER_SPOT, T1, MARKET.rate, MARKET.carry, tuple(smile(e, T1, LOWER_VOL) for e in EXPIRIES))
    update = quote_at_floor(m1, fb.apply_fills(empty, FILLS[:1]), STRIKE, 0, True, 0, POLICY)
    return {
        "otm": bb.book_batch_request(m0, empty, (), CAPACITY.fills, 0, 0, quotes=(otm,), nonce=FIRST_NONCE, **common),
        "lower": bb.book_batch_request(m1, empty, FILLS[:1], CAPACITY.fills, 0, 0, quotes=(update,),
                                       nonce=FIRST_NONCE + 1, **common),
    }


@pytest.fixture(scope="module")
def refusals() -> BookMaterial:
    return make_material(refusal_requests())


def test_a_sale_below_the_takers_minimum_premium_is_refused(chain, contracts, material):
    scene = open_scene(chain, contracts, material)
    scene.post(T0)
    scene.submit(material.first)
    scene.buy(FIRST_NONCE, ONE)
    proceeds = premium(engine_quote(material.first).bid, ONE, DECIMALS, taker_buys=False)
    scene.refuse_fill(FIRST_NONCE, ONE, "PremiumBelowMinimum", {"premium": proceeds, "minPremium": proceeds + 1},
                      buy=False, min_premium=proceeds + 1)
    assert scene.vault.sell(FIRST_NONCE, 0, ONE, proceeds, sender=scene.taker, gas=FILL_GAS).premium == proceeds


def test_a_quote_with_a_non_positive_bid_buys_nothing_back(chain, contracts, material, refusals):
    scene = open_scene(chain, contracts, material)
    scene.post(T0)
    accepted = scene.submit(refusals.otm)
    (quote,) = accepted.quotes
    assert quote == engine_quote(refusals.otm) and quote.bid <= 0 < quote.ask
    scene.buy(FIRST_NONCE, ONE)
    scene.refuse_fill(FIRST_NONCE, ONE, "BidNotPositive", {"bid": quote.bid}, buy=False)


def test_the_worst_case_keeps_what_a_sale_back_needs(chain, contracts, material, refusals):
    """The LP could once redeem all but the mark's liability, after which a sale back at the first
    quote's bid (above the mark) found too little collateral. The proven worst case now stays in the
    vault: the LP's whole redemption is refused, and what it may take leaves the sale paid. (The
    forge suite still fires InsufficientCollateral: QuoteVault.t.sol, with a worst loss of 0.)"""
    scene = open_scene(chain, contracts, material)
    vault, lp = scene.vault, scene.lp
    scene.post(T0)
    scene.submit(material.first)
    scene.buy(FIRST_NONCE, ONE)
    scene.post(T1, spot=LOWER_SPOT, iv_index=LOWER_INDEX)
    update = scene.submit(refusals.lower)
    assert (update.live, update.fills_to) == (False, 1)
    assert vault.state().live_batch == (True, FIRST_NONCE)  # the first quote still trades
    # a pure update leaves the live quotes out: it does not lower the worst case they were proven with
    proven = [worst_loss_liability(worst_loss(m), DECIMALS) for m in (material.first, refusals.lower)]
    assert vault.state().proven_worst_loss == vault.worst_loss_reserve() == max(proven)
    shares = vault.shares(lp)
    scene.refused("redeem", (shares, lp, lp), "ERC4626ExceededMaxRedeem",
                  {"owner": lp, "shares": shares, "max": vault.max_redeem(lp)}, sender=lp)
    vault.redeem(vault.max_redeem(lp), sender=lp)
    state = vault.state()
    needed = premium(engine_quote(material.first).bid, ONE, DECIMALS, taker_buys=False)
    assert state.mark[1] < needed  # all but the mark's liability would not pay the sale
    assert state.collateral >= state.mark[1] + state.unclaimed_payoffs + max(proven)
    assert scene.sell(FIRST_NONCE, ONE).premium == needed


# ---------------------------------------------------------------------------------- quotes: one root, shown by each fill


def test_the_vault_keeps_one_root_and_a_fill_shows_its_quote(chain, contracts, material):
    scene = open_scene(chain, contracts, material)
    scene.post(T0)
    first = material.first
    accepted = scene.submit(first)
    (element,) = first.quote_elements
    # depth 0: the root is the one element; the event carries it for takers, the vault keeps the root only
    assert accepted.quote_elements == (element,) and accepted.quotes_root == first.quotes_root == element
    assert scene.vault.call("quotesRootOf", FIRST_NONCE) == element
    quotes = scene.vault.contracts.layout.hashed_group("quote")
    offset = {s.field: s.offset for s in quotes.fields}
    # another element (a larger size, a lower mid), the element + r, a path of another length: refused
    for forged in (element + (1 << offset["size_units"]), element - (1 << offset["mid"])):
        for buy, bound in ((True, 2**256 - 1), (False, 0)):
            scene.refused("fill" if buy else "sell", (FIRST_NONCE, 0, forged, [], ONE, bound), "QuoteNotInBatch",
                          {"index": 0, "root": element, "computed": forged}, sender=scene.taker, gas=FILL_GAS)
    scene.refused("fill", (FIRST_NONCE, 0, element + R, [], ONE, 2**256 - 1), "QuoteElementNotInField",
                  {"element": element + R}, sender=scene.taker, gas=FILL_GAS)
    scene.refused("fill", (FIRST_NONCE, 0, element, [0], ONE, 2**256 - 1), "QuotePathLengthMismatch",
                  {"length": 1, "depth": 0}, sender=scene.taker, gas=FILL_GAS)
    scene.refuse_fill(FIRST_NONCE, ONE, "QuoteIndexOutOfRange", {"quoteIndex": 1, "quoteCount": 1}, quote_index=1)
    bought = scene.buy(FIRST_NONCE, ONE)  # the client shows the element and path the solver published
    assert bought.price == engine_quote(first).ask


FOUR = 4
"""A batch of four quotes: a tree of depth 2, so that a path has siblings and direction bits."""


@pytest.fixture(scope="module")
def four_quotes() -> tuple[BookMaterial, VaultContracts]:
    material = make_material({"four": quotes_request(FOUR)})
    return material, compile_vault(bb.book_batch_layout(CAPACITY.expiries, FOUR).to_json())


def test_at_depth_two_a_wrong_sibling_index_or_element_is_refused(four_quotes):
    material, contracts = four_quotes
    scene = open_scene(in_process_web3(), contracts, material)
    scene.post(T0)
    proven = material.four
    accepted = scene.submit(proven)
    elements = proven.quote_elements
    root = proven.quotes_root
    assert accepted.quote_elements == tuple(elements) and accepted.quotes_root == root
    req = proven.request
    for order, quote in zip(req.quotes, accepted.quotes):
        mid = fb.quote_bsm(req.market, order).price
        assert quote == VaultQuote(req.market.expiries[order.expiry_index].expiry, order.strike, order.is_call,
                                   mid - order.half_spread, mid + order.half_spread, order.size)
    path = merkle_path(elements, 2, 2)

    def refuse(index: int, element: int, shown: list[int]) -> None:
        computed = root_from_path(element, index, shown)
        assert computed != root
        scene.refused("fill", (FIRST_NONCE, index, element, shown, ONE // 8, 2**256 - 1), "QuoteNotInBatch",
                      {"index": index, "root": root, "computed": computed}, sender=scene.taker, gas=FILL_GAS)

    refuse(2, elements[2], [path[0] + 1, path[1]])  # a wrong sibling at either level
    refuse(2, elements[2], [path[0], path[1] + 1])
    refuse(3, elements[2], path)  # quote 2 shown at another index: its direction bits differ
    refuse(0, elements[2], path)
    refuse(2, elements[3], path)  # another quote's element on quote 2's path
    scene.refuse_fill(FIRST_NONCE, ONE // 8, "QuoteIndexOutOfRange", {"quoteIndex": FOUR, "quoteCount": FOUR},
                      quote_index=FOUR)
    # each quote fills at its own proven terms (F = 2 fills before the next proof: the first and the last)
    for i in (0, FOUR - 1):
        fill = scene.vault.fill(FIRST_NONCE, i, ONE // 8, 2**256 - 1, sender=scene.taker, gas=FILL_GAS)
        assert (fill.quote_index, fill.price) == (i, accepted.quotes[i].ask)
        assert scene.vault.quote(FIRST_NONCE, i).used == ONE // 8
