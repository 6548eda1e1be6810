"""The generated committed-Groth16 verifier (lookup mode), folded and separate: the honest proof is
accepted (the folded verifier on both devnets), each forgery refused with the error that names it,
and the fold costs less gas than gnark's two pairing calls. All but the devnet check run on anvil
when it is installed (its native pairing keeps them short), else on the in-process EVM."""

from __future__ import annotations

import pytest

from bn254.constants import R
from prover.backends import get_backend
from prover.committed import prove_committed, setup_committed
from tests.prover.committed_forgeries import (
    forge_challenge,
    forge_commitment,
    forge_knowledge_proof,
    lookup_statement,
)
from verifier_contracts.build import compile_contract
from verifier_contracts.client import ContractClient, ContractReverted
from verifier_contracts.devnet import find_anvil
from verifier_contracts.generate_committed import (
    CONTRACT_NAME,
    committed_calldata,
    committed_key_sha256,
    render_committed_verifier,
)

GAS_LIMIT = 2_000_000


@pytest.fixture(scope="module")
def material():
    backend = get_backend()
    statement = lookup_statement()
    pk, vk = setup_committed(statement.r1cs, statement.committed_wires, statement.blinding_wire, backend)
    honest = prove_committed(pk, statement.witness, statement.witness_for_challenge, backend)
    forgeries = {
        "challenge": forge_challenge(statement, pk, backend),
        "commitment": forge_commitment(statement, pk, backend),
        "knowledge_proof": forge_knowledge_proof(statement, pk, backend),
    }
    return vk, honest, forgeries


@pytest.fixture(scope="module")
def chain(request):
    """anvil when installed (its native pairing keeps these tests short), else the in-process EVM."""
    if find_anvil() is not None:
        return request.getfixturevalue("anvil_chain").web3()
    return request.getfixturevalue("py_evm_web3")


def _deploy(w3, vk, folded: bool) -> ContractClient:
    return ContractClient.deploy_compiled(w3, compile_contract(render_committed_verifier(vk, folded=folded),
                                                               CONTRACT_NAME))


@pytest.fixture(scope="module", params=[True, False], ids=["folded", "separate"])
def verifiers(request, chain, material):
    vk, _, _ = material
    return request.param, _deploy(chain, vk, request.param)


def _rejected(verifier: ContractClient, args: tuple, error: str) -> ContractReverted:
    assert verifier.call("verifyProof", *args) is False
    with pytest.raises(ContractReverted) as raised:
        verifier.call("requireValidProof", *args)
    assert raised.value.error == error
    return raised.value


def test_the_honest_proof_is_accepted_and_the_key_named(verifiers, material):
    folded, verifier = verifiers
    vk, (proof, public), _ = material
    args = committed_calldata(proof, public)
    assert verifier.call("verifyProof", *args) is True
    verifier.call("requireValidProof", *args)
    assert verifier.call("FOLDED") is folded and verifier.call("PUBLIC_INPUT_COUNT") == vk.n_public
    assert verifier.call("VERIFYING_KEY_SHA256").hex().removeprefix("0x") == committed_key_sha256(vk)


def test_the_folded_verifier_accepts_on_every_devnet(devnet, material):
    vk, (proof, public), _ = material
    assert _deploy(devnet, vk, True).call("verifyProof", *committed_calldata(proof, public)) is True


def test_a_challenge_not_derived_from_the_commitment_is_refused(verifiers, material):
    _, verifier = verifiers
    _, _, forgeries = material
    proof, public = forgeries["challenge"]
    reverted = _rejected(verifier, committed_calldata(proof, public), "ChallengeMismatch")
    assert reverted.values["given"] == public[-1] != reverted.values["expected"]


@pytest.mark.parametrize("forgery", ["commitment", "knowledge_proof"])
def test_a_commitment_or_proof_of_knowledge_forged_is_refused(verifiers, material, forgery):
    _, verifier = verifiers
    _, _, forgeries = material
    proof, public = forgeries[forgery]
    _rejected(verifier, committed_calldata(proof, public), "ProofInvalid")


def test_a_signal_outside_the_field_is_refused(verifiers, material):
    _, verifier = verifiers
    _, (proof, public), _ = material
    reverted = _rejected(verifier, committed_calldata(proof, [public[0] + R, public[1]]), "PublicInputNotInField")
    assert reverted.values == {"index": 0, "value": public[0] + R}


def test_folding_saves_a_pairing_call(chain, material):
    vk, (proof, public), _ = material
    gas = {}
    for folded in (True, False):
        receipt = _deploy(chain, vk, folded).transact("requireValidProof", *committed_calldata(proof, public),
                                                      gas=GAS_LIMIT)
        gas[folded] = receipt["gasUsed"]
    # EIP-1108: one pairing call less (45,000) for two more ecMul (2 * 6,000), less the hashing of the fold
    assert 20_000 < gas[False] - gas[True] < 33_000
