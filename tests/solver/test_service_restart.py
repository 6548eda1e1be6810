"""Restart safety of `dlpe serve` (issue 12 items 5 and 7): the service is killed at each crash
point of solver.service.failpoints in turn (DLPE_FAILPOINTS: the process exits at once, as a kill
leaves it), and each time started again on the same SQLite file and the same chain. One batch goes
through all four crashes: cut, then killed; queued again and killed mid-proof; proven and
broadcast, then killed before its receipt is stored; settled, then killed after its receipt. Then a kill between
an oracle post and the cut it was for is staged by hand. A last, unharmed start keeps cutting
batches while its node is stopped and started again (anvil keeps its state in a file), so
submissions meet connection errors and are retried.

No batch may be lost and none submitted twice: every batch ends accepted (or, for the one in flight
when the service is stopped, submitted), the vault's nonce advanced by exactly one per batch, and
the chain holds exactly one successful submitBatch transaction per batch, the one the store names.

The chain is an anvil this module starts (the service's own anvil would die with it): the service
is pointed at it with --rpc-url, deploys its vault stack there once and records it in the store,
and every restarted service attaches to the same vault. One scenario rather than one per point:
each start costs ~10 s (imports, keys, a fresh prover worker).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from web3 import HTTPProvider, Web3

from circuits.merkle import merkle_path
from solver.service.failpoints import EXIT_STATUS, POINTS
from solver.book_plan import BookSpec
from solver.service.store import BatchState, JobStore
from tests.solver.service_process import ServiceProcess, free_loopback_port
from verifier_contracts.devnet import ANVIL_HARDFORK, find_anvil
from verifier_contracts.vault import QuoteVaultClient, SpotOracleClient, compile_vault

pytestmark = pytest.mark.skipif(find_anvil() is None, reason="the anvil binary is not installed: run `make install`")

DEVNET_CHAIN_ID = 31337
CRASH_WITHIN_S = 150.0  # the first start of a fresh checkout sets up the circuit's keys
SETTLED_WITHIN_S = 90.0
QUIET = {"cut_interval_s": 3600, "cut_on_move": 1.0, "batch_quotes": 1}  # a start cuts once, when idle
FLOWING = {"cut_interval_s": 2, "batch_quotes": 1}


class PersistentAnvil:
    """anvil on one loopback port, its chain kept in a state file across stop and start (the
    service's URL stays valid). verifier_contracts.devnet.Anvil picks a new port per start."""

    def __init__(self, state_file: Path):
        binary = find_anvil()
        assert binary is not None
        self.port = free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [str(binary), "--host", "127.0.0.1", "--port", str(self.port), "--hardfork", ANVIL_HARDFORK,
                        "--state", str(state_file), "--quiet"]
        self.process: subprocess.Popen | None = None

    def web3(self) -> Web3:
        session = requests.Session()
        session.trust_env = False
        return Web3(HTTPProvider(self.url, session=session, request_kwargs={"timeout": 30}))

    def start(self, timeout_s: float = 30.0) -> None:
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"anvil exited with status {self.process.returncode}"
            if self.web3().is_connected():
                return
            time.sleep(0.05)
        raise AssertionError(f"anvil did not answer on port {self.port} within {timeout_s:.0f} s")

    def stop(self) -> None:
        """SIGTERM: anvil writes its state file on the way out."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PersistentAnvil]:
    anvil = PersistentAnvil(tmp_path_factory.mktemp("anvil") / "state.json")
    anvil.start()
    try:
        yield anvil
    finally:
        anvil.stop()


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


def test_a_batch_survives_a_kill_at_every_crash_point(chain: PersistentAnvil, vault_contracts, tmp_path: Path) -> None:
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
            vault = QuoteVaultClient(w3, addresses["vault"], vault_contracts, quote_path=merkle_path)
        assert addresses["vault"] == vault.address, f"{point}: the restarted service deployed another vault"
        if point == "after_broadcast":
            broadcast_hash = batches[0].tx_hash
            assert broadcast_hash is not None and vault.call("nextNonce") == 2  # on chain, receipt not stored
        elif point == "after_receipt":
            assert batches[0].tx_hash == broadcast_hash  # settled by its receipt, never sent again
        else:
            assert vault.call("nextNonce") == 1

    # killed after posting the oracle and before cutting (no failpoint there: done by hand, as the
    # oracle's owner): the devnet's clock now stands at the posted time and mines nothing by itself
    oracle = SpotOracleClient(w3, addresses["oracle"], vault_contracts.oracle.abi)
    price, _ = oracle.latest()
    posted = w3.eth.get_block("latest")["timestamp"] + 1
    w3.provider.make_request("evm_mine", [posted])  # the post's block shares its timestamp with this one
    w3.provider.make_request("evm_setNextBlockTimestamp", [posted])
    oracle.post(price, posted, sender=w3.eth.accounts[0])
    assert w3.eth.get_block("latest")["timestamp"] == posted == oracle.latest()[1]

    # a last start, unharmed, cutting every 2 s: it lands batch 2 (the chain's clock has to move
    # past that post first) and more while its node is stopped for a while and started again with
    # the same chain
    with ServiceProcess(tmp_path, rpc_url=chain.url, **FLOWING) as restarted:
        restarted.wait_ready()

        def accepted_since(batch_id: int) -> int | None:
            batches = restarted.get("/batches").json()
            return next((b["id"] for b in batches if b["id"] > batch_id and b["state"] == "accepted"), None)

        before_outage = restarted.wait_for("batch 2 accepted", lambda: accepted_since(1), SETTLED_WITHIN_S)
        chain.stop()
        restarted.wait_for("the node's loss seen", lambda: restarted.get("/health").json()["node_ok"] is False or None,
                           30)
        time.sleep(2)  # a few retries with backoff against a dead node
        chain.start()
        restarted.wait_for("a batch accepted after the node came back", lambda: accepted_since(before_outage),
                           SETTLED_WITHIN_S)
        assert restarted.get("/health").json()["node_ok"]
        node_errors = [s.value for f in text_string_to_metric_families(restarted.get("/metrics").text)
                       for s in f.samples if s.name == "dlpe_node_errors_total"]
        assert node_errors and node_errors[0] >= 1
    batches, _ = read_store(db_path)

    # the service was stopped in the middle of its flow: the last batch may be anywhere short of accepted
    settled, in_flight = batches[:-1], batches[-1]
    assert [b.id for b in batches] == list(range(1, len(batches) + 1))
    assert [(b.state, b.nonce, b.error) for b in settled] == [
        (BatchState.ACCEPTED, n, None) for n in range(1, len(settled) + 1)]
    assert in_flight.nonce == len(batches) and in_flight.state is not BatchState.REJECTED
    submitted = submit_batch_transactions(w3, vault)
    assert all(t["status"] == 1 for t in submitted), submitted  # a second submission would revert: nonce taken
    on_chain = [t["hash"] for t in submitted]
    accepted = [b.tx_hash for b in batches if b.state is BatchState.ACCEPTED]
    # one transaction per accepted batch, and at most the in-flight batch's own besides (receipt unread)
    unread = [in_flight.tx_hash] if in_flight.state is BatchState.SUBMITTED else []
    assert sorted(on_chain) in (sorted(accepted), sorted(accepted + unread)), (on_chain, batches)
    assert vault.call("nextNonce") == 1 + len(on_chain)
