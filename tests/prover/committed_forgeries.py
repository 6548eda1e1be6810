"""A small lookup-mode statement and the forgeries of a committed Groth16 proof, shared by the
Python verifier's tests (tests/prover/test_committed.py) and the Solidity verifier's
(tests/verifier_contracts/test_committed_verifier.py).

Each forger knows the honest witness and every value it commits to (its own blinding
included), and holds the proving key: what it lacks is sigma and the toxic waste.
"""

from __future__ import annotations

from bn254.constants import R
from circuits.builder import ConstraintSystem
from circuits.gadgets.bits import range_check
from circuits.gadgets.logup import CommittedStatement, committed_statement
from prover.backends import Backend
from prover.committed_keys import CommittedProof, CommittedProvingKey, commitment_challenge
from prover.proving import prove

BLINDING = 424242  # the forger's own blinding value


def lookup_statement(x: int = 300, z: int = (1 << 40) - 1) -> CommittedStatement:
    """public x * x (below 2^20), x below 2^10, a private z below 2^40: three checks by lookup (< 2^7 rows)."""
    cs = ConstraintSystem(range_mode="lookup")
    xw = cs.private_input("x", x)
    square = cs.mul(xw, xw, "square")
    cs.public_output("square", square)
    range_check(cs, xw, 10)
    range_check(cs, square, 20)
    range_check(cs, cs.private_input("z", z), 40)
    return committed_statement(cs)


def commit(statement: CommittedStatement, pk: CommittedProvingKey, backend: Backend, blinding: int = BLINDING):
    """(D, P) of the honest witness's committed values, with a known blinding."""
    values = [blinding if j == pk.blinding_wire else statement.witness[j] for j in pk.committed_wires]
    return backend.g1_msm(pk.basis, values), backend.g1_msm(pk.basis_sigma, values)


def groth16_for(statement: CommittedStatement, pk: CommittedProvingKey, backend: Backend, challenge: int,
                blinding: int = BLINDING):
    """(A, B, C) of the honest witness completed for `challenge` (any value the forger likes), and its signals."""
    full = statement.witness_for_challenge(challenge)
    full[pk.blinding_wire] = blinding
    return prove(pk.pk, full, backend), full[1 : statement.r1cs.n_public + 1]


def forge_challenge(statement, pk, backend) -> tuple[CommittedProof, list[int]]:
    """The prover picks its own challenge: a valid Groth16 part and proof of knowledge, a challenge not D's."""
    d, p = commit(statement, pk, backend)
    groth16, public = groth16_for(statement, pk, backend, 987654321)
    return CommittedProof(groth16, d, p), public


def forge_commitment(statement, pk, backend) -> tuple[CommittedProof, list[int]]:
    """D and P commit to another value of one committed wire (P consistent with D, the challenge D's);
    A, B, C are for the witness's own values."""
    d, p = commit(statement, pk, backend)
    d = backend.g1_msm([d, pk.basis[0]], [1, 1])
    p = backend.g1_msm([p, pk.basis_sigma[0]], [1, 1])
    groth16, public = groth16_for(statement, pk, backend, commitment_challenge(d, [statement.witness[1]]))
    return CommittedProof(groth16, d, p), public


def forge_knowledge_proof(statement, pk, backend) -> tuple[CommittedProof, list[int]]:
    """D' = D - IC_1 claims the public output plus one while vk_x + D' is what the honest witness needs:
    the Groth16 part verifies, but without sigma there is no P' = sigma·D'; the honest P is sent."""
    d, p = commit(statement, pk, backend)
    d_forged = backend.g1_msm([d, pk.vk.vk.gamma_abc_g1[1]], [1, R - 1])
    claimed = [statement.witness[1] + 1]
    challenge = commitment_challenge(d_forged, claimed)
    groth16, _ = groth16_for(statement, pk, backend, challenge)
    return CommittedProof(groth16, d_forged, p), [*claimed, challenge]
