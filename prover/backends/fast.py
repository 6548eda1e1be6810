"""The fast backend: numba-compiled BN254 kernels behind the Backend interface (the default).

Field arithmetic on Montgomery limbs (fast_field), point formulas (fast_groups),
Pippenger MSM with batch-affine buckets (fast_msm), fixed-base tables for a
setup (fast_fixed_base) and the radix-2 NTT (fast_ntt). This module converts
between the interface's ints and the kernels' limb arrays, so that a prover
pays for conversions once:

  - the proving key: prepare(pk) converts its point runs to Montgomery limb
    arrays once (prover.keys.PreparedProvingKey), and the *_msm_prepared
    kernels take those arrays as they are;
  - F_r values: ntt, intt, coset_ntt, vec_mul and vec_sub return an FrVector,
    a read-only sequence of ints held as Montgomery limbs (ints are made only when
    someone reads them); handed back to the backend (as prover.qap does between
    transforms, and prover.proving to the MSMs), it is not converted again;
  - the constraint system: bn254.r1cs holds A, B and C in compressed sparse rows;
    prepare(pk) adds their coefficient table in Montgomery limbs (fast_r1cs), so that
    A.w, B.w, C.w are one compiled kernel per proof over the R1CS's own arrays;
  - a setup's points: g1_generator_muls and g2_generator_muls return PointRuns
    (the key's layout, 64 or 128 bytes a point), never Python ints.

Kernels compile on first use and are cached on disk by numba (cache=True), so a
new process loads them in about a second instead of compiling them for minutes.
numba checks a cached kernel against its own source file only: after editing one
of these modules, clear the cache (__pycache__/*.nbi, *.nbc) so that kernels
calling into it are rebuilt too.
"""

from __future__ import annotations

import threading
from itertools import islice
from typing import Sequence

import numpy as np

from bn254.constants import R
from prover.backends import fast_msm, fast_ntt, fast_r1cs
from prover.backends.fast_field import (
    FQ2_ZERO,
    ZERO,
    fq_from_montgomery,
    fq_to_montgomery,
    fr_from_montgomery,
    fr_to_montgomery,
    ints_to_limbs,
    limbs_to_ints,
)
from prover.backends.fast_fixed_base import fixed_base_muls_with_table, fixed_base_table, select_table_bits
from prover.keys import PreparedProvingKey, ProvingKey, prepare_with
from prover.point_runs import PointRun, cache_aligned_bytes
from bn254.constants import G1_GENERATOR, G2_GENERATOR, G1Affine, G2Affine, root_of_unity
from bn254.cache import use_kernel_cache_folder

use_kernel_cache_folder(__file__)  # before this module's kernels are decorated


class FrVector(Sequence[int]):
    """F_r values held as Montgomery limbs (n, 4), read-only; the ints are made on first use only.

    What this backend's F_r methods return, and what every method taking F_r values
    (the MSMs' scalars included) takes as it is: a prover hands vectors from kernel
    to kernel without building a Python int. Slices are vectors too.
    """

    __slots__ = ("limbs", "_standard", "_ints")

    def __init__(self, limbs: np.ndarray, standard: np.ndarray | None = None):
        self.limbs = limbs
        self._standard = standard
        self._ints: list[int] | None = None

    def standard(self) -> np.ndarray:
        """The values as standard-form limbs (the MSM kernels' scalars), converted once."""
        if self._standard is None:
            self._standard = fr_from_montgomery(self.limbs)
        return self._standard

    def _values(self) -> list[int]:
        if self._ints is None:
            self._ints = limbs_to_ints(self.standard())
        return self._ints

    def __len__(self) -> int:
        return self.limbs.shape[0]

    def __getitem__(self, index):
        if isinstance(index, slice):
            standard = None if self._standard is None else np.ascontiguousarray(self._standard[index])
            return FrVector(np.ascontiguousarray(self.limbs[index]), standard)
        return self._values()[index]

    def __iter__(self):
        return iter(self._values())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrVector):
            return bool(np.array_equal(self.limbs, other.limbs))
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return self._values() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FrVector({self._values()!r})"


