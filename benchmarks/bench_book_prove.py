"""Proving the real-book check: the book update (zero-quote book batch, as benchmarks/bench_book.py builds it)
for P positions over 4 expiries, in both range-check modes (bits: plain Groth16; lookup: the log-derivative
lookup over a committed challenge, proven with prover.committed).

Per (P, mode), each phase in a fresh process, one at a time:
- build: constraints, wires, the lookup's limb width and committed wires, witness time (build + settle);
- setup: a fresh development setup (setup_s) and saving its keys (key_bytes);
- prove: the circuit built again, the keys loaded and prepared, then proofs timed (prove_s: the fastest,
  prove_all_s: each) and one Python verification.
Peak memory is each phase process's VmHWM (its own high-water resident set, which the parent's size
cannot inflate), with the kernel's wait4 maxrss beside it. The load average of this machine
(os.getloadavg) is recorded before and after every phase: other jobs share the cores, so every time is
an upper bound. Setup and prove run for the sizes given by --prove-sizes; a larger size runs them only
when the largest measured size's peak memory, scaled by positions, stays below --memory-limit-gb (else
the JSON records "not run: predicted N GB"). Ratios are lookup over bits, measured in the same run.

Writes benchmarks/results/book_prove.json and book_prove.png.

    python benchmarks/bench_book_prove.py [--sizes 16 64 256] [--prove-sizes 16 64] [--memory-limit-gb 12]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

RESULTS = Path(__file__).resolve().parent / "results"
MODES = ("bits", "lookup")
FILLS = 8
SEED = 10
PHASES = ("build", "setup", "prove")
GIB_PER_GB = 1e9 / 2**30
TIMING_NOTE = ("upper bounds: this machine's cores are shared with other jobs (load averages recorded per phase); "
               "each phase runs in a fresh process, one process at a time")


# -- the phases, each in a fresh process -----------------------------------------------------------


def _build(positions: int, mode: str):
    """The settled book-update circuit and the seconds to build it (witness included)."""
    from bench_book import book_update_request
    from circuits import book_batch as bb
    from circuits.builder import ConstraintSystem

    req = book_update_request(positions, min(FILLS, positions), random.Random(SEED))
    start = time.perf_counter()
    cs = ConstraintSystem(range_mode=mode)
    bb.book_batch_circuit(cs, req)
    cs.finish()
    return cs, time.perf_counter() - start


def _peak_rss_mib() -> float:
    """This process's VmHWM: its own peak resident set (not inherited over fork and exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def worker(phase: str, mode: str, positions: int, keys: Path) -> dict:
    """One phase (module doc) for one circuit; keys: the folder the setup writes and the prove reads."""
    from circuits.gadgets.logup import committed_statement

    cs, witness_s = _build(positions, mode)
    row: dict = {"witness_s": witness_s}
    statement = committed_statement(cs) if mode == "lookup" else None
    r1cs = statement.r1cs if statement else cs.to_r1cs()
    if phase == "build":
        settlement = statement.settlement if statement else None
        row.update(constraints=r1cs.n_constraints, wires=r1cs.n_wires, public_signals=r1cs.n_public,
                   limb_bits=settlement.limb_bits if settlement else None,
                   lookup_checks=settlement.n_lookup_checks if settlement else 0,
                   committed_wires=len(statement.committed_wires) if statement else 0)
    elif phase == "setup":
        row.update(_setup(r1cs, statement, keys))
    else:
        row.update(_prove(r1cs, cs, statement, keys, witness_s))
    row["peak_rss_mib"] = _peak_rss_mib()
    return row


def _setup(r1cs, statement, keys: Path) -> dict:
    from prover import setup
    from prover.committed import setup_committed
    from prover.committed_keystore import committed_fingerprint, save_committed_keys
    from prover.keystore import circuit_fingerprint, save_keys

    start, cpu = time.perf_counter(), time.process_time()
    if statement is None:
        pk, _ = setup(r1cs)
        setup_s, setup_cpu_s = time.perf_counter() - start, time.process_time() - cpu
        save_keys(pk, keys, circuit_fingerprint(r1cs))
    else:
        pk, _ = setup_committed(r1cs, statement.committed_wires, statement.blinding_wire)
        setup_s, setup_cpu_s = time.perf_counter() - start, time.process_time() - cpu
        save_committed_keys(pk, keys, committed_fingerprint(r1cs, statement.committed_wires, statement.blinding_wire))
    return {"setup_s": setup_s, "setup_cpu_s": setup_cpu_s, "key_bytes": sum(f.stat().st_size for f in keys.iterdir())}


