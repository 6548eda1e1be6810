"""The vault stack on a real chain: a local signer, deployment records, and the calls of `dlpe deploy/submit`.

Transactions are signed here, by web3's SignAndSendRawMiddleware, with a key read
from an environment variable or an encrypted keystore file (never from the
command line), so any node works, not only one whose accounts are unlocked.

`deploy` writes a record per chain, deployments/<chain-id>.json by default (as
forge's broadcast/ folder does): the contracts' addresses, ABIs and creation
blocks, the deployer and solver, and the verifying key's fingerprint, so that
`dlpe submit`, `cast` and block explorers find everything. The folder is
git-ignored; tests write theirs into temporary folders.

A development key (prover.trust) is refused on any chain but a local devnet
(chain id 31337) unless the caller forces it, knowing that whoever ran its setup
can forge proofs the verifier accepts.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

import prover
from circuits.batch import BatchRequest
from circuits.layout import batch_layout
from solver.samples import sample_batch_request
from solver.settlement import vault_limits
from verifier_contracts.client import ContractClient, Groth16VerifierClient
from verifier_contracts.devnet import latest_timestamp
from verifier_contracts.generate import verifying_key_sha256
from verifier_contracts.vault import (
    AcceptedBatch,
    QuoteVaultClient,
    SpotOracleClient,
    VaultStack,
    compile_vault,
    deploy_vault_stack,
    years_to_expiry,
)

LOCAL_DEVNET_CHAIN_ID = 31337
DEFAULT_KEY_ENV = "DLPE_PRIVATE_KEY"
DEFAULT_DEPLOYMENTS = Path("deployments")
_CONTRACTS = ("TestToken", "SpotOracle", "Groth16Verifier", "TimelockController", "QuoteVault")


class DeploymentError(ValueError):
    """Bad input to deploy or submit: no signer, an unreadable record, a refused key (one line)."""


# -- signing -----------------------------------------------------------------------------------------


def load_signer(*, key_env: str | None = None, keystore: Path | None = None,
                password_env: str | None = None) -> LocalAccount:
    """The account whose key is in the environment variable `key_env` (hex), or in an encrypted
    keystore file (web3 secret storage) whose password is in `password_env`."""
    if keystore is not None:
        password = os.environ.get(password_env or "")
        if password is None:
            raise DeploymentError(f"set the keystore's password in ${password_env or 'DLPE_KEYSTORE_PASSWORD'}")
        try:
            encrypted = json.loads(keystore.read_text())
            return Account.from_key(Account.decrypt(encrypted, password))
        except OSError as error:
            raise DeploymentError(f"cannot read the keystore {keystore}: {error.strerror}") from error
        except (ValueError, KeyError, TypeError) as error:
            raise DeploymentError(f"cannot decrypt the keystore {keystore}: {error}") from error
    name = key_env or DEFAULT_KEY_ENV
    secret = os.environ.get(name)
    if not secret:
        raise DeploymentError(f"no signing key: set ${name} to a hex private key, or give --keystore FILE")
    try:
        return Account.from_key(secret.strip())
    except (ValueError, TypeError) as error:
        raise DeploymentError(f"${name} does not hold a private key ({type(error).__name__})") from None


def connect(rpc_url: str, signer: LocalAccount | None = None) -> Web3:
    """A web3 client for `rpc_url` that signs `signer`'s transactions locally and sends from it."""
    session = requests.Session()
    if rpc_url.startswith(("http://127.", "http://localhost")):
        session.trust_env = False  # never route loopback traffic through an environment proxy
    w3 = Web3(HTTPProvider(rpc_url, session=session, request_kwargs={"timeout": 120}))
    try:
        w3.eth.chain_id
    except (requests.RequestException, OSError, ValueError) as error:
        raise DeploymentError(f"no node answers at {rpc_url}: {type(error).__name__}") from None
    if signer is not None:
        w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(signer), layer=0)
        w3.eth.default_account = signer.address
    return w3


# -- the record -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """What deployments/<chain-id>.json holds."""

    chain_id: int
    quotes: int
    deployer: str
    solver: str
    first_nonce: int
    verifying_key_sha256: str
    verifying_key_setup: str
    contracts: dict[str, dict[str, Any]]
    """name -> {address, block_number, abi}"""

    def address(self, name: str) -> str:
        return self.contracts[name]["address"]

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.chain_id}.json"
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: Path) -> "Deployment":
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except OSError as error:
            raise DeploymentError(f"cannot read the deployment {path}: {error.strerror}") from error
        except (ValueError, TypeError) as error:
            raise DeploymentError(f"{path} is not a dlpe deployment record: {error}") from error


def _creation_block(w3: Web3, address: str, first: int, last: int) -> int:
    # The first block in [first, last] at which the address holds code (bisection over eth_getCode).
    while first < last:
        middle = (first + last) // 2
        if w3.eth.get_code(address, block_identifier=middle):
            last = middle
        else:
            first = middle + 1
    return first


