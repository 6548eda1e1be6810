"""Accuracy of the fixed-point reference (engine/fixed.py) against the float64 fast path.

Samples options uniformly (log-uniform where a scale is natural) over the foundation
domain: S/K in [0.25, 4], t in [1 hour, 3 years], vol in [0.05, 5], rate and carry in
[-0.05, 0.2], spot in [1, 1e5], calls and puts; prices each on both paths at the same
(dequantized) inputs and records the worst errors: price / spot, delta (absolute),
gamma and vega (relative, where the value is >= 1e-6), and the scale-free gamma·spot; "not negligible" means phi(d1) >= 1e-5 and |value| >= 1e-5.
Writes benchmarks/results/fixed_accuracy.json and .png.

    python benchmarks/bench_fixed_accuracy.py [--n 20000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from engine import fixed as fx
from engine.bsm import bsm_greeks

RESULTS = Path(__file__).resolve().parent / "results"
HOUR = 1.0 / (365.0 * 24.0)


def sample(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    spot = 10.0 ** rng.uniform(0.0, 5.0, n)
    return {
        "spot": spot,
        "strike": spot / 2.0 ** rng.uniform(-2.0, 2.0, n),
        "t": np.exp(rng.uniform(np.log(HOUR), np.log(3.0), n)),
        "rate": rng.uniform(-0.05, 0.2, n),
        "vol": np.exp(rng.uniform(np.log(0.05), np.log(5.0), n)),
        "carry": rng.uniform(-0.05, 0.2, n),
        "is_call": rng.random(n) < 0.5,
    }


def measure(n: int, seed: int) -> dict:
    raw = sample(n, np.random.default_rng(seed))
    names = ("spot", "strike", "t", "rate", "vol", "carry")
    fixed_in = {k: [fx.to_fixed(float(x)) for x in raw[k]] for k in names}
    deq = {k: np.array([fx.from_fixed(x) for x in fixed_in[k]]) for k in names}
    ref = bsm_greeks(deq["spot"], deq["strike"], deq["t"], deq["rate"], deq["vol"], raw["is_call"], carry=deq["carry"])

    start = time.perf_counter()
    outs = [
        fx.bsm_fixed(*(fixed_in[k][i] for k in names[:5]), bool(raw["is_call"][i]), carry=fixed_in["carry"][i])
        for i in range(n)
    ]
    seconds = time.perf_counter() - start
    got = {f: np.array([fx.from_fixed(getattr(o, f)) for o in outs]) for f in ("price", "delta", "gamma", "vega")}

    price_err = np.abs(got["price"] - ref.price) / deq["spot"]
    delta_err = np.abs(got["delta"] - ref.delta)
    pdf_d1 = np.array([fx.from_fixed(fx.normal_pdf(o.d1)) for o in outs])

    def rel(f):  # "not negligible": phi(d1) >= 1e-5 and |value| >= 1e-5 (see FixedBSM)
        want = getattr(ref, f)
        mask = (np.abs(want) >= 1e-5) & (pdf_d1 >= 1e-5)
        return np.abs(got[f][mask] - want[mask]) / np.abs(want[mask]), int(mask.sum())
    gamma_rel, gamma_n = rel("gamma")
    vega_rel, vega_n = rel("vega")
    cash = ref.gamma * deq["spot"]
    cash_mask = (cash >= 1e-5) & (pdf_d1 >= 1e-5)
    gamma_spot_rel = np.abs(got["gamma"] - ref.gamma)[cash_mask] * deq["spot"][cash_mask] / cash[cash_mask]

    worst = int(np.argmax(delta_err))
    return {
        "n_options": n,
        "seed": seed,
        "frac_bits": fx.FRAC_BITS,
        "fixed_us_per_option": seconds / n * 1e6,
        "max_price_error_over_spot": float(price_err.max()),
        "p99_price_error_over_spot": float(np.quantile(price_err, 0.99)),
        "max_delta_error": float(delta_err.max()),
        "p99_delta_error": float(np.quantile(delta_err, 0.99)),
        "worst_delta_case": {k: float(raw[k][worst]) for k in names},
        "max_gamma_rel_error_not_negligible": float(gamma_rel.max()),
        "gamma_cases_counted": gamma_n,
        "max_vega_rel_error_not_negligible": float(vega_rel.max()),
        "vega_cases_counted": vega_n,
        "max_gamma_rel_error_where_gamma_times_spot_ge_1e-5": float(gamma_spot_rel.max()),
        "machine": platform.platform(),
        "_errors": (price_err, delta_err, deq["vol"] * np.sqrt(deq["t"])),
    }


def plot(result: dict, path: Path) -> None:
    price_err, delta_err, total_vol = result["_errors"]
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    ax[0].hist(np.log10(np.maximum(price_err, 1e-20)), bins=60, color="tab:blue")
    ax[0].axvline(-10, color="red", ls="--", label="requirement 1e-10")
    ax[0].axvline(-12, color="green", ls=":", label="goal 1e-12")
    ax[0].set_xlabel("log10 |fixed - float| / spot  (exact agreement shown at -20)")
    ax[0].set_ylabel("options")
    ax[0].legend()
    ax[1].loglog(total_vol, np.maximum(delta_err, 1e-18), ".", ms=2, alpha=0.5)
    ax[1].axhline(1e-10, color="red", ls="--", label="requirement 1e-10")
    ax[1].axhline(1e-12, color="green", ls=":", label="goal 1e-12")
    ax[1].set_xlabel("total volatility vol·sqrt(t)")
    ax[1].set_ylabel("|delta error|")
    ax[1].legend()
    fig.suptitle(f"Fixed point (2^-{result['frac_bits']}) vs float64, {result['n_options']} options")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = measure(args.n, args.seed)
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(result, RESULTS / "fixed_accuracy.png")
    result.pop("_errors")
    (RESULTS / "fixed_accuracy.json").write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result.items():
        if key != "worst_delta_case":
            print(f"{key:48s} {value}")


if __name__ == "__main__":
    main()
