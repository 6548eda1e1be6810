"""BN254 field arithmetic on 4 x 64-bit limbs in Montgomery form, compiled by numba.

An element of F_p (p = q, the base field, or r, the scalar field; both below
2^254) is a tuple of four uint64 limbs, least significant first, holding
a * 2^256 mod p (Montgomery, "Modular multiplication without trial division",
Math. Comp. 44, 1985). Multiplication is Montgomery's CIOS form (Koc, Acar,
Kaliski, "Analyzing and comparing Montgomery multiplication algorithms", IEEE
Micro 1996) with the "no-carry" shortcut that a modulus below 2^254 allows
(gnark-crypto, Botrel and El Housni, "Faster Montgomery multiplication and
multi-scalar-multiplication for SNARKs", TCHES 2023): the running value never
needs a fifth limb. The 64 x 64 -> 128-bit products come from a numba intrinsic
emitting one LLVM i128 multiply (one `mulx` on x86-64): a product costs about 21 ns,
four times less than with 32-bit halves (benchmarks/bench_prover.py measures both).
Small functions are compiled with forceinline: without it every field operation
was a call passing tuples through memory. Modular addition and subtraction are
one LLVM i256 operation, compare and select each (mod_add, mod_sub): the branch
on the carry they replace went either way at random, and its mispredictions cost
a third of an NTT butterfly (2^17 values on one core: 36 -> 24 ms).

F_q2 = F_q[u]/(u^2 + 1) elements are 8-tuples (c0's limbs, then c1's). The fe_*
functions take either kind and choose at compile time by the tuple's length, so
the curve formulas (prover.backends.fast_groups) are written once for G1 and G2.

Vectors cross into Python as uint64 arrays of shape (n, 4) (standard or
Montgomery form, as each function says), and as lists of ints through
ints_to_limbs / limbs_to_ints.
"""

from __future__ import annotations

from contextlib import contextmanager
from itertools import islice
from typing import Iterator, Sequence

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from bn254.constants import R, Q
from bn254.cache import use_kernel_cache_folder

use_kernel_cache_folder(__file__)  # before this module's kernels are decorated

_MASK64 = (1 << 64) - 1
_CONVERSION_CHUNK = 1 << 16


def _limbs(value: int) -> tuple[np.uint64, ...]:
    return tuple(np.uint64((value >> (64 * i)) & _MASK64) for i in range(4))


def _montgomery_constants(p: int) -> tuple[tuple, np.uint64, tuple, tuple]:
    """(p, -p^-1 mod 2^64, 2^512 mod p, 2^256 mod p): limbs, CIOS factor, to-Montgomery factor, one."""
    return _limbs(p), np.uint64(-pow(p, -1, 1 << 64) % (1 << 64)), _limbs(pow(2, 512, p)), _limbs(pow(2, 256, p))


Q_LIMBS, Q_INV, Q_R2, Q_ONE = _montgomery_constants(Q)
Q_MINUS_2 = _limbs(Q - 2)  # the exponent of Fermat inversion
R_LIMBS, R_INV, R_R2, R_ONE = _montgomery_constants(R)
ZERO = (np.uint64(0),) * 4
FQ2_ZERO = ZERO + ZERO
FQ2_ONE = Q_ONE + ZERO
_Z = np.uint64(0)
_ONE = np.uint64(1)


# -- machine-word primitives ---------------------------------------------------------------


@intrinsic
def mac(typingctx, t, a, b, carry):
    """(t + a*b + carry) as (low, high) 64-bit words; the sum is at most 2^128 - 1, so exact."""
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        wide, word = ir.IntType(128), ir.IntType(64)
        t_, a_, b_, c_ = (builder.zext(v, wide) for v in args)
        total = builder.add(builder.add(builder.mul(a_, b_), t_), c_)
        low = builder.trunc(total, word)
        high = builder.trunc(builder.lshr(total, ir.Constant(wide, 64)), word)
        return context.make_tuple(builder, signature.return_type, (low, high))

    return sig, codegen


@njit(cache=True, forceinline=True)
def _geq(a, p):
    # a >= p, comparing limbs from the most significant down.
    for i in range(3, -1, -1):
        if a[i] != p[i]:
            return a[i] > p[i]
    return True


