"""The Groth16 phase-2 ceremony, in snarkjs's .zkey transcript format (Bowe, Gabizon, Miers, ePrint 2017/1050).

Phase 1 (powers of tau, prover.ptau) fixes [tau^i], [alpha tau^i], [beta tau^i]
for every circuit. Phase 2 fixes delta for one circuit: `new_phase2` builds the
initial key from the .r1cs and the .ptau with delta = 1 (snarkjs `zkey new`,
src/zkey_new.js); each `contribute` draws a secret d, multiplies [delta]_1 and
[delta]_2 by d and divides the L and H queries by d (src/zkey_contribute.js);
`beacon` does the same with a d anyone can recompute from a public random value
(src/zkey_beacon.js), to end a ceremony. The key is sound if one contributor
forgot their d.

A contribution proves that it knows d without revealing it: it publishes
g1_s (a random G1 point), g1_sx = d g1_s, and g2_spx = d g2_sp, where
g2_sp = hash_to_g2(transcript) and transcript = BLAKE2b(circuit hash, every
earlier contribution's public key, g1_s, g1_sx): a G2 point nobody chose.
`verify_transcript` checks, without trusting anyone (src/zkey_verify_frominit.js):
  - the initial key recomputed from the .r1cs and .ptau has the same circuit
    hash, alpha, beta, gamma and IC, coefficient, A, B1, B2 sections;
  - per contribution: the transcript hash; e(g1_s, g2_spx) = e(g1_sx, g2_sp);
    e(delta_before, g2_spx) = e(delta_after, g2_sp); a beacon's g1_s and g1_sx
    are those its public value yields;
  - [delta]_1 is the last delta_after and e([1]_1, [delta]_2) = e([delta]_1, [1]_2);
  - L and H: for random r, e(sum r_i L0_i, [1]_2) = e(sum r_i L_i, [delta]_2),
    likewise for H (the final query is the initial one divided by delta).
So that snarkjs verifies our transcripts and we verify its, every byte that is
hashed is snarkjs's: points "uncompressed" (big-endian x then y, F_q2 as c1
then c0, infinity as zeros), counts as big-endian u32, BLAKE2b-512 throughout.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
from py_ecc import optimized_bn128 as bn

from bn254.constants import FIELD_BYTES, G1_GENERATOR, G1_INFINITY, G2_GENERATOR, G2_INFINITY, Q, R, G1Affine, G2Affine
from bn254.curve import InvalidPoint, g1_from_py_ecc, g1_to_py_ecc, g2_from_py_ecc, g2_to_py_ecc, validate_g1, validate_g2
from bn254.iden3 import (
    G1_BYTES,
    G2_BYTES,
    ZKEY_MAGIC,
    ZKEY_VERSION,
    Iden3FormatError,
    container_bytes,
    field_bytes,
    g1_montgomery_bytes,
    g2_montgomery_bytes,
    read_container,
    read_g1_montgomery,
    read_g2_montgomery,
    require_sections,
)
from bn254.r1cs import R1CS
from prover.backends import get_backend
from prover.backends.fast_points import first_invalid_g1
from prover.backends.fast_sparse import g1_montgomery_times, g1_sparse_combinations, g2_sparse_combinations
from prover.errors import KeyFormatError, KeyMismatch, ProverError
from prover.keys import DEVELOPMENT_ZKEY_SETUP, VerifyingKey
from prover.point_runs import PointRun
from prover.ptau import PowersOfTau
from prover.qap import domain_power
from prover.snarkjs_rng import ChaCha, check_beacon, fr_from_rng, g1_from_rng, hash_to_g2, rng_from_beacon, rng_from_entropy
from prover.verifier import pairing_product_is_one

_GROTH16 = 1
_HASH_BYTES = 64
_COEFFICIENT_FACTOR = pow(2, 512, R)  # snarkjs stores A/B coefficients times 2^512 (prover.zkey)
_NAME_BYTES = 64  # snarkjs keeps the first 64 characters of a name
_CHECK_SCALAR_BITS = 64
_PARAM_NAME, _PARAM_ITERATIONS, _PARAM_BEACON = 1, 2, 3


class InvalidTranscript(ProverError, ValueError):
    """A phase-2 transcript that does not verify; the message names the contribution or section."""


# -- snarkjs's hashed encodings ---------------------------------------------------------------


def g1_uncompressed(p: G1Affine) -> bytes:
    """snarkjs's uncompressed G1: x then y, big-endian; infinity as 64 zero bytes."""
    return p[0].to_bytes(FIELD_BYTES, "big") + p[1].to_bytes(FIELD_BYTES, "big")


