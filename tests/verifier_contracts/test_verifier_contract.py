"""The generated Groth16 verifier on both devnets (py-evm and anvil): accepts the valid proof, rejects every tampering.

Each rejection is checked through both entry points: verifyProof answers false (or
reverts with PrecompileFailed when a point cannot even be read), requireValidProof
reverts with the error that names the failure.
"""

from __future__ import annotations

import pytest
from py_ecc import optimized_bn128 as bn

from prover import Proof, PublicInputCountMismatch
from bn254.constants import Q, R, G1Affine, G2Affine
from verifier_contracts.client import ContractReverted, Groth16VerifierClient, VerifyingKeyMismatch
from verifier_contracts.generate import InputLayout, verifying_key_sha256

PAIRING_PRECOMPILE = 8


def _g1_plus_generator(p: G1Affine) -> G1Affine:
    """p + G1: another valid point, so only the pairing can tell."""
    s = bn.normalize(bn.add((bn.FQ(p[0]), bn.FQ(p[1]), bn.FQ.one()), bn.G1))
    return (int(s[0]), int(s[1]))


def _g2_plus_generator(p: G2Affine) -> G2Affine:
    """p + G2: another valid point of the order-r subgroup."""
    (x0, x1), (y0, y1) = p
    s = bn.normalize(bn.add((bn.FQ2([x0, x1]), bn.FQ2([y0, y1]), bn.FQ2.one()), bn.G2))
    return (tuple(int(c) for c in s[0].coeffs), tuple(int(c) for c in s[1].coeffs))  # type: ignore[return-value]


def assert_rejected(verifier: Groth16VerifierClient, args: tuple, error: str, **values: int) -> None:
    """verifyProof is false and requireValidProof reverts with `error(values)`."""
    assert verifier.call("verifyProof", *args) is False
    with pytest.raises(ContractReverted) as raised:
        verifier.call("requireValidProof", *args)
    assert (raised.value.error, raised.value.values) == (error, values)


def assert_unreadable(verifier: Groth16VerifierClient, args: tuple) -> None:
    """Both entry points revert with PrecompileFailed(8): the pairing precompile refused a point."""
    for function in ("verifyProof", "requireValidProof"):
        with pytest.raises(ContractReverted) as raised:
            verifier.call(function, *args)
        assert (raised.value.error, raised.value.values) == ("PrecompileFailed", {"precompile": PAIRING_PRECOMPILE})


def test_valid_proof_verifies(verifier, snark_material):
    valid = snark_material.valid
    assert verifier.verify(valid.proof, valid.public) is True
    verifier.require_valid(valid.proof, valid.public)


def test_verifying_transaction_succeeds(verifier, snark_material):
    valid = snark_material.valid
    # An explicit gas limit: eth-tester's estimate replays the call ~20 times, each with a pairing.
    receipt = verifier.transact("requireValidProof", *verifier.arguments(valid.proof, valid.public), gas=1_000_000)
    assert receipt["status"] == 1
    # At least what the precompiles charge (EIP-1108): pairing 45,000 + 4·34,000, per input ecMul 6,000 + ecAdd 150.
    assert receipt["gasUsed"] > 21_000 + 45_000 + 4 * 34_000 + 3 * (6_000 + 150)


def test_deployed_constants_name_the_key(verifier, snark_material):
    key = snark_material.valid.key
    assert verifier.call("PUBLIC_INPUT_COUNT") == key.n_public == 3
    assert verifier.call("VERIFYING_KEY_SHA256").hex().removeprefix("0x") == verifying_key_sha256(key)


@pytest.mark.parametrize("point", ["a", "b", "c"])
def test_tampered_point_fails_the_pairing(verifier, snark_material, point):
    valid = snark_material.valid
    proof = valid.proof
    tampered = Proof(
        a=_g1_plus_generator(proof.a) if point == "a" else proof.a,
        b=_g2_plus_generator(proof.b) if point == "b" else proof.b,
        c=_g1_plus_generator(proof.c) if point == "c" else proof.c,
    )
    assert_rejected(verifier, verifier.arguments(tampered, valid.public), "ProofInvalid")


@pytest.mark.parametrize("point", ["a", "b", "c"])
def test_point_off_the_curve_is_refused(verifier, snark_material, point):
    valid = snark_material.valid
    proof = valid.proof
    (bx0, bx1), by = proof.b
    tampered = Proof(
        a=(proof.a[0] + 1, proof.a[1]) if point == "a" else proof.a,
        b=((bx0 + 1, bx1), by) if point == "b" else proof.b,
        c=(proof.c[0], proof.c[1] + 1) if point == "c" else proof.c,
    )
    assert_unreadable(verifier, verifier.arguments(tampered, valid.public))


