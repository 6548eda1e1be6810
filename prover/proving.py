"""The Groth16 prover (Groth, EUROCRYPT 2016, sect. 3.2), randomised for zero knowledge.

With fresh r, s in F_r^* per proof:
  A = alpha + sum_j w_j A_j(tau) + r*delta                        (in G1)
  B = beta  + sum_j w_j B_j(tau) + s*delta                        (in G2, and in G1 for C)
  C = (sum_(j>l) w_j (beta*A_j + alpha*B_j + C_j)(tau) + h(tau)Z(tau)) / delta
      + s*A + r*B - r*s*delta                                     (in G1)
r and s make (A, B) uniform and C determined by them, so a proof reveals nothing
about the private wires beyond the statement. Each line is one MSM on the backend.
"""

from __future__ import annotations

from bn254.constants import R
from bn254.r1cs import InvalidWitness as R1CSInvalidWitness
from prover.backends import Backend, get_backend
from prover.errors import InvalidWitness, UnsatisfiedConstraint
from prover.generator import random_nonzero_scalar
from prover.keys import Proof, ProvingKey
from prover.qap import quotient_evaluations
from prover.trust import require_usable


def check_witness(pk: ProvingKey, witness: list[int]) -> None:
    """Raise InvalidWitness (length, range, w[0]) or UnsatisfiedConstraint naming the first failing row."""
    try:
        failure = pk.r1cs.first_failure(witness)
    except R1CSInvalidWitness as error:
        raise InvalidWitness(str(error)) from error
    if failure is not None:
        raise UnsatisfiedConstraint(failure)


def prove(pk: ProvingKey, witness: list[int], backend: Backend | None = None) -> Proof:
    """A proof that `witness` (iden3 wire order, w[0] = 1) satisfies pk's constraint system.

    Raises UntrustedKey for a key nobody should trust that is not flagged as a development key.
    """
    require_usable(pk.vk, "prove")
    check_witness(pk, witness)
    backend = backend or get_backend()
    vk = pk.vk
    h = quotient_evaluations(pk.r1cs, witness, pk.domain_size, backend)
    r, s = random_nonzero_scalar(), random_nonzero_scalar()

    a = backend.g1_msm([vk.alpha_g1, *pk.a_query, pk.delta_g1], [1, *witness, r])
    b = backend.g2_msm([vk.beta_g2, *pk.b_g2_query, vk.delta_g2], [1, *witness, s])
    b_g1 = backend.g1_msm([pk.beta_g1, *pk.b_g1_query, pk.delta_g1], [1, *witness, s])
    private = witness[vk.n_public + 1 :]
    c = backend.g1_msm(
        [*pk.l_query, *pk.h_query, a, b_g1, pk.delta_g1],
        [*private, *h, s, r, -r * s % R],
    )
    return Proof(a=a, b=b, c=c)
