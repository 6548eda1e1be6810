"""snarkjs's deterministic randomness, bit for bit: ChaCha20 streams and the points drawn from them.

A phase-2 contribution is checked against a G2 point that nobody chose: snarkjs
hashes the transcript, seeds a ChaCha20 stream with the hash and draws a G2 point
from it (snarkjs src/keypair.js hashToG2). A beacon contribution draws its secret
and its G1 point from a stream seeded by an iterated SHA-256 (src/misc.js
rngFromBeaconParams). To verify snarkjs's transcripts, and to write ones snarkjs
verifies, this module draws exactly what ffjavascript does (src/chacha.js,
wasm_field1.js, wasm_field2.js, wasm_curve.js fromRng):

- the stream: the ChaCha20 block function (RFC 8439, 10 double rounds) on the
  constants, an 8-word key (the seed, words read big-endian from the hash) and a
  4-word block counter starting at zero, with no nonce; words are consumed in order;
- a field element: n64 = 4 draws of u64 (high word first), summed as limbs
  little-endian, masked to the modulus's bit length, redrawn while >= p; the
  value v is used as the Montgomery form, so the element is v * 2^-256 mod p;
- F_q2: c0 then c1;
- a curve point: x from the stream, then a bool (sign) from the next word, until
  x^3 + b is a square; y is the root whose "negative" flag (value > (p-1)/2 in
  standard form; for F_q2 that of c1, or of c0 when c1 = 0) equals the bool; G2
  points are then multiplied by ffjavascript's cofactor.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from py_ecc import optimized_bn128 as bn

from bn254.constants import CURVE_B, FIELD_BYTES, Q, R, TWIST_B, G1Affine, G2Affine
from bn254.curve import g2_from_py_ecc, g2_to_py_ecc
from prover.errors import ProverError

_MASK32 = 0xFFFFFFFF
_MONTGOMERY_INV_Q = pow(pow(2, 256, Q), Q - 2, Q)
_MONTGOMERY_INV_R = pow(pow(2, 256, R), R - 2, R)
G2_COFACTOR = 0x30644E72E131A029B85045B68181585E06CEECDA572A2489345F2299C0F9FA8D
"""ffjavascript's bn128 cofactorG2 (src/bn128.js): a hashed G2 point is multiplied by it."""
_BEACON_MIN_EXP, _BEACON_MAX_EXP = 10, 63


class BeaconParameterError(ProverError, ValueError):
    """A beacon hash or iteration exponent that snarkjs would refuse."""


def _rotl(v: int, n: int) -> int:
    return ((v << n) | (v >> (32 - n))) & _MASK32


def _quarter_round(s: list[int], a: int, b: int, c: int, d: int) -> None:
    s[a] = (s[a] + s[b]) & _MASK32
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & _MASK32
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & _MASK32
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & _MASK32
    s[b] = _rotl(s[b] ^ s[c], 7)


@dataclass
class ChaCha:
    """ffjavascript's ChaCha stream of u32 words from an 8-word seed."""

    seed: list[int]
    _state: list[int] = field(init=False)
    _block: list[int] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if len(self.seed) != 8:
            raise ValueError(f"a ChaCha seed is 8 words, got {len(self.seed)}")
        self._state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574, *self.seed, 0, 0, 0, 0]

    @classmethod
    def from_hash(cls, digest: bytes) -> "ChaCha":
        """The stream seeded by the first 32 bytes of a hash, read as 8 big-endian words."""
        return cls([int.from_bytes(digest[4 * i : 4 * i + 4], "big") for i in range(8)])

    def _next_block(self) -> None:
        work = list(self._state)
        for _ in range(10):
            _quarter_round(work, 0, 4, 8, 12)
            _quarter_round(work, 1, 5, 9, 13)
            _quarter_round(work, 2, 6, 10, 14)
            _quarter_round(work, 3, 7, 11, 15)
            _quarter_round(work, 0, 5, 10, 15)
            _quarter_round(work, 1, 6, 11, 12)
            _quarter_round(work, 2, 7, 8, 13)
            _quarter_round(work, 3, 4, 9, 14)
        self._block = [(w + s) & _MASK32 for w, s in zip(work, self._state)]
        for i in range(12, 16):  # the 128-bit block counter, carried word to word
            self._state[i] = (self._state[i] + 1) & _MASK32
            if self._state[i]:
                break

    def next_u32(self) -> int:
        if not self._block:
            self._next_block()
        return self._block.pop(0)

    def next_u64(self) -> int:
        high = self.next_u32()
        return (high << 32) | self.next_u32()

    def next_bool(self) -> bool:
        return bool(self.next_u32() & 1)


