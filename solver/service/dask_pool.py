"""Batches proved on a Dask cluster (``--workers tcp://HOST:PORT``): the scale-out beside the
embedded default, solver.service.proving.ProverPool (local processes).

The proving key goes to each worker once, not with each batch: the pool registers a WorkerPlugin
that carries the key file's bytes (about 45 MB for the smallest book batch circuit); the scheduler hands it to
every worker, including those that join later, and each worker unpickles it once into memory,
keyed by circuit fingerprint. A batch task then carries only its request (a few kB of JSON).

A worker lowers the priority of each executor thread that proves (os.nice applies per thread on
Linux), so that a worker sharing a machine with the service leaves quoting the CPU first.
Workers must have this project installed (the task is solver.service.dask_pool.prove_on_worker)
and the numba kernels compiled (``make install``).

The pool answers the ProverPool interface the scheduler drives (submit -> a future with done()
and result(); restart; close; worker_pids). A task whose workers died (Dask's KilledWorker,
after the scheduler's own retries) or a lost scheduler surfaces as BrokenProcessPool, as a dead
local process does, so the scheduler's retry logic is the same for both pools.

Dask: "Plugins", distributed.diagnostics.plugin.WorkerPlugin; Client.register_plugin.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import uuid
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from distributed import Client, KilledWorker, WorkerPlugin

import prover
from circuits.book_batch import BookBatchRequest
from engine.errors import DLPEError
from solver.service.proving import ProofResult, prove_request
from solver.service.store import request_to_json

log = logging.getLogger("dlpe.dask")

_keys_on_worker: dict[str, prover.ProvingKey] = {}
_niced = threading.local()


class ProvingKeyMissing(DLPEError):
    """A task reached a worker that never received the proving key (the plugin did not run there)."""


class DaskUnavailable(DLPEError):
    """The configured Dask scheduler (setting ``workers``) could not be reached."""


class ProvingKeyPlugin(WorkerPlugin):
    """Carries one circuit's proving key to every worker; ``setup`` unpickles it there once."""

    def __init__(self, fingerprint: str, key_bytes: bytes):
        self.fingerprint = fingerprint
        self.key_bytes = key_bytes
        self.name = f"dlpe-proving-key-{fingerprint[:16]}"

    def setup(self, worker: Any) -> None:
        _keys_on_worker[self.fingerprint] = pickle.loads(self.key_bytes)[0]
        log.info("proving key loaded", extra={"fingerprint": self.fingerprint, "worker": worker.address})


def prove_on_worker(request_json: str, fingerprint: str, nice: int) -> ProofResult:
    """The Dask task: one batch's witness and proof with the key the plugin left on this worker."""
    if not getattr(_niced, "done", False):
        os.nice(nice)  # this executor thread only; the worker's event loop keeps its priority
        _niced.done = True
    key = _keys_on_worker.get(fingerprint)
    if key is None:
        raise ProvingKeyMissing(f"no proving key for circuit {fingerprint[:16]} on this worker")
    return prove_request(key, request_json)


class DaskProof:
    """A proof in flight on the cluster, as the scheduler polls it (done, result)."""

    def __init__(self, future: Any):
        self._future = future

    def done(self) -> bool:
        return self._future.done()

    def result(self) -> ProofResult:
        try:
            return self._future.result()
        except KilledWorker as killed:
            raise BrokenProcessPool(f"the Dask workers proving this batch died: {killed}") from None
        except OSError as lost:  # the scheduler is gone (CommClosedError is an OSError)
            raise BrokenProcessPool(f"the Dask scheduler was lost: {lost}") from None


class DaskProverPool:
    """Proofs on the Dask cluster whose scheduler is at ``address`` (see the module doc)."""

    def __init__(self, address: str, key_path: Path, fingerprint: str, nice: int, *, timeout_s: float = 30.0):
        self.address = address
        self.fingerprint = fingerprint
        self.nice = nice
        try:
            self.client = Client(address, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise DaskUnavailable(f"no Dask scheduler answered at {address} within {timeout_s} s: {error}") from None
        key_bytes = Path(key_path).read_bytes()  # the key file as stored: (proving key, verifying key)
        self.key_bytes = len(key_bytes)
        self.client.register_plugin(ProvingKeyPlugin(fingerprint, key_bytes))
        log.info("dask prover pool ready", extra={"scheduler": address, "key_bytes": self.key_bytes,
                                                   "workers": len(self.client.scheduler_info()["workers"])})

    def submit(self, request: BookBatchRequest) -> DaskProof:
        future = self.client.submit(prove_on_worker, request_to_json(request), self.fingerprint, self.nice,
                                    key=f"prove-{self.fingerprint[:8]}-{uuid.uuid4().hex}", pure=False)
        return DaskProof(future)

    def worker_pids(self) -> list[int]:
        return sorted(self.client.run(os.getpid).values())

    def restart(self) -> None:
        # the cluster's nannies replace dead workers and the plugin reaches the new ones: nothing to rebuild
        log.warning("a Dask proof failed with its workers", extra={"scheduler": self.address})

    def close(self) -> None:
        self.client.close()
