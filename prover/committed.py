"""Groth16 with a committed challenge: setup, prove and verify (gnark's BSB22 commit-and-prove).

A circuit that needs a challenge its prover cannot choose (circuits.gadgets.logup)
names a set J of private wires to commit to, one of them a blinding wire, and
makes the challenge its last public signal. Then (notation of
prover.committed_keys):

- setup: Groth16's, with the wires of J moved from the delta basis to the gamma
  basis K_j, plus sigma and a random [g]_2 for the commitment's proof of
  knowledge (prover.generator.setup_with_committed is the hook);
- prove: the blinding wire gets a fresh random value b; D = sum_(j in J) w_j K_j
  and P = sigma * D (from the [sigma K_j]_1); challenge = H(D, public inputs);
  the circuit completes its witness for that challenge; then Groth16's A, B, C
  (C holds no term of J: D carries them);
- verify: recompute the challenge from D and the public inputs (a proof whose
  last public signal is anything else is refused), then check in one
  multi-pairing, with rho = H(A, B, C, D, P, public signals) (prover.committed_keys)
      e(-A, B) e(alpha, beta) e(vk_x + D, gamma) e(C, delta) * [e(D, g) e(P, -g/sigma)]^rho = 1.

Folding is sound: write the two checks as X = 1 (Groth16) and Y = 1 (the proof of
knowledge) in G_T, a group of prime order r. If Y != 1 then Y^rho = X^-1 holds for
exactly one rho mod r, and rho is a hash of everything X and Y are made of (every
proof point and public signal), so a prover meets it with probability 1/(r - 1)
per hash it tries (random-oracle model). So X * Y^rho = 1 implies X = Y = 1
except with negligible probability, and rho != 0 by construction. On chain this
saves one ecPairing call (45,000 gas) for two scalar multiplications (12,000).

The two gnark advisories of 2024, and why neither applies here:

- CVE-2024-45039 (several commitments: each challenge hashed only its own
  commitment, so a prover could choose every commitment but the last after
  seeing earlier challenges). Here there is exactly one commitment per circuit
  (CommittedProvingKey holds one Pedersen key, a proof one D, the JSON format one
  "commitment"), and the one challenge hashes D and every other public signal.
- CVE-2024-45040 (the commitment was not hiding: D = sum w_j K_j of a few small
  values could be brute-forced by a verifier). Here J always holds a blinding
  wire whose value is a fresh uniform scalar per proof and whose K_b is not the
  identity (its circuit row b * 0 = 0 gives it a QAP polynomial; setup refuses
  otherwise), so D is a uniform point whatever the other committed values are.

The commitment key has toxic waste of its own (sigma): with it a prover could
commit to public-input bases and shift the statement. A snarkjs phase-2 ceremony
does not randomise sigma, so keys made here are development keys
(COMMITMENT_SETUP) until the project's ceremony covers sigma.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from bn254.constants import G1_INFINITY, Q, R, G1Affine
from bn254.curve import validate_g1
from prover.backends import Backend, get_backend
from prover.committed_keys import (
    COMMITMENT_SETUP,
    CommitmentError,
    CommittedProof,
    CommittedProvingKey,
    CommittedVerifyingKey,
    PreparedCommittedKey,
    commitment_challenge,
    fold_scalar,
)
from prover.errors import InvalidWitness
from prover.generator import random_nonzero_scalar, setup_with_committed
from prover.progress import Progress, report
from prover.proving import prove
from prover.verifier import check_proof_points, check_public_inputs, pairing_product_is_one

from bn254.r1cs import R1CS

WitnessForChallenge = Callable[[int], Sequence[int]]
"""challenge -> the full witness (iden3 order) with every wire after the challenge computed for it."""


def setup_committed(
    r1cs: R1CS,
    committed_wires: Sequence[int],
    blinding_wire: int,
    backend: Backend | None = None,
    *,
    progress: Progress | None = None,
) -> tuple[CommittedProvingKey, CommittedVerifyingKey]:
    """Development keys for `r1cs` with one commitment to `committed_wires` (iden3 indices).

    The last public signal is the challenge. Raises CommitmentError for a set that
    is empty, repeats a wire, holds the constant or a public wire, lacks the
    blinding wire, or whose blinding wire has no QAP polynomial.
    """
    committed = tuple(committed_wires)
    if r1cs.n_public < 1:
        raise CommitmentError("a committed circuit needs a public signal for its challenge (the last one)")
    if not committed or len(set(committed)) != len(committed):
        raise CommitmentError("the committed wires must be a non-empty set of distinct wires")
    for j in committed:
        if not r1cs.n_public < j < r1cs.n_wires:
            raise CommitmentError(f"wire {j} cannot be committed: only private wires ({r1cs.n_public + 1}.."
                                  f"{r1cs.n_wires - 1}) can")
    if blinding_wire not in committed:
        raise CommitmentError(f"the blinding wire {blinding_wire} is not among the committed wires")
    backend = backend or get_backend()
    pk, vk, scalars = setup_with_committed(r1cs, committed, backend, progress=progress)
    report(progress, "setup: commitment key", 0.95)
    sigma, g = random_nonzero_scalar(), random_nonzero_scalar()
    points = backend.g1_generator_muls([*scalars, *(sigma * s % R for s in scalars)])
    g2, g2_sigma_neg = backend.g2_generator_muls([g, -g * pow(sigma, R - 2, R) % R])
    basis, basis_sigma = tuple(points[: len(committed)]), tuple(points[len(committed) :])
    if basis[committed.index(blinding_wire)] == G1_INFINITY:
        raise CommitmentError(f"the blinding wire {blinding_wire} appears in no constraint: its basis point "
                              "would be the identity and the commitment would not hide")
    vk = replace(vk, setup=COMMITMENT_SETUP)
    cvk = CommittedVerifyingKey(vk=vk, g2=g2, g2_sigma_neg=g2_sigma_neg)
    cpk = CommittedProvingKey(pk=replace(pk, vk=vk), vk=cvk, committed_wires=committed,
                              blinding_wire=blinding_wire, basis=basis, basis_sigma=basis_sigma)
    return cpk, cvk


def prepare_committed(key: CommittedProvingKey, backend: Backend | None = None) -> PreparedCommittedKey:
    """key with its Groth16 part in the backend's layout (default backend): convert once, prove many times."""
    return PreparedCommittedKey(key=key, prepared=(backend or get_backend()).prepare(key.pk))


