"""The service's chain: the node, the vault stack, the operator's key, and signed transactions.

- No --rpc-url: the service starts its own anvil (verifier_contracts.devnet) and deploys a fresh
  stack (token, spot and IV-index oracles, verifier, timelock, vault: solver.settlement) from
  anvil's account #0, which also posts both oracles and deposits the LPs' collateral (a batch with
  quotes needs its worst loss covered).
- --rpc-url with chain id 31337 (a devnet) and no vault address: the stack is deployed once and
  its addresses recorded in the job store, so a restarted service attaches to the same vault.
- --rpc-url and vault_address: the operator's own node and vault (every other contract is read
  from it); the oracles are read, never posted (unless post_oracle is set and the key owns them).

Transactions from the operator are signed here with the key from DLPE_OPERATOR_KEY (anvil's
development account #1 when unset, on chain id 31337 only), with nonces managed here: the next
nonce is the larger of the node's pending count and the last one this process used, so that
two transactions in flight never share one.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError

import prover
from circuits.merkle import merkle_path
from engine.errors import DLPEError
from solver.settlement import BookCapacity, Settlement
from verifier_contracts.client import ContractClient, Groth16VerifierClient, VerifyingKeyMismatch, _revert_data
from verifier_contracts.devnet import Anvil
from verifier_contracts.vault import (
    IVIndexOracleClient,
    Margins,
    MarketSettings,
    QuoteVaultClient,
    RiskLimits,
    SpotOracleClient,
    TestTokenClient,
    TimelockClient,
    VaultContracts,
    VaultStack,
    deploy_vault_stack,
)

log = logging.getLogger("dlpe.chain")

DEVNET_CHAIN_ID = 31337
ANVIL_OPERATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
"""anvil's development account #1: a published key, accepted on chain id 31337 only."""


class ChainError(DLPEError):
    """The chain cannot be used as configured (wrong chain for a development key, no vault, ...)."""


def web3_for(url: str) -> Web3:
    session = requests.Session()
    session.trust_env = False  # a loopback node must not go through an environment proxy
    return Web3(HTTPProvider(url, session=session, request_kwargs={"timeout": 30}))


def operator_account(key: str | None, chain_id: int) -> LocalAccount:
    """The operator's account from its hex key; without one, anvil's account #1 on a devnet only."""
    if key is None:
        if chain_id != DEVNET_CHAIN_ID:
            raise ChainError(f"chain id {chain_id} is not a devnet: set DLPE_OPERATOR_KEY to the operator's key")
        key = ANVIL_OPERATOR_KEY
    try:
        return Account.from_key(key)
    except (ValueError, TypeError):
        raise ChainError("DLPE_OPERATOR_KEY is not a valid hex private key") from None


@dataclass
class Chain:
    """A connected chain: web3, the vault stack as the solver's Settlement, and the operator."""

    w3: Web3
    chain_id: int
    settlement: Settlement
    operator: LocalAccount
    posts_oracle: bool
    anvil: Anvil | None = None

    @property
    def stack(self) -> VaultStack:
        return self.settlement.stack

    @property
    def vault(self) -> QuoteVaultClient:
        return self.settlement.stack.vault

    @property
    def oracle(self) -> SpotOracleClient:
        return self.settlement.stack.oracle

    def close(self) -> None:
        if self.anvil is not None:
            self.anvil.stop()


def attach_stack(w3: Web3, vault_address: str, contracts: VaultContracts,
                 verifying_key: prover.VerifyingKey) -> VaultStack:
    """The stack around a deployed vault, every address read from the vault; ChainError unless
    its verifier is the one of `verifying_key` (the service's proofs would never verify)."""
    vault = QuoteVaultClient(w3, vault_address, contracts, quote_path=merkle_path)
    try:
        verifier = Groth16VerifierClient.attach(w3, vault.call("verifier"), verifying_key)
    except VerifyingKeyMismatch as error:
        raise ChainError(f"the vault at {vault_address} verifies another circuit's proofs: {error}") from None
    return VaultStack(
        token=TestTokenClient(w3, vault.call("asset"), contracts.token.abi),
        oracle=SpotOracleClient(w3, vault.call("oracle"), contracts.oracle.abi),
        iv_oracle=IVIndexOracleClient(w3, vault.call("ivOracle"), contracts.iv_oracle.abi),
        poseidon=ContractClient(w3, vault.call("poseidon"), contracts.poseidon.abi),
        verifier=verifier,
        vault=vault,
        governance=TimelockClient(w3, vault.call("governance"), contracts.timelock.abi),
    )


@dataclass(frozen=True)
class DevnetTerms:
    """What a vault the service deploys on a devnet starts with (governance may change it later)."""

    limits: RiskLimits
    market: MarketSettings
    margins: Margins
    collateral: int
    """Token units (6 decimals) anvil's account #0 deposits as the LPs' collateral."""