def fr_vector(*parts: Sequence[int]) -> FrVector:
    """The concatenation of parts as one FrVector; FrVector parts are not converted again."""
    if len(parts) == 1 and isinstance(parts[0], FrVector):
        return parts[0]
    limbs, standard = [], []
    for part in parts:
        if isinstance(part, FrVector):
            limbs.append(part.limbs)
            standard.append(part._standard)
        else:
            plain = ints_to_limbs(part, R)
            limbs.append(fr_to_montgomery(plain))
            standard.append(plain)
    if len(limbs) == 1:  # one part (a prover's witness): no joined copy of it
        return FrVector(limbs[0], standard[0])
    joined_standard = None if any(s is None for s in standard) else np.concatenate(standard)
    return FrVector(np.concatenate(limbs), joined_standard)


def _fr_limbs(values: Sequence[int]) -> np.ndarray:
    """Montgomery limbs of F_r values: those an FrVector holds, or converted from the ints."""
    if isinstance(values, FrVector):
        return values.limbs
    return fr_to_montgomery(ints_to_limbs(values, R))


def _scalar_limbs(values: Sequence[int]) -> np.ndarray:
    """Standard-form limbs of MSM scalars (reduced mod r)."""
    if isinstance(values, FrVector):
        return values.standard()
    return ints_to_limbs(values, R)


def g1_limbs(points: Sequence[G1Affine]) -> np.ndarray:
    """(n, 8) Montgomery limbs (x, then y) of affine G1 points; infinity (0, 0) stays all zeros."""
    if isinstance(points, PointRun) and points.group == 1:
        return points.limbs.copy()  # already in this layout (a .zkey's encoding); writable for the kernels
    to_bytes = int.to_bytes
    data = b"".join([to_bytes(x, 32, "little") + to_bytes(y, 32, "little") for x, y in points])
    flat = np.frombuffer(data, dtype="<u8").reshape(-1, 4)
    return fq_to_montgomery(flat).reshape(len(points), 8)


def g2_limbs(points: Sequence[G2Affine]) -> np.ndarray:
    """(n, 16) Montgomery limbs (x.c0, x.c1, y.c0, y.c1) of affine G2 points."""
    if isinstance(points, PointRun) and points.group == 2:
        return points.limbs.copy()
    to_bytes = int.to_bytes
    data = b"".join(
        [
            to_bytes(x0, 32, "little") + to_bytes(x1, 32, "little") + to_bytes(y0, 32, "little") + to_bytes(y1, 32, "little")
            for (x0, x1), (y0, y1) in points
        ]
    )
    flat = np.frombuffer(data, dtype="<u8").reshape(-1, 4)
    return fq_to_montgomery(flat).reshape(len(points), 16)


def _bases(convert, points: Sequence) -> np.ndarray:
    """A query vector as the MSM kernels' bases: a PointRun's limbs in place when its buffer allows.

    The kernels only read their bases, but numba compiles separate kernels for read-only
    arrays: a run over a writable buffer (prover.read_zkey reads into one) is handed
    over as a writable view of the same memory, so the key is held once; a run over
    immutable bytes is copied.
    """
    if isinstance(points, PointRun):
        view = points.limbs.view()
        try:
            view.flags.writeable = True
        except ValueError:
            return points.limbs.copy()
        return view
    return convert(points)


_GENERATOR_MULS_CHUNK = 1 << 18  # scalars converted and recoded at a time (about 20 MiB of digits)