@njit(cache=True, forceinline=True)
def _sub_limbs(a, b):
    # a - b mod 2^256 and the borrow out (0 or 1).
    d0 = a[0] - b[0]
    c = np.uint64(a[0] < b[0])
    d1 = a[1] - b[1] - c
    c = np.uint64((a[1] < b[1]) | ((a[1] == b[1]) & (c == _ONE)))
    d2 = a[2] - b[2] - c
    c = np.uint64((a[2] < b[2]) | ((a[2] == b[2]) & (c == _ONE)))
    d3 = a[3] - b[3] - c
    c = np.uint64((a[3] < b[3]) | ((a[3] == b[3]) & (c == _ONE)))
    return (d0, d1, d2, d3), c


# -- F_p for a modulus p < 2^254 -------------------------------------------------------------


@njit(cache=True, forceinline=True)
def mont_mul(a, b, p, p_inv):
    """a * b * 2^-256 mod p (CIOS, no-carry variant: p's top limb < 2^62)."""
    a0, a1, a2, a3 = a
    t0 = t1 = t2 = t3 = _Z
    for i in range(4):
        bi = b[i]
        # t += a * b_i
        t0, hi = mac(t0, a0, bi, _Z)
        t1, hi = mac(t1, a1, bi, hi)
        t2, hi = mac(t2, a2, bi, hi)
        t3, hi = mac(t3, a3, bi, hi)
        # t = (t + m * p) / 2^64 with m chosen to clear the low word
        m = t0 * p_inv
        _, c = mac(t0, m, p[0], _Z)
        t0, c = mac(t1, m, p[1], c)
        t1, c = mac(t2, m, p[2], c)
        t2, c = mac(t3, m, p[3], c)
        t3 = c + hi
    t = (t0, t1, t2, t3)
    if _geq(t, p):
        return _sub_limbs(t, p)[0]
    return t


def _as_i256(builder, limbs):
    """Four uint64 limbs (least significant first) as one LLVM i256."""
    wide = ir.IntType(256)
    value = ir.Constant(wide, 0)
    for k in range(4):
        limb = builder.zext(builder.extract_value(limbs, k), wide)
        value = builder.or_(value, builder.shl(limb, ir.Constant(wide, 64 * k)))
    return value


def _limbs_of_i256(context, builder, signature, value):
    word = ir.IntType(64)
    limbs = [builder.trunc(builder.lshr(value, ir.Constant(value.type, 64 * k)), word) for k in range(4)]
    return context.make_tuple(builder, signature.return_type, limbs)


_LIMBS = types.UniTuple(types.uint64, 4)


@intrinsic
def mod_add(typingctx, a, b, p):
    """a + b mod p for a, b < p < 2^255, branch-free: one 256-bit add, compare and select."""
    if not (a == b == p == _LIMBS):
        return None

    def codegen(context, builder, signature, args):
        a_, b_, p_ = (_as_i256(builder, v) for v in args)
        total = builder.add(a_, b_)
        reduced = builder.select(builder.icmp_unsigned(">=", total, p_), builder.sub(total, p_), total)
        return _limbs_of_i256(context, builder, signature, reduced)

    return _LIMBS(_LIMBS, _LIMBS, _LIMBS), codegen


@intrinsic
def mod_sub(typingctx, a, b, p):
    """a - b mod p for a, b < p, branch-free: one 256-bit subtract, and p added back on a borrow by select."""
    if not (a == b == p == _LIMBS):
        return None

    def codegen(context, builder, signature, args):
        a_, b_, p_ = (_as_i256(builder, v) for v in args)
        difference = builder.sub(a_, b_)
        fixed = builder.select(builder.icmp_unsigned("<", a_, b_), builder.add(difference, p_), difference)
        return _limbs_of_i256(context, builder, signature, fixed)

    return _LIMBS(_LIMBS, _LIMBS, _LIMBS), codegen


@njit(cache=True, forceinline=True)
def is_zero(a):
    """True for the all-zero element (0 in both standard and Montgomery form)."""
    return (a[0] | a[1] | a[2] | a[3]) == _Z


