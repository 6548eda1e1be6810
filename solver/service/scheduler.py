"""The batch scheduler: cuts batches, has them proven, submits them, and reconciles after a restart.

One batch is in flight at a time: the vault accepts nonces in order and binds each proof to the
oracle's latest observation and to every fill it has recorded, so a second batch could only
invalidate the first. A batch is cut when none is in flight and either ``cut_interval_s`` has
passed since the last cut or spot has moved by ``cut_on_move`` (relative) since then. On a devnet
the service posts the feed's spot and IV index to the oracles at the cut; elsewhere it proves
against whatever they hold. The cut is a book batch (solver.book_plan) over the vault's own book:
rebuilt from its fill events, with every fill recorded since the last proof. Before a cut the
operator settles each expiry of the book that the oracle has observed at or after (settleExpiry:
no batch can be proven over a book holding a passed expiry).

Each ``step`` drives the batch in flight one transition further (solver.service.store):
  queued     still valid (oracle unchanged, vault expects its nonce, no fill since)? to a prover worker
  proving    the worker's result: proved; a dead worker: the pool restarts and the batch is
             queued again (at most ``prove_attempts`` times)
  proved     still valid? set the vault's state commitment if it differs, sign submitBatch, store the
             hash and raw bytes (SUBMITTED), then broadcast
  submitted  the receipt decides accepted or rejected; without one, a node that has forgotten the
             transaction (restarted) gets the same signed bytes again: same nonce, so never twice
A batch that is no longer valid is rejected with the reason, and the next cut replaces it. Node
errors (connection refused, timeouts) leave the state as it is and are retried with exponential
backoff. ``recover`` at start puts interrupted proofs back in the queue; everything else
resumes from its stored state.
"""

from __future__ import annotations

import logging
import secrets
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

import requests
from web3.exceptions import TimeExhausted, Web3RPCError

import prover
from circuits.book_batch import quote_elements
from engine import fixed as fx
from engine.errors import DLPEError
from engine.risk import Portfolio
from solver.book_plan import BookSpec, plan_book_batch
from solver.pipeline import NothingToBatch, PipelineConfig, QuoteSet
from solver.service.chain import DEVNET_CHAIN_ID, Chain, OperatorSender, TransactionRejected
from solver.service.failpoints import failpoint
from solver.service.metrics import ServiceMetrics
from solver.service.proving import ProverPool
from solver.service.store import BatchRecord, BatchState, JobStore
from verifier_contracts.client import ContractReverted
from verifier_contracts.vault import QuoteVaultClient

log = logging.getLogger("dlpe.scheduler")

NODE_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, TimeExhausted, Web3RPCError, OSError)


