"""JSON of committed Groth16 keys and proofs: snarkjs's formats, extended by one documented field each.

verification_key.json — snarkjs's object (prover.formats.verifying_key_to_json; its IC
covers the public signals, the challenge last), plus

    "dlpe_commitment": {
        "scheme": "bsb22-pedersen-v1",
        "g2": G2,                     [g]_2, the proof of knowledge's base
        "g2_sigma_neg": G2,           [-g/sigma]_2
        "challenge": "<the rule>",    what the last public signal must equal (read only by people)
        "challenge_tag": "<decimal>", CHALLENGE_TAG
        "fold_tag": "<decimal>"       FOLD_TAG
    }

proof.json — snarkjs's object (pi_a, pi_b, pi_c), plus

    "dlpe_commitment": G1,            D
    "dlpe_commitment_pok": G1         P = sigma·D

commitment_key.json — what the prover needs beyond the Groth16 proving key (whose .zkey
holds the identity at the committed wires' l_query):

    {"scheme": "bsb22-pedersen-v1", "committed_wires": [int], "blinding_wire": int,
     "basis": [G1], "basis_sigma": [G1]}

Points are written as snarkjs writes them (prover.formats). Each field holds one
commitment, never a list: a file with several (gnark's CVE-2024-45039 setting) is
refused. snarkjs reads these files and ignores the extra fields, but cannot verify
such a proof: its IC sum lacks D.
"""

from __future__ import annotations

from typing import Any

from bn254.curve import validate_g1, validate_g2
from prover.committed_keys import CHALLENGE_TAG, FOLD_TAG, CommittedProof, CommittedVerifyingKey
from prover.errors import KeyFormatError
from prover.formats import (
    g1_from_json,
    g1_to_json,
    g2_from_json,
    g2_to_json,
    proof_from_json,
    proof_to_json,
    verifying_key_from_json,
    verifying_key_to_json,
)

SCHEME = "bsb22-pedersen-v1"
CHALLENGE_RULE = "last public signal = sha256(challenge_tag, D.x, D.y, the other public signals) mod r"


def _one_commitment(data: Any, field: str) -> Any:
    if not isinstance(data, dict) or field not in data:
        raise KeyFormatError(f"a committed key or proof is a JSON object with a {field!r} field")
    value = data[field]
    if isinstance(value, list) and value and all(isinstance(v, (list, dict)) for v in value):
        raise KeyFormatError(f"{field!r} holds several commitments; a committed key or proof has exactly one")
    return value


def committed_verifying_key_to_json(key: CommittedVerifyingKey) -> dict[str, Any]:
    """snarkjs's verification_key.json of key.vk, with the "dlpe_commitment" object."""
    data = verifying_key_to_json(key.vk)
    data["dlpe_commitment"] = {
        "scheme": SCHEME,
        "g2": g2_to_json(key.g2),
        "g2_sigma_neg": g2_to_json(key.g2_sigma_neg),
        "challenge": CHALLENGE_RULE,
        "challenge_tag": str(CHALLENGE_TAG),
        "fold_tag": str(FOLD_TAG),
    }
    return data


def committed_verifying_key_from_json(data: Any) -> CommittedVerifyingKey:
    """Parse and check a committed verifying key (every point in its group, the scheme and tags ours)."""
    commitment = _one_commitment(data, "dlpe_commitment")
    if not isinstance(commitment, dict) or commitment.get("scheme") != SCHEME:
        raise KeyFormatError(f"dlpe_commitment must be one object of scheme {SCHEME!r}")
    if (commitment.get("challenge_tag"), commitment.get("fold_tag")) != (str(CHALLENGE_TAG), str(FOLD_TAG)):
        raise KeyFormatError("dlpe_commitment names other transcript tags than this verifier's")
    vk = verifying_key_from_json(data)
    try:
        g2 = g2_from_json(commitment["g2"], "dlpe_commitment.g2")
        g2_sigma_neg = g2_from_json(commitment["g2_sigma_neg"], "dlpe_commitment.g2_sigma_neg")
    except KeyError as error:
        raise KeyFormatError(f"dlpe_commitment lacks {error}") from error
    validate_g2(g2, "dlpe_commitment.g2")
    validate_g2(g2_sigma_neg, "dlpe_commitment.g2_sigma_neg")
    return CommittedVerifyingKey(vk=vk, g2=g2, g2_sigma_neg=g2_sigma_neg)


def committed_proof_to_json(proof: CommittedProof) -> dict[str, Any]:
    """snarkjs's proof.json, with "dlpe_commitment" (D) and "dlpe_commitment_pok" (P)."""
    data = proof_to_json(proof.proof)
    data["dlpe_commitment"] = g1_to_json(proof.commitment)
    data["dlpe_commitment_pok"] = g1_to_json(proof.knowledge_proof)
    return data


def committed_proof_from_json(data: Any) -> CommittedProof:
    """Parse a committed proof (shape only: verify_committed checks the points)."""
    commitment = _one_commitment(data, "dlpe_commitment")
    pok = _one_commitment(data, "dlpe_commitment_pok")
    return CommittedProof(
        proof=proof_from_json(data),
        commitment=g1_from_json(commitment, "dlpe_commitment"),
        knowledge_proof=g1_from_json(pok, "dlpe_commitment_pok"),
    )


def commitment_key_to_json(committed_wires: tuple[int, ...], blinding_wire: int, basis, basis_sigma) -> dict[str, Any]:
    """commitment_key.json: the committed wires and the Pedersen key (the prover's part beyond the .zkey)."""
    return {
        "scheme": SCHEME,
        "committed_wires": list(committed_wires),
        "blinding_wire": blinding_wire,
        "basis": [g1_to_json(p) for p in basis],
        "basis_sigma": [g1_to_json(p) for p in basis_sigma],
    }


def commitment_key_from_json(data: Any) -> tuple[tuple[int, ...], int, tuple, tuple]:
    """(committed_wires, blinding_wire, basis, basis_sigma) of a commitment_key.json, points checked."""
    if not isinstance(data, dict) or data.get("scheme") != SCHEME:
        raise KeyFormatError(f"a commitment key is a JSON object of scheme {SCHEME!r}")
    wires, blinding = data.get("committed_wires"), data.get("blinding_wire")
    if not isinstance(wires, list) or not all(isinstance(w, int) for w in wires) or blinding not in wires:
        raise KeyFormatError("committed_wires must be a list of wire indices holding blinding_wire")
    basis = tuple(g1_from_json(p, f"basis[{i}]") for i, p in enumerate(data.get("basis", [])))
    basis_sigma = tuple(g1_from_json(p, f"basis_sigma[{i}]") for i, p in enumerate(data.get("basis_sigma", [])))
    if not len(basis) == len(basis_sigma) == len(wires):
        raise KeyFormatError(f"{len(wires)} committed wires, {len(basis)} basis and {len(basis_sigma)} sigma points")
    for i, (p, ps) in enumerate(zip(basis, basis_sigma)):
        validate_g1(p, f"basis[{i}]")
        validate_g1(ps, f"basis_sigma[{i}]")
    return tuple(wires), blinding, basis, basis_sigma
