"""QuoteVault of the lookup-mode book batch (issue 14's last joint): a committed Groth16 proof of the
smallest book batch (solver.scripted_book's CAPACITY and its "first" request, built in lookup mode;
committed development keys cached by fingerprint) is verified in Python, accepted by a vault deployed
with the committed verifier, and a taker fills its quote. Refusals, each with the vault's state, the
balances and the taker's position unchanged: a bits proof to a committed vault and a committed proof
to a bits vault (ProofKindMismatch), an altered challenge (ChallengeMismatch), an altered commitment
(ChallengeMismatch; with the challenge recomputed for it, ProofInvalid) and an altered proof of
knowledge (ProofInvalid, the folded pairing).

Each test runs on a fresh chain (the proofs bind absolute oracle times): anvil, else py-evm.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from web3 import Web3

from bn254.constants import G1_GENERATOR
from bn254.curve import g1_from_py_ecc, g1_to_py_ecc
from circuits.merkle import merkle_path
from engine import fixed_book as fb
from prover.committed_keys import CommittedProof, CommittedVerifyingKey, commitment_challenge
from py_ecc.optimized_bn128 import add as g1_add
from solver.scripted_book import (
    CAPACITY,
    FIRST_NONCE,
    IV_INDEX,
    LIMITS,
    MARGINS,
    MARKET,
    SPOT,
    T0,
    BookMaterial,
    make_material,
    requests,
)
from solver.settlement import (
    ProvenBookBatch,
    book_batch_keys,
    build_book_batch,
    prove_book_batch,
    verify_book_batch,
    vault_limits,
)
from verifier_contracts.client import CommittedVerifierClient, ContractReverted, TransactionFailed
from verifier_contracts.devnet import Anvil, find_anvil, in_process_web3, latest_timestamp, mine_block_at
from verifier_contracts.vault import QuoteVaultClient, VaultContracts, VaultStack, compile_vault, deploy_vault_stack

SUBMIT_GAS = 3_000_000
FILL_GAS = 1_000_000
FUNDS = 10**12
COLLATERAL = 10**10
GROTH16, COMMITTED = 0, 1  # QuoteVault.ProofKind


@dataclasses.dataclass(frozen=True)
class LookupMaterial:
    proven: ProvenBookBatch
    verifying_key: CommittedVerifyingKey


@pytest.fixture(scope="module")
def lookup() -> LookupMaterial:
    """The "first" scripted batch proven in lookup mode (a fresh proof: the commitment's blinding is random)."""
    request = requests()["first"]
    built = build_book_batch(request, "lookup")
    proving_key, verifying_key, _ = book_batch_keys(built)
    assert verifying_key.is_development  # sigma is no ceremony's: a devnet key, and it says so
    return LookupMaterial(prove_book_batch(proving_key, request, built), verifying_key)


@pytest.fixture(scope="module")
def bits() -> BookMaterial:
    """The same batch's bits-mode proof (saved by solver.scripted_book, as the other vault tests use it)."""
    return make_material({"first": requests()["first"]})


@pytest.fixture(scope="module")
def contracts() -> VaultContracts:
    return compile_vault(CAPACITY.layout().to_json())


@pytest.fixture
def chain() -> Iterator[Web3]:
    """A fresh chain per test: the proofs bind absolute times, which a chain passes only once."""
    if find_anvil() is None:
        yield in_process_web3()
        return
    with Anvil() as anvil:
        yield anvil.web3()


def open_stack(w3: Web3, contracts: VaultContracts, verifying_key, state_commitment: int) -> VaultStack:
    """A funded vault whose verifier is `verifying_key`'s (committed or plain), at the oracle's T0."""
    _, solver, lp, taker = w3.eth.accounts[:4]
    stack = deploy_vault_stack(
        w3, contracts, solver=solver, first_nonce=FIRST_NONCE, limits=vault_limits(LIMITS), market=MARKET,
        margins=MARGINS, book_capacity=CAPACITY.slots, fill_capacity=CAPACITY.fills, verifying_key=verifying_key,
        token_decimals=6, quote_path=merkle_path)
    for account in (lp, taker):
        stack.token.mint(account, FUNDS)
        stack.token.approve(stack.vault.address, 2**256 - 1, sender=account)
    stack.vault.deposit(COLLATERAL, sender=lp)
    stack.vault.set_state_commitment(state_commitment, sender=solver)
    if latest_timestamp(w3) < T0:
        mine_block_at(w3, T0)
    stack.oracle.post(SPOT, T0)
    stack.iv_oracle.post(IV_INDEX, T0)
    return stack


def snapshot(stack: VaultStack, w3: Web3) -> tuple:
    taker = w3.eth.accounts[3]
    return stack.vault.state(), stack.token.balance_of(taker), stack.vault.book_state()


def refused(stack: VaultStack, w3: Web3, function: str, args: tuple, error: str, values: dict | None = None) -> None:
    """`function(*args)` from the solver reverts with `error`; mined, it fails without running out of gas
    and changes nothing."""
    solver = w3.eth.accounts[1]
    before = snapshot(stack, w3)
    with pytest.raises(ContractReverted) as raised:
        stack.vault.call(function, *args, sender=solver)
    assert raised.value.error == error, raised.value
    if values is not None:
        assert raised.value.values == values
    with pytest.raises(TransactionFailed) as failed:
        stack.vault.transact(function, *args, sender=solver, gas=SUBMIT_GAS)
    assert failed.value.receipt["gasUsed"] < SUBMIT_GAS
    assert snapshot(stack, w3) == before


def committed_arguments(proven: ProvenBookBatch, *, proof: CommittedProof | None = None,
                        challenge: int | None = None) -> tuple:
    """submitCommittedBatch's arguments for `proven`, with its proof or challenge replaced."""
    return QuoteVaultClient.submit_committed_arguments(
        proof or proven.proof, proven.challenge if challenge is None else challenge, proven.book_after,
        proven.quotes_root, proven.packed, proven.quote_elements)


def shifted(point: tuple[int, int]) -> tuple[int, int]:
    """point + G: another point of G1."""
    return g1_from_py_ecc(g1_add(g1_to_py_ecc(point), g1_to_py_ecc(G1_GENERATOR)))


def test_a_lookup_book_batch_is_verified_accepted_by_a_committed_vault_and_filled(lookup, contracts, chain):
    proven = lookup.proven
    assert proven.mode == "lookup" and verify_book_batch(lookup.verifying_key, proven)
    assert len(proven.public_inputs) == CAPACITY.layout().n_public_inputs + 1  # the layout's, then the challenge
    stack = open_stack(chain, contracts, lookup.verifying_key, proven.state_commitment)
    assert isinstance(stack.verifier, CommittedVerifierClient) and stack.verifier.verify(proven.proof,
                                                                                         proven.public_inputs)
    assert stack.vault.proof_kind() == "committed-groth16"
    solver, taker = chain.eth.accounts[1], chain.eth.accounts[3]
    accepted = stack.vault.submit_batch(proven.proof, proven.book_after, proven.quotes_root, proven.packed,
                                        proven.quote_elements, challenge=proven.challenge, sender=solver,
                                        gas=SUBMIT_GAS)
    assert accepted.live and accepted.batch_id == FIRST_NONCE
    (order,) = proven.request.quotes
    mid = fb.quote_bsm(proven.request.market, order).price
    (quote,) = accepted.quotes
    assert (quote.strike, quote.bid, quote.ask, quote.size) == (order.strike, mid - order.half_spread,
                                                               mid + order.half_spread, order.size)
    fill = stack.vault.fill(accepted.batch_id, 0, order.size // 2, 2**256 - 1, sender=taker, gas=FILL_GAS)
    assert fill.size == order.size // 2 and fill.premium > 0
    assert stack.vault.state().live_quotes[0].used == order.size // 2


def test_each_vault_refuses_the_other_kinds_proof(lookup, bits, contracts, chain):
    committed_vault = open_stack(chain, contracts, lookup.verifying_key, lookup.proven.state_commitment)
    plain = bits.first
    refused(committed_vault, chain, "submitBatch",
            committed_vault.vault.submit_arguments(plain.proof, plain.book_after, plain.quotes_root, plain.packed,
                                                   plain.quote_elements),
            "ProofKindMismatch", {"vaultKind": COMMITTED, "submitted": GROTH16})
    bits_vault = open_stack(chain, contracts, bits.verifying_key, plain.state_commitment)
    assert bits_vault.vault.proof_kind() == "groth16"
    refused(bits_vault, chain, "submitCommittedBatch", committed_arguments(lookup.proven),
            "ProofKindMismatch", {"vaultKind": GROTH16, "submitted": COMMITTED})
    # each vault still takes its own kind
    solver = chain.eth.accounts[1]
    assert bits_vault.vault.submit_batch(plain.proof, plain.book_after, plain.quotes_root, plain.packed,
                                         plain.quote_elements, sender=solver, gas=SUBMIT_GAS).live


def test_a_committed_vault_refuses_an_altered_challenge_commitment_or_knowledge_proof(lookup, contracts, chain):
    proven = lookup.proven
    stack = open_stack(chain, contracts, lookup.verifying_key, proven.state_commitment)
    refused(stack, chain, "submitCommittedBatch", committed_arguments(proven, challenge=proven.challenge + 1),
            "ChallengeMismatch", {"expected": proven.challenge, "given": proven.challenge + 1})
    other_d = shifted(proven.proof.commitment)
    altered_d = dataclasses.replace(proven.proof, commitment=other_d)
    # the challenge is D's: another D with the old challenge is refused before any pairing ...
    refused(stack, chain, "submitCommittedBatch", committed_arguments(proven, proof=altered_d),
            "ChallengeMismatch", {"expected": commitment_challenge(other_d, proven.layout_inputs),
                                  "given": proven.challenge})
    # ... and with the challenge recomputed for it, by the pairing (D joins vk_x)
    refused(stack, chain, "submitCommittedBatch",
            committed_arguments(proven, proof=altered_d, challenge=commitment_challenge(other_d, proven.layout_inputs)),
            "ProofInvalid")
    altered_p = dataclasses.replace(proven.proof, knowledge_proof=shifted(proven.proof.knowledge_proof))
    refused(stack, chain, "submitCommittedBatch", committed_arguments(proven, proof=altered_p), "ProofInvalid")
    solver = chain.eth.accounts[1]
    assert stack.vault.submit_batch(proven.proof, proven.book_after, proven.quotes_root, proven.packed,
                                    proven.quote_elements, challenge=proven.challenge, sender=solver,
                                    gas=SUBMIT_GAS).live
