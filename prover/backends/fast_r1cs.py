"""The R1CS matrices in compressed sparse rows, and A.w, B.w, C.w by a compiled kernel.

A prover evaluates every constraint's three linear combinations once per proof
(prover.qap: the values a_i = <A_i, w>, b_i, c_i on the domain). In Python that
is a dict walk per term; here each matrix is built once per prepared key into
compressed sparse rows (CSR: the terms of row i are entries indptr[i] ..
indptr[i+1] - 1 of `wires` and `terms`) and evaluated by a numba kernel on one
core: a term costs about 20 ns (a Montgomery product and an addition), so the
108k terms of A for 4 quotes take 2 ms, while a parallel region measured 16 ms
on the shared two-core machine.

Coefficients are stored as k * 2^512 mod r (snarkjs's "twice Montgomery" form of
its .zkey coefficients): one Montgomery product with a standard-form witness
value, k 2^512 * w * 2^-256 = (k w) 2^256, is the Montgomery form of the term,
which is what the NTTs that follow take. A circuit uses few distinct
coefficients (1, -1, powers of two), so each term holds an index into a table of
them: 8 bytes a term instead of 40. Matrix A carries snarkjs's padding rows
w_j * 0 = 0 (j = 0 .. n_public) as rows m + j with coefficient 1 on wire j, so
the three results are the whole domain's evaluations, zeros after the last row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from bn254.constants import R
from bn254.r1cs import R1CS
from prover.backends.fast_field import ZERO, fe_store, fr_add, fr_mul, ints_to_limbs

_TWICE_MONTGOMERY = pow(2, 512, R)


@dataclass(frozen=True, eq=False)
class SparseRows:
    """One matrix in CSR form: row i's terms are wires[k] times coefficients[terms[k]], indptr[i] <= k < indptr[i+1].

    coefficients: (u, 4) uint64 limbs of the u distinct k * 2^512 mod r (see the module docstring).
    """

    indptr: np.ndarray
    wires: np.ndarray
    terms: np.ndarray
    coefficients: np.ndarray

    @property
    def n_rows(self) -> int:
        return self.indptr.shape[0] - 1


@dataclass(frozen=True, eq=False)
class ConstraintMatrices:
    """A (with the padding rows), B and C of an R1CS in CSR form, and the domain size n."""

    a: SparseRows
    b: SparseRows
    c: SparseRows
    domain_size: int
    n_wires: int


def _sparse_rows(rows: list[dict[int, int]]) -> SparseRows:
    indptr = np.zeros(len(rows) + 1, np.int64)
    indptr[1:] = np.cumsum([len(row) for row in rows])
    nnz = int(indptr[-1])
    wires = np.fromiter((wire for row in rows for wire in row), np.int32, count=nnz)
    table: dict[int, int] = {}
    terms = np.fromiter(
        (table.setdefault(k % R, len(table)) for row in rows for k in row.values()), np.int32, count=nnz
    )
    coefficients = ints_to_limbs([k * _TWICE_MONTGOMERY for k in table], R)
    return SparseRows(indptr, wires, terms, coefficients)


def constraint_matrices(r1cs: R1CS, domain_size: int) -> ConstraintMatrices:
    """The CSR matrices of r1cs over a domain of domain_size rows (prover.qap.domain_power)."""
    rows_needed = r1cs.n_constraints + r1cs.n_public + 1
    if domain_size < rows_needed:
        raise ValueError(f"a domain of {domain_size} rows cannot hold {rows_needed} QAP rows")
    padding = [{wire: 1} for wire in range(r1cs.n_public + 1)]
    return ConstraintMatrices(
        a=_sparse_rows([a for a, _b, _c in r1cs.constraints] + padding),
        b=_sparse_rows([b for _a, b, _c in r1cs.constraints]),
        c=_sparse_rows([c for _a, _b, c in r1cs.constraints]),
        domain_size=domain_size,
        n_wires=r1cs.n_wires,
    )


@njit(cache=True)
def _evaluate(indptr, wires, terms, coefficients, witness, n):
    """out[i] = sum_k coefficients[terms[k]] * witness[wires[k]] over row i's terms (Montgomery form), zeros from the last row to n."""
    out = np.zeros((n, 4), np.uint64)
    for i in range(indptr.shape[0] - 1):
        total = ZERO
        for k in range(indptr[i], indptr[i + 1]):
            j, t = wires[k], terms[k]
            coefficient = (coefficients[t, 0], coefficients[t, 1], coefficients[t, 2], coefficients[t, 3])
            value = (witness[j, 0], witness[j, 1], witness[j, 2], witness[j, 3])
            total = fr_add(total, fr_mul(coefficient, value))
        fe_store(out, i, 0, total)
    return out


def evaluate(matrix: SparseRows, witness: np.ndarray, n: int) -> np.ndarray:
    """(n, 4) Montgomery limbs of <row_i, w> for every row, zero-padded to n; witness in standard-form limbs."""
    return _evaluate(matrix.indptr, matrix.wires, matrix.terms, matrix.coefficients, witness, n)


def evaluations(matrices: ConstraintMatrices, witness: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, c) on the whole domain for a witness given as (n_wires, 4) standard-form limbs."""
    if witness.shape != (matrices.n_wires, 4):
        raise ValueError(f"witness limbs of shape {witness.shape}, the system has {matrices.n_wires} wires")
    n = matrices.domain_size
    return evaluate(matrices.a, witness, n), evaluate(matrices.b, witness, n), evaluate(matrices.c, witness, n)
