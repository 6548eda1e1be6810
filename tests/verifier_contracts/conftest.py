"""Groth16 material for the contract tests, made by snarkjs from circuits built with circuits.builder.

Two tiny circuits with N_PUBLIC = 3 public signals each (one output, two inputs), exported
as iden3 .r1cs/.wtns and set up, proven and checked by the pinned snarkjs:

  product:  digest = w^2 + x_1·w + x_2·w     (w private)
  cube:     digest = w^3 + x_1 + x_2

Material (made once per session, in a session temporary directory):
  valid          product, witness 1: the statement the verifier under test must accept
  other_witness  product, witness 2: same key, other public values
  other_circuit  cube, its own key: a valid proof for another circuit
  own_prover     product, witness 1, key and proof from DLPE's prover (prover.setup/prove)

Everything reaches the verifier through snarkjs JSON (verification_key.json, proof.json,
public.json), read back with prover.read_verification_key / read_proof / read_public.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from web3 import Web3

from bn254.constants import R
from bn254.iden3 import write_r1cs, write_wtns
from circuits.builder import ConstraintSystem
import prover
from prover import Proof, VerifyingKey, read_proof, read_public, read_verification_key
from verifier_contracts.client import Groth16VerifierClient
from verifier_contracts.snarkjs import groth16_prove, groth16_setup, powers_of_tau, snarkjs

N_PUBLIC = 3
PTAU_POWER = 4  # 2^4 >= constraints (4) + public signals (3) + 1, as snarkjs's setup requires


def product_circuit(secret: int, inputs: list[int]) -> ConstraintSystem:
    """digest = w^2 + sum_i x_i·w, with w = secret private and the x_i public."""
    cs = ConstraintSystem()
    w = cs.private_input("w", secret)
    digest = cs.mul(w, w, "w_squared")
    for i, value in enumerate(inputs):
        x = cs.public_input(f"x{i + 1}", value)
        digest = digest + cs.mul(x, w, f"x{i + 1}_times_w")
    cs.public_output("digest", digest)
    return cs


def cube_circuit(secret: int, inputs: list[int]) -> ConstraintSystem:
    """digest = w^3 + sum_i x_i, with w = secret private and the x_i public."""
    cs = ConstraintSystem()
    w = cs.private_input("w", secret)
    w_cubed = cs.mul(cs.mul(w, w, "w_squared"), w, "w_cubed")
    digest = w_cubed
    for i, value in enumerate(inputs):
        digest = digest + cs.public_input(f"x{i + 1}", value)
    cs.public_output("digest", digest)
    return cs


@dataclass(frozen=True)
class ProvenStatement:
    """A verifying key, a proof and its public signals, as read back from snarkjs's JSON files."""

    key: VerifyingKey
    proof: Proof
    public: list[int]
    key_json: Path
    proof_json: Path
    public_json: Path


@dataclass(frozen=True)
class SnarkMaterial:
    valid: ProvenStatement
    other_witness: ProvenStatement
    other_circuit: ProvenStatement
    own_prover: ProvenStatement


def _prove(cs: ConstraintSystem, zkey: Path, key_json: Path, name: str, out: Path) -> ProvenStatement:
    write_wtns(cs.witness(), out / f"{name}.wtns")
    proof_json, public_json = groth16_prove(zkey, out / f"{name}.wtns", out)
    # snarkjs's own verdict first: a failure here is in the material, not in the contract.
    assert "OK" in snarkjs("groth16", "verify", key_json, public_json, proof_json)
    return _read_back(cs, key_json, proof_json, public_json)


def _read_back(cs: ConstraintSystem, key_json: Path, proof_json: Path, public_json: Path) -> ProvenStatement:
    public = read_public(public_json)
    assert public == cs.to_r1cs().public_values(cs.witness())
    key, proof = read_verification_key(key_json), read_proof(proof_json)
    return ProvenStatement(key, proof, public, key_json, proof_json, public_json)


def _prove_with_our_prover(cs: ConstraintSystem, name: str, out: Path) -> ProvenStatement:
    r1cs, witness = cs.to_r1cs(), cs.witness()
    proving_key, key = prover.setup(r1cs)
    paths = out / f"{name}_vk.json", out / f"{name}_proof.json", out / f"{name}_public.json"
    prover.write_verification_key(key, paths[0])
    prover.write_proof(prover.prove(proving_key, witness), paths[1])
    prover.write_public(r1cs.public_values(witness), paths[2])
    return _read_back(cs, *paths)


def _setup(cs: ConstraintSystem, name: str, ptau: Path, out: Path) -> tuple[Path, Path]:
    write_r1cs(cs.to_r1cs(), out / f"{name}.r1cs")
    return groth16_setup(out / f"{name}.r1cs", ptau, out)


@pytest.fixture(scope="session")
def snark_material(tmp_path_factory: pytest.TempPathFactory) -> SnarkMaterial:
    out = tmp_path_factory.mktemp("groth16")
    rng = random.Random(20240601)

    def statement() -> tuple[int, list[int]]:
        return rng.randrange(1, R), [rng.randrange(R) for _ in range(N_PUBLIC - 1)]

    ptau = powers_of_tau(PTAU_POWER, out)
    first, second, third = statement(), statement(), statement()
    product_zkey, product_key = _setup(product_circuit(*first), "product", ptau, out)
    cube_zkey, cube_key = _setup(cube_circuit(*third), "cube", ptau, out)
    return SnarkMaterial(
        valid=_prove(product_circuit(*first), product_zkey, product_key, "product_w1", out),
        other_witness=_prove(product_circuit(*second), product_zkey, product_key, "product_w2", out),
        other_circuit=_prove(cube_circuit(*third), cube_zkey, cube_key, "cube_w1", out),
        own_prover=_prove_with_our_prover(product_circuit(*first), "product_dlpe", out),
    )


@pytest.fixture(scope="session")
def verifier(devnet: Web3, snark_material: SnarkMaterial) -> Groth16VerifierClient:
    """The generated verifier of the product circuit's key, deployed on each devnet."""
    return Groth16VerifierClient.deploy(devnet, snark_material.valid.key)
