"""QuoteVault's generated layout, the fixed-point rules it shares with Python, and everything about
the vault, oracle and token that needs no batch proof, on both devnets (py-evm and anvil).

The vaults here are deployed over a stand-in verifier: the generated verifier of a tiny circuit with
as many public inputs as the book batch, which the constructor accepts. No proof is ever sent to it;
test_book_vault.py submits real book batch proofs.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

import pytest
from web3 import Web3

import prover
from circuits.builder import ConstraintSystem
from circuits.book_batch import book_batch_layout
from circuits.layout import Layout
from circuits.merkle import merkle_path
from engine import fixed as fx
from verifier_contracts.batch_layout import layout_sha256
from verifier_contracts.client import ContractReverted, Groth16VerifierClient
from verifier_contracts.devnet import latest_timestamp, mine_block_at
from verifier_contracts.vault import (
    MIN_GOVERNANCE_DELAY,
    YEAR_SECONDS,
    BatchLayoutReaderClient,
    Margins,
    MarketSettings,
    QuoteVaultClient,
    RiskLimits,
    SpotOracleClient,
    TestTokenClient,
    VaultContracts,
    compile_vault,
    deploy_vault_stack,
    mark_liability,
    premium,
    years_to_expiry,
)

f = fx.to_fixed
LIMITS = RiskLimits(f(200.0), f(1.0), f(5e5), f(5e6))
MAX_LIMIT = (1 << 88) - 1  # the layout's 88-bit limit slots (engine.fixed_risk.LIMIT_BITS)
MARKET = MarketSettings(rate=f(0.01), carry=0, spot_tolerance=f(0.02), iv_band=f(0.1))
MARGINS = Margins(model_margin=f(1.0), solvency_margin=1_000)


def stand_in_verifier_key(n_public: int) -> prover.VerifyingKey:
    """The development key of x_i · w = p_i for n public x_i: a verifier with n inputs, quickly."""
    cs = ConstraintSystem()
    w = cs.private_input("w", 3)
    for i in range(n_public):
        cs.mul(cs.public_input(f"x{i}", i), w, f"x{i}_w")
    return prover.setup(cs.to_r1cs())[1]


@dataclass(frozen=True)
class Compiled:
    layout: Layout
    contracts: VaultContracts
    verifier_key: prover.VerifyingKey


@pytest.fixture(scope="session", params=[(2, 1), (4, 4)], ids=["2-expiry-1-quote", "4-expiry-4-quote"])
def compiled(request: pytest.FixtureRequest) -> Compiled:
    layout = book_batch_layout(*request.param)
    return Compiled(layout, compile_vault(layout.to_json()), stand_in_verifier_key(layout.n_public_inputs))


@pytest.fixture(scope="session")
def one_quote() -> Compiled:
    layout = book_batch_layout(2, 1)
    return Compiled(layout, compile_vault(layout.to_json()), stand_in_verifier_key(layout.n_public_inputs))


@pytest.fixture(scope="session")
def read_only_vault(devnet: Web3, compiled: Compiled) -> QuoteVaultClient:
    """One vault per devnet and layout, for the tests that only call its pure functions."""
    return _stack(devnet, compiled).vault


def _stack(w3: Web3, built: Compiled, **options):
    solver = w3.eth.accounts[1]
    return deploy_vault_stack(w3, built.contracts, solver=solver, first_nonce=1, limits=LIMITS, market=MARKET,
                              margins=MARGINS, book_capacity=4, fill_capacity=2, verifying_key=built.verifier_key,
                              quote_path=merkle_path, **options)


def assert_reverts(error: str, values: dict, action, *args, **kwargs) -> None:
    with pytest.raises(ContractReverted) as raised:
        action(*args, **kwargs)
    assert (raised.value.error, raised.value.values) == (error, values)


# ---------------------------------------------------------------------------------- layout


def test_generated_layout_compiles_cleanly(compiled):
    assert compiled.contracts.vault.warnings == ()
    assert compiled.contracts.layout.sha256 == layout_sha256(compiled.layout.to_json())


def test_packed_elements_unpack_on_chain_to_the_python_fields(devnet, compiled):
    reader = BatchLayoutReaderClient.deploy(devnet, compiled.contracts)
    rng = random.Random(4)
    slots = compiled.layout.slots
    samples = [
        {s.name: s.lo for s in slots},  # every component 0
        {s.name: s.lo + (1 << s.bits) - 1 for s in slots},  # every component all ones
        *({s.name: s.lo + rng.getrandbits(s.bits) for s in slots} for _ in range(3)),
    ]
    for values in samples:
        packed = compiled.layout.pack(values)
        assert reader.decode_packed(packed) == [values[s.name] for s in slots]


def test_quote_elements_unpack_on_chain_to_the_python_fields(devnet, compiled):
    # the quotes are not public inputs: each element is read by QuoteVault once a fill has shown it
    reader = BatchLayoutReaderClient.deploy(devnet, compiled.contracts)
    tree = compiled.layout.tree("quote")
    rng = random.Random(5)
    samples = [{s.name: s.lo for s in tree.slots}, {s.name: s.lo + (1 << s.bits) - 1 for s in tree.slots},
               *({s.name: s.lo + rng.getrandbits(s.bits) for s in tree.slots} for _ in range(3))]
    for values in samples:
        for i, element in enumerate(tree.pack(values)):
            assert reader.decode_quote(element) == [values[s.name] for s in tree.slots if s.index == i]


def test_verifier_errors_the_vault_lets_through_are_the_verifiers(one_quote):
    def errors(abi):
        return sorted((e["name"], [i["type"] for i in e["inputs"]]) for e in abi if e["type"] == "error")

    generated = Groth16VerifierClient.compiled(one_quote.verifier_key).abi
    assert errors(one_quote.contracts.verifier_interface.abi) == errors(generated)


# ---------------------------------------------------------------------------------- fixed point


def test_years_to_expiry_of_a_whole_year_is_one():
    assert years_to_expiry(YEAR_SECONDS, 0) == fx.ONE
    with pytest.raises(ValueError):
        years_to_expiry(5, 5)


def test_mark_liability_rounds_in_the_vaults_favour():
    assert mark_liability(-f(2.5), 6) == 2_500_000
    assert mark_liability(-1, 6) == 1  # a 2^-48 short mark is still a whole token unit owed
    assert mark_liability(f(3.0), 6) == 0  # a long mark is an asset the vault does not count


def test_premium_rounds_in_the_vaults_favour():
    price, size = f(6_579.99), f(0.3)
    exact = price * size * 10**6 / 2**96
    assert premium(price, size, 6, taker_buys=True) == -(-price * size * 10**6 // 2**96) > exact
    assert premium(price, size, 6, taker_buys=False) == price * size * 10**6 // 2**96 < exact
    # exactly representable: no rounding either way
    assert premium(f(2.0), f(1.5), 6, taker_buys=True) == premium(f(2.0), f(1.5), 6, taker_buys=False) == 3_000_000


# ---------------------------------------------------------------------------------- deployment and roles


def test_vault_refuses_a_verifier_with_another_input_count(devnet, one_quote):
    wrong = dataclasses.replace(one_quote, verifier_key=stand_in_verifier_key(3))
    assert_reverts("VerifierInputCountMismatch", {"expected": 17, "actual": 3}, _stack, devnet, wrong)


def test_vault_refuses_a_token_with_more_than_18_decimals(devnet, one_quote):
    assert_reverts("TokenDecimalsUnsupported", {"decimals": 19}, _stack, devnet, one_quote, token_decimals=19)


def test_risk_limits_change_only_through_the_timelock_after_its_delay(devnet, one_quote):
    stack = _stack(devnet, one_quote)
    vault, governance, solver = stack.vault, stack.governance, devnet.eth.accounts[1]
    assert vault.state().risk_limits == LIMITS
    assert governance.min_delay() == MIN_GOVERNANCE_DELAY
    wider = dataclasses.replace(LIMITS, max_loss=MAX_LIMIT)
    governance.schedule(vault, "setRiskLimits", wider.as_tuple())
    before = vault.state()
    with pytest.raises(ContractReverted) as early:
        governance.execute(vault, "setRiskLimits", wider.as_tuple())
    assert early.value.error == "TimelockUnexpectedOperationState"
    # governance's own address calling directly is not the timelock either
    assert_reverts("NotGovernance", {"caller": devnet.eth.default_account}, vault.transact, "setRiskLimits",
                   wider.as_tuple())
    assert_reverts("NotGovernance", {"caller": solver}, vault.transact, "setRiskLimits", wider.as_tuple(),
                   sender=solver)
    assert vault.state() == before
    mine_block_at(devnet, latest_timestamp(devnet) + MIN_GOVERNANCE_DELAY)
    receipt = governance.execute(vault, "setRiskLimits", wider.as_tuple())
    assert vault.state().risk_limits == wider
    assert vault.events("RiskLimitsUpdated", receipt) == [
        {"maxAbsDelta": LIMITS.max_abs_delta, "maxAbsGamma": LIMITS.max_abs_gamma,
         "maxAbsVega": LIMITS.max_abs_vega, "maxLoss": MAX_LIMIT}]
    # a limit the circuit cannot carry is refused even after the delay (the timelock passes the error on)
    too_wide = dataclasses.replace(LIMITS, max_loss=MAX_LIMIT + 1)
    governance.schedule(vault, "setRiskLimits", too_wide.as_tuple())
    mine_block_at(devnet, latest_timestamp(devnet) + MIN_GOVERNANCE_DELAY)
    assert_reverts("RiskLimitOutOfRange", {"limit": 3, "value": MAX_LIMIT + 1, "max": MAX_LIMIT},
                   governance.execute, vault, "setRiskLimits", too_wide.as_tuple())
    assert vault.state().risk_limits == wider


def test_vault_refuses_governance_that_is_not_a_timelock(devnet, one_quote):
    stack = _stack(devnet, one_quote)
    eoa = devnet.eth.accounts[5]
    with pytest.raises(ContractReverted) as raised:
        QuoteVaultClient.deploy(devnet, one_quote.contracts, token=stack.token.address, oracle=stack.oracle.address,
                                iv_oracle=stack.iv_oracle.address, poseidon=stack.poseidon.address,
                                verifier=stack.verifier.address, solver=eoa, governance=eoa, first_nonce=1,
                                book_capacity=4, fill_capacity=2, limits=LIMITS, market=MARKET, margins=MARGINS,
                                max_oracle_age=300, quote_lifetime=300, quote_path=merkle_path)
    assert (raised.value.error, raised.value.values) == ("GovernanceNotTimelock", {"governance": eoa})
    assert_reverts("GovernanceDelayTooShort", {"delay": 3_600, "minDelay": MIN_GOVERNANCE_DELAY},
                   _stack, devnet, one_quote, governance_delay=3_600)


def test_the_state_commitment_is_the_solvers_and_the_book_the_vaults(devnet, one_quote):
    vault = _stack(devnet, one_quote).vault
    solver, other = devnet.eth.accounts[1], devnet.eth.accounts[2]
    receipt = vault.set_state_commitment(11, sender=solver)
    assert vault.state().state_commitment == 11
    assert vault.events("StateCommitmentUpdated", receipt) == [{"stateCommitment": 11}]
    assert_reverts("NotSolver", {"caller": other}, vault.set_state_commitment, 1, sender=other)
    # nobody sets the book: it starts empty (the empty book's pinned commitment, docs/real-book.md)
    assert "setCommitments" not in {e.get("name") for e in vault.abi}
    assert vault.book_state().book_commitment == 6032751096789635616315999875366561345361274904829962121803934853659457843694


@pytest.mark.parametrize("function, settings, error", [
    ("setMarketSettings", dataclasses.replace(MARKET, rate=f(0.5) + 1), "MarketSettingsInvalid"),
    ("setMarketSettings", dataclasses.replace(MARKET, spot_tolerance=f(1.0)), "MarketSettingsInvalid"),
    ("setMargins", dataclasses.replace(MARGINS, model_margin=MAX_LIMIT + 1), "RiskLimitOutOfRange"),
    ("setOracleSettings", (300, 301), "OracleSettingsInvalid"),
])
def test_governance_settings_the_circuit_cannot_carry_are_refused(devnet, one_quote, function, settings, error):
    stack = _stack(devnet, one_quote)
    vault, governance = stack.vault, stack.governance
    values = settings if isinstance(settings, tuple) else settings.as_tuple()
    governance.schedule(vault, function, values)
    mine_block_at(devnet, latest_timestamp(devnet) + MIN_GOVERNANCE_DELAY)
    before = vault.state()
    with pytest.raises(ContractReverted) as raised:
        governance.execute(vault, function, values)
    assert raised.value.error == error
    assert vault.state() == before
    assert_reverts("NotGovernance", {"caller": devnet.eth.default_account}, vault.transact, function, values)


def test_governance_sets_rate_carry_and_margins_through_the_timelock(devnet, one_quote):
    stack = _stack(devnet, one_quote)
    vault, governance = stack.vault, stack.governance
    market = dataclasses.replace(MARKET, rate=-f(0.02), carry=f(0.01))
    margins = Margins(model_margin=f(2.0), solvency_margin=7)
    governance.schedule(vault, "setMarketSettings", market.as_tuple())
    governance.schedule(vault, "setMargins", margins.as_tuple())
    mine_block_at(devnet, latest_timestamp(devnet) + MIN_GOVERNANCE_DELAY)
    governance.execute(vault, "setMarketSettings", market.as_tuple())
    governance.execute(vault, "setMargins", margins.as_tuple())
    assert (vault.state().market_settings, vault.state().margins) == (market, margins)


def test_lp_deposits_and_redeems_shares_at_nav(devnet, one_quote):
    stack = _stack(devnet, one_quote)
    vault, token, lp = stack.vault, stack.token, devnet.eth.accounts[2]
    token.mint(lp, 5_000_000)
    token.approve(vault.address, 3_000_000, sender=lp)
    receipt = vault.deposit(3_000_000, sender=lp)
    shares = 3_000_000 * 10**6  # the first deposit: 10^DECIMALS_OFFSET shares per token unit
    assert vault.events("Deposit", receipt) == [{"sender": lp, "owner": lp, "assets": 3_000_000, "shares": shares}]
    assert (token.balance_of(lp), token.balance_of(vault.address)) == (2_000_000, 3_000_000)
    assert (vault.call("collateral"), vault.total_assets(), vault.shares(lp)) == (3_000_000, 3_000_000, shares)
    assert vault.call("decimals") == 6 + 6
    assert_reverts("InsufficientAllowance", {"owner": lp, "spender": vault.address, "allowance": 0, "needed": 1},
                   vault.deposit, 1, sender=lp)
    assert_reverts("ERC4626ExceededMaxRedeem", {"owner": lp, "shares": shares + 1, "max": shares},
                   vault.redeem, shares + 1, sender=lp)
    receipt = vault.redeem(shares // 3, sender=lp)
    assert vault.events("Withdraw", receipt) == [
        {"sender": lp, "receiver": lp, "owner": lp, "assets": 1_000_000, "shares": shares // 3}]
    assert (token.balance_of(lp), vault.call("collateral"), vault.shares(lp)) == (3_000_000, 2_000_000, shares * 2 // 3)


def test_fills_need_a_known_batch(devnet, one_quote):
    vault, taker = _stack(devnet, one_quote).vault, devnet.eth.accounts[3]
    assert_reverts("UnknownBatch", {"batchId": 1}, vault.fill, 1, 0, f(1.0), 10**9, sender=taker)
    assert_reverts("UnknownBatch", {"batchId": 1}, vault.sell, 1, 0, f(1.0), 0, sender=taker)
    assert_reverts("UnknownBatch", {"batchId": 1}, vault.quote, 1, 0)
    assert vault.batch_times(1) == (0, 0, 0)


# ---------------------------------------------------------------------------------- oracle and token


def test_oracle_posts_and_serves_the_latest_price(devnet, one_quote):
    oracle = SpotOracleClient.deploy(devnet, one_quote.contracts)
    assert oracle.latest() == (0, 0)
    now = latest_timestamp(devnet)
    receipt = oracle.post(f(95_000), now - 10)
    assert oracle.events("PricePosted", receipt) == [{"price": f(95_000), "timestamp": now - 10}]
    oracle.post(f(95_100), now)
    assert oracle.latest() == (f(95_100), now)


def test_oracle_refuses_bad_posts(devnet, one_quote):
    oracle = SpotOracleClient.deploy(devnet, one_quote.contracts)
    now, other = latest_timestamp(devnet), devnet.eth.accounts[1]
    oracle.post(f(95_000), now)
    assert_reverts("NotOwner", {"caller": other}, oracle.post, f(1.0), now, sender=other)
    assert_reverts("PriceZero", {}, oracle.post, 0, now)
    assert_reverts("TimestampNotAfterLatest", {"timestamp": now, "latestTimestamp": now}, oracle.post, f(1.0), now)
    with pytest.raises(ContractReverted) as raised:
        oracle.post(f(1.0), now + 3_600)
    assert raised.value.error == "TimestampInFuture" and raised.value.values["timestamp"] == now + 3_600
    assert oracle.latest() == (f(95_000), now)


def test_token_transfers_and_allowances(devnet, one_quote):
    token = TestTokenClient.deploy(devnet, one_quote.contracts)
    alice, bob, carol = devnet.eth.accounts[1:4]
    token.mint(alice, 100)
    assert_reverts("NotMinter", {"caller": alice}, token.transact, "mint", alice, 1, sender=alice)
    token.transact("transfer", bob, 30, sender=alice)
    assert_reverts("InsufficientBalance", {"account": alice, "balance": 70, "needed": 71},
                   token.transact, "transfer", bob, 71, sender=alice)
    token.approve(carol, 50, sender=alice)
    token.transact("transferFrom", alice, carol, 20, sender=carol)
    assert token.call("allowance", alice, carol) == 30
    assert_reverts("InsufficientAllowance", {"owner": alice, "spender": carol, "allowance": 30, "needed": 31},
                   token.transact, "transferFrom", alice, carol, 31, sender=carol)
    assert_reverts("ZeroAddress", {}, token.transact, "transfer", "0x" + "00" * 20, 1, sender=alice)
    assert [token.balance_of(a) for a in (alice, bob, carol)] == [50, 30, 20]
    assert token.call("totalSupply") == 100


def test_vault_client_decodes_its_own_and_the_verifiers_errors(one_quote):
    vault = QuoteVaultClient(Web3(), "0x" + "11" * 20, one_quote.contracts, quote_path=merkle_path)
    names = {entry["name"] for entry in vault.abi if entry["type"] == "error"}
    assert {"ProofInvalid", "PublicInputNotInField", "PrecompileFailed", "StaleObservation", "NonceMismatch",
            "FillsPending", "BookCommitmentMismatch", "FillRangeInvalid", "SpotMoved", "AtmVolOutsideBand"} <= names
