"""From an R1CS to a quadratic arithmetic program, in snarkjs's layout.

Constraint i sits at the point omega^i of the domain D = {omega^i} of size
n = 2^k (omega = bn254.constants.root_of_unity(k)). As snarkjs does, n_public + 1
rows "w_j * 0 = 0" follow the m constraints, one per wire j = 0..n_public, at
omega^(m + j): they put w_j into the A polynomial so that the A_j(tau) of the
public wires are linearly independent, which Groth16's soundness proof needs
(Groth, "On the size of pairing-based non-interactive arguments", EUROCRYPT
2016, sect. 3; snarkjs src/zkey_new.js). Hence n >= m + n_public + 1.

With a(X), b(X), c(X) the polynomials taking the values <A_i, w>, <B_i, w>,
<C_i, w> on D, p = a*b - c vanishes on D, so p = h * Z with Z(X) = X^n - 1.
Like snarkjs, the prover never divides by Z: p has degree <= 2n - 2, vanishes on
the even powers of omega_2n (the points of D), so
    p(tau) = sum_i p(g * omega^i) * L'_(2i+1)(tau),   g = omega_2n,
where L'_j are the Lagrange polynomials of the domain of size 2n. The setup
publishes [L'_(2i+1)(tau) / delta]_1 and the prover evaluates p on the coset g*D.
"""

from __future__ import annotations

from typing import Sequence

from bn254.constants import MAX_DOMAIN_POWER, R, root_of_unity
from bn254.field import batch_inverse
from bn254.r1cs import R1CS
from prover.backends import Backend
from prover.errors import CircuitTooLarge

_TERMS_AT_A_TIME = 1 << 16  # terms turned into Python ints at a time


def domain_power(r1cs: R1CS) -> int:
    """k with 2^k the evaluation domain size: the least k >= 1 with 2^k >= m + n_public + 1 (as snarkjs)."""
    rows = r1cs.n_constraints + r1cs.n_public + 1
    k = max(1, (rows - 1).bit_length())
    if k >= MAX_DOMAIN_POWER:
        # The quotient needs the coset by omega_(2n), so n may be at most 2^27.
        raise CircuitTooLarge(f"{rows} QAP rows need a domain of 2^{k}; the limit is 2^{MAX_DOMAIN_POWER - 1}")
    return k


def lagrange_basis_at(x: int, n: int, indices: range | None = None) -> list[int]:
    """[L_i(x) for i in indices] (default: all i < n), the Lagrange basis of the size-n domain at x.

    L_i(X) = (X^n - 1) * omega^i / (n * (X - omega^i)). The divisions share one
    exponentiation (bn254.field.batch_inverse): a setup needs about 3n of them.
    Raises ValueError when x lies in the domain.
    """
    indices = range(n) if indices is None else indices
    omega = root_of_unity(n.bit_length() - 1)
    z = (pow(x, n, R) - 1) % R
    if z == 0:
        raise ValueError("x lies in the domain")
    factor = z * pow(n, R - 2, R) % R
    omega_step = pow(omega, indices.step, R)
    points, omega_i = [], pow(omega, indices.start, R)
    for _ in indices:
        points.append(omega_i)
        omega_i = omega_i * omega_step % R
    inverses = batch_inverse([x - w for w in points])
    return [factor * w % R * inv % R for w, inv in zip(points, inverses)]


def wire_polynomials_at(r1cs: R1CS, lagrange: list[int]) -> tuple[list[int], list[int], list[int]]:
    """(A_j(tau), B_j(tau), C_j(tau)) for every wire j, given lagrange = [L_i(tau)] of the domain.

    A_j(tau) includes the padding row of each public wire (and wire 0). Walks the
    R1CS's sparse rows a chunk of terms at a time (bn254.r1cs.Constraints).
    """
    constraints = r1cs.constraints
    coefficients = constraints.coefficients
    out = []
    for matrix in constraints.matrices:
        values = [0] * r1cs.n_wires
        rows = matrix.term_rows()
        for first in range(0, matrix.n_terms, _TERMS_AT_A_TIME):
            last = first + _TERMS_AT_A_TIME
            for wire, term, row in zip(matrix.wires[first:last].tolist(), matrix.terms[first:last].tolist(),
                                       rows[first:last].tolist()):
                values[wire] = (values[wire] + coefficients[term] * lagrange[row]) % R
        out.append(values)
    a, b, c = out
    m = r1cs.n_constraints
    for wire in range(r1cs.n_public + 1):
        a[wire] = (a[wire] + lagrange[m + wire]) % R
    return a, b, c


def witness_evaluations(r1cs: R1CS, witness: list[int], n: int) -> tuple[list[int], list[int], list[int]]:
    """a, b, c on the domain: the values <A_i, w>, <B_i, w>, <C_i, w> of each row, padded with zeros."""
    a, b, c = ([0] * n for _ in range(3))
    m = r1cs.n_constraints
    for i, (a_i, b_i, c_i) in enumerate(r1cs.constraints.values(witness, 0, m, R)):
        a[i], b[i], c[i] = a_i, b_i, c_i
    for wire in range(r1cs.n_public + 1):
        a[m + wire] = witness[wire]  # the padding row w_j * 0 = 0
    return a, b, c


def quotient_evaluations(r1cs: R1CS, witness: list[int], n: int, backend: Backend) -> Sequence[int]:
    """p = a*b - c at g * omega^i (g = omega_2n): the scalars of the H-query MSM."""
    return coset_quotient(list(witness_evaluations(r1cs, witness, n)), backend)


def coset_quotient(evaluations: list[Sequence[int]], backend: Backend) -> Sequence[int]:
    """p = a*b - c at g * omega^i (g = omega_2n), from evaluations = [a, b, c] on the domain (length n each).

    Empties `evaluations` as it goes: each vector is dropped once it has been
    transformed, so that (when the caller keeps no other reference) at most two
    vectors more than the three live at once. The values stay in the backend's own
    layout from transform to transform (the fast backend's FrVector): no int is built.
    """
    if len(evaluations) != 3:
        raise ValueError(f"the quotient needs the three evaluations a, b, c, got {len(evaluations)}")
    shift = root_of_unity(len(evaluations[0]).bit_length())
    cosets = []
    while evaluations:
        cosets.append(backend.coset_ntt(backend.intt(evaluations.pop(0)), shift))
    c_coset = cosets.pop()
    product = backend.vec_mul(*cosets)
    cosets.clear()
    return backend.vec_sub(product, c_coset)
