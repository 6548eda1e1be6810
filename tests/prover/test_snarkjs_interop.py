"""Interoperability with the pinned snarkjs (node_modules/snarkjs, 0.7.6), on one small circuit.

(a) snarkjs verifies our proof with our verifying key; (b) we verify the proof
snarkjs makes for our exported .r1cs/.wtns under a locally generated powers of
tau; (c) we prove with snarkjs's zkey and snarkjs verifies. Skipped when node or
snarkjs is not installed (make install).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from bn254.iden3 import write_r1cs, write_wtns
from prover import (
    KeyFormatError,
    KeyMismatch,
    prove,
    read_proof,
    read_public,
    read_verification_key,
    read_zkey,
    setup,
    solidity_calldata,
    verify,
    write_proof,
    write_public,
    write_verification_key,
    write_zkey,
)
from prover.formats import alpha_beta_pairing, gt_to_json
from tests.prover.sample_circuits import build, interop_circuit, multiplication_chain

ROOT = Path(__file__).resolve().parents[2]
SNARKJS = ROOT / "node_modules" / "snarkjs" / "cli.js"
PTAU_POWER = 6  # snarkjs needs 2 * domain (32 here) powers for the H points

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not SNARKJS.is_file(),
    reason="node or the pinned snarkjs (make install) is not available",
)


def _snarkjs(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", str(SNARKJS), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def _run(*args: str | Path) -> str:
    result = _snarkjs(*args)
    assert result.returncode == 0, f"snarkjs {args[:2]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _snarkjs_verifies(vk: Path, public: Path, proof: Path) -> bool:
    result = _snarkjs("groth16", "verify", vk, public, proof)
    return result.returncode == 0 and "OK" in result.stdout


# Session scope: pytest regroups tests by backend across modules, and the ceremony should run once.
@pytest.fixture(scope="session")
def circuit():
    return build(interop_circuit())


@pytest.fixture(scope="session")
def snarkjs_files(circuit, tmp_path_factory) -> dict[str, Path]:
    """A snarkjs Groth16 ceremony for our exported .r1cs, and snarkjs's proof of our .wtns."""
    r1cs, witness = circuit
    d = tmp_path_factory.mktemp("snarkjs")
    f = {name: d / name for name in ("c.r1cs", "c.wtns", "0.ptau", "1.ptau", "final.ptau", "0.zkey",
                                     "final.zkey", "vk.json", "proof.json", "public.json")}
    write_r1cs(r1cs, f["c.r1cs"])
    write_wtns(witness, f["c.wtns"])
    _run("powersoftau", "new", "bn128", PTAU_POWER, f["0.ptau"])
    _run("powersoftau", "contribute", f["0.ptau"], f["1.ptau"], "--name=test", "-e=fixed test entropy 1")
    _run("powersoftau", "prepare", "phase2", f["1.ptau"], f["final.ptau"])
    _run("groth16", "setup", f["c.r1cs"], f["final.ptau"], f["0.zkey"])
    _run("zkey", "contribute", f["0.zkey"], f["final.zkey"], "--name=test", "-e=fixed test entropy 2")
    _run("zkey", "export", "verificationkey", f["final.zkey"], f["vk.json"])
    _run("groth16", "prove", f["final.zkey"], f["c.wtns"], f["proof.json"], f["public.json"])
    return f


@pytest.fixture(scope="module")
def our_files(circuit, backend, tmp_path_factory) -> dict[str, Path]:
    """Our development keys and proof for the circuit, written as snarkjs JSON."""
    r1cs, witness = circuit
    d = tmp_path_factory.mktemp("ours")
    pk, vk = setup(r1cs, backend)
    files = {"vk": d / "vk.json", "proof": d / "proof.json", "public": d / "public.json"}
    write_verification_key(vk, files["vk"])
    write_proof(prove(pk, witness, backend), files["proof"])
    write_public(r1cs.public_values(witness), files["public"])
    return files


def test_a_snarkjs_verifies_our_proof(our_files, tmp_path):
    assert _snarkjs_verifies(our_files["vk"], our_files["public"], our_files["proof"])
    wrong = tmp_path / "public.json"
    public = read_public(our_files["public"])
    write_public([public[0] + 1, *public[1:]], wrong)
    assert not _snarkjs_verifies(our_files["vk"], wrong, our_files["proof"])


