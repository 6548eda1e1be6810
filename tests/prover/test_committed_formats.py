"""Committed keys and proofs in snarkjs's JSON with one documented extension each, and saved by fingerprint."""

from __future__ import annotations

import json

import pytest

from prover.backends import get_backend
from prover.committed import prove_committed, verify_committed
from prover.committed_formats import (
    commitment_key_from_json,
    commitment_key_to_json,
    committed_proof_from_json,
    committed_proof_to_json,
    committed_verifying_key_from_json,
    committed_verifying_key_to_json,
)
from prover.committed_keystore import committed_fingerprint, committed_keys_for
from prover.errors import KeyFormatError
from prover.formats import proof_from_json, verifying_key_from_json
from tests.prover.committed_forgeries import lookup_statement


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    statement = lookup_statement()
    folder = tmp_path_factory.mktemp("cache")
    pk, vk, reused = committed_keys_for(statement.r1cs, statement.committed_wires, statement.blinding_wire,
                                        cache_folder=folder)
    assert not reused
    proof, public = prove_committed(pk, statement.witness, statement.witness_for_challenge)
    return statement, folder, pk, vk, proof, public


def test_keys_are_saved_by_fingerprint_and_reused(saved):
    statement, folder, pk, vk, _, _ = saved
    again, vk_again, reused = committed_keys_for(statement.r1cs, statement.committed_wires, statement.blinding_wire,
                                                 cache_folder=folder)
    assert reused and again == pk and vk_again == vk
    other = committed_fingerprint(statement.r1cs, statement.committed_wires[:-2] + statement.committed_wires[-1:],
                                  statement.blinding_wire)
    assert other != committed_fingerprint(statement.r1cs, statement.committed_wires, statement.blinding_wire)


def test_json_round_trips_and_snarkjs_fields_stay_readable(saved):
    _, _, pk, vk, proof, public = saved
    vk_json, proof_json = committed_verifying_key_to_json(vk), committed_proof_to_json(proof)
    assert committed_verifying_key_from_json(json.loads(json.dumps(vk_json))) == vk
    assert committed_proof_from_json(json.loads(json.dumps(proof_json))) == proof
    # a snarkjs reader sees the plain key and proof and ignores the extension
    assert verifying_key_from_json(vk_json) == vk.vk and proof_from_json(proof_json) == proof.proof
    ck = commitment_key_to_json(pk.committed_wires, pk.blinding_wire, pk.basis, pk.basis_sigma)
    assert commitment_key_from_json(json.loads(json.dumps(ck))) == (pk.committed_wires, pk.blinding_wire,
                                                                   pk.basis, pk.basis_sigma)
    assert verify_committed(vk, public, committed_proof_from_json(proof_json), get_backend())


def test_several_commitments_are_refused(saved):
    _, _, _, vk, proof, _ = saved
    proof_json = committed_proof_to_json(proof)
    proof_json["dlpe_commitment"] = [proof_json["dlpe_commitment"]] * 2
    with pytest.raises(KeyFormatError, match="several commitments"):
        committed_proof_from_json(proof_json)
    vk_json = committed_verifying_key_to_json(vk)
    vk_json["dlpe_commitment"] = [vk_json["dlpe_commitment"]] * 2
    with pytest.raises(KeyFormatError, match="several commitments"):
        committed_verifying_key_from_json(vk_json)


def test_a_key_of_other_transcript_tags_is_refused(saved):
    vk_json = committed_verifying_key_to_json(saved[3])
    vk_json["dlpe_commitment"]["challenge_tag"] = "1"
    with pytest.raises(KeyFormatError, match="transcript tags"):
        committed_verifying_key_from_json(vk_json)
