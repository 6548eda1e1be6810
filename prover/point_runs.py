"""A run of affine points kept as it is stored in a .zkey: Montgomery limbs, decoded to ints only when read.

A .zkey stores each F_q element as 32 little-endian bytes in Montgomery form
(x * 2^256 mod q), G1 points as x then y, G2 points as x.c0, x.c1, y.c0, y.c1,
the point at infinity as zeros (bn254.iden3): exactly the limb layout of the fast
backend (prover.backends.fast). prover.read_zkey therefore keeps a key's query
vectors as PointRuns over the file's bytes: the fast backend takes their limbs
as they are, write_zkey writes their bytes back as they are, and no Python int
is made for a point unless someone reads it (the reference backend does, point
by point). For the 64-quote batch that is 2.4 million points never decoded.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from bn254.constants import G1Affine, G2Affine
from bn254.iden3 import G1_BYTES, G2_BYTES, read_g1_montgomery, read_g2_montgomery

_WIDTH = {1: G1_BYTES // 8, 2: G2_BYTES // 8}  # uint64 limbs per point


class PointRun(Sequence):
    """Affine points of G1 (group=1) or G2 (group=2) held as (n, 8) or (n, 16) uint64 Montgomery limbs.

    Reads as a sequence of the usual affine int tuples (bn254.constants); equal to any
    sequence of the same points. The limbs are read-only.
    """

    __slots__ = ("group", "limbs")

    def __init__(self, encoded: bytes | memoryview | np.ndarray, group: int):
        if group not in _WIDTH:
            raise ValueError(f"group must be 1 or 2, got {group}")
        width = _WIDTH[group]
        limbs = encoded if isinstance(encoded, np.ndarray) else np.frombuffer(encoded, dtype="<u8")
        if limbs.size % width:
            raise ValueError(f"{limbs.size * 8} bytes are not a whole number of G{group} points")
        self.group = group
        self.limbs = limbs.reshape(-1, width)
        self.limbs.flags.writeable = False

    def encoded(self) -> bytes:
        """The points in the .zkey encoding (bn254.iden3.g1_montgomery_bytes / g2_montgomery_bytes)."""
        return self.limbs.tobytes()

    def _point(self, i: int) -> G1Affine | G2Affine:
        row = self.limbs[i].tobytes()
        return read_g1_montgomery(row, 0) if self.group == 1 else read_g2_montgomery(row, 0)

    def __len__(self) -> int:
        return self.limbs.shape[0]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return PointRun(self.limbs[index], self.group)
        if not -len(self) <= index < len(self):
            raise IndexError(f"point {index} of a run of {len(self)}")
        return self._point(index % len(self))

    def __iter__(self) -> Iterator[G1Affine | G2Affine]:
        return (self._point(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PointRun):
            return self.group == other.group and bool(np.array_equal(self.limbs, other.limbs))
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to tuples of points, which hash otherwise

    def __repr__(self) -> str:
        return f"PointRun(G{self.group}, {len(self)} points)"


CACHE_LINE = 64


def cache_aligned_bytes(size: int) -> np.ndarray:
    """A writable uint8 buffer of `size` bytes starting on a 64-byte boundary.

    A point of G1 is 64 bytes: aligned, each is one cache line for the MSM kernels to load,
    not two. Measured on the 64-quote batch: the G1 MSMs took 7% more CPU time over
    buffers from bytearray or np.empty (16 bytes past a line) than over aligned ones.
    """
    raw = np.empty(size + CACHE_LINE, np.uint8)
    start = -raw.ctypes.data % CACHE_LINE
    return raw[start : start + size]


def encoded_points(points: Sequence[G1Affine] | Sequence[G2Affine], group: int) -> bytes:
    """The .zkey encoding of a run of points: a PointRun's bytes as they are, other sequences encoded."""
    from bn254.iden3 import g1_montgomery_bytes, g2_montgomery_bytes

    if isinstance(points, PointRun) and points.group == group:
        return points.encoded()
    return g1_montgomery_bytes(points) if group == 1 else g2_montgomery_bytes(points)
