"""The reference backend: py_ecc (optimized_bn128) for curve arithmetic, galois for F_r.

Obviously correct rather than fast: every group operation is py_ecc's `add` or
`double`; every scalar-field vector operation (products, differences, the NTT's
butterflies, one stage at a time) is galois's GF(r) array arithmetic, the field
built with its known primitive element 5 (scalar_field). Two textbook speed-ups keep
test circuits within seconds, each tested against naive sums in tests/prover:
  - MSM by Pippenger's bucket method (Pippenger, "On the evaluation of powers
    and related problems", FOCS 1976; the form of ark-ec's VariableBaseMSM): per
    c-bit window, add each point into the bucket of its digit, then form
    sum_d d * bucket_d with a running sum;
  - fixed-base multiplication with a table of d * 2^(c*j) * G per window j
    (setup multiplies one generator by thousands of scalars).
The NTT is the iterative radix-2 Cooley-Tukey transform in natural order; galois.ntt is
not used (it is not shown to be faster, and this one is the textbook's).
"""

from __future__ import annotations

from functools import cache
from typing import Sequence

import numpy as np
from py_ecc import optimized_bn128 as bn

from bn254.constants import MULTIPLICATIVE_GENERATOR, R, R_BITS, G1_GENERATOR, G2_GENERATOR, G1Affine, G2Affine, root_of_unity
from bn254.curve import g1_from_py_ecc, g1_to_py_ecc, g2_from_py_ecc, g2_to_py_ecc
from prover.keys import PreparedProvingKey, ProvingKey, prepare_with

Point = tuple  # a py_ecc projective point (x, y, z) over F_q or F_q2


