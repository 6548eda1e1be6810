"""Every backend's kernels against the definitions: naive sums of py_ecc multiplications, naive DFTs."""

from __future__ import annotations

import random

import pytest
from py_ecc import optimized_bn128 as bn

from bn254.constants import R, G1_INFINITY, G2_INFINITY, root_of_unity
from prover.backends import backend_names, get_backend
from bn254.curve import g1_from_py_ecc, g2_from_py_ecc

RNG = random.Random(20240611)


def _naive_msm(points: list, scalars: list[int], zero: tuple) -> tuple:
    total = zero
    for p, s in zip(points, scalars):
        total = bn.add(total, bn.multiply(p, s % R))
    return total


def _g1_points(n: int) -> list[tuple]:
    return [bn.multiply(bn.G1, RNG.randrange(1, R)) for _ in range(n)]


def _scalars(n: int) -> list[int]:
    # Full-size, small, zero, r - 1 and >= r (reduced mod r): the edge cases an MSM meets.
    pool = [0, 1, 2, R - 1, R, R + 5, 255, 1 << 200]
    return [RNG.choice(pool) if RNG.random() < 0.4 else RNG.randrange(R) for _ in range(n)]


@pytest.mark.parametrize("n", [0, 1, 2, 7, 40])
def test_g1_msm_matches_naive_sum(backend, n):
    points = _g1_points(n)
    scalars = _scalars(n)
    affine = [g1_from_py_ecc(p) for p in points]
    assert backend.g1_msm(affine, scalars) == g1_from_py_ecc(_naive_msm(points, scalars, bn.Z1))


def test_g1_msm_edge_points(backend):
    p = _g1_points(1)[0]
    minus_p = bn.neg(p)
    affine = [g1_from_py_ecc(q) for q in (p, p, minus_p, bn.Z1)]
    # p + p (the doubling path), then - p, then infinity: 2p + 3p - 5p + 0 = 0.
    assert backend.g1_msm(affine, [2, 3, 5, 7]) == G1_INFINITY
    assert backend.g1_msm(affine, [1, 1, 0, 9]) == g1_from_py_ecc(bn.double(p))


@pytest.mark.parametrize("n", [1, 6])
def test_g2_msm_matches_naive_sum(backend, n):
    points = [bn.multiply(bn.G2, RNG.randrange(1, R)) for _ in range(n)]
    scalars = _scalars(n)
    affine = [g2_from_py_ecc(p) for p in points]
    assert backend.g2_msm(affine, scalars) == g2_from_py_ecc(_naive_msm(points, scalars, bn.Z2))


def test_g2_msm_empty_and_cancelling(backend):
    g = g2_from_py_ecc(bn.G2)
    assert backend.g2_msm([], []) == G2_INFINITY
    assert backend.g2_msm([g, g], [5, R - 5]) == G2_INFINITY


def test_generator_muls(backend):
    scalars = _scalars(12)
    assert backend.g1_generator_muls(scalars) == [g1_from_py_ecc(bn.multiply(bn.G1, s % R)) for s in scalars]
    assert backend.g2_generator_muls(scalars[:5]) == [g2_from_py_ecc(bn.multiply(bn.G2, s % R)) for s in scalars[:5]]
    assert backend.g1_generator_muls([]) == []


def _evaluate(coefficients: list[int], x: int) -> int:
    return sum(c * pow(x, j, R) for j, c in enumerate(coefficients)) % R


@pytest.mark.parametrize("k", [0, 1, 3, 6])
def test_ntt_is_evaluation_on_the_domain(backend, k):
    n = 1 << k
    omega = root_of_unity(k)
    coefficients = [RNG.randrange(R) for _ in range(n)]
    assert backend.ntt(coefficients) == [_evaluate(coefficients, pow(omega, i, R)) for i in range(n)]
    assert backend.intt(backend.ntt(coefficients)) == coefficients


@pytest.mark.parametrize("k", [1, 4])
def test_coset_ntt_is_evaluation_on_the_coset(backend, k):
    n = 1 << k
    omega, shift = root_of_unity(k), root_of_unity(k + 1)
    coefficients = [RNG.randrange(R) for _ in range(n)]
    expected = [_evaluate(coefficients, shift * pow(omega, i, R) % R) for i in range(n)]
    assert backend.coset_ntt(coefficients, shift) == expected


def test_ntt_rejects_sizes_that_are_not_powers_of_two(backend):
    with pytest.raises(ValueError):
        backend.ntt([1, 2, 3])


def test_vector_ops(backend):
    a = [RNG.randrange(R) for _ in range(9)]
    b = [RNG.randrange(R) for _ in range(9)]
    assert backend.vec_mul(a, b) == [x * y % R for x, y in zip(a, b)]
    assert backend.vec_sub(a, b) == [(x - y) % R for x, y in zip(a, b)]


def test_registry_default_and_unknown_name():
    assert backend_names()[0] == get_backend().name
    assert get_backend("reference") is get_backend("reference")
    with pytest.raises(KeyError):
        get_backend("no-such-backend")


def test_reference_scalar_field_is_galois_gf_r_with_generator_5():
    from prover.backends.reference import scalar_field

    field = scalar_field()
    assert field.order == R and int(field.primitive_element) == 5
    assert int(field(3) * field(R - 1)) == R - 3
