"""Circuit size and witness-generation time: constraints per gadget, per quote, per risk check, and for
batches of 1, 4, 16, 64 quotes (with their public-input counts), plus the witness time per quote
measured as the marginal cost between batch sizes. Writes benchmarks/results/circuits.json and .png.

    python benchmarks/bench_circuits.py [--quick]   (--quick: batches 1, 4, 16)
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

from circuits.batch import batch_circuit
from circuits.builder import ConstraintSystem
from circuits.costs import gadget_costs
from engine import fixed as fx
from solver.samples import sample_batch_request

RESULTS = Path(__file__).resolve().parent / "results"


def measure_batch(n_quotes: int, repeats: int) -> dict:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        cs = ConstraintSystem()
        batch_circuit(cs, sample_batch_request(n_quotes))
        best = min(best, time.perf_counter() - start)
    assert cs.is_satisfied(), cs.first_failure()
    r1cs = cs.to_r1cs()
    profile = cs.profile()
    return {
        "quotes": n_quotes,
        "constraints": cs.n_constraints,
        "wires": r1cs.n_wires,
        "public_inputs": r1cs.n_public_inputs + r1cs.n_public_outputs,
        "per_quote_constraints": profile.find("quote[0]").total,
        "risk_constraints": profile.find("risk").total,
        "market_constraints": profile.find("market").total,
        "state_constraints": profile.find("state").total,
        "witness_seconds": best,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = [1, 4, 16] if args.quick else [1, 4, 16, 64]
    gadgets = gadget_costs()
    batches = [measure_batch(n, repeats=3 if n <= 16 else 1) for n in sizes]
    first, last = batches[0], batches[-1]
    marginal = (last["witness_seconds"] - first["witness_seconds"]) / (last["quotes"] - first["quotes"])
    result = {
        "frac_bits": fx.FRAC_BITS,
        "gadgets": gadgets,
        "batches": batches,
        "witness_seconds_per_quote_marginal": marginal,
        "target_constraints_per_quote": 3000,
        "machine": platform.platform(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "circuits.json").write_text(json.dumps(result, indent=2) + "\n")

    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    q = [b["quotes"] for b in batches]
    ax[0].loglog(q, [b["constraints"] for b in batches], "o-", label="batch total")
    ax[0].loglog(q, [b["per_quote_constraints"] * n for b, n in zip(batches, q)], "s--", label="quotes only")
    ax[0].loglog(q, [3000 * n for n in q], ":", color="gray", label="target 3,000 per quote")
    ax[0].set_xlabel("quotes in batch")
    ax[0].set_ylabel("constraints")
    ax[0].legend()
    names = list(gadgets)
    ax[1].barh(names, [gadgets[n] for n in names], color="tab:blue")
    ax[1].set_xlabel("constraints")
    ax[1].set_title("gadgets")
    fig.suptitle(f"DLPE circuits at 2^-{fx.FRAC_BITS} fixed point")
    fig.tight_layout()
    fig.savefig(RESULTS / "circuits.png", dpi=120)
    plt.close(fig)

    for name, n in gadgets.items():
        print(f"{name:45s} {n:>8,}")
    print(f"{'quotes':>6} {'constraints':>12} {'public':>7} {'per quote':>10} {'risk':>8} {'witness s':>10}")
    for b in batches:
        print(f"{b['quotes']:>6} {b['constraints']:>12,} {b['public_inputs']:>7} {b['per_quote_constraints']:>10,} "
              f"{b['risk_constraints']:>8,} {b['witness_seconds']:>10.2f}")
    print(f"witness generation per quote (marginal): {marginal * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