def g2_uncompressed(p: G2Affine) -> bytes:
    """snarkjs's uncompressed G2: x.c1, x.c0, y.c1, y.c0, big-endian; infinity as zeros."""
    (x0, x1), (y0, y1) = p
    return b"".join(v.to_bytes(FIELD_BYTES, "big") for v in (x1, x0, y1, y0))


def _u32_be(n: int) -> bytes:
    return struct.pack(">I", n)


def _blake2b(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_HASH_BYTES).digest()


def _g1_mul(p: G1Affine, k: int) -> G1Affine:
    return g1_from_py_ecc(bn.multiply(g1_to_py_ecc(p), k % R))


def _g2_mul(p: G2Affine, k: int) -> G2Affine:
    return g2_from_py_ecc(bn.multiply(g2_to_py_ecc(p), k % R))


def _g1_neg(p: G1Affine) -> G1Affine:
    return p if p == G1_INFINITY else (p[0], -p[1] % Q)


def same_ratio(a: G1Affine, b: G1Affine, c: G2Affine, d: G2Affine) -> bool:
    """True when b = x a and d = x c for one x != 0: e(a, d) = e(b, c), no point at infinity (snarkjs sameRatio)."""
    if G1_INFINITY in (a, b) or G2_INFINITY in (c, d):
        return False
    return pairing_product_is_one([(a, d), (_g1_neg(b), c)])


# -- the transcript ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    """One phase-2 contribution as the .zkey records it (snarkjs src/zkey_utils.js, section 10)."""

    delta_after: G1Affine
    g1_s: G1Affine
    g1_sx: G1Affine
    g2_spx: G2Affine
    transcript: bytes
    name: str = ""
    beacon_hash: bytes | None = None
    iterations_exp: int = 0

    @property
    def is_beacon(self) -> bool:
        return self.beacon_hash is not None

    def public_key_bytes(self) -> bytes:
        """What snarkjs's hashPubKey feeds a hasher: the four points, then the transcript hash."""
        return (
            g1_uncompressed(self.delta_after) + g1_uncompressed(self.g1_s) + g1_uncompressed(self.g1_sx)
            + g2_uncompressed(self.g2_spx) + self.transcript
        )

    def contribution_hash(self) -> bytes:
        """The hash a contributor publishes and snarkjs prints ("Contribution Hash")."""
        return _blake2b(self.public_key_bytes())

    def to_bytes(self) -> bytes:
        params = b""
        if self.name:
            name = self.name[:_NAME_BYTES].encode("utf-8")
            params += bytes([_PARAM_NAME, len(name)]) + name
        if self.beacon_hash is not None:
            params += bytes([_PARAM_ITERATIONS, self.iterations_exp, _PARAM_BEACON, len(self.beacon_hash)])
            params += self.beacon_hash
        return (
            g1_montgomery_bytes([self.delta_after, self.g1_s, self.g1_sx]) + g2_montgomery_bytes([self.g2_spx])
            + self.transcript + struct.pack("<II", 1 if self.is_beacon else 0, len(params)) + params
        )


