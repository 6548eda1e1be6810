"""Prover workers: Groth16 proofs of book batch requests in separate processes, at lower priority.

Quoting never waits on a proof: the scheduler hands a request to a ProverPool and polls the
future. Workers are spawned processes (a fresh interpreter: no forked threads or locks) that
lower their own priority with os.nice at start and load the proving key once.

Keys come from prover.keys_for, saved by circuit fingerprint in the DLPE cache (the demo and the
vault tests share them: the book batch circuit's shape depends only on its capacities). The
workers read them from key_dir/<fingerprint>/keys-<vk sha256>-<code sha256>.pickle, (proving key,
verifying key), written once from those. A changed circuit has a new fingerprint, hence a fresh setup;
a changed prover (the pickled classes' code) a fresh copy. Development keys are for devnets.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import bn254
import prover
from circuits import book_batch as bb
from engine import fixed as fx
from engine import fixed_book as fb
from engine.fixed_quote import PolicyFixed
from engine.quoting import QuotePolicy
from solver.pipeline import BatchLimits, limits_fixed
from solver.samples import sample_svi
from solver.settlement import BookCapacity, book_update_quotes, build_book_batch
from solver.service.store import request_from_json, request_to_json
from verifier_contracts.generate import verifying_key_sha256


@dataclass(frozen=True)
class CircuitKeys:
    fingerprint: str
    path: Path
    proving_key: prover.ProvingKey
    verifying_key: prover.VerifyingKey


SHAPE_TIME = 1_700_000_000
"""The oracle time of shape_request (any will do: values change the witness, not the circuit)."""


def shape_request(capacity: BookCapacity, nonce: int = 1) -> bb.BookBatchRequest:
    """A request of the book batch circuit's shape: an empty book, E monthly expiries on the sample
    smile, N quotes of size 0 (values do not change the circuit, only the witness)."""
    expiries = tuple(fb.ExpirySmile(SHAPE_TIME + 30 * 86_400 * (i + 1), sample_svi()) for i in range(capacity.expiries))
    market = fb.BookMarket(fx.to_fixed(95_000.0), SHAPE_TIME, fx.to_fixed(0.04), 0, expiries)
    policy = PolicyFixed.from_policy(QuotePolicy())
    book = fb.empty_book(capacity.slots)
    return bb.book_batch_request(market, book, (), capacity.fills, 0, 0,
                                 quotes=book_update_quotes(market, book, capacity.quotes, policy), nonce=nonce,
                                 policy=policy, state_salt=1, limits=limits_fixed(BatchLimits()), margin=fx.ONE)


def source_sha256(*roots: Path) -> str:
    """SHA-256 of every .py file under the folders `roots`, with their paths."""
    digest = hashlib.sha256()
    for root in roots:
        for source in sorted(root.rglob("*.py")):
            digest.update(str(source.relative_to(root.parent)).encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def pickled_code_sha256() -> str:
    """The source digest of the packages whose classes a pickled key holds (bn254, prover): a pickle
    written by other code may unpickle into objects the prover no longer understands."""
    return source_sha256(*(Path(package.__file__).parent for package in (bn254, prover)))


def circuit_keys(capacity: BookCapacity, key_dir: Path) -> CircuitKeys:
    """Keys of the book batch circuit of `capacity` (prover.keys_for), and the workers' copy in key_dir."""
    r1cs = build_book_batch(shape_request(capacity)).r1cs
    fingerprint = prover.circuit_fingerprint(r1cs)
    pk, vk, _ = prover.keys_for(r1cs)
    # named by the verifying key and the prover's code too: a cache refilled by a fresh setup, or a
    # prover whose key classes changed, never meets a stale copy
    folder = Path(key_dir).expanduser() / fingerprint
    path = folder / f"keys-{verifying_key_sha256(vk)[:16]}-{pickled_code_sha256()[:16]}.pickle"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("keys-*.pickle"):
            stale.unlink(missing_ok=True)  # copies of this circuit's keys for other keys or code
        partial = path.with_suffix(f".{os.getpid()}.partial")  # two services starting at once write apart
        with open(partial, "wb") as f:
            pickle.dump((pk, vk), f)
        os.replace(partial, path)  # never a half-written key under the final name
    return CircuitKeys(fingerprint, path, pk, vk)


@dataclass(frozen=True)
class ProofResult:
    proof: dict
    public_inputs: list[str]
    witness_seconds: float
    prove_seconds: float
    worker_pid: int


_worker_key: tuple[Path, prover.ProvingKey] | None = None


def _lower_priority(nice: int) -> None:
    os.nice(nice)


def _prove_in_worker(request_json: str, key_path: str) -> ProofResult:
    global _worker_key
    if _worker_key is None or _worker_key[0] != Path(key_path):
        with open(key_path, "rb") as f:
            _worker_key = (Path(key_path), pickle.load(f)[0])
    return prove_request(_worker_key[1], request_json)


def prove_request(proving_key: prover.ProvingKey, request_json: str) -> ProofResult:
    """Witness and Groth16 proof of one book batch request (in whichever worker holds the key)."""
    start = time.perf_counter()
    built = build_book_batch(request_from_json(request_json))
    witness_seconds = time.perf_counter() - start
    start = time.perf_counter()
    proof = prover.prove(proving_key, built.witness)
    return ProofResult(prover.proof_to_json(proof), [str(v) for v in built.public_inputs], witness_seconds,
                       time.perf_counter() - start, os.getpid())


class ProverPool:
    """A pool of spawned prover processes at ``nice`` priority; ``restart`` after a worker died."""

    def __init__(self, workers: int, nice: int, key_path: Path):
        self.workers = workers
        self.nice = nice
        self.key_path = key_path
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"), initializer=_lower_priority,
                                   initargs=(self.nice,))

    def submit(self, request: bb.BookBatchRequest) -> Future:
        return self._pool.submit(_prove_in_worker, request_to_json(request), str(self.key_path))

    def worker_pids(self) -> list[int]:
        return [p.pid for p in (self._pool._processes or {}).values()]  # for operators and fault tests

    def restart(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
