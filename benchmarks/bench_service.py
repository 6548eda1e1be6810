"""Latency of `dlpe serve` under load, with and without a batch proving in the background.

One real service process (uvicorn, simulator feed at 4 ticks a second, its own anvil, the 1-quote
circuit; batch cuts switched off so that only this script decides when proving happens) on a
free loopback port. At each request rate (``--rates``, open-loop pacing from one keep-alive
client), three phases of at most ``--phase-s`` seconds and ``rate * phase_s`` requests each:
``POST /price`` with 1 option, ``POST /price`` with 100 options, ``GET /quotes``. Throughout, a
websocket on ``/quotes/stream`` records each quote update's latency: its arrival minus the tick's
timestamp (the simulator paces ticks to the wall clock, so this is validation + pipeline +
broadcast). Latency of a request is send to full response, measured by the client.

The whole grid runs twice: idle, then with proofs running back to back in the background: a
ProverPool of one process at nice 10 with numba limited to one thread (NUMBA_NUM_THREADS=1), the
pool class and niceness the service uses for its own batches. Goal (issue 13): p99 < 5 ms for a
100-option price request while a batch proves.

Usage:  python benchmarks/bench_service.py [--rates 20 100 300] [--phase-s 3]
Writes benchmarks/results/service.json and service.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from websockets.sync.client import connect as ws_connect  # noqa: E402

from bn254.cache import dlpe_cache_folder  # noqa: E402
from solver.service.proving import ProverPool, circuit_keys, shape_request  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
GOAL_P99_MS = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def price_body(n: int) -> dict:
    rng = np.random.default_rng(n)
    return {"spot": 60_000.0, "rate": 0.0, "options": [
        {"strike": float(k), "t": float(t), "is_call": bool(c), "vol": float(v)}
        for k, t, c, v in zip(rng.uniform(40_000, 80_000, n), rng.uniform(0.01, 0.5, n), rng.random(n) < 0.5,
                              rng.uniform(0.3, 1.2, n))]}


class Service:
    """`dlpe serve` on a loopback port with cuts off (see the module doc)."""

    def __init__(self, work: Path):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DLPE_") or k == "DLPE_CACHE_DIR"}
        env.update({"DLPE_DB_PATH": str(work / "solver.sqlite"), "DLPE_LOG_LEVEL": "WARNING",
                    "DLPE_CUT_INTERVAL_S": "1000000", "DLPE_CUT_ON_MOVE": "10", "DLPE_SIM_STEP_SECONDS": "0.25",
                    "DLPE_BATCH_QUOTES": "1"})
        self.log = open(work / "service.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "solver.cli", "serve", "--port", str(self.port)],
                                        cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10, trust_env=False)

    def wait_quoting(self, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited ({self.process.returncode}); see its log")
            try:
                if self.client.get("/quotes").json()["quotes"]:
                    return
            except (httpx.TransportError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"no quotes within {timeout_s} s")

    def stop(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the service's own session: its anvil and workers
        except ProcessLookupError:
            pass
        self.log.close()


class QuoteStream:
    """Latency of each quote update on the websocket (arrival minus tick timestamp), by phase."""

    def __init__(self, port: int):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._stack = ExitStack()  # websockets closes a connection it opened as a context
        self._ws = self._stack.enter_context(ws_connect(f"ws://127.0.0.1:{port}/quotes/stream", max_size=2**24))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            except Exception:
                return
            arrived = time.time()
            stamp = json.loads(message).get("timestamp")
            if stamp is not None:
                self.samples.append(arrived - stamp)

    def take(self) -> list[float]:
        out, self.samples = self.samples, []
        return out

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._stack.close()


def paced(client: httpx.Client, rate: float, phase_s: float, send) -> tuple[list[float], float]:
    """Requests at ``rate`` per second for ``phase_s`` (at most rate * phase_s); latencies and the rate achieved."""
    n = max(1, int(rate * phase_s))
    latencies = []
    start = time.perf_counter()
    for i in range(n):
        due = start + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        t0 = time.perf_counter()
        response = send(client)
        latencies.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:200]}")
        if time.perf_counter() - start > 1.5 * phase_s:
            break  # bounded in time even when the service cannot keep up
    return latencies, len(latencies) / (time.perf_counter() - start)


def summary(samples: list[float]) -> dict:
    if not samples:
        return {"count": 0}
    ms = np.asarray(samples) * 1e3
    return {"count": int(ms.size), "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "max_ms": float(ms.max())}


class BackgroundProving:
    """Proofs back to back in a ProverPool of one process at nice 10, numba on one thread."""

    def __init__(self, key_path: Path):
        os.environ["NUMBA_NUM_THREADS"] = "1"  # read by the spawned worker at import
        self.pool = ProverPool(1, 10, key_path)
        self.proofs = 0
        self.prove_s: list[float] = []
        self._stop = threading.Event()
        self.pool.submit(shape_request(1, 4)).result()  # warm: key and kernels loaded before timing
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        base = shape_request(1, 4)
        while not self._stop.is_set():
            result = self.pool.submit(dataclasses.replace(base, nonce=self.proofs + 2)).result()
            self.proofs += 1
            self.prove_s.append(result.prove_seconds + result.witness_seconds)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(60)
        self.pool.close()
        os.environ.pop("NUMBA_NUM_THREADS", None)


def in_process_costs() -> dict:
    """What a request and a tick cost without a server around them: the /price path's parts
    (validation, float64 Greeks, response serialisation) and the pipeline's on_tick, which runs on
    the service's feed thread and holds the GIL while it does."""
    from engine.bsm import bsm_greeks
    from engine.risk import Portfolio
    from engine.simulator import MarketParams
    from solver.feeds.simulated import SimulatedFeed
    from solver.pipeline import PipelineConfig, QuotingPipeline
    from solver.service.models import PricedOption, PriceRequest, PriceResponse

    def per_call_ms(f, n: int = 200) -> float:
        f()
        start = time.perf_counter()
        for _ in range(n):
            f()
        return 1e3 * (time.perf_counter() - start) / n

    out: dict = {}
    for n in (1, 100):
        raw = json.dumps(price_body(n))
        request = PriceRequest.model_validate_json(raw)
        k, t = np.array([o.strike for o in request.options]), np.array([o.t for o in request.options])
        c, v = np.array([o.is_call for o in request.options]), np.array([o.vol for o in request.options])
        row = dict(price=1.0, delta=0.5, gamma=1e-5, vega=10.0, theta=-5.0, implied_vol=None)
        out[f"price_{n}"] = {
            "validate_ms": per_call_ms(lambda: PriceRequest.model_validate_json(raw)),
            "greeks_ms": per_call_ms(lambda: bsm_greeks(60_000.0, k, t, 0.0, v, c, 0.0)),
            "serialise_ms": per_call_ms(lambda: PriceResponse(
                options=[PricedOption(**row) for _ in range(n)], seconds=0.0).model_dump_json()),
        }
    feed = SimulatedFeed.live(MarketParams(n_steps=200, warmup_steps=600), seed=1)
    feed.paced = False
    pipeline = QuotingPipeline(PipelineConfig(), feed.instruments, feed.warmup_returns, feed.warmup_liquidation)
    book, ticks = Portfolio(), []
    for _ in range(120):
        tick = feed.next_tick()
        start = time.perf_counter()
        pipeline.on_tick(tick, book)
        ticks.append(time.perf_counter() - start)
    out["pipeline_on_tick"] = summary(ticks)
    return out


