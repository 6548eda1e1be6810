"""Number-theoretic transforms and element-wise vector arithmetic over F_r, compiled by numba.

Vectors are (n, 4) uint64 arrays in Montgomery form (prover.backends.fast_field).
The NTT is the iterative radix-2 Cooley-Tukey transform (Cooley and Tukey, "An
algorithm for the machine calculation of complex Fourier series", Math. Comp.
1965), decimation in time: a bit-reversal permutation, then log2(n) stages of
butterflies (u, v) -> (u + w v, u - w v). Twiddle factors come from a table of
omega^0 .. omega^(n/2 - 1), built once per size and direction by the caller, and
laid out by stage (stage_twiddles): the stage of span 2h reads rows h .. 2h - 1 in
order, where reading every (n / 2h)-th power of omega touched one cache line per
butterfly of the wide stages (44 -> 37 ms for 2^17 values on one core). The stages run in two parallel passes (_ntt says how): on a shared
machine every parallel region waits for the slower core, which cost
milliseconds per stage when each stage was its own region.

Element-wise products and differences cost about 20 ns per element: at 2^19
elements, about what starting a parallel region cost on the busy machine, so
they run on one core. (Smaller or larger blocks than 16 changed nothing
measurable: a butterfly costs about 55 ns, most of it the product.)
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from prover.backends.fast_field import R_ONE, fe_store, fr_add, fr_mul, fr_sub, one_task_at_a_time
from bn254.cache import use_kernel_cache_folder

use_kernel_cache_folder(__file__)  # before this module's kernels are decorated


@njit(cache=True, forceinline=True)
def _row(a, i):
    return (a[i, 0], a[i, 1], a[i, 2], a[i, 3])


@njit(cache=True)
def powers(base, n):
    """[base^0, ..., base^(n-1)] in Montgomery form (base in Montgomery form)."""
    out = np.empty((n, 4), np.uint64)
    value = R_ONE
    for i in range(n):
        fe_store(out, i, 0, value)
        value = fr_mul(value, base)
    return out


_LOG_BLOCKS = 4  # 16 blocks: enough tasks to balance two cores when one is also busy elsewhere


@njit(cache=True, forceinline=True)
def _bit_reverse(i, bits):
    """i's lowest `bits` bits in reverse order (bits <= 32): swap halves, quarters, ... of 32 bits."""
    v = np.uint64(i)
    v = ((v >> np.uint64(1)) & np.uint64(0x55555555)) | ((v & np.uint64(0x55555555)) << np.uint64(1))
    v = ((v >> np.uint64(2)) & np.uint64(0x33333333)) | ((v & np.uint64(0x33333333)) << np.uint64(2))
    v = ((v >> np.uint64(4)) & np.uint64(0x0F0F0F0F)) | ((v & np.uint64(0x0F0F0F0F)) << np.uint64(4))
    v = ((v >> np.uint64(8)) & np.uint64(0x00FF00FF)) | ((v & np.uint64(0x00FF00FF)) << np.uint64(8))
    v = ((v >> np.uint64(16)) & np.uint64(0xFFFF)) | ((v & np.uint64(0xFFFF)) << np.uint64(16))
    return np.int64(v >> np.uint64(32 - bits))


@njit(cache=True)
def stage_twiddles(twiddles):
    """Row h + k = omega^(k n / 2h) for h = 1, 2, .., n/2 and k < h, from twiddles = [omega^k for k < n/2].

    The twiddles of the stage of span 2h, in the order its butterflies use them (row 0 unused).
    """
    half_n = twiddles.shape[0]
    out = np.zeros((2 * half_n, 4), np.uint64)
    h = 1
    while h <= half_n:
        stride = half_n // h
        for k in range(h):
            out[h + k] = twiddles[k * stride]
        h *= 2
    return out


@njit(cache=True, forceinline=True)
def _butterfly(a, j, half, w):
    # (a_j, a_(j+half)) <- (a_j + w a_(j+half), a_j - w a_(j+half))
    u = _row(a, j)
    v = fr_mul(_row(a, j + half), w)
    fe_store(a, j, 0, fr_add(u, v))
    fe_store(a, j + half, 0, fr_sub(u, v))


@njit(cache=True, parallel=True)
def _ntt(values, table, log_blocks):
    """[sum_j values[j] omega^(i j) for i < n]; table = stage_twiddles of omega, n a power of two.

    Two parallel passes, so that a busy core delays the transform twice, not log2(n)
    times: with n = T * M (T = 2^log_blocks blocks), after the bit-reversal the first
    log2(M) stages stay inside contiguous blocks of M, one task per block; the last
    log2(T) stages pair elements of one column {b M + k : b < T}, one task per chunk
    of columns.
    """
    n = values.shape[0]
    bits = 0
    while (1 << bits) < n:
        bits += 1
    n_blocks = 1 << min(log_blocks, bits)
    m = n // n_blocks
    a = np.empty_like(values)
    for block in prange(n_blocks):
        lo = block * m
        for k in range(lo, lo + m):
            a[k] = values[_bit_reverse(k, bits)]
        half = 1
        while half < m:
            # Stage of span 2*half uses the (2*half)-th root omega^(n / (2*half)): table[half:].
            for start in range(lo, lo + m, 2 * half):
                for k in range(half):
                    _butterfly(a, start + k, half, _row(table, half + k))
            half *= 2
    n_chunks = min(m, 64)
    for chunk in prange(n_chunks):
        for k in range(chunk * m // n_chunks, (chunk + 1) * m // n_chunks):
            half = m
            while half < n:
                for block in range(n_blocks):
                    j = block * m + k
                    if j & half == 0:  # j is the lower element of its butterfly
                        _butterfly(a, j, half, _row(table, half + (j & (half - 1))))
                half *= 2
    return a


def ntt(values: np.ndarray, twiddles: np.ndarray) -> np.ndarray:
    """The NTT of (n, 4) Montgomery limbs with twiddles [omega^k for k < n/2] (see _ntt)."""
    return ntt_with_table(values, stage_twiddles(twiddles))


def ntt_with_table(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The NTT of (n, 4) Montgomery limbs with stage_twiddles(twiddles) built once for many transforms."""
    with one_task_at_a_time():
        return _ntt(values, table, _LOG_BLOCKS)


@njit(cache=True)
def vec_mul(a, b):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        fe_store(out, i, 0, fr_mul(_row(a, i), _row(b, i)))
    return out


@njit(cache=True)
def vec_sub(a, b):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        fe_store(out, i, 0, fr_sub(_row(a, i), _row(b, i)))
    return out


@njit(cache=True)
def vec_scale(a, factor):
    """a[i] * factor for a factor in Montgomery form."""
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        fe_store(out, i, 0, fr_mul(_row(a, i), factor))
    return out
