"""QuoteVault with real proofs of the 1-quote batch circuit, on both devnets (py-evm and anvil).

A proven batch is accepted and recorded with the engine's bid and ask, a quote is filled and the
premium moves; every tampering is refused, and a refusal changes nothing: each negative test checks
the error (by eth_call), then mines the same call as a transaction with ample gas, sees it fail
without running out of gas, and compares the vault's state, the token balances and the taker's
position before and after.

Proof material (keys and two proven batches) comes from vault_material.py: proven once per
machine, then read from the DLPE cache folder. Each test deploys its own token, oracle and vault (the
verifier is shared per devnet, it holds no state) and posts the oracle price at the chain's
current time; the batches were proven for an expiry EXPIRY_SECONDS after the oracle's time, which
is all that t depends on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
from py_ecc import optimized_bn128 as bn
from web3 import Web3

from bn254.constants import R
from engine import fixed as fx
from engine import fixed_quote as fq
from prover import Proof
from bn254.constants import G1Affine, G2Affine
from circuits.builder import CircuitError
from solver.settlement import ProvenBatch, Settlement, build_batch, vault_limits
from tests.verifier_contracts.vault_material import (
    EXPIRY_SECONDS,
    FIRST_NONCE,
    VaultMaterial,
    make_four_quote_material,
    make_material,
)
from verifier_contracts.client import ContractReverted, Groth16VerifierClient, TransactionFailed
from verifier_contracts.devnet import latest_timestamp, mine_block_at
from verifier_contracts.vault import (
    QuoteVaultClient,
    VaultContracts,
    VaultQuote,
    VaultStack,
    compile_vault,
    deploy_vault_stack,
    premium,
    series_id,
)

# Explicit gas limits, well above what the calls use (about 3.3e5 and 1.1e5): eth-tester's gas
# estimate would run submitBatch, and its pairing, about 20 times.
SUBMIT_GAS = 2_000_000
FILL_GAS = 500_000
MAX_ORACLE_AGE = 300
QUOTE_LIFETIME = 600
DECIMALS = 6
TAKER_FUNDS = 10**12
COLLATERAL = 10**11
f = fx.to_fixed


@pytest.fixture(scope="session")
def material() -> VaultMaterial:
    return make_material()


@pytest.fixture(scope="session")
def vault_contracts(material: VaultMaterial) -> VaultContracts:
    return compile_vault(material.built.layout.to_json())


@pytest.fixture(scope="session")
def batch_verifier(devnet: Web3, material: VaultMaterial) -> Groth16VerifierClient:
    return Groth16VerifierClient.deploy(devnet, material.verifying_key)


@dataclass(frozen=True)
class Market:
    """One test's stack, its actors, and the oracle observation its batches are submitted against."""

    w3: Web3
    stack: VaultStack
    solver: str
    lp: str
    taker: str
    oracle_time: int

    @property
    def vault(self) -> QuoteVaultClient:
        return self.stack.vault

    @property
    def expiry(self) -> int:
        return self.oracle_time + EXPIRY_SECONDS

    def submit(self, proven: ProvenBatch, expiry: int | None = None):
        return self.vault.submit_batch(proven.proof, proven.packed, expiry or self.expiry, sender=self.solver,
                                       gas=SUBMIT_GAS)

    def snapshot(self, series: bytes) -> tuple:
        """Everything a refused call must leave as it was."""
        token = self.stack.token
        return (self.vault.state(), token.balance_of(self.taker), token.balance_of(self.lp),
                self.vault.long_position(self.taker, series))


