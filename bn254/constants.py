"""BN254 (alt_bn128) field and curve constants, checked when the module is imported.

The curve of Ethereum's precompiles (EIP-196: G1 add/mul, EIP-197: pairing):
  G1: y^2 = x^3 + 3 over F_q,
  G2: y^2 = x^3 + 3/(9 + u) over F_q2 = F_q[u]/(u^2 + 1) (the D-type sextic twist),
both of prime order r. q and r are the Barreto-Naehrig polynomials of the curve
parameter U ("Pairing-friendly elliptic curves of prime order", 2005):
  r = 36U^4 + 36U^3 + 18U^2 + 6U + 1,   q = 36U^4 + 36U^3 + 24U^2 + 6U + 1.
r is also the modulus of the scalar field F_r in which every DLPE circuit computes
(snarkjs/circom's `bn128` prime).

The roots of unity are those snarkjs (ffjavascript) uses, so that evaluation
domains agree with snarkjs zkeys: omega_k = 5^((r-1)/2^k), 5 generating F_r^*.

Points travel as plain affine integers, the form every file format, the EVM and
any backend agree on: G1Affine = (x, y); G2Affine = ((x.c0, x.c1), (y.c0, y.c1))
with x = x.c0 + x.c1*u; the point at infinity is all zeros, as in EIP-196/197
((0, 0) is not on the curve).

A typo in any constant fails the import, so it cannot survive to a proof.
"""

from __future__ import annotations

import math

from py_ecc import optimized_bn128 as bn

BN254_U = 4965661367192848881
"""BN254's curve parameter u (also called x or t in the literature)."""

R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""The scalar field modulus r: the order of G1 and G2."""

Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
"""The base field modulus q (coordinates of points live in F_q)."""

R_BITS = 254
"""Bit length of r: 2^253 < r < 2^254."""

FIELD_BYTES = 32
"""Bytes of one F_r or F_q element in every binary format (n8 of the iden3 files)."""

TWO_ADICITY = 28
"""Largest s with 2^s | r - 1 (the NTT domain size limit of Groth16 provers)."""

MULTIPLICATIVE_GENERATOR = 5
"""A generator of F_r^* (the one arkworks and snarkjs use); a quadratic non-residue."""

R_MINUS_ONE_FACTORS = {
    2: 28, 3: 2, 13: 1, 29: 1, 983: 1, 11003: 1, 237073: 1, 405928799: 1, 1670836401704629: 1,
    13818364434197438864469338081: 1,
}
"""r - 1 = prod p^e: what shows that 5 generates F_r^* (libraries that check it otherwise factor r - 1)."""

MAX_DOMAIN_POWER = TWO_ADICITY
"""Evaluation domains of F_r have size at most 2^28."""

CURVE_B = 3
"""b of the G1 equation y^2 = x^3 + b."""

TWIST_B = (
    19485874751759354771024239261021720505790618469301721065564631296452457478373,
    266929791119991161246907387137283842545076965332900288569378510910307636690,
)
"""b' = 3 / (9 + u) of the G2 equation, as (c0, c1)."""

G1Affine = tuple[int, int]
Fq2 = tuple[int, int]
G2Affine = tuple[Fq2, Fq2]

G1_INFINITY: G1Affine = (0, 0)
G2_INFINITY: G2Affine = ((0, 0), (0, 0))

G1_GENERATOR: G1Affine = (1, 2)
G2_GENERATOR: G2Affine = (
    (
        10857046999023057135944570762232829481370756359578518086990519993285655852781,
        11559732032986387107991004021392285783925812861821192530917403151452391805634,
    ),
    (
        8495653923123431417604973247489272438418190587263600148770280649306958101930,
        4082367875863433681332203403145435568316851327593401208105741076214120093531,
    ),
)


def root_of_unity(power: int) -> int:
    """omega_power: the primitive 2^power-th root of unity of F_r that snarkjs uses (Fr.w[power])."""
    if not 0 <= power <= MAX_DOMAIN_POWER:
        raise ValueError(f"F_r has no root of unity of order 2^{power}")
    return pow(MULTIPLICATIVE_GENERATOR, (R - 1) >> power, R)