def connect(
    *,
    rpc_url: str | None,
    vault_address: str | None,
    operator_key: str | None,
    post_oracle: bool | None,
    contracts: VaultContracts,
    capacity: BookCapacity,
    verifying_key: prover.VerifyingKey,
    terms: DevnetTerms,
    deployment: Callable[[int], tuple[dict[str, str], str] | None],
    key_fingerprint: str,
) -> tuple[Chain, dict[str, str] | None]:
    """Connect as the module doc says; returns the chain and, when a stack was deployed, its addresses
    (for the job store to record)."""
    anvil = None
    if rpc_url is None:
        anvil = Anvil().start()
        w3 = anvil.web3()
    else:
        w3 = web3_for(rpc_url)
        if not w3.is_connected():
            raise ChainError(f"no node answers at {rpc_url}")
    chain_id = w3.eth.chain_id
    operator = operator_account(operator_key, chain_id)
    deployed: dict[str, str] | None = None
    if vault_address is not None:
        stack = attach_stack(w3, vault_address, contracts, verifying_key)
    else:
        if chain_id != DEVNET_CHAIN_ID:
            raise ChainError(f"chain id {chain_id}: give vault_address (the service deploys only on a devnet)")
        w3.eth.default_account = w3.eth.accounts[0]
        recorded = None if anvil is not None else deployment(chain_id)
        reuse = (recorded is not None and recorded[1] == key_fingerprint
                 and len(w3.eth.get_code(Web3.to_checksum_address(recorded[0]["vault"]))) > 0)
        if recorded is not None and reuse:
            stack = attach_stack(w3, recorded[0]["vault"], contracts, verifying_key)
        else:
            stack = deploy_devnet_stack(w3, operator.address, contracts, capacity, verifying_key, terms)
            deployed = {name: getattr(stack, name).address
                        for name in ("vault", "oracle", "iv_oracle", "token", "verifier", "governance")}
            log.info("deployed the vault stack", extra={"chain_id": chain_id, **deployed})
    posts = post_oracle if post_oracle is not None else chain_id == DEVNET_CHAIN_ID
    return Chain(w3, chain_id, Settlement(stack, operator.address, capacity), operator, posts, anvil), deployed


def deploy_devnet_stack(w3: Web3, operator: str, contracts: VaultContracts, capacity: BookCapacity,
                        verifying_key: prover.VerifyingKey, terms: DevnetTerms) -> VaultStack:
    """Deploy from w3.eth.default_account with `operator` as the solver, fund the operator's gas and
    deposit `terms.collateral`."""
    if w3.eth.get_balance(operator) == 0:
        w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"to": operator, "value": 10**20}))
    stack = deploy_vault_stack(w3, contracts, solver=operator, first_nonce=1, limits=terms.limits,
                               market=terms.market, margins=terms.margins, book_capacity=capacity.slots,
                               fill_capacity=capacity.fills, verifying_key=verifying_key, quote_path=merkle_path)
    owner = w3.eth.default_account
    stack.token.mint(owner, terms.collateral)
    stack.token.approve(stack.vault.address, terms.collateral, sender=owner)
    stack.vault.deposit(terms.collateral, sender=owner)
    return stack


class TransactionRejected(DLPEError):
    """The node or the contract refused a transaction (the message names the contract error)."""


class OperatorSender:
    """Signs and sends the operator's transactions with managed nonces (see the module doc)."""

    def __init__(self, chain: Chain):
        self.chain = chain
        self._lock = threading.Lock()
        self._next: int | None = None

    def next_nonce(self) -> int:
        with self._lock:
            pending = self.chain.w3.eth.get_transaction_count(self.chain.operator.address, "pending")
            nonce = pending if self._next is None else max(pending, self._next)
            self._next = nonce + 1
            return nonce

    def sign(self, client: ContractClient, function: str, *args: Any) -> tuple[str, str, int]:
        """Estimate (running the call: a revert raises TransactionRejected with the contract's error),
        then sign ``function(*args)``; returns (tx hash, raw tx hex, nonce). Nothing is sent."""
        w3 = self.chain.w3
        call = client.contract.functions[function](*args)
        sender = self.chain.operator.address
        try:
            gas = call.estimate_gas({"from": sender})
        except ContractLogicError as error:
            reverted = client.decode_revert(_revert_data(error))
            raise TransactionRejected(f"{function} reverts: {reverted}") from None
        fees = w3.eth.get_block("latest").get("baseFeePerGas", 0)
        tx = call.build_transaction({
            "from": sender, "nonce": self.next_nonce(), "gas": gas + gas // 5, "chainId": self.chain.chain_id,
            "maxFeePerGas": 2 * fees + 10**9, "maxPriorityFeePerGas": 10**9,
        })
        signed = self.chain.operator.sign_transaction(tx)
        return "0x" + signed.hash.hex().removeprefix("0x"), "0x" + signed.raw_transaction.hex().removeprefix("0x"), tx["nonce"]

    def broadcast(self, raw_tx: str) -> None:
        """Send a signed transaction; a node that already has it is not an error."""
        try:
            self.chain.w3.eth.send_raw_transaction(raw_tx)
        except Web3RPCError as error:
            message = str(error).lower()
            if "already known" in message or "already imported" in message:
                return
            self._forget_next_nonce()
            if "nonce too low" in message:
                raise TransactionRejected(f"nonce already used: {error}") from None
            raise
        except Exception:
            self._forget_next_nonce()
            raise

    def _forget_next_nonce(self) -> None:
        # a failed send may never have reached the node: were its nonce kept as taken, the next
        # transaction would wait behind the gap for good; the node's pending count decides again
        with self._lock:
            self._next = None

    def receipt(self, tx_hash: str) -> Any | None:
        try:
            return self.chain.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None

    def known(self, tx_hash: str) -> bool:
        try:
            self.chain.w3.eth.get_transaction(tx_hash)
            return True
        except TransactionNotFound:
            return False
