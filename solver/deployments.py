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

The vault takes book batches (circuits.book_batch): the circuit's capacities P, F, E, N are
recorded with the deployment. `request_at_vault` builds one the way the solver service does
(solver.settlement): at the oracles' latest spot, time and IV index, governance's rate, carry,
limits and margin, the next nonce, over the vault's book rebuilt from its fill events and every
fill since the last proof; its quotes sit at the policy's floor around the money, on a sample
smile moved to the IV index (so that it lies in governance's band).
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

import prover
from circuits import book_batch as bb
from circuits.merkle import merkle_path
from engine import fixed as fx
from engine import fixed_book as fb
from engine.errors import DLPEError
from engine.fixed_quote import PolicyFixed
from engine.quoting import QuotePolicy
from solver.book_plan import BookSpec, book_expiries, choose_expiries
from solver.pipeline import limits_fixed
from solver.samples import sample_svi
from solver.settlement import BookCapacity, Settlement, quote_at_floor, vault_limits
from verifier_contracts.client import ContractClient, Groth16VerifierClient
from verifier_contracts.devnet import latest_timestamp
from verifier_contracts.generate import verifying_key_sha256
from verifier_contracts.vault import (
    AcceptedBatch,
    IVIndexOracleClient,
    Margins,
    MarketSettings,
    QuoteVaultClient,
    SpotOracleClient,
    TestTokenClient,
    TimelockClient,
    VaultStack,
    compile_vault,
    deploy_vault_stack,
)

LOCAL_DEVNET_CHAIN_ID = 31337
DEFAULT_KEY_ENV = "DLPE_PRIVATE_KEY"
DEFAULT_DEPLOYMENTS = Path("deployments")
_CONTRACTS = ("TestToken", "SpotOracle", "IVIndexOracle", "PoseidonT3", "Groth16Verifier", "TimelockController",
              "QuoteVault")
DEFAULT_MARKET = MarketSettings(rate=fx.to_fixed(0.04), carry=0, spot_tolerance=fx.to_fixed(0.02),
                                iv_band=fx.to_fixed(0.25))
"""Governance's starting market values: 4% rate, no carry, fills within a 2% spot move, ATM vols
within 0.25 of the IV index (all changeable later through the timelock)."""
DEFAULT_MARGINS = Margins(model_margin=fx.ONE, solvency_margin=0)
DEFAULT_IV_INDEX = 0.55
"""The IV index `dlpe oracle-post` posts beside the spot unless told another (a BTC-like level)."""


def book_capacity(quotes: int) -> BookCapacity:
    """The book batch circuit the commands use: the smallest book (P = 4, F = 2, E = 2) and `quotes` quotes."""
    smallest = BookSpec().capacity
    return BookCapacity(smallest.slots, smallest.fills, smallest.expiries, quotes)


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
    slots: int
    fills: int
    expiries: int
    deployer: str
    solver: str
    first_nonce: int
    verifying_key_sha256: str
    verifying_key_setup: str
    contracts: dict[str, dict[str, Any]]
    """name -> {address, block_number, abi}"""

    def address(self, name: str) -> str:
        return self.contracts[name]["address"]

    @property
    def capacity(self) -> BookCapacity:
        return BookCapacity(self.slots, self.fills, self.expiries, self.quotes)

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
           first_nonce: int = 1, market: MarketSettings = DEFAULT_MARKET, margins: Margins = DEFAULT_MARGINS,
           collateral: int = 0) -> tuple[VaultStack, Deployment]:
    """Deploy token, oracles, Poseidon, verifier, timelock and vault (the book batch circuit of
    book_capacity(quotes)) from w3.eth.default_account, with the service's default risk limits;
    then mint `collateral` test tokens to the deployer and deposit them as the LPs' collateral (a
    batch with quotes needs its worst loss covered). The record names every contract and its
    creation block."""
    capacity = book_capacity(quotes)
    deployer = w3.eth.default_account
    start = w3.eth.block_number
    stack = deploy_vault_stack(
        w3, compile_vault(capacity.layout().to_json()), solver=solver or deployer, first_nonce=first_nonce,
        limits=vault_limits(limits_fixed(BookSpec().limits)), market=market, margins=margins,
        book_capacity=capacity.slots, fill_capacity=capacity.fills, verifying_key=vk, quote_path=merkle_path,
    )
    end = w3.eth.block_number
    if collateral:
        stack.token.mint(deployer, collateral)
        stack.token.approve(stack.vault.address, collateral, sender=deployer)
        stack.vault.deposit(collateral, sender=deployer)
    clients = dict(zip(_CONTRACTS, (stack.token, stack.oracle, stack.iv_oracle, stack.poseidon, stack.verifier,
                                    stack.governance, stack.vault)))
    contracts = {
        name: {"address": client.address, "block_number": _creation_block(w3, client.address, start, end),
               "abi": client.abi}
        for name, client in clients.items()
    }
    record = Deployment(
        chain_id=w3.eth.chain_id, quotes=quotes, slots=capacity.slots, fills=capacity.fills,
        expiries=capacity.expiries, deployer=deployer, solver=solver or deployer, first_nonce=first_nonce,
        verifying_key_sha256=verifying_key_sha256(vk), verifying_key_setup=vk.setup, contracts=contracts,
    )
    return stack, record


