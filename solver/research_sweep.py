"""The research sweep behind `dlpe bench`: what proving N quotes costs against quoting them without a proof.

For each N (default 1, 4, 16, 64; --quick: 1 and 4) the batch circuit of N sample
quotes (solver.samples.sample_batch_request, the circuit of circuits.batch) is
measured in a fresh process of its own, so that its peak memory is its own:
  constraints, public inputs;
  witness_s   building the circuit and its witness (one pass: gadgets compute both);
  setup_s     a development Groth16 setup (prover.setup; never saved, never reused);
  prove_s     the fastest of `reps` proofs on the default backend, after one untimed
              proof that loads the kernels, with the key prepared once (prover.prepare);
  verify_s    prover.verify in Python (pairings by py_ecc);
  proof_bytes the proof as the verifier contract takes it (A, C in G1, B in G2, uncompressed);
  peak_rss_mib that process's peak resident memory (VmHWM), all of the above included;
  fixed_error the largest |fixed-point price - float64 price| over the N quotes (engine.fixed
              against engine.bsm with the same SVI smile), in currency and relative to spot;
  float_s     the float64 path pricing the same N quotes (solver.demo.fast_path_quotes).
Back in the parent, one devnet (anvil when installed, else the in-process EVM) deploys
each N's generated verifier and charges one verifyProof transaction: verify_gas.

Results go to --out as sweep.json, sweep.md (the Markdown table) and sweep.png (proof
cost vs N, cost per quote vs N, proof latency vs float latency).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

FULL_SIZES = (1, 4, 16, 64)
QUICK_SIZES = (1, 4)
PROOF_BYTES = 8 * 32  # A (2 words), B (4 words), C (2 words): what verifyProof takes


class SweepError(RuntimeError):
    """A measurement of the sweep failed (its process's own message is included)."""


@dataclass(frozen=True)
class SweepRow:
    """One N's measurements (see the module docstring for each field)."""

    quotes: int
    constraints: int
    public_inputs: int
    witness_s: float
    setup_s: float
    prove_s: float
    prove_all_s: list[float]
    verify_s: float
    proof_bytes: int
    peak_rss_mib: float
    fixed_error: float
    fixed_error_over_spot: float
    float_s: float
    backend: str
    verify_gas: int | None = None

    @property
    def proof_over_float(self) -> float:
        """How many times longer proving takes than quoting with the float64 path."""
        return self.prove_s / self.float_s


# --- one N, in its own process ------------------------------------------------------------------


def fixed_point_error(request) -> tuple[float, float]:
    """(largest |fixed - float64| price over the request's quotes, that / spot), with the same SVI smile."""
    import numpy as np

    from engine import fixed as fx
    from engine.bsm import bsm_price
    from engine.svi import SviParams

    spot, t, rate = fx.from_fixed(request.spot), fx.from_fixed(request.t), fx.from_fixed(request.rate)
    carry = fx.from_fixed(request.carry)
    terms = fx.expiry_terms(request.t, request.rate, request.carry)
    svi = SviParams(*(fx.from_fixed(getattr(request.svi, name)) for name in ("a", "b", "rho", "m", "sigma")))
    worst = 0.0
    for quote in request.quotes:
        fixed = fx.from_fixed(fx.bsm_fixed_svi(request.spot, quote.strike, terms, request.svi, quote.is_call).price)
        strike = fx.from_fixed(quote.strike)
        k = np.log(strike / spot) - (rate - carry) * t  # forward log-moneyness, as the fixed path takes it
        vol = float(np.sqrt(svi.total_variance(k) / t))
        exact = float(bsm_price(spot, strike, t, rate, vol, quote.is_call, carry=carry))
        worst = max(worst, abs(fixed - exact))
    return worst, worst / spot


def measure_quotes(n_quotes: int, reps: int, progress: Callable[[str, float | None], None]) -> dict:
    """Everything but the gas for an N-quote batch, in this process (run it in a fresh one)."""
    import prover
    from circuits.batch import batch_circuit
    from circuits.builder import ConstraintSystem
    from prover.backends import get_backend
    from solver.demo import fast_path_quotes
    from solver.kernels import compile_kernels
    from solver.samples import sample_batch_request

    compile_kernels(lambda line: progress(line, None))
    request = sample_batch_request(n_quotes)
    progress("building the circuit and its witness", None)
    start = time.perf_counter()
    cs = ConstraintSystem()
    batch_circuit(cs, request)
    r1cs, witness = cs.to_r1cs(), cs.witness()
    witness_s = time.perf_counter() - start

    start = time.perf_counter()
    pk, vk = prover.setup(r1cs, progress=progress)  # its stages read "setup: ..."
    setup_s = time.perf_counter() - start

    backend = get_backend()
    progress("proving (one untimed proof first)", None)
    prepared = prover.prepare(pk, backend)
    prover.prove(prepared, witness, backend, check=True)  # loads the kernels, and checks every constraint once
    times = []
    for rep in range(reps):
        progress("proving", rep / reps)
        start = time.perf_counter()
        proof = prover.prove(prepared, witness, backend, check=False)
        times.append(time.perf_counter() - start)
    public = r1cs.public_values(witness)
    progress("verifying in Python", None)
    start = time.perf_counter()
    if not prover.verify(vk, public, proof):
        raise SweepError(f"the {n_quotes}-quote proof does not verify")
    verify_s = time.perf_counter() - start

    progress("fixed-point error and the float64 path's latency", None)
    error, error_over_spot = fixed_point_error(request)
    return {
        "row": asdict(SweepRow(
            quotes=n_quotes,
            constraints=r1cs.n_constraints,
            public_inputs=len(public),
            witness_s=witness_s,
            setup_s=setup_s,
            prove_s=min(times),
            prove_all_s=times,
            verify_s=verify_s,
            proof_bytes=PROOF_BYTES,
            peak_rss_mib=peak_rss_mib(),
            fixed_error=error,
            fixed_error_over_spot=error_over_spot,
            float_s=fast_path_quotes(request),
            backend=backend.name,
        )),
        "verification_key": prover.verifying_key_to_json(vk),
        "proof": prover.proof_to_json(proof),
        "public": [str(v) for v in public],
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM, Linux) in MiB."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def run_quotes_in_fresh_process(n_quotes: int, reps: int, work: Path) -> dict:
    """measure_quotes in a child process, its progress lines on this process's stderr; its JSON result."""
    out = work / f"quotes-{n_quotes}.json"
    command = [sys.executable, "-m", "solver.research_sweep", str(n_quotes), str(reps), str(out)]
    root = Path(__file__).resolve().parents[1]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, stdout=subprocess.DEVNULL, env=env)
    if done.returncode != 0:
        raise SweepError(f"measuring {n_quotes} quote(s) failed (exit {done.returncode}); its error is above")
    return json.loads(out.read_text())


