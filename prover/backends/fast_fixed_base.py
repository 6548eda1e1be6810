"""Fixed-base multiplication s * G for many scalars s and one base G (a setup's work), numba-compiled.

The windowed method with a precomputed table (Brickell, Gordon, McCurley,
Wilson, "Fast exponentiation with precomputation", EUROCRYPT 1992): with signed
c-bit digits s = sum_w d_w 2^(c w) (prover.backends.fast_msm.signed_digits),
s * G = sum_w sign(d_w) * T[w][|d_w|], T[w][d] = d * 2^(c w) * G. The table is
built once per call (2^(c-1) points per window); then each scalar costs one
mixed addition per window and no doubling, scalars running in parallel. The
results leave Jacobian coordinates together (prover.backends.fast_groups.batch_to_affine).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from prover.backends.fast_field import fe_load, fe_store, fe_sub, fe_zero
from prover.backends.fast_groups import batch_to_affine, jac_add, jac_add_affine, jac_double, jac_infinity
from prover.backends.fast_msm import signed_digits, window_count


def select_table_bits(n: int) -> int:
    """c minimising the table (W 2^(c-1) additions) plus the lookups (W n additions); at most 12."""
    return min(range(2, 13), key=lambda c: window_count(c) * ((1 << (c - 1)) + n))


@njit(cache=True)
def _table_jacobian(base_x, base_y, c):
    # Rows w * 2^(c-1) + (d - 1) hold d * 2^(c w) * G for d = 1 .. 2^(c-1).
    n_windows = window_count(c)
    n_entries = 1 << (c - 1)
    limbs = len(base_x)
    table = np.empty((n_windows * n_entries, 3 * limbs), np.uint64)
    window_base = jac_add_affine(jac_infinity(base_x), base_x, base_y)
    for w in range(n_windows):
        point = window_base
        for d in range(n_entries):
            row = w * n_entries + d
            fe_store(table, row, 0, point[0])
            fe_store(table, row, limbs, point[1])
            fe_store(table, row, 2 * limbs, point[2])
            if d + 1 < n_entries:
                point = jac_add(point, window_base)
        window_base = jac_double(point)  # 2 * 2^(c-1) * 2^(c w) * G
    return table


@njit(cache=True, parallel=True)
def _lookups(table, digits, c, like):
    limbs = len(like)
    n_windows, n = digits.shape
    n_entries = 1 << (c - 1)
    out = np.empty((n, 3 * limbs), np.uint64)
    for i in prange(n):
        acc = jac_infinity(like)
        for w in range(n_windows):
            d = digits[w, i]
            if d == 0:
                continue
            row = w * n_entries + abs(d) - 1
            y = fe_load(table, row, limbs, like)
            if d < 0:
                y = fe_sub(fe_zero(like), y)
            acc = jac_add_affine(acc, fe_load(table, row, 0, like), y)
        fe_store(out, i, 0, acc[0])
        fe_store(out, i, limbs, acc[1])
        fe_store(out, i, 2 * limbs, acc[2])
    return out


def fixed_base_muls(base: np.ndarray, scalars: np.ndarray, like: tuple) -> np.ndarray:
    """Affine rows (Montgomery form) of s * base for each row s of scalars ((n, 4) standard-form limbs).

    base is one affine point (x then y, Montgomery form, not infinity) of like's field.
    """
    limbs = len(like)
    c = select_table_bits(scalars.shape[0])
    x, y = tuple(base[:limbs]), tuple(base[limbs:])
    table = batch_to_affine(_table_jacobian(x, y, c), like)
    digits = signed_digits(scalars, np.ones(scalars.shape[0], np.bool_), c)
    return batch_to_affine(_lookups(table, digits, c, like), like)
