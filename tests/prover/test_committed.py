"""Groth16 with a committed challenge: honest proofs verify on every backend; each forgery is refused;
and tests for why neither of gnark's 2024 advisories (CVE-2024-45039, CVE-2024-45040) applies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bn254.constants import G1_INFINITY, R
from prover.committed import prove_committed, setup_committed, verification_pairs, verify_committed
from prover.committed_keys import COMMITMENT_SETUP, CommitmentError, CommittedProof, commitment_challenge
from prover.backends import get_backend
from prover.errors import InvalidWitness, PublicInputCountMismatch
from prover.verifier import pairing_product_is_one
from tests.prover.committed_forgeries import (
    forge_challenge,
    forge_commitment,
    forge_knowledge_proof,
    lookup_statement,
)


@pytest.fixture(scope="module")
def statement():
    return lookup_statement()


@pytest.fixture(scope="module")
def keys(statement, backend):
    return setup_committed(statement.r1cs, statement.committed_wires, statement.blinding_wire, backend)


@pytest.fixture(scope="module")
def honest(statement, keys, backend):
    pk, _ = keys
    return prove_committed(pk, statement.witness, statement.witness_for_challenge, backend, check=True)


@pytest.fixture(scope="module")
def default_backend():
    """The forgeries are checked on the default backend only: the pairings, not the MSMs, are what they test."""
    return get_backend()


@pytest.fixture(scope="module")
def default_keys(statement, default_backend):
    return setup_committed(statement.r1cs, statement.committed_wires, statement.blinding_wire, default_backend)


@pytest.fixture(scope="module")
def default_honest(statement, default_keys, default_backend):
    return prove_committed(default_keys[0], statement.witness, statement.witness_for_challenge, default_backend)


def test_an_honest_proof_verifies_folded_and_apart(statement, keys, honest, backend):
    assert statement.r1cs.n_constraints <= 1 << 10  # the reference backend's size
    _, vk = keys
    proof, public = honest
    assert public[0] == 300 * 300 and public[-1] == commitment_challenge(proof.commitment, public[:-1])
    assert verify_committed(vk, public, proof, backend)
    assert verify_committed(vk, public, proof, backend, fold=False)


def test_lookup_keys_are_development_keys(keys):
    pk, vk = keys
    assert vk.is_development and vk.vk.setup == COMMITMENT_SETUP == pk.pk.vk.setup
    assert "sigma not covered by any ceremony" in COMMITMENT_SETUP


def test_a_wrong_statement_is_refused(default_keys, default_honest, default_backend):
    _, vk = default_keys
    proof, public = default_honest
    other = [public[0] + 1, commitment_challenge(proof.commitment, [public[0] + 1])]
    assert not verify_committed(vk, other, proof, default_backend)
    with pytest.raises(PublicInputCountMismatch):
        verify_committed(vk, public[:-1], proof, default_backend)


def test_a_challenge_not_derived_from_the_commitment_is_refused(statement, default_keys, default_backend):
    # the prover picks its own challenge; the Groth16 part and the proof of knowledge verify, the challenge does not
    pk, vk = default_keys
    forged, public = forge_challenge(statement, pk, default_backend)
    assert public[-1] != commitment_challenge(forged.commitment, public[:-1])
    groth16_pairs, pok_pairs = verification_pairs(vk, public, forged, default_backend, fold=False)
    assert pairing_product_is_one(groth16_pairs) and pairing_product_is_one(pok_pairs)
    assert not verify_committed(vk, public, forged, default_backend)
    assert not verify_committed(vk, public, forged, default_backend, fold=False)


def test_a_commitment_not_matching_the_committed_wires_is_refused(statement, default_keys, default_backend):
    pk, vk = default_keys
    forged, public = forge_commitment(statement, pk, default_backend)
    groth16_pairs, pok_pairs = verification_pairs(vk, public, forged, default_backend, fold=False)
    assert pairing_product_is_one(pok_pairs) and not pairing_product_is_one(groth16_pairs)
    assert not verify_committed(vk, public, forged, default_backend)
    assert not verify_committed(vk, public, forged, default_backend, fold=False)


def test_a_forged_proof_of_knowledge_is_refused(statement, default_keys, default_backend):
    pk, vk = default_keys
    forged, claimed = forge_knowledge_proof(statement, pk, default_backend)
    assert claimed[0] == statement.witness[1] + 1
    groth16_pairs, pok_pairs = verification_pairs(vk, claimed, forged, default_backend, fold=False)
    assert pairing_product_is_one(groth16_pairs) and not pairing_product_is_one(pok_pairs)
    assert not verify_committed(vk, claimed, forged, default_backend)
    assert not verify_committed(vk, claimed, forged, default_backend, fold=False)


def test_the_fold_catches_a_failing_proof_of_knowledge_alone(default_keys, default_honest, default_backend):
    # a valid Groth16 part and a wrong P: the folded product is not 1
    _, vk = default_keys
    proof, public = default_honest
    bad_pok = replace(proof, knowledge_proof=default_backend.g1_msm([proof.knowledge_proof], [2]))
    groth16, pok = verification_pairs(vk, public, bad_pok, default_backend, fold=False)
    assert pairing_product_is_one(groth16) and not pairing_product_is_one(pok)
    assert not verify_committed(vk, public, bad_pok, default_backend)


# -- CVE-2024-45040: the commitment hides ---------------------------------------------------------


def test_the_commitment_is_blinded_afresh_each_proof(statement, keys, honest, backend):
    pk, _ = keys
    first, _ = honest
    second, _ = prove_committed(pk, statement.witness, statement.witness_for_challenge, backend)
    assert first.commitment != second.commitment
    # what a verifier who guessed every committed value could compute: not D
    guessed = [0 if j == pk.blinding_wire else statement.witness[j] for j in pk.committed_wires]
    assert backend.g1_msm(pk.basis, guessed) not in (first.commitment, second.commitment)
    assert pk.basis[pk.committed_wires.index(pk.blinding_wire)] != G1_INFINITY


def test_setup_refuses_a_blinding_wire_in_no_constraint(statement, backend):
    r1cs = statement.r1cs
    unused = replace(r1cs, constraints=[row for row, label in zip(r1cs.constraints, r1cs.labels)
                                        if label != "lookup/blinding"],
                     labels=[label for label in r1cs.labels if label != "lookup/blinding"])
    with pytest.raises(CommitmentError, match="would not hide"):
        setup_committed(unused, statement.committed_wires, statement.blinding_wire, backend)


# -- CVE-2024-45039: one commitment, and the challenge binds it and every public input ----------------


def test_one_commitment_and_a_challenge_binding_it_and_the_inputs(statement, default_keys, default_honest, default_backend):
    pk, _ = default_keys
    proof, public = default_honest
    assert isinstance(pk.basis, tuple) and len(pk.basis) == len(pk.committed_wires)  # one Pedersen key
    base = commitment_challenge(proof.commitment, public[:-1])
    moved = default_backend.g1_msm([proof.commitment, pk.basis[0]], [1, 1])
    assert commitment_challenge(moved, public[:-1]) != base
    assert commitment_challenge(proof.commitment, [public[0] + 1]) != base


@pytest.mark.parametrize("bad,match", [
    (lambda s: ((), s.blinding_wire), "non-empty set"),
    (lambda s: ((1, *s.committed_wires), s.blinding_wire), "only private wires"),
    (lambda s: (s.committed_wires[:-1], s.blinding_wire), "not among the committed"),
    (lambda s: ((*s.committed_wires, s.committed_wires[0]), s.blinding_wire), "distinct"),
])
def test_setup_refuses_a_set_that_cannot_be_committed(statement, bad, match):
    wires, blinding = bad(statement)
    with pytest.raises(CommitmentError, match=match):
        setup_committed(statement.r1cs, wires, blinding)


def test_a_completion_that_changes_a_committed_wire_is_refused(statement, default_keys, default_backend):
    pk, _ = default_keys
    target = next(j for j in pk.committed_wires if j != pk.blinding_wire)

    def tampered(challenge):
        full = statement.witness_for_challenge(challenge)
        full[target] += 1
        return full

    with pytest.raises(InvalidWitness, match=f"changed committed wire {target}"):
        prove_committed(pk, statement.witness, tampered, default_backend)
