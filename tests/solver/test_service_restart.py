"""Restart safety of `dlpe serve` (issue 12 item 5): the service is killed at each crash point of
solver.service.failpoints in turn (DLPE_FAILPOINTS: the process exits at once, as a kill leaves it),
and each time started again on the same SQLite file and the same chain. One batch goes through
all four crashes: cut, then killed; queued again and killed mid-proof; proven and broadcast, then
killed before its receipt is stored; settled, then killed after its receipt. A last start cuts a
second batch. No batch may be lost and none submitted twice: both end accepted, the vault's nonce
advanced by exactly one per batch, and the chain holds one submitBatch transaction per batch.

The chain is an anvil this module starts (the service's own anvil would die with it): the service
is pointed at it with --rpc-url, deploys its vault stack there once and records it in the store,
and every restarted service attaches to the same vault. Cuts are spaced an hour apart, so a start
cuts only when no batch is unfinished, and once; the chain is quiet when the assertions run.
One scenario rather than one per point: each start costs ~10 s (imports, keys, a fresh prover
worker), and the batch circuit's setup is cached by fingerprint across them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from solver.service.failpoints import EXIT_STATUS, POINTS
from solver.book_plan import BookSpec
from solver.service.store import BatchState, JobStore
from tests.solver.service_process import ServiceProcess
from verifier_contracts.devnet import Anvil, find_anvil
from verifier_contracts.vault import QuoteVaultClient, compile_vault

pytestmark = pytest.mark.skipif(find_anvil() is None, reason="the anvil binary is not installed: run `make install`")

DEVNET_CHAIN_ID = 31337
CRASH_WITHIN_S = 150.0  # the first start of a fresh checkout sets up the circuit's keys
SETTLED_WITHIN_S = 90.0
QUIET = {"cut_interval_s": 3600, "cut_on_move": 1.0, "batch_quotes": 1}


@pytest.fixture(scope="module")
def chain() -> Iterator[Anvil]:
    with Anvil() as anvil:
        yield anvil


@pytest.fixture(scope="module")
def vault_contracts():
    return compile_vault(BookSpec().capacity.layout().to_json())  # the service's default circuit


def read_store(db_path: Path) -> tuple[list, dict[str, str]]:
    """(batches oldest first, the recorded deployment's addresses) from the service's job store."""
    store = JobStore(db_path)
    try:
        batches = sorted(store.recent(1000), key=lambda b: b.id)
        deployment = store.deployment(DEVNET_CHAIN_ID)
    finally:
        store.close()
    assert deployment is not None, "the service recorded no deployment"
    return batches, deployment[0]


def submit_batch_transactions(w3: Web3, vault: QuoteVaultClient) -> list[dict]:
    """Every mined submitBatch transaction to ``vault``, with its receipt's status."""
    found = []
    for number in range(w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["to"] is None or tx["to"].lower() != vault.address.lower():
                continue
            function, args = vault.contract.decode_function_input(tx["input"])
            if function.fn_name == "submitBatch":
                found.append({"hash": "0x" + tx["hash"].hex().removeprefix("0x"), "nonce": tx["nonce"],
                              "status": w3.eth.get_transaction_receipt(tx["hash"])["status"]})
    return found


def test_a_batch_survives_a_kill_at_every_crash_point(chain: Anvil, vault_contracts, tmp_path: Path) -> None:
    assert POINTS == ("after_cut", "mid_proof", "after_broadcast", "after_receipt")  # the order a batch meets them
    db_path = tmp_path / "solver.sqlite"
    w3 = chain.web3()
    vault = None
    broadcast_hash = None
    for point, state_left, attempts in [("after_cut", BatchState.QUEUED, 0), ("mid_proof", BatchState.PROVING, 1),
                                        ("after_broadcast", BatchState.SUBMITTED, 2),
                                        ("after_receipt", BatchState.ACCEPTED, 2)]:
        with ServiceProcess(tmp_path, rpc_url=chain.url, failpoints=point, **QUIET) as crashing:
            status = crashing.wait_exit(CRASH_WITHIN_S)
            if status != EXIT_STATUS:
                raise crashing.fail(f"{point}: expected the failpoint's exit status {EXIT_STATUS}, got {status}")
        batches, addresses = read_store(db_path)
        assert [(b.id, b.state, b.nonce, b.attempts) for b in batches] == [(1, state_left, 1, attempts)], point
        if vault is None:
            vault = QuoteVaultClient(w3, addresses["vault"], vault_contracts)
        assert addresses["vault"] == vault.address, f"{point}: the restarted service deployed another vault"
        if point == "after_broadcast":
            broadcast_hash = batches[0].tx_hash
            assert broadcast_hash is not None and vault.call("nextNonce") == 2  # on chain, receipt not stored
        elif point == "after_receipt":
            assert batches[0].tx_hash == broadcast_hash  # settled by its receipt, never sent again
        else:
            assert vault.call("nextNonce") == 1

    # a last start, unharmed: it cuts, proves and lands batch 2
    with ServiceProcess(tmp_path, rpc_url=chain.url, **QUIET) as restarted:
        restarted.wait_ready()

        def second_settled() -> list | None:
            batches = restarted.get("/batches").json()
            return batches if len(batches) == 2 and batches[0]["state"] in ("accepted", "rejected") else None

        restarted.wait_for("batch 2 settled", second_settled, SETTLED_WITHIN_S)
    batches, _ = read_store(db_path)
    assert [(b.id, b.state, b.nonce, b.error) for b in batches] == [
        (1, BatchState.ACCEPTED, 1, None), (2, BatchState.ACCEPTED, 2, None)]
    assert vault.call("nextNonce") == 3
    submitted = submit_batch_transactions(w3, vault)
    assert sorted(t["hash"] for t in submitted) == sorted(b.tx_hash for b in batches)
    assert all(t["status"] == 1 for t in submitted)