def test_b_we_verify_the_snarkjs_proof(snarkjs_files, circuit, backend):
    r1cs, witness = circuit
    vk = read_verification_key(snarkjs_files["vk.json"])
    public = read_public(snarkjs_files["public.json"])
    proof = read_proof(snarkjs_files["proof.json"])
    assert public == r1cs.public_values(witness)
    assert verify(vk, public, proof, backend)
    assert verify(vk, [public[0] + 1, *public[1:]], proof, backend) is False


def test_our_vk_alphabeta_12_is_the_snarkjs_value(snarkjs_files):
    data = json.loads(snarkjs_files["vk.json"].read_text())
    vk = read_verification_key(snarkjs_files["vk.json"])
    assert gt_to_json(alpha_beta_pairing(vk)) == data["vk_alphabeta_12"]


def test_c_snarkjs_verifies_our_proof_from_its_zkey(snarkjs_files, circuit, backend, tmp_path):
    r1cs, witness = circuit
    pk = read_zkey(snarkjs_files["final.zkey"], r1cs)
    exported = read_verification_key(snarkjs_files["vk.json"])
    assert replace(pk.vk, setup=exported.setup) == exported
    assert not pk.vk.is_development and "1 phase-2 contribution" in pk.vk.setup
    proof = prove(pk, witness, backend)
    write_proof(proof, tmp_path / "proof.json")
    assert _snarkjs_verifies(snarkjs_files["vk.json"], snarkjs_files["public.json"], tmp_path / "proof.json")
    assert verify(pk.vk, r1cs.public_values(witness), proof, backend)


def test_d_snarkjs_proves_with_our_zkey_and_we_verify(circuit, backend, tmp_path):
    r1cs, witness = circuit
    pk, vk = setup(r1cs, backend)
    write_r1cs(r1cs, tmp_path / "c.r1cs")
    write_wtns(witness, tmp_path / "c.wtns")
    write_zkey(pk, tmp_path / "ours.zkey")
    _run("groth16", "prove", tmp_path / "ours.zkey", tmp_path / "c.wtns", tmp_path / "proof.json", tmp_path / "public.json")
    proof, public = read_proof(tmp_path / "proof.json"), read_public(tmp_path / "public.json")
    assert public == r1cs.public_values(witness)
    assert verify(vk, public, proof, backend)
    assert verify(vk, [public[0] + 1, *public[1:]], proof, backend) is False
    write_verification_key(vk, tmp_path / "vk.json")
    assert _snarkjs_verifies(tmp_path / "vk.json", tmp_path / "public.json", tmp_path / "proof.json")


def test_zkey_of_another_constraint_system_is_refused(snarkjs_files, circuit):
    r1cs, _ = circuit
    (a, b, c), *rest = r1cs.constraints
    changed = replace(r1cs, constraints=[({**a, 0: 2}, b, c), *rest])  # same shape, one coefficient off
    with pytest.raises(KeyMismatch, match="coefficients"):
        read_zkey(snarkjs_files["final.zkey"], changed)
    other, _ = build(multiplication_chain(3))
    with pytest.raises(KeyMismatch):
        read_zkey(snarkjs_files["final.zkey"], other)


def test_malformed_zkeys_are_refused(snarkjs_files, circuit, tmp_path):
    r1cs, _ = circuit
    data = snarkjs_files["final.zkey"].read_bytes()
    for name, content in (("ptau", snarkjs_files["final.ptau"].read_bytes()), ("cut", data[: len(data) // 2])):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(KeyFormatError):
            read_zkey(tmp_path / name, r1cs)


def test_solidity_calldata_matches_snarkjs(snarkjs_files):
    out = _run("zkey", "export", "soliditycalldata", snarkjs_files["public.json"], snarkjs_files["proof.json"])
    a, b, c, public = json.loads(f"[{out}]")  # hex strings, G2 as [[x.c1, x.c0], [y.c1, y.c0]]
    calldata = solidity_calldata(read_proof(snarkjs_files["proof.json"]), read_public(snarkjs_files["public.json"]))
    assert calldata.a == tuple(int(v, 16) for v in a)
    assert calldata.b == tuple(tuple(int(v, 16) for v in pair) for pair in b)
    assert calldata.c == tuple(int(v, 16) for v in c)
    assert calldata.public_signals == tuple(int(v, 16) for v in public)
