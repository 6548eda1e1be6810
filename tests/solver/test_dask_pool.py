"""Batches proved on a Dask cluster: a LocalCluster of one worker process with one thread gets the
proving key once, through the plugin, and proves two book batches of the smallest circuit (P = 4,
F = 2, E = 2, 1 quote) whose proofs verify; the
worker is killed during the second, and its replacement (started by the nanny, given the key by
the plugin) proves it."""

from __future__ import annotations

import os
import signal
import time

import pytest
from distributed import LocalCluster

import prover
from bn254.cache import dlpe_cache_folder
from solver.service.dask_pool import DaskProverPool, DaskUnavailable
from solver.book_plan import BookSpec
from solver.service.proving import circuit_keys, shape_request


@pytest.fixture(scope="module")
def keys():
    return circuit_keys(BookSpec().capacity, dlpe_cache_folder() / "keys")  # the service's own circuit, cached


def test_two_batches_proved_on_a_local_cluster(keys):
    first = shape_request(BookSpec().capacity)
    second = shape_request(BookSpec().capacity, nonce=first.nonce + 1)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        pool = DaskProverPool(cluster.scheduler_address, keys.path, keys.fingerprint, nice=10)
        try:
            assert pool.key_bytes > 1_000_000
            # the key travelled once, in the plugin; each task carries a request of a few kB
            plugins = pool.client.run(lambda dask_worker: sorted(dask_worker.plugins))
            assert all(any(keys.fingerprint[:16] in name for name in names) for names in plugins.values())
            results = [pool.submit(first).result()]
            (killed,) = pool.worker_pids()
            assert results[0].worker_pid == killed
            # the worker dies while the second batch is on it: its nanny starts a new one, the plugin
            # gives it the key, and the scheduler runs the batch again there
            in_flight = pool.submit(second)
            while not pool.client.processing():  # wait until the task is on the worker
                time.sleep(0.05)
            os.kill(killed, signal.SIGKILL)
            results.append(in_flight.result())
            (replacement,) = pool.worker_pids()
        finally:
            pool.close()
    assert replacement != killed and results[1].worker_pid == replacement
    for result in results:
        public = [int(v) for v in result.public_inputs]
        assert prover.verify(keys.verifying_key, public, prover.proof_from_json(result.proof))
    assert results[0].public_inputs != results[1].public_inputs  # the nonce is public: two distinct batches


def test_an_unreachable_scheduler_is_a_typed_error(keys):
    with pytest.raises(DaskUnavailable, match="tcp://127.0.0.1:9"):
        DaskProverPool("tcp://127.0.0.1:9", keys.path, keys.fingerprint, nice=10, timeout_s=1)
