"""The Groth16 verifier (Groth, EUROCRYPT 2016, sect. 3.2), with EIP-197's input checks.

Accept iff e(A, B) = e(alpha, beta) * e(vk_x, gamma) * e(C, delta) in G_T, where
vk_x = IC_0 + sum_i x_i IC_i. As the EIP-197 precompile (and snarkjs's Solidity
verifier) does, this is one product of four Miller loops,
    e(-A, B) * e(alpha, beta) * e(vk_x, gamma) * e(C, delta) == 1,
with a single final exponentiation; py_ecc computes the optimal ate pairing.

Before any pairing, malformed input raises a typed error (prover.errors), the way
ark-groth16 checks its inputs: a wrong number of public inputs, an input outside
[0, r) (x and x + r would otherwise verify alike), a coordinate outside F_q, a
point off its curve, a G2 point outside the order-r subgroup. A well-formed
proof that does not verify returns False.
"""

from __future__ import annotations

from typing import Sequence

from py_ecc import optimized_bn128 as bn

from bn254.constants import R, G1_INFINITY, G1Affine, G2Affine, Q
from prover.backends import Backend, get_backend
from bn254.curve import g1_to_py_ecc, g2_to_py_ecc, validate_g1, validate_g2
from prover.errors import PublicInputCountMismatch, PublicInputOutOfRange
from prover.keys import Proof, VerifyingKey


def check_public_inputs(vk: VerifyingKey, public_inputs: Sequence[int]) -> None:
    """Raise PublicInputCountMismatch or PublicInputOutOfRange unless the inputs fit vk."""
    if len(public_inputs) != vk.n_public:
        raise PublicInputCountMismatch(f"{len(public_inputs)} public inputs, the key expects {vk.n_public}")
    for i, x in enumerate(public_inputs):
        if not isinstance(x, int) or isinstance(x, bool) or not 0 <= x < R:
            raise PublicInputOutOfRange(f"public input {i} is {x!r}, not an integer in [0, r)")


def check_proof_points(proof: Proof) -> None:
    """Raise an InvalidPoint subclass unless A, C are in G1 and B is in G2."""
    validate_g1(proof.a, "proof.a (pi_a)")
    validate_g2(proof.b, "proof.b (pi_b)")
    validate_g1(proof.c, "proof.c (pi_c)")


def _g1_neg(p: G1Affine) -> G1Affine:
    return p if p == G1_INFINITY else (p[0], (Q - p[1]) % Q)


def pairing_product_is_one(pairs: Sequence[tuple[G1Affine, G2Affine]]) -> bool:
    """True when prod_i e(P_i, Q_i) = 1 in G_T (the EIP-197 pairing check); points must be valid."""
    f = bn.FQ12.one()
    for p, q in pairs:
        f = f * bn.pairing(g2_to_py_ecc(q), g1_to_py_ecc(p), final_exponentiate=False)
    return bn.final_exponentiate(f) == bn.FQ12.one()


def verify(vk: VerifyingKey, public_inputs: Sequence[int], proof: Proof, backend: Backend | None = None) -> bool:
    """True when `proof` proves the statement `public_inputs` under `vk` (see the module docstring).

    vk is trusted (it comes from setup or a checked file); public_inputs and proof are not.
    """
    check_public_inputs(vk, public_inputs)
    check_proof_points(proof)
    backend = backend or get_backend()
    vk_x = backend.g1_msm(vk.gamma_abc_g1, [1, *public_inputs])
    return pairing_product_is_one(
        [
            (_g1_neg(proof.a), proof.b),
            (vk.alpha_g1, vk.beta_g2),
            (vk_x, vk.gamma_g2),
            (proof.c, vk.delta_g2),
        ]
    )
