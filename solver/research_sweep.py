"""The research sweep behind `dlpe bench`: what proving N quotes costs against quoting them without a proof.

For each N (default 1, 4, 16, 64; --quick: 1 and 4) and each circuit mode (default both:
"bits", range checks as bit decompositions, proven with plain Groth16; "lookup", range
checks by one log-derivative lookup, proven with Groth16 and a committed challenge,
prover.committed) the batch circuit of N sample quotes (solver.samples.sample_batch_request,
the circuit of circuits.batch) is measured in a fresh process of its own, so that its
peak memory is its own:
  constraints, public inputs (lookup mode: the challenge is one more);
  witness_s   building the circuit and its witness (one pass: gadgets compute both; lookup
              mode: with the lookup settled and the committed statement drawn up);
  setup_s     a development setup (prover.setup, prover.committed.setup_committed; never
              saved, never reused); key_setup says what the keys are: development keys, and in
              lookup mode the commitment key's sigma is no ceremony's;
  prove_s     the fastest of `reps` proofs on the default backend, after one untimed
              proof that loads the kernels, with the key prepared once (lookup mode: the
              commitment, the challenge and the witness completed for it are part of it);
  verify_s    in Python (pairings by py_ecc; lookup mode: the challenge recomputed, one
              folded multi-pairing);
  proof_bytes the proof as the verifier contract takes it (A, C in G1, B in G2, uncompressed;
              lookup mode adds D and P, two G1 points);
  peak_rss_mib that process's peak resident memory (VmHWM), all of the above included;
  fixed_error the largest |fixed-point price - float64 price| over the N quotes (engine.fixed
              against engine.bsm with the same SVI smile), in currency and relative to spot;
              both modes prove the same fixed-point outputs bit for bit, so it is the same;
  float_s     the float64 path pricing the same N quotes (solver.demo.fast_path_quotes, the
              least of five of its 20-run means: the shared machine's load shows less).
Back in the parent, one devnet (anvil when installed, else the in-process EVM) deploys
each measurement's generated verifier (verifier_contracts.generate or, lookup mode,
generate_committed's folded one) and charges one verifyProof transaction: verify_gas.

Results go to --out as sweep.json, sweep.md (the Markdown table) and sweep.png (proof
cost vs N, cost per quote vs N, proof latency vs float latency; a line per mode).
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
from typing import Any, Callable

FULL_SIZES = (1, 4, 16, 64)
QUICK_SIZES = (1, 4)
MODES = ("bits", "lookup")
"""The circuit modes (circuits.builder.RangeCheckMode's values), in the order a sweep runs them."""


class SweepError(RuntimeError):
    """A measurement of the sweep failed (its process's own message is included)."""


@dataclass(frozen=True)
class SweepRow:
    """One (N, mode)'s measurements (see the module docstring for each field)."""

    quotes: int
    mode: str
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
    key_setup: str
    verify_gas: int | None = None

    @property
    def proof_over_float(self) -> float:
        """How many times longer proving takes than quoting with the float64 path."""
        return self.prove_s / self.float_s


# --- what differs between the modes' proofs -------------------------------------------------------


class PlainGroth16:
    """Bits mode's proof: Groth16 (prover), verified by verifier_contracts.generate's contract."""

    proof_bytes = 8 * 32  # A (2 words), B (4 words), C (2 words): what verifyProof takes

    def __init__(self, cs, statement):
        """cs: the built bits-mode system (statement: None, since no check went by lookup)."""
        self.r1cs, self.witness = cs.to_r1cs(), cs.witness()
        self.public = self.r1cs.public_values(self.witness)

    def setup(self, progress):
        import prover

        return prover.setup(self.r1cs, progress=progress)

    def prepare(self, pk, backend):
        import prover

        return prover.prepare(pk, backend)

    def prove(self, prepared, backend, check: bool):
        """(proof, public signals)."""
        import prover

        return prover.prove(prepared, self.witness, backend, check=check), self.public

    @staticmethod
    def verify(vk, public, proof) -> bool:
        import prover

        return prover.verify(vk, public, proof)

    @staticmethod
    def key_setup(vk) -> str:
        return vk.setup

    @staticmethod
    def to_json(vk, proof) -> dict[str, Any]:
        import prover

        return {"verification_key": prover.verifying_key_to_json(vk), "proof": prover.proof_to_json(proof)}

    @staticmethod
    def verifier_and_proof(w3, result: dict):
        """(the deployed verifier client, the proof) of a measurement's JSON result."""
        from prover import proof_from_json, verifying_key_from_json
        from verifier_contracts.client import Groth16VerifierClient

        verifier = Groth16VerifierClient.deploy(w3, verifying_key_from_json(result["verification_key"]))
        return verifier, proof_from_json(result["proof"])


class CommittedGroth16:
    """Lookup mode's proof: Groth16 with a committed challenge (prover.committed), verified by
    verifier_contracts.generate_committed's folded contract. Its keys are development keys:
    the commitment key's sigma is no ceremony's (prover.committed_keys.COMMITMENT_SETUP)."""

    proof_bytes = 12 * 32  # plain Groth16's 8 words, then the commitment D and its proof of knowledge P (2 each)

    def __init__(self, cs, statement):
        """cs: the built lookup-mode system; statement: its committed_statement."""
        if statement is None:
            raise SweepError("the batch settled no range check by lookup: there is nothing to commit to")
        self.statement = statement
        self.r1cs, self.witness = statement.r1cs, statement.witness

    def setup(self, progress):
        from prover.committed import setup_committed

        statement = self.statement
        return setup_committed(statement.r1cs, statement.committed_wires, statement.blinding_wire, progress=progress)

    def prepare(self, pk, backend):
        from prover.committed import prepare_committed

        return prepare_committed(pk, backend)

    def prove(self, prepared, backend, check: bool):
        """(proof, public signals: the batch's, then the challenge)."""
        from prover.committed import prove_committed

        return prove_committed(prepared, self.statement.witness, self.statement.witness_for_challenge, backend,
                               check=check)

    @staticmethod
    def verify(vk, public, proof) -> bool:
        from prover.committed import verify_committed

        return verify_committed(vk, public, proof)

    @staticmethod
    def key_setup(vk) -> str:
        return vk.vk.setup

    @staticmethod
    def to_json(vk, proof) -> dict[str, Any]:
        from prover.committed_formats import committed_proof_to_json, committed_verifying_key_to_json

        return {"verification_key": committed_verifying_key_to_json(vk), "proof": committed_proof_to_json(proof)}

    @staticmethod
    def verifier_and_proof(w3, result: dict):
        """(the deployed verifier client, the proof) of a measurement's JSON result."""
        from prover.committed_formats import committed_proof_from_json, committed_verifying_key_from_json
        from verifier_contracts.client import CommittedVerifierClient

        verifier = CommittedVerifierClient.deploy(w3, committed_verifying_key_from_json(result["verification_key"]))
        return verifier, committed_proof_from_json(result["proof"])


PROOF_KINDS = {"bits": PlainGroth16, "lookup": CommittedGroth16}
"""Each mode's proof kind: the one place the sweep's code path branches on the mode."""


def check_modes(modes: tuple[str, ...]) -> None:
    """SweepError unless modes is a non-empty tuple of distinct known modes."""
    unknown = [m for m in modes if m not in PROOF_KINDS]
    if unknown or not modes or len(set(modes)) != len(modes):
        raise SweepError(f"modes must be distinct values among {', '.join(MODES)}; got {', '.join(modes) or 'none'}")


# --- one N in one mode, in its own process ------------------------------------------------------


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


def measure_quotes(n_quotes: int, mode: str, reps: int, progress: Callable[[str, float | None], None]) -> dict:
    """Everything but the gas for an N-quote batch in `mode`, in this process (run it in a fresh one)."""
    from circuits.batch import batch_circuit
    from circuits.builder import ConstraintSystem
    from circuits.gadgets.logup import committed_statement
    from prover.backends import get_backend
    from solver.demo import fast_path_quotes
    from solver.kernels import compile_kernels
    from solver.samples import sample_batch_request

    check_modes((mode,))
    compile_kernels(lambda line: progress(line, None))
    request = sample_batch_request(n_quotes)
    progress(f"building the circuit and its witness ({mode} mode)", None)
    start = time.perf_counter()
    cs = ConstraintSystem(range_mode=mode)
    batch_circuit(cs, request)
    kind = PROOF_KINDS[mode](cs, committed_statement(cs))  # settles the range checks (lookup mode: the lookup)
    witness_s = time.perf_counter() - start

    start = time.perf_counter()
    pk, vk = kind.setup(progress)  # its stages read "setup: ..."
    setup_s = time.perf_counter() - start

    backend = get_backend()
    progress("proving (one untimed proof first)", None)
    prepared = kind.prepare(pk, backend)
    kind.prove(prepared, backend, check=True)  # loads the kernels, and checks every constraint once
    times = []
    for rep in range(reps):
        progress("proving", rep / reps)
        start = time.perf_counter()
        proof, public = kind.prove(prepared, backend, check=False)
        times.append(time.perf_counter() - start)
    progress("verifying in Python", None)
    start = time.perf_counter()
    if not kind.verify(vk, public, proof):
        raise SweepError(f"the {n_quotes}-quote proof ({mode} mode) does not verify")
    verify_s = time.perf_counter() - start

    progress("fixed-point error and the float64 path's latency", None)
    error, error_over_spot = fixed_point_error(request)
    return {
        "row": asdict(SweepRow(
            quotes=n_quotes,
            mode=mode,
            constraints=kind.r1cs.n_constraints,
            public_inputs=len(public),
            witness_s=witness_s,
            setup_s=setup_s,
            prove_s=min(times),
            prove_all_s=times,
            verify_s=verify_s,
            proof_bytes=kind.proof_bytes,
            peak_rss_mib=peak_rss_mib(),
            fixed_error=error,
            fixed_error_over_spot=error_over_spot,
            float_s=min(fast_path_quotes(request) for _ in range(5)),  # the least of 5 means of 20: load-robust
            backend=backend.name,
            key_setup=kind.key_setup(vk),
        )),
        **kind.to_json(vk, proof),
        "public": [str(v) for v in public],
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM, Linux) in MiB."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def run_quotes_in_fresh_process(n_quotes: int, mode: str, reps: int, work: Path,
                                log_file: Path | None = None) -> dict:
    """measure_quotes in a child process, its progress lines on this process's stderr (and log_file);
    its JSON result."""
    out = work / f"quotes-{n_quotes}-{mode}.json"
    command = [sys.executable, "-m", "solver.research_sweep", str(n_quotes), mode, str(reps), str(out)]
    if log_file is not None:
        command.append(str(Path(log_file).resolve()))
    root = Path(__file__).resolve().parents[1]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, stdout=subprocess.DEVNULL, env=env)
    if done.returncode != 0:
        raise SweepError(f"measuring {n_quotes} quote(s) in {mode} mode failed (exit {done.returncode}); "
                         "its error is above")
    return json.loads(out.read_text())