def _child_main(argv: list[str]) -> None:
    from solver.progress import ProgressLines

    n_quotes, reps, out = int(argv[0]), int(argv[1]), Path(argv[2])
    progress = ProgressLines(sys.stderr).sub(f"{n_quotes} quote(s)")
    out.write_text(json.dumps(measure_quotes(n_quotes, reps, progress)))


# --- gas, in the parent ---------------------------------------------------------------------------


def verify_gas(results: list[dict], progress: Callable[[str, float | None], None]) -> list[int]:
    """Gas of one verifyProof transaction per result, each to the verifier generated from its key."""
    from prover import proof_from_json, verifying_key_from_json
    from verifier_contracts.client import Groth16VerifierClient
    from verifier_contracts.devnet import Anvil, find_anvil, in_process_web3

    progress("gas: starting a devnet (anvil when installed, else the in-process EVM)", None)
    anvil = Anvil().start() if find_anvil() else None
    try:
        w3 = anvil.web3() if anvil else in_process_web3()
        gas = []
        for result in results:
            n = result["row"]["quotes"]
            progress(f"{n} quote(s): deploying the verifier and sending verifyProof", None)
            verifier = Groth16VerifierClient.deploy(w3, verifying_key_from_json(result["verification_key"]))
            proof, public = proof_from_json(result["proof"]), [int(v) for v in result["public"]]
            arguments = verifier.arguments(proof, public)
            if verifier.call("verifyProof", *arguments) is not True:
                raise SweepError(f"the verifier rejects the {n}-quote proof")
            gas.append(verifier.transact("verifyProof", *arguments)["gasUsed"])
        return gas
    finally:
        if anvil:
            anvil.stop()


# --- the sweep -------------------------------------------------------------------------------------


