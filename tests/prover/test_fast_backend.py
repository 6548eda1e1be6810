"""The fast backend against the reference: field arithmetic on limbs, MSM, NTT, caches, whole proofs.

test_backends.py checks every backend against the definitions on small inputs; this
file goes where only the fast backend has machinery to get wrong: Montgomery limbs
at the edges of the fields, bucket trees that double and cancel, every window width,
the caches that skip conversions, and full proofs that the reference verifier and
snarkjs accept.
"""

from __future__ import annotations

import random
import shutil

import numpy as np
import pytest
from numba import njit
from py_ecc import optimized_bn128 as bn

from bn254.constants import G1_INFINITY, G2_INFINITY, Q, R
from bn254.curve import g1_from_py_ecc, g2_from_py_ecc
from circuits import batch as cbt
from circuits.builder import ConstraintSystem
from circuits.gadgets.bits import to_bits
from prover import proving, prove, setup, verify, write_proof, write_public, write_verification_key
from prover.backends import get_backend
from prover.backends import fast_field as ff
from prover.backends.fast import FrVector, g1_limbs, g2_limbs
from prover.backends.fast_msm import msm, select_window_bits
from tests.circuits.test_batch import request
from tests.prover.test_snarkjs_interop import SNARKJS, _snarkjs_verifies

RNG = random.Random(5_2024)
FAST = get_backend("fast")
REFERENCE = get_backend("reference")


def test_fast_is_the_default_backend():
    assert get_backend().name == "fast"


# -- field arithmetic on limbs -----------------------------------------------------------


@njit(cache=True)
def _apply(op, a, b, like):
    """Row-wise op on (n, L) Montgomery limbs: like = ff.ZERO for F_q (L = 4), ff.FQ2_ZERO for F_q2 (8)."""
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        x, y = ff.fe_load(a, i, 0, like), ff.fe_load(b, i, 0, like)
        if op == 0:
            r = ff.fe_mul(x, y)
        elif op == 1:
            r = ff.fe_add(x, y)
        elif op == 2:
            r = ff.fe_sub(x, y)
        elif op == 3:
            r = ff.fe_sqr(x)
        else:
            r = ff.fe_inv(x)
        ff.fe_store(out, i, 0, r)
    return out


@njit(cache=True)
def _apply_fr(op, a, b):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        x = (a[i, 0], a[i, 1], a[i, 2], a[i, 3])
        y = (b[i, 0], b[i, 1], b[i, 2], b[i, 3])
        if op == 0:
            r = ff.fr_mul(x, y)
        elif op == 1:
            r = ff.fr_add(x, y)
        else:
            r = ff.fr_sub(x, y)
        ff.fe_store(out, i, 0, r)
    return out


def _elements(p: int, n: int) -> list[int]:
    # The edges of the field (0, 1, p - 1, limb boundaries) and uniform elements.
    edges = [0, 1, 2, p - 1, p - 2, (1 << 64) - 1, 1 << 64, (1 << 192) + 7, p >> 1]
    return edges + [RNG.randrange(p) for _ in range(n - len(edges))]


def _fq_limbs(values: list[int]) -> np.ndarray:
    return ff.fq_to_montgomery(ff.ints_to_limbs(values, Q))


def _fq_ints(limbs: np.ndarray) -> list[int]:
    return ff.limbs_to_ints(ff.fq_from_montgomery(limbs))


def test_fq_arithmetic_matches_python_ints():
    xs, ys = _elements(Q, 200), _elements(Q, 200)[::-1]
    a, b = _fq_limbs(xs), _fq_limbs(ys)
    assert _fq_ints(a) == xs  # Montgomery form round trip
    assert _fq_ints(_apply(0, a, b, ff.ZERO)) == [x * y % Q for x, y in zip(xs, ys)]
    assert _fq_ints(_apply(1, a, b, ff.ZERO)) == [(x + y) % Q for x, y in zip(xs, ys)]
    assert _fq_ints(_apply(2, a, b, ff.ZERO)) == [(x - y) % Q for x, y in zip(xs, ys)]
    assert _fq_ints(_apply(3, a, b, ff.ZERO)) == [x * x % Q for x in xs]
    assert _fq_ints(_apply(4, a, b, ff.ZERO)) == [pow(x, Q - 2, Q) for x in xs]  # 0 -> 0