def _is_probable_prime(n: int) -> bool:
    """Miller-Rabin with the first 20 prime bases (error below 4^-20 for any n)."""
    bases = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71]
    if n in bases:
        return True
    if n < 2 or n % 2 == 0:
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _fq2_mul(a: Fq2, b: Fq2) -> Fq2:
    # (a0 + a1 u)(b0 + b1 u) with u^2 = -1
    return ((a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q)


def _check_constants() -> None:
    u = BN254_U
    if R != 36 * u**4 + 36 * u**3 + 18 * u**2 + 6 * u + 1:
        raise AssertionError("r is not the BN254 group order 36u^4+36u^3+18u^2+6u+1")
    if Q != 36 * u**4 + 36 * u**3 + 24 * u**2 + 6 * u + 1:
        raise AssertionError("q is not the BN254 base field prime 36u^4+36u^3+24u^2+6u+1")
    if R.bit_length() != R_BITS or not _is_probable_prime(R) or not _is_probable_prime(Q):
        raise AssertionError("r or q is not a 254-bit prime")
    if (R - 1) % (1 << TWO_ADICITY) != 0 or ((R - 1) >> TWO_ADICITY) % 2 == 0:
        raise AssertionError("2-adicity of r - 1 is not 28")
    # g generates F_r^* iff g^((r-1)/p) != 1 for every prime p | r - 1.
    if math.prod(p**e for p, e in R_MINUS_ONE_FACTORS.items()) != R - 1 or not all(
        _is_probable_prime(p) for p in R_MINUS_ONE_FACTORS
    ):
        raise AssertionError("R_MINUS_ONE_FACTORS is not the factorisation of r - 1")
    if any(pow(MULTIPLICATIVE_GENERATOR, (R - 1) // p, R) == 1 for p in R_MINUS_ONE_FACTORS):
        raise AssertionError("the multiplicative generator does not generate F_r^*")
    top = root_of_unity(MAX_DOMAIN_POWER)
    if pow(top, 1 << (MAX_DOMAIN_POWER - 1), R) != R - 1:
        raise AssertionError("omega_28 is not a primitive 2^28-th root of unity")
    if _fq2_mul(TWIST_B, (9, 1)) != (CURVE_B, 0):
        raise AssertionError("b' * (9 + u) != 3")
    x, y = G1_GENERATOR
    if (y * y - x**3 - CURVE_B) % Q:
        raise AssertionError("the G1 generator is not on y^2 = x^3 + 3")
    x2, y2 = G2_GENERATOR
    rhs = _fq2_mul(_fq2_mul(x2, x2), x2)
    if _fq2_mul(y2, y2) != ((rhs[0] + TWIST_B[0]) % Q, (rhs[1] + TWIST_B[1]) % Q):
        raise AssertionError("the G2 generator is not on the twist y^2 = x^3 + 3/(9+u)")
    # Cross-check against py_ecc, whose group law then shows both generators have order r
    # (G2's cofactor is 2q - r, so being on the twist is not enough).
    if (Q, R, CURVE_B, TWIST_B) != (bn.field_modulus, bn.curve_order, int(bn.b), tuple(bn.b2.coeffs)):
        raise AssertionError("q, r or the curve coefficients disagree with py_ecc's alt_bn128")
    g2 = (bn.FQ2(G2_GENERATOR[0]), bn.FQ2(G2_GENERATOR[1]), bn.FQ2.one())
    if not bn.eq(g2, bn.G2) or bn.normalize(bn.G1) != (bn.FQ(x), bn.FQ(y)):
        raise AssertionError("generators disagree with py_ecc's")
    if not bn.is_inf(bn.multiply(g2, R)) or not bn.is_inf(bn.multiply(bn.G1, R)):
        raise AssertionError("a generator does not have order r")


_check_constants()