def open_market(w3: Web3, contracts: VaultContracts, verifier: Groth16VerifierClient,
                material: VaultMaterial) -> Market:
    """Deploy token, oracle and vault; fund the LP and the taker; deposit collateral; publish the
    batches' commitments; post the first batch's spot at the chain's current time."""
    _, solver, lp, taker = w3.eth.accounts[:4]
    first = material.first
    stack = deploy_vault_stack(w3, contracts, solver=solver, first_nonce=FIRST_NONCE,
                               limits=vault_limits(first.request.limits), verifier=verifier,
                               max_oracle_age=MAX_ORACLE_AGE, quote_lifetime=QUOTE_LIFETIME, token_decimals=DECIMALS)
    stack.vault.set_commitments(first.state_commitment, first.portfolio_commitment, sender=solver)
    for account in (lp, taker):
        stack.token.mint(account, TAKER_FUNDS)
        stack.token.approve(stack.vault.address, 2**256 - 1, sender=account)
    stack.vault.deposit(COLLATERAL, sender=lp)
    oracle_time = latest_timestamp(w3)
    stack.oracle.post(first.request.spot, oracle_time)
    return Market(w3, stack, solver, lp, taker, oracle_time)


@pytest.fixture
def market(devnet: Web3, vault_contracts: VaultContracts, batch_verifier: Groth16VerifierClient,
           material: VaultMaterial) -> Market:
    return open_market(devnet, vault_contracts, batch_verifier, material)


def engine_quotes(proven: ProvenBatch) -> tuple[VaultQuote, ...]:
    """The batch's quotes as the engine computes them in fixed point (engine.fixed_quote)."""
    req = proven.request
    terms = fx.expiry_terms(req.t, req.rate, req.carry)
    quotes = []
    for line in req.quotes:
        q = fq.quote_fixed(req.spot, line.strike, terms, req.svi, line.is_call, req.policy, req.net_vega,
                           req.high_vol, line.half_spread)
        quotes.append(VaultQuote(line.strike, line.is_call, q.bid, q.ask))
    return tuple(quotes)


def assert_refused(market: Market, function: str, args: tuple, sender: str, gas: int, error: str,
                   values: dict | None = None, series: bytes = b"\0" * 32) -> None:
    """`function(*args)` from `sender` reverts with `error` (and `values`, when given); mined, it fails
    by reverting (not by running out of gas) and leaves the market as it was."""
    before = market.snapshot(series)
    with pytest.raises(ContractReverted) as raised:
        market.vault.call(function, *args, sender=sender)
    assert raised.value.error == error
    if values is not None:
        assert raised.value.values == values
    with pytest.raises(TransactionFailed) as failed:
        market.vault.transact(function, *args, sender=sender, gas=gas)
    assert failed.value.receipt["gasUsed"] < gas
    assert market.snapshot(series) == before


def refuse_submit(market: Market, proof: Proof, packed: list[int], error: str, values: dict | None = None,
                  expiry: int | None = None) -> None:
    args = QuoteVaultClient.submit_arguments(proof, packed, expiry or market.expiry)
    assert_refused(market, "submitBatch", args, market.solver, SUBMIT_GAS, error, values)


# ---------------------------------------------------------------------------------- accepted batches


def test_proven_batch_is_accepted_and_recorded(market, material):
    first = material.first
    accepted = market.submit(first)
    (want,) = engine_quotes(first)
    assert accepted.batch_id == FIRST_NONCE
    assert (accepted.spot, accepted.t) == (first.request.spot, first.request.t)
    assert (accepted.oracle_time, accepted.expiry) == (market.oracle_time, market.expiry)
    assert accepted.valid_until == market.oracle_time + QUOTE_LIFETIME
    assert accepted.quotes == (want,)
    assert want.bid > 0 and want.ask > want.bid
    assert market.vault.quote(FIRST_NONCE, 0) == want
    assert market.vault.batch_times(FIRST_NONCE) == (market.oracle_time, market.expiry, accepted.valid_until)
    assert market.vault.state().next_nonce == FIRST_NONCE + 1