def _prove(r1cs, cs, statement, keys: Path, witness_s: float) -> dict:
    from prover import prepare, prove, verify
    from prover.committed import prepare_committed, prove_committed, verify_committed
    from prover.committed_keystore import load_committed_keys
    from prover.keystore import load_keys

    repeats = 2 if r1cs.n_constraints < 300_000 else 1
    times, cpu_times = [], []
    start = time.perf_counter()
    if statement is None:
        pk, vk = load_keys(keys, r1cs)
        key_load_s = time.perf_counter() - start
        start = time.perf_counter()
        prepared = prepare(pk)
        prepare_s = time.perf_counter() - start
        witness = cs.witness()
        for _ in range(repeats):
            start, cpu = time.perf_counter(), time.process_time()
            proof = prove(prepared, witness, check=False)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu)
        public = r1cs.public_values(witness)
        start = time.perf_counter()
        ok = verify(vk, public, proof)
    else:
        pk, vk = load_committed_keys(keys, r1cs, statement.committed_wires, statement.blinding_wire)
        key_load_s = time.perf_counter() - start
        start = time.perf_counter()
        prepared = prepare_committed(pk)
        prepare_s = time.perf_counter() - start
        for _ in range(repeats):
            start, cpu = time.perf_counter(), time.process_time()
            proof, public = prove_committed(prepared, statement.witness, statement.witness_for_challenge, check=False)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu)
        start = time.perf_counter()
        ok = verify_committed(vk, public, proof)
    verify_s = time.perf_counter() - start
    if not ok:
        raise SystemExit(f"the {'bits' if statement is None else 'lookup'} book proof does not verify")
    return {"key_load_s": key_load_s, "prepare_s": prepare_s, "prove_s": min(times), "prove_all_s": times,
            "witness_plus_prove_s": witness_s + min(times),
            "prove_cpu_s": cpu_times,
            "verify_python_s": verify_s, "verified": ok}


def run_phase(phase: str, mode: str, positions: int, keys: Path) -> dict:
    """Run one phase in a fresh process; its row, with the load average around it and wait4's maxrss."""
    out = Path(tempfile.mkstemp(prefix=f"bench-book-{phase}-{mode}-{positions}-", suffix=".json")[1])
    load_before = os.getloadavg()
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--worker", phase, mode, str(positions), str(keys), str(out)])
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{phase} {mode} {positions}: the worker exited with {child.returncode}")
    row = json.loads(out.read_text())
    out.unlink()
    row.update(process_wall_s=time.perf_counter() - start, wait4_maxrss_mib=usage.ru_maxrss / 1024,
               load_avg_before=load_before, load_avg_after=os.getloadavg())
    print(f"{phase:5s} {mode:6s} P={positions:<4d} {json.dumps(row)}", file=sys.stderr, flush=True)
    return row


def measure_size(positions: int, mode: str, prove: bool) -> dict:
    """Build, and when `prove`, setup and prove; keys live in a temporary folder removed afterwards."""
    result = {"positions": positions, "expiries": 4, "fills": min(FILLS, positions), "mode": mode,
              "build": run_phase("build", mode, positions, Path(os.devnull))}
    if prove:
        keys = Path(tempfile.mkdtemp(prefix=f"bench-book-keys-{mode}-{positions}-"))
        try:
            shutil.rmtree(keys)  # setup saves into a folder that does not exist yet
            result["setup"] = run_phase("setup", mode, positions, keys)
            result["prove"] = run_phase("prove", mode, positions, keys)
        finally:
            shutil.rmtree(keys, ignore_errors=True)
    return result


def peak_gib(row: dict) -> float:
    """The largest peak resident set of a measured size's phases, in GiB."""
    return max(row[p]["peak_rss_mib"] for p in PHASES if p in row) / 1024


# -- the report -----------------------------------------------------------------------------------------


def ratios(rows: list[dict]) -> list[dict]:
    """Lookup over bits, per size, for each measured figure both modes have."""
    by = {(r["positions"], r["mode"]): r for r in rows}
    out = []
    for p in sorted({r["positions"] for r in rows}):
        bits, lookup = by.get((p, "bits")), by.get((p, "lookup"))
        if not bits or not lookup:
            continue
        ratio = {"positions": p}
        for phase, key in (("build", "constraints"), ("build", "witness_s"), ("setup", "setup_s"),
                           ("prove", "prove_s"), ("setup", "peak_rss_mib"), ("prove", "peak_rss_mib")):
            if isinstance(bits.get(phase), dict) and isinstance(lookup.get(phase), dict):
                ratio[f"{phase}_{key}"] = lookup[phase][key] / bits[phase][key]
        out.append(ratio)
    return out


