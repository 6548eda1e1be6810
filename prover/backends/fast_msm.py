"""Multi-scalar multiplication sum_i s_i P_i in G1 and G2, compiled by numba.

Pippenger's bucket method (Pippenger, "On the evaluation of powers and related
problems", FOCS 1976; in the form of Bernstein, Doumen, Lange, Oosterwijk,
"Faster batch forgery identification", INDOCRYPT 2012, sect. 4):
  - each scalar is recoded into W signed c-bit digits d_w in [-2^(c-1), 2^(c-1)]
    (s = sum_w d_w 2^(c w)), so a window needs 2^(c-1) buckets, not 2^c: a
    negative digit adds -P, which costs one negation;
  - per window, every point goes into the bucket of |d_w|, and the window's sum
    is sum_b b * B_b (_weighted_bucket_sum), left as c affine points T with
    weights 2^l (l < c), so that the whole MSM is sum_p 2^p T_p;
  - one double-and-add over p combines them (combine_windows): W c doublings, not
    the 2 W c of Horner over the windows after Horner inside each.
Bucket sums use batch-affine additions: the points of each bucket are sorted
together (counting sort on the digit) and added in pairs, round after round,
like a tree, every pair of a round sharing one field inversion by Montgomery's
trick (Montgomery, "Speeding the Pollard and elliptic curve methods of
factorization", Math. Comp. 1987): 6M per addition (3M of the batch inversion,
3M of the chord) against 11M for a mixed Jacobian one. Measured on one core
(2^17 G1 points): 107 ns per point into its bucket, 210 ns per bucket for the
weighted sum by halving (when first measured, at 2^16: 230 ns against 330 ns
for mixed Jacobian additions, 650 ns against 880 ns for two running sums).

Terms are split first (split_terms): a zero scalar or an infinity costs
nothing, the points of the scalars 1 (most of a witness of range-check bits)
are one plain sum, by the same pair rounds, and only the other terms are copied
apart and recoded into windows, so that no window scans or sorts the bits. The
plain sum and the windows are independent tasks, run in parallel (prange). The
window width c is chosen from the number of other scalars (select_window_bits).

Points are uint64 arrays of shape (n, 2L): x then y, L = 4 limbs (G1) or 8 (G2),
in Montgomery form, all zeros for infinity. Scalars are (n, 4) standard-form
limbs reduced mod r. `like`, a zero field element of the points' field, selects
the G1 or G2 specialisation at compile time.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from py_ecc import optimized_bn128 as bn

from prover.backends.fast_field import (
    fe_add,
    fe_double,
    fe_eq,
    fe_inv,
    fe_is_zero,
    fe_load,
    fe_mul,
    fe_one,
    fe_sqr,
    fe_store,
    fe_sub,
    fe_zero,
    fq_from_montgomery,
    fq_to_montgomery,
    ints_to_limbs,
    limbs_to_ints,
    one_task_at_a_time,
)
from prover.backends.fast_groups import jac_add_affine, jac_double, jac_infinity
from bn254.cache import use_kernel_cache_folder
from bn254.constants import Q

use_kernel_cache_folder(__file__)  # before this module's kernels are decorated

SCALAR_BITS = 254  # r < 2^254
MAX_WINDOW_BITS = 15  # digits |d| <= 2^14 fit in int16, half the memory of int32

# Measured costs (ns, one core; see the module docstring) of putting one point into its
# bucket and of one bucket in the window's weighted sum.
_BUCKET_ADD_COST = 107
_BUCKET_SUM_COST = 210


@njit(cache=True)
def window_count(c):
    """Windows of c bits that hold a signed recoding of any scalar < r (the top carry included)."""
    return SCALAR_BITS // c + 1


def select_window_bits(n_large: int) -> int:
    """The window width c minimising W * (n_large * bucket_add + 2^(c-1) * bucket_sum).

    n_large counts the scalars other than 0 and 1: a 1 is one addition in window 0
    whatever c is, and a window without digits costs nothing.
    """

    def cost(c: int) -> int:
        return window_count(c) * (n_large * _BUCKET_ADD_COST + (1 << (c - 1)) * _BUCKET_SUM_COST)

    return min(range(2, MAX_WINDOW_BITS + 1), key=cost)


@njit(cache=True)
def signed_digits(scalars, live, c):
    """digits[w, i] in [-2^(c-1), 2^(c-1)], s_i = sum_w digits[w, i] 2^(c w); zeros where not live (c <= 15)."""
    n = scalars.shape[0]
    n_windows = window_count(c)
    digits = np.zeros((n_windows, n), np.int16)
    half, full = 1 << (c - 1), 1 << c
    mask = np.uint64(full - 1)
    for i in range(n):
        if not live[i]:
            continue
        carry = 0
        for w in range(n_windows):
            bit = w * c
            limb, offset = bit >> 6, bit & 63
            v = scalars[i, limb] >> np.uint64(offset)
            if offset + c > 64 and limb < 3:
                v |= scalars[i, limb + 1] << np.uint64(64 - offset)
            raw = np.int64(v & mask) + carry
            if raw > half:
                digits[w, i] = raw - full
                carry = 1
            else:
                digits[w, i] = raw
                carry = 0
    return digits


@njit(cache=True, forceinline=True)
def _pair_denominator(x1, y1, inf1, x2, y2, inf2):
    """The value the slope of P1 + P2 divides by, or zero when the sum needs no division."""
    if inf1 or inf2:
        return fe_zero(x1)
    if not fe_eq(x1, x2):
        return fe_sub(x2, x1)  # chord
    if fe_eq(y1, y2):
        return fe_double(y1)  # tangent: P + P (y != 0 on both curves)
    return fe_zero(x1)  # P + (-P)


@njit(cache=True, forceinline=True)
def _pair_sum(x1, y1, inf1, x2, y2, inf2, den_inv):
    """(x3, y3, is_infinity) of P1 + P2 in affine coordinates, given 1 / _pair_denominator."""
    if inf1:
        return x2, y2, inf2
    if inf2:
        return x1, y1, False
    if fe_eq(x1, x2):
        if not fe_eq(y1, y2):
            return x1, y1, True  # P + (-P)
        x_sq = fe_sqr(x1)
        slope = fe_mul(fe_add(fe_double(x_sq), x_sq), den_inv)  # 3 x^2 / 2y
    else:
        slope = fe_mul(fe_sub(y2, y1), den_inv)  # (y2 - y1) / (x2 - x1)
    x3 = fe_sub(fe_sub(fe_sqr(slope), x1), x2)
    y3 = fe_sub(fe_mul(slope, fe_sub(x1, x3)), y1)
    return x3, y3, False


@njit(cache=True)
def _bucket_points(points, digits, n_buckets, like):
    """The points with a nonzero digit, copied into one array sorted by bucket |digit| (counting sort).

    Returns (sorted, start, count): bucket b holds sorted[start[b] : start[b] + count[b]],
    P_i for a positive digit, -P_i for a negative one. The points are read in order and
    written to their buckets' places: the later pair rounds read the copy sequentially,
    where reading P_i by index in every round (a random gather from the whole base array,
    twice per round) cost about 40% of a window's additions at 2^17 points.
    """
    limbs = len(like)
    count = np.zeros(n_buckets + 1, np.int64)
    for i in range(digits.shape[0]):
        if digits[i] != 0:
            count[abs(digits[i])] += 1
    start = np.zeros(n_buckets + 1, np.int64)
    total = 0
    for b in range(1, n_buckets + 1):
        start[b] = total
        total += count[b]
    ordered = np.empty((total, 2 * limbs), np.uint64)
    fill = start.copy()
    for i in range(digits.shape[0]):
        d = digits[i]
        if d != 0:
            k = fill[abs(d)]
            fill[abs(d)] = k + 1
            fe_store(ordered, k, 0, fe_load(points, i, 0, like))
            y = fe_load(points, i, limbs, like)
            fe_store(ordered, k, limbs, y if d > 0 else fe_sub(fe_zero(like), y))
    return ordered, start, count


@njit(cache=True, forceinline=True)
def _load_point(src, src_inf, k, like):
    """(x, y, is_infinity) of row k."""
    limbs = len(like)
    return fe_load(src, k, 0, like), fe_load(src, k, limbs, like), src_inf[k]


@njit(cache=True)
def _pair_round(src, src_inf, dst, dst_inf, start, count, prefix, like):
    """One round of pairwise affine additions inside every group, sharing one inversion.

    Group g's count[g] points (rows start[g] .. start[g] + count[g] - 1 of src) become
    ceil(count[g] / 2) points in dst, groups packed in order; start and count are updated to the new layout. Returns the largest group left.
    """
    limbs = len(like)
    n_groups = start.shape[0]
    # Pass 1: running products of the denominators of the pairs that need a division.
    acc = fe_one(like)
    k = 0
    total = 0
    for g in range(n_groups):
        s = start[g]
        total += count[g] - count[g] // 2
        for j in range(count[g] // 2):
            x1, y1, inf1 = _load_point(src, src_inf, s + 2 * j, like)
            x2, y2, inf2 = _load_point(src, src_inf, s + 2 * j + 1, like)
            den = _pair_denominator(x1, y1, inf1, x2, y2, inf2)
            if not fe_is_zero(den):
                fe_store(prefix, k, 0, acc)
                acc = fe_mul(acc, den)
                k += 1
    # One inversion, then pass 2 backwards: 1/den_k = inv * prefix_k, inv *= den_k.
    inv = fe_inv(acc) if k else acc
    out = total
    largest = 0
    for g in range(n_groups - 1, -1, -1):
        s, n_g = start[g], count[g]
        half = n_g // 2
        out -= n_g - half
        if n_g & 1:
            x, y, inf = _load_point(src, src_inf, s + n_g - 1, like)
            fe_store(dst, out + half, 0, x)
            fe_store(dst, out + half, limbs, y)
            dst_inf[out + half] = inf
        for j in range(half - 1, -1, -1):
            x1, y1, inf1 = _load_point(src, src_inf, s + 2 * j, like)
            x2, y2, inf2 = _load_point(src, src_inf, s + 2 * j + 1, like)
            den = _pair_denominator(x1, y1, inf1, x2, y2, inf2)
            den_inv = den
            if not fe_is_zero(den):
                k -= 1
                den_inv = fe_mul(inv, fe_load(prefix, k, 0, like))
                inv = fe_mul(inv, den)
            x3, y3, inf3 = _pair_sum(x1, y1, inf1, x2, y2, inf2, den_inv)
            fe_store(dst, out + j, 0, x3)
            fe_store(dst, out + j, limbs, y3)
            dst_inf[out + j] = inf3
        start[g] = out
        count[g] = n_g - half
        largest = max(largest, n_g - half)
    return largest


@njit(cache=True)
def _group_sums(src, src_inf, start, count, like):
    """Each group's sum as one affine point, by pair rounds; returns (points, is_infinity).

    src and src_inf are overwritten: the rounds alternate between them and one buffer of
    half their size (the first round already halves the points). Group g's sum is row
    start[g] of the result.
    """
    limbs = len(like)
    size = 0
    for g in range(start.shape[0]):
        size += count[g] - count[g] // 2
    points, other = np.empty((size, 2 * limbs), np.uint64), src
    points_inf, other_inf = np.empty(size, np.bool_), src_inf
    prefix = np.empty((size + 1, limbs), np.uint64)
    largest = _pair_round(src, src_inf, points, points_inf, start, count, prefix, like)
    while largest > 1:
        largest = _pair_round(points, points_inf, other, other_inf, start, count, prefix, like)
        points, other = other, points
        points_inf, other_inf = other_inf, points_inf
    return points, points_inf


@njit(cache=True)
def _weighted_bucket_sum(buckets, is_inf, like, out, out_inf, row):
    """sum_b b * B_b over affine buckets B_0 .. B_(m-1), m = 2^levels, as the affine points O_l of
    sum_l 2^l O_l, written to rows row .. row + levels - 1 of out (out_inf: infinity).

    By halving: with C_j = B_2j + B_(2j+1) and O = sum_j B_(2j+1),
    sum_b b B_b = 2 * sum_j j C_j + O. Each level is one round of batch-affine pair
    additions, and the odd sums O of all levels are formed together (_group_sums):
    about 2m affine additions instead of m mixed plus m full Jacobian ones for the
    running-sum method. The doublings between the levels are combine_windows' work.
    """
    limbs = len(like)
    m = buckets.shape[0]
    levels = 0
    while (1 << levels) < m:
        levels += 1
    odds = np.empty((max(m - 1, 1), 2 * limbs), np.uint64)
    odds_inf = np.zeros(odds.shape[0], np.bool_)
    odd_start = np.zeros(levels, np.int64)
    odd_count = np.zeros(levels, np.int64)
    current, current_inf = buckets, is_inf
    following, following_inf = np.empty_like(buckets), np.empty_like(is_inf)
    prefix = np.empty((m // 2 + 1, limbs), np.uint64)
    length, position = m, 0
    for level in range(levels):
        half = length // 2
        odd_start[level], odd_count[level] = position, half
        for j in range(half):
            odds[position] = current[2 * j + 1]
            odds_inf[position] = current_inf[2 * j + 1]
            position += 1
        pair_start = np.arange(0, length, 2)
        pair_count = np.full(half, 2, np.int64)
        _pair_round(current, current_inf, following, following_inf, pair_start, pair_count, prefix, like)
        current, following = following, current
        current_inf, following_inf = following_inf, current_inf
        length = half
    odds, odds_inf = _group_sums(odds, odds_inf, odd_start, odd_count, like)
    for level in range(levels):
        k = odd_start[level]
        out_inf[row + level] = odd_count[level] != 1 or odds_inf[k]
        if not out_inf[row + level]:
            out[row + level] = odds[k]


@njit(cache=True)
def window_sum(points, digits, n_buckets, like, out, out_inf, row):
    """sum_i digits[i] * P_i = sum_l 2^l O_l, l < c, as the affine O_l in rows row .. row + c - 1 of out.

    Bucket sums, then sum_b b * B_b by halving (O_0 .. O_(c-2)); the top bucket, of
    weight n_buckets = 2^(c-1), is O_(c-1).
    """
    limbs = len(like)
    levels = 0
    while (1 << levels) < n_buckets:
        levels += 1
    if not digits.any():
        out_inf[row : row + levels + 1] = True
        return
    ordered, start, count = _bucket_points(points, digits, n_buckets, like)
    # None of them is infinity (split_terms); sums in later rounds may be.
    work, is_inf = _group_sums(ordered, np.zeros(ordered.shape[0], np.bool_), start, count, like)
    buckets = np.zeros((n_buckets, 2 * limbs), np.uint64)
    buckets_inf = np.ones(n_buckets, np.bool_)
    for b in range(1, n_buckets):
        if count[b] == 1:
            buckets[b] = work[start[b]]
            buckets_inf[b] = is_inf[start[b]]
    _weighted_bucket_sum(buckets, buckets_inf, like, out, out_inf, row)
    k = start[n_buckets]
    out_inf[row + levels] = count[n_buckets] != 1 or is_inf[k]
    if not out_inf[row + levels]:
        out[row + levels] = work[k]


@njit(cache=True)
def split_terms(points, scalars, like):
    """The indices of the terms that cost anything, by kind: (ones, others).

    ones: scalar 1 and a point other than infinity, a plain sum; others: the rest of the
    nonzero scalars on points other than infinity, which go through the windows.
    """
    limbs = len(like)
    n = points.shape[0]
    kind = np.zeros(n, np.int8)  # 0: costs nothing, 1: scalar 1, 2: the windows
    n_ones = n_others = 0
    for i in range(n):
        high = scalars[i, 1] | scalars[i, 2] | scalars[i, 3]
        if (high | scalars[i, 0]) == np.uint64(0) or fe_is_zero(fe_load(points, i, limbs, like)):
            continue
        if high == np.uint64(0) and scalars[i, 0] == np.uint64(1):
            kind[i] = 1
            n_ones += 1
        else:
            kind[i] = 2
            n_others += 1
    ones, others = np.empty(n_ones, np.int64), np.empty(n_others, np.int64)
    n_ones = n_others = 0
    for i in range(n):
        if kind[i] == 1:
            ones[n_ones] = i
            n_ones += 1
        elif kind[i] == 2:
            others[n_others] = i
            n_others += 1
    return ones, others


@njit(cache=True)
def gather_rows(rows, indices):
    """rows[indices] (indices ascending), compiled: no temporary arrays."""
    out = np.empty((indices.shape[0], rows.shape[1]), rows.dtype)
    for k in range(indices.shape[0]):
        out[k] = rows[indices[k]]
    return out


@njit(cache=True)
def plain_sum(points, like, out, out_inf, row):
    """sum_i P_i of affine points other than infinity, as the affine row `row` of out (points is overwritten)."""
    out_inf[row] = True
    if points.shape[0] == 0:
        return
    start, count = np.zeros(1, np.int64), np.full(1, points.shape[0], np.int64)
    total, is_inf = _group_sums(points, np.zeros(points.shape[0], np.bool_), start, count, like)
    out_inf[row] = is_inf[0]
    if not is_inf[0]:
        out[row] = total[0]


@njit(cache=True, parallel=True)
def window_sums(points, digits, c, ones, like):
    """The affine points T_p with sum_i s_i P_i = sum_p 2^p T_p (p < W c), then, last, the sum of `ones`.

    Window w's sum is sum_l 2^l O_(w,l), l < c (window_sum), and it weighs 2^(c w): its
    O_(w,l) is T_(c w + l). One task per window and one for the plain sum of the points
    of scalar 1, handed out first, since in a witness of bits it is the largest. Returns
    (points, is_infinity).
    """
    limbs = len(like)
    n_windows = digits.shape[0]
    out = np.zeros((n_windows * c + 1, 2 * limbs), np.uint64)
    out_inf = np.ones(n_windows * c + 1, np.bool_)
    for task in prange(n_windows + 1):
        if task == 0:
            plain_sum(ones, like, out, out_inf, n_windows * c)
        else:
            window_sum(points, digits[task - 1], 1 << (c - 1), like, out, out_inf, (task - 1) * c)
    return out, out_inf


@njit(cache=True)
def combine_windows(points, is_inf, like):
    """sum_p 2^p T_p + (the last row), by double-and-add, as one Jacobian row (X, Y, Z).

    points are window_sums' affine rows. The window sums hold no Jacobian formulas and this
    kernel one doubling and one mixed addition: each inlined group operation is code that a
    loaded kernel keeps in memory (on F_q2 a second jac_add cost 7.5 MiB of a 2^12 proof's
    peak). The affine conversion is done once per MSM, in Python (jacobian_to_affine_row).
    """
    limbs = len(like)
    n = points.shape[0] - 1  # T_0 .. T_(n-1), then the plain sum
    total = jac_infinity(like)
    for k in range(n + 1):  # T_(n-1), doubled down to T_0, then the plain sum, not doubled
        row = n - 1 - k if k < n else n
        if k < n:
            total = jac_double(total)
        if not is_inf[row]:
            total = jac_add_affine(total, fe_load(points, row, 0, like), fe_load(points, row, limbs, like))
    out = np.empty((1, 3 * limbs), np.uint64)
    fe_store(out, 0, 0, total[0])
    fe_store(out, 0, limbs, total[1])
    fe_store(out, 0, 2 * limbs, total[2])
    return out


def jacobian_to_affine_row(row: np.ndarray) -> np.ndarray:
    """One Jacobian row (X, Y, Z) (Montgomery limbs, F_q or F_q2) as an affine row (x, y): X/Z^2, Y/Z^3.

    All zeros for infinity (Z = 0). One inversion, by py_ecc's field arithmetic.
    """
    values = limbs_to_ints(fq_from_montgomery(row.reshape(-1, 4)))
    if len(values) == 3:
        x, y, z = (bn.FQ(v) for v in values)
    else:
        x, y, z = (bn.FQ2(values[i : i + 2]) for i in (0, 2, 4))
    if z == z.zero():
        return np.zeros((1, row.shape[1] // 3 * 2), np.uint64)
    z_inv = z.one() / z
    z_inv2 = z_inv * z_inv
    affine = (x * z_inv2, y * z_inv2 * z_inv)
    coordinates = [int(c) for v in affine for c in (v.coeffs if len(values) == 6 else (v,))]
    return fq_to_montgomery(ints_to_limbs(coordinates, Q)).reshape(1, -1)


def msm(points: np.ndarray, scalars: np.ndarray, c: int, like: tuple) -> np.ndarray:
    """sum_i scalars[i] * points[i] as one affine row (see the module docstring)."""
    ones, others = split_terms(points, scalars, like)
    one_points = gather_rows(points, ones)
    if others.shape[0] < points.shape[0]:
        # Every window scans all the terms it is given: a witness of bits keeps its few
        # other scalars apart, so that each window sorts those only.
        points, scalars = gather_rows(points, others), gather_rows(scalars, others)
    digits = signed_digits(scalars, np.ones(points.shape[0], np.bool_), c)
    # Tasks are handed out one at a time, the largest in a witness of bits (the plain sum
    # of the ones) first: a static split would leave one core idle while the other ends it.
    with one_task_at_a_time():
        terms, terms_inf = window_sums(points, digits, c, one_points, like)
    return jacobian_to_affine_row(combine_windows(terms, terms_inf, like))
