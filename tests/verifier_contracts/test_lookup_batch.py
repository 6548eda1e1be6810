"""A lookup-mode batch, end to end: the 1-quote batch circuit settled by lookup, proven with the
committed prover (keys saved by fingerprint, so a second run only loads them), verified in Python
and accepted by the generated folded verifier on anvil (else the in-process EVM)."""

from __future__ import annotations

import pytest

from circuits.gadgets.logup import committed_statement
from solver.mode_costs import build_batch
from prover.committed import prove_committed, verify_committed
from prover.committed_keystore import committed_keys_for
from verifier_contracts.build import compile_contract
from verifier_contracts.client import ContractClient, ContractReverted
from verifier_contracts.devnet import find_anvil
from verifier_contracts.generate_committed import CONTRACT_NAME, committed_calldata, render_committed_verifier


@pytest.fixture(scope="module")
def chain(request):
    if find_anvil() is not None:
        return request.getfixturevalue("anvil_chain").web3()
    return request.getfixturevalue("py_evm_web3")


def test_a_lookup_batch_is_proven_and_verified_in_python_and_on_chain(chain):
    statement = committed_statement(build_batch(1, "lookup"))
    pk, vk, _ = committed_keys_for(statement.r1cs, statement.committed_wires, statement.blinding_wire)
    assert vk.is_development
    proof, public = prove_committed(pk, statement.witness, statement.witness_for_challenge)
    assert public[:-1] == statement.witness[1 : statement.r1cs.n_public]  # the batch's own signals, unchanged
    assert verify_committed(vk, public, proof)
    verifier = ContractClient.deploy_compiled(chain, compile_contract(render_committed_verifier(vk), CONTRACT_NAME))
    args = committed_calldata(proof, public)
    assert verifier.call("verifyProof", *args) is True
    tampered = committed_calldata(proof, [public[0] ^ 1, *public[1:]])  # another state commitment
    with pytest.raises(ContractReverted) as raised:
        verifier.call("requireValidProof", *tampered)
    assert raised.value.error == "ChallengeMismatch"