def grid(service: Service, stream: QuoteStream, rates: list[float], phase_s: float) -> list[dict]:
    one, hundred = price_body(1), price_body(100)
    phases = {"price_1": lambda c: c.post("/price", json=one), "price_100": lambda c: c.post("/price", json=hundred),
              "quotes": lambda c: c.get("/quotes")}
    rows = []
    for rate in rates:
        stream.take()
        row: dict = {"rate_per_s": rate}
        for name, send in phases.items():
            latencies, achieved = paced(service.client, rate, phase_s, send)
            row[name] = {**summary(latencies), "achieved_per_s": achieved}
        row["quote_updates"] = summary(stream.take())
        rows.append(row)
        print(f"  {rate:>5.0f}/s: " + ", ".join(
            f"{k} p50 {row[k]['p50_ms']:.2f} p99 {row[k]['p99_ms']:.2f} ms"
            for k in ("price_1", "price_100", "quotes", "quote_updates") if row[k].get("count")), flush=True)
    return rows


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = ["price_1", "price_100", "quotes", "quote_updates"]
    titles = ["POST /price, 1 option", "POST /price, 100 options", "GET /quotes", "quote update (tick to websocket)"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 4), sharex=True)
    for ax, kind, title in zip(axes, kinds, titles):
        for mode, style in (("idle", "-o"), ("proving", "-s")):
            rows = report[mode]
            rates = [r["rate_per_s"] for r in rows]
            ax.plot(rates, [r[kind].get("p99_ms", np.nan) for r in rows], style, label=f"p99, {mode}")
            ax.plot(rates, [r[kind].get("p50_ms", np.nan) for r in rows], style, alpha=0.4, label=f"p50, {mode}")
        if kind == "price_100":
            ax.axhline(GOAL_P99_MS, color="red", linestyle="--", label="goal: p99 5 ms")
        ax.set_xscale("log")
        ax.set_xlabel("request rate (per s)")
        ax.set_title(title)
        ax.set_ylabel("ms")
    axes[1].legend(fontsize=7)
    fig.suptitle(f"dlpe serve on loopback ({report['machine']['cpus']} CPUs); proving = one prover process, "
                 "nice 10, one thread")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[20.0, 100.0, 300.0])
    parser.add_argument("--phase-s", type=float, default=3.0, help="seconds per endpoint and rate (default 3)")
    args = parser.parse_args()
    if min(args.rates) <= 0 or args.phase_s <= 0:
        parser.error("rates and --phase-s must be > 0")
    keys = circuit_keys(1, 4, dlpe_cache_folder() / "keys")
    costs = in_process_costs()
    print(f"in process: /price 100 options {sum(costs['price_100'].values()):.2f} ms "
          f"(validate, Greeks, serialise); pipeline on_tick p50 {costs['pipeline_on_tick']['p50_ms']:.1f} ms, "
          f"p99 {costs['pipeline_on_tick']['p99_ms']:.1f} ms", flush=True)
    load = {"start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as work:
        service = Service(Path(work))
        try:
            service.wait_quoting()
            stream = QuoteStream(service.port)
            print("idle:", flush=True)
            idle = grid(service, stream, args.rates, args.phase_s)
            load["after_idle"] = os.getloadavg()
            background = BackgroundProving(keys.path)
            print("a batch proving in the background:", flush=True)
            proving = grid(service, stream, args.rates, args.phase_s)
            load["after_proving"] = os.getloadavg()
            background.close()
            stream.close()
        finally:
            service.stop()
    report = {
        "benchmark": "service", "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "setup": {"phase_s": args.phase_s, "rates_per_s": args.rates, "tick_s": 0.25, "client": "httpx, keep-alive",
                  "background": "ProverPool(1 process, nice 10), NUMBA_NUM_THREADS=1, 1-quote batches back to back"},
        "load_average_1_5_15_min": load,
        "in_process": costs,
        "background_proofs": background.proofs,
        "background_batch_s_median": float(np.median(background.prove_s)) if background.prove_s else None,
        "idle": idle, "proving": proving,
        "goal": {"p99_ms": GOAL_P99_MS, "endpoint": "POST /price, 100 options, while a batch proves",
                 "met_at_rates": [r["rate_per_s"] for r in proving if r["price_100"]["p99_ms"] < GOAL_P99_MS]},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "service.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, RESULTS / "service.png")
    print(f"{background.proofs} background proofs; goal met at {report['goal']['met_at_rates']} req/s; "
          f"wrote {RESULTS / 'service.json'}, service.png")


if __name__ == "__main__":
    main()
