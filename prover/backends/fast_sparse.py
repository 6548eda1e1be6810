"""Many small, sparse combinations of points at once: out[j] = sum_k s_k P_{i_k} over row j's terms.

The phase-2 ceremony (prover.ceremony) needs thousands of them: each wire's query
point is a short combination of Lagrange points of the powers of tau, with the
R1CS coefficients as scalars (snarkjs src/zkey_new.js), and a contribution
multiplies every L and H point by one scalar (a row of one term each). One call
per row to the Pippenger MSM costs milliseconds of set-up; here every row is one
double-and-add over all its terms at once (Straus's trick: the doublings are
shared, each term adds its point where its scalar has a 1 bit), rows in parallel,
with fast_groups' formulas. A scalar above r/2 is replaced by r - s on the negated
point, so the coefficients -1, -2^i of a bits-mode circuit cost a few additions.
A G1 scalar wider than 128 bits is split by the GLV endomorphism (Gallant,
Lambert, Vanstone, CRYPTO 2001): s P = k1 P + k2 phi(P), phi(x, y) = (beta x, y) =
lambda P, with |k1|, |k2| < 2^128, which halves its doublings.
"""

from __future__ import annotations

from functools import lru_cache
from math import isqrt
from typing import Sequence

import numpy as np
from numba import njit, prange

from bn254.constants import Q, R, G1Affine, G2Affine
from prover.backends.fast import _g1_points, _g2_points, g1_limbs, g2_limbs
from prover.backends.fast_field import (
    FQ2_ONE,
    FQ2_ZERO,
    ZERO,
    fe_is_zero,
    fe_load,
    fe_mul,
    fe_store,
    fe_sub,
    fe_zero,
    ints_to_limbs,
)
from prover.backends.fast_groups import batch_to_affine, jac_add_affine, jac_double, jac_infinity
from bn254.cache import use_kernel_cache_folder

use_kernel_cache_folder(__file__)  # before this module's kernels are decorated

_HALF_R = R // 2
GLV_LAMBDA = 0xB3C4D79D41A917585BFC41088D8DAAA78B17EA66B99C90DD
"""A cube root of unity mod r: lambda (x, y) = (GLV_BETA x, y) on G1 (tests/prover/test_ceremony.py checks it)."""
GLV_BETA = 0x59E26BCEA0D48BACD4F263F1ACDB5C4F5763473177FFFFFE
"""The cube root of unity mod q that goes with GLV_LAMBDA."""
_GLV_MIN_BITS = 129  # narrower scalars gain nothing from the split
_BETA_MONTGOMERY = tuple(np.uint64(((GLV_BETA << 256) % Q >> (64 * i)) & ((1 << 64) - 1)) for i in range(4))


def _glv_basis() -> tuple[tuple[int, int], tuple[int, int]]:
    # Two short vectors (a, b) with a + b lambda = 0 mod r, from the extended Euclidean algorithm
    # on (r, lambda) stopped at the first remainder below sqrt(r) (GLV 2001, section 4).
    r0, r1, t0, t1 = R, GLV_LAMBDA, 0, 1
    while r1 >= isqrt(R):
        quotient = r0 // r1
        r0, r1, t0, t1 = r1, r0 - quotient * r1, t1, t0 - quotient * t1
    quotient = r0 // r1
    r2, t2 = r0 - quotient * r1, t0 - quotient * t1
    second = (r0, -t0) if r0 * r0 + t0 * t0 <= r2 * r2 + t2 * t2 else (r2, -t2)
    return (r1, -t1), second


_V1, _V2 = _glv_basis()
_DET = _V1[0] * _V2[1] - _V1[1] * _V2[0]


def _round_div(a: int, b: int) -> int:
    # a / b rounded to the nearest integer (b > 0)
    return (2 * a + b) // (2 * b)


@lru_cache(maxsize=1024)
def glv_split(k: int) -> tuple[int, int]:
    """(k1, k2), |k1|, |k2| < 2^128, with k1 + k2 lambda = k mod r (0 <= k < r)."""
    sign = 1 if _DET > 0 else -1
    c1 = _round_div(sign * k * _V2[1], abs(_DET))
    c2 = _round_div(-sign * k * _V1[1], abs(_DET))
    k1 = k - c1 * _V1[0] - c2 * _V2[0]
    k2 = -c1 * _V1[1] - c2 * _V2[1]
    return k1, k2


