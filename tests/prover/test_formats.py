"""snarkjs JSON (verification key, proof, public signals) and EIP-197 calldata ordering."""

from __future__ import annotations

import copy
import json

import pytest
from py_ecc import optimized_bn128 as bn

from prover import (
    DEVELOPMENT_SETUP,
    KeyFormatError,
    PointNotOnCurve,
    Proof,
    proof_from_json,
    proof_to_json,
    prove,
    public_from_json,
    read_proof,
    read_public,
    read_verification_key,
    setup,
    solidity_calldata,
    verifying_key_from_json,
    verifying_key_to_json,
    write_proof,
    write_public,
    write_verification_key,
)
from bn254.constants import G1_INFINITY, G2_INFINITY
from prover.formats import g1_from_json, g1_to_json, g2_from_json, g2_to_json, gt_to_json
from prover.keys import UNKNOWN_SETUP
from tests.prover.sample_circuits import build, multiplication_chain


@pytest.fixture(scope="module")
def keys_and_proof(backend):
    r1cs, witness = build(multiplication_chain(3))
    pk, vk = setup(r1cs, backend)
    return vk, r1cs.public_values(witness), prove(pk, witness, backend)


@pytest.fixture(scope="module")
def vk_json(keys_and_proof):
    """The JSON object of the verifying key (computed once: it costs a pairing); deep-copy to change it."""
    return verifying_key_to_json(keys_and_proof[0])


def test_verification_key_round_trip(keys_and_proof, tmp_path):
    vk, _, _ = keys_and_proof
    path = tmp_path / "verification_key.json"
    write_verification_key(vk, path)
    data = json.loads(path.read_text())
    assert data["protocol"] == "groth16" and data["curve"] == "bn128"
    assert data["nPublic"] == 2 and len(data["IC"]) == 3
    assert data["dlpe_setup"] == DEVELOPMENT_SETUP
    assert data["vk_alpha_1"][2] == "1" and data["vk_beta_2"][2] == ["1", "0"]
    assert read_verification_key(path) == vk


def test_verification_key_without_dlpe_setup_is_of_unknown_provenance(vk_json):
    data = copy.deepcopy(vk_json)
    del data["dlpe_setup"]
    back = verifying_key_from_json(data)
    assert back.setup == UNKNOWN_SETUP and not back.is_development


def test_proof_and_public_round_trip(keys_and_proof, tmp_path):
    _, public, proof = keys_and_proof
    write_proof(proof, tmp_path / "proof.json")
    write_public(public, tmp_path / "public.json")
    assert read_proof(tmp_path / "proof.json") == proof
    assert read_public(tmp_path / "public.json") == public
    assert json.loads((tmp_path / "public.json").read_text()) == [str(v) for v in public]
    data = proof_to_json(proof)
    assert data["pi_b"][0] == [str(proof.b[0][0]), str(proof.b[0][1])]  # [c0, c1]


def test_points_at_infinity_round_trip():
    assert g1_to_json(G1_INFINITY) == ["0", "1", "0"]
    assert g1_from_json(["0", "1", "0"], "p") == G1_INFINITY
    assert g2_from_json(g2_to_json(G2_INFINITY), "p") == G2_INFINITY


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda d: d.update(protocol="plonk"), id="protocol"),
        pytest.param(lambda d: d.update(curve="bls12381"), id="curve"),
        pytest.param(lambda d: d.update(nPublic=3), id="nPublic"),
        pytest.param(lambda d: d.update(IC=[]), id="empty-IC"),
        pytest.param(lambda d: d.pop("vk_delta_2"), id="missing-delta"),
        pytest.param(lambda d: d["vk_alpha_1"].__setitem__(2, "2"), id="projective-z"),
        pytest.param(lambda d: d["vk_alpha_1"].__setitem__(0, "0x1"), id="hex"),
        pytest.param(lambda d: d["vk_gamma_2"].__setitem__(0, ["1"]), id="short-fq2"),
    ],
)
def test_malformed_verification_keys_are_refused(vk_json, mangle):
    data = copy.deepcopy(vk_json)
    mangle(data)
    with pytest.raises(KeyFormatError):
        verifying_key_from_json(data)


def test_verification_key_with_a_point_off_the_curve_is_refused(vk_json):
    data = copy.deepcopy(vk_json)
    data["IC"][1][1] = str(int(data["IC"][1][1]) + 1)
    with pytest.raises(PointNotOnCurve, match=r"IC\[1\]"):
        verifying_key_from_json(data)


@pytest.mark.parametrize(
    "data",
    [[], {"pi_a": ["1", "2", "1"]}, {"pi_a": ["1", "2"], "pi_b": [], "pi_c": []}],
)
def test_malformed_proofs_are_refused(data):
    with pytest.raises(KeyFormatError):
        proof_from_json(data)


def test_unreadable_files_are_refused(tmp_path):
    path = tmp_path / "proof.json"
    path.write_text("{not json")
    with pytest.raises(KeyFormatError):
        read_proof(path)
    with pytest.raises(KeyFormatError):
        public_from_json(["12", 13])


def test_gt_elements_are_written_in_the_snarkjs_tower():
    # 1 is (1 + 0u) at w^0 v^0; u, which py_ecc writes as w^6 - 9, is (0 + 1u) there too.
    zero = ["0", "0"]
    assert gt_to_json(bn.FQ12.one()) == [[["1", "0"], zero, zero], [zero, zero, zero]]
    u = bn.FQ12([bn.field_modulus - 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    assert gt_to_json(u) == [[["0", "1"], zero, zero], [zero, zero, zero]]
    w3 = bn.FQ12([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])  # w^3 = w * v
    assert gt_to_json(w3) == [[zero, zero, zero], [zero, ["1", "0"], zero]]


def test_solidity_calldata_puts_the_imaginary_part_first():
    proof = Proof(a=(1, 2), b=((3, 4), (5, 6)), c=(7, 8))
    calldata = solidity_calldata(proof, [9, 10])
    assert calldata.a == (1, 2) and calldata.c == (7, 8)
    assert calldata.b == ((4, 3), (6, 5))
    assert calldata.public_signals == (9, 10)