# -- using a deployment -------------------------------------------------------------------------------


def _require_chain(w3: Web3, deployment: Deployment) -> None:
    if w3.eth.chain_id != deployment.chain_id:
        raise DeploymentError(f"the node's chain id is {w3.eth.chain_id}; the deployment is on {deployment.chain_id}")


def vault_client(w3: Web3, deployment: Deployment) -> QuoteVaultClient:
    _require_chain(w3, deployment)
    return QuoteVaultClient(w3, deployment.address("QuoteVault"),
                            compile_vault(deployment.capacity.layout().to_json()), quote_path=merkle_path)


def oracle_client(w3: Web3, deployment: Deployment) -> SpotOracleClient:
    _require_chain(w3, deployment)
    return SpotOracleClient(w3, deployment.address("SpotOracle"), deployment.contracts["SpotOracle"]["abi"])


def iv_oracle_client(w3: Web3, deployment: Deployment) -> IVIndexOracleClient:
    _require_chain(w3, deployment)
    return IVIndexOracleClient(w3, deployment.address("IVIndexOracle"), deployment.contracts["IVIndexOracle"]["abi"])


def settlement(w3: Web3, deployment: Deployment) -> Settlement:
    """The solver's handle on the recorded stack (solver.settlement), every client from the record."""
    def client(name: str, kind: type = ContractClient) -> Any:
        return kind(w3, deployment.address(name), deployment.contracts[name]["abi"])

    stack = VaultStack(token=client("TestToken", TestTokenClient), oracle=oracle_client(w3, deployment),
                       iv_oracle=iv_oracle_client(w3, deployment), poseidon=client("PoseidonT3"),
                       verifier=client("Groth16Verifier"), vault=vault_client(w3, deployment),
                       governance=client("TimelockController", TimelockClient))
    return Settlement(stack, deployment.solver, deployment.capacity)


def post_spot(w3: Web3, deployment: Deployment, spot: int, iv_index: int | None = None) -> int:
    """Post `spot` (2^-48 units) and, if given, the IV index (2^-48 vol) at the chain's latest block
    time, from the default account (the oracles' owner); returns that time."""
    now = latest_timestamp(w3)
    oracle_client(w3, deployment).post(spot, now)
    if iv_index is not None:
        iv_oracle_client(w3, deployment).post(iv_index, now)
    return now


def smile_at_index(expiry: int, oracle_time: int, iv_index: int) -> fb.ExpirySmile:
    """The sample smile (solver.samples) for `expiry`, its level moved so that its ATM vol is the IV index."""
    t = fb.year_fraction(expiry, oracle_time)
    svi = sample_svi(fx.from_fixed(t))
    target = fx.mul(fx.mul(iv_index, iv_index), t)  # ATM total variance sigma^2 t
    return fb.ExpirySmile(expiry, dataclasses.replace(svi, a=svi.a + target - fb.atm_total_variance(svi)))