def _generator_muls(base: np.ndarray, scalars: Sequence[int], like: tuple, group: int) -> PointRun:
    """[s * base for s in scalars] as a PointRun: the key's layout, 64 or 128 bytes a point, no int made.

    One table for all; the scalars' limbs and digits are made a chunk at a time, so a setup's
    two million scalars cost the points they give and a few chunks, not three copies of them.
    """
    width = 2 * len(like)
    out = cache_aligned_bytes(len(scalars) * width * 8).view(np.uint64).reshape(len(scalars), width)
    if len(scalars):
        c = select_table_bits(len(scalars))
        table = fixed_base_table(base, c, like)
        remaining = iter(scalars)
        for first in range(0, len(scalars), _GENERATOR_MULS_CHUNK):
            chunk = ints_to_limbs(list(islice(remaining, _GENERATOR_MULS_CHUNK)), R)
            out[first : first + chunk.shape[0]] = fixed_base_muls_with_table(table, chunk, c, like)
    return PointRun(out, group)


def _g1_points(rows: np.ndarray) -> list[G1Affine]:
    coordinates = limbs_to_ints(fq_from_montgomery(rows.reshape(-1, 4)))
    return list(zip(coordinates[0::2], coordinates[1::2]))


def _g2_points(rows: np.ndarray) -> list[G2Affine]:
    c = limbs_to_ints(fq_from_montgomery(rows.reshape(-1, 4)))
    return [((c[i], c[i + 1]), (c[i + 2], c[i + 3])) for i in range(0, len(c), 4)]


