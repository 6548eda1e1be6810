"""Throughput of batch proving on Dask: batches per minute with 1 and 2 workers of one thread.

For each worker count a LocalCluster (worker processes of one thread each, loopback) is started,
the service's DaskProverPool ships the proving key to its workers once (timed: plugin
registration and the key's size), one warm-up batch per worker loads the key and the numba
kernels, then ``--batches`` batches per worker of the 1-quote circuit (the service's default) are
submitted at once and timed from the first submit to the last result. Every worker runs one
thread: one Dask thread, and numba's kernels limited to one (NUMBA_NUM_THREADS=1). The baseline, measured in
the same run, is the local ProverPool (one spawned process, the embedded default) on the same
batches. Scheduler overhead is measured as the round trip of a no-op task on the 1-worker cluster.

What N machines would give: throughput scales with workers while proofs are independent and each
one is far longer than the scheduler's per-task cost; the JSON states the per-batch prove time,
the round trip and the key size, from which the README's extrapolation is made.

Usage:  python benchmarks/bench_dask.py [--batches 3]
Writes benchmarks/results/dask.json and dask.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from distributed import LocalCluster  # noqa: E402

from bn254.cache import dlpe_cache_folder  # noqa: E402
from solver.service.dask_pool import DaskProverPool  # noqa: E402
from solver.service.proving import ProverPool, circuit_keys, shape_request  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def requests(n: int, first_nonce: int = 1) -> list:
    base = shape_request(1, 4)
    return [dataclasses.replace(base, nonce=first_nonce + i) for i in range(n)]


def timed_batches(pool, batches: list) -> dict:
    start = time.perf_counter()
    futures = [pool.submit(b) for b in batches]
    results = [f.result() for f in futures]
    wall = time.perf_counter() - start
    return {"batches": len(batches), "wall_s": wall, "batches_per_minute": 60.0 * len(batches) / wall,
            "prove_s_median": statistics.median(r.prove_seconds for r in results),
            "witness_s_median": statistics.median(r.witness_seconds for r in results),
            "workers_used": len({r.worker_pid for r in results}),
            # the share of the workers' wall time spent proving: what is left is overhead (scheduling,
            # transfers, idle workers); the run's compute times move with the machine's load
            "busy_share": sum(r.prove_seconds + r.witness_seconds for r in results)
            / (wall * len({r.worker_pid for r in results}))}


def local_baseline(keys, per_worker: int) -> dict:
    pool = ProverPool(1, 10, keys.path)
    try:
        pool.submit(requests(1, 900)[0]).result()  # warm: key and kernels loaded
        return timed_batches(pool, requests(per_worker, 1000))
    finally:
        pool.close()


def dask_run(keys, workers: int, per_worker: int) -> dict:
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        start = time.perf_counter()
        pool = DaskProverPool(cluster.scheduler_address, keys.path, keys.fingerprint, nice=10)
        register_s = time.perf_counter() - start
        try:
            warm = [pool.submit(r) for r in requests(workers, 900)]  # one per worker (work stealing permitting)
            for w in warm:
                w.result()
            out = timed_batches(pool, requests(workers * per_worker, 2000))
            round_trips = []
            for _ in range(20):
                t0 = time.perf_counter()
                pool.client.submit(int, 0, pure=False).result()
                round_trips.append(time.perf_counter() - t0)
        finally:
            pool.close()
    return {"workers": workers, "plugin_register_s": register_s, "key_bytes": pool.key_bytes,
            "noop_round_trip_ms_median": 1e3 * statistics.median(round_trips), **out}


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    labels = ["local pool\n(1 process)"] + [f"Dask\n{r['workers']} worker(s)" for r in report["dask"]]
    values = [report["local"]["batches_per_minute"]] + [r["batches_per_minute"] for r in report["dask"]]
    ax.bar(labels, values, color=["#888888"] + ["#3b75af"] * len(report["dask"]))
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:.1f}", ha="center", va="bottom")
    ax.set_ylabel("1-quote batches per minute")
    ax.set_title(f"Batch proving throughput ({report['machine']['cpus']} CPUs, one thread per worker)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=3, help="timed batches per worker (default 3)")
    args = parser.parse_args()
    if args.batches < 1:
        parser.error("--batches must be >= 1")
    keys = circuit_keys(1, 4, dlpe_cache_folder() / "keys")
    os.environ["NUMBA_NUM_THREADS"] = "1"  # one thread per worker: inherited by every spawned worker process
    load = {"start": os.getloadavg()}
    local = local_baseline(keys, args.batches)
    print(f"local pool, 1 process: {local['batches_per_minute']:.2f} batches/min "
          f"(prove {local['prove_s_median']:.2f} s, witness {local['witness_s_median']:.2f} s)", flush=True)
    runs = []
    for workers in (1, 2):
        run = dask_run(keys, workers, args.batches)
        runs.append(run)
        print(f"dask, {workers} worker(s): {run['batches_per_minute']:.2f} batches/min "
              f"({run['batches_per_minute'] / local['batches_per_minute']:.2f}x the local pool), "
              f"key {run['key_bytes'] / 1e6:.1f} MB shipped in {run['plugin_register_s']:.2f} s, "
              f"no-op round trip {run['noop_round_trip_ms_median']:.1f} ms, workers busy {run['busy_share']:.0%}",
              flush=True)
    report = {
        "benchmark": "dask", "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "circuit": {"quotes": 1, "positions": 4, "fingerprint": keys.fingerprint},
        "threads_per_worker": 1, "load_average_1_5_15_min": {**load, "end": os.getloadavg()},
        "local": local, "dask": runs,
        "speedup_2_over_1": runs[1]["batches_per_minute"] / runs[0]["batches_per_minute"],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dask.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, RESULTS / "dask.png")
    print(f"2 workers / 1 worker: {report['speedup_2_over_1']:.2f}x; wrote {RESULTS / 'dask.json'}, dask.png")


if __name__ == "__main__":
    main()
