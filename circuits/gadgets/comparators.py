"""Equality and order comparisons, sound for any field input.

circomlib's `LessThan(n)` (comparators.circom) is only sound when the caller
has already range-checked both operands to n bits. Here every order gadget
range-checks its operands itself; pass a `RangeChecked` (what `range_check`,
`signed_range_check` and every comparison output return) to reuse an earlier
check instead of paying for it again.

Operands are n-bit integers, unsigned ([0, 2^n)) or, with signed=True, two's
complement ([-2^(n-1), 2^(n-1)), a negative v being the field element r + v).
n <= 252, so that the difference a - b + 2^n fits in 253 bits < r.
"""

from __future__ import annotations

from bn254.field import inverse
from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets.bits import MAX_UNIQUE_BITS, range_check, signed_range_check, to_bits
from circuits.lc import Boolean, Operand, RangeChecked, as_lc

MAX_COMPARE_BITS = MAX_UNIQUE_BITS - 1
"""Widest operands the order comparisons accept: a - b + 2^n needs n + 1 <= 253 bits."""


def is_zero(cs: ConstraintSystem, x: Operand) -> Boolean:
    """[x == 0] as a Boolean; two constraints (circomlib `IsZero`).

    With a hint inv (x^-1, or 0 when x = 0) and p = x * inv:
        x * inv = p          -> if x = 0 then p = 0
        x * (1 - p) = 0      -> if x != 0 then p = 1
    so out = 1 - p is exactly [x == 0]; inv is free only when x = 0, where it
    does not affect out.
    """
    x = as_lc(x)
    if x.is_constant:
        return Boolean.constant_bit(x.const == 0)
    with cs.scope("is_zero"):
        inv = cs.hint(inverse(x.value) if x.value else 0, "inverse")
        p = cs.mul(x, inv, "x_times_inverse")
        cs.enforce(x, 1 - p, 0, "zero_or_one")
    return Boolean(1 - p)


def is_equal(cs: ConstraintSystem, a: Operand, b: Operand) -> Boolean:
    """[a == b] as a Boolean: is_zero(a - b); two constraints (circomlib `IsEqual`)."""
    with cs.scope("is_equal"):
        return is_zero(cs, as_lc(a) - b)


def assert_equal(cs: ConstraintSystem, a: Operand, b: Operand, name: str = "equal") -> None:
    """Constrain a = b; one constraint (none when both are the same constant)."""
    cs.enforce_equal(a, b, name)


def assert_nonzero(cs: ConstraintSystem, x: Operand) -> None:
    """Constrain x != 0 by exhibiting its inverse: x * inv = 1; one constraint."""
    x = as_lc(x)
    with cs.scope("nonzero"):
        inv = cs.hint(inverse(x.value) if x.value else 0, "inverse")
        cs.enforce(x, inv, 1, "x_times_inverse_is_one")


def _check_operand(cs: ConstraintSystem, x: Operand, n_bits: int, signed: bool, name: str) -> RangeChecked:
    """x range-checked to the n-bit window (reusing an earlier check that fits)."""
    if not 1 <= n_bits <= MAX_COMPARE_BITS:
        raise CircuitError(f"comparison width must be in [1, {MAX_COMPARE_BITS}], got {n_bits}")
    with cs.scope(name):
        if signed:
            return signed_range_check(cs, x, n_bits)
        return range_check(cs, x, n_bits)


def less_than(cs: ConstraintSystem, a: Operand, b: Operand, n_bits: int, *, signed: bool = False) -> Boolean:
    """[a < b] as a Boolean, for a, b n-bit integers (both range-checked here unless already).

    With a, b in the same window of width 2^n, d = a - b + 2^n lies in [1, 2^(n+1))
    as an integer, and bit n of d is 1 exactly when a >= b (circomlib `LessThan`).
    Cost: n + 2 constraints for d, plus n + 1 per operand not already checked.
    """
    with cs.scope("less_than"):
        a = _check_operand(cs, a, n_bits, signed, "a")
        b = _check_operand(cs, b, n_bits, signed, "b")
        bits = to_bits(cs, a - b + (1 << n_bits), n_bits + 1)
    return bits[n_bits].negate()


def less_equal(cs: ConstraintSystem, a: Operand, b: Operand, n_bits: int, *, signed: bool = False) -> Boolean:
    """[a <= b] = 1 - [b < a]; same cost as less_than."""
    return less_than(cs, b, a, n_bits, signed=signed).negate()


def greater_than(cs: ConstraintSystem, a: Operand, b: Operand, n_bits: int, *, signed: bool = False) -> Boolean:
    """[a > b] = [b < a]; same cost as less_than."""
    return less_than(cs, b, a, n_bits, signed=signed)


def greater_equal(cs: ConstraintSystem, a: Operand, b: Operand, n_bits: int, *, signed: bool = False) -> Boolean:
    """[a >= b] = 1 - [a < b]; same cost as less_than."""
    return less_than(cs, a, b, n_bits, signed=signed).negate()


def assert_less_than(cs: ConstraintSystem, a: Operand, b: Operand, n_bits: int, *, signed: bool = False) -> None:
    """Constrain a < b for n-bit integers a, b (both range-checked here unless already).

    b - a - 1 lies in [-2^n, 2^n - 1) as an integer; constraining it to [0, 2^n)
    accepts exactly a < b, since a negative value is r - k >= r - 2^n > 2^n in
    the field. Cost: n + 1, plus n + 1 per operand not already checked.
    """
    with cs.scope("assert_less_than"):
        a = _check_operand(cs, a, n_bits, signed, "a")
        b = _check_operand(cs, b, n_bits, signed, "b")
        range_check(cs, b - a - 1, n_bits)


def assert_less_equal(cs: ConstraintSystem, a: Operand, b: Operand, n_bits: int, *, signed: bool = False) -> None:
    """Constrain a <= b for n-bit integers: b - a in [0, 2^n). Cost as assert_less_than."""
    with cs.scope("assert_less_equal"):
        a = _check_operand(cs, a, n_bits, signed, "a")
        b = _check_operand(cs, b, n_bits, signed, "b")
        range_check(cs, b - a, n_bits)

