"""Prover workers: Groth16 proofs of batch requests in separate processes, at lower priority.

Quoting never waits on a proof: the scheduler hands a request to a ProverPool and polls the
future. Workers are spawned processes (a fresh interpreter: no forked threads or locks) that
lower their own priority with os.nice at start and load the proving key once.

Keys are cached on disk by circuit fingerprint, the sha256 of the circuit's iden3 .r1cs bytes:
key_dir/<fingerprint>/keys.pickle holds (proving key, verifying key) of a development setup. A
changed circuit has a new fingerprint, hence a fresh setup. Development keys are for devnets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import prover
from bn254.iden3 import r1cs_bytes
from circuits.batch import BatchRequest, batch_circuit
from circuits.builder import ConstraintSystem
from engine.fixed_risk import PositionFixed
from solver.samples import sample_batch_request
from solver.settlement import build_batch
from solver.service.store import request_from_json, request_to_json


@dataclass(frozen=True)
class CircuitKeys:
    fingerprint: str
    path: Path
    proving_key: prover.ProvingKey
    verifying_key: prover.VerifyingKey


def shape_request(n_quotes: int, n_positions: int) -> BatchRequest:
    """A request of the batch circuit's shape (values do not change the circuit, only the witness)."""
    empty = PositionFixed(0, 0, 0, 0)
    return dataclasses.replace(sample_batch_request(n_quotes), positions=(empty,) * n_positions)


def circuit_keys(n_quotes: int, n_positions: int, key_dir: Path) -> CircuitKeys:
    """Keys of the (n_quotes, n_positions) batch circuit: read from key_dir by fingerprint, or set up and stored."""
    cs = ConstraintSystem()
    batch_circuit(cs, shape_request(n_quotes, n_positions))
    r1cs = cs.to_r1cs()
    fingerprint = hashlib.sha256(r1cs_bytes(r1cs)).hexdigest()
    path = Path(key_dir).expanduser() / fingerprint / "keys.pickle"
    if path.is_file():
        with open(path, "rb") as f:
            pk, vk = pickle.load(f)
    else:
        pk, vk = prover.setup(r1cs)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
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
    """Witness and Groth16 proof of one batch request (in whichever worker holds the key)."""
    start = time.perf_counter()
    built = build_batch(request_from_json(request_json))
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

    def submit(self, request: BatchRequest) -> Future:
        return self._pool.submit(_prove_in_worker, request_to_json(request), str(self.key_path))

    def worker_pids(self) -> list[int]:
        return [p.pid for p in (self._pool._processes or {}).values()]  # for operators and fault tests

    def restart(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
