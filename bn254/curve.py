"""BN254 point encodings, conversions to py_ecc and the group-membership checks.

The constants (q, r, b, b', generators) are bn254.constants'; points are affine
integers as described there. G1 has cofactor 1, so a point on the curve is in the
group; G2's cofactor is 2q - r, so a G2 point needs a subgroup check.

The checks are what EIP-196/197 do before they compute; each failure is a typed
error (a ValueError), raised before any arithmetic trusts the point.
"""

from __future__ import annotations

from py_ecc import optimized_bn128 as bn

from bn254.constants import G1_INFINITY, G2_INFINITY, Q, R, G1Affine, G2Affine


class InvalidPoint(ValueError):
    """A curve point that is not an element of its group."""


class CoordinateOutOfRange(InvalidPoint):
    """A coordinate that is not an element of F_q (negative or >= q)."""


class PointNotOnCurve(InvalidPoint):
    """A point that does not satisfy its curve equation (G1) or the twist equation (G2)."""


class PointNotInSubgroup(InvalidPoint):
    """A point on the G2 twist outside the order-r subgroup (G1 has cofactor 1, so never there)."""


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
