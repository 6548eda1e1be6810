"""Booleans, bit decompositions and range checks.

Decompositions and range checks are asked of the system's range-check factory
(`cs.range_checker`, circuits.gadgets.rangecheck), whose mode decides what is
emitted; the functions here are the gadget-level names for its requests.

circomlib's `Num2Bits` (bitify.circom) with the aliasing caveat made explicit:
the decomposition x = sum_{i<n} 2^i b_i over F_r is unique only while
2^n <= r, i.e. n <= 253 for BN254 (2^253 < r < 2^254). `to_bits` refuses
n > 253; `to_bits_canonical` gives all 254 bits and adds the alias check
(the bits, read as an integer, are <= r - 1; circomlib's `AliasCheck`).
"""

from __future__ import annotations

from typing import Sequence

from bn254.constants import R, R_BITS
from circuits.builder import CircuitError, ConstraintSystem
from circuits.lc import LC, Boolean, Operand, RangeChecked, as_lc, linear_combination

MAX_UNIQUE_BITS = R_BITS - 1
"""Widest decomposition that is unique mod r: 2^253 < r."""


def assert_boolean(cs: ConstraintSystem, x: Operand, name: str = "boolean") -> Boolean:
    """Constrain x * (x - 1) = 0 (x in {0, 1}); one constraint, none for a constant 0 or 1."""
    x = as_lc(x)
    cs.enforce(x, x - 1, 0, name)
    return Boolean(x)


def new_boolean(cs: ConstraintSystem, value: int, name: str) -> Boolean:
    """A hint bit pinned to {0, 1} by b * (b - 1) = 0; one constraint."""
    return assert_boolean(cs, cs.hint(value, name), name)


def _require_booleans(*values: object) -> None:
    # The results below are boolean only if the operands are: refuse an unchecked LC.
    for v in values:
        if not isinstance(v, Boolean):
            raise TypeError("expected a Boolean (constrained to {0, 1}); see assert_boolean")


def logical_and(cs: ConstraintSystem, a: Boolean, b: Boolean) -> Boolean:
    """a AND b = a * b; one constraint (a product of booleans is boolean)."""
    _require_booleans(a, b)
    return Boolean(cs.mul(a, b, "and"))


def logical_or(cs: ConstraintSystem, a: Boolean, b: Boolean) -> Boolean:
    """a OR b = a + b - a * b; one constraint."""
    _require_booleans(a, b)
    return Boolean(a + b - cs.mul(a, b, "or"))


def logical_xor(cs: ConstraintSystem, a: Boolean, b: Boolean) -> Boolean:
    """a XOR b = a + b - 2 a b; one constraint."""
    _require_booleans(a, b)
    return Boolean(a + b - 2 * cs.mul(a, b, "xor"))


def to_bits(cs: ConstraintSystem, x: Operand, n_bits: int) -> list[Boolean]:
    """Little-endian bits b_0..b_{n-1} of x; n + 1 constraints (`cs.range_checker.decompose`).

    Constrains b_i * (b_i - 1) = 0 for each i and sum_i 2^i b_i = x. Since
    n <= 253 and 2^253 < r, this holds only when x, as an integer in [0, r), is
    below 2^n, and then the bits are its binary digits (unique). A constant x
    gives constant bits and no constraint (CircuitError if it does not fit).
    """
    return cs.range_checker.decompose(x, n_bits)


def from_bits(bits: Sequence[Boolean]) -> LC:
    """sum_i 2^i b_i for little-endian bits; free."""
    return linear_combination((1 << i, b) for i, b in enumerate(bits))


def range_check(cs: ConstraintSystem, x: Operand, n_bits: int) -> RangeChecked:
    """Constrain 0 <= x < 2^n_bits (x read as an integer in [0, r)) through `cs.range_checker.check`.

    n + 1 constraints in bits mode. Returns x as a RangeChecked, so later gadgets
    need not check it again; already-checked values that fit are returned as they are, for free.
    """
    return cs.range_checker.check(x, n_bits)


def signed_range_check(cs: ConstraintSystem, x: Operand, n_bits: int) -> RangeChecked:
    """Constrain -2^(n-1) <= x < 2^(n-1) (x mod r read in that window) through `cs.range_checker.check_signed`.

    n + 1 constraints in bits mode, done as 0 <= x + 2^(n-1) < 2^n, which for n <= 253 cannot wrap around r.
    """
    return cs.range_checker.check_signed(x, n_bits)


def assert_bits_at_most(cs: ConstraintSystem, bits: Sequence[Boolean], bound: int) -> None:
    """Constrain sum_i 2^i b_i <= bound (an integer constant), bits little-endian and boolean.

    Scanning from the most significant bit, eq_i says "bits i.. equal bound's bits
    i..". Where bound has a 0 and all higher bits are equal, the bit must be 0:
    eq_{i+1} * b_i = 0, and eq_i = eq_{i+1}. Where bound has a 1, eq_i =
    eq_{i+1} * b_i. One constraint per bit below the highest set bit of bound
    (constants fold the rest).
    """
    _require_booleans(*bits)
    if bound < 0:
        raise CircuitError("bound must be non-negative")
    if bound >> len(bits):
        return
    with cs.scope("at_most"):
        equal: LC = LC.constant(1)
        for i in reversed(range(len(bits))):
            if (bound >> i) & 1:
                equal = cs.mul(equal, bits[i], f"prefix_eq{i}")
            else:
                cs.enforce(equal, bits[i], 0, f"bit{i}_below")


def to_bits_canonical(cs: ConstraintSystem, x: Operand) -> list[Boolean]:
    """All 254 little-endian bits of x, the unique ones with sum 2^i b_i = x as integers in [0, r).

    254 bits could also spell x + r (< 2^254) when x < 2^254 - r; the alias check
    sum_i 2^i b_i <= r - 1 rules that out. 255 + (up to 253) constraints.
    """
    x = as_lc(x)
    if x.is_constant:
        return [Boolean.constant_bit((x.const >> i) & 1) for i in range(R_BITS)]
    with cs.scope("bits_canonical"):
        v = x.value
        bits = [new_boolean(cs, (v >> i) & 1, f"bit{i}") for i in range(R_BITS)]
        cs.enforce_equal(from_bits(bits), x, "recompose")
        assert_bits_at_most(cs, bits, R - 1)
    return bits
