"""Many small, sparse combinations of points at once: out[j] = sum_k s_k P_{i_k} over row j's terms.

The phase-2 ceremony (prover.ceremony) needs thousands of them: each wire's query
point is a short combination of Lagrange points of the powers of tau, with the
R1CS coefficients as scalars (snarkjs src/zkey_new.js), and a contribution
multiplies every L and H point by one scalar (a row of one term each). One call
per row to the Pippenger MSM costs milliseconds of set-up; here every row is a
plain double-and-add (fast_groups' formulas), rows in parallel. A scalar above
r/2 is replaced by r - s on the negated point, so the coefficients -1, -2^i of a
bits-mode circuit cost a few doublings, not 254.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numba import njit, prange

from bn254.constants import R, G1Affine, G2Affine
from prover.backends.fast import _g1_points, _g2_points, g1_limbs, g2_limbs
from prover.backends.fast_field import FQ2_ZERO, ZERO, fe_is_zero, fe_load, fe_store, fe_sub, fe_zero, ints_to_limbs
from prover.backends.fast_groups import batch_to_affine, jac_add, jac_add_affine, jac_double, jac_infinity

_HALF_R = R // 2


@njit(cache=True, forceinline=True)
def _times_affine(x, y, scalar):
    # MSB-first double-and-add over the scalar's 4 little-endian limbs.
    acc = jac_infinity(x)
    for limb in range(3, -1, -1):
        word = scalar[limb]
        for bit in range(63, -1, -1):
            acc = jac_double(acc)
            if (word >> np.uint64(bit)) & np.uint64(1):
                acc = jac_add_affine(acc, x, y)
    return acc


@njit(cache=True, parallel=True)
def sparse_combinations(points, starts, indices, scalars, negate, like):
    """Jacobian rows (m, 3L): row j = sum over k in [starts[j], starts[j+1]) of scalars[k] * (+/-) points[indices[k]]."""
    limbs = len(like)
    m = starts.shape[0] - 1
    out = np.zeros((m, 3 * limbs), np.uint64)
    for j in prange(m):
        acc = jac_infinity(like)
        for k in range(starts[j], starts[j + 1]):
            i = indices[k]
            x = fe_load(points, i, 0, like)
            y = fe_load(points, i, limbs, like)
            if fe_is_zero(x) and fe_is_zero(y):
                continue  # the point at infinity adds nothing
            if negate[k]:
                y = fe_sub(fe_zero(like), y)
            acc = jac_add(acc, _times_affine(x, y, scalars[k]))
        fe_store(out, j, 0, acc[0])
        fe_store(out, j, limbs, acc[1])
        fe_store(out, j, 2 * limbs, acc[2])
    return out


def _combine(rows_of_points: np.ndarray, rows: Sequence[Sequence[tuple[int, int]]], like: tuple) -> np.ndarray:
    starts = np.zeros(len(rows) + 1, np.int64)
    starts[1:] = np.cumsum([len(row) for row in rows])
    indices = np.array([i for row in rows for i, _ in row], np.int64)
    values = [s % R for row in rows for _, s in row]
    negate = np.array([v > _HALF_R for v in values], np.bool_)
    scalars = ints_to_limbs([R - v if v > _HALF_R else v for v in values], R)
    jacobian = sparse_combinations(rows_of_points, starts, indices, scalars, negate, like)
    return batch_to_affine(jacobian, like)


def g1_sparse_combinations(points: Sequence[G1Affine], rows: Sequence[Sequence[tuple[int, int]]]) -> list[G1Affine]:
    """For each row [(i, s), ...], the affine G1 point sum s * points[i] (an empty row gives infinity)."""
    if not rows:
        return []
    return _g1_points(_combine(g1_limbs(points), rows, ZERO))


def g2_sparse_combinations(points: Sequence[G2Affine], rows: Sequence[Sequence[tuple[int, int]]]) -> list[G2Affine]:
    """For each row [(i, s), ...], the affine G2 point sum s * points[i] (an empty row gives infinity)."""
    if not rows:
        return []
    return _g2_points(_combine(g2_limbs(points), rows, FQ2_ZERO))
