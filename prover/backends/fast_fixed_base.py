"""Fixed-base multiplication s * G for many scalars s and one base G (a setup's work), numba-compiled.

The windowed method with a precomputed table (Brickell, Gordon, McCurley,
Wilson, "Fast exponentiation with precomputation", EUROCRYPT 1992): with signed
c-bit digits s = sum_w d_w 2^(c w) (prover.backends.fast_msm.signed_digits),
s * G = sum_w sign(d_w) * T[w][|d_w|], T[w][d] = d * 2^(c w) * G. The table is
built once per call (2^(c-1) points per window); then each scalar costs one
affine addition per window and no doubling. The additions of a chunk of scalars
in one window share one field inversion (Montgomery's trick, as fast_msm's
bucket rounds): 6 products per addition against 11 for a mixed Jacobian one.
Chunks run in parallel.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from prover.backends.fast_field import fe_inv, fe_is_zero, fe_load, fe_mul, fe_one, fe_store, fe_sub, fe_zero
from prover.backends.fast_groups import batch_to_affine, jac_add, jac_double, jac_from_affine
from prover.backends.fast_msm import _pair_denominator, _pair_sum, signed_digits, window_count
from bn254.cache import use_kernel_cache_folder

use_kernel_cache_folder(__file__)  # before this module's kernels are decorated


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
    window_base = jac_from_affine(base_x, base_y)
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


_CHUNK = 2048  # scalars sharing one inversion per window: the inversion costs ~300 products


@njit(cache=True, parallel=True)
def _lookups(table, digits, c, like):
    # Affine accumulators; per window, every scalar of a chunk adds its table point and the
    # chunk's additions share one inversion (Montgomery's trick), as fast_msm's bucket rounds do.
    limbs = len(like)
    n_windows, n = digits.shape
    n_entries = 1 << (c - 1)
    out = np.zeros((n, 2 * limbs), np.uint64)
    inf = np.ones(n, np.bool_)
    for chunk in prange((n + _CHUNK - 1) // _CHUNK):
        lo, hi = chunk * _CHUNK, min(n, (chunk + 1) * _CHUNK)
        prefix = np.empty((hi - lo, limbs), np.uint64)
        for w in range(n_windows):
            # Pass 1: running products of the denominators that need a division.
            acc = fe_one(like)
            k = 0
            for i in range(lo, hi):
                d = digits[w, i]
                if d == 0:
                    continue
                row = w * n_entries + abs(d) - 1
                x2 = fe_load(table, row, 0, like)
                y2 = fe_load(table, row, limbs, like)
                if d < 0:
                    y2 = fe_sub(fe_zero(like), y2)
                den = _pair_denominator(fe_load(out, i, 0, like), fe_load(out, i, limbs, like), inf[i], x2, y2, False)
                if not fe_is_zero(den):
                    fe_store(prefix, k, 0, acc)
                    acc = fe_mul(acc, den)
                    k += 1
            # One inversion, then pass 2 backwards: 1/den_k = inv * prefix_k, inv *= den_k.
            inv = fe_inv(acc) if k else acc
            for i in range(hi - 1, lo - 1, -1):
                d = digits[w, i]
                if d == 0:
                    continue
                row = w * n_entries + abs(d) - 1
                x2 = fe_load(table, row, 0, like)
                y2 = fe_load(table, row, limbs, like)
                if d < 0:
                    y2 = fe_sub(fe_zero(like), y2)
                x1 = fe_load(out, i, 0, like)
                y1 = fe_load(out, i, limbs, like)
                den = _pair_denominator(x1, y1, inf[i], x2, y2, False)
                den_inv = den
                if not fe_is_zero(den):
                    k -= 1
                    den_inv = fe_mul(inv, fe_load(prefix, k, 0, like))
                    inv = fe_mul(inv, den)
                x3, y3, inf3 = _pair_sum(x1, y1, inf[i], x2, y2, False, den_inv)
                if inf3:
                    x3, y3 = fe_zero(like), fe_zero(like)  # infinity is all zeros
                fe_store(out, i, 0, x3)
                fe_store(out, i, limbs, y3)
                inf[i] = inf3
    return out


def fixed_base_table(base: np.ndarray, c: int, like: tuple) -> np.ndarray:
    """The affine table T[w][d] = d * 2^(c w) * base of c-bit windows (see the module docstring).

    base is one affine point (x then y, Montgomery form, not infinity) of like's field.
    """
    limbs = len(like)
    x, y = tuple(base[:limbs]), tuple(base[limbs:])
    return batch_to_affine(_table_jacobian(x, y, c), like)


def fixed_base_muls_with_table(table: np.ndarray, scalars: np.ndarray, c: int, like: tuple) -> np.ndarray:
    """Affine rows (Montgomery form) of s * base for each row s of scalars ((n, 4) standard-form limbs),
    table = fixed_base_table(base, c, like)."""
    digits = signed_digits(scalars, np.ones(scalars.shape[0], np.bool_), c)
    return _lookups(table, digits, c, like)


def fixed_base_muls(base: np.ndarray, scalars: np.ndarray, like: tuple) -> np.ndarray:
    """Affine rows (Montgomery form) of s * base for each row s of scalars ((n, 4) standard-form limbs).

    base is one affine point (x then y, Montgomery form, not infinity) of like's field.
    """
    c = select_table_bits(scalars.shape[0])
    return fixed_base_muls_with_table(fixed_base_table(base, c, like), scalars, c, like)
