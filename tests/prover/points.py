"""Curve points the honest code never makes, for negative tests."""

from __future__ import annotations

from py_ecc import optimized_bn128 as bn

from bn254.constants import Q, G2Affine, TWIST_B


def _sqrt_fq(a: int) -> int | None:
    root = pow(a, (Q + 1) // 4, Q)  # q = 3 mod 4
    return root if root * root % Q == a % Q else None


def _sqrt_fq2(a0: int, a1: int) -> tuple[int, int] | None:
    """A square root of a0 + a1*u in F_q2 = F_q[u]/(u^2 + 1), or None."""
    norm_root = _sqrt_fq(a0 * a0 + a1 * a1)
    if norm_root is None:
        return None
    half = pow(2, Q - 2, Q)
    for candidate in ((a0 + norm_root) * half, (a0 - norm_root) * half):
        x0 = _sqrt_fq(candidate % Q)
        if x0:
            x1 = a1 * pow(2 * x0, Q - 2, Q) % Q
            if (x0 * x0 - x1 * x1 - a0) % Q == 0 and (2 * x0 * x1 - a1) % Q == 0:
                return (x0, x1)
    return None


def twist_point_outside_g2() -> G2Affine:
    """A point on the twist y^2 = x^3 + 3/(9+u) that is not in the order-r subgroup G2."""
    b = bn.FQ2(list(TWIST_B))
    for i in range(1, 1000):
        x = bn.FQ2([i, 1])
        rhs = x**3 + b
        y = _sqrt_fq2(*(int(c) for c in rhs.coeffs))
        if y is None:
            continue
        point = ((i, 1), y)
        if not bn.is_inf(bn.multiply((x, bn.FQ2(list(y)), bn.FQ2.one()), bn.curve_order)):
            return point
    raise AssertionError("no twist point found")
