"""Benchmark of the float64 fast path (engine.bsm, engine.implied_vol) against QuantLib and py_vollib.

Two tasks on a random option chain of N options (fixed seed):
  (a) price + Greeks: ours computes price, delta, gamma, vega, theta, rho,
      vanna and volga in one call; QuantLib (AnalyticEuropeanEngine through its
      Python API) and py_vollib (black_scholes_merton and its analytical Greeks)
      compute price, delta, gamma, vega, theta and rho, one option at a time;
  (b) implied volatility of the prices from (a): ours, QuantLib's
      VanillaOption.impliedVolatility (accuracy 1e-10, vol in [1e-7, 10]) and
      py_vollib's implied_volatility (Jaeckel's "Let's Be Rational").

The peers loop over options in Python, so for N above the subsample size they
are timed on the first `subsample` options of the chain and their throughput is
reported per option (the JSON says which sizes were subsampled). Ours is warmed
up (numba) before timing; the JIT compile time is measured separately, in a
fresh interpreter with an empty numba cache.

Usage:  python benchmarks/bench_fast_path.py [--quick]
Writes benchmarks/results/fast_path.json and fast_path.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402

from engine.bsm import bsm_greeks, bsm_price  # noqa: E402
from engine.implied_vol import implied_vol  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 20240601
HOURS_PER_YEAR = 8760.0


def random_chain(n: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """N options over the fast path's domain: S/K log-uniform in [0.25, 4], t uniform in
    [1 hour, 3 years], vol uniform in [0.05, 5], rate and carry uniform in [-0.05, 0.2]."""
    rng = np.random.default_rng(seed)
    strike = np.full(n, 100.0)
    return {
        "spot": strike * np.exp(rng.uniform(np.log(0.25), np.log(4.0), n)),
        "strike": strike,
        "t": rng.uniform(1.0 / HOURS_PER_YEAR, 3.0, n),
        "rate": rng.uniform(-0.05, 0.2, n),
        "vol": rng.uniform(0.05, 5.0, n),
        "is_call": rng.random(n) < 0.5,
        "carry": rng.uniform(-0.05, 0.2, n),
    }


def best_time(run, min_total: float = 1.0, min_runs: int = 5) -> float:
    """Best wall time of one call of `run`, over at least `min_runs` calls and `min_total` seconds."""
    times: list[float] = []
    while len(times) < min_runs or sum(times) < min_total:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


# --- ours -------------------------------------------------------------------------------------


def ours_greeks(c: dict[str, np.ndarray]) -> None:
    bsm_greeks(c["spot"], c["strike"], c["t"], c["rate"], c["vol"], c["is_call"], c["carry"])


def ours_implied_vol(c: dict[str, np.ndarray], price: np.ndarray) -> np.ndarray:
    return implied_vol(price, c["spot"], c["strike"], c["t"], c["rate"], c["is_call"], c["carry"], on_error="nan")


COLD_COMPILE = """
import time
t0 = time.perf_counter()
from engine.bsm import bsm_price, bsm_greeks
from engine.implied_vol import implied_vol
t1 = time.perf_counter(); bsm_price(100.0, 100.0, 1.0, 0.0, 0.2, True)
t2 = time.perf_counter(); bsm_greeks(100.0, 100.0, 1.0, 0.0, 0.2, True)
t3 = time.perf_counter(); implied_vol(8.0, 100.0, 100.0, 1.0, 0.0, True)
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""