def run_sweep(
    sizes: tuple[int, ...], reps: int, progress: Callable[[str, float | None], None], *, gas: bool = True
) -> list[SweepRow]:
    """Measure every N in sizes (each in a fresh process), then the gas of each N's proof."""
    results = []
    with tempfile.TemporaryDirectory(prefix="dlpe-bench-") as work:
        for i, n in enumerate(sizes):
            progress(f"measuring {n} quote(s) ({i + 1} of {len(sizes)})", None)
            results.append(run_quotes_in_fresh_process(n, reps, Path(work)))
    gas_used = verify_gas(results, progress) if gas else [None] * len(results)
    return [SweepRow(**(result["row"] | {"verify_gas": g})) for result, g in zip(results, gas_used)]


def machine() -> dict:
    import numba

    return {
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15_min": list(os.getloadavg()),
        "numba_threads": numba.get_num_threads(),
    }


def markdown_table(rows: list[SweepRow]) -> str:
    """The sweep as a Markdown table, one row per N."""
    head = (
        "| quotes | constraints | witness (s) | setup (s) | prove (s) | verify (s) | verify gas | proof (bytes) "
        "| peak memory (MiB) | fixed-point error / spot | float64 (ms) | prove / float64 |"
    )
    lines = [head, "|" + "---:|" * (head.count("|") - 1)]
    for r in rows:
        gas = f"{r.verify_gas:,}" if r.verify_gas is not None else "-"
        lines.append(
            f"| {r.quotes} | {r.constraints:,} | {r.witness_s:.2f} | {r.setup_s:.2f} | {r.prove_s:.2f} "
            f"| {r.verify_s:.3f} | {gas} | {r.proof_bytes} | {r.peak_rss_mib:,.0f} | {r.fixed_error_over_spot:.1e} "
            f"| {1e3 * r.float_s:.3f} | {r.proof_over_float:,.0f}x |"
        )
    return "\n".join(lines) + "\n"


def plot(rows: list[SweepRow], path: Path) -> None:
    """sweep.png: proof cost vs N, cost per quote vs N, proof latency vs float64 latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r.quotes for r in rows]
    fig, (cost, per_quote, latency) = plt.subplots(1, 3, figsize=(16, 4.8))
    for label, values in (
        ("witness", [r.witness_s for r in rows]),
        ("setup", [r.setup_s for r in rows]),
        ("prove", [r.prove_s for r in rows]),
        ("verify (Python)", [r.verify_s for r in rows]),
    ):
        cost.plot(n, values, marker="o", label=label)
        per_quote.plot(n, [v / q for v, q in zip(values, n)], marker="o", label=label)
    for axis, title, unit in ((cost, "proof cost vs N", "seconds"), (per_quote, "cost per quote vs N", "seconds per quote")):
        axis.set(xscale="log", yscale="log", xlabel="quotes N", ylabel=unit, title=title)
        axis.set_xticks(n, [str(q) for q in n])
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    constraints = per_quote.twinx()
    constraints.plot(n, [r.constraints / q for r, q in zip(rows, n)], "k--", marker="s", label="constraints / quote")
    constraints.set_ylabel("constraints per quote (dashed)")
    latency.plot(n, [r.prove_s for r in rows], marker="o", label="Groth16 proof")
    latency.plot(n, [r.float_s for r in rows], marker="o", label="float64 quotes (no proof)")
    for r in rows:
        latency.annotate(f"{r.proof_over_float:,.0f}x", (r.quotes, r.prove_s), textcoords="offset points", xytext=(4, 6))
    latency.set(xscale="log", yscale="log", xlabel="quotes N", ylabel="seconds", title="proof latency vs float latency")
    latency.set_xticks(n, [str(q) for q in n])
    latency.grid(True, which="both", alpha=0.3)
    latency.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_results(rows: list[SweepRow], out: Path, mode: str, reps: int) -> dict[str, Path]:
    """sweep.json, sweep.md and sweep.png in `out` (created); returns their paths by kind."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "sweep.json", "markdown": out / "sweep.md", "png": out / "sweep.png"}
    document = {
        "mode": mode,
        "reps": reps,
        "machine": machine(),
        "rows": [asdict(r) | {"proof_over_float": r.proof_over_float} for r in rows],
    }
    paths["json"].write_text(json.dumps(document, indent=2) + "\n")
    paths["markdown"].write_text(markdown_table(rows))
    plot(rows, paths["png"])
    return paths


if __name__ == "__main__":
    _child_main(sys.argv[1:])
