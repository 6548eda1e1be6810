"""The QAP in snarkjs's layout: domain size, Lagrange basis and the coset trick for h(tau)Z(tau)."""

from __future__ import annotations

import random

import pytest

from bn254.constants import R, root_of_unity
from prover.qap import domain_power, lagrange_basis_at, quotient_evaluations, wire_polynomials_at
from tests.prover.sample_circuits import build, multiplication_chain, range_checked_spend, unused_public_input

RNG = random.Random(7)


def _snarkjs_power(n_constraints: int, n_public: int) -> int:
    # snarkjs zkey_new.js: cirPower = log2(nConstraints + nPubInputs + nOutputs + 1 - 1) + 1, log2 = floor.
    v = n_constraints + n_public
    return (v.bit_length() - 1 if v else 0) + 1


@pytest.mark.parametrize("length", [0, 1, 4, 5, 12, 29])
def test_domain_size_is_snarkjs(length):
    r1cs, _ = build(multiplication_chain(length))
    k = domain_power(r1cs)
    assert k == _snarkjs_power(r1cs.n_constraints, r1cs.n_public)
    assert (1 << k) >= r1cs.n_constraints + r1cs.n_public + 1 > (1 << (k - 1))


@pytest.mark.parametrize("k", [1, 3, 5])
def test_lagrange_basis_interpolates_1_and_x(k):
    n, x = 1 << k, RNG.randrange(R)
    basis = lagrange_basis_at(x, n)
    omega = root_of_unity(k)
    assert sum(basis) % R == 1
    assert sum(value * pow(omega, i, R) for i, value in enumerate(basis)) % R == x


@pytest.mark.parametrize("indices", [range(1, 16, 2), range(0, 16, 4), range(5, 6)])
def test_lagrange_basis_of_some_indices_matches_the_textbook_formula(indices):
    n, x = 16, RNG.randrange(R)
    omega = root_of_unity(4)
    # L_i(x) = prod_(j != i) (x - omega^j) / (omega^i - omega^j)
    def textbook(i: int) -> int:
        num = den = 1
        for j in range(n):
            if j != i:
                num = num * (x - pow(omega, j, R)) % R
                den = den * (pow(omega, i, R) - pow(omega, j, R)) % R
        return num * pow(den, R - 2, R) % R

    assert lagrange_basis_at(x, n, indices) == [textbook(i) for i in indices]
    assert lagrange_basis_at(x, n, indices) == lagrange_basis_at(x, n)[indices.start : indices.stop : indices.step]


def test_lagrange_basis_refuses_a_domain_point():
    with pytest.raises(ValueError):
        lagrange_basis_at(root_of_unity(3), 8)


def _pairing_free_check(r1cs, witness, backend) -> bool:
    """a(tau) b(tau) - c(tau) == sum_i p(g omega^i) L'_(2i+1)(tau): what the pairing check relies on."""
    n = 1 << domain_power(r1cs)
    tau = RNG.randrange(R)
    a, b, c = wire_polynomials_at(r1cs, lagrange_basis_at(tau, n))
    at_tau = [sum(w * poly[j] for j, w in enumerate(witness)) % R for poly in (a, b, c)]
    p = quotient_evaluations(r1cs, witness, n, backend)
    odd_lagrange = lagrange_basis_at(tau, 2 * n)[1::2]
    return (at_tau[0] * at_tau[1] - at_tau[2]) % R == sum(x * y for x, y in zip(p, odd_lagrange)) % R


@pytest.mark.parametrize("make", [lambda: multiplication_chain(9), range_checked_spend, unused_public_input])
def test_quotient_identity_holds_for_a_satisfying_witness(backend, make):
    r1cs, witness = build(make())
    assert _pairing_free_check(r1cs, witness, backend)


def test_quotient_identity_fails_for_an_unsatisfying_witness(backend):
    r1cs, witness = build(multiplication_chain(9))
    witness[-1] = (witness[-1] + 1) % R  # a product wire off by one
    assert not r1cs.is_satisfied(witness)
    assert not _pairing_free_check(r1cs, witness, backend)


def test_coset_quotient_drops_each_evaluation_once_transformed(backend):
    from prover.qap import coset_quotient, witness_evaluations

    r1cs, witness = build(range_checked_spend())
    n = 1 << domain_power(r1cs)
    evaluations = list(witness_evaluations(r1cs, witness, n))
    expected = quotient_evaluations(r1cs, witness, n, backend)
    assert list(coset_quotient(evaluations, backend)) == list(expected)
    assert evaluations == []  # emptied: the caller's list holds nothing more
    with pytest.raises(ValueError, match="three evaluations"):
        coset_quotient([[0] * n, [0] * n], backend)