def jit_compile_seconds() -> dict[str, float]:
    """First-call times in a fresh interpreter with an empty numba cache: the JIT compile cost."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as cache:
        env = os.environ | {"NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(root)}
        command = [sys.executable, "-c", COLD_COMPILE]
        out = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, check=True)
    imports, price, greeks, iv = (float(v) for v in out.stdout.split())
    return {"import_s": imports, "bsm_price_s": price, "bsm_greeks_s": greeks, "implied_vol_s": iv}


# --- QuantLib ---------------------------------------------------------------------------------


class QuantLibPricer:
    """One BSM process whose quotes are reset per option, and a fresh VanillaOption per option:
    the cheapest way to price a chain of different strikes and expiries through QuantLib's Python API."""

    def __init__(self):
        import QuantLib as ql

        self.ql = ql
        self.today = ql.Date(3, 6, 2024)
        ql.Settings.instance().evaluationDate = self.today
        day_count = ql.Actual365Fixed()
        self.spot, self.rate, self.carry, self.vol = (ql.SimpleQuote(0.0) for _ in range(4))

        def curve(quote):
            return ql.YieldTermStructureHandle(ql.FlatForward(self.today, ql.QuoteHandle(quote), day_count))

        vol_curve = ql.BlackVolTermStructureHandle(
            ql.BlackConstantVol(self.today, ql.NullCalendar(), ql.QuoteHandle(self.vol), day_count)
        )
        self.process = ql.BlackScholesMertonProcess(
            ql.QuoteHandle(self.spot), curve(self.carry), curve(self.rate), vol_curve
        )
        self.engine = ql.AnalyticEuropeanEngine(self.process)

    @staticmethod
    def days(t: np.ndarray) -> np.ndarray:
        """QuantLib dates are whole days: expiries round to at least one day (Actual/365)."""
        return np.maximum(1, np.rint(t * 365.0)).astype(int)

    def _option(self, c, i, days):
        ql = self.ql
        self.spot.setValue(float(c["spot"][i]))
        self.rate.setValue(float(c["rate"][i]))
        self.carry.setValue(float(c["carry"][i]))
        self.vol.setValue(float(c["vol"][i]))
        payoff = ql.PlainVanillaPayoff(ql.Option.Call if c["is_call"][i] else ql.Option.Put, float(c["strike"][i]))
        option = ql.VanillaOption(payoff, ql.EuropeanExercise(self.today + int(days[i])))
        option.setPricingEngine(self.engine)
        return option

    def greeks(self, c, n):
        days = self.days(c["t"][:n])
        for i in range(n):
            option = self._option(c, i, days)
            option.NPV(), option.delta(), option.gamma(), option.vega(), option.theta(), option.rho()

    def implied_vol(self, c, n, price) -> tuple[np.ndarray, int]:
        days = self.days(c["t"][:n])
        vols, failures = np.full(n, np.nan), 0
        for i in range(n):
            option = self._option(c, i, days)
            try:
                vols[i] = option.impliedVolatility(float(price[i]), self.process, 1e-10, 100, 1e-7, 10.0)
            except RuntimeError:  # QuantLib's solver could not bracket or converge
                failures += 1
        return vols, failures


# --- py_vollib --------------------------------------------------------------------------------