def request_at_vault(w3: Web3, deployment: Deployment, expiry: int, *, size: int = fx.ONE,
                     state_salt: int | None = None) -> bb.BookBatchRequest:
    """A book batch for the deployment's circuit (see the module doc), its quotes on `expiry`, each
    of `size` (2^-48 contracts): what the vault will accept if submitted before the oracles move
    and before another fill."""
    handle = settlement(w3, deployment)
    spot, oracle_time = handle.stack.oracle.latest()
    if oracle_time == 0:
        raise DeploymentError("the oracle has no price yet: post one first (dlpe oracle-post)")
    iv_index, iv_time = handle.stack.iv_oracle.latest()
    if iv_time == 0:
        raise DeploymentError("the IV index has no value yet: post one first (dlpe oracle-post --iv)")
    if expiry <= oracle_time:
        raise DeploymentError(f"the expiry {expiry} is not after the oracle's time {oracle_time}")
    book = handle.vault_book()
    try:
        held = book_expiries(book.proven + book.current, oracle_time)
        expiries = choose_expiries(held, [], expiry, deployment.expiries)
        smiles = tuple(smile_at_index(e, oracle_time, iv_index) for e in expiries)
    except (DLPEError, ValueError) as error:
        raise DeploymentError(f"no batch on expiry {expiry}: {error}") from None
    settings = handle.stack.vault.state().market_settings
    market = fb.BookMarket(spot, oracle_time, settings.rate, settings.carry, smiles)
    policy = PolicyFixed.from_policy(QuotePolicy())
    index = expiries.index(expiry)
    n = deployment.quotes
    strikes = [fx.mul(spot, fx.to_fixed(0.9 + 0.2 * (i + 0.5) / n)) for i in range(n)]  # around the money
    quotes = [quote_at_floor(market, book.current, k, index, k >= spot, size, policy) for k in strikes]
    salt = secrets.randbits(128) if state_salt is None else state_salt
    return handle.book_request(smiles, quotes, policy=policy, state_salt=salt)


def submit(w3: Web3, deployment: Deployment, proof: prover.Proof, public: list[int],
           request: bb.BookBatchRequest) -> AcceptedBatch:
    """Publish the policy commitment the proof opens (when the vault holds another) and submit the
    batch, both from the default account (the deployment's solver). `public` is the proof's whole
    public inputs: [state, book before, chain from, chain to, book after, quotes root, packed...];
    `request` the batch request it proves, whose quote elements (the leaves of the quotes root,
    not public inputs) the vault publishes for takers."""
    vault = vault_client(w3, deployment)
    layout = deployment.capacity.layout()
    if len(public) != layout.n_public_inputs:
        raise DeploymentError(f"public.json holds {len(public)} values; this deployment's batches have "
                              f"{layout.n_public_inputs}")
    quotes = bb.quote_elements(request.market, request.quotes)
    root = public[[w.name for w in layout.whole].index("quotes_root")]
    if bb.quotes_root(quotes) != root:
        raise DeploymentError("the request's quotes do not hash to the proof's quotes_root: it proves another request")
    if vault.call("stateCommitment") != public[0]:
        vault.set_state_commitment(public[0], sender=w3.eth.default_account)
    return vault.submit_batch(proof, public[4], root, public[len(layout.whole):], quotes,
                              sender=w3.eth.default_account)


def batch_expiries(deployment: Deployment, public: list[int]) -> list[int]:
    """The expiries a batch's public inputs carry (its packed elements decoded by the layout)."""
    layout = deployment.capacity.layout()
    values = layout.unpack(public[len(layout.whole):])
    return [values[f"expiry{e}_expiry"] for e in range(deployment.expiries)]


def verifier_client(w3: Web3, deployment: Deployment, vk: prover.VerifyingKey) -> ContractClient:
    _require_chain(w3, deployment)
    return Groth16VerifierClient.attach(w3, deployment.address("Groth16Verifier"), vk)
