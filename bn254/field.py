"""The BN254 (alt_bn128) scalar field F_r, in which every DLPE circuit computes.

r is the order of the BN254 G1/G2 groups used by Ethereum's EIP-196/197
precompiles; a BN curve with parameter u has r = 36u^4 + 36u^3 + 18u^2 + 6u + 1
(Barreto-Naehrig, "Pairing-friendly elliptic curves of prime order", 2005).
The constants are checked when the module is imported, so a typo cannot
survive to a proof.
"""

from __future__ import annotations

# BN254's curve parameter u (also called x or t in the literature).
BN254_U = 4965661367192848881

R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""The BN254 scalar field modulus r (snarkjs/circom's `bn128` prime)."""

R_BITS = 254
"""Bit length of r: 2^253 < r < 2^254."""

TWO_ADICITY = 28
"""Largest s with 2^s | r - 1 (the NTT domain size limit of Groth16 provers)."""

MULTIPLICATIVE_GENERATOR = 5
"""A generator of F_r^* (the one arkworks and snarkjs use)."""


def to_field(value: int) -> int:
    """The field element of an integer: value mod r (so -1 maps to r - 1)."""
    return value % R


def to_signed(element: int) -> int:
    """The integer in (-r/2, r/2] congruent to a field element (inverse of to_field on that window)."""
    element %= R
    return element - R if element > R // 2 else element


def inverse(element: int) -> int:
    """Multiplicative inverse in F_r; raises ZeroDivisionError for 0."""
    element %= R
    if element == 0:
        raise ZeroDivisionError("0 has no inverse in F_r")
    return pow(element, R - 2, R)


def sqrt(element: int) -> int | None:
    """A square root of a field element (Tonelli-Shanks), or None when it is not a square."""
    element %= R
    if element == 0:
        return 0
    if pow(element, (R - 1) // 2, R) != 1:
        return None
    odd = (R - 1) >> TWO_ADICITY
    # Invariants: root^2 = element * t, and t has order dividing 2^m.
    m = TWO_ADICITY
    c = pow(MULTIPLICATIVE_GENERATOR, odd, R)
    t = pow(element, odd, R)
    root = pow(element, (odd + 1) // 2, R)
    while t != 1:
        i, t2i = 0, t
        while t2i != 1:
            t2i = t2i * t2i % R
            i += 1
        b = pow(c, 1 << (m - i - 1), R)
        m, c = i, b * b % R
        t, root = t * c % R, root * b % R
    return root


def _is_probable_prime(n: int) -> bool:
    """Miller-Rabin with the first 20 prime bases (error below 4^-20 for any n)."""
    bases = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71]
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


def _check_constants() -> None:
    u = BN254_U
    if R != 36 * u**4 + 36 * u**3 + 18 * u**2 + 6 * u + 1:
        raise AssertionError("r is not the BN254 group order 36u^4+36u^3+18u^2+6u+1")
    if R.bit_length() != R_BITS or not _is_probable_prime(R):
        raise AssertionError("r is not a 254-bit prime")
    if (R - 1) % (1 << TWO_ADICITY) != 0 or ((R - 1) >> TWO_ADICITY) % 2 == 0:
        raise AssertionError("2-adicity of r - 1 is not 28")
    # g generates F_r^* iff g^((r-1)/q) != 1 for every prime q | r - 1; checking q = 2
    # is what sqrt() relies on (g is a non-residue).
    if pow(MULTIPLICATIVE_GENERATOR, (R - 1) // 2, R) != R - 1:
        raise AssertionError("the multiplicative generator is a quadratic residue")


_check_constants()