def _plot(rows: list[dict]) -> None:
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    for mode, color, marker in zip(MODES, ("tab:blue", "tab:orange"), ("o", "s")):
        mine = [r for r in rows if r["mode"] == mode]
        ax[0].plot([r["positions"] for r in mine], [r["build"]["constraints"] for r in mine], marker=marker,
                   color=color, label=mode)
        proven = [r for r in mine if isinstance(r.get("prove"), dict)]
        p = [r["positions"] for r in proven]
        ax[1].plot(p, [r["setup"]["setup_s"] for r in proven], marker=marker, color=color, linestyle=":",
                   label=f"{mode} setup")
        ax[1].plot(p, [r["prove"]["witness_plus_prove_s"] for r in proven], marker=marker, color=color,
                   label=f"{mode} witness + prove")
        ax[2].plot(p, [peak_gib(r) for r in proven], marker=marker, color=color, label=mode)
    ax[0].set(yscale="log", ylabel="constraints", title="book update: constraints")
    ax[1].axhline(60, color="gray", linestyle="--", label="goal at 256 positions: 60 s")
    ax[1].set(ylabel="seconds (upper bounds: shared cores)", title="setup, and witness + one proof")
    ax[2].set(ylabel="GiB", title="peak resident memory (setup or prove process)")
    sizes = sorted({r["positions"] for r in rows})
    for a in ax:
        a.set_xscale("log")
        a.set_xticks(sizes, [str(s) for s in sizes])
        a.minorticks_off()
        a.set_xlabel("positions (4 expiries)")
        a.legend()
    fig.suptitle("DLPE real-book check (zero-quote book batch): bits vs lookup range checks")
    fig.tight_layout()
    fig.savefig(RESULTS / "book_prove.png", dpi=120)
    plt.close(fig)


def _table(rows: list[dict]) -> None:
    """The README's rows: positions | mode | constraints | witness | setup | prove | peak memory."""
    print("| positions | mode | constraints | witness | setup | prove | peak memory |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        b = r["build"]
        if isinstance(r.get("prove"), dict):
            setup, prove = f"{r['setup']['setup_s']:.1f} s", f"{r['prove']['prove_s']:.1f} s"
            peak = f"{peak_gib(r):.2f} GiB"
        else:
            setup = prove = "not run"
            peak = r.get("prove", "not run")
        print(f"| {r['positions']} | {r['mode']} | {b['constraints']:,} | {b['witness_s']:.1f} s | {setup} | {prove} "
              f"| {peak} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--prove-sizes", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--memory-limit-gb", type=float, default=12.0)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--worker", nargs=5, metavar=("PHASE", "MODE", "P", "KEYS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        phase, mode, positions, keys, out = args.worker
        Path(out).write_text(json.dumps(worker(phase, mode, int(positions), Path(keys))))
        return

    rows: list[dict] = []
    for positions in sorted(args.sizes):
        for mode in args.modes:
            measured = [r for r in rows if r["mode"] == mode and isinstance(r.get("prove"), dict)]
            prove, reason = positions in args.prove_sizes, None
            if not prove and measured:
                largest = max(measured, key=lambda r: r["positions"])
                predicted_gb = peak_gib(largest) * positions / largest["positions"] / GIB_PER_GB
                prove = predicted_gb < args.memory_limit_gb
                if not prove:
                    reason = (f"not run: predicted {predicted_gb:.1f} GB ({largest['positions']}-position peak "
                              f"{peak_gib(largest):.2f} GiB scaled by positions; limit {args.memory_limit_gb} GB)")
            elif not prove:
                reason = "not run: not among --prove-sizes"
            row = measure_size(positions, mode, prove)
            if reason:
                row["setup"] = row["prove"] = reason
            rows.append(row)

    result = {
        "what": "zero-quote book batch (open the book, apply F fills, close it, price every slot on its expiry's "
                "smile, mark, risk outcome), P positions over 4 expiries",
        "timing_note": TIMING_NOTE,
        "peak_memory": "VmHWM of each phase's own process (build + setup, or build + key load + prove)",
        "goal_256": "one proof of 256 positions in under 60 s on this 2-core machine: compare witness_plus_prove_s "
                    "(the witness built and one proof; the key loaded and prepared beforehand, as a running "
                    "prover holds it)",
        "prove_s": "fastest of prove_all_s (two proofs below 300,000 constraints, else one), key prepared, in-process",
        "cpu_s": "setup_cpu_s / prove_cpu_s: process CPU time (all threads); wall far above CPU/2 means waiting "
                 "for cores other jobs held",
        "rows": rows,
        "lookup_over_bits": ratios(rows),
        "machine": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "book_prove.json").write_text(json.dumps(result, indent=2) + "\n")
    _plot(rows)
    _table(rows)
    for ratio in result["lookup_over_bits"]:
        print(json.dumps(ratio))


if __name__ == "__main__":
    main()
