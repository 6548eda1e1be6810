"""BN254 (alt_bn128) curve constants, point encodings and point validation.

The curve of Ethereum's precompiles (EIP-196: G1 add/mul, EIP-197: pairing):
  G1: y^2 = x^3 + 3 over F_q,
  G2: y^2 = x^3 + 3/(9 + u) over F_q2 = F_q[u]/(u^2 + 1) (the D-type sextic twist),
both of prime order r (circuits.field.R), with q and r the BN polynomials of
u = BN254_U (Barreto-Naehrig 2005). G1 has cofactor 1, so a point on the curve
is in the group; G2's cofactor is 2q - r, so a G2 point needs a subgroup check.

Points travel as plain affine integers, the form every file format, the EVM
and any backend agree on:
  G1Affine = (x, y); G2Affine = ((x.c0, x.c1), (y.c0, y.c1)) with x = x.c0 + x.c1*u;
  the point at infinity is all zeros, as in EIP-196/197 ((0, 0) is not on the curve).

The roots of unity are those snarkjs (ffjavascript) uses, so that evaluation
domains agree with snarkjs zkeys: omega_k = 5^((r-1)/2^k), 5 being the least
quadratic non-residue of F_r.

Everything is checked when the module is imported, so a typo cannot reach a key.
"""

from __future__ import annotations

from py_ecc import optimized_bn128 as bn

from circuits.field import BN254_U, MULTIPLICATIVE_GENERATOR, R, TWO_ADICITY
from prover.errors import CoordinateOutOfRange, PointNotInSubgroup, PointNotOnCurve

Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
"""The BN254 base field modulus q (coordinates of points live in F_q)."""

CURVE_B = 3
"""b of the G1 equation y^2 = x^3 + b."""

TWIST_B = (
    19485874751759354771024239261021720505790618469301721065564631296452457478373,
    266929791119991161246907387137283842545076965332900288569378510910307636690,
)
"""b' = 3 / (9 + u) of the G2 equation, as (c0, c1)."""

G1Affine = tuple[int, int]
Fq2 = tuple[int, int]
G2Affine = tuple[Fq2, Fq2]

G1_INFINITY: G1Affine = (0, 0)
G2_INFINITY: G2Affine = ((0, 0), (0, 0))

G1_GENERATOR: G1Affine = (1, 2)
G2_GENERATOR: G2Affine = (
    (
        10857046999023057135944570762232829481370756359578518086990519993285655852781,
        11559732032986387107991004021392285783925812861821192530917403151452391805634,
    ),
    (
        8495653923123431417604973247489272438418190587263600148770280649306958101930,
        4082367875863433681332203403145435568316851327593401208105741076214120093531,
    ),
)

ROOT_OF_UNITY_BASE = MULTIPLICATIVE_GENERATOR
"""5: the base snarkjs raises to (r-1)/2^k for its 2^k-th root of unity."""

MAX_DOMAIN_POWER = TWO_ADICITY
"""Evaluation domains of F_r have size at most 2^28."""


def root_of_unity(power: int) -> int:
    """omega_power: the primitive 2^power-th root of unity of F_r that snarkjs uses (Fr.w[power])."""
    if not 0 <= power <= MAX_DOMAIN_POWER:
        raise ValueError(f"F_r has no root of unity of order 2^{power}")
    return pow(ROOT_OF_UNITY_BASE, (R - 1) >> power, R)


# -- conversion to and from py_ecc's projective points (the reference arithmetic) -------


def g1_to_py_ecc(p: G1Affine) -> tuple:
    """py_ecc optimized_bn128 projective point of an affine G1 point ((0, 0) -> infinity)."""
    if p == G1_INFINITY:
        return bn.Z1
    return (bn.FQ(p[0]), bn.FQ(p[1]), bn.FQ.one())


def g2_to_py_ecc(p: G2Affine) -> tuple:
    """py_ecc optimized_bn128 projective point of an affine G2 point (all zeros -> infinity)."""
    if p == G2_INFINITY:
        return bn.Z2
    return (bn.FQ2(p[0]), bn.FQ2(p[1]), bn.FQ2.one())