@njit(cache=True, parallel=True)
def sparse_combinations(points, starts, indices, scalars, negate, endomorphism, row_bits, beta, like):
    """Jacobian rows (m, 3L): row j = sum over k in [starts[j], starts[j+1]) of scalars[k] * (+/-) points[indices[k]],
    the point taken as (beta x, y) where endomorphism[k] (G1 only); row_bits[j] bounds row j's scalars' bit length."""
    limbs = len(like)
    m = starts.shape[0] - 1
    out = np.zeros((m, 3 * limbs), np.uint64)
    for j in prange(m):
        acc = jac_infinity(like)
        for bit in range(row_bits[j] - 1, -1, -1):
            acc = jac_double(acc)
            limb, shift = bit // 64, np.uint64(bit % 64)
            for k in range(starts[j], starts[j + 1]):
                if not (scalars[k, limb] >> shift) & np.uint64(1):
                    continue
                i = indices[k]
                x = fe_load(points, i, 0, like)
                y = fe_load(points, i, limbs, like)
                if fe_is_zero(x) and fe_is_zero(y):
                    continue  # the point at infinity adds nothing
                if endomorphism[k]:
                    x = fe_mul(x, beta)
                if negate[k]:
                    y = fe_sub(fe_zero(like), y)
                acc = jac_add_affine(acc, x, y)
        fe_store(out, j, 0, acc[0])
        fe_store(out, j, limbs, acc[1])
        fe_store(out, j, 2 * limbs, acc[2])
    return out


def _signed_parts(s: int, split: bool) -> list[tuple[int, bool, bool]]:
    """(|part|, negate, on the endomorphism) terms whose sum is s P: r - s on -P above r/2, GLV-split if wide."""
    v = s % R
    flip = v > _HALF_R
    if flip:
        v = R - v
    if not (split and v.bit_length() >= _GLV_MIN_BITS):
        return [(v, flip, False)]
    return [(abs(part), flip != (part < 0), on_endomorphism)
            for part, on_endomorphism in zip(glv_split(v), (False, True)) if part]


def _affine_combinations(points: np.ndarray, starts, indices, scalars: np.ndarray, negate, endomorphism, row_bits,
                         like: tuple) -> np.ndarray:
    jacobian = sparse_combinations(
        points, np.asarray(starts, np.int64), np.asarray(indices, np.int64), scalars,
        np.asarray(negate, np.bool_), np.asarray(endomorphism, np.bool_), np.asarray(row_bits, np.int64),
        _BETA_MONTGOMERY if len(like) == 4 else FQ2_ONE, like,
    )
    return batch_to_affine(jacobian, like)


def _combine(rows_of_points: np.ndarray, rows: Sequence[Sequence[tuple[int, int]]], like: tuple) -> np.ndarray:
    starts, indices, values, negate, endomorphism, row_bits = [0], [], [], [], [], []
    split = len(like) == 4  # the endomorphism is G1's
    for row in rows:
        widest = 0
        for i, s in row:
            for value, flip, on_endomorphism in _signed_parts(s, split):
                indices.append(i)
                values.append(value)
                negate.append(flip)
                endomorphism.append(on_endomorphism)
                widest = max(widest, value.bit_length())
        starts.append(len(indices))
        row_bits.append(widest)
    return _affine_combinations(rows_of_points, starts, indices, ints_to_limbs(values, R), negate, endomorphism,
                                row_bits, like)


def g1_montgomery_times(points: np.ndarray, scalar: int) -> np.ndarray:
    """scalar * P for every row of (n, 8) affine G1 Montgomery limbs (a .zkey's layout, infinity all zeros).

    What a ceremony contribution does to the L and H queries, with no int per point.
    """
    n = points.shape[0]
    if n == 0:
        return points.copy()
    values, negate, endomorphism = zip(*_signed_parts(scalar, True))
    count = len(values)
    return _affine_combinations(
        np.ascontiguousarray(points, np.uint64), np.arange(n + 1) * count, np.repeat(np.arange(n), count),
        np.tile(ints_to_limbs(list(values), R), (n, 1)), np.tile(negate, n), np.tile(endomorphism, n),
        np.full(n, max(v.bit_length() for v in values)), ZERO,
    )


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
