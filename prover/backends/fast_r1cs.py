"""A.w, B.w, C.w by a compiled kernel over the R1CS's own compressed sparse rows.

A prover evaluates every constraint's three linear combinations once per proof
(prover.qap: the values a_i = <A_i, w>, b_i, c_i on the domain). bn254.r1cs
already holds each matrix in compressed sparse rows (row i's terms are entries
indptr[i] .. indptr[i+1] - 1 of `wires` and `terms`, `terms` indexing a table of
the distinct coefficients), so a prepared key adds only that table in the
kernel's form and uses the arrays in place; a numba kernel evaluates them on
one core: a term costs about 20 ns (a Montgomery product and an addition), so
the 108k terms of A for 4 quotes take 2 ms, while a parallel region measured
16 ms on the shared two-core machine.

Coefficients are stored as k * 2^512 mod r (snarkjs's "twice Montgomery" form of
its .zkey coefficients): one Montgomery product with a standard-form witness
value, k 2^512 * w * 2^-256 = (k w) 2^256, is the Montgomery form of the term,
which is what the NTTs that follow take. snarkjs's padding rows w_j * 0 = 0
(j = 0 .. n_public) of A are rows m + j with coefficient 1 on wire j: the kernel
writes them after A's m rows, so the three results are the whole domain's
evaluations, zeros after the last row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from bn254.constants import R
from bn254.r1cs import R1CS, SparseRows
from prover.backends.fast_field import R_R2, ZERO, fe_store, fr_add, fr_mul, ints_to_limbs
from bn254.cache import use_kernel_cache_folder

use_kernel_cache_folder(__file__)  # before this module's kernels are decorated

_TWICE_MONTGOMERY = pow(2, 512, R)


@dataclass(frozen=True, eq=False)
class ConstraintMatrices:
    """A, B and C of an R1CS (its own arrays, not copied), the kernel's coefficient table and the domain.

    coefficients: (u, 4) uint64 limbs of k * 2^512 mod r for each distinct coefficient k
    (bn254.r1cs.Constraints.coefficients, in its order).
    padding: snarkjs's padding rows, n_public + 1, written after A's rows.
    """

    a: SparseRows
    b: SparseRows
    c: SparseRows
    coefficients: np.ndarray
    padding: int
    domain_size: int
    n_wires: int


def constraint_matrices(r1cs: R1CS, domain_size: int) -> ConstraintMatrices:
    """The kernel's view of r1cs over a domain of domain_size rows (prover.qap.domain_power)."""
    rows_needed = r1cs.n_constraints + r1cs.n_public + 1
    if domain_size < rows_needed:
        raise ValueError(f"a domain of {domain_size} rows cannot hold {rows_needed} QAP rows")
    constraints = r1cs.constraints
    return ConstraintMatrices(
        a=constraints.a,
        b=constraints.b,
        c=constraints.c,
        coefficients=ints_to_limbs([k % R * _TWICE_MONTGOMERY for k in constraints.coefficients], R),
        padding=r1cs.n_public + 1,
        domain_size=domain_size,
        n_wires=r1cs.n_wires,
    )


@njit(cache=True)
def _evaluate(indptr, wires, terms, coefficients, witness, n, padding):
    """out[i] = sum_k coefficients[terms[k]] * witness[wires[k]] over row i's terms (Montgomery form);
    then `padding` rows m + j holding witness[j] (coefficient 1); zeros to n."""
    out = np.zeros((n, 4), np.uint64)
    m = indptr.shape[0] - 1
    for i in range(m):
        total = ZERO
        for k in range(indptr[i], indptr[i + 1]):
            j, t = wires[k], terms[k]
            coefficient = (coefficients[t, 0], coefficients[t, 1], coefficients[t, 2], coefficients[t, 3])
            value = (witness[j, 0], witness[j, 1], witness[j, 2], witness[j, 3])
            total = fr_add(total, fr_mul(coefficient, value))
        fe_store(out, i, 0, total)
    for j in range(padding):
        value = (witness[j, 0], witness[j, 1], witness[j, 2], witness[j, 3])
        fe_store(out, m + j, 0, fr_mul(R_R2, value))  # w_j * 2^512 * 2^-256: w_j in Montgomery form
    return out


def evaluate(matrix: SparseRows, coefficients: np.ndarray, witness: np.ndarray, n: int, padding: int = 0) -> np.ndarray:
    """(n, 4) Montgomery limbs of <row_i, w> for every row (then `padding` rows w_j), zero-padded to n;
    witness in standard-form limbs."""
    return _evaluate(matrix.indptr, matrix.wires, matrix.terms, coefficients, witness, n, padding)


def evaluations(matrices: ConstraintMatrices, witness: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, c) on the whole domain for a witness given as (n_wires, 4) standard-form limbs."""
    if witness.shape != (matrices.n_wires, 4):
        raise ValueError(f"witness limbs of shape {witness.shape}, the system has {matrices.n_wires} wires")
    n, table = matrices.domain_size, matrices.coefficients
    return (evaluate(matrices.a, table, witness, n, matrices.padding), evaluate(matrices.b, table, witness, n),
            evaluate(matrices.c, table, witness, n))
