"""Run the pinned snarkjs (npm package snarkjs 0.7.6, node_modules/snarkjs) on files.

snarkjs is DLPE's peer Groth16 toolchain: it makes keys and proofs for circuits we export
as iden3 .r1cs/.wtns (so the verifier can be tested before, and independently of, our own
prover), and its `zkey export solidityverifier` is the baseline our verifier's gas is
measured against. Every function takes and returns paths to snarkjs's own file formats.

The ceremony is for tests and benchmarks only and is reproducible on purpose: each phase
gets one contribution from a public random beacon (a fixed hash, 2^10 iterations) instead of
`contribute -e=...`, which mixes its own random bytes into the entropy. The same circuit
thus always gets the same key, and its generated verifier is compiled once (build cache).
Anyone can recompute such a key's toxic waste: never use one for value.

    ptau = powers_of_tau(5, workdir)                       # phase 1, up to 2^5 constraints
    zkey, vk_json = groth16_setup(r1cs, ptau, workdir)      # phase 2 + verification_key.json
    proof_json, public_json = groth16_prove(zkey, wtns, workdir)
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNARKJS_CLI = ROOT / "node_modules" / "snarkjs" / "cli.js"
TEST_BEACON = hashlib.sha256(b"DLPE test ceremony: public beacon, never for value").hexdigest()
BEACON_ITERATIONS_EXP = "10"


class SnarkjsError(RuntimeError):
    """snarkjs is not installed, or a command failed (its output is in the message)."""


def snarkjs(*args: str | Path, timeout: float = 600) -> str:
    """Run `node node_modules/snarkjs/cli.js *args`; returns stdout, raises SnarkjsError on failure."""
    node = shutil.which("node")
    if node is None or not SNARKJS_CLI.is_file():
        raise SnarkjsError("node or the pinned snarkjs is missing: run `make install`")
    done = subprocess.run(
        [node, str(SNARKJS_CLI), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )
    # snarkjs prints its errors and still exits 0 for some of them; a command that made
    # nothing is caught by the callers' checks that their output files exist.
    if done.returncode != 0:
        command = " ".join(map(str, args))
        raise SnarkjsError(f"snarkjs {command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _made(path: Path, command: str) -> Path:
    if not path.is_file():
        raise SnarkjsError(f"snarkjs {command} did not write {path}")
    return path


def powers_of_tau(power: int, out_dir: Path, beacon: str = TEST_BEACON) -> Path:
    """A phase-1 file for circuits of up to 2^power constraints (one beacon contribution, prepared for phase 2)."""
    new, contributed, final = (out_dir / f"pot{power}_{stage}.ptau" for stage in ("0", "1", "final"))
    snarkjs("powersoftau", "new", "bn128", str(power), new)
    snarkjs("powersoftau", "beacon", _made(new, "powersoftau new"), contributed, beacon, BEACON_ITERATIONS_EXP)
    snarkjs("powersoftau", "prepare", "phase2", _made(contributed, "powersoftau beacon"), final)
    return _made(final, "powersoftau prepare phase2")


def groth16_setup(r1cs: Path, ptau: Path, out_dir: Path, beacon: str = TEST_BEACON) -> tuple[Path, Path]:
    """Phase 2 for one circuit, with one beacon contribution: (final .zkey, verification_key.json)."""
    stem = r1cs.stem
    initial, final, key = out_dir / f"{stem}_0.zkey", out_dir / f"{stem}.zkey", out_dir / f"{stem}_vk.json"
    snarkjs("groth16", "setup", r1cs, ptau, initial)
    snarkjs("zkey", "beacon", _made(initial, "groth16 setup"), final, beacon, BEACON_ITERATIONS_EXP)
    snarkjs("zkey", "export", "verificationkey", _made(final, "zkey beacon"), key)
    return final, _made(key, "zkey export verificationkey")


def groth16_prove(zkey: Path, wtns: Path, out_dir: Path) -> tuple[Path, Path]:
    """A proof of the witness in `wtns`: (proof.json, public.json), named after the witness file."""
    proof, public = out_dir / f"{wtns.stem}_proof.json", out_dir / f"{wtns.stem}_public.json"
    snarkjs("groth16", "prove", zkey, wtns, proof, public)
    return _made(proof, "groth16 prove"), _made(public, "groth16 prove")


def export_solidity_verifier(zkey: Path, out_dir: Path) -> str:
    """snarkjs's own Solidity verifier for the key in `zkey` (contract Groth16Verifier)."""
    out = out_dir / f"{zkey.stem}_snarkjs_verifier.sol"
    snarkjs("zkey", "export", "solidityverifier", zkey, out)
    return _made(out, "zkey export solidityverifier").read_text()
