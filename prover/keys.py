"""Groth16 keys and proofs as plain data (Groth, EUROCRYPT 2016, sect. 3.2).

Notation: [x]_1 = x * G1_GENERATOR, [x]_2 = x * G2_GENERATOR; tau, alpha, beta,
gamma, delta are the setup's secrets; A_j, B_j, C_j the QAP polynomials of wire j
(prover.qap); n the domain size; wires 0..l are the constant one and the l
public signals. Field names follow ark-groth16's data_structures; the snarkjs
name of each is given in brackets. Points are affine integers (bn254.constants).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from bn254.r1cs import R1CS
from bn254.constants import G1Affine, G2Affine

DEVELOPMENT_SETUP = "development, single party, not for value"
"""Provenance of keys from prover.setup(): one party knew the toxic waste for a moment."""

DEVELOPMENT_ZKEY_SETUP = "development: zkey with no phase-2 contribution, not for value"
"""Provenance of a zkey without contributions read with development=True: its delta is known."""

UNKNOWN_SETUP = "unknown: snarkjs file without a dlpe_setup field"
"""Provenance of a verifying key read from a snarkjs file that does not say where it came from."""


@dataclass(frozen=True, slots=True)
class VerifyingKey:
    """What a verifier needs, and all it needs.

    alpha_g1: [alpha]_1 (vk_alpha_1)
    beta_g2: [beta]_2 (vk_beta_2)
    gamma_g2: [gamma]_2 (vk_gamma_2)
    delta_g2: [delta]_2 (vk_delta_2)
    gamma_abc_g1: [(beta*A_j(tau) + alpha*B_j(tau) + C_j(tau)) / gamma]_1 for j = 0..l (IC)
    setup: where the key came from, e.g. DEVELOPMENT_SETUP (written to JSON as dlpe_setup)
    """

    alpha_g1: G1Affine
    beta_g2: G2Affine
    gamma_g2: G2Affine
    delta_g2: G2Affine
    gamma_abc_g1: tuple[G1Affine, ...]
    setup: str

    @property
    def n_public(self) -> int:
        """Number of public signals l (snarkjs nPublic): wire 0, the constant, is not counted."""
        return len(self.gamma_abc_g1) - 1

    @property
    def is_development(self) -> bool:
        """True for keys flagged as development keys (prover.setup(), DEVELOPMENT_ZKEY_SETUP):
        fine for tests, benchmarks and local devnets, never for value."""
        return self.setup.startswith("development")


@dataclass(frozen=True, slots=True)
class ProvingKey:
    """What a prover needs: the verifying key, the query vectors and the constraint system.

    vk: the matching VerifyingKey
    beta_g1: [beta]_1 (vk_beta_1)
    delta_g1: [delta]_1 (vk_delta_1)
    a_query: [A_j(tau)]_1 for every wire j (section "A" of a zkey)
    b_g1_query: [B_j(tau)]_1 for every wire j ("B1")
    b_g2_query: [B_j(tau)]_2 for every wire j ("B2")
    l_query: [(beta*A_j(tau) + alpha*B_j(tau) + C_j(tau)) / delta]_1 for private j > l ("C")
    h_query: [L'_(2i+1)(tau) / delta]_1 for i < n, L' the Lagrange basis of the size-2n
        domain ("H"; prover.qap says why the prover needs no division by Z)
    r1cs: the constraint system the key was made for (the prover checks witnesses against it)
    """

    vk: VerifyingKey
    beta_g1: G1Affine
    delta_g1: G1Affine
    a_query: tuple[G1Affine, ...]
    b_g1_query: tuple[G1Affine, ...]
    b_g2_query: tuple[G2Affine, ...]
    l_query: tuple[G1Affine, ...]
    h_query: tuple[G1Affine, ...]
    r1cs: R1CS

    @property
    def domain_size(self) -> int:
        """n, the size of the QAP evaluation domain."""
        return len(self.h_query)


@dataclass(frozen=True, slots=True)
class Proof:
    """A Groth16 proof: three points, 128 + 64 bytes uncompressed.

    a: [A]_1 = [alpha + sum_j w_j A_j(tau) + r*delta]_1 (pi_a)
    b: [B]_2 = [beta + sum_j w_j B_j(tau) + s*delta]_2 (pi_b)
    c: [C]_1 = [(sum_(j>l) w_j (beta*A_j + alpha*B_j + C_j)(tau) + h(tau)Z(tau)) / delta
              + s*A + r*B - r*s*delta]_1 (pi_c)
    """

    a: G1Affine
    b: G2Affine
    c: G1Affine


@dataclass(frozen=True, eq=False)
class PreparedProvingKey:
    """A proving key in one backend's own layout, made once by backend.prepare(pk) (ark-groth16's habit).

    pk: the key itself (verifying key, constraint system, sizes)
    backend_name: the backend whose layout the bases are in; only it can use them
    a_bases, b_g1_bases, b_g2_bases, l_bases, h_bases: a_query, b_g1_query, b_g2_query,
        l_query and h_query, each converted on its own, so that a run already in the
        backend's layout (a PointRun read from a .zkey, for the fast backend) is used
        in place: the key is held once, not twice (prover.proving adds alpha, beta
        and delta in a three-point MSM)
    constraints: pk.r1cs in the form the backend's r1cs_evaluations takes (the fast
        backend: compressed sparse rows), built once like the bases
    """

    pk: ProvingKey
    backend_name: str
    a_bases: Any
    b_g1_bases: Any
    b_g2_bases: Any
    l_bases: Any
    h_bases: Any
    constraints: Any = None


def prepare_with(
    pk: ProvingKey,
    backend_name: str,
    g1_bases: Callable[[Sequence[G1Affine]], Any],
    g2_bases: Callable[[Sequence[G2Affine]], Any],
    *,
    constraints: Any = None,
) -> PreparedProvingKey:
    """The PreparedProvingKey whose query vectors are converted by a backend's g1_bases / g2_bases.

    The query vectors may be prover.point_runs.PointRuns: a converter that takes a
    run's limbs as they are never unpacks it into ints.
    constraints: pk.r1cs in the backend's form (default: pk.r1cs as it is).
    """
    return PreparedProvingKey(
        pk=pk,
        backend_name=backend_name,
        a_bases=g1_bases(pk.a_query),
        b_g1_bases=g1_bases(pk.b_g1_query),
        b_g2_bases=g2_bases(pk.b_g2_query),
        l_bases=g1_bases(pk.l_query),
        h_bases=g1_bases(pk.h_query),
        constraints=pk.r1cs if constraints is None else constraints,
    )
