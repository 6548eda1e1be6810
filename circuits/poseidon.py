"""Poseidon over BN254 with circomlib's parameters, computed from the specification.

Poseidon (Grassi, Khovratovich, Rechberger, Roy, Schofnegger, "Poseidon: A New
Hash Function for Zero-Knowledge Proof Systems", USENIX Security 2021,
eprint 2019/458): a HADES permutation of width t over F_r with the S-box x^5,
R_F = 8 full rounds (4 before, 4 after) and R_P partial rounds (S-box on the
first element only). Each round adds t round constants, applies the S-boxes,
and multiplies the state by a t x t MDS matrix: state_i <- sum_j M[i][j] state_j.

The round constants and the Cauchy MDS matrix M[i][j] = 1 / (x_i + y_j) come
from the paper's Grain LFSR (appendix F; the reference script
generate_parameters_grain.sage, run as `1 0 254 t 8 R_P r`), generated here,
not copied. R_P per t is circomlib's table (the paper's table rounded up).

The hash of inputs (m_1..m_k), k = t - 1, is circomlib's: the state starts as
(0, m_1, .., m_k) and the output is the first element after the permutation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from bn254.constants import R, R_BITS
from bn254.field import inverse

FULL_ROUNDS = 8
PARTIAL_ROUNDS = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
"""circomlib's R_P for t = 2..17 (poseidon.circom's N_ROUNDS_P)."""

MIN_WIDTH, MAX_WIDTH = 2, 1 + len(PARTIAL_ROUNDS)
SBOX_EXPONENT = 5


class GrainLFSR:
    """The 80-bit Grain LFSR of the Poseidon paper, appendix F, seeded with the instance.

    Seed bits (most significant first): field type (2 bits, 1 = GF(p)), S-box
    (4 bits, 0 = x^alpha), field size n (12), t (12), R_F (10), R_P (10), then 30
    ones. Feedback b_{i+80} = b_{i+62} + b_{i+51} + b_{i+38} + b_{i+23} + b_{i+13} + b_i;
    the first 160 outputs are discarded; output bits are then taken in pairs
    (self-shrinking): when the first is 1 the second is output, else both are dropped.
    """

    __slots__ = ("_state",)

    def __init__(self, field_type: int, sbox: int, n: int, t: int, r_f: int, r_p: int) -> None:
        seed = f"{field_type:02b}{sbox:04b}{n:012b}{t:012b}{r_f:010b}{r_p:010b}" + "1" * 30
        # Bit i of _state is sequence element b_i of the current window.
        self._state = int(seed[::-1], 2)
        for _ in range(160):
            self._clock()

    def _clock(self) -> int:
        s = self._state
        bit = ((s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s) & 1
        self._state = (s >> 1) | (bit << 79)
        return bit

    def next_bit(self) -> int:
        while True:
            if self._clock():
                return self._clock()
            self._clock()

    def next_int(self, n_bits: int) -> int:
        """n_bits output bits read as a big-endian integer."""
        value = 0
        for _ in range(n_bits):
            value = (value << 1) | self.next_bit()
        return value

    def next_field_element(self, n_bits: int, modulus: int) -> int:
        """Rejection sampling: draw n_bits until the integer is below modulus (round constants)."""
        while True:
            value = self.next_int(n_bits)
            if value < modulus:
                return value


@dataclass(frozen=True, slots=True)
class PoseidonParameters:
    """Constants of one Poseidon width t: round_constants[round][i], mds[i][j]."""

    t: int
    full_rounds: int
    partial_rounds: int
    round_constants: tuple[tuple[int, ...], ...]
    mds: tuple[tuple[int, ...], ...]

    def is_full_round(self, round_index: int) -> bool:
        half = self.full_rounds // 2
        return round_index < half or round_index >= half + self.partial_rounds


@lru_cache(maxsize=None)
def poseidon_parameters(t: int) -> PoseidonParameters:
    """Grain-generated parameters for width t (2 <= t <= 17), cached.

    Order of generation (reference script): (R_F + R_P) * t round constants by
    rejection sampling, then 2t distinct field elements x_0..x_{t-1}, y_0..y_{t-1}
    (drawn as n-bit integers reduced mod r) for the Cauchy matrix 1/(x_i + y_j).
    """
    if not MIN_WIDTH <= t <= MAX_WIDTH:
        raise ValueError(f"Poseidon width t must be in [{MIN_WIDTH}, {MAX_WIDTH}], got {t}")
    r_p = PARTIAL_ROUNDS[t - 2]
    grain = GrainLFSR(1, 0, R_BITS, t, FULL_ROUNDS, r_p)
    flat = [grain.next_field_element(R_BITS, R) for _ in range((FULL_ROUNDS + r_p) * t)]
    round_constants = tuple(tuple(flat[k * t : (k + 1) * t]) for k in range(FULL_ROUNDS + r_p))
    while True:
        points = [grain.next_int(R_BITS) % R for _ in range(2 * t)]
        while len(set(points)) != 2 * t:
            points = [grain.next_int(R_BITS) % R for _ in range(2 * t)]
        xs, ys = points[:t], points[t:]
        if all((x + y) % R for x in xs for y in ys):
            break
    mds = tuple(tuple(inverse(x + y) for y in ys) for x in xs)
    return PoseidonParameters(t, FULL_ROUNDS, r_p, round_constants, mds)


def poseidon_permutation(state: Sequence[int]) -> list[int]:
    """The Poseidon permutation of width len(state) over F_r."""
    params = poseidon_parameters(len(state))
    s = [v % R for v in state]
    for rnd, constants in enumerate(params.round_constants):
        s = [(v + c) % R for v, c in zip(s, constants)]
        if params.is_full_round(rnd):
            s = [pow(v, SBOX_EXPONENT, R) for v in s]
        else:
            s[0] = pow(s[0], SBOX_EXPONENT, R)
        s = [sum(m * v for m, v in zip(row, s)) % R for row in params.mds]
    return s


def poseidon_hash(inputs: Sequence[int]) -> int:
    """circomlib's Poseidon(k) of 1 <= k <= 16 field elements (ints reduced mod r)."""
    if not 1 <= len(inputs) <= MAX_WIDTH - 1:
        raise ValueError(f"Poseidon takes 1 to {MAX_WIDTH - 1} inputs, got {len(inputs)}")
    return poseidon_permutation([0, *inputs])[0]