def test_coordinate_plus_q_is_refused(verifier, snark_material):
    # A.y + q names the same point mod q; the precompile refuses it, so a proof has one encoding.
    valid = snark_material.valid
    a, b, c, public = verifier.arguments(valid.proof, valid.public)
    assert_unreadable(verifier, ([a[0], a[1] + Q], b, c, public))


def test_swapped_g2_coordinates_are_refused(verifier, snark_material):
    # B in snarkjs's [c0, c1] order, i.e. without the swap EIP-197 needs.
    valid = snark_material.valid
    a, b, c, public = verifier.arguments(valid.proof, valid.public)
    (x0, x1), (y0, y1) = valid.proof.b
    assert b == [[x1, x0], [y1, y0]]  # what the client sends: imaginary part first
    assert_unreadable(verifier, (a, [[x0, x1], [y0, y1]], c, public))


@pytest.mark.parametrize("index", [0, 2])
def test_public_input_off_by_one_is_invalid(verifier, snark_material, index):
    valid = snark_material.valid
    public = list(valid.public)
    public[index] = (public[index] + 1) % R
    assert_rejected(verifier, verifier.arguments(valid.proof, public), "ProofInvalid")


@pytest.mark.parametrize("index", [0, 2])
def test_public_input_plus_r_is_not_in_field(verifier, snark_material, index):
    # x + r is x mod r: without the range check the same proof would verify it.
    valid = snark_material.valid
    public = list(valid.public)
    public[index] += R
    args = verifier.arguments(valid.proof, public)
    assert_rejected(verifier, args, "PublicInputNotInField", index=index, value=public[index])


def test_proof_of_another_witness_is_valid_only_for_its_own_inputs(verifier, snark_material):
    valid, other = snark_material.valid, snark_material.other_witness
    assert other.public != valid.public
    assert verifier.verify(other.proof, other.public) is True
    assert_rejected(verifier, verifier.arguments(other.proof, valid.public), "ProofInvalid")
    assert_rejected(verifier, verifier.arguments(valid.proof, other.public), "ProofInvalid")


def test_proof_for_another_circuit_is_invalid(verifier, snark_material, devnet):
    other = snark_material.other_circuit
    assert verifying_key_sha256(other.key) != verifying_key_sha256(snark_material.valid.key)
    assert_rejected(verifier, verifier.arguments(other.proof, other.public), "ProofInvalid")
    # ...while that circuit's own verifier accepts it.
    own = Groth16VerifierClient.deploy(devnet, other.key)
    assert own.verify(other.proof, other.public) is True


def test_proof_from_our_prover_verifies(devnet, snark_material):
    # DLPE's prover writes the same JSON as snarkjs: its key and proof plug in unchanged.
    own = snark_material.own_prover
    verifier = Groth16VerifierClient.deploy(devnet, own.key)
    assert verifier.verify(own.proof, own.public) is True
    public = list(own.public)
    public[1] = (public[1] + 1) % R
    assert_rejected(verifier, verifier.arguments(own.proof, public), "ProofInvalid")


def test_wrong_input_count_is_refused_before_sending(verifier, snark_material):
    valid = snark_material.valid
    with pytest.raises(PublicInputCountMismatch):
        verifier.verify(valid.proof, valid.public[:-1])


def test_dynamic_layout_checks_the_count(devnet, snark_material):
    valid = snark_material.valid
    dynamic = Groth16VerifierClient.deploy(devnet, valid.key, InputLayout.DYNAMIC)
    assert dynamic.verify(valid.proof, valid.public) is True
    a, b, c, _ = dynamic.arguments(valid.proof, valid.public)
    for public in (valid.public[:-1], valid.public + [1]):
        for function in ("verifyProof", "requireValidProof"):
            with pytest.raises(ContractReverted) as raised:
                dynamic.call(function, a, b, c, public)
            assert raised.value.error == "PublicInputCountMismatch"
            assert raised.value.values == {"expected": 3, "given": len(public)}


def test_attach_checks_the_key(verifier, snark_material, devnet):
    attached = Groth16VerifierClient.attach(devnet, verifier.address, snark_material.valid.key)
    assert attached.verify(snark_material.valid.proof, snark_material.valid.public) is True
    with pytest.raises(VerifyingKeyMismatch):
        Groth16VerifierClient.attach(devnet, verifier.address, snark_material.other_circuit.key)


def test_both_devnets_charge_the_same_gas(py_evm_web3, anvil_chain, snark_material):
    # Both run the Prague rules; the gas benchmark relies on their agreeing to the unit.
    valid = snark_material.valid
    used = []
    for w3 in (py_evm_web3, anvil_chain.web3()):
        verifier = Groth16VerifierClient.deploy(w3, valid.key)
        receipt = verifier.transact("verifyProof", *verifier.arguments(valid.proof, valid.public), gas=1_000_000)
        used.append(receipt["gasUsed"])
    assert used[0] == used[1]
