"""Groth16 over BN254 (Groth, EUROCRYPT 2016), knowing nothing of options.

It consumes the plain R1CS of bn254.r1cs and a witness vector in iden3 wire
order, and reads and writes the snarkjs formats, so that snarkjs can verify our
proofs, we can verify snarkjs's, and we can prove with a snarkjs zkey.

Usage::

    pk, vk = setup(r1cs)                        # development keys (vk.is_development)
    prepared = prepare(pk)                      # the key in the backend's layout, once
    proof = prove(prepared, witness)            # fresh randomness per proof (check=True: every constraint)
    assert verify(vk, r1cs.public_values(witness), proof)
    write_verification_key(vk, "verification_key.json")
    write_proof(proof, "proof.json")
    write_public(r1cs.public_values(witness), "public.json")
    calldata = solidity_calldata(proof, r1cs.public_values(witness))   # EIP-197 order
    pk2 = read_zkey("circuit_final.zkey", r1cs)  # a key snarkjs made for the same .r1cs
    write_zkey(pk, "dev.zkey")                  # snarkjs can prove with it (a development key)
    pk, vk, reused = keys_for(r1cs)             # saved by circuit fingerprint, reused next run

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
    StaleKey,
    UntrustedKey,
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
from prover.keystore import circuit_fingerprint, keys_for
from prover.progress import Progress
from prover.keys import PreparedProvingKey
from prover.proving import prepare, prove
from prover.trust import require_deployable, require_usable, untrusted_reasons
from prover.verifier import verify
from prover.zkey import read_zkey, write_zkey, zkey_bytes

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
    "PreparedProvingKey",
    "Progress",
    "Proof",
    "ProverError",
    "ProvingKey",
    "PublicInputCountMismatch",
    "PublicInputOutOfRange",
    "SolidityCalldata",
    "StaleKey",
    "UnsatisfiedConstraint",
    "UntrustedKey",
    "VerifyingKey",
    "backend_names",
    "circuit_fingerprint",
    "get_backend",
    "keys_for",
    "prepare",
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
    "require_deployable",
    "require_usable",
    "setup",
    "solidity_calldata",
    "untrusted_reasons",
    "verify",
    "verifying_key_from_json",
    "verifying_key_to_json",
    "write_proof",
    "write_public",
    "write_verification_key",
    "write_zkey",
    "zkey_bytes",
]
