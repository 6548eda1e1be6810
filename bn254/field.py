"""Arithmetic helpers of the BN254 scalar field F_r (r = bn254.constants.R) on plain ints.

Signed embedding, inverses (one at a time, or many for the price of one with
Montgomery's batch trick) and square roots (Tonelli-Shanks). The modulus and its
constants live in bn254.constants, checked there at import.
"""

from __future__ import annotations

from bn254.constants import MULTIPLICATIVE_GENERATOR, R, TWO_ADICITY


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


def batch_inverse(elements: list[int]) -> list[int]:
    """[1/e for e in elements] in F_r with one exponentiation (Montgomery's trick).

    prefix_i = e_0 * ... * e_i; then 1/e_i = prefix_(i-1) / prefix_i, walked back from
    the one inverse of prefix_(n-1). Raises ZeroDivisionError naming the first zero.
    """
    prefix, acc = [], 1
    for i, e in enumerate(elements):
        e %= R
        if e == 0:
            raise ZeroDivisionError(f"element {i} is 0, which has no inverse in F_r")
        acc = acc * e % R
        prefix.append(acc)
    inverses = [0] * len(elements)
    acc = pow(acc, R - 2, R) if elements else 1
    for i in range(len(elements) - 1, 0, -1):
        inverses[i] = acc * prefix[i - 1] % R
        acc = acc * elements[i] % R
    if elements:
        inverses[0] = acc
    return inverses


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