class PyVollib:
    def __init__(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # py_vollib points to its successor, vollib
            from py_vollib.black_scholes_merton import black_scholes_merton
            from py_vollib.black_scholes_merton.greeks import analytical
            from py_vollib.black_scholes_merton.implied_volatility import implied_volatility
        self.price, self.analytical, self.iv = black_scholes_merton, analytical, implied_volatility

    @staticmethod
    def _args(c, i):
        flag = "c" if c["is_call"][i] else "p"
        return (flag, *(float(c[k][i]) for k in ("spot", "strike", "t", "rate", "vol", "carry")))

    def greeks(self, c, n):
        a = self.analytical
        for i in range(n):
            args = self._args(c, i)
            self.price(*args), a.delta(*args), a.gamma(*args), a.vega(*args), a.theta(*args), a.rho(*args)

    def implied_vol(self, c, n, price) -> tuple[np.ndarray, int]:
        vols, failures = np.full(n, np.nan), 0
        for i in range(n):
            flag, s, k, t, r, _, q = self._args(c, i)
            try:
                vols[i] = self.iv(float(price[i]), s, k, t, r, q, flag)
            except Exception:  # py_vollib raises its own types for prices at or beyond the bounds
                failures += 1
        return vols, failures


# --- the run ----------------------------------------------------------------------------------


def machine_info() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import QuantLib
    import scipy

    return {
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15_min_at_end": os.getloadavg(),  # other work on the machine slows the parallel kernels most
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "numba_threading_layer": numba.threading_layer(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "QuantLib": QuantLib.__version__,
    }


def well_conditioned(c: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Options among the first n whose normalized vega vega / max(S e^{-qt}, K e^{-rt}) >= 1e-3."""
    sub = {k: v[:n] for k, v in c.items()}
    g = bsm_greeks(**sub)
    scale = np.maximum(sub["spot"] * np.exp(-sub["carry"] * sub["t"]), sub["strike"] * np.exp(-sub["rate"] * sub["t"]))
    return g.vega / scale >= 1e-3


def run(sizes: list[int], subsample: int) -> dict:
    ql_pricer, pv = QuantLibPricer(), PyVollib()
    warm = random_chain(1000, seed=1)
    start = time.perf_counter()
    ours_greeks(warm)
    warm_price = bsm_price(**warm)
    ours_implied_vol(warm, np.where(warm_price > 0, warm_price, 1e-9))
    first_call = time.perf_counter() - start

    rows = []
    for n in sizes:
        chain = random_chain(n)
        price = bsm_price(**chain)
        # Prices that underflow to 0 (far OTM) have no implied vol; the IV task inverts the others.
        invertible = {k: v[price > 0] for k, v in chain.items()}
        iv_price = price[price > 0]
        m = min(n, subsample)
        m_iv = min(iv_price.size, subsample)

        row = {"n": n, "iv_n": int(iv_price.size), "peer_sample": m, "peer_sample_iv": m_iv, "peers_subsampled": m < n}
        row["ours_greeks_per_s"] = n / best_time(lambda: ours_greeks(chain))
        row["ours_iv_per_s"] = iv_price.size / best_time(lambda: ours_implied_vol(invertible, iv_price))
        # One thread too: the peers run on one core, and a busy neighbour on the
        # other core slows the parallel kernels but not this.
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        row["ours_1thread_greeks_per_s"] = n / best_time(lambda: ours_greeks(chain))
        row["ours_1thread_iv_per_s"] = iv_price.size / best_time(lambda: ours_implied_vol(invertible, iv_price))
        numba.set_num_threads(threads)
        ours_vols = ours_implied_vol(invertible, iv_price)

        row["quantlib_greeks_per_s"] = m / best_time(lambda: ql_pricer.greeks(chain, m), min_runs=1, min_total=0.0)
        row["py_vollib_greeks_per_s"] = m / best_time(lambda: pv.greeks(chain, m), min_runs=1, min_total=0.0)

        # QuantLib works in whole days: invert prices computed at its own expiry.
        ql_chain = dict(invertible) | {"t": QuantLibPricer.days(invertible["t"][:m_iv]) / 365.0}
        ql_price = bsm_price(**{k: v[:m_iv] for k, v in ql_chain.items()})
        start = time.perf_counter()
        ql_vols, ql_failures = ql_pricer.implied_vol(invertible, m_iv, ql_price)
        row["quantlib_iv_per_s"] = m_iv / (time.perf_counter() - start)
        start = time.perf_counter()
        pv_vols, pv_failures = pv.implied_vol(invertible, m_iv, iv_price)
        row["py_vollib_iv_per_s"] = m_iv / (time.perf_counter() - start)

        # Check that the peers solved the same problems: vol differences where vega is not negligible.
        good = well_conditioned(invertible, m_iv)
        ql_good = well_conditioned(ql_chain, m_iv)
        row["iv_failures"] = {"quantlib": ql_failures, "py_vollib": pv_failures}
        row["ours_iv_at_bound_or_nan"] = int(np.count_nonzero(~(ours_vols > 0) | ~np.isfinite(ours_vols)))
        row["max_abs_vol_difference_where_vega_not_negligible"] = {
            "quantlib": float(np.nanmax(np.abs(ql_vols - ql_chain["vol"][:m_iv])[ql_good])),
            "py_vollib": float(np.nanmax(np.abs(pv_vols - ours_vols[:m_iv])[good])),
        }
        for task in ("greeks", "iv"):
            row[f"ratio_{task}_ours_over_quantlib"] = row[f"ours_{task}_per_s"] / row[f"quantlib_{task}_per_s"]
            row[f"ratio_{task}_ours_over_py_vollib"] = row[f"ours_{task}_per_s"] / row[f"py_vollib_{task}_per_s"]
        rows.append(row)
        print(f"N = {n:>9,}: done", flush=True)
    return {"first_call_s_from_numba_cache": first_call, "rows": rows}


def print_tables(rows: list[dict], subsample: int) -> None:
    """One table per task: throughputs (options/s) and the ratios ours / peer."""
    for task, title in (("greeks", "price + Greeks"), ("iv", "implied volatility")):
        print(f"\n{title}: options per second (peers timed on min(N, {subsample:,}) options)")
        columns = ("ours", "ours 1 thr", "QuantLib", "py_vollib")
        print(f"{'N':>9} | " + " ".join(f"{c:>10}" for c in columns) + f" | {'ours/QL':>8} {'ours/pv':>8}")
        for r in rows:
            print(
                f"{r['n']:>9,} | {r[f'ours_{task}_per_s']:>10.3e} {r[f'ours_1thread_{task}_per_s']:>10.3e}"
                f" {r[f'quantlib_{task}_per_s']:>10.3e} {r[f'py_vollib_{task}_per_s']:>10.3e} |"
                f" {r[f'ratio_{task}_ours_over_quantlib']:>8.0f} {r[f'ratio_{task}_ours_over_py_vollib']:>8.0f}"
            )


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    n = [r["n"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    colors = {"ours": "tab:blue", "quantlib": "tab:red", "py_vollib": "tab:green"}
    names = {"ours": "DLPE fast path", "quantlib": "QuantLib", "py_vollib": "py_vollib"}
    for impl, color in colors.items():
        for task, style, label in (("greeks", "-o", "price+Greeks"), ("iv", "--s", "implied vol")):
            ax.plot(n, [r[f"{impl}_{task}_per_s"] for r in rows], style, color=color, label=f"{names[impl]}: {label}")
    for task, style, label in (("greeks", ":o", "price+Greeks"), ("iv", ":s", "implied vol")):
        one_thread = [r[f"ours_1thread_{task}_per_s"] for r in rows]
        ax.plot(n, one_thread, style, color="tab:cyan", label=f"{names['ours']}, 1 thread: {label}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("options per call (N)")
    ax.set_ylabel("options per second")
    threads = result["machine"]["numba_threads"]
    ax.set_title(
        f"BSM fast path vs peers ({result['mode']} run, {threads} numba threads unless marked)\n"
        f"peers timed on up to {result['subsample']} options per N"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="N up to 1e5 and 2,000-option peer subsamples (well under a minute)"
    )
    args = parser.parse_args()
    sizes = [1_000, 10_000, 100_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
    subsample = 2_000 if args.quick else 20_000

    print("JIT compile (fresh interpreter, empty numba cache): ", end="", flush=True)
    compile_s = jit_compile_seconds()
    print(", ".join(f"{k} {v:.2f}s" for k, v in compile_s.items()))
    measured = run(sizes, subsample)
    result = {
        "mode": "quick" if args.quick else "full",
        "machine": machine_info(),  # after run(): numba reports its threading layer once a kernel ran
        "chain": "S/K log-uniform [0.25, 4], K = 100, t uniform [1 hour, 3 years], vol uniform [0.05, 5], "
        f"rate and carry uniform [-0.05, 0.2], calls and puts 50/50, seed {SEED}",
        "subsample": subsample,
        "subsample_note": "QuantLib and py_vollib loop in Python; for N above `subsample` they are timed on the "
        "first `subsample` options and their throughput is per option (peer_sample, peers_subsampled)",
        "tasks": {
            "greeks": "ours: price, delta, gamma, vega, theta, rho, vanna, volga; peers: price, delta, gamma, vega, "
            "theta, rho (QuantLib: AnalyticEuropeanEngine, one VanillaOption per option, quotes reset per option)",
            "iv": "implied vol of the chain's prices that are > 0 (iv_n); QuantLib: impliedVolatility, accuracy 1e-10, "
            "vol in [1e-7, 10], expiries rounded to whole days; py_vollib: implied_volatility (Let's Be Rational)",
        },
        "timing": "ours: best of >= 5 calls (>= 1 s in all) after warm-up, with all numba threads and with one "
        "(ours_1thread_*); peers: one pass over the sample",
        "jit_compile_s": compile_s,
    }
    result |= measured
    print_tables(result["rows"], subsample)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fast_path.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, RESULTS / "fast_path.png")
    print(f"wrote {RESULTS / 'fast_path.json'} and {RESULTS / 'fast_path.png'}")


if __name__ == "__main__":
    main()