def test_quote_is_filled_and_the_premium_moves(market, material):
    accepted = market.submit(material.first)
    quote = accepted.quotes[0]
    size = f(0.3)
    cost = premium(quote.ask, size, DECIMALS, taker_buys=True)
    series = series_id(market.expiry, quote.strike, quote.is_call)
    before = market.vault.state()
    # maxPremium exactly the premium: accepted (the bound is inclusive)
    fill = market.vault.fill(accepted.batch_id, 0, size, cost, sender=market.taker, gas=FILL_GAS)
    assert (fill.batch_id, fill.quote_index, fill.taker, fill.series) == (FIRST_NONCE, 0, market.taker, series)
    assert (fill.taker_buys, fill.size, fill.price, fill.premium) == (True, size, quote.ask, cost)
    after = market.vault.state()
    assert after.token_balance - before.token_balance == cost == after.collateral - before.collateral
    assert market.stack.token.balance_of(market.taker) == TAKER_FUNDS - cost
    assert market.vault.long_position(market.taker, series) == size


def test_a_long_is_sold_back_at_bid(market, material):
    accepted = market.submit(material.first)
    quote = accepted.quotes[0]
    size = f(0.3)
    series = series_id(market.expiry, quote.strike, quote.is_call)
    paid = market.vault.fill(accepted.batch_id, 0, size, 2**256 - 1, sender=market.taker, gas=FILL_GAS).premium
    proceeds = premium(quote.bid, f(0.1), DECIMALS, taker_buys=False)
    sold = market.vault.sell(accepted.batch_id, 0, f(0.1), proceeds, sender=market.taker, gas=FILL_GAS)
    assert (sold.taker_buys, sold.size, sold.price, sold.premium) == (False, f(0.1), quote.bid, proceeds)
    assert market.vault.long_position(market.taker, series) == f(0.2)
    assert market.stack.token.balance_of(market.taker) == TAKER_FUNDS - paid + proceeds
    assert market.vault.state().collateral == COLLATERAL + paid - proceeds


def test_batches_are_accepted_in_nonce_order(market, material):
    market.submit(material.first)
    accepted = market.submit(material.second)
    (want,) = engine_quotes(material.second)
    assert accepted.batch_id == FIRST_NONCE + 1 and accepted.quotes == (want,)
    assert want.bid < 0 < want.ask
    assert market.vault.state().next_nonce == FIRST_NONCE + 2


def test_both_devnets_charge_the_same_gas(py_evm_web3, anvil_chain, vault_contracts, material):
    # Both run the Prague rules (devnet.py): the gas reported for the vault is the same on either.
    used = []
    for w3 in (py_evm_web3, anvil_chain.web3()):
        verifier = Groth16VerifierClient.deploy(w3, material.verifying_key)
        m = open_market(w3, vault_contracts, verifier, material)
        accepted = m.submit(material.first)
        fill = m.vault.fill(accepted.batch_id, 0, f(0.3), 2**256 - 1, sender=m.taker, gas=FILL_GAS)
        used.append((accepted.gas_used, fill.gas_used))
    assert used[0] == used[1]


@pytest.fixture(scope="session")
def four_quote_material() -> VaultMaterial:
    return make_four_quote_material()


@pytest.mark.slow
def test_four_quote_batch_is_accepted_and_each_quote_fills(devnet, four_quote_material):
    # Its own circuit (about 44k constraints), key, verifier and vault: proving it is the slow part.
    material = four_quote_material
    verifier = Groth16VerifierClient.deploy(devnet, material.verifying_key)
    four = open_market(devnet, compile_vault(material.built.layout.to_json()), verifier, material)
    accepted = four.submit(material.first)
    want = engine_quotes(material.first)
    assert len(want) == 4 and accepted.quotes == want
    for q, quote in enumerate(want):
        assert four.vault.quote(accepted.batch_id, q) == quote
        fill = four.vault.fill(accepted.batch_id, q, f(0.5), 2**256 - 1, sender=four.taker, gas=FILL_GAS)
        assert (fill.price, fill.premium) == (quote.ask, premium(quote.ask, f(0.5), DECIMALS, taker_buys=True))
    refuse_submit(four, material.first.proof, material.first.packed, "NonceMismatch",
                  {"expected": FIRST_NONCE + 1, "packed": FIRST_NONCE})