def test_fr_arithmetic_matches_python_ints():
    xs, ys = _elements(R, 200), _elements(R, 200)[::-1]
    a = ff.fr_to_montgomery(ff.ints_to_limbs(xs, R))
    b = ff.fr_to_montgomery(ff.ints_to_limbs(ys, R))

    def ints(limbs):
        return ff.limbs_to_ints(ff.fr_from_montgomery(limbs))

    assert ints(a) == xs
    assert ints(_apply_fr(0, a, b)) == [x * y % R for x, y in zip(xs, ys)]
    assert ints(_apply_fr(1, a, b)) == [(x + y) % R for x, y in zip(xs, ys)]
    assert ints(_apply_fr(2, a, b)) == [(x - y) % R for x, y in zip(xs, ys)]


def test_fq2_arithmetic_matches_py_ecc():
    pairs = list(zip(_elements(Q, 60), _elements(Q, 60)[::-1]))
    others = pairs[7:] + pairs[:7]
    a = _fq_limbs([c for pair in pairs for c in pair]).reshape(-1, 8)
    b = _fq_limbs([c for pair in others for c in pair]).reshape(-1, 8)

    def fq2s(limbs):
        c = _fq_ints(limbs.reshape(-1, 4))
        return [bn.FQ2([c[i], c[i + 1]]) for i in range(0, len(c), 2)]

    x, y = [bn.FQ2(list(p)) for p in pairs], [bn.FQ2(list(p)) for p in others]
    assert fq2s(_apply(0, a, b, ff.FQ2_ZERO)) == [u * v for u, v in zip(x, y)]
    assert fq2s(_apply(1, a, b, ff.FQ2_ZERO)) == [u + v for u, v in zip(x, y)]
    assert fq2s(_apply(2, a, b, ff.FQ2_ZERO)) == [u - v for u, v in zip(x, y)]
    assert fq2s(_apply(3, a, b, ff.FQ2_ZERO)) == [u * u for u in x]
    nonzero = [i for i, u in enumerate(x) if u != bn.FQ2.zero()]
    inverses = fq2s(_apply(4, a, b, ff.FQ2_ZERO))
    assert [inverses[i] for i in nonzero] == [bn.FQ2.one() / x[i] for i in nonzero]


def test_scalar_limbs_reduce_mod_r():
    values = [0, R, R + 3, -1, 1 << 300, R - 1]
    assert ff.limbs_to_ints(ff.ints_to_limbs(values, R)) == [v % R for v in values]


# -- multi-scalar multiplication ------------------------------------------------------------


def _scalar(kind: str) -> int:
    return {
        "zero": 0,
        "one": 1,
        "small": RNG.randrange(2, 1 << 16),
        "word": RNG.randrange(1 << 64),
        "minus_one": R - 1,
        "full": RNG.randrange(R),
    }[kind]


def _structured_scalars(n: int, weights: dict[str, int]) -> list[int]:
    kinds = RNG.choices(list(weights), weights=list(weights.values()), k=n)
    return [_scalar(kind) for kind in kinds]


def _logs_and_scalars(n: int, n_distinct: int, weights: dict[str, int]) -> tuple[list[int], list[int]]:
    """Discrete logs k_i of the points (few distinct, so buckets double and cancel) and scalars.

    Half the repeated points come negated (k and r - k), so P + (-P) meets in buckets too.
    """
    pool = [RNG.randrange(1, R) for _ in range(n_distinct)]
    logs = [RNG.choice(pool) for _ in range(n)]
    logs = [R - k if RNG.random() < 0.25 else k for k in logs]
    return logs, _structured_scalars(n, weights)


MIXED = {"zero": 3, "one": 3, "small": 1, "word": 1, "minus_one": 1, "full": 3}


@pytest.mark.parametrize("c", [2, 5, 9, 13])
def test_g1_msm_against_the_sum_of_discrete_logs(c):
    # P_i = k_i G, so sum_i s_i P_i = (sum_i s_i k_i) G: one py_ecc multiplication checks a big MSM.
    logs, scalars = _logs_and_scalars(1500, 40, MIXED)
    points = FAST.g1_generator_muls(logs)
    expected = g1_from_py_ecc(bn.multiply(bn.G1, sum(s * k for s, k in zip(scalars, logs)) % R))
    got = msm(g1_limbs(points), ff.ints_to_limbs(scalars, R), c, ff.ZERO)
    assert _g1_row(got) == expected


