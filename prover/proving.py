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

import os

from bn254.constants import R
from bn254.r1cs import InvalidWitness as R1CSInvalidWitness
from prover.backends import Backend, get_backend
from prover.errors import InvalidWitness, UnsatisfiedConstraint
from prover.generator import random_nonzero_scalar
from prover.keys import PreparedProvingKey, Proof, ProvingKey
from prover.qap import coset_quotient
from prover.trust import require_usable

CHECK_ENV = "DLPE_PROVER_CHECK_WITNESS"
"""Set to 1 to make prove() check every constraint by default (the test suite does)."""


def check_witness(pk: ProvingKey, witness: list[int]) -> None:
    """Raise InvalidWitness (length, range, w[0]) or UnsatisfiedConstraint naming the first failing row."""
    try:
        failure = pk.r1cs.first_failure(witness)
    except R1CSInvalidWitness as error:
        raise InvalidWitness(str(error)) from error
    if failure is not None:
        raise UnsatisfiedConstraint(failure)


def prepare(pk: ProvingKey, backend: Backend | None = None) -> PreparedProvingKey:
    """pk in the backend's own layout (default backend unless given): convert once, prove many times."""
    return (backend or get_backend()).prepare(pk)


def prove(
    key: ProvingKey | PreparedProvingKey,
    witness: list[int],
    backend: Backend | None = None,
    *,
    check: bool | None = None,
) -> Proof:
    """A proof that `witness` (iden3 wire order, w[0] = 1) satisfies the key's constraint system.

    key: a PreparedProvingKey (prepare(pk)), or a ProvingKey prepared now for this proof only.
    check: evaluate every constraint first and raise UnsatisfiedConstraint naming the
    first failing one (default: on when $DLPE_PROVER_CHECK_WITNESS is 1). Unchecked,
    an unsatisfying witness gives a proof that does not verify. The witness's length,
    range and w[0] = 1 are always checked (InvalidWitness). Raises UntrustedKey for a
    key nobody should trust that is not flagged as a development key.
    """
    if isinstance(key, PreparedProvingKey):
        prepared = key
        backend = backend or get_backend(prepared.backend_name)
        if backend.name != prepared.backend_name:
            raise ValueError(f"the key was prepared for the {prepared.backend_name!r} backend, not {backend.name!r}")
    else:
        backend = backend or get_backend()
        prepared = backend.prepare(key)
    pk = prepared.pk
    require_usable(pk.vk, "prove")
    if check if check is not None else os.environ.get(CHECK_ENV) == "1":
        check_witness(pk, witness)
    else:
        try:
            pk.r1cs.validate_witness(witness)
        except R1CSInvalidWitness as error:
            raise InvalidWitness(str(error)) from error
    # The witness enters the backend's layout once; from there to the MSMs no int is made.
    w = backend.fr_vector(witness)
    h = coset_quotient(list(backend.r1cs_evaluations(prepared, w)), backend)
    r, s = random_nonzero_scalar(), random_nonzero_scalar()

    vk = pk.vk
    a_w = backend.g1_msm_prepared(prepared.a_bases, w)  # sum_j w_j [A_j(tau)]_1
    a = backend.g1_msm([vk.alpha_g1, a_w, pk.delta_g1], [1, 1, r])
    b_w = backend.g2_msm_prepared(prepared.b_g2_bases, w)
    b = backend.g2_msm([vk.beta_g2, b_w, vk.delta_g2], [1, 1, s])
    b_g1_w = backend.g1_msm_prepared(prepared.b_g1_bases, w)
    b_g1 = backend.g1_msm([pk.beta_g1, b_g1_w, pk.delta_g1], [1, 1, s])
    l_w = backend.g1_msm_prepared(prepared.l_bases, w[vk.n_public + 1 :])  # the private wires' L points
    h_z = backend.g1_msm_prepared(prepared.h_bases, h)  # [h(tau) Z(tau) / delta]_1
    c = backend.g1_msm([l_w, h_z, a, b_g1, pk.delta_g1], [1, 1, s, r, -r * s % R])
    return Proof(a=a, b=b, c=c)