def _read_contribution(data: bytes, pos: int) -> tuple[Contribution, int]:
    fixed = 3 * G1_BYTES + G2_BYTES + _HASH_BYTES + 8
    if pos + fixed > len(data):
        raise KeyFormatError("zkey contributions section ends inside a contribution")
    points = [read_g1_montgomery(data, pos + i * G1_BYTES) for i in range(3)]
    pos += 3 * G1_BYTES
    g2_spx = read_g2_montgomery(data, pos)
    pos += G2_BYTES
    transcript = data[pos : pos + _HASH_BYTES]
    pos += _HASH_BYTES
    kind, length = struct.unpack_from("<II", data, pos)
    pos += 8
    end = pos + length
    if end > len(data) or kind not in (0, 1):
        raise KeyFormatError(f"zkey contribution of type {kind} with {length} parameter bytes is malformed")
    name, beacon_hash, iterations, last = "", None, 0, 0
    while pos < end:
        param = data[pos]
        if param <= last or param > _PARAM_BEACON or pos + 2 > end:
            raise KeyFormatError(f"zkey contribution parameter {param} unknown or out of order")
        last = param
        if param == _PARAM_ITERATIONS:
            iterations, pos = data[pos + 1], pos + 2
            continue
        size = data[pos + 1]
        value = data[pos + 2 : pos + 2 + size]
        pos += 2 + size
        if param == _PARAM_NAME:
            name = value.decode("utf-8", errors="replace")
        else:
            beacon_hash = value
    if pos != end or (kind == 1) != (beacon_hash is not None):
        raise KeyFormatError("zkey contribution parameters do not match its type")
    contribution = Contribution(
        delta_after=points[0], g1_s=points[1], g1_sx=points[2], g2_spx=g2_spx, transcript=transcript,
        name=name, beacon_hash=beacon_hash, iterations_exp=iterations,
    )
    return contribution, end


