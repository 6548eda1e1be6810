"""Where the prover's peak memory comes from: resident-set peaks per stage of a setup and of a proof.

For each DLPE batch size (circuits.batch on solver.samples.sample_batch_request, as
benchmarks/bench_prover.py builds it) and each phase, a fresh process:
  setup  the constraint system read from its .r1cs (bn254.iden3.parse_r1cs, as bench_prover's
         worker reads it), prover.setup, then prover.write_zkey of the key;
  prove  the .r1cs and .wtns read, the key read back (prover.read_zkey), prover.prepare, one proof,
         then --repeats proofs timed (prove_s: the fastest; the machine's load average is recorded).
Each stage's peak is the process's VmHWM over that stage alone: the kernel's high-water
mark is reset (writing 5 to /proc/self/clear_refs) when the stage starts and read when it
ends, so kernels that never return to Python (numba's) are caught too. Setup stages follow
prover.setup's progress reports; proof stages are the backend's kernel calls (a proxy times
and measures each). "held" is the resident set when the stage ends. With --tracemalloc, the
Python and numpy allocations still held at the end of each phase are listed by source line
(numba's own allocations are not traced; the VmHWM figures include them).

The circuits are exported once into --work-dir (default: bench_prover's cache folder).

    python benchmarks/prover_memory.py [--quotes 16 64] [--phases setup prove] [--tracemalloc] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_WORK_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dlpe" / "bench_prover"


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current resident set (Linux >= 4.0)


class StageMeter:
    """Per-stage peak (VmHWM since the stage began) and held (VmRSS at its end) resident memory, MiB."""

    def __init__(self) -> None:
        self.stages: list[dict] = []
        self._name: str | None = None
        self._start = 0.0

    def begin(self, name: str) -> None:
        self.end()
        self._name, self._start = name, time.perf_counter()
        _reset_peak()

    def end(self) -> None:
        if self._name is None:
            return
        self.stages.append({"stage": self._name, "peak_mib": _status_kib("VmHWM") / 1024,
                            "held_mib": _status_kib("VmRSS") / 1024, "s": time.perf_counter() - self._start})
        self._name = None


class MeteredBackend:
    """A backend proxy that makes each kernel call a stage of the meter (same name: it uses the inner's keys)."""

    def __init__(self, inner, meter: StageMeter) -> None:
        self.inner, self.name, self.meter = inner, inner.name, meter

    def __getattr__(self, kernel: str):
        method = getattr(self.inner, kernel)

        def metered(*args):
            self.meter.begin(f"prove: {kernel}")
            result = method(*args)
            self.meter.end()
            return result

        return metered


def export(quotes: int, work: Path) -> tuple[Path, Path]:
    """The batch's .r1cs and .wtns in bench_prover's cache (written once, by bench_prover.export)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_prover import export as bench_export

    described = bench_export(f"batch-{quotes}", "batch", quotes, work)
    return Path(described["r1cs"]), Path(described["wtns"])


def worker(phase: str, r1cs_path: Path, wtns_path: Path, zkey_path: Path, traced: bool, repeats: int) -> dict:
    """One phase in this (fresh) process; its stages and, with traced, the top allocation sites held at the end."""
    import tracemalloc

    from bn254.iden3 import parse_r1cs, parse_wtns
    from prover import prepare, prove, read_zkey, setup, verify, write_zkey
    from prover.backends import get_backend

    get_backend().g1_msm([], [])  # load numba and the backend before the first stage
    meter = StageMeter()
    start_rss = _status_kib("VmRSS") / 1024
    if traced:
        tracemalloc.start(1)
    meter.begin("read .r1cs")
    r1cs = parse_r1cs(r1cs_path.read_bytes())
    row: dict = {"phase": phase, "constraints": r1cs.n_constraints, "wires": r1cs.n_wires, "start_mib": start_rss}
    if phase == "setup":
        pk, _ = setup(r1cs, progress=lambda stage, _fraction: meter.begin(stage))
        meter.begin("write .zkey")
        write_zkey(pk, zkey_path)
        meter.end()
    else:
        meter.begin("read .wtns")
        witness = parse_wtns(wtns_path.read_bytes())
        meter.begin("read .zkey")
        pk = read_zkey(zkey_path, r1cs, development=True)
        meter.begin("prepare")
        prepared = prepare(pk)
        meter.end()
        proof = prove(prepared, witness, backend=MeteredBackend(get_backend(), meter), check=False)
        row["verified"] = verify(pk.vk, r1cs.public_values(witness), proof)
        times = []
        for _ in range(repeats):  # after the metered one (which loaded the kernels), each timed alone
            start = time.perf_counter()
            prove(prepared, witness, check=False)
            times.append(time.perf_counter() - start)
        row["prove_s"], row["prove_all_s"] = min(times, default=None), times
    row["stages"] = meter.stages
    row["peak_mib"] = max(s["peak_mib"] for s in meter.stages)
    if traced:
        snapshot = tracemalloc.take_snapshot()
        row["held_by_line"] = [{"where": str(s.traceback[0]), "mib": s.size / 2**20, "blocks": s.count}
                               for s in snapshot.statistics("lineno")[:15]]
    return row


def run_worker(phase: str, r1cs: Path, wtns: Path, zkey: Path, traced: bool, repeats: int) -> dict:
    out = Path(tempfile.mkstemp(prefix=f"prover-memory-{phase}-", suffix=".json")[1])
    load_before = os.getloadavg()
    command = [sys.executable, __file__, "--worker", phase, str(r1cs), str(wtns), str(zkey), str(out),
               "--repeats", str(repeats)]
    if traced:
        command.append("--tracemalloc")
    subprocess.run(command, check=True, cwd=ROOT)
    row = json.loads(out.read_text())
    out.unlink()
    row["load_avg_before"], row["load_avg_after"] = load_before, os.getloadavg()
    return row


def print_row(quotes: int, row: dict) -> None:
    print(f"batch-{quotes} {row['phase']}: {row['constraints']:,} constraints, peak {row['peak_mib']:.0f} MiB"
          + (f", prove {row['prove_s']:.2f} s (best of {len(row['prove_all_s'])})" if row.get("prove_s") else "")
          + f" (start {row['start_mib']:.0f} MiB; load {row['load_avg_before'][0]:.1f})")
    for s in row["stages"]:
        print(f"    {s['stage']:<45} peak {s['peak_mib']:>7.0f}  held {s['held_mib']:>7.0f} MiB  {s['s']:>6.2f} s")
    for h in row.get("held_by_line", []):
        print(f"    held {h['mib']:>8.1f} MiB {h['blocks']:>9,} blocks  {h['where']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--phases", nargs="+", choices=("setup", "prove"), default=["setup", "prove"])
    parser.add_argument("--tracemalloc", action="store_true", help="also list what is held by source line")
    parser.add_argument("--repeats", type=int, default=3, help="proofs timed after the metered one (prove phase)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        phase, r1cs, wtns, zkey, out = args.worker
        row = worker(phase, Path(r1cs), Path(wtns), Path(zkey), args.tracemalloc, args.repeats)
        Path(out).write_text(json.dumps(row))
        return
    rows = []
    for quotes in args.quotes:
        r1cs, wtns = export(quotes, args.work_dir)
        with tempfile.TemporaryDirectory() as keys:
            zkey = Path(keys) / "circuit.zkey"
            for phase in ("setup", "prove"):
                if phase == "prove" and "prove" not in args.phases:
                    break
                row = run_worker(phase, r1cs, wtns, zkey, args.tracemalloc, args.repeats)
                row["quotes"] = quotes
                if phase in args.phases:
                    rows.append(row)
                    print_row(quotes, row)
    if args.out:
        args.out.write_text(json.dumps({"rows": rows, "cpu_count": os.cpu_count()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
