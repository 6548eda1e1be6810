"""`dlpe deploy / oracle-post / request / prove / submit` over the book vault, on an anvil started here.

The smallest book batch circuit (P = 4, F = 2, E = 2, 1 quote) with its development key (`dlpe
setup`: prover.keys_for, cached by circuit fingerprint). A first batch is requested, proven and
submitted over the empty book; a taker buys half a contract of its quote; the oracles post again
and the next request is built over the vault's book: it carries that fill (rebuilt from the
vault's events), and once submitted the vault's proven fills and book commitment are the proof's.
The CLI's one-line refusals are checked on the way (no IV index yet, a public.json of another
layout, an expiry the batch does not carry). Deployment records go to a temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circuits import book_hash as bh
from engine import fixed as fx
from engine import fixed_book as fb
from solver import deployments as dep
from solver.cli import app
from solver.service.chain import ANVIL_OPERATOR_KEY
from verifier_contracts.devnet import Anvil, find_anvil, latest_timestamp, mine_block_at

pytestmark = pytest.mark.skipif(find_anvil() is None, reason="the anvil binary is not installed: run `make install`")



def run(*args: object, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "240", **(env or {})})


def run_json(*args: object, env: dict[str, str] | None = None) -> dict:
    result = run(*args, "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(*args: object, env: dict[str, str] | None = None) -> str:
    result = run(*args, env=env)
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.strip().splitlines() if line]
    assert len(lines) == 1, result.output
    return lines[0]


def test_deploy_request_prove_submit_then_a_fill_in_the_next_batch(tmp_path: Path) -> None:
    keys, deployments = tmp_path / "keys", tmp_path / "deployments"
    setup = run_json("setup", keys, "--quotes", 1)
    assert setup["development"]
    with Anvil() as anvil:
        w3 = anvil.web3()
        w3.eth.default_account = w3.eth.accounts[1]  # the deployer: anvil unlocks it, so web3 may send for it
        env = {"DLPE_PRIVATE_KEY": ANVIL_OPERATOR_KEY}
        chain = ("--rpc-url", anvil.url, "--deployments", deployments)
        deployed = run_json("deploy", keys, *chain, env=env)
        assert deployed["verifying_key_sha256"] == setup["sha256"]
        assert {"QuoteVault", "IVIndexOracle", "PoseidonT3"} <= set(deployed["contracts"])
        record = dep.Deployment.read(deployments / "31337.json")
        assert (record.slots, record.fills, record.expiries, record.quotes) == (4, 2, 2, 1)
        handle = dep.settlement(w3, record)
        assert handle.stack.vault.state().collateral == 10**15  # the default deposit, 1e9 tUSD

        # the spot alone is not enough: the vault bands every smile against the IV index
        dep.post_spot(w3, record, fx.to_fixed(95_000.0))
        assert "IV index has no value yet" in refused("request", tmp_path / "r.json", *chain)

        mine_block_at(w3, latest_timestamp(w3) + 1)  # each oracle takes strictly newer times only
        run_json("oracle-post", "95000", "--iv", "0.55", *chain, env=env)
        request = run_json("request", tmp_path / "first.json", *chain)
        assert (request["nonce"], request["quotes"], request["fills"]) == (1, 1, 0)
        assert request["expiries"][0] == request["expiry"] and len(request["expiries"]) == 2
        proof, public = tmp_path / "proof.json", tmp_path / "public.json"
        run_json("prove", keys, tmp_path / "first.json", proof, public)
        first = ("--request", tmp_path / "first.json")  # the quote elements: not public inputs
        (tmp_path / "short.json").write_text(json.dumps(json.loads(public.read_text())[:-1]))
        assert "this deployment's batches have" in refused("submit", proof, tmp_path / "short.json", *first, *chain,
                                                           env=env)
        assert "carries expiries" in refused("submit", proof, public, *first, "--expiry", request["expiry"] + 1,
                                             *chain, env=env)
        assert "is not a book batch request" in refused("submit", proof, public, "--request", public, *chain, env=env)
        accepted = run_json("submit", proof, public, *first, "--expiry", request["expiry"], *chain, env=env)
        assert accepted["batch_id"] == 1 and accepted["live"] and len(accepted["quotes"]) == 1
        quote = accepted["quotes"][0]
        assert quote["bid"] < quote["ask"] and quote["size"] == fx.ONE and quote["expiry"] == request["expiry"]

        # a taker buys half a contract: the vault records the fill, unproven until the next batch
        vault, token = handle.stack.vault, handle.stack.token
        taker = w3.eth.accounts[2]
        token.mint(taker, 10**12)
        token.approve(vault.address, 10**12, sender=taker)
        filled = vault.fill(accepted["batch_id"], 0, fx.ONE // 2, 10**12, sender=taker)
        assert filled.premium > 0
        assert (vault.book_state().fill_count, vault.book_state().proven_fills) == (1, 0)

        mine_block_at(w3, latest_timestamp(w3) + 60)
        run_json("oracle-post", "95500", "--iv", "0.55", *chain, env=env)
        second = run_json("request", tmp_path / "second.json", *chain, "--expiry-days", 30)
        assert (second["nonce"], second["fills"]) == (2, 1)
        assert request["expiry"] in second["expiries"]  # the book's series keeps its expiry in the proof
        run_json("prove", keys, tmp_path / "second.json", proof, public)
        # the first request's quotes are not the ones this proof hashed into its quotes_root
        assert "do not hash to the proof's quotes_root" in refused("submit", proof, public, *first, *chain, env=env)
        accepted = run_json("submit", proof, public, "--request", tmp_path / "second.json", *chain, env=env)
        assert accepted["batch_id"] == 2 and accepted["fills_to"] == 1
        book = vault.book_state()
        assert (book.fill_count, book.proven_fills) == (1, 1)
        held = fb.apply_fills(fb.empty_book(4), [fb.Fill(0, quote["is_call"], quote["strike"], quote["expiry"],
                                                         -(fx.ONE // 2))])
        assert book.book_commitment == bh.book_commitment(held) == int(json.loads(public.read_text())[4])
