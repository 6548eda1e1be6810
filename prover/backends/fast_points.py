"""Runs of affine points checked in one compiled pass: every coordinate below q, every point on its curve.

A .zkey holds hundreds of thousands of points in the layout the fast kernels use
(prover.backends.fast: affine, F_q elements as Montgomery limbs, infinity all
zeros), so a reader can keep them as limb arrays; this is the check it runs on
them instead of decoding each point into Python ints: y^2 = x^3 + b, b = 3 on G1
(4-limb coordinates) and b = 3 / (9 + u) on the twist (8-limb F_q2 coordinates).
Subgroup membership is not checked here (G1 has cofactor 1; G2 queries are
checked where a verifier uses them).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bn254.constants import CURVE_B, TWIST_B
from prover.backends.fast_field import (
    FQ2_ZERO,
    Q_LIMBS,
    ZERO,
    _geq,
    fe_add,
    fe_eq,
    fe_is_zero,
    fe_load,
    fe_mul,
    fe_sqr,
    fq_to_montgomery,
    ints_to_limbs,
)
from bn254.constants import Q
from bn254.cache import use_kernel_cache_folder

use_kernel_cache_folder(__file__)  # before this module's kernels are decorated

_G1_B = tuple(fq_to_montgomery(ints_to_limbs([CURVE_B], Q))[0])
_G2_B = tuple(fq_to_montgomery(ints_to_limbs(list(TWIST_B), Q)).reshape(-1))


@njit(cache=True)
def _first_invalid(points, b, like):
    """The index of the first row with a coordinate >= q or off y^2 = x^3 + b, or -1."""
    limbs = len(like)
    for i in range(points.shape[0]):
        for k in range(0, 2 * limbs, 4):
            if _geq((points[i, k], points[i, k + 1], points[i, k + 2], points[i, k + 3]), Q_LIMBS):
                return i
        x, y = fe_load(points, i, 0, like), fe_load(points, i, limbs, like)
        if fe_is_zero(x) and fe_is_zero(y):
            continue  # the point at infinity
        if not fe_eq(fe_sqr(y), fe_add(fe_mul(fe_sqr(x), x), b)):
            return i
    return -1


def first_invalid_g1(points: np.ndarray) -> int:
    """Index of the first (n, 8) row that is not an affine G1 point (Montgomery limbs, infinity zeros), or -1."""
    return int(_first_invalid(points, _G1_B, ZERO))


def first_invalid_g2(points: np.ndarray) -> int:
    """Index of the first (n, 16) row that is not an affine point of the twist, or -1."""
    return int(_first_invalid(points, _G2_B, FQ2_ZERO))