@njit(cache=True, forceinline=True)
def mont_pow(a, e, p, p_inv, one):
    """a^e in Montgomery form (square and multiply over the 256 bits of e, a limb tuple)."""
    result = one
    for i in range(255, -1, -1):
        result = mont_mul(result, result, p, p_inv)
        if (e[i >> 6] >> np.uint64(i & 63)) & _ONE:
            result = mont_mul(result, a, p, p_inv)
    return result


@njit(cache=True, forceinline=True)
def fq_mul(a, b):
    return mont_mul(a, b, Q_LIMBS, Q_INV)


@njit(cache=True, forceinline=True)
def fq_add(a, b):
    return mod_add(a, b, Q_LIMBS)


@njit(cache=True, forceinline=True)
def fq_sub(a, b):
    return mod_sub(a, b, Q_LIMBS)


@njit(cache=True, forceinline=True)
def fq_inv(a):
    """a^-1 by Fermat's little theorem, a^(q-2); 0 maps to 0."""
    return mont_pow(a, Q_MINUS_2, Q_LIMBS, Q_INV, Q_ONE)


@njit(cache=True, forceinline=True)
def fr_mul(a, b):
    return mont_mul(a, b, R_LIMBS, R_INV)


@njit(cache=True, forceinline=True)
def fr_add(a, b):
    return mod_add(a, b, R_LIMBS)


@njit(cache=True, forceinline=True)
def fr_sub(a, b):
    return mod_sub(a, b, R_LIMBS)


# -- F_q2 = F_q[u] / (u^2 + 1), elements (c0 limbs, c1 limbs) ---------------------------------


@njit(cache=True, forceinline=True)
def fq2_mul(a, b):
    # Karatsuba: (a0 + a1 u)(b0 + b1 u) = a0b0 - a1b1 + ((a0 + a1)(b0 + b1) - a0b0 - a1b1) u
    a0, a1, b0, b1 = a[:4], a[4:], b[:4], b[4:]
    v0, v1 = fq_mul(a0, b0), fq_mul(a1, b1)
    cross = fq_mul(fq_add(a0, a1), fq_add(b0, b1))
    return fq_sub(v0, v1) + fq_sub(fq_sub(cross, v0), v1)


@njit(cache=True, forceinline=True)
def fq2_sqr(a):
    # (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u
    a0, a1 = a[:4], a[4:]
    c1 = fq_mul(a0, a1)
    return fq_mul(fq_add(a0, a1), fq_sub(a0, a1)) + fq_add(c1, c1)


@njit(cache=True, forceinline=True)
def fq2_inv(a):
    # (a0 + a1 u)^-1 = (a0 - a1 u) / (a0^2 + a1^2)
    a0, a1 = a[:4], a[4:]
    norm_inv = fq_inv(fq_add(fq_mul(a0, a0), fq_mul(a1, a1)))
    return fq_mul(a0, norm_inv) + fq_sub(ZERO, fq_mul(a1, norm_inv))


# -- generic over F_q (4 limbs) and F_q2 (8 limbs): the branch is pruned at compile time -------


@njit(cache=True, forceinline=True)
def fe_mul(a, b):
    if len(a) == 4:
        return fq_mul(a, b)
    return fq2_mul(a, b)


@njit(cache=True, forceinline=True)
def fe_sqr(a):
    if len(a) == 4:
        return fq_mul(a, a)
    return fq2_sqr(a)


@njit(cache=True, forceinline=True)
def fe_add(a, b):
    if len(a) == 4:
        return fq_add(a, b)
    return fq_add(a[:4], b[:4]) + fq_add(a[4:], b[4:])


@njit(cache=True, forceinline=True)
def fe_sub(a, b):
    if len(a) == 4:
        return fq_sub(a, b)
    return fq_sub(a[:4], b[:4]) + fq_sub(a[4:], b[4:])


@njit(cache=True, forceinline=True)
def fe_double(a):
    return fe_add(a, a)


@njit(cache=True, forceinline=True)
def fe_inv(a):
    if len(a) == 4:
        return fq_inv(a)
    return fq2_inv(a)


