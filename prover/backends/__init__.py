"""Numeric backends of the prover: the heavy kernels behind one small interface.

A backend does the multi-scalar multiplications in G1 and G2, the batch
multiplications of a generator (setup), and the scalar-field work: NTT, inverse
NTT and coset NTT over the snarkjs roots of unity (bn254.constants.root_of_unity),
and element-wise vector products and differences. Points cross the interface as
affine integers (bn254.constants) and scalars as ints, so backends can keep any
internal form (py_ecc objects, Montgomery limbs) and be swapped freely.

The reference backend (py_ecc + plain ints) is the obviously correct one; a
fast backend registers itself here with `register_backend(..., default=True)`
and tests run on every registered backend through a parametrised fixture.
"""

from __future__ import annotations

from functools import cache
from typing import Callable, Protocol, Sequence

from bn254.constants import G1Affine, G2Affine


class Backend(Protocol):
    """The kernels a Groth16 setup, prover and verifier need. Scalars are taken mod r."""

    name: str

    def g1_msm(self, points: Sequence[G1Affine], scalars: Sequence[int]) -> G1Affine:
        """sum_i scalars[i] * points[i] in G1 (infinity for empty input)."""
        ...

    def g2_msm(self, points: Sequence[G2Affine], scalars: Sequence[int]) -> G2Affine:
        """sum_i scalars[i] * points[i] in G2."""
        ...

    def prepare(self, pk: ProvingKey) -> PreparedProvingKey:
        """pk's point runs in this backend's own layout, converted once (prover.keys.prepare_with)."""
        ...

    def g1_msm_prepared(self, bases: Any, scalars: Sequence[int]) -> G1Affine:
        """sum_i scalars[i] * bases[i] for a G1 run of a PreparedProvingKey made by this backend."""
        ...

    def g2_msm_prepared(self, bases: Any, scalars: Sequence[int]) -> G2Affine:
        """sum_i scalars[i] * bases[i] for the G2 run of a PreparedProvingKey made by this backend."""
        ...

    def fr_vector(self, *parts: Sequence[int]) -> Sequence[int]:
        """The concatenation of parts as one F_r vector in this backend's own layout.

        Every method taking F_r values takes such a vector as it is: a prover converts
        its witness once. Vectors this backend returned are not converted again.
        """
        ...

    def r1cs_evaluations(
        self, prepared: PreparedProvingKey, witness: Sequence[int]
    ) -> tuple[Sequence[int], Sequence[int], Sequence[int]]:
        """(a, b, c) on the QAP domain: <A_i, w>, <B_i, w>, <C_i, w> per row (prover.qap), padded.

        prepared: a key this backend prepared (its constraints field is in this backend's form).
        """
        ...

    def g1_generator_muls(self, scalars: Sequence[int]) -> Sequence[G1Affine]:
        """[s * G1_GENERATOR for s in scalars]: the fixed-base work of a setup.

        A sequence of affine points: a list, or the backend's own compact form (the fast
        backend's prover.point_runs.PointRun, which a proving key can hold as it is).
        """
        ...

    def g2_generator_muls(self, scalars: Sequence[int]) -> Sequence[G2Affine]:
        """[s * G2_GENERATOR for s in scalars], as g1_generator_muls gives them."""
        ...

    def ntt(self, coefficients: Sequence[int]) -> list[int]:
        """Evaluations of the polynomial at omega_n^i, i = 0..n-1 (n = len, a power of two)."""
        ...

    def intt(self, evaluations: Sequence[int]) -> list[int]:
        """Coefficients of the polynomial of degree < n taking these values at omega_n^i."""
        ...

    def coset_ntt(self, coefficients: Sequence[int], shift: int) -> list[int]:
        """Evaluations of the polynomial at shift * omega_n^i, i = 0..n-1."""
        ...

    def vec_mul(self, a: Sequence[int], b: Sequence[int]) -> list[int]:
        """Element-wise a[i] * b[i] mod r."""
        ...

    def vec_sub(self, a: Sequence[int], b: Sequence[int]) -> list[int]:
        """Element-wise a[i] - b[i] mod r."""
        ...


_FACTORIES: dict[str, Callable[[], Backend]] = {}
_default_name = ""


def register_backend(name: str, factory: Callable[[], Backend], *, default: bool = False) -> None:
    """Make a backend available under `name`; `default=True` makes get_backend() return it."""
    global _default_name
    _FACTORIES[name] = factory
    if default or not _default_name:
        _default_name = name
    _instance.cache_clear()


def backend_names() -> list[str]:
    """Names of every registered backend, the default first."""
    return sorted(_FACTORIES, key=lambda n: (n != _default_name, n))


def get_backend(name: str | None = None) -> Backend:
    """The backend registered under `name`, or the default one (one shared instance per name)."""
    chosen = _default_name if name is None else name
    if chosen not in _FACTORIES:
        raise KeyError(f"no prover backend {chosen!r}; registered: {backend_names()}")
    return _instance(chosen)


@cache
def _instance(name: str) -> Backend:
    return _FACTORIES[name]()


def _fast_backend() -> Backend:
    # Imported on first use: numba and the compiled kernels load only when a backend is needed.
    from prover.backends.fast import FastBackend

    return FastBackend()


def _register_builtin() -> None:
    from prover.backends.reference import ReferenceBackend

    register_backend("reference", ReferenceBackend)
    register_backend("fast", _fast_backend, default=True)


_register_builtin()