def _child_main(argv: list[str]) -> None:
    from solver.progress import ProgressLines

    n_quotes, mode, reps, out = int(argv[0]), argv[1], int(argv[2]), Path(argv[3])
    log_file = Path(argv[4]) if len(argv) > 4 else None
    progress = ProgressLines(sys.stderr, log_file=log_file).sub(f"{n_quotes} quote(s), {mode}")
    out.write_text(json.dumps(measure_quotes(n_quotes, mode, reps, progress)))


# --- gas, in the parent ---------------------------------------------------------------------------


def verify_gas(results: list[dict], progress: Callable[[str, float | None], None]) -> list[int]:
    """Gas of one verifyProof transaction per result, each to the verifier generated from its key for its mode."""
    from verifier_contracts.devnet import Anvil, find_anvil, in_process_web3

    progress("gas: starting a devnet (anvil when installed, else the in-process EVM)", None)
    anvil = Anvil().start() if find_anvil() else None
    try:
        w3 = anvil.web3() if anvil else in_process_web3()
        gas = []
        for result in results:
            n, mode = result["row"]["quotes"], result["row"]["mode"]
            progress(f"{n} quote(s), {mode}: deploying the verifier and sending verifyProof", None)
            verifier, proof = PROOF_KINDS[mode].verifier_and_proof(w3, result)
            arguments = verifier.arguments(proof, [int(v) for v in result["public"]])
            if verifier.call("verifyProof", *arguments) is not True:
                raise SweepError(f"the verifier rejects the {n}-quote proof ({mode} mode)")
            gas.append(verifier.transact("verifyProof", *arguments)["gasUsed"])
        return gas
    finally:
        if anvil:
            anvil.stop()