@njit(cache=True, forceinline=True)
def fe_is_zero(a):
    if len(a) == 4:
        return is_zero(a)
    return is_zero(a[:4]) and is_zero(a[4:])


@njit(cache=True, forceinline=True)
def fe_eq(a, b):
    for i in range(len(a)):
        if a[i] != b[i]:
            return False
    return True


@njit(cache=True, forceinline=True)
def fe_one(like):
    """The Montgomery one of like's field (F_q for 4 limbs, F_q2 for 8)."""
    if len(like) == 4:
        return Q_ONE
    return FQ2_ONE


@njit(cache=True, forceinline=True)
def fe_zero(like):
    if len(like) == 4:
        return ZERO
    return FQ2_ZERO


@njit(cache=True, forceinline=True)
def fe_load(arr, i, offset, like):
    """Row i's limbs offset .. offset + len(like) of a 2-D uint64 array, as a field element."""
    if len(like) == 4:
        return (arr[i, offset], arr[i, offset + 1], arr[i, offset + 2], arr[i, offset + 3])
    return (
        arr[i, offset],
        arr[i, offset + 1],
        arr[i, offset + 2],
        arr[i, offset + 3],
        arr[i, offset + 4],
        arr[i, offset + 5],
        arr[i, offset + 6],
        arr[i, offset + 7],
    )


@njit(cache=True, forceinline=True)
def fe_store(arr, i, offset, value):
    for k in range(len(value)):
        arr[i, offset + k] = value[k]


# -- vectors: (n, 4) arrays -------------------------------------------------------------------


@njit(cache=True)
def _mont_mul_rows(values, factor, p, p_inv, out):
    for i in range(values.shape[0]):
        v = (values[i, 0], values[i, 1], values[i, 2], values[i, 3])
        fe_store(out, i, 0, mont_mul(v, factor, p, p_inv))


def fq_to_montgomery(values: np.ndarray) -> np.ndarray:
    """Montgomery form (x * 2^256 mod q) of standard-form F_q limbs, shape (n, 4)."""
    out = np.empty_like(values)
    _mont_mul_rows(values, Q_R2, Q_LIMBS, Q_INV, out)
    return out


def fq_from_montgomery(values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    _mont_mul_rows(values, (_ONE, _Z, _Z, _Z), Q_LIMBS, Q_INV, out)
    return out


def fr_to_montgomery(values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    _mont_mul_rows(values, R_R2, R_LIMBS, R_INV, out)
    return out


def fr_from_montgomery(values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    _mont_mul_rows(values, (_ONE, _Z, _Z, _Z), R_LIMBS, R_INV, out)
    return out


def ints_to_limbs(values: Sequence[int], modulus: int) -> np.ndarray:
    """(n, 4) uint64 limbs of values mod modulus, standard form.

    Converted 2^16 values at a time, so that the bytes made on the way stay a few MiB
    whatever n is (a witness of the 64-quote batch made 60 MB of them at once).
    """
    to_bytes = int.to_bytes
    out = np.empty((len(values), 4), np.uint64)
    remaining = iter(values)
    for first in range(0, len(values), _CONVERSION_CHUNK):
        data = b"".join([to_bytes(v % modulus, 32, "little") for v in islice(remaining, _CONVERSION_CHUNK)])
        out[first : first + len(data) // 32] = np.frombuffer(data, dtype="<u8").reshape(-1, 4)
    return out


def limbs_to_ints(limbs: np.ndarray) -> list[int]:
    """The ints of (n, 4) standard-form limbs."""
    data = np.ascontiguousarray(limbs, dtype="<u8").tobytes()
    from_bytes = int.from_bytes
    return [from_bytes(data[i : i + 32], "little") for i in range(0, len(data), 32)]


@contextmanager
def one_task_at_a_time() -> Iterator[None]:
    """Parallel loops started inside hand their iterations out one by one (numba chunk size 1).

    The default static split gives each core an equal share up front, so a core that
    another process keeps busy holds up the whole loop; one at a time, the free core
    takes over the work.
    """
    previous = numba.set_parallel_chunksize(1)
    try:
        yield
    finally:
        numba.set_parallel_chunksize(previous)
