"""Groth16 with one Pedersen commitment (gnark's BSB22 extension): keys, proofs and the transcript.

Notation as in prover.keys; J is the set of committed private wires, K_j =
[(beta*A_j + alpha*B_j + C_j)(tau) / gamma]_1 for j in J (the gamma basis the
public inputs use, so that the commitment D = sum_(j in J) w_j K_j can stand in
the verifier's IC sum), sigma the commitment key's own toxic waste and g a
random point of G2. The prover's D is checked to lie in the span of the K_j by
a proof of knowledge P = sigma * D:  e(D, g) * e(P, -g/sigma) = 1.

The transcript (what is hashed, byte for byte, here and in the generated
Solidity verifier) uses SHA-256 (hashlib here, the EVM's precompile 0x02 there)
over 32-byte big-endian words:

    challenge = SHA256(CHALLENGE_TAG, D.x, D.y, x_1, ..., x_(l-1)) mod r
    rho       = 1 + SHA256(FOLD_TAG, A, B, C, D, P, x_1, ..., x_l) mod (r - 1)

where x_1..x_l are the public signals, the challenge being x_l (the last), and a
G2 point is written in EIP-197 order (x.c1, x.c0, y.c1, y.c0). The challenge is
a hash of everything the statement depends on that is fixed before it: the
public inputs and the one commitment. Reduced mod r, each value of the challenge
has probability at most 6 / 2^256 < 2^-253 (2^256 < 6r), which the lookup's
soundness bound (circuits.gadgets.logup) multiplies by at most 6r/2^256 < 1.2.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

from bn254.constants import R, G1Affine, G2Affine
from prover.errors import ProverError
from prover.keys import PreparedProvingKey, Proof, ProvingKey, VerifyingKey

COMMITMENT_SETUP = "development, single party, commitment key sigma not covered by any ceremony, not for value"
"""Provenance of keys from prover.committed.setup_committed(): sigma, like tau, was known to one party.

A snarkjs phase-2 ceremony randomises delta, not sigma: until the project's ceremony
covers sigma too, lookup-mode keys are development keys whatever their phase 2.
"""


def _tag(name: bytes) -> int:
    return int.from_bytes(hashlib.sha256(name).digest(), "big")


CHALLENGE_TAG = _tag(b"dlpe/groth16-commitment/challenge/v1")
FOLD_TAG = _tag(b"dlpe/groth16-commitment/fold/v1")


class CommitmentError(ProverError, ValueError):
    """A key or proof whose commitment part is malformed (wrong sizes, a wire that cannot be committed)."""


@dataclass(frozen=True, slots=True)
class CommittedVerifyingKey:
    """The verifying key of a circuit whose last public signal is the challenge.

    vk: the Groth16 verifying key; its IC covers the public signals only (challenge included)
    g2: [g]_2, a random point (gnark's pedersen.VerifyingKey.G)
    g2_sigma_neg: [-g/sigma]_2
    """

    vk: VerifyingKey
    g2: G2Affine
    g2_sigma_neg: G2Affine

    @property
    def n_public(self) -> int:
        """Public signals, the challenge (last) included."""
        return self.vk.n_public

    @property
    def is_development(self) -> bool:
        return self.vk.is_development


@dataclass(frozen=True, slots=True)
class CommittedProvingKey:
    """What the committed prover needs.

    pk: the Groth16 proving key, whose l_query is the identity at the committed wires
    vk: the matching CommittedVerifyingKey
    committed_wires: J, in iden3 wire order indices (private wires only), one commitment
    blinding_wire: the wire of J the prover sets to a fresh random value per proof
    basis: [K_j]_1 for j in committed_wires, in that order (the Pedersen key)
    basis_sigma: [sigma * K_j]_1, the same order (for the proof of knowledge)
    """

    pk: ProvingKey
    vk: CommittedVerifyingKey
    committed_wires: tuple[int, ...]
    blinding_wire: int
    basis: tuple[G1Affine, ...]
    basis_sigma: tuple[G1Affine, ...]


@dataclass(frozen=True, eq=False)
class PreparedCommittedKey:
    """A CommittedProvingKey with its Groth16 part in one backend's layout (prover.prepare)."""

    key: CommittedProvingKey
    prepared: PreparedProvingKey


@dataclass(frozen=True, slots=True)
class CommittedProof:
    """A Groth16 proof, the commitment and its proof of knowledge: five G1/G2 points.

    proof: (A, B, C) as in prover.keys.Proof, C without the committed wires' terms
    commitment: D = sum_(j in J) w_j K_j, the blinding wire's random value included
    knowledge_proof: P = sigma * D, computed as sum_(j in J) w_j [sigma K_j]_1
    """

    proof: Proof
    commitment: G1Affine
    knowledge_proof: G1Affine


def _words(*values: int) -> bytes:
    return b"".join(v.to_bytes(32, "big") for v in values)


def _g2_words(p: G2Affine) -> tuple[int, int, int, int]:
    (x0, x1), (y0, y1) = p
    return (x1, x0, y1, y0)


def commitment_challenge(commitment: G1Affine, public_before_challenge: Sequence[int]) -> int:
    """SHA256(CHALLENGE_TAG, D.x, D.y, x_1..x_(l-1)) mod r: the circuit's last public signal."""
    digest = hashlib.sha256(_words(CHALLENGE_TAG, *commitment, *public_before_challenge)).digest()
    return int.from_bytes(digest, "big") % R


def fold_scalar(proof: CommittedProof, public_signals: Sequence[int]) -> int:
    """rho in [1, r): the weight of the proof of knowledge's pairings in the one folded pairing check."""
    p = proof.proof
    words = _words(FOLD_TAG, *p.a, *_g2_words(p.b), *p.c, *proof.commitment, *proof.knowledge_proof, *public_signals)
    return 1 + int.from_bytes(hashlib.sha256(words).digest(), "big") % (R - 1)