def _g1_row(row: np.ndarray) -> tuple[int, int]:
    x, y = ff.limbs_to_ints(ff.fq_from_montgomery(row.reshape(-1, 4)))
    return (x, y)


def test_g1_msm_with_infinity_duplicates_and_cancellation_matches_reference():
    p = [g1_from_py_ecc(bn.multiply(bn.G1, RNG.randrange(1, R))) for _ in range(6)]
    minus_p0 = (p[0][0], Q - p[0][1])
    points = [p[0], p[0], minus_p0, G1_INFINITY, *p, p[3], G1_INFINITY]
    for scalars in (
        [1, 1, 1, 5, *range(2, 8), 1, 0],  # P0 + P0 - P0 and an infinity with a nonzero scalar
        [3, 3, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # 3P0 + 3P0 - 6P0 = 0
        [R - 1, 1, 0, 1, *([0] * 6), 0, 1],
        [0] * 12,
    ):
        assert FAST.g1_msm(points, scalars) == REFERENCE.g1_msm(points, scalars)
    assert FAST.g1_msm(points, [3, 3, 6] + [0] * 9) == G1_INFINITY


@pytest.mark.parametrize("c", [3, 8])
def test_g2_msm_against_the_sum_of_discrete_logs(c):
    logs, scalars = _logs_and_scalars(300, 12, MIXED)
    points = FAST.g2_generator_muls(logs)
    expected = g2_from_py_ecc(bn.multiply(bn.G2, sum(s * k for s, k in zip(scalars, logs)) % R))
    got = ff.limbs_to_ints(ff.fq_from_montgomery(msm(g2_limbs(points), ff.ints_to_limbs(scalars, R), c, ff.FQ2_ZERO).reshape(-1, 4)))
    assert ((got[0], got[1]), (got[2], got[3])) == expected


def test_g2_msm_edge_cases_match_reference():
    g = g2_from_py_ecc(bn.multiply(bn.G2, 7))
    h = g2_from_py_ecc(bn.multiply(bn.G2, 11))
    minus_g = (g[0], ((Q - g[1][0]) % Q, (Q - g[1][1]) % Q))
    points = [g, g, minus_g, G2_INFINITY, h]
    for scalars in ([1, 1, 1, 4, 2], [2, 3, 5, 1, 0], [0, 0, 0, 0, 0], [R - 1, 1, 1, 0, 1]):
        assert FAST.g2_msm(points, scalars) == REFERENCE.g2_msm(points, scalars)


def test_window_width_follows_the_scalars_other_than_0_and_1():
    # A witness of bits gets narrow windows: its ones cost one addition each, whatever the width.
    assert select_window_bits(100) < select_window_bits(100_000)
    assert select_window_bits(0) == 2


def test_generator_muls_of_edge_scalars():
    scalars = [0, 1, 2, R - 1, R, 1 << 253, *(RNG.randrange(R) for _ in range(20))]
    assert FAST.g1_generator_muls(scalars) == [g1_from_py_ecc(bn.multiply(bn.G1, s % R)) for s in scalars]
    assert FAST.g2_generator_muls(scalars[:8]) == [g2_from_py_ecc(bn.multiply(bn.G2, s % R)) for s in scalars[:8]]


# -- NTT ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 5, 9])
def test_ntt_family_matches_reference(k):
    values = [RNG.randrange(R) for _ in range(1 << k)]
    shift = RNG.randrange(1, R)
    assert FAST.ntt(values) == REFERENCE.ntt(values)
    assert FAST.intt(values) == REFERENCE.intt(values)
    assert FAST.coset_ntt(values, shift) == REFERENCE.coset_ntt(values, shift)


def test_ntt_round_trips_at_size_2_to_the_14():
    values = [RNG.randrange(R) for _ in range(1 << 14)]
    evaluations = FAST.ntt(values)
    assert evaluations[0] == sum(values) % R  # p(1)
    assert FAST.intt(evaluations) == values
    shift = 5
    # The coset evaluations interpolate to p(shift * x), whose coefficients are p_j * shift^j.
    assert FAST.intt(FAST.coset_ntt(values, shift)) == [v * pow(shift, j, R) % R for j, v in enumerate(values)]


# -- the caches -----------------------------------------------------------------------------------


def test_fr_vector_results_read_as_ints_and_pass_back_without_conversion():
    values = [RNG.randrange(R) for _ in range(16)]
    evaluations = FAST.ntt(values)
    assert isinstance(evaluations, FrVector) and evaluations == REFERENCE.ntt(values)
    assert list(evaluations) == REFERENCE.ntt(values) and evaluations[3] == REFERENCE.ntt(values)[3]
    assert evaluations[2:9] == REFERENCE.ntt(values)[2:9] and isinstance(evaluations[2:9], FrVector)
    assert evaluations != REFERENCE.ntt(values)[::-1]
    with pytest.raises(TypeError):
        evaluations[3] = 12345  # read-only: its limbs are what the kernels take
    assert FAST.intt(evaluations) == values
    products = FAST.vec_mul(evaluations, values)
    assert FAST.vec_sub(products, values) == [(x * y - y) % R for x, y in zip(REFERENCE.ntt(values), values)]


def test_fr_vector_concatenates_vectors_and_int_lists():
    values = [RNG.randrange(R) for _ in range(8)]
    vector = FAST.fr_vector(values)
    assert FAST.fr_vector(vector) is vector
    joined = FAST.fr_vector([1], vector[2:5], [R - 1, 7], FAST.ntt(values))
    assert joined == [1, *values[2:5], R - 1, 7, *REFERENCE.ntt(values)]
    assert FAST.fr_vector([1], vector, [5]) == REFERENCE.fr_vector([1], values, [5])
    assert FAST.g1_msm(FAST.g1_generator_muls(list(range(1, 11))), joined[:10]) == REFERENCE.g1_msm(
        REFERENCE.g1_generator_muls(list(range(1, 11))), list(joined[:10])
    )


def test_sparse_rows_evaluate_as_the_python_rows():
    from prover.backends import fast_r1cs
    from prover.qap import domain_power, witness_evaluations

    r1cs, witness = _random_circuit(11)
    n = 1 << domain_power(r1cs)
    matrices = fast_r1cs.constraint_matrices(r1cs, n)
    got = fast_r1cs.evaluations(matrices, FAST.fr_vector(witness).standard())
    assert [FrVector(limbs) for limbs in got] == list(witness_evaluations(r1cs, witness, n))
    assert matrices.a.n_rows + matrices.padding == r1cs.n_constraints + r1cs.n_public + 1  # the padding rows
    assert matrices.a is r1cs.constraints.a  # the R1CS's own arrays, not a copy
    with pytest.raises(ValueError, match="wires"):
        fast_r1cs.evaluations(matrices, FAST.fr_vector(witness[:-1]).standard())
    with pytest.raises(ValueError, match="cannot hold"):
        fast_r1cs.constraint_matrices(r1cs, n // 4)


def test_prepared_msm_matches_the_plain_one():
    points = FAST.g1_generator_muls([RNG.randrange(1, R) for _ in range(300)])
    scalars = [RNG.randrange(R) for _ in range(300)]
    assert FAST.g1_msm_prepared(g1_limbs(points), scalars) == FAST.g1_msm(points, scalars)
    assert FAST.g1_msm(points[:3], scalars[:3]) == REFERENCE.g1_msm(points[:3], scalars[:3])
    g2_points = FAST.g2_generator_muls([RNG.randrange(1, R) for _ in range(5)])
    assert FAST.g2_msm_prepared(g2_limbs(g2_points), scalars[:5]) == REFERENCE.g2_msm(g2_points, scalars[:5])


# -- whole proofs ----------------------------------------------------------------------------------


def _random_circuit(seed: int) -> tuple:
    """Random multiplications and additions over public and private inputs, some range-checked."""
    rng = random.Random(seed)
    cs = ConstraintSystem()
    wires = [cs.public_input(f"x{i}", rng.randrange(R)) for i in range(3)]
    wires += [cs.private_input(f"y{i}", rng.randrange(1 << 8)) for i in range(4)]
    with cs.scope("gates"):
        for i in range(120):
            a, b = rng.choice(wires), rng.choice(wires)
            wires.append(cs.mul(a, b, f"m{i}") if rng.random() < 0.7 else cs.mul(a + b, a, f"s{i}"))
    cs.public_output("out", wires[-1])
    r1cs, witness = cs.to_r1cs(), cs.witness()
    assert r1cs.is_satisfied(witness)
    return r1cs, witness


def test_fast_proof_of_a_random_circuit_passes_the_reference_verifier():
    r1cs, witness = _random_circuit(7)
    pk, vk = setup(r1cs, backend=FAST)
    proof = prove(pk, witness, backend=FAST)
    public = r1cs.public_values(witness)
    assert verify(vk, public, proof, backend=REFERENCE)
    assert not verify(vk, [(public[0] + 1) % R, *public[1:]], proof, backend=REFERENCE)


def _circuit_of_every_scalar_kind() -> tuple:
    """A witness like the batches': mostly bits, with zeros, small values, -1 and full field elements."""
    rng = random.Random(11)
    cs = ConstraintSystem()
    x = cs.public_input("x", rng.randrange(R))
    minus_one = cs.private_input("minus_one", R - 1)
    with cs.scope("gates"):
        acc = cs.mul(x, minus_one, "negate")
        for i in range(6):
            small = cs.private_input(f"small{i}", rng.randrange(1 << 40))
            to_bits(cs, small, 48)  # 48 wires of 0 and 1, a few high zeros among them
            acc = cs.mul(acc + small, x, f"full{i}")
    cs.public_output("out", acc)
    r1cs, witness = cs.to_r1cs(), cs.witness()
    assert r1cs.is_satisfied(witness)
    return r1cs, witness


def test_fast_and_reference_proofs_are_identical_for_the_same_randomness(monkeypatch):
    # Every MSM of the proof (A, B in G1 and G2, L, H) on both backends: one wrong term
    # anywhere in the fast kernels' split of zeros, ones and the rest changes a point.
    r1cs, witness = _circuit_of_every_scalar_kind()
    values = set(witness)
    assert {0, 1, R - 1} <= values and any(1 < v < 1 << 40 for v in values) and any(v >= 1 << 200 for v in values)
    pk, vk = setup(r1cs, backend=FAST)
    blinding = [RNG.randrange(1, R) for _ in range(2)]
    proofs = {}
    for backend in (FAST, REFERENCE):
        randomness = iter(blinding)
        monkeypatch.setattr(proving, "random_nonzero_scalar", lambda: next(randomness))
        proofs[backend.name] = prove(pk, witness, backend=backend)
    assert proofs["fast"] == proofs["reference"]
    assert verify(vk, r1cs.public_values(witness), proofs["fast"], backend=REFERENCE)


@pytest.fixture(scope="module")
def one_quote_batch_proof():
    """A fast-backend proof of the DLPE batch circuit with one quote (22k constraints)."""
    cs = ConstraintSystem()
    cbt.batch_circuit(cs, request(1))
    r1cs, witness = cs.to_r1cs(), cs.witness()
    pk, vk = setup(r1cs, backend=FAST)
    return vk, r1cs.public_values(witness), prove(pk, witness, backend=FAST)


@pytest.mark.slow
def test_fast_proof_of_a_one_quote_batch_passes_the_reference_verifier(one_quote_batch_proof):
    vk, public, proof = one_quote_batch_proof
    assert verify(vk, public, proof, backend=REFERENCE)
    assert not verify(vk, [*public[:-1], (public[-1] + 1) % R], proof, backend=REFERENCE)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None or not SNARKJS.is_file(), reason="node or the pinned snarkjs is missing")
def test_fast_proof_of_a_one_quote_batch_passes_snarkjs(one_quote_batch_proof, tmp_path):
    vk, public, proof = one_quote_batch_proof
    write_verification_key(vk, tmp_path / "vk.json")
    write_proof(proof, tmp_path / "proof.json")
    write_public(public, tmp_path / "public.json")
    assert _snarkjs_verifies(tmp_path / "vk.json", tmp_path / "public.json", tmp_path / "proof.json")
