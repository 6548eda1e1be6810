"""Groth16 prove time and memory: DLPE's prover against snarkjs and arkworks, same R1CS, witness and zkey.

Workloads (both exported by bn254.iden3 as .r1cs/.wtns):
  chain-2^k  a multiplication chain with 2^k - 3 constraints (x public, y private,
             out = y x^m public), so that the QAP domain is exactly 2^k, k = 12 .. 18;
  batch-N    the DLPE batch circuit (circuits.batch) for N = 1, 4, 16, 64 quotes of
             solver.samples.sample_batch_request: mostly bit decompositions, so most
             witness values are 0 or 1.
Keys: one snarkjs ceremony per circuit, reproducible as verifier_contracts.snarkjs's test
ceremony is (powers of tau and phase 2 each get one contribution from a fixed public
beacon): `powersoftau new/beacon/prepare phase2` once, big enough for the largest domain
(a power p serves domains up to 2^(p-1)), then `groth16 setup` + `zkey beacon`, all
cached under --work-dir by the hash of the .r1cs. Never use such keys for value.

Provers, each in its own subprocess, whose peak resident memory (VmHWM) is reported (for dlpe also
the resident set after the imports, after reading the circuit, after loading the key; the shared
libraries' page cache is dropped first, see drop_library_page_cache):
  dlpe-fast       prover.prove, fast backend, with prover.read_zkey's key for the same zkey;
  dlpe-reference  the same on the reference backend (py_ecc), smallest chain only, one proof;
  snarkjs         snarkjs.groth16.prove (the pinned 0.7.6, as a library in node);
  arkworks        groth16py (PyPI, GPL-3.0: benchmark extra only, never imported by the
                  packages): import_zkey on the zkey, prove_wtns on the .wtns.
Each loads its key once ("key load": for dlpe, read_zkey then prover.prepare, which
converts the key's points to the backend's layout), makes one untimed warm-up proof
("first proof": numba loads its cached kernels, snarkjs builds its wasm curve), then
--reps timed proofs (dlpe without the full constraint check, as the peers); the table
shows the fastest. "cpu" is the process's CPU time over that proof (all threads).
Every proof (warm-up included) is verified by prover.verify against snarkjs's
verification_key.json. For dlpe-fast one more, untimed, proof is split into backend
kernels and the rest (R1CS checks and evaluations in Python, in prover.proving/qap).

JIT compile time (fresh interpreter, empty NUMBA_CACHE_DIR) is measured apart, as is
the cached load of the kernels in a fresh process, and the cost of one F_q Montgomery
product with the backend's 64x64 -> 128-bit intrinsic against 32-bit halves.

    python benchmarks/bench_prover.py [--quick] [--reps N] [--work-dir DIR]
        --quick: chains 2^12 .. 2^14 and batches of 1 and 4 quotes (a few minutes once keys are cached)
        --chains K.. / --batches N..: only these workloads (written as prover_custom.json/.png)

G1 MSM per point per core (a fresh interpreter with one numba thread, 2^16 and 2^18 random
points and scalars) is reported next to gnark-crypto's published ~4 us/point on one core.

Writes benchmarks/results/prover.json and .png for a full run (the README's table), prover_quick.*
or prover_custom.* otherwise; prints the table with ratios to the fastest peer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bn254.iden3 import container_bytes, parse_r1cs, parse_wtns, write_r1cs, write_wtns  # noqa: E402
from verifier_contracts.snarkjs import BEACON_ITERATIONS_EXP, SNARKJS_CLI, TEST_BEACON  # noqa: E402

# matplotlib and the circuits (with the engine they bring) load where they are used: a prover's
# worker process imports this module, and they would add ~50 MiB to the memory it measures.

RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_WORK_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dlpe" / "bench_prover"
PROVERS = ("dlpe-fast", "snarkjs", "arkworks", "dlpe-reference")
PEERS = ("snarkjs", "arkworks")
SNARKJS_TIMEOUT_S = 6 * 3600  # phase 2 preparation of 2^19 powers takes hours on two shared cores

SNARKJS_WORKER = """
const snarkjs = require(process.argv[2]);
const fs = require("fs");
async function main() {
    const [zkey, wtns, reps, out] = [process.argv[3], process.argv[4], Number(process.argv[5]), process.argv[6]];
    const proofs = [], wall = [], cpu = [];
    const t0 = process.hrtime.bigint();
    await snarkjs.zKey.exportVerificationKey(zkey);  // reads the key and builds the wasm curve
    const keyLoad = Number(process.hrtime.bigint() - t0) / 1e9;
    for (let i = 0; i <= reps; i++) {
        const c = process.cpuUsage(), t = process.hrtime.bigint();
        const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtns);
        wall.push(Number(process.hrtime.bigint() - t) / 1e9);
        const used = process.cpuUsage(c);
        cpu.push((used.user + used.system) / 1e6);
        proofs.push(proof);
    }
    const peak = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))[1];
    fs.writeFileSync(out, JSON.stringify({ key_load_s: keyLoad, wall_s: wall, cpu_s: cpu, proofs,
                                           peak_rss_mib: Number(peak) / 1024 }));
    process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