# --- the sweep -------------------------------------------------------------------------------------


def run_sweep(
    sizes: tuple[int, ...],
    reps: int,
    progress: Callable[[str, float | None], None],
    *,
    modes: tuple[str, ...] = MODES,
    gas: bool = True,
    log_file: Path | None = None,
) -> list[SweepRow]:
    """Measure every N in sizes in every mode (each in a fresh process, whose lines also go to log_file),
    then each proof's gas; rows by N, then in the order of modes."""
    check_modes(modes)
    results = []
    runs = [(n, mode) for n in sizes for mode in modes]
    with tempfile.TemporaryDirectory(prefix="dlpe-bench-") as work:
        for i, (n, mode) in enumerate(runs):
            progress(f"measuring {n} quote(s) in {mode} mode ({i + 1} of {len(runs)})", None)
            results.append(run_quotes_in_fresh_process(n, mode, reps, Path(work), log_file))
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


def key_notes(rows: list[SweepRow]) -> list[str]:
    """One line per mode saying what its keys are (every key of the sweep is a development key)."""
    setups: dict[str, set[str]] = {}
    for r in rows:
        setups.setdefault(r.mode, set()).add(r.key_setup)
    return [f"{mode} mode keys: {'; '.join(sorted(s))}" for mode, s in setups.items()]