class BatchScheduler:
    def __init__(self, *, store: JobStore, pool: ProverPool, chain: Chain, spec: BookSpec, config: PipelineConfig,
                 latest_quotes: Callable[[], QuoteSet | None], book: Callable[[], Portfolio], metrics: ServiceMetrics,
                 cut_interval_s: float, cut_on_move: float, prove_attempts: int, backoff_s: float,
                 backoff_max_s: float, receipt_timeout_s: float):
        self.store, self.pool, self.chain, self.spec, self.config = store, pool, chain, spec, config
        self.sender = OperatorSender(chain)
        self.latest_quotes, self.book, self.metrics = latest_quotes, book, metrics  # book: the pipeline's Portfolio
        self.cut_interval_s, self.cut_on_move = cut_interval_s, cut_on_move
        self.prove_attempts = prove_attempts
        self.backoff_s, self.backoff_max_s, self.receipt_timeout_s = backoff_s, backoff_max_s, receipt_timeout_s
        self._futures: dict[int, Future] = {}
        self._last_cut: tuple[float, float] | None = None  # (monotonic time, spot)
        self._failures = 0
        self.node_ok = True

    # -- the loop

    def recover(self) -> None:
        """After a restart: interrupted proofs go back to the queue; the rest resumes as stored."""
        for batch in self.store.unfinished():
            if batch.state is BatchState.PROVING:
                self._move(batch, BatchState.QUEUED)
                log.info("proof interrupted by a restart: queued again", extra={"batch": batch.id})

    def run(self, stop: Callable[[], bool], period_s: float = 0.1) -> None:
        """Step until ``stop()``; an unexpected error is logged with its trace and retried after a
        backoff, so the loop outlives it (the batch's stored state is unchanged)."""
        while not stop():
            try:
                delay = self.step()
            except Exception:
                self.metrics.scheduler_errors.inc()
                log.exception("scheduler step failed: retrying")
                delay = self.backoff_max_s
            time.sleep(delay if delay else period_s)

    def step(self) -> float:
        """One transition of the batch in flight, or a cut; returns the seconds to wait (backoff)."""
        try:
            unfinished = self.store.unfinished()
            if unfinished:
                self._drive(unfinished[0])
            else:
                self._maybe_cut()
        except ContractReverted as reverted:  # e.g. the oracle refused a post: nothing changed on chain
            log.warning("contract call reverted: retrying", extra={"error": str(reverted)})
            return self.backoff_s
        except NODE_ERRORS as error:
            self._failures += 1
            self.node_ok = False
            self.metrics.node_errors.inc()
            delay = min(self.backoff_s * 2 ** (self._failures - 1), self.backoff_max_s)
            log.warning("node error: retrying", extra={"error": str(error)[:300], "retry_in_s": delay})
            return delay
        self._failures = 0
        self.node_ok = True
        return 0.0

    def _move(self, batch: BatchRecord, state: BatchState, **fields) -> None:
        self.store.update(batch.id, state, **fields)
        self.metrics.batches.labels(state.value).inc()
        log.info("batch state", extra={"batch": batch.id, "nonce": batch.nonce, "state": state.value,
                                       **({"error": fields["error"]} if fields.get("error") else {})})

    # -- cutting

    def _maybe_cut(self) -> None:
        quotes = self.latest_quotes()
        if quotes is None or quotes.withheld is not None or quotes.spot is None:
            return
        spot = quotes.spot
        if self._last_cut is not None:
            elapsed = time.monotonic() - self._last_cut[0]
            moved = abs(spot / self._last_cut[1] - 1.0)
            if elapsed < self.cut_interval_s and moved < self.cut_on_move:
                return
        oracle = self.chain.oracle
        if self.chain.posts_oracle:
            _, posted = oracle.latest()
            # the oracle takes no timestamp after the chain's clock, which may lag the feed's
            chain_time = self.chain.w3.eth.get_block("latest")["timestamp"]
            observed = min(int(quotes.timestamp), chain_time)
            if observed <= posted:  # the oracle wants strictly newer timestamps
                if chain_time <= posted and self.chain.chain_id == DEVNET_CHAIN_ID and time.time() >= posted + 1:
                    # a devnet mines only when sent a transaction, so after a post that led to no
                    # batch (killed or a node error before the cut, nothing to batch) its clock
                    # would stay at the post for good: an empty block moves it on
                    self.chain.w3.provider.make_request("evm_mine", [])
                return
            oracle.post(fx.to_fixed(spot), observed)
            self.chain.stack.iv_oracle.post(fx.to_fixed(quotes.snapshot.iv_index.value), observed)
        self._last_cut = (time.monotonic(), spot)
        self._settle_passed_expiries()
        try:
            plan = plan_book_batch(quotes, self.chain.settlement, spec=self.spec, config=self.config,
                                   state_salt=secrets.randbits(128))
        except NothingToBatch as why:
            log.info("no batch cut", extra={"reason": str(why)})
            return
        except DLPEError as error:
            self.metrics.cut_failures.inc()
            log.warning("batch could not be planned", extra={"error": str(error)})
            return
        request = plan.request
        batch_id = self.store.add(request, plan.expiry, list(plan.instruments))
        self.metrics.batches.labels(BatchState.QUEUED.value).inc()
        log.info("batch cut", extra={"batch": batch_id, "nonce": request.nonce, "quotes": len(request.quotes),
                                     "fills": request.fills_to - request.fills_from})
        failpoint("after_cut")

    def _settle_passed_expiries(self) -> None:
        """Settle every expiry of the vault's book that the oracle has observed at or after (anyone may;
        the operator does, since no batch can be proven over a book holding a passed expiry). One the
        vault refuses (its observation outside the settlement window, or the fill capacity full) is
        logged and left: the next cut tries again."""
        for expiry, index in self.chain.settlement.settleable_expiries():
            try:
                tx_hash, raw, _ = self.sender.sign(self.chain.vault, "settleExpiry", expiry, index)
            except TransactionRejected as refused:
                log.warning("expiry not settled", extra={"expiry": expiry, "observation": index, "error": str(refused)})
                continue
            self.sender.broadcast(raw)
            receipt = self.chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout_s)
            log.info("expiry settled", extra={"expiry": expiry, "observation": index, "status": receipt["status"],
                                              "gas": receipt["gasUsed"]})

    # -- driving one batch

    def _drive(self, batch: BatchRecord) -> None:
        if batch.state is BatchState.QUEUED:
            stale = self._stale(batch)
            if stale:
                self._move(batch, BatchState.REJECTED, error=stale)
                return
            try:
                future = self.pool.submit(batch.request)
            except BrokenProcessPool:  # a worker died while idle: the pool takes no work until restarted
                self.pool.restart()
                self.metrics.worker_restarts.inc()
                log.warning("prover pool broken while idle: restarted", extra={"batch": batch.id})
                future = self.pool.submit(batch.request)
            self._futures[batch.id] = future
            self._move(batch, BatchState.PROVING, attempts=batch.attempts + 1,
                       timings={**batch.timings, "queued_s": time.time() - batch.created})
            failpoint("mid_proof")
        elif batch.state is BatchState.PROVING:
            self._collect_proof(batch)
        elif batch.state is BatchState.PROVED:
            self._submit(batch)
        elif batch.state is BatchState.SUBMITTED:
            self._settle(batch)

    def _collect_proof(self, batch: BatchRecord) -> None:
        future = self._futures.get(batch.id)
        if future is None:  # the process that started the proof is gone
            self._move(batch, BatchState.QUEUED)
            return
        if not future.done():
            return
        del self._futures[batch.id]
        try:
            result = future.result()
        except BrokenProcessPool:
            self.pool.restart()
            self.metrics.worker_restarts.inc()
            if batch.attempts < self.prove_attempts:
                log.warning("prover worker died: proof queued again", extra={"batch": batch.id})
                self._move(batch, BatchState.QUEUED)
            else:
                self._move(batch, BatchState.REJECTED, error=f"prover worker died {batch.attempts} times")
            return
        except DLPEError as error:  # e.g. the request does not satisfy the circuit
            self._move(batch, BatchState.REJECTED, error=f"proof failed: {error}")
            return
        except Exception as error:  # the worker raised something else: its future is spent, so
            # leaving the batch in PROVING would re-queue it without end, past prove_attempts
            log.exception("prover worker raised", extra={"batch": batch.id})
            self._move(batch, BatchState.REJECTED, error=f"proof failed: {type(error).__name__}: {error}")
            return
        self.metrics.prove_seconds.observe(result.prove_seconds)
        self._move(batch, BatchState.PROVED, proof=result.proof, public_inputs=result.public_inputs,
                   timings={**batch.timings, "witness_s": result.witness_seconds, "prove_s": result.prove_seconds})

    def _stale(self, batch: BatchRecord) -> str | None:
        """Why the batch can no longer be accepted, or None."""
        request = batch.request
        spot, oracle_time = self.chain.oracle.latest()
        if (spot, oracle_time) != (request.market.spot, request.market.now):
            return "the oracle has posted since the batch was cut"
        now = self.chain.w3.eth.get_block("latest")["timestamp"]
        max_age = self.chain.vault.call("oracleSettings")[0]
        _, iv_time = self.chain.stack.iv_oracle.latest()
        for name, observed in (("oracle", oracle_time), ("IV index", iv_time)):
            if now - observed > max_age:
                return f"the {name}'s observation is {now - observed} s old"
        next_nonce = self.chain.vault.call("nextNonce")
        if next_nonce != batch.nonce:
            return f"the vault expects nonce {next_nonce}, the batch carries {batch.nonce}"
        book = self.chain.vault.book_state()
        if (book.proven_fills, book.fill_count) != (request.fills_from, request.fills_to):
            return (f"the vault holds fills {book.proven_fills}..{book.fill_count}, the batch proves "
                    f"{request.fills_from}..{request.fills_to}")
        return None

    def _submit(self, batch: BatchRecord) -> None:
        stale = self._stale(batch)
        if stale:
            self._move(batch, BatchState.REJECTED, error=stale)
            return
        # [state commitment, book before, chain from, chain to, book after, quotes root, packed...]: the
        # vault assembles the first four itself; the quote elements (the root's leaves) come from the request
        public = [int(v) for v in batch.public_inputs or []]
        state_commitment, book_after, quotes_root, packed = public[0], public[4], public[5], public[6:]
        quotes = quote_elements(batch.request.market, batch.request.quotes)
        vault = self.chain.vault
        start = time.time()
        try:
            if vault.call("stateCommitment") != state_commitment:
                tx_hash, raw, _ = self.sender.sign(vault, "setStateCommitment", state_commitment)
                self.sender.broadcast(raw)
                receipt = self.chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout_s)
                if receipt["status"] != 1:
                    self._move(batch, BatchState.REJECTED, error="setStateCommitment failed on chain")
                    return
            args = QuoteVaultClient.submit_arguments(prover.proof_from_json(batch.proof), book_after, quotes_root,
                                                     packed, quotes)
            tx_hash, raw, tx_nonce = self.sender.sign(vault, "submitBatch", *args)
        except TransactionRejected as refused:
            self._move(batch, BatchState.REJECTED, error=str(refused))
            return
        self._move(batch, BatchState.SUBMITTED, tx_hash=tx_hash, raw_tx=raw, tx_nonce=tx_nonce,
                   timings={**batch.timings, "sign_s": time.time() - start})
        self.sender.broadcast(raw)
        failpoint("after_broadcast")

    def _settle(self, batch: BatchRecord) -> None:
        assert batch.tx_hash is not None and batch.raw_tx is not None
        receipt = self.sender.receipt(batch.tx_hash)
        if receipt is None:
            if not self.sender.known(batch.tx_hash):
                try:
                    self.sender.broadcast(batch.raw_tx)  # the same signed bytes: the same nonce, never a second tx
                except TransactionRejected as refused:
                    self._move(batch, BatchState.REJECTED, error=f"not mined and cannot be resent: {refused}")
                    return
                log.info("transaction resent", extra={"batch": batch.id, "tx": batch.tx_hash})
            receipt = self.chain.w3.eth.wait_for_transaction_receipt(batch.tx_hash, timeout=self.receipt_timeout_s)
        timings = {**batch.timings, "submit_s": time.time() - batch.updated}
        if receipt["status"] == 1:
            self._move(batch, BatchState.ACCEPTED, gas_used=receipt["gasUsed"], block_number=receipt["blockNumber"],
                       timings=timings)
            self.metrics.submit_gas.set(receipt["gasUsed"])
            failpoint("after_receipt")
        else:
            self._move(batch, BatchState.REJECTED, gas_used=receipt["gasUsed"], block_number=receipt["blockNumber"],
                       error="submitBatch reverted on chain", timings=timings)