def test_settlement_derives_the_request_from_the_oracle_and_submits(devnet, material):
    # solver.settlement end to end, with the cached proof of exactly the request it derives.
    first = material.first
    solver, taker = devnet.eth.accounts[1], devnet.eth.accounts[3]
    settlement = Settlement.deploy(devnet, material.verifying_key, material.built.layout, solver=solver,
                                   first_nonce=FIRST_NONCE, limits=first.request.limits)
    oracle_time = latest_timestamp(devnet)
    settlement.stack.oracle.post(first.request.spot, oracle_time)
    stale = dataclasses.replace(first.request, spot=first.request.spot - 1, t=first.request.t + 1)
    expiry = oracle_time + EXPIRY_SECONDS
    assert settlement.request_at_oracle(stale, expiry) == first.request
    settlement.publish_commitments(first)
    accepted = settlement.submit(first, expiry, gas=SUBMIT_GAS)
    assert accepted.batch_id == FIRST_NONCE and accepted.quotes == engine_quotes(first)
    settlement.stack.token.mint(taker, TAKER_FUNDS)
    settlement.stack.token.approve(settlement.stack.vault.address, TAKER_FUNDS, sender=taker)
    fill = settlement.stack.vault.fill(FIRST_NONCE, 0, f(1.0), TAKER_FUNDS, sender=taker, gas=FILL_GAS)
    assert fill.premium == premium(accepted.quotes[0].ask, f(1.0), 6, taker_buys=True)


def test_a_request_that_breaches_a_limit_cannot_be_built(material):
    request = material.first.request
    tight = dataclasses.replace(request.limits, max_loss=0)
    with pytest.raises(CircuitError, match="risk"):
        build_batch(dataclasses.replace(request, limits=tight))


# ---------------------------------------------------------------------------------- refused batches


def _g1_plus_generator(p: G1Affine) -> G1Affine:
    s = bn.normalize(bn.add((bn.FQ(p[0]), bn.FQ(p[1]), bn.FQ.one()), bn.G1))
    return (int(s[0]), int(s[1]))


def _g2_plus_generator(p: G2Affine) -> G2Affine:
    (x0, x1), (y0, y1) = p
    s = bn.normalize(bn.add((bn.FQ2([x0, x1]), bn.FQ2([y0, y1]), bn.FQ2.one()), bn.G2))
    return (tuple(int(c) for c in s[0].coeffs), tuple(int(c) for c in s[1].coeffs))  # type: ignore[return-value]


@pytest.mark.parametrize("point", ["a", "b", "c"])
def test_tampered_proof_is_refused(market, material, point):
    proof = material.first.proof
    tampered = Proof(
        a=_g1_plus_generator(proof.a) if point == "a" else proof.a,
        b=_g2_plus_generator(proof.b) if point == "b" else proof.b,
        c=_g1_plus_generator(proof.c) if point == "c" else proof.c,
    )
    refuse_submit(market, tampered, material.first.packed, "ProofInvalid", {})


# The field at bit 0 of each element decides who notices +1: the vault's own checks for the
# values it derives, the proof for the solver's values.
ELEMENT_PLUS_ONE = {
    0: "SpotMismatch",  # spot
    1: "ProofInvalid",  # svi_a
    2: "ProofInvalid",  # high_vol
    3: "RiskLimitMismatch",  # max_abs_delta
    4: "RiskLimitMismatch",  # max_abs_vega
    5: "ProofInvalid",  # quote0_strike
}


@pytest.mark.parametrize("element", sorted(ELEMENT_PLUS_ONE))
def test_packed_element_changed_by_one_is_refused(market, material, element):
    packed = list(material.first.packed)
    packed[element] += 1
    refuse_submit(market, material.first.proof, packed, ELEMENT_PLUS_ONE[element])