def _windows(bits: int) -> int:
    return -(-R_BITS // bits)


def _msm_window_bits(n: int) -> int:
    # Each window costs n bucket additions plus about 2 * 2^c for the running sums.
    return min(range(1, 17), key=lambda c: _windows(c) * (n + (2 << c)))


def _fixed_base_window_bits(n: int) -> int:
    # A table of 2^c points per window, then one addition per window per scalar.
    return min(range(1, 17), key=lambda c: _windows(c) * ((1 << c) + n))


def pippenger(points: Sequence[Point], scalars: Sequence[int], zero: Point) -> Point:
    """sum_i scalars[i] * points[i] with py_ecc points (scalars reduced mod r; zeros skipped)."""
    pairs = [(p, s % R) for p, s in zip(points, scalars, strict=True) if s % R and not bn.is_inf(p)]
    if not pairs:
        return zero
    c = _msm_window_bits(len(pairs))
    mask = (1 << c) - 1
    total = zero
    for window in reversed(range(_windows(c))):
        for _ in range(c):
            total = bn.double(total)
        buckets: dict[int, Point] = {}
        shift = window * c
        for p, s in pairs:
            digit = (s >> shift) & mask
            if digit:
                buckets[digit] = bn.add(buckets[digit], p) if digit in buckets else p
        if not buckets:
            continue
        # sum_d d * bucket_d = sum_d (bucket_top + ... + bucket_d), accumulated from the top digit down.
        running, window_sum = zero, zero
        for digit in range(max(buckets), 0, -1):
            if digit in buckets:
                running = bn.add(running, buckets[digit])
            window_sum = bn.add(window_sum, running)
        total = bn.add(total, window_sum)
    return total


def fixed_base_muls(base: Point, scalars: Sequence[int], zero: Point) -> list[Point]:
    """[s * base for s in scalars] from a table of d * 2^(c*j) * base (scalars reduced mod r)."""
    if not scalars:
        return []
    c = _fixed_base_window_bits(len(scalars))
    mask = (1 << c) - 1
    table: list[list[Point]] = []
    window_base = base
    for _ in range(_windows(c)):
        row = [zero, window_base]
        for _ in range(2, 1 << c):
            row.append(bn.add(row[-1], window_base))
        table.append(row)
        window_base = bn.add(row[-1], window_base)  # 2^c * window_base
    results = []
    for s in scalars:
        s %= R
        acc = zero
        for j, row in enumerate(table):
            digit = (s >> (j * c)) & mask
            if digit:
                acc = bn.add(acc, row[digit])
        results.append(acc)
    return results


@cache
def scalar_field() -> type:
    """F_r as a galois field-array class (imported on first use: galois takes seconds to import).

    verify=False: galois would factor r - 1 to check that 5 is primitive (minutes);
    bn254.constants checks it at import from the known factorisation.
    """
    import galois

    return galois.GF(R, primitive_element=MULTIPLICATIVE_GENERATOR, verify=False)


def _field_array(values: Sequence[int]):
    return scalar_field()(np.array([v % R for v in values], dtype=object))


def _ints(array) -> list[int]:
    return [int(v) for v in array]


def _bit_reverse_permutation(n: int) -> list[int]:
    bits = n.bit_length() - 1
    return [int(format(i, f"0{bits}b")[::-1], 2) if bits else 0 for i in range(n)]


def _log2_size(n: int) -> int:
    if n < 1 or n & (n - 1):
        raise ValueError(f"NTT size must be a power of two, got {n}")
    return n.bit_length() - 1


def ntt_with_root(values: Sequence[int], omega: int) -> list[int]:
    """[sum_j values[j] * omega^(i*j) for i < n], omega an n-th root of unity (radix-2, over galois arrays)."""
    n = len(values)
    _log2_size(n)
    field = scalar_field()
    a = _field_array(values)[_bit_reverse_permutation(n)]
    half = 1
    while half < n:
        # Butterflies of span 2*half use the (2*half)-th root omega^(n / (2*half)): (u + w t, u - w t).
        step = field(pow(omega, n // (2 * half), R))
        twiddles = step ** np.arange(half)
        blocks = a.reshape(-1, 2 * half)
        u, t = blocks[:, :half], blocks[:, half:] * twiddles
        a = np.concatenate([u + t, u - t], axis=1).reshape(-1)
        half *= 2
    return _ints(a)


class ReferenceBackend:
    """py_ecc curve arithmetic and Python-int field arithmetic (see the module docstring)."""

    name = "reference"

    def g1_msm(self, points: Sequence[G1Affine], scalars: Sequence[int]) -> G1Affine:
        return g1_from_py_ecc(pippenger([g1_to_py_ecc(p) for p in points], scalars, bn.Z1))

    def g2_msm(self, points: Sequence[G2Affine], scalars: Sequence[int]) -> G2Affine:
        return g2_from_py_ecc(pippenger([g2_to_py_ecc(p) for p in points], scalars, bn.Z2))

    def prepare(self, pk: ProvingKey) -> PreparedProvingKey:
        return prepare_with(
            pk, self.name, lambda points: [g1_to_py_ecc(p) for p in points], lambda points: [g2_to_py_ecc(p) for p in points]
        )

    def g1_msm_prepared(self, bases: list[Point], scalars: Sequence[int]) -> G1Affine:
        return g1_from_py_ecc(pippenger(bases, scalars, bn.Z1))

    def g2_msm_prepared(self, bases: list[Point], scalars: Sequence[int]) -> G2Affine:
        return g2_from_py_ecc(pippenger(bases, scalars, bn.Z2))

    def fr_vector(self, *parts: Sequence[int]) -> list[int]:
        return [value for part in parts for value in part]

    def r1cs_evaluations(self, prepared: PreparedProvingKey, witness: Sequence[int]) -> tuple[list[int], ...]:
        from prover.qap import witness_evaluations  # prover.qap imports the backends package

        if prepared.backend_name != self.name:
            raise ValueError(f"the key was prepared for the {prepared.backend_name!r} backend, not {self.name!r}")
        return witness_evaluations(prepared.constraints, list(witness), prepared.pk.domain_size)

    def g1_generator_muls(self, scalars: Sequence[int]) -> list[G1Affine]:
        return [g1_from_py_ecc(p) for p in fixed_base_muls(g1_to_py_ecc(G1_GENERATOR), scalars, bn.Z1)]

    def g2_generator_muls(self, scalars: Sequence[int]) -> list[G2Affine]:
        return [g2_from_py_ecc(p) for p in fixed_base_muls(g2_to_py_ecc(G2_GENERATOR), scalars, bn.Z2)]

    def ntt(self, coefficients: Sequence[int]) -> list[int]:
        return ntt_with_root(coefficients, root_of_unity(_log2_size(len(coefficients))))

    def intt(self, evaluations: Sequence[int]) -> list[int]:
        # The inverse DFT is the DFT at omega^-1, scaled by 1/n.
        n = len(evaluations)
        omega_inv = scalar_field()(root_of_unity(_log2_size(n))) ** -1
        values = _field_array(ntt_with_root(evaluations, int(omega_inv)))
        return _ints(values / scalar_field()(n))

    def coset_ntt(self, coefficients: Sequence[int], shift: int) -> list[int]:
        # p(shift * x) has coefficients p_j * shift^j.
        powers = scalar_field()(shift % R) ** np.arange(len(coefficients))
        return self.ntt(_ints(_field_array(coefficients) * powers))

    def vec_mul(self, a: Sequence[int], b: Sequence[int]) -> list[int]:
        _check_lengths(a, b)
        return _ints(_field_array(a) * _field_array(b))

    def vec_sub(self, a: Sequence[int], b: Sequence[int]) -> list[int]:
        _check_lengths(a, b)
        return _ints(_field_array(a) - _field_array(b))


def _check_lengths(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b):
        raise ValueError(f"length mismatch: {len(a)} and {len(b)}")