class FastBackend:
    """numba kernels for MSM, fixed-base multiplication, NTT and F_r vectors (see the module docstring)."""

    name = "fast"

    def __init__(self) -> None:
        # (base, n) -> base^i, i < n (Montgomery); ("stages", omega, n) -> fast_ntt.stage_twiddles
        self._tables: dict[tuple, np.ndarray] = {}
        self._tables_lock = threading.Lock()

    # -- curves --------------------------------------------------------------------------------

    def _msm(self, rows: np.ndarray, scalars: Sequence[int], like: tuple) -> np.ndarray:
        scalar_limbs = _scalar_limbs(scalars)
        # Zeros and ones cost the same at any window width: the width follows the others.
        zero_or_one = (scalar_limbs[:, 1:] == 0).all(axis=1) & (scalar_limbs[:, 0] <= 1)
        c = fast_msm.select_window_bits(int((~zero_or_one).sum()))
        return fast_msm.msm(rows, scalar_limbs, c, like)

    def g1_msm(self, points: Sequence[G1Affine], scalars: Sequence[int]) -> G1Affine:
        _check_lengths(points, scalars)
        if not points:
            return (0, 0)
        return self.g1_msm_prepared(g1_limbs(points), scalars)

    def g2_msm(self, points: Sequence[G2Affine], scalars: Sequence[int]) -> G2Affine:
        _check_lengths(points, scalars)
        if not points:
            return ((0, 0), (0, 0))
        return self.g2_msm_prepared(g2_limbs(points), scalars)

    def prepare(self, pk: ProvingKey) -> PreparedProvingKey:
        return prepare_with(
            pk,
            self.name,
            lambda points: _bases(g1_limbs, points),
            lambda points: _bases(g2_limbs, points),
            constraints=fast_r1cs.constraint_matrices(pk.r1cs, pk.domain_size)
        )

    def fr_vector(self, *parts: Sequence[int]) -> FrVector:
        return fr_vector(*parts)

    def r1cs_evaluations(self, prepared: PreparedProvingKey, witness: Sequence[int]) -> tuple[FrVector, ...]:
        matrices = prepared.constraints
        if prepared.backend_name != self.name or not isinstance(matrices, fast_r1cs.ConstraintMatrices):
            raise ValueError(f"the key was prepared for the {prepared.backend_name!r} backend, not {self.name!r}")
        a, b, c = fast_r1cs.evaluations(matrices, _scalar_limbs(witness))
        return FrVector(a), FrVector(b), FrVector(c)

    def g1_msm_prepared(self, bases: np.ndarray, scalars: Sequence[int]) -> G1Affine:
        _check_lengths(bases, scalars)
        return _g1_points(self._msm(bases, scalars, ZERO))[0]

    def g2_msm_prepared(self, bases: np.ndarray, scalars: Sequence[int]) -> G2Affine:
        _check_lengths(bases, scalars)
        return _g2_points(self._msm(bases, scalars, FQ2_ZERO))[0]

    def g1_generator_muls(self, scalars: Sequence[int]) -> PointRun:
        return _generator_muls(g1_limbs([G1_GENERATOR])[0], scalars, ZERO, 1)

    def g2_generator_muls(self, scalars: Sequence[int]) -> PointRun:
        return _generator_muls(g2_limbs([G2_GENERATOR])[0], scalars, FQ2_ZERO, 2)

    # -- F_r -----------------------------------------------------------------------------------

    def _table(self, key: tuple, make) -> np.ndarray:
        """A cached F_r table (twiddles, coset shifts): make() once per key."""
        with self._tables_lock:
            if key not in self._tables:
                if len(self._tables) >= 16:  # a prover needs 3 per domain size
                    self._tables.pop(next(iter(self._tables)))
                self._tables[key] = make()
            return self._tables[key]

    def _powers(self, base: int, n: int) -> np.ndarray:
        """[base^i for i < n] in Montgomery form, cached (coset shifts)."""
        return self._table((base, n), lambda: fast_ntt.powers(_fr_montgomery(base), n))

    def _ntt_limbs(self, values: np.ndarray, omega: int) -> np.ndarray:
        n = values.shape[0]
        table = self._table(
            ("stages", omega, n),  # the twiddles omega^k, k < n/2, laid out by stage
            lambda: fast_ntt.stage_twiddles(fast_ntt.powers(_fr_montgomery(omega), max(1, n // 2))),
        )
        return fast_ntt.ntt_with_table(values, table)

    def ntt(self, coefficients: Sequence[int]) -> list[int]:
        omega = root_of_unity(_log2_size(len(coefficients)))
        return FrVector(self._ntt_limbs(_fr_limbs(coefficients), omega))

    def intt(self, evaluations: Sequence[int]) -> list[int]:
        # The inverse DFT is the DFT at omega^-1, scaled by 1/n.
        n = len(evaluations)
        omega_inv = pow(root_of_unity(_log2_size(n)), R - 2, R)
        n_inv = fr_to_montgomery(ints_to_limbs([pow(n, R - 2, R)], R))[0]
        return FrVector(fast_ntt.vec_scale(self._ntt_limbs(_fr_limbs(evaluations), omega_inv), tuple(n_inv)))

    def coset_ntt(self, coefficients: Sequence[int], shift: int) -> list[int]:
        # p(shift * x) has coefficients p_j * shift^j.
        n = len(coefficients)
        omega = root_of_unity(_log2_size(n))
        scaled = fast_ntt.vec_mul(_fr_limbs(coefficients), self._powers(shift % R, n))
        return FrVector(self._ntt_limbs(scaled, omega))

    def vec_mul(self, a: Sequence[int], b: Sequence[int]) -> list[int]:
        _check_lengths(a, b)
        return FrVector(fast_ntt.vec_mul(_fr_limbs(a), _fr_limbs(b)))

    def vec_sub(self, a: Sequence[int], b: Sequence[int]) -> list[int]:
        _check_lengths(a, b)
        return FrVector(fast_ntt.vec_sub(_fr_limbs(a), _fr_limbs(b)))


def _fr_montgomery(value: int) -> tuple:
    """One F_r element as a Montgomery limb tuple (a kernel's constant argument)."""
    return tuple(fr_to_montgomery(ints_to_limbs([value], R))[0])


def _check_lengths(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b):
        raise ValueError(f"length mismatch: {len(a)} and {len(b)}")


def _log2_size(n: int) -> int:
    if n < 1 or n & (n - 1):
        raise ValueError(f"NTT size must be a power of two, got {n}")
    return n.bit_length() - 1