def test_bit_zero_fields_are_what_the_refusals_assume(material):
    at_bit_zero = {s.element: s.name for s in material.built.layout.slots if s.offset == 0}
    assert at_bit_zero == {0: "spot", 1: "svi_a", 2: "high_vol", 3: "max_abs_delta", 4: "max_abs_vega",
                           5: "quote0_strike"}


def test_packed_element_plus_r_is_refused(market, material):
    # x + r is x mod r: without the verifier's range check the same proof would accept it.
    packed = list(material.first.packed)
    packed[5] += R
    refuse_submit(market, material.first.proof, packed, "PublicInputNotInField", {"index": 7, "value": packed[5]})


def test_proof_of_another_batch_is_refused(market, material):
    # The second batch's proof with the first batch's elements (whose nonce the vault expects).
    refuse_submit(market, material.second.proof, material.first.packed, "ProofInvalid", {})


def test_out_of_order_batch_is_refused(market, material):
    refuse_submit(market, material.second.proof, material.second.packed, "NonceMismatch",
                  {"expected": FIRST_NONCE, "packed": FIRST_NONCE + 1})


def test_replayed_batch_is_refused(market, material):
    market.submit(material.first)
    refuse_submit(market, material.first.proof, material.first.packed, "NonceMismatch",
                  {"expected": FIRST_NONCE + 1, "packed": FIRST_NONCE})


def test_stale_oracle_price_is_refused(market, material):
    mine_block_at(market.w3, market.oracle_time + MAX_ORACLE_AGE + 1)
    refuse_submit(market, material.first.proof, material.first.packed, "StaleOraclePrice")


def test_batch_proven_before_the_oracle_moved_is_refused(market, material):
    spot = material.first.request.spot
    mine_block_at(market.w3, market.oracle_time + 2)  # the oracle posts nothing from the future
    market.stack.oracle.post(spot, market.oracle_time + 1)  # same price, one second later: t changes
    refuse_submit(market, material.first.proof, material.first.packed, "TimeToExpiryMismatch",
                  {"expected": market.vault.call("yearsToExpiry", market.expiry, market.oracle_time + 1),
                   "packed": material.first.request.t})
    market.stack.oracle.post(spot + 1, market.oracle_time + 2)
    refuse_submit(market, material.first.proof, material.first.packed, "SpotMismatch",
                  {"oracleSpot": spot + 1, "packedSpot": spot}, expiry=market.oracle_time + 2 + EXPIRY_SECONDS)


@pytest.mark.parametrize("commitment", ["state", "portfolio"])
def test_wrong_commitment_is_refused(market, material, commitment):
    first = material.first
    state, portfolio = first.state_commitment, first.portfolio_commitment
    if commitment == "state":
        state = (state + 1) % R
    else:
        portfolio = (portfolio + 1) % R
    market.vault.set_commitments(state, portfolio, sender=market.solver)
    refuse_submit(market, first.proof, first.packed, "ProofInvalid", {})


def test_changed_risk_limits_are_refused(market, material):
    limits = vault_limits(material.first.request.limits)
    changed = dataclasses.replace(limits, max_loss=limits.max_loss - 1)
    governance = market.stack.governance
    governance.schedule(market.vault, "setRiskLimits", changed.as_tuple())
    # after the governance delay, the oracle posts again and the batch is proven for the same t
    oracle_time = latest_timestamp(market.w3) + governance.min_delay()
    mine_block_at(market.w3, oracle_time)
    governance.execute(market.vault, "setRiskLimits", changed.as_tuple())
    market.stack.oracle.post(material.first.request.spot, oracle_time)
    refuse_submit(market, material.first.proof, material.first.packed, "RiskLimitMismatch",
                  {"limit": 3, "expected": limits.max_loss - 1, "packed": limits.max_loss},
                  expiry=oracle_time + EXPIRY_SECONDS)