@dataclass(frozen=True)
class Phase2Key:
    """A Groth16 .zkey in a ceremony: its header, its point sections as bytes, and its transcript."""

    n_vars: int
    n_public: int
    domain_size: int
    alpha_g1: G1Affine
    beta_g1: G1Affine
    beta_g2: G2Affine
    gamma_g2: G2Affine
    delta_g1: G1Affine
    delta_g2: G2Affine
    queries: dict[int, bytes]
    """Sections 3 (IC), 4 (coefficients), 5 (A), 6 (B1), 7 (B2), 8 (L, snarkjs's C), 9 (H)."""
    circuit_hash: bytes
    contributions: tuple[Contribution, ...]

    def to_bytes(self) -> bytes:
        header = b"".join([
            struct.pack("<I", FIELD_BYTES), field_bytes(Q), struct.pack("<I", FIELD_BYTES), field_bytes(R),
            struct.pack("<III", self.n_vars, self.n_public, self.domain_size),
            g1_montgomery_bytes([self.alpha_g1, self.beta_g1]),
            g2_montgomery_bytes([self.beta_g2, self.gamma_g2]),
            g1_montgomery_bytes([self.delta_g1]),
            g2_montgomery_bytes([self.delta_g2]),
        ])
        mpc = self.circuit_hash + struct.pack("<I", len(self.contributions))
        mpc += b"".join(c.to_bytes() for c in self.contributions)
        sections = [(1, struct.pack("<I", _GROTH16)), (2, header)]
        sections += [(s, self.queries[s]) for s in range(3, 10)]
        sections.append((10, mpc))
        return container_bytes(ZKEY_MAGIC, ZKEY_VERSION, sections)

    def write(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> "Phase2Key":
        """Raises KeyFormatError for anything but a BN254 Groth16 zkey with its transcript."""
        try:
            sections = read_container(data, ZKEY_MAGIC, ZKEY_VERSION)
            require_sections(sections, range(1, 11), "zkey")
        except Iden3FormatError as error:
            raise KeyFormatError(str(error)) from error
        if struct.unpack_from("<I", sections[1].ljust(4, b"\0"))[0] != _GROTH16:
            raise KeyFormatError("the zkey is not a Groth16 key")
        header = sections[2]
        if len(header) != 8 + 2 * FIELD_BYTES + 12 + 3 * G1_BYTES + 3 * G2_BYTES:
            raise KeyFormatError(f"zkey groth16 header holds {len(header)} bytes, not that of BN254")
        if int.from_bytes(header[4:36], "little") != Q or int.from_bytes(header[40:72], "little") != R:
            raise KeyFormatError("the zkey is not over BN254 (q or r differ)")
        pos = 8 + 2 * FIELD_BYTES
        n_vars, n_public, domain_size = struct.unpack_from("<III", header, pos)
        pos += 12
        alpha_g1, beta_g1 = read_g1_montgomery(header, pos), read_g1_montgomery(header, pos + G1_BYTES)
        pos += 2 * G1_BYTES
        beta_g2, gamma_g2 = read_g2_montgomery(header, pos), read_g2_montgomery(header, pos + G2_BYTES)
        pos += 2 * G2_BYTES
        delta_g1, delta_g2 = read_g1_montgomery(header, pos), read_g2_montgomery(header, pos + G1_BYTES)
        mpc = sections[10]
        if len(mpc) < _HASH_BYTES + 4:
            raise KeyFormatError("zkey contributions section is too short")
        (count,) = struct.unpack_from("<I", mpc, _HASH_BYTES)
        contributions, pos = [], _HASH_BYTES + 4
        for _ in range(count):
            contribution, pos = _read_contribution(mpc, pos)
            contributions.append(contribution)
        if pos != len(mpc):
            raise KeyFormatError("zkey contributions section has trailing bytes")
        try:
            for what, point in (("alpha_1", alpha_g1), ("beta_1", beta_g1), ("delta_1", delta_g1)):
                validate_g1(point, f"zkey {what}")
            for what, point in (("beta_2", beta_g2), ("gamma_2", gamma_g2), ("delta_2", delta_g2)):
                validate_g2(point, f"zkey {what}")
        except InvalidPoint as error:
            raise KeyFormatError(str(error)) from error
        return cls(
            n_vars=n_vars, n_public=n_public, domain_size=domain_size, alpha_g1=alpha_g1, beta_g1=beta_g1,
            beta_g2=beta_g2, gamma_g2=gamma_g2, delta_g1=delta_g1, delta_g2=delta_g2,
            queries={s: sections[s] for s in range(3, 10)}, circuit_hash=mpc[:_HASH_BYTES],
            contributions=tuple(contributions),
        )

    @classmethod
    def read(cls, path: str | Path) -> "Phase2Key":
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise KeyFormatError(f"cannot read the zkey {path}: {error.strerror}") from error
        return cls.from_bytes(data)

    def verifying_key(self) -> VerifyingKey:
        """The key's verifying key; one without contributions is flagged as a development key (prover.trust)."""
        n = len(self.contributions)
        setup = DEVELOPMENT_ZKEY_SETUP if n == 0 else (
            f"snarkjs zkey with {n} phase-2 contribution(s): as trustworthy as its ceremony"
        )
        ic = self.g1_query(3)
        if len(ic) != self.n_public + 1:
            raise KeyFormatError(f"zkey IC holds {len(ic)} points for {self.n_public} public signals")
        return VerifyingKey(alpha_g1=self.alpha_g1, beta_g2=self.beta_g2, gamma_g2=self.gamma_g2,
                            delta_g2=self.delta_g2, gamma_abc_g1=tuple(ic), setup=setup)

    def g1_limbs(self, section: int) -> np.ndarray:
        """A G1 section as (n, 8) Montgomery limbs (its bytes as they are), each row checked to be a point."""
        data = self.queries[section]
        if len(data) % G1_BYTES:
            raise KeyFormatError(f"zkey section {section} is not a whole number of G1 points")
        limbs = np.frombuffer(data, "<u8").reshape(-1, 8).astype(np.uint64)
        bad = first_invalid_g1(limbs)
        if bad >= 0:
            raise KeyFormatError(f"zkey section {section}: point {bad} is not on G1 (or has a coordinate >= q)")
        return limbs

    def g1_query(self, section: int) -> list[G1Affine]:
        data = self.queries[section]
        if len(data) % G1_BYTES:
            raise KeyFormatError(f"zkey section {section} is not a whole number of G1 points")
        return [read_g1_montgomery(data, i) for i in range(0, len(data), G1_BYTES)]


# -- phase 2, step by step -----------------------------------------------------------------------


def _coefficient_section(r1cs: R1CS) -> bytes:
    # In the .r1cs's own order (bn254.iden3 writes each row sorted by wire), as snarkjs copies it.
    entries = []
    for i, (row_a, row_b, _row_c) in enumerate(r1cs.constraints):
        for matrix, row in ((0, row_a), (1, row_b)):
            for wire in sorted(row):
                entries.append(struct.pack("<III", matrix, i, wire) + field_bytes(row[wire] % R * _COEFFICIENT_FACTOR % R))
    one = field_bytes(_COEFFICIENT_FACTOR)
    for wire in range(r1cs.n_public + 1):  # the padding rows w_j * 0 = 0
        entries.append(struct.pack("<III", 0, r1cs.n_constraints + wire, wire) + one)
    return struct.pack("<I", len(entries)) + b"".join(entries)


def new_phase2(r1cs: R1CS, ptau: PowersOfTau) -> Phase2Key:
    """The initial key (delta = 1, no contribution) of `r1cs` on `ptau`: snarkjs `zkey new`, byte for byte.

    Raises PowersOfTauError when the .ptau is too small for the circuit.
    """
    n = 1 << domain_power(r1cs)
    ptau.require_domain(n)
    n_public, n_constraints = r1cs.n_public, r1cs.n_constraints
    tau_l, alpha_l, beta_l = (ptau.lagrange_g1(s, n) for s in (12, 14, 15))
    g1_bases = tau_l + alpha_l + beta_l  # one list, so that IC and L rows can mix them
    tau, alpha, beta = 0, n, 2 * n

    a_rows: list[list[tuple[int, int]]] = [[] for _ in range(r1cs.n_wires)]
    b_rows: list[list[tuple[int, int]]] = [[] for _ in range(r1cs.n_wires)]
    ic_l_rows: list[list[tuple[int, int]]] = [[] for _ in range(r1cs.n_wires)]  # IC for j <= l, L after
    for c, (row_a, row_b, row_c) in enumerate(r1cs.constraints):
        for wire in sorted(row_a):
            a_rows[wire].append((tau + c, row_a[wire]))
            ic_l_rows[wire].append((beta + c, row_a[wire]))
        for wire in sorted(row_b):
            b_rows[wire].append((tau + c, row_b[wire]))
            ic_l_rows[wire].append((alpha + c, row_b[wire]))
        for wire in sorted(row_c):
            ic_l_rows[wire].append((tau + c, row_c[wire]))
    for wire in range(n_public + 1):
        a_rows[wire].append((tau + n_constraints + wire, 1))
        ic_l_rows[wire].append((beta + n_constraints + wire, 1))

    ic = g1_sparse_combinations(g1_bases, ic_l_rows[: n_public + 1])
    l_query = g1_sparse_combinations(g1_bases, ic_l_rows[n_public + 1 :])
    a_query = g1_sparse_combinations(g1_bases, a_rows)
    b1_query = g1_sparse_combinations(g1_bases, b_rows)
    b2_query = g2_sparse_combinations(ptau.lagrange_tau_g2(n), b_rows)
    doubled = ptau.lagrange_g1(12, 2 * n)
    h_query = doubled[1::2]  # odd points of the doubled domain (prover.qap's quotient layout)

    alpha_g1, beta_g1, beta_g2 = ptau.alpha_g1(), ptau.beta_g1(), ptau.beta_g2()
    # [tau^i (tau^n - 1)]_1 = [tau^(i+n)]_1 - [tau^i]_1: what the H points are, before the Lagrange basis
    h_for_hash = g1_sparse_combinations(ptau.tau_powers_g1(2 * n - 1), [[(i + n, 1), (i, R - 1)] for i in range(n - 1)])
    hashed = [
        g1_uncompressed(alpha_g1), g1_uncompressed(beta_g1), g2_uncompressed(beta_g2),
        g2_uncompressed(G2_GENERATOR), g1_uncompressed(G1_GENERATOR), g2_uncompressed(G2_GENERATOR),
        _u32_be(len(ic)), *map(g1_uncompressed, ic),
        _u32_be(n - 1), *map(g1_uncompressed, h_for_hash),
        _u32_be(len(l_query)), *map(g1_uncompressed, l_query),
        _u32_be(len(a_query)), *map(g1_uncompressed, a_query),
        _u32_be(len(b1_query)), *map(g1_uncompressed, b1_query),
        _u32_be(len(b2_query)), *map(g2_uncompressed, b2_query),
    ]
    return Phase2Key(
        n_vars=r1cs.n_wires, n_public=n_public, domain_size=n, alpha_g1=alpha_g1, beta_g1=beta_g1, beta_g2=beta_g2,
        gamma_g2=G2_GENERATOR, delta_g1=G1_GENERATOR, delta_g2=G2_GENERATOR,
        queries={
            3: g1_montgomery_bytes(ic), 4: _coefficient_section(r1cs), 5: g1_montgomery_bytes(a_query),
            6: g1_montgomery_bytes(b1_query), 7: g2_montgomery_bytes(b2_query), 8: g1_montgomery_bytes(l_query),
            9: g1_montgomery_bytes(h_query),
        },
        circuit_hash=_blake2b(b"".join(hashed)), contributions=(),
    )


def _transcript_prefix(key: Phase2Key) -> bytes:
    return key.circuit_hash + b"".join(c.public_key_bytes() for c in key.contributions)


def _apply(key: Phase2Key, rng: ChaCha, *, name: str, beacon_hash: bytes | None, iterations_exp: int) -> Phase2Key:
    secret = fr_from_rng(rng)
    if secret == 0:
        raise InvalidTranscript("the contribution's secret came out zero; contribute again")
    g1_s = g1_from_rng(rng)
    g1_sx = _g1_mul(g1_s, secret)
    transcript = _blake2b(_transcript_prefix(key) + g1_uncompressed(g1_s) + g1_uncompressed(g1_sx))
    g2_spx = _g2_mul(hash_to_g2(transcript), secret)
    delta_g1, delta_g2 = _g1_mul(key.delta_g1, secret), _g2_mul(key.delta_g2, secret)
    inverse = pow(secret, R - 2, R)
    queries = dict(key.queries)
    for section in (8, 9):  # L and H are divided by delta: each point times 1/secret, in the file's own layout
        queries[section] = g1_montgomery_times(key.g1_limbs(section), inverse).astype("<u8").tobytes()
    contribution = Contribution(
        delta_after=delta_g1, g1_s=g1_s, g1_sx=g1_sx, g2_spx=g2_spx, transcript=transcript, name=name,
        beacon_hash=beacon_hash, iterations_exp=iterations_exp,
    )
    return replace(key, delta_g1=delta_g1, delta_g2=delta_g2, queries=queries,
                   contributions=key.contributions + (contribution,))


def contribute(key: Phase2Key, name: str, entropy: str) -> Phase2Key:
    """The key after one more contribution: a secret from the OS's randomness mixed with `entropy`.

    The secret lives only inside this call; the contribution's hash
    (result.contributions[-1].contribution_hash()) is what the contributor publishes.
    """
    if not entropy:
        raise InvalidTranscript("a contribution needs some entropy text (it is mixed with the OS's randomness)")
    return _apply(key, rng_from_entropy(entropy), name=name, beacon_hash=None, iterations_exp=0)


def beacon(key: Phase2Key, name: str, beacon_hash: bytes, iterations_exp: int) -> Phase2Key:
    """The key after a contribution anyone can recompute from a public random value (a future block hash).

    The secret is drawn from SHA-256 iterated 2^iterations_exp times over beacon_hash.
    """
    check_beacon(beacon_hash, iterations_exp)
    return _apply(key, rng_from_beacon(beacon_hash, iterations_exp), name=name, beacon_hash=beacon_hash,
                  iterations_exp=iterations_exp)


# -- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedContribution:
    index: int
    name: str
    contribution_hash: str
    beacon_hash: str | None


def _check_contributions(key: Phase2Key) -> tuple[G1Affine, list[VerifiedContribution]]:
    prefix = key.circuit_hash
    delta = G1_GENERATOR
    verified = []
    for i, c in enumerate(key.contributions, start=1):
        label = f"contribution #{i}" + (f" ({c.name})" if c.name else "")
        if _blake2b(prefix + g1_uncompressed(c.g1_s) + g1_uncompressed(c.g1_sx)) != c.transcript:
            raise InvalidTranscript(f"{label}: its transcript hash is not that of the contributions before it")
        g2_sp = hash_to_g2(c.transcript)
        if not same_ratio(c.g1_s, c.g1_sx, g2_sp, c.g2_spx):
            raise InvalidTranscript(f"{label}: its G1 and G2 public keys do not have the same ratio")
        if not same_ratio(delta, c.delta_after, g2_sp, c.g2_spx):
            raise InvalidTranscript(f"{label}: its delta does not follow from the previous one by its public key")
        if c.is_beacon:
            rng = rng_from_beacon(c.beacon_hash, c.iterations_exp)
            secret = fr_from_rng(rng)
            g1_s = g1_from_rng(rng)
            if (g1_s, _g1_mul(g1_s, secret)) != (c.g1_s, c.g1_sx):
                raise InvalidTranscript(f"{label}: its key is not the one its beacon yields")
        prefix += c.public_key_bytes()
        delta = c.delta_after
        verified.append(VerifiedContribution(
            index=i, name=c.name, contribution_hash=c.contribution_hash().hex(),
            beacon_hash=c.beacon_hash.hex() if c.beacon_hash is not None else None,
        ))
    return delta, verified


def _query_divided_by_delta(initial: Sequence[G1Affine], final: Sequence[G1Affine], delta_g2: G2Affine,
                            what: str) -> None:
    # final_i = initial_i / delta for all i, checked at once on a random combination (sound but for
    # probability 2^-64 per check): e(sum r_i initial_i, [1]_2) = e(sum r_i final_i, [delta]_2).
    if len(initial) != len(final):
        raise InvalidTranscript(f"the {what} section holds {len(final)} points, the circuit needs {len(initial)}")
    if not initial:
        return
    weights = [secrets.randbits(_CHECK_SCALAR_BITS) | 1 for _ in range(len(initial))]
    backend = get_backend()
    combined_initial, combined_final = backend.g1_msm(initial, weights), backend.g1_msm(final, weights)
    if combined_initial == G1_INFINITY and combined_final == G1_INFINITY:
        return
    if not same_ratio(combined_initial, combined_final, delta_g2, G2_GENERATOR):
        raise InvalidTranscript(f"the {what} section is not the initial one divided by delta")


def verify_transcript(r1cs: R1CS, ptau: PowersOfTau, key: Phase2Key) -> list[VerifiedContribution]:
    """The contributions of `key`, each verified, first to last; raises InvalidTranscript otherwise.

    KeyMismatch when the key was made for another circuit or other powers of tau.
    """
    initial = new_phase2(r1cs, ptau)
    if (key.n_vars, key.n_public, key.domain_size) != (initial.n_vars, initial.n_public, initial.domain_size):
        raise KeyMismatch(
            f"the zkey has {key.n_vars} wires, {key.n_public} public signals and a domain of {key.domain_size}; "
            f"the circuit {initial.n_vars}, {initial.n_public} and {initial.domain_size}"
        )
    if key.circuit_hash != initial.circuit_hash:
        raise KeyMismatch("the zkey's circuit hash is not that of this circuit on these powers of tau")
    for what, got, expected in (("alpha_1", key.alpha_g1, initial.alpha_g1), ("beta_1", key.beta_g1, initial.beta_g1),
                                ("beta_2", key.beta_g2, initial.beta_g2), ("gamma_2", key.gamma_g2, initial.gamma_g2)):
        if got != expected:
            raise InvalidTranscript(f"the zkey's {what} is not that of the powers of tau")
    for section, what in ((3, "IC"), (4, "coefficients"), (5, "A"), (6, "B1"), (7, "B2")):
        if key.queries[section] != initial.queries[section]:
            raise InvalidTranscript(f"the zkey's {what} section differs from the one the circuit and ptau give")
    delta, verified = _check_contributions(key)
    if key.delta_g1 != delta:
        raise InvalidTranscript("the zkey's delta_1 is not the last contribution's")
    if not same_ratio(G1_GENERATOR, key.delta_g1, G2_GENERATOR, key.delta_g2):
        raise InvalidTranscript("the zkey's delta_2 does not match its delta_1")
    for section, what in ((8, "L"), (9, "H")):  # as the kernels hold them: no int per point
        _query_divided_by_delta(PointRun(initial.queries[section], 1), PointRun(key.g1_limbs(section), 1),
                                key.delta_g2, what)
    return verified