def markdown_table(rows: list[SweepRow]) -> str:
    """The sweep as a Markdown table, one row per (N, mode), then a line per mode on its keys."""
    head = (
        "| quotes | mode | constraints | witness (s) | setup (s) | prove (s) | verify (s) | verify gas | proof (bytes) "
        "| peak memory (MiB) | fixed-point error / spot | float64 (ms) | prove / float64 |"
    )
    lines = [head, "|---:|:---|" + "---:|" * (head.count("|") - 3)]
    for r in rows:
        gas = f"{r.verify_gas:,}" if r.verify_gas is not None else "-"
        lines.append(
            f"| {r.quotes} | {r.mode} | {r.constraints:,} | {r.witness_s:.2f} | {r.setup_s:.2f} | {r.prove_s:.2f} "
            f"| {r.verify_s:.3f} | {gas} | {r.proof_bytes} | {r.peak_rss_mib:,.0f} | {r.fixed_error_over_spot:.1e} "
            f"| {1e3 * r.float_s:.3f} | {r.proof_over_float:,.0f}x |"
        )
    return "\n".join(lines) + "\n\n" + "".join(f"{note}\n" for note in key_notes(rows))


MODE_STYLE = {"bits": {"linestyle": "-", "marker": "o"}, "lookup": {"linestyle": "--", "marker": "s"}}


def plot(rows: list[SweepRow], path: Path) -> None:
    """sweep.png: proof cost vs N, cost per quote vs N, proof latency vs float64 latency; bits solid, lookup dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(dict.fromkeys(r.mode for r in rows))
    sizes = sorted({r.quotes for r in rows})
    fig, (cost, per_quote, latency) = plt.subplots(1, 3, figsize=(18, 5.4))
    constraints = per_quote.twinx()
    stages = (("witness", "witness_s"), ("setup", "setup_s"), ("prove", "prove_s"), ("verify (Python)", "verify_s"))
    for mode in modes:
        mine = [r for r in rows if r.mode == mode]
        n, style = [r.quotes for r in mine], MODE_STYLE[mode]
        for color, (label, field) in enumerate(stages):
            values = [getattr(r, field) for r in mine]
            cost.plot(n, values, color=f"C{color}", label=f"{label}, {mode}", **style)
            per_quote.plot(n, [v / q for v, q in zip(values, n)], color=f"C{color}", label=f"{label}, {mode}",
                           **style)
        constraints.plot(n, [r.constraints / r.quotes for r in mine], color="k", linestyle=style["linestyle"],
                         marker="x", alpha=0.6, label=f"constraints / quote, {mode}")
        latency.plot(n, [r.prove_s for r in mine], color="C2", label=f"Groth16 proof, {mode}", **style)
        for r in mine:
            latency.annotate(f"{r.proof_over_float:,.0f}x", (r.quotes, r.prove_s), textcoords="offset points",
                             xytext=(4, 6 if mode == modes[0] else -12), fontsize=8)
    # the float64 path is the same in every mode's process: its least measurement per N
    float_s = [min(r.float_s for r in rows if r.quotes == q) for q in sizes]
    latency.plot(sizes, float_s, color="C5", marker="o", label="float64 quotes (no proof)")
    constraints.set(yscale="log", ylabel="constraints per quote (black, x)")
    constraints.legend(loc="upper right", fontsize=8)
    for axis, title, unit in ((cost, "proof cost vs N", "seconds"),
                              (per_quote, "cost per quote vs N (colours as on the left)", "seconds per quote"),
                              (latency, "proof latency vs float latency", "seconds")):
        axis.set(xscale="log", yscale="log", xlabel="quotes N", ylabel=unit, title=title)
        axis.set_xticks(sizes, [str(q) for q in sizes])
        axis.grid(True, which="both", alpha=0.3)
    cost.legend(fontsize=8, loc="upper left")
    latency.legend(fontsize=8, loc="center right")
    latency.set_xlim(sizes[0] / 1.4, sizes[-1] * 2)  # room for the last ratio's label
    fig.suptitle("DLPE research sweep: bits mode solid, lookup mode dashed (development keys)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_results(rows: list[SweepRow], out: Path, sweep: str, reps: int) -> dict[str, Path]:
    """sweep.json, sweep.md and sweep.png in `out` (created); returns their paths by kind.

    sweep: which sizes were run ("full", "quick" or "custom")."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "sweep.json", "markdown": out / "sweep.md", "png": out / "sweep.png"}
    document = {
        "sweep": sweep,
        "modes": list(dict.fromkeys(r.mode for r in rows)),
        "reps": reps,
        "keys": key_notes(rows),
        "machine": machine(),
        "rows": [asdict(r) | {"proof_over_float": r.proof_over_float} for r in rows],
    }
    paths["json"].write_text(json.dumps(document, indent=2) + "\n")
    paths["markdown"].write_text(markdown_table(rows))
    plot(rows, paths["png"])
    return paths


if __name__ == "__main__":
    _child_main(sys.argv[1:])