"""


# --- workloads ---------------------------------------------------------------------------------


def multiplication_chain(n_constraints: int, x: int = 3, y: int = 11):
    """out = y * x^(n-1): public x, private y, n - 1 products and the output constraint."""
    from circuits.builder import ConstraintSystem

    cs = ConstraintSystem()
    base = cs.public_input("x", x)
    acc = cs.private_input("y", y)
    with cs.scope("chain"):
        for i in range(n_constraints - 1):
            acc = cs.mul(acc, base, f"step{i}")
    cs.public_output("out", acc)
    return cs


def batch(n_quotes: int):
    from circuits.batch import batch_circuit
    from circuits.builder import ConstraintSystem
    from solver.samples import sample_batch_request

    cs = ConstraintSystem()
    batch_circuit(cs, sample_batch_request(n_quotes))
    return cs


def workloads(quick: bool, chains: list[int] | None = None, batches: list[int] | None = None) -> list[tuple[str, str, int]]:
    """(name, kind, size): chains by domain power, batches by quotes (given lists replace the defaults)."""
    if chains is None:
        chains = list(range(12, 15) if quick else range(12, 19))
    if batches is None:
        batches = [1, 4] if quick else [1, 4, 16, 64]
    return [(f"chain-2^{k}", "chain", k) for k in chains] + [(f"batch-{n}", "batch", n) for n in batches]


def export(name: str, kind: str, size: int, work: Path) -> dict:
    """Write the workload's .r1cs/.wtns (cached by name) and return its description."""
    r1cs_path, wtns_path = work / "circuits" / f"{name}.r1cs", work / "circuits" / f"{name}.wtns"
    if not (r1cs_path.is_file() and wtns_path.is_file()):
        r1cs_path.parent.mkdir(parents=True, exist_ok=True)
        cs = multiplication_chain((1 << size) - 3) if kind == "chain" else batch(size)
        r1cs, witness = cs.to_r1cs(), cs.witness()
        write_r1cs(r1cs, r1cs_path)
        write_wtns(witness, wtns_path)
    r1cs = parse_r1cs(r1cs_path.read_bytes())
    witness = parse_wtns(wtns_path.read_bytes())
    from prover.qap import domain_power

    return {
        "name": name,
        "kind": kind,
        "size": size,
        "constraints": r1cs.n_constraints,
        "wires": r1cs.n_wires,
        "domain_power": domain_power(r1cs),
        "witness_zeros": sum(1 for v in witness if v == 0) / len(witness),
        "witness_ones": sum(1 for v in witness if v == 1) / len(witness),
        "r1cs": str(r1cs_path),
        "wtns": str(wtns_path),
    }


# --- snarkjs ceremony (cached) ------------------------------------------------------------------


def snarkjs(*args: str | Path) -> None:
    command = ["node", "--max-old-space-size=16384", str(SNARKJS_CLI), *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=SNARKJS_TIMEOUT_S)
    if done.returncode != 0 or "[ERROR]" in done.stdout:
        raise RuntimeError(f"snarkjs {' '.join(map(str, args[:2]))} failed:\n{done.stdout}\n{done.stderr}")


PTAU_ENTROPY = b"DLPE bench_prover powers of tau: fixed entropy, public, never for value"


def ceremony_secrets() -> tuple[int, int, int]:
    """tau, alpha, beta of the benchmark's phase 1, from a fixed public string (anyone can recompute them)."""
    from bn254.constants import R

    def secret(label: bytes) -> int:
        return int.from_bytes(hashlib.sha256(PTAU_ENTROPY + label).digest(), "big") % (R - 1) + 1

    return secret(b"tau"), secret(b"alpha"), secret(b"beta")


