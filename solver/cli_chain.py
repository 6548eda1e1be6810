"""`dlpe deploy`, `oracle-post`, `request`, `submit` and `devnet`: the vault on a chain, foundry-style.

    export DLPE_PRIVATE_KEY=0x...                  (or --keystore FILE with its password in an env var)
    dlpe deploy --rpc-url URL keys/                (forge create; writes deployments/<chain-id>.json)
    dlpe oracle-post --rpc-url URL 95000 --iv 0.55 (cast send SpotOracle post, IVIndexOracle post)
    dlpe request --rpc-url URL --expiry-days 30 request.json   (a book batch over the vault's book)
    dlpe prove keys/ request.json proof.json public.json
    dlpe submit --rpc-url URL --request request.json proof.json public.json
    dlpe devnet                                    (anvil + everything deployed, until Ctrl-C)

The private key is never a command-line argument: it would stay in the shell's
history and in `ps` for everyone on the machine.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import typer

from solver.cli_base import JSON_HELP, fail, print_json, read_book_request

RPC_HELP = "the node's JSON-RPC URL (e.g. http://127.0.0.1:8545)"
KEY_ENV_HELP = "environment variable holding the signer's hex private key"
KEYSTORE_HELP = "an encrypted keystore file (web3 secret storage) instead of --key-env"
PASSWORD_ENV_HELP = "environment variable holding the keystore's password"
DEPLOYMENTS_HELP = "folder of deployment records, <chain-id>.json (git-ignored)"


def _signer(key_env: str, keystore: Path | None, password_env: str):
    from solver.deployments import DeploymentError, load_signer

    try:
        return load_signer(key_env=key_env, keystore=keystore, password_env=password_env)
    except DeploymentError as error:
        fail(str(error))


def _connect(rpc_url: str, signer=None):
    from solver.deployments import DeploymentError, connect

    try:
        return connect(rpc_url, signer)
    except DeploymentError as error:
        fail(str(error))


def _deployment(path: Path | None, deployments: Path, chain_id: int):
    from solver.deployments import Deployment, DeploymentError

    try:
        return Deployment.read(path or deployments / f"{chain_id}.json")
    except DeploymentError as error:
        fail(str(error))


def _guarded(call, *args, **kwargs):
    from solver.deployments import DeploymentError

    try:
        return call(*args, **kwargs)
    except DeploymentError as error:
        fail(str(error))


def deploy(
    key: Path = typer.Argument(..., help="the verifying key: a `dlpe setup` folder, verification_key.json or .zkey"),
    rpc_url: str = typer.Option(..., "--rpc-url", help=RPC_HELP),
    key_env: str = typer.Option("DLPE_PRIVATE_KEY", "--key-env", help=KEY_ENV_HELP),
    keystore: Path | None = typer.Option(None, "--keystore", help=KEYSTORE_HELP),
    password_env: str = typer.Option("DLPE_KEYSTORE_PASSWORD", "--password-env", help=PASSWORD_ENV_HELP),
    quotes: int = typer.Option(1, min=1, help="quotes per batch (the circuit the key was made for)"),
    solver: str | None = typer.Option(None, help="the address allowed to submit batches (default: the deployer)"),
    deposit: float = typer.Option(1e9, min=0, help="test tokens the deployer mints and deposits as the LPs' "
                                                  "collateral (a batch with quotes needs its worst loss covered)"),
    deployments: Path = typer.Option(Path("deployments"), help=DEPLOYMENTS_HELP),
    unsafe_allow_development_key: bool = typer.Option(
        False, "--unsafe-allow-development-key",
        help="deploy a development key on a chain other than a local devnet (31337): UNSAFE, whoever ran its "
             "setup can forge proofs the verifier accepts, so anyone's funds in the vault can be taken"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Deploy token, oracles, verifier, timelock and vault (forge create), signed locally; deposit collateral."""
    from solver.cli_toolchain import read_any_verifying_key
    from solver import deployments as dep

    vk = read_any_verifying_key(key)
    signer = _signer(key_env, keystore, password_env)
    w3 = _connect(rpc_url, signer)
    chain_id = w3.eth.chain_id
    _guarded(dep.check_deployable, vk, chain_id, force_development_key=unsafe_allow_development_key)
    _, record = dep.deploy(w3, vk, quotes=quotes, solver=solver, collateral=round(deposit * 10**6))
    path = record.write(deployments)
    if as_json:
        print_json({"deployment": str(path), "chain_id": chain_id, "deployer": record.deployer,
                    "solver": record.solver, "verifying_key_sha256": record.verifying_key_sha256,
                    "contracts": {n: {k: c[k] for k in ("address", "block_number")} for n, c in record.contracts.items()}})
        return
    for name, contract in record.contracts.items():
        typer.echo(f"{name:20} {contract['address']}  (block {contract['block_number']})")
    typer.echo(f"wrote {path} (chain {chain_id}, key {record.verifying_key_sha256[:16]}…, {vk.setup})")