def prove_committed(
    key: CommittedProvingKey | PreparedCommittedKey,
    witness: Sequence[int],
    witness_for_challenge: WitnessForChallenge,
    backend: Backend | None = None,
    *,
    check: bool | None = None,
) -> tuple[CommittedProof, list[int]]:
    """(proof, public signals): a proof that the witness completed for H(D, public inputs) satisfies the key's system.

    witness: the witness as built (iden3 order); only the wires fixed before the
    challenge are read from it (the committed ones and the public inputs).
    witness_for_challenge: completes the witness for the challenge drawn here.
    check: as prover.prove (every constraint checked first).
    Raises InvalidWitness when the completed witness changes a committed wire or a
    public input, or has the wrong challenge.
    """
    prepared = key.prepared if isinstance(key, PreparedCommittedKey) else None
    key = key.key if isinstance(key, PreparedCommittedKey) else key
    if prepared is not None:
        backend = backend or get_backend(prepared.backend_name)
    backend = backend or get_backend()
    n_public = key.vk.n_public
    if len(witness) != key.pk.r1cs.n_wires:
        raise InvalidWitness(f"the witness has {len(witness)} wires, the key's system {key.pk.r1cs.n_wires}")
    blinding = random_nonzero_scalar()
    values = [blinding if j == key.blinding_wire else witness[j] % R for j in key.committed_wires]
    commitment = backend.g1_msm(key.basis, values)
    knowledge_proof = backend.g1_msm(key.basis_sigma, values)
    before = [v % R for v in witness[1:n_public]]
    challenge = commitment_challenge(commitment, before)

    full = list(witness_for_challenge(challenge))
    if len(full) != len(witness):
        raise InvalidWitness(f"the completed witness has {len(full)} wires, not {len(witness)}")
    full[key.blinding_wire] = blinding
    if full[n_public] != challenge:
        raise InvalidWitness("the completed witness does not hold the challenge as its last public signal")
    changed = [j for j, v in zip(key.committed_wires, values) if full[j] % R != v]
    if changed or [v % R for v in full[1:n_public]] != before:
        where = f"committed wire {changed[0]}" if changed else "a public input"
        raise InvalidWitness(f"completing the witness for the challenge changed {where}, fixed before it")
    proof = prove(prepared or key.pk, full, backend, check=check)
    return CommittedProof(proof, commitment, knowledge_proof), full[1 : n_public + 1]


def _g1_neg(p: G1Affine) -> G1Affine:
    return p if p == G1_INFINITY else (p[0], (Q - p[1]) % Q)


def _well_formed(vk: CommittedVerifyingKey, public_signals: Sequence[int], proof: CommittedProof) -> bool:
    """Typed errors for malformed input; False when the challenge is not the hash of D and the inputs."""
    check_public_inputs(vk.vk, public_signals)
    check_proof_points(proof.proof)
    validate_g1(proof.commitment, "commitment")
    validate_g1(proof.knowledge_proof, "knowledge_proof")
    return public_signals[-1] == commitment_challenge(proof.commitment, public_signals[:-1])


def verification_pairs(vk: CommittedVerifyingKey, public_signals: Sequence[int], proof: CommittedProof,
                       backend: Backend, *, fold: bool) -> list[list[tuple]]:
    """The pairing products that must each be 1: one folded product, or Groth16's and the proof of knowledge's."""
    p = proof.proof
    vk_x = backend.g1_msm([*vk.vk.gamma_abc_g1, proof.commitment], [1, *public_signals, 1])
    groth16 = [(_g1_neg(p.a), p.b), (vk.vk.alpha_g1, vk.vk.beta_g2), (vk_x, vk.vk.gamma_g2), (p.c, vk.vk.delta_g2)]
    if not fold:
        return [groth16, [(proof.commitment, vk.g2), (proof.knowledge_proof, vk.g2_sigma_neg)]]
    rho = fold_scalar(proof, public_signals)
    rho_d = backend.g1_msm([proof.commitment], [rho])
    rho_p = backend.g1_msm([proof.knowledge_proof], [rho])
    return [groth16 + [(rho_d, vk.g2), (rho_p, vk.g2_sigma_neg)]]


def verify_committed(
    vk: CommittedVerifyingKey,
    public_signals: Sequence[int],
    proof: CommittedProof,
    backend: Backend | None = None,
    *,
    fold: bool = True,
) -> bool:
    """True when `proof` proves `public_signals` (the challenge last) under vk (module docstring).

    Malformed input raises a typed error before any pairing (prover.verifier's
    checks, plus D and P in G1); a challenge that is not H(D, public inputs)
    returns False. fold=False checks the two products apart (gnark's way; for
    comparison and tests).
    """
    if not _well_formed(vk, public_signals, proof):
        return False
    backend = backend or get_backend()
    return all(pairing_product_is_one(pairs) for pairs in verification_pairs(vk, public_signals, proof, backend,
                                                                              fold=fold))