def _lagrange_scalars(tau_powers, p: int):
    """Standard-form limbs of L_i(tau), i < 2^p, for snarkjs's domain of size 2^p.

    As snarkjs's `prepare phase2` (ffjavascript's G.ifft of the powers section) forms
    them: the inverse DFT of [tau^0 .. tau^(2^p - 1)]. Its last group, p = power + 1,
    transforms the 2^(power+1) - 1 stored powers with a zero appended, and so do we.
    """
    import numpy as np

    from bn254.constants import R, root_of_unity
    from prover.backends import fast_ntt
    from prover.backends.fast_field import fr_from_montgomery, fr_to_montgomery, ints_to_limbs

    n = 1 << p
    values = np.zeros((n, 4), np.uint64)
    values[: min(n, tau_powers.shape[0])] = tau_powers[:n]
    omega_inv = pow(root_of_unity(p), R - 2, R)
    twiddles = fast_ntt.powers(tuple(fr_to_montgomery(ints_to_limbs([omega_inv], R))[0]), max(1, n // 2))
    n_inv = tuple(fr_to_montgomery(ints_to_limbs([pow(n, R - 2, R)], R))[0])
    return fr_from_montgomery(fast_ntt.vec_scale(fast_ntt.ntt(values, twiddles), n_inv))


def write_powers_of_tau(power: int, path: Path, prepared: bool = True) -> None:
    """A phase-1 file of 2^power powers for the secrets of ceremony_secrets(), in snarkjs's .ptau format.

    What `snarkjs powersoftau new`, one contribution of these secrets and `prepare phase2`
    would write (the contribution's transcript aside: section 7 lists none), computed
    directly with the fast backend's fixed-base multiplications: snarkjs's own phase 2
    preparation took 89 s for 2^12 powers here and grows as n log n, hours for 2^19.
    Sections (snarkjs src/powersoftau_new.js, powersoftau_preparephase2.js), points
    affine with Montgomery coordinates, little-endian, which is the backend's limb layout:
      1 header: n8 = 32, q, power, ceremony power
      2 tau^i G1, i < 2^(power+1) - 1     3 tau^i G2, i < 2^power
      4 alpha tau^i G1, i < 2^power       5 beta tau^i G1, i < 2^power
      6 beta G2                           7 contributions: none
      12..15 (prepared): the Lagrange forms L_i(tau) of sections 2..5, for each domain
             2^p, p = 0 .. power (and p = power + 1 for section 12), in that order.
    """
    import numpy as np

    from bn254.constants import R
    from prover.backends import fast_ntt
    from prover.backends.fast import g1_limbs, g2_limbs
    from prover.backends.fast_field import FQ2_ZERO, ZERO, fr_from_montgomery, fr_to_montgomery, ints_to_limbs
    from prover.backends.fast_fixed_base import fixed_base_muls
    from bn254.constants import G1_GENERATOR, G2_GENERATOR, Q

    tau, alpha, beta = ceremony_secrets()
    g1, g2 = g1_limbs([G1_GENERATOR])[0], g2_limbs([G2_GENERATOR])[0]
    n = 1 << power
    tau_powers = fast_ntt.powers(tuple(fr_to_montgomery(ints_to_limbs([tau], R))[0]), 2 * n - 1)  # Montgomery

    def scaled(factor: int, count: int):
        factor_limbs = tuple(fr_to_montgomery(ints_to_limbs([factor], R))[0])
        return fr_from_montgomery(fast_ntt.vec_scale(tau_powers[:count], factor_limbs))

    def g1_points(scalars) -> bytes:
        return fixed_base_muls(g1, np.ascontiguousarray(scalars), ZERO).tobytes()

    def g2_points(scalars) -> bytes:
        return fixed_base_muls(g2, np.ascontiguousarray(scalars), FQ2_ZERO).tobytes()

    header = (32).to_bytes(4, "little") + Q.to_bytes(32, "little") + power.to_bytes(4, "little") * 2
    sections = [
        (1, header),
        (2, g1_points(scaled(1, 2 * n - 1))),
        (3, g2_points(scaled(1, n))),
        (4, g1_points(scaled(alpha, n))),
        (5, g1_points(scaled(beta, n))),
        (6, g2_points(ints_to_limbs([beta], R))),
        (7, (0).to_bytes(4, "little")),
    ]
    if prepared:
        lagrange = [_lagrange_scalars(tau_powers, p) for p in range(power + 2)]
        factors = {12: 1, 13: 1, 14: alpha, 15: beta}
        for kind, factor in factors.items():
            chunks = []
            for p in range(power + 2 if kind == 12 else power + 1):
                scalars = lagrange[p] if factor == 1 else _scale_standard(lagrange[p], factor)
                chunks.append(g2_points(scalars) if kind == 13 else g1_points(scalars))
            sections.append((kind, b"".join(chunks)))
    path.write_bytes(container_bytes(b"ptau", 1, sections))


def _scale_standard(scalars, factor: int):
    """factor * scalars (standard-form limbs in and out)."""
    from bn254.constants import R
    from prover.backends import fast_ntt
    from prover.backends.fast_field import fr_from_montgomery, fr_to_montgomery, ints_to_limbs

    factor_limbs = tuple(fr_to_montgomery(ints_to_limbs([factor], R))[0])
    return fr_from_montgomery(fast_ntt.vec_scale(fr_to_montgomery(scalars), factor_limbs))


def powers_of_tau(power: int, work: Path) -> Path:
    """A prepared phase-1 file of at least 2^power powers: a cached one, or written now (write_powers_of_tau)."""
    folder = work / "ptau"
    folder.mkdir(parents=True, exist_ok=True)
    for p in range(power, 29):
        if (folder / f"pot{p}.ptau").is_file():
            return folder / f"pot{p}.ptau"
    print(f"  powers of tau 2^{power} (once; cached in {folder}) ...", flush=True)
    partial = folder / f"pot{power}.ptau.partial"
    write_powers_of_tau(power, partial)
    return partial.rename(folder / f"pot{power}.ptau")


def zkey_for(workload: dict, ptau: Path, work: Path) -> tuple[Path, Path]:
    """snarkjs's (zkey, verification_key.json) for the workload's .r1cs, cached by its hash."""
    digest = hashlib.sha256(Path(workload["r1cs"]).read_bytes()).hexdigest()[:16]
    folder = work / "keys" / f"{workload['name']}-{digest}"
    zkey, vk = folder / "final.zkey", folder / "verification_key.json"
    if not vk.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        print(f"  zkey for {workload['name']} (once; cached) ...", flush=True)
        snarkjs("groth16", "setup", workload["r1cs"], ptau, folder / "initial.zkey")
        snarkjs("zkey", "beacon", folder / "initial.zkey", zkey, TEST_BEACON, BEACON_ITERATIONS_EXP)
        (folder / "initial.zkey").unlink()
        snarkjs("zkey", "export", "verificationkey", zkey, vk)
    return zkey, vk


# --- workers: one subprocess per prover and workload ---------------------------------------------


def dlpe_worker(backend_name: str, r1cs_path: str, wtns_path: str, zkey: str, reps: int, out: str) -> None:
    """Load the zkey, warm up, time `reps` proofs; write timings and proofs to `out` (JSON)."""
    from prover import prepare, proof_to_json, prove, read_zkey
    from prover.backends import get_backend

    backend = get_backend(backend_name)
    backend.g1_msm([(0, 0)], [0])  # numba and a first kernel loaded: the fixed cost of the process
    rss = {"imports": rss_mib()}
    r1cs = parse_r1cs(Path(r1cs_path).read_bytes())
    witness = parse_wtns(Path(wtns_path).read_bytes())
    rss["circuit"] = rss_mib()
    start = time.perf_counter()
    pk = prepare(read_zkey(zkey, r1cs), backend)  # the key load includes converting it to the backend's layout
    key_load = time.perf_counter() - start
    rss["key"] = rss_mib()
    wall, cpu, proofs = [], [], []
    for _ in range(reps + 1):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        proofs.append(proof_to_json(prove(pk, witness, backend=backend, check=False)))
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    split = {}
    if backend_name == "fast":
        timed = KernelTimer(backend)
        start_wall = time.perf_counter()
        proofs.append(proof_to_json(prove(pk, witness, backend=timed, check=False)))
        total = time.perf_counter() - start_wall
        split = {"backend_s": timed.seconds, "outside_backend_s": total - sum(timed.seconds.values())}
    Path(out).write_text(json.dumps({"key_load_s": key_load, "wall_s": wall, "cpu_s": cpu, "proofs": proofs,
                                     "split": split, "peak_rss_mib": peak_rss_mib(), "rss_after_mib": rss}))


class KernelTimer:
    """A backend proxy that adds up the wall time of each kernel call."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.seconds = inner, inner.name, {}  # same name: it may use inner's prepared keys

    def __getattr__(self, kernel: str):
        method = getattr(self.inner, kernel)

        def timed(*args):
            start = time.perf_counter()
            result = method(*args)
            self.seconds[kernel] = self.seconds.get(kernel, 0.0) + time.perf_counter() - start
            return result

        return timed


def arkworks_worker(wtns_path: str, zkey: str, reps: int, out: str) -> None:
    """groth16py: import_zkey, then prove_wtns; proofs are EIP-197 bytes (G2 as c1, c0)."""
    import groth16py
    from groth16py import _groth16py

    start = time.perf_counter()
    pk, _vk = _groth16py.import_zkey(zkey)
    key_load = time.perf_counter() - start
    wall, cpu, proofs = [], [], []
    for _ in range(reps + 1):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        proof = groth16py.prove_wtns(pk, wtns_path)
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
        proofs.append(proof.hex())
    Path(out).write_text(json.dumps({"key_load_s": key_load, "wall_s": wall, "cpu_s": cpu, "proofs": proofs,
                                     "peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM) in MiB.

    Not getrusage/wait4's ru_maxrss: on Linux that also counts the memory of the
    parent that a child was forked from before it exec'd its program.
    """
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def rss_mib() -> float:
    """This process's resident set now (VmRSS) in MiB."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def drop_library_page_cache() -> dict:
    """Drop the page cache of the shared libraries the provers map: this interpreter's (the
    virtualenv and its base) and node's executable. Files in use keep their mapped pages.

    Peak RSS counts the clean library pages a process has mapped, and how many a fault maps
    depends on the page cache's history: a library pip has just written sits there in large
    folios, mapped whole (libllvmlite.so: 75 of its 82 MiB of text resident right after its
    import, against 22 MiB once its cache was dropped), so a run right after `make install`
    measured every numba process 40-60 MiB higher. Dropped once at the start, before any
    process maps them, every prover starts from the same, reproducible state.
    """
    if "llvmlite" in sys.modules:
        raise RuntimeError("drop the page cache before numba is imported: its mapped pages stay as they are")
    files = [path for root in {Path(sys.prefix), Path(sys.base_prefix)} for path in root.rglob("*.so*")
             if path.is_file() and not path.is_symlink()]
    node = shutil.which("node")
    if node:
        files.append(Path(node).resolve())
    dropped = 0
    for path in files:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            dropped += path.stat().st_size
        finally:
            os.close(fd)
    return {"files": len(files), "mib": round(dropped / 2**20)}


def run_worker(command: list[str]) -> float:
    """Run a worker to completion; its wall time in seconds."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"worker {command[:3]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - start


def measure(prover: str, workload: dict, zkey: Path, reps: int, work: Path) -> dict:
    out = work / "runs" / f"{workload['name']}-{prover}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if prover == "snarkjs":
        script = work / "snarkjs_worker.cjs"
        script.write_text(SNARKJS_WORKER)
        command = ["node", str(script), str(SNARKJS_CLI.parent), str(zkey), workload["wtns"], str(reps), str(out)]
    else:
        role = {"dlpe-fast": "fast", "dlpe-reference": "reference", "arkworks": "arkworks"}[prover]
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", role,
                   "--worker-args", workload["r1cs"], workload["wtns"], str(zkey), str(reps), str(out)]
    process_wall = run_worker(command)
    data = json.loads(out.read_text())
    timed = range(1, len(data["wall_s"]))
    best = min(timed, key=lambda i: data["wall_s"][i])
    return {
        "prover": prover,
        "key_load_s": data["key_load_s"],
        "first_proof_s": data["wall_s"][0],
        "prove_s": data["wall_s"][best],
        "prove_cpu_s": data["cpu_s"][best],
        "prove_all_s": data["wall_s"][1:],
        "peak_rss_mib": data["peak_rss_mib"],
        "rss_after_mib": data.get("rss_after_mib", {}),
        "process_wall_s": process_wall,
        "split": data.get("split", {}),
        "proofs": data["proofs"],
    }


# --- verification of every proof -------------------------------------------------------------------


def verify_all(row: dict, vk_path: Path, workload: dict) -> int:
    """Verify every proof of a measurement with prover.verify; returns how many (raises if one fails)."""
    from prover import Proof, proof_from_json, read_verification_key, verify

    vk = read_verification_key(vk_path)
    public = parse_wtns(Path(workload["wtns"]).read_bytes())[1 : 1 + vk.n_public]
    for i, encoded in enumerate(row.pop("proofs")):
        if row["prover"] == "arkworks":
            v = [int(encoded[k : k + 64], 16) for k in range(0, len(encoded), 64)]
            proof = Proof(a=(v[0], v[1]), b=((v[3], v[2]), (v[5], v[4])), c=(v[6], v[7]))
        else:
            proof = proof_from_json(encoded)
        if not verify(vk, public, proof):
            raise AssertionError(f"{row['prover']} proof {i} of {workload['name']} does not verify")
        row["verified"] = i + 1
    return row["verified"]


# --- compile time ------------------------------------------------------------------------------------

KERNELS = """
import time
start = time.perf_counter()
from prover.backends import get_backend
from bn254.constants import G1_GENERATOR, G2_GENERATOR
backend = get_backend("fast")
imported = time.perf_counter()
backend.g1_msm([G1_GENERATOR] * 3, [1, 2, 3])
backend.g2_msm([G2_GENERATOR] * 3, [1, 2, 3])
backend.g1_generator_muls([5]); backend.g2_generator_muls([5])
backend.vec_sub(backend.vec_mul(backend.coset_ntt(backend.intt([1, 2, 3, 4]), 7), [1] * 4), [2] * 4)
print(imported - start, time.perf_counter() - imported)
"""


def kernel_load_seconds(cache_dir: str | None) -> dict:
    """(import, first calls of every kernel) in a fresh interpreter; an empty cache_dir means compiling."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", KERNELS], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    imports, first_calls = (float(v) for v in out.stdout.split())
    return {"import_s": imports, "kernels_s": first_calls}


MSM_PER_POINT = """
import sys, time, random
from bn254.constants import R
from prover.backends import get_backend
import numba
assert numba.get_num_threads() == 1
backend = get_backend("fast")
rng = random.Random(7)
from prover.backends.fast import g1_limbs
for power in map(int, sys.argv[1:]):
    n = 1 << power
    bases = g1_limbs(backend.g1_generator_muls([rng.randrange(1, R) for _ in range(n)]))
    scalars = backend.fr_vector([rng.randrange(R) for _ in range(n)])
    backend.g1_msm_prepared(bases, scalars)
    times = []
    for _ in range(2):
        start = time.process_time()  # CPU time: one thread, and the shared machine's other load left out
        backend.g1_msm_prepared(bases, scalars)
        times.append(time.process_time() - start)
    print(power, min(times) / n * 1e6)
"""
GNARK_US_PER_POINT = 4.0  # gnark-crypto's published G1 MSM cost on one core at 2^16 .. 2^20 points (the near-native anchor)


def msm_us_per_point(powers: tuple[int, ...] = (16, 18)) -> dict[str, float]:
    """Microseconds per point of one G1 MSM of 2^k random points and full-size random scalars, on one core.

    A fresh interpreter with NUMBA_NUM_THREADS=1, the scalars already in the backend's
    layout, the least CPU time of two MSMs after one warm-up: what gnark-crypto publishes.
    """
    env = os.environ | {"PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", MSM_PER_POINT, *map(str, powers)], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return {f"2^{p}": float(us) for p, us in (line.split() for line in done.stdout.split("\n") if line.strip())}


def field_multiplication_ns(count: int = 2_000_000) -> dict:
    """ns per dependent F_q Montgomery product, 64x64 -> 128-bit words two ways, one core.

    `intrinsic`: prover.backends.fast_field (one LLVM i128 multiply per word product);
    `halves_32bit`: the same CIOS loop with each word product built from four 32x32-bit
    products, the portable way (defined here only, to measure the choice).
    """
    import numpy as np
    from numba import njit

    from prover.backends import fast_field as ff
    from bn254.constants import Q

    mask32 = np.uint64(0xFFFFFFFF)
    thirty_two = np.uint64(32)

    @njit
    def mac_halves(t, a, b, carry):
        a_lo, a_hi, b_lo, b_hi = a & mask32, a >> thirty_two, b & mask32, b >> thirty_two
        p0, p1, p2, p3 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
        middle = (p0 >> thirty_two) + (p1 & mask32) + (p2 & mask32)
        low = (p0 & mask32) | (middle << thirty_two)
        high = p3 + (p1 >> thirty_two) + (p2 >> thirty_two) + (middle >> thirty_two)
        low, high = low + t, high + np.uint64(low + t < t)
        low, high = low + carry, high + np.uint64(low + carry < carry)
        return low, high

    @njit
    def mont_mul_halves(a, b, p, p_inv):
        zero = np.uint64(0)
        a0, a1, a2, a3 = a
        t0 = t1 = t2 = t3 = zero
        for i in range(4):
            bi = b[i]
            t0, hi = mac_halves(t0, a0, bi, zero)
            t1, hi = mac_halves(t1, a1, bi, hi)
            t2, hi = mac_halves(t2, a2, bi, hi)
            t3, hi = mac_halves(t3, a3, bi, hi)
            m = t0 * p_inv
            _, c = mac_halves(t0, m, p[0], zero)
            t0, c = mac_halves(t1, m, p[1], c)
            t1, c = mac_halves(t2, m, p[2], c)
            t2, c = mac_halves(t3, m, p[3], c)
            t3 = c + hi
        t = (t0, t1, t2, t3)
        return ff._sub_limbs(t, p)[0] if ff._geq(t, p) else t

    @njit
    def chain(x, n, halves):
        for _ in range(n):
            x = mont_mul_halves(x, x, ff.Q_LIMBS, ff.Q_INV) if halves else ff.fq_mul(x, x)
        return x

    x = tuple(ff.fq_to_montgomery(ff.ints_to_limbs([123456789], Q))[0])
    results = {}
    for label, halves in (("intrinsic", False), ("halves_32bit", True)):
        assert chain(x, 3, halves) == chain(x, 3, False)
        begin = time.process_time()
        chain(x, count, halves)
        results[label] = (time.process_time() - begin) / count * 1e9
    return results


def machine_info() -> dict:
    import numba
    import numpy as np

    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown"
    try:
        import groth16py

        groth16py_version = groth16py.__version__
    except ImportError:
        groth16py_version = None
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15_min": os.getloadavg(),
        "numba": numba.__version__,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "node": node,
        "snarkjs": json.loads((SNARKJS_CLI.parent / "package.json").read_text())["version"],
        "groth16py": groth16py_version,
    }


# --- report ------------------------------------------------------------------------------------------


def add_ratios(rows: list[dict]) -> None:
    """prove_s of each prover over the fastest peer's (snarkjs, arkworks) on the same workload."""
    by_workload: dict[str, list[dict]] = {}
    for row in rows:
        by_workload.setdefault(row["workload"], []).append(row)
    for group in by_workload.values():
        peers = [r["prove_s"] for r in group if r["prover"] in PEERS]
        memory = [r["peak_rss_mib"] for r in group if r["prover"] == "snarkjs"]
        for row in group:
            row["ratio_to_fastest_peer"] = row["prove_s"] / min(peers) if peers else None
            for peer in PEERS:
                times = [r["prove_s"] for r in group if r["prover"] == peer]
                row[f"ratio_to_{peer}"] = row["prove_s"] / times[0] if times else None
            row["rss_ratio_to_snarkjs"] = row["peak_rss_mib"] / memory[0] if memory else None


def print_table(rows: list[dict]) -> None:
    head = (f"{'workload':<13}{'constraints':>12} {'prover':<15}{'prove s':>9}{'cpu s':>8}{'/fastest':>9}"
            f"{'/snarkjs':>9}{'/arkworks':>10}{'key load s':>11}{'first s':>9}{'peak MiB':>10}{'/snarkjs':>9}")
    print(head)
    print("-" * len(head))

    def ratio(v):
        return f"{v:.2f}x" if v is not None else "-"

    for r in rows:
        print(f"{r['workload']:<13}{r['constraints']:>12,} {r['prover']:<15}{r['prove_s']:>9.3f}{r['prove_cpu_s']:>8.2f}"
              f"{ratio(r['ratio_to_fastest_peer']):>9}{ratio(r['ratio_to_snarkjs']):>9}{ratio(r['ratio_to_arkworks']):>10}"
              f"{r['key_load_s']:>11.2f}{r['first_proof_s']:>9.2f}{r['peak_rss_mib']:>10.0f}{ratio(r['rss_ratio_to_snarkjs']):>9}")


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6))
    colors = {"dlpe-fast": "tab:blue", "dlpe-reference": "tab:gray", "snarkjs": "tab:orange", "arkworks": "tab:green"}
    for prover in PROVERS:
        for kind, style in (("chain", "-o"), ("batch", "--s")):
            rows = [r for r in result["rows"] if r["prover"] == prover and r["kind"] == kind]
            if rows:
                label = f"{prover}: {'multiplication chain' if kind == 'chain' else 'DLPE batch (1..64 quotes)'}"
                ax.plot([r["constraints"] for r in rows], [r["prove_s"] for r in rows], style,
                        color=colors[prover], label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("R1CS constraints")
    ax.set_ylabel("prove time, s (best of the timed proofs)")
    machine = result["machine"]
    ax.set_title(f"Groth16 prove on BN254, same .r1cs/.wtns/zkey ({result['mode']} run)\n"
                 f"{machine['cpu']}, {machine['cpu_count']} cores shared, load {machine['load_average_1_5_15_min'][0]:.1f}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="chains up to 2^14, batches of 1 and 4 quotes")
    parser.add_argument("--reps", type=int, default=3, help="timed proofs per prover and workload (after a warm-up)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="circuits, keys and ptau cache")
    parser.add_argument("--skip-compile", action="store_true", help="do not measure the cold numba compile")
    parser.add_argument("--chains", type=int, nargs="*", help="chain domain powers k to run (replaces the default)")
    parser.add_argument("--batches", type=int, nargs="*", help="batch sizes in quotes to run (replaces the default)")
    parser.add_argument("--keep-page-cache", action="store_true",
                        help="do not drop the shared libraries' page cache first (see drop_library_page_cache)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        r1cs, wtns, zkey, reps, out = args.worker_args
        if args.worker == "arkworks":
            arkworks_worker(wtns, zkey, int(reps), out)
        else:
            dlpe_worker(args.worker, r1cs, wtns, zkey, int(reps), out)
        return

    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    # First, before this process maps numba's libraries (the F_q product below runs here): the
    # pages of a library mapped by a live process stay in the page cache as they are.
    page_cache = drop_library_page_cache() if not args.keep_page_cache else None
    if page_cache:
        print(f"page cache of {page_cache['files']} shared libraries ({page_cache['mib']} MiB) dropped")
    compile_s = {}
    if not (args.skip_compile or args.quick):
        print("numba compile (fresh interpreter, empty cache) ...", flush=True)
        with tempfile.TemporaryDirectory() as empty:
            compile_s["cold"] = kernel_load_seconds(empty)
    compile_s["cached"] = kernel_load_seconds(None)
    print(f"numba kernels: {compile_s}")
    multiplication_ns = field_multiplication_ns()
    print(f"F_q Montgomery product, ns: {multiplication_ns}")
    msm_us = msm_us_per_point()
    print(f"G1 MSM, microseconds per point on one core: {msm_us} (gnark-crypto: about {GNARK_US_PER_POINT})")

    print("exporting circuits ...", flush=True)
    loads = [export(name, kind, size, work) for name, kind, size in workloads(args.quick, args.chains, args.batches)]
    ptau = powers_of_tau(max(w["domain_power"] for w in loads) + 1, work)
    rows = []
    for workload in loads:
        zkey, vk = zkey_for(workload, ptau, work)
        provers = ["dlpe-fast", "snarkjs", "arkworks"]
        if workload is loads[0]:
            provers.append("dlpe-reference")
        for prover in provers:
            reps = 1 if prover == "dlpe-reference" else args.reps
            print(f"  {workload['name']:<12} {prover:<15}", end="", flush=True)
            row = measure(prover, workload, zkey, reps, work)
            verified = verify_all(row, vk, workload)
            row |= {k: workload[k] for k in ("kind", "size", "constraints", "wires", "domain_power",
                                             "witness_zeros", "witness_ones")}
            row["workload"] = workload["name"]
            rows.append(row)
            held = ", ".join(f"{k} {v:.0f}" for k, v in row["rss_after_mib"].items())
            print(f"prove {row['prove_s']:.3f} s, peak {row['peak_rss_mib']:.0f} MiB"
                  + (f" (resident after {held} MiB)" if held else "") + f", {verified} proofs verified")
    add_ratios(rows)
    mode = "custom" if args.chains is not None or args.batches is not None else ("quick" if args.quick else "full")
    result = {
        "mode": mode,
        "machine": machine_info(),
        "reps": args.reps,
        "library_page_cache_dropped": page_cache,
        "numba_kernels_s": compile_s,
        "fq_multiplication_ns": multiplication_ns,
        "g1_msm_us_per_point_one_core": msm_us,
        "gnark_crypto_us_per_point_one_core": GNARK_US_PER_POINT,
        "timing": "prove_s: fastest of the timed proofs after one warm-up proof, in-process, key already loaded; "
        "prove_cpu_s: process CPU time (all threads) of that proof; peak_rss_mib: the worker process's max RSS "
        "(key, warm-up and all proofs); rss_after_mib (dlpe): the resident set after the imports and the first "
        "kernel, after reading the circuit and witness, after loading and preparing the key; "
        "ratios: prove_s over the fastest peer's (snarkjs, arkworks)",
        "rows": rows,
    }
    print()
    print_table(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # Only a full run is the README's table: a partial one never overwrites it.
    stem = "prover" if mode == "full" else f"prover_{mode}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, RESULTS / f"{stem}.png")
    print(f"wrote {RESULTS / f'{stem}.json'} and {RESULTS / f'{stem}.png'}")


if __name__ == "__main__":
    main()