def test_only_the_solver_submits(market, material):
    args = QuoteVaultClient.submit_arguments(material.first.proof, material.first.packed, market.expiry)
    assert_refused(market, "submitBatch", args, market.taker, SUBMIT_GAS, "NotSolver", {"caller": market.taker})


def test_expiry_must_follow_the_oracle_time(market, material):
    refuse_submit(market, material.first.proof, material.first.packed, "ExpiryNotAfterOracleTime",
                  {"expiry": market.oracle_time, "oracleTime": market.oracle_time}, expiry=market.oracle_time)


# ---------------------------------------------------------------------------------- refused fills


@pytest.fixture
def accepted_market(market, material) -> tuple[Market, VaultQuote, bytes]:
    """A market with the first batch accepted: (market, its quote, the quote's series)."""
    quote = market.submit(material.first).quotes[0]
    return market, quote, series_id(market.expiry, quote.strike, quote.is_call)


def refuse_fill(accepted_market, function: str, args: tuple, error: str, values: dict | None = None) -> None:
    market, _, series = accepted_market
    assert_refused(market, function, args, market.taker, FILL_GAS, error, values, series)


def test_fill_outside_the_window_is_refused(accepted_market):
    market, _, _ = accepted_market
    valid_until = market.oracle_time + QUOTE_LIFETIME
    mine_block_at(market.w3, valid_until + 1)
    refuse_fill(accepted_market, "fill", (FIRST_NONCE, 0, f(0.3), 2**256 - 1), "QuoteExpired")


def test_premium_above_the_maximum_is_refused(accepted_market):
    _, quote, _ = accepted_market
    cost = premium(quote.ask, f(0.3), DECIMALS, taker_buys=True)
    refuse_fill(accepted_market, "fill", (FIRST_NONCE, 0, f(0.3), cost - 1), "PremiumAboveMaximum",
                {"premium": cost, "maxPremium": cost - 1})


@pytest.mark.parametrize(
    ("function", "args", "error", "values"),
    [
        ("fill", (FIRST_NONCE, 1, f(0.3), 2**256 - 1), "QuoteIndexOutOfRange", {"quoteIndex": 1, "quoteCount": 1}),
        ("fill", (FIRST_NONCE, 0, 0, 2**256 - 1), "SizeOutOfRange", {"size": 0, "max": 2**96 - 1}),
        ("fill", (FIRST_NONCE, 0, 2**96, 2**256 - 1), "SizeOutOfRange", {"size": 2**96, "max": 2**96 - 1}),
        ("sell", (FIRST_NONCE, 0, f(0.3), 0), "PositionTooSmall", {"held": 0, "size": f(0.3)}),
    ],
    ids=["quote-index", "zero-size", "huge-size", "sell-unheld"],
)
def test_malformed_fill_is_refused(accepted_market, function, args, error, values):
    refuse_fill(accepted_market, function, args, error, values)


def test_sell_below_the_minimum_is_refused(accepted_market):
    market, quote, _ = accepted_market
    market.vault.fill(FIRST_NONCE, 0, f(0.3), 2**256 - 1, sender=market.taker, gas=FILL_GAS)
    proceeds = premium(quote.bid, f(0.3), DECIMALS, taker_buys=False)
    refuse_fill(accepted_market, "sell", (FIRST_NONCE, 0, f(0.3), proceeds + 1), "PremiumBelowMinimum",
                {"premium": proceeds, "minPremium": proceeds + 1})


def test_vault_does_not_buy_at_a_negative_bid(market, material):
    market.submit(material.first)
    accepted = market.submit(material.second)
    quote = accepted.quotes[0]
    series = series_id(market.expiry, quote.strike, quote.is_call)
    market.vault.fill(accepted.batch_id, 0, f(1.0), 2**256 - 1, sender=market.taker, gas=FILL_GAS)
    assert_refused(market, "sell", (accepted.batch_id, 0, f(1.0), 0), market.taker, FILL_GAS, "BidNotPositive",
                   {"bid": quote.bid}, series)