def _montgomery_value(rng: ChaCha, modulus: int) -> int:
    mask = (1 << modulus.bit_length()) - 1
    while True:
        v = sum(rng.next_u64() << (64 * i) for i in range(FIELD_BYTES // 8)) & mask
        if v < modulus:
            return v


def fr_from_rng(rng: ChaCha) -> int:
    """The F_r element ffjavascript's Fr.fromRng draws (a secret key of a contribution)."""
    return _montgomery_value(rng, R) * _MONTGOMERY_INV_R % R


def fq_from_rng(rng: ChaCha) -> int:
    return _montgomery_value(rng, Q) * _MONTGOMERY_INV_Q % Q


def _fq_is_negative(v: int) -> bool:
    return v > (Q - 1) // 2


def _fq_sqrt(a: int) -> int | None:
    root = pow(a, (Q + 1) // 4, Q)  # q = 3 mod 4
    return root if root * root % Q == a % Q else None


def _fq2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return ((a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q)


def _fq2_sqrt(a: tuple[int, int]) -> tuple[int, int] | None:
    # F_q2 = F_q[u]/(u^2 + 1): for a = a0 + a1 u, with n = sqrt(a0^2 + a1^2) in F_q,
    # x0^2 = (a0 +/- n)/2 and x1 = a1 / (2 x0); a has a root iff its norm is a square.
    a0, a1 = a[0] % Q, a[1] % Q
    if a1 == 0:
        root = _fq_sqrt(a0)
        if root is not None:
            return (root, 0)
        root = _fq_sqrt(-a0 % Q)
        return None if root is None else (0, root)
    norm_root = _fq_sqrt(a0 * a0 + a1 * a1)
    if norm_root is None:
        return None
    half = pow(2, Q - 2, Q)
    for candidate in ((a0 + norm_root) * half % Q, (a0 - norm_root) * half % Q):
        x0 = _fq_sqrt(candidate)
        if x0:
            root = (x0, a1 * pow(2 * x0, Q - 2, Q) % Q)
            if _fq2_mul(root, root) == (a0, a1):
                return root
    return None


def g1_from_rng(rng: ChaCha) -> G1Affine:
    """The G1 point ffjavascript's G1.fromRng draws."""
    while True:
        x = fq_from_rng(rng)
        greatest = rng.next_bool()
        y = _fq_sqrt((x * x * x + CURVE_B) % Q)
        if y is not None:
            break
    if _fq_is_negative(y) != greatest:
        y = -y % Q
    return (x, y)


def g2_from_rng(rng: ChaCha) -> G2Affine:
    """The G2 point ffjavascript's G2.fromRng draws (cofactor cleared)."""
    while True:
        x = (fq_from_rng(rng), fq_from_rng(rng))
        greatest = rng.next_bool()
        x3 = _fq2_mul(_fq2_mul(x, x), x)
        y = _fq2_sqrt(((x3[0] + TWIST_B[0]) % Q, (x3[1] + TWIST_B[1]) % Q))
        if y is not None:
            break
    negative = _fq_is_negative(y[1]) if y[1] else _fq_is_negative(y[0])
    if negative != greatest:
        y = (-y[0] % Q, -y[1] % Q)
    return g2_from_py_ecc(bn.multiply(g2_to_py_ecc((x, y)), G2_COFACTOR))


def hash_to_g2(transcript: bytes) -> G2Affine:
    """snarkjs's hashToG2: the G2 point drawn from the ChaCha stream seeded by the transcript hash."""
    return g2_from_rng(ChaCha.from_hash(transcript))


def rng_from_entropy(entropy: str) -> ChaCha:
    """snarkjs's getRandomRng: BLAKE2b-512 of 64 fresh OS random bytes and the UTF-8 entropy text."""
    digest = hashlib.blake2b(os.urandom(64) + entropy.encode("utf-8"), digest_size=64).digest()
    return ChaCha.from_hash(digest)


def check_beacon(beacon_hash: bytes, iterations_exp: int) -> None:
    """Raise BeaconParameterError for what snarkjs's zkey beacon refuses."""
    if not 0 < len(beacon_hash) < 256:
        raise BeaconParameterError(f"a beacon hash is 1 to 255 bytes, got {len(beacon_hash)}")
    if not _BEACON_MIN_EXP <= iterations_exp <= _BEACON_MAX_EXP:
        raise BeaconParameterError(
            f"the beacon's iteration exponent must be in [{_BEACON_MIN_EXP}, {_BEACON_MAX_EXP}], got {iterations_exp}"
        )


def rng_from_beacon(beacon_hash: bytes, iterations_exp: int) -> ChaCha:
    """snarkjs's rngFromBeaconParams: SHA-256 applied 2^iterations_exp times, then the stream it seeds."""
    check_beacon(beacon_hash, iterations_exp)
    digest = beacon_hash
    for _ in range(1 << iterations_exp):
        digest = hashlib.sha256(digest).digest()
    return ChaCha.from_hash(digest)
