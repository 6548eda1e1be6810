"""Groth16 over BN254 (Groth, EUROCRYPT 2016), knowing nothing of options.

It consumes the plain R1CS of bn254.r1cs and a witness vector in iden3 wire
order, and reads and writes the snarkjs formats, so that snarkjs can verify our
proofs, we can verify snarkjs's, and we can prove with a snarkjs zkey.

Usage::

    pk, vk = setup(r1cs)                        # development keys (vk.is_development)
    proof = prove(pk, witness)                  # fresh randomness per proof
    assert verify(vk, r1cs.public_values(witness), proof)
    write_verification_key(vk, "verification_key.json")
    write_proof(proof, "proof.json")
    write_public(r1cs.public_values(witness), "public.json")
    calldata = solidity_calldata(proof, r1cs.public_values(witness))   # EIP-197 order
    pk2 = read_zkey("circuit_final.zkey", r1cs)  # a key snarkjs made for the same .r1cs

Every heavy kernel runs on a backend (prover.backends): the default one unless
a `backend=` is passed.
"""

from prover.backends import Backend, backend_names, get_backend, register_backend
from bn254.curve import CoordinateOutOfRange, InvalidPoint, PointNotInSubgroup, PointNotOnCurve
from prover.errors import (
    CircuitTooLarge,
    InvalidPublicInputs,
    InvalidWitness,
    KeyFormatError,
    KeyMismatch,
    ProverError,
    PublicInputCountMismatch,
    PublicInputOutOfRange,
    UnsatisfiedConstraint,
)
from prover.formats import (
    SolidityCalldata,
    proof_from_json,
    proof_to_json,
    public_from_json,
    public_to_json,
    read_proof,
    read_public,
    read_verification_key,
    solidity_calldata,
    verifying_key_from_json,
    verifying_key_to_json,
    write_proof,
    write_public,
    write_verification_key,
)
from prover.generator import setup
from prover.keys import DEVELOPMENT_SETUP, Proof, ProvingKey, VerifyingKey
from prover.proving import prove
from prover.verifier import verify
from prover.zkey import read_zkey

__all__ = [
    "Backend",
    "CircuitTooLarge",
    "CoordinateOutOfRange",
    "DEVELOPMENT_SETUP",
    "InvalidPoint",
    "InvalidPublicInputs",
    "InvalidWitness",
    "KeyFormatError",
    "KeyMismatch",
    "PointNotInSubgroup",
    "PointNotOnCurve",
    "Proof",
    "ProverError",
    "ProvingKey",
    "PublicInputCountMismatch",
    "PublicInputOutOfRange",
    "SolidityCalldata",
    "UnsatisfiedConstraint",
    "VerifyingKey",
    "backend_names",
    "get_backend",
    "proof_from_json",
    "proof_to_json",
    "prove",
    "public_from_json",
    "public_to_json",
    "read_proof",
    "read_public",
    "read_verification_key",
    "read_zkey",
    "register_backend",
    "setup",
    "solidity_calldata",
    "verify",
    "verifying_key_from_json",
    "verifying_key_to_json",
    "write_proof",
    "write_public",
    "write_verification_key",
]