def oracle_post(
    spot: float = typer.Argument(..., help="the spot price, in the currency of the quotes (> 0)"),
    iv: float = typer.Option(0.55, "--iv", help="the implied-vol index posted at the same time (> 0, 0.55 = 55%)"),
    rpc_url: str = typer.Option(..., "--rpc-url", help=RPC_HELP),
    key_env: str = typer.Option("DLPE_PRIVATE_KEY", "--key-env", help=KEY_ENV_HELP),
    keystore: Path | None = typer.Option(None, "--keystore", help=KEYSTORE_HELP),
    password_env: str = typer.Option("DLPE_KEYSTORE_PASSWORD", "--password-env", help=PASSWORD_ENV_HELP),
    deployment: Path | None = typer.Option(None, help="the deployment record (default deployments/<chain-id>.json)"),
    deployments: Path = typer.Option(Path("deployments"), help=DEPLOYMENTS_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Post a spot price and the IV index to the deployment's oracles at the chain's time (their owner signs)."""
    from engine import fixed as fx
    from solver import deployments as dep

    if not spot > 0:
        fail(f"the spot price must be > 0, got {spot}")
    if not 0 < iv <= 10:
        fail(f"--iv must be in (0, 10], got {iv}")
    w3 = _connect(rpc_url, _signer(key_env, keystore, password_env))
    record = _deployment(deployment, deployments, w3.eth.chain_id)
    timestamp = _guarded(dep.post_spot, w3, record, fx.to_fixed(spot), fx.to_fixed(iv))
    if as_json:
        print_json({"spot": spot, "iv": iv, "timestamp": timestamp})
    else:
        typer.echo(f"posted spot {spot} and IV index {iv} at {timestamp}")


def request(
    out: Path = typer.Argument(Path("request.json"), help="where to write the batch request"),
    rpc_url: str = typer.Option(..., "--rpc-url", help=RPC_HELP),
    expiry_days: float = typer.Option(30.0, help="the quoted options' expiry, in days after the oracle's time (> 0)"),
    size: float = typer.Option(1.0, help="contracts each quote offers either way (> 0; on the 2^-12 grid)"),
    deployment: Path | None = typer.Option(None, help="the deployment record (default deployments/<chain-id>.json)"),
    deployments: Path = typer.Option(Path("deployments"), help=DEPLOYMENTS_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """A book batch over the vault's book at its oracles' latest values and next nonce (to prove, then submit)."""
    from engine import fixed as fx
    from solver import deployments as dep
    from solver.service.store import request_to_json
    from solver.settlement import on_size_grid

    if not expiry_days > 0:
        fail(f"--expiry-days must be > 0, got {expiry_days}")
    if not size > 0 or on_size_grid(fx.to_fixed(size)) != fx.to_fixed(size):
        fail(f"--size must be > 0 and a multiple of 2^-12 contracts, got {size}")
    w3 = _connect(rpc_url)
    record = _deployment(deployment, deployments, w3.eth.chain_id)
    _, oracle_time = _guarded(dep.oracle_client, w3, record).latest()
    expiry = oracle_time + round(expiry_days * 86_400)
    batch = _guarded(dep.request_at_vault, w3, record, expiry, size=fx.to_fixed(size))
    out.write_text(request_to_json(batch))
    summary = {"request": str(out), "expiry": expiry, "expiries": [e.expiry for e in batch.market.expiries],
               "nonce": batch.nonce, "quotes": len(batch.quotes), "fills": batch.fills_to - batch.fills_from}
    if as_json:
        print_json(summary)
    else:
        typer.echo(f"wrote {out}: nonce {batch.nonce}, {len(batch.quotes)} quote(s) on expiry {expiry}, "
                   f"{summary['fills']} fill(s) since the last proof")


def submit(
    proof: Path = typer.Argument(..., help="proof.json (dlpe prove)"),
    public: Path = typer.Argument(..., help="public.json (dlpe prove)"),
    request: Path = typer.Option(..., "--request", help="the request proven (dlpe request): its quote elements, "
                                                        "which are not public inputs, are published for takers"),
    expiry: int | None = typer.Option(None, help="if given: the expiry the batch must carry (Unix seconds, "
                                                 "printed by dlpe request), checked before sending"),
    rpc_url: str = typer.Option(..., "--rpc-url", help=RPC_HELP),
    key_env: str = typer.Option("DLPE_PRIVATE_KEY", "--key-env", help=KEY_ENV_HELP),
    keystore: Path | None = typer.Option(None, "--keystore", help=KEYSTORE_HELP),
    password_env: str = typer.Option("DLPE_KEYSTORE_PASSWORD", "--password-env", help=PASSWORD_ENV_HELP),
    deployment: Path | None = typer.Option(None, help="the deployment record (default deployments/<chain-id>.json)"),
    deployments: Path = typer.Option(Path("deployments"), help=DEPLOYMENTS_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Submit a proven book batch to the deployed vault, as its solver (publishing the policy commitment it opens)."""
    import prover
    from solver import deployments as dep

    batch = read_book_request(request)
    w3 = _connect(rpc_url, _signer(key_env, keystore, password_env))
    record = _deployment(deployment, deployments, w3.eth.chain_id)
    inputs = prover.read_public(public)
    if expiry is not None:
        carried = _guarded(dep.batch_expiries, record, inputs)
        if expiry not in carried:
            fail(f"the batch in {public} carries expiries {carried}, not {expiry}")
    accepted = _guarded(dep.submit, w3, record, prover.read_proof(proof), inputs, batch)
    quotes = [{"expiry": q.expiry, "strike": q.strike, "is_call": q.is_call, "bid": q.bid, "ask": q.ask,
               "size": q.size} for q in accepted.quotes]
    if as_json:
        print_json({"batch_id": accepted.batch_id, "gas_used": accepted.gas_used, "live": accepted.live,
                    "fills_to": accepted.fills_to, "worst_loss": accepted.worst_loss,
                    "valid_until": accepted.valid_until, "quotes": quotes})
        return
    typer.echo(f"batch {accepted.batch_id} accepted ({accepted.gas_used:,} gas), {len(quotes)} quote(s), "
               f"valid until {accepted.valid_until}")


def devnet(
    keys: Path | None = typer.Argument(None, help="a `dlpe setup` folder (default: the development key)"),
    quotes: int = typer.Option(1, min=1, help="quotes per batch"),
    spot: float = typer.Option(95_000.0, help="the spot price the oracle starts with"),
    iv: float = typer.Option(0.55, "--iv", help="the IV index the vol oracle starts with"),
    deployments: Path = typer.Option(Path("deployments"), help=DEPLOYMENTS_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the RPC URL and addresses as one JSON line"),
) -> None:
    """Start anvil, deploy everything (1e9 tUSD of collateral deposited), post spot and IV index, and stay up
    (printing the RPC URL and addresses) until Ctrl-C (anvil)."""
    import json

    import prover
    from engine import fixed as fx
    from solver import deployments as dep
    from solver.cli_toolchain import _batch_r1cs, read_any_verifying_key
    from verifier_contracts.devnet import Anvil

    vk = read_any_verifying_key(keys) if keys is not None else prover.keys_for(_batch_r1cs(quotes))[1]
    if not spot > 0 or not 0 < iv <= 10:
        fail(f"the spot must be > 0 and --iv in (0, 10], got {spot} and {iv}")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with Anvil() as anvil:
        w3 = anvil.web3()
        _, record = dep.deploy(w3, vk, quotes=quotes, collateral=10**15)
        dep.post_spot(w3, record, fx.to_fixed(spot), fx.to_fixed(iv))
        path = record.write(deployments)
        addresses = {name: c["address"] for name, c in record.contracts.items()}
        if as_json:
            typer.echo(json.dumps({"rpc_url": anvil.url, "chain_id": record.chain_id, "deployment": str(path),
                                   "accounts": w3.eth.accounts[:1], "contracts": addresses}))
        else:
            typer.echo(f"anvil at {anvil.url} (chain {record.chain_id}); deployed from {w3.eth.accounts[0]}")
            for name, address in addresses.items():
                typer.echo(f"{name:20} {address}")
            typer.echo(f"wrote {path}; Ctrl-C stops anvil")
        stop.wait()


def register(app: typer.Typer) -> None:
    """Add the chain commands to the `dlpe` app."""
    app.command("deploy", epilog="Example: dlpe deploy --rpc-url http://127.0.0.1:8545 keys/ with the signer's key "
                                 "in $DLPE_PRIVATE_KEY or --keystore FILE (writes deployments/<chain-id>.json: addresses, ABIs, creation blocks, the key's "
                                 "sha256). JSON keys: deployment, chain_id, deployer, solver, verifying_key_sha256, "
                                 "contracts {name: {address, block_number}}.")(deploy)
    app.command("oracle-post", epilog="Example: dlpe oracle-post --rpc-url http://127.0.0.1:8545 95000 --iv 0.55. "
                                      "JSON keys: spot, iv, timestamp.")(oracle_post)
    app.command("request", epilog="Example: dlpe request --rpc-url http://127.0.0.1:8545 --expiry-days 30 "
                                  "request.json. JSON keys: request, expiry, expiries, nonce, quotes, fills.")(request)
    app.command("submit", epilog="Example: dlpe submit --rpc-url http://127.0.0.1:8545 --request request.json "
                                 "proof.json public.json. JSON "
                                 "keys: batch_id, gas_used, live, fills_to, worst_loss, valid_until, quotes "
                                 "[{expiry, strike, is_call, bid, ask, size}] (2^-48 fixed point).")(submit)
    app.command("devnet", epilog="Example: dlpe devnet (then: cast call <QuoteVault> 'nextNonce()' --rpc-url <url>). "
                                 "JSON (--json, one line): rpc_url, chain_id, deployment, accounts, "
                                 "contracts {name: address}.")(devnet)
