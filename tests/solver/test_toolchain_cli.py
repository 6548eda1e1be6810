"""The protocol engineer's path through the `dlpe` CLI, on the smallest vault (the book batch of P = 4,
F = 2, E = 2 and 1 quote: ~70k constraints, domain 2^17).

Acceptance (issue 16), once: a 3-party ceremony -> setup from its final key -> export
verifier -> deploy to an anvil started here, signed by a key anvil did not unlock
(funded by a transfer) -> oracle post, request, prove -> submit: the vault accepts;
then `snarkjs groth16 verify` accepts the same proof. Phase 1 is a .ptau written
from a known tau (tests/prover/known_tau_ptau.py): snarkjs takes minutes to make a
power-17 one here, and its phase 1 is exercised in tests/prover/test_ceremony.py.
Deployment records go to a temporary folder, never into the checkout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_account import Account
from typer.main import get_command
from typer.testing import CliRunner

import prover
from solver.cli import app
from solver.deployments import DeploymentError, check_deployable
from tests.prover.known_tau_ptau import write_known_tau_ptau
from tests.prover.sample_circuits import build, multiplication_chain

ROOT = Path(__file__).resolve().parents[2]
SNARKJS = ROOT / "node_modules" / "snarkjs" / "cli.js"
TOOLCHAIN_COMMANDS = [
    ("setup",), ("prove",), ("verify",), ("deploy",), ("oracle-post",), ("request",), ("submit",), ("devnet",),
    ("ceremony", "new"), ("ceremony", "contribute"), ("ceremony", "beacon"), ("ceremony", "verify"),
    ("export", "r1cs"), ("export", "verificationkey"), ("export", "verifier"), ("export", "calldata"),
]


def run(*args: str | Path, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "240", **(env or {})})


def run_json(*args: str | Path, env: dict[str, str] | None = None) -> dict:
    result = run(*args, "--json", env=env)
    assert result.exit_code == 0, f"dlpe {args[:2]}: {result.stderr or result.output}"
    return json.loads(result.stdout)


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("command", TOOLCHAIN_COMMANDS, ids=" ".join)
def test_every_toolchain_command_has_help_with_an_example_and_json(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Example: dlpe " in result.stdout
    assert "--json" in result.stdout


def test_deploy_without_a_signing_key_is_one_line(tmp_path):
    _, vk = prover.setup(build(multiplication_chain(2))[0])
    prover.write_verification_key(vk, tmp_path / "verification_key.json")
    result = run("deploy", tmp_path, "--rpc-url", "http://127.0.0.1:9", env={"DLPE_PRIVATE_KEY": ""})
    assert "set $DLPE_PRIVATE_KEY" in one_line_error(result)


def test_a_private_key_is_never_an_option():
    options = {opt for param in get_command(app).commands["deploy"].params for opt in getattr(param, "opts", [])}
    assert not {"--private-key", "--key"} & options


def test_development_keys_stay_on_devnets_unless_forced():
    dev_key = prover.VerifyingKey(alpha_g1=(1, 2), beta_g2=((0, 0), (0, 0)), gamma_g2=((0, 0), (0, 0)),
                                   delta_g2=((1, 0), (0, 0)), gamma_abc_g1=((1, 2),),
                                   setup=prover.DEVELOPMENT_SETUP)
    check_deployable(dev_key, 31337, force_development_key=False)
    with pytest.raises(DeploymentError, match="chain id 1;.*--unsafe-allow-development-key"):
        check_deployable(dev_key, 1, force_development_key=False)
    check_deployable(dev_key, 1, force_development_key=True)


@pytest.mark.slow
def test_protocol_engineer_path_ceremony_to_accepted_batch(tmp_path):
    if shutil.which("node") is None or not SNARKJS.is_file():
        pytest.skip("node or the pinned snarkjs (make install) is not available")
    from verifier_contracts.devnet import Anvil, find_anvil

    if find_anvil() is None:
        pytest.skip("anvil (make install) is not available")
    ptau = write_known_tau_ptau(tmp_path / "pot17.ptau", 17, tau=0x7E57, alpha=0xA1FA, beta=0xBE7A)
    r1cs, keys, deployments = tmp_path / "circuit.r1cs", tmp_path / "keys", tmp_path / "deployments"
    assert run_json("export", "r1cs", r1cs, "--quotes", 1)["constraints"] > 50_000

    zkeys = [tmp_path / f"circuit_{i:04}.zkey" for i in range(4)]
    run_json("ceremony", "new", r1cs, ptau, zkeys[0])
    for i, name in enumerate(("alice", "bob", "carol")):
        run_json("ceremony", "contribute", zkeys[i], zkeys[i + 1], "--name", name, "-e", f"{name}'s entropy")
    verified = run_json("ceremony", "verify", r1cs, ptau, zkeys[3])
    assert [c["name"] for c in verified["contributions"]] == ["alice", "bob", "carol"]

    setup = run_json("setup", keys, "--quotes", 1, "--zkey", zkeys[3])
    assert not setup["development"]
    verifier = run_json("export", "verifier", keys, tmp_path / "Groth16Verifier.sol")
    assert verifier["sha256"] == setup["sha256"]

    with Anvil() as anvil:
        w3 = anvil.web3()
        deployer = Account.create()
        assert deployer.address not in w3.eth.accounts  # anvil cannot sign for it: only our signer can
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": deployer.address, "value": 10**19})
        env = {"DLPE_PRIVATE_KEY": deployer.key.hex()}
        chain = ("--rpc-url", anvil.url, "--deployments", deployments)
        deployed = run_json("deploy", keys, *chain, env=env)
        assert deployed["deployer"] == deployed["solver"] == deployer.address
        assert deployed["verifying_key_sha256"] == setup["sha256"]
        record = json.loads((deployments / "31337.json").read_text())
        assert record["contracts"]["QuoteVault"]["abi"] and record["contracts"]["QuoteVault"]["block_number"] > 0

        run_json("oracle-post", "95000", *chain, env=env)
        request = run_json("request", tmp_path / "request.json", *chain)
        proof, public = tmp_path / "proof.json", tmp_path / "public.json"
        run_json("prove", keys, tmp_path / "request.json", proof, public)
        accepted = run_json("submit", proof, public, "--request", tmp_path / "request.json", "--expiry",
                            request["expiry"], *chain, env=env)
        assert accepted["batch_id"] == request["nonce"] and len(accepted["quotes"]) == 1

    checked = subprocess.run(["node", str(SNARKJS), "groth16", "verify", keys / "verification_key.json", public, proof],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert checked.returncode == 0 and "OK" in checked.stdout, checked.stdout + checked.stderr