def g1_from_py_ecc(p: tuple) -> G1Affine:
    """Affine integers of a py_ecc G1 point."""
    if bn.is_inf(p):
        return G1_INFINITY
    x, y = bn.normalize(p)
    return (int(x), int(y))


def g2_from_py_ecc(p: tuple) -> G2Affine:
    """Affine integers of a py_ecc G2 point."""
    if bn.is_inf(p):
        return G2_INFINITY
    x, y = bn.normalize(p)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


# -- validation: what EIP-196/197 check before they compute ------------------------------


def _check_coordinates(values: tuple[int, ...], what: str) -> None:
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < Q:
            raise CoordinateOutOfRange(f"{what}: coordinate {v!r} is not an element of F_q")


def is_on_g1(p: G1Affine) -> bool:
    """True when p is the point at infinity or satisfies y^2 = x^3 + 3 (so is in G1: cofactor 1)."""
    return p == G1_INFINITY or bn.is_on_curve(g1_to_py_ecc(p), bn.b)


def is_on_twist(p: G2Affine) -> bool:
    """True when p is the point at infinity or satisfies the twist equation y^2 = x^3 + 3/(9+u)."""
    return p == G2_INFINITY or bn.is_on_curve(g2_to_py_ecc(p), bn.b2)


def is_in_g2(p: G2Affine) -> bool:
    """True when p is on the twist and r * p = 0 (p in the order-r subgroup G2)."""
    return is_on_twist(p) and bn.is_inf(bn.multiply(g2_to_py_ecc(p), R))


def validate_g1(p: G1Affine, what: str) -> None:
    """Raise CoordinateOutOfRange or PointNotOnCurve unless p is a G1 element; `what` names it."""
    _check_coordinates(p, what)
    if not is_on_g1(p):
        raise PointNotOnCurve(f"{what} is not on the curve y^2 = x^3 + 3")


def validate_g2(p: G2Affine, what: str) -> None:
    """Raise CoordinateOutOfRange, PointNotOnCurve or PointNotInSubgroup unless p is a G2 element."""
    _check_coordinates((*p[0], *p[1]), what)
    if not is_on_twist(p):
        raise PointNotOnCurve(f"{what} is not on the twist y^2 = x^3 + 3/(9+u)")
    if not is_in_g2(p):
        raise PointNotInSubgroup(f"{what} is on the twist but not in the order-r subgroup G2")


def _is_probable_prime(n: int) -> bool:
    # Fermat test to 20 bases: enough to catch a mistyped constant, not an adversarial n.
    return all(pow(a, n - 1, n) == 1 for a in range(2, 22))


def _check_constants() -> None:
    u = BN254_U
    if Q != 36 * u**4 + 36 * u**3 + 24 * u**2 + 6 * u + 1 or not _is_probable_prime(Q):
        raise AssertionError("q is not the BN254 base field prime 36u^4+36u^3+24u^2+6u+1")
    if (Q, R) != (bn.field_modulus, bn.curve_order):
        raise AssertionError("q, r disagree with py_ecc's alt_bn128")
    if TWIST_B != tuple(bn.b2.coeffs) or CURVE_B != int(bn.b):
        raise AssertionError("curve coefficients disagree with py_ecc (b = 3, b' = 3/(9+u))")
    if g1_to_py_ecc(G1_GENERATOR) != bn.G1 or not bn.eq(g2_to_py_ecc(G2_GENERATOR), bn.G2):
        raise AssertionError("generators disagree with py_ecc's")
    if not is_on_g1(G1_GENERATOR) or not is_in_g2(G2_GENERATOR):
        raise AssertionError("a generator is not in its group")
    if not bn.is_inf(bn.multiply(bn.G1, R)):
        raise AssertionError("the G1 generator does not have order r")
    top = root_of_unity(MAX_DOMAIN_POWER)
    if pow(top, 1 << (MAX_DOMAIN_POWER - 1), R) != R - 1:
        raise AssertionError("omega_28 is not a primitive 2^28-th root of unity")


_check_constants()