def check_deployable(vk: prover.VerifyingKey, chain_id: int, *, force_development_key: bool) -> None:
    """prover.trust.require_deployable for this chain; a forced development key passes (the caller warned)."""
    local = chain_id == LOCAL_DEVNET_CHAIN_ID
    if force_development_key and vk.is_development:
        prover.require_usable(vk, "deploy a verifier")
        return
    try:
        prover.require_deployable(vk, local_devnet=local)
    except prover.UntrustedKey as error:
        raise DeploymentError(
            f"{error} (chain id {chain_id}; --unsafe-allow-development-key overrides this, and lets whoever ran "
            "the setup forge proofs the verifier accepts)"
        ) from None


def deploy(w3: Web3, vk: prover.VerifyingKey, *, quotes: int, solver: str | None = None,
           first_nonce: int | None = None) -> tuple[VaultStack, Deployment]:
    """Deploy token, oracle, verifier, timelock and vault from w3.eth.default_account, with the
    sample request's risk limits; the record names every contract and its creation block."""
    sample = sample_batch_request(quotes)
    nonce = sample.nonce if first_nonce is None else first_nonce
    deployer = w3.eth.default_account
    start = w3.eth.block_number
    stack = deploy_vault_stack(
        w3, compile_vault(batch_layout(quotes).to_json()), solver=solver or deployer, first_nonce=nonce,
        limits=vault_limits(sample.limits), verifying_key=vk,
    )
    end = w3.eth.block_number
    clients = dict(zip(_CONTRACTS, (stack.token, stack.oracle, stack.verifier, stack.governance, stack.vault)))
    contracts = {
        name: {"address": client.address, "block_number": _creation_block(w3, client.address, start, end),
               "abi": client.abi}
        for name, client in clients.items()
    }
    record = Deployment(
        chain_id=w3.eth.chain_id, quotes=quotes, deployer=deployer, solver=solver or deployer, first_nonce=nonce,
        verifying_key_sha256=verifying_key_sha256(vk), verifying_key_setup=vk.setup, contracts=contracts,
    )
    return stack, record


# -- using a deployment -------------------------------------------------------------------------------


def _require_chain(w3: Web3, deployment: Deployment) -> None:
    if w3.eth.chain_id != deployment.chain_id:
        raise DeploymentError(f"the node's chain id is {w3.eth.chain_id}; the deployment is on {deployment.chain_id}")


def vault_client(w3: Web3, deployment: Deployment) -> QuoteVaultClient:
    _require_chain(w3, deployment)
    return QuoteVaultClient(w3, deployment.address("QuoteVault"), compile_vault(batch_layout(deployment.quotes).to_json()))


def oracle_client(w3: Web3, deployment: Deployment) -> SpotOracleClient:
    _require_chain(w3, deployment)
    return SpotOracleClient(w3, deployment.address("SpotOracle"), deployment.contracts["SpotOracle"]["abi"])


def post_spot(w3: Web3, deployment: Deployment, spot: int) -> int:
    """Post `spot` (2^-48 units) at the chain's latest block time, from the default account (the oracle's
    owner); returns that time."""
    now = latest_timestamp(w3)
    oracle_client(w3, deployment).post(spot, now)
    return now


def request_at_vault(w3: Web3, deployment: Deployment, expiry: int) -> BatchRequest:
    """The sample request for the deployment's quote count, at the oracle's latest spot and time and
    the vault's next nonce: what the vault will accept if submitted before the oracle moves."""
    spot, oracle_time = oracle_client(w3, deployment).latest()
    if oracle_time == 0:
        raise DeploymentError("the oracle has no price yet: post one first (dlpe oracle-post)")
    if expiry <= oracle_time:
        raise DeploymentError(f"the expiry {expiry} is not after the oracle's time {oracle_time}")
    nonce = vault_client(w3, deployment).call("nextNonce")
    return dataclasses.replace(sample_batch_request(deployment.quotes), spot=spot,
                               t=years_to_expiry(expiry, oracle_time), nonce=nonce)


def submit(w3: Web3, deployment: Deployment, proof: prover.Proof, public: list[int], expiry: int) -> AcceptedBatch:
    """Publish the commitments the proof opens (when the vault holds others) and submit the batch,
    both from the default account (the deployment's solver)."""
    vault = vault_client(w3, deployment)
    if len(public) < 2:
        raise DeploymentError(f"public.json holds {len(public)} values; a batch has its two commitments first")
    state, portfolio = public[0], public[1]
    if (vault.call("stateCommitment"), vault.call("portfolioCommitment")) != (state, portfolio):
        vault.set_commitments(state, portfolio, sender=w3.eth.default_account)
    return vault.submit_batch(proof, public[2:], expiry, sender=w3.eth.default_account)


def verifier_client(w3: Web3, deployment: Deployment, vk: prover.VerifyingKey) -> ContractClient:
    _require_chain(w3, deployment)
    return Groth16VerifierClient.attach(w3, deployment.address("Groth16Verifier"), vk)
