"""BN254 G1 and G2 point arithmetic for numba, written once over fe_* (prover.backends.fast_field).

Both groups are short Weierstrass curves y^2 = x^3 + b with a = 0 (G1 over F_q,
G2 over F_q2), so one set of formulas serves both; a point's field is that of
its coordinates (4 or 8 limbs), resolved at compile time. Formulas are those of
the Explicit-Formulas Database (Bernstein and Lange, hyperelliptic.org/EFD,
"Jacobian coordinates with a4 = 0"):
  - dbl-2009-l (2M + 5S) for doubling,
  - madd-2007-bl (7M + 4S) for adding an affine point,
  - add-2007-bl (11M + 5S) for adding two Jacobian points,
each with the exceptional cases (P + P, P + (-P), infinity) handled explicitly.
A Jacobian point is (X, Y, Z) with x = X/Z^2, y = Y/Z^3; Z = 0 is infinity.
Affine points are stored with the point at infinity as all zeros (no point of
G1 or of the twist has y = 0: both groups have odd order).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from prover.backends.fast_field import (
    fe_add,
    fe_double,
    fe_inv,
    fe_is_zero,
    fe_load,
    fe_mul,
    fe_one,
    fe_sqr,
    fe_store,
    fe_sub,
    fe_zero,
)
from bn254.cache import use_kernel_cache_folder

use_kernel_cache_folder(__file__)  # before this module's kernels are decorated


@njit(cache=True, forceinline=True)
def jac_infinity(like):
    """The point at infinity in Jacobian coordinates over like's field."""
    return (fe_one(like), fe_one(like), fe_zero(like))


@njit(cache=True, forceinline=True)
def jac_from_affine(x, y):
    """The affine point (x, y), not infinity, in Jacobian coordinates: (x, y, 1).

    Not jac_add_affine(infinity, x, y): every inlined group operation on F_q2 is tens of
    kB of machine code that a loaded kernel keeps in memory.
    """
    return (x, y, fe_one(x))


@njit(cache=True, forceinline=True)
def jac_double(p):
    """2P (dbl-2009-l)."""
    x, y, z = p
    if fe_is_zero(z):
        return p
    a = fe_sqr(x)
    b = fe_sqr(y)
    c = fe_sqr(b)
    d = fe_double(fe_sub(fe_sub(fe_sqr(fe_add(x, b)), a), c))
    e = fe_add(fe_double(a), a)
    f = fe_sqr(e)
    x3 = fe_sub(f, fe_double(d))
    c8 = fe_double(fe_double(fe_double(c)))
    y3 = fe_sub(fe_mul(e, fe_sub(d, x3)), c8)
    z3 = fe_double(fe_mul(y, z))
    return (x3, y3, z3)


@njit(cache=True, forceinline=True)
def jac_add_affine(p, x2, y2):
    """P + (x2, y2) for an affine point that is not infinity (madd-2007-bl)."""
    x1, y1, z1 = p
    if fe_is_zero(z1):
        return (x2, y2, fe_one(x2))
    z1z1 = fe_sqr(z1)
    u2 = fe_mul(x2, z1z1)
    s2 = fe_mul(fe_mul(y2, z1), z1z1)
    h = fe_sub(u2, x1)
    r = fe_double(fe_sub(s2, y1))
    if fe_is_zero(h):
        if fe_is_zero(r):
            return jac_double(p)
        return jac_infinity(x2)
    hh = fe_sqr(h)
    i = fe_double(fe_double(hh))
    j = fe_mul(h, i)
    v = fe_mul(x1, i)
    x3 = fe_sub(fe_sub(fe_sqr(r), j), fe_double(v))
    y3 = fe_sub(fe_mul(r, fe_sub(v, x3)), fe_double(fe_mul(y1, j)))
    z3 = fe_sub(fe_sub(fe_sqr(fe_add(z1, h)), z1z1), hh)
    return (x3, y3, z3)


@njit(cache=True, forceinline=True)
def jac_add(p, q):
    """P + Q for Jacobian points (add-2007-bl)."""
    x1, y1, z1 = p
    x2, y2, z2 = q
    if fe_is_zero(z1):
        return q
    if fe_is_zero(z2):
        return p
    z1z1 = fe_sqr(z1)
    z2z2 = fe_sqr(z2)
    u1 = fe_mul(x1, z2z2)
    u2 = fe_mul(x2, z1z1)
    s1 = fe_mul(fe_mul(y1, z2), z2z2)
    s2 = fe_mul(fe_mul(y2, z1), z1z1)
    h = fe_sub(u2, u1)
    r = fe_double(fe_sub(s2, s1))
    if fe_is_zero(h):
        if fe_is_zero(r):
            return jac_double(p)
        return jac_infinity(x1)
    i = fe_sqr(fe_double(h))
    j = fe_mul(h, i)
    v = fe_mul(u1, i)
    x3 = fe_sub(fe_sub(fe_sqr(r), j), fe_double(v))
    y3 = fe_sub(fe_mul(r, fe_sub(v, x3)), fe_double(fe_mul(s1, j)))
    z3 = fe_mul(fe_sub(fe_sub(fe_sqr(fe_add(z1, z2)), z1z1), z2z2), h)
    return (x3, y3, z3)


@njit(cache=True, parallel=True)
def batch_to_affine(jacobian, like):
    """Affine (x, y) rows (all zeros for infinity) of Jacobian rows (X, Y, Z), shape (m, 3L) -> (m, 2L).

    One inversion per chunk of rows by Montgomery's trick: invert the product of the
    Z's, then peel each 1/Z off with two multiplications (Montgomery, Math. Comp. 1987).
    """
    limbs = len(like)
    m = jacobian.shape[0]
    out = np.zeros((m, 2 * limbs), np.uint64)
    chunk = 1024
    for c in prange((m + chunk - 1) // chunk):
        lo, hi = c * chunk, min(m, (c + 1) * chunk)
        prefix = np.empty((hi - lo, limbs), np.uint64)
        acc = fe_one(like)
        for i in range(lo, hi):
            fe_store(prefix, i - lo, 0, acc)
            z = fe_load(jacobian, i, 2 * limbs, like)
            if not fe_is_zero(z):
                acc = fe_mul(acc, z)
        inv = fe_inv(acc)
        for i in range(hi - 1, lo - 1, -1):
            z = fe_load(jacobian, i, 2 * limbs, like)
            if fe_is_zero(z):
                continue
            z_inv = fe_mul(inv, fe_load(prefix, i - lo, 0, like))
            inv = fe_mul(inv, z)
            z_inv2 = fe_sqr(z_inv)
            fe_store(out, i, 0, fe_mul(fe_load(jacobian, i, 0, like), z_inv2))
            fe_store(out, i, limbs, fe_mul(fe_mul(fe_load(jacobian, i, limbs, like), z_inv2), z_inv))
    return out
