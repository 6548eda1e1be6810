"""Groth16 key generation: a single-party development setup (Groth, EUROCRYPT 2016, sect. 3.2).

One process draws the toxic waste tau, alpha, beta, gamma, delta from `secrets`,
computes the keys and drops it. Whoever ran it could forge proofs, so the keys
say so (DEVELOPMENT_SETUP, written to JSON as "dlpe_setup"): fit for tests,
benchmarks and devnets, never for value. Keys for value come from a multi-party
ceremony (snarkjs powers of tau + zkey contributions) and are read with
prover.zkey.read_zkey.
"""

from __future__ import annotations

import secrets
from typing import Sequence

from bn254.constants import R, G1Affine
from bn254.r1cs import R1CS
from prover.backends import Backend, get_backend
from prover.errors import KeyMismatch
from prover.keys import DEVELOPMENT_SETUP, ProvingKey, VerifyingKey
from prover.progress import Progress, report
from prover.qap import domain_power, lagrange_basis_at, wire_polynomials_at


def _query(points: Sequence) -> Sequence:
    """A query vector as the key holds it: a tuple, unless the backend gave its own compact
    sequence (the fast backend's PointRun), which is kept as it is."""
    return tuple(points) if isinstance(points, list) else points


def random_nonzero_scalar() -> int:
    """A uniform element of F_r^* from the OS's cryptographic generator."""
    return secrets.randbelow(R - 1) + 1


def setup(
    r1cs: R1CS, backend: Backend | None = None, *, progress: Progress | None = None
) -> tuple[ProvingKey, VerifyingKey]:
    """Proving and verifying keys for `r1cs`, from toxic waste that never leaves this function.

    Python cannot wipe integers from memory; the secrets are only dropped with
    this frame, which is one more reason these keys are development keys.
    `progress` (prover.progress) hears of each stage.
    """
    pk, vk, _ = setup_with_committed(r1cs, (), backend, progress=progress)
    return pk, vk


def setup_with_committed(
    r1cs: R1CS, committed: Sequence[int], backend: Backend | None = None, *, progress: Progress | None = None
) -> tuple[ProvingKey, VerifyingKey, list[int]]:
    """setup(), with the private wires `committed` moved from the delta basis to the gamma basis.

    The hook of prover.committed (a commitment to those wires, gnark's BSB22): their
    l_query points are the identity, and the third result holds, in the order of
    `committed`, the scalars (beta*A_j + alpha*B_j + C_j)(tau) / gamma of their
    commitment basis. Those scalars are toxic waste: the caller turns them into
    points and drops them.
    """
    if r1cs.prime != R:
        raise KeyMismatch("the constraint system is not over the BN254 scalar field")
    backend = backend or get_backend()
    n = 1 << domain_power(r1cs)
    tau = random_nonzero_scalar()
    while pow(tau, 2 * n, R) == 1:  # tau must avoid both the domain and its coset (prover.qap)
        tau = random_nonzero_scalar()
    alpha, beta, gamma, delta = (random_nonzero_scalar() for _ in range(4))

    report(progress, "setup: QAP polynomials at tau", 0.0)
    a, b, c = wire_polynomials_at(r1cs, lagrange_basis_at(tau, n))
    gamma_inv, delta_inv = pow(gamma, R - 2, R), pow(delta, R - 2, R)
    n_wires, l = r1cs.n_wires, r1cs.n_public
    # beta*A_j + alpha*B_j + C_j: divided by gamma for public wires (IC), by delta for private ones.
    combined = [(beta * a_j + alpha * b_j + c_j) % R for a_j, b_j, c_j in zip(a, b, c)]
    del c
    moved = frozenset(committed)
    commitment_scalars = [combined[j] * gamma_inv % R for j in committed]

    # One query at a time, each list of scalars dropped once its points exist: a backend may
    # hold points compactly (the fast one: 64 bytes a G1 point), Python ints take more.
    report(progress, "setup: G1 fixed-base multiplications", 0.2)
    def g1(scalars: list[int]) -> Sequence[G1Affine]:
        return _query(backend.g1_generator_muls(scalars))

    alpha_g1, beta_g1, delta_g1 = g1([alpha, beta, delta])
    a_query = g1(a)
    del a
    b_g1_query = g1(b)
    ic_g1 = tuple(g1([v * gamma_inv % R for v in combined[: l + 1]]))
    l_query = g1([0 if j in moved else combined[j] * delta_inv % R for j in range(l + 1, n_wires)])
    del combined
    h_query = g1([v * delta_inv % R for v in lagrange_basis_at(tau, 2 * n, range(1, 2 * n, 2))])
    report(progress, "setup: G2 fixed-base multiplications", 0.7)
    beta_g2, gamma_g2, delta_g2 = backend.g2_generator_muls([beta, gamma, delta])
    b_g2_query = _query(backend.g2_generator_muls(b))
    del b

    vk = VerifyingKey(
        alpha_g1=alpha_g1,
        beta_g2=beta_g2,
        gamma_g2=gamma_g2,
        delta_g2=delta_g2,
        gamma_abc_g1=ic_g1,
        setup=DEVELOPMENT_SETUP,
    )
    pk = ProvingKey(
        vk=vk,
        beta_g1=beta_g1,
        delta_g1=delta_g1,
        a_query=a_query,
        b_g1_query=b_g1_query,
        b_g2_query=b_g2_query,
        l_query=l_query,
        h_query=h_query,
        r1cs=r1cs,
    )
    report(progress, "setup: done", 1.0)
    return pk, vk, commitment_scalars
