"""Fixed-point arithmetic in the circuit: the integers of engine/fixed.py, constrained.

A `Fixed` is a wire (an LC) whose field value is X mod r for a signed integer X,
together with integer bounds lo <= X <= hi that the constraints already imply. Every
gadget here computes its witness by calling the engine's fixed-point function and
then constrains the result, so the proven integer is the engine's integer.

Soundness rests on one rule: an equation between two integer expressions holds over
the integers when it holds mod r and both sides lie in (-r/2, r/2). Each gadget
derives both sides' bounds from its operands' bounds (interval arithmetic) and
refuses, at build time, a combination that could wrap. Rounding a value V by s bits
is the check V + 2^(s-1) = q·2^s + rem with rem in [0, 2^s) and q range-checked:
with no wrap-around this pins q = floor((V + 2^(s-1)) / 2^s), the engine's rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

from bn254.constants import R
from bn254.field import to_signed
from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets.bits import new_boolean, range_check, to_bits
from circuits.gadgets.select import select
from circuits.lc import LC, Boolean, Operand, as_lc
from engine import fixed as fx

HALF_R = R // 2


@dataclass(frozen=True)
class Fixed:
    """A fixed-point value (scale 2^-48) on a wire, with integer bounds lo <= X <= hi already constrained.

    bits, when present, are the little-endian Booleans of X - lo from the range check
    that proved the bounds (reused by gadgets that need X's binary digits).
    """

    lc: LC
    lo: int
    hi: int
    bits: tuple[Boolean, ...] | None = None

    @property
    def value(self) -> int:
        """The signed integer X of the witness being built."""
        return to_signed(self.lc.value)

    @classmethod
    def constant(cls, x: int) -> Fixed:
        return cls(LC.constant(x), x, x)

    def __add__(self, other: Fixed) -> Fixed:
        return Fixed(self.lc + other.lc, self.lo + other.lo, self.hi + other.hi)

    def __sub__(self, other: Fixed) -> Fixed:
        return Fixed(self.lc - other.lc, self.lo - other.hi, self.hi - other.lo)

    def __neg__(self) -> Fixed:
        return Fixed(-self.lc, -self.hi, -self.lo)

    def shift_const(self, c: int) -> Fixed:
        """X + c for an integer constant c (free)."""
        return Fixed(self.lc + c, self.lo + c, self.hi + c)


def _require_no_wrap(lo: int, hi: int, where: str) -> None:
    if lo <= -HALF_R or hi >= HALF_R:
        raise CircuitError(f"{where}: integer range [{lo}, {hi}] could wrap around r")


def _product_bounds(a_lo: int, a_hi: int, b_lo: int, b_hi: int) -> tuple[int, int]:
    corners = (a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi)
    return min(corners), max(corners)


def bounded(cs: ConstraintSystem, x: Operand, lo: int, hi: int, name: str) -> Fixed:
    """Constrain lo <= x <= hi exactly: x - lo in [0, 2^n), n = bit_length(hi - lo), plus hi - x in
    [0, 2^n) unless hi - lo + 1 = 2^n. The result keeps the bits of x - lo (for packing)."""
    x = as_lc(x)
    n = max(1, (hi - lo).bit_length())
    with cs.scope(name):
        with cs.scope("above_lo"), cs.scope("range"):
            bits = to_bits(cs, x - lo, n)
        if (hi - lo + 1) != 1 << n:
            with cs.scope("below_hi"):
                range_check(cs, hi - x, n)
    return Fixed(x, lo, hi, tuple(bits))


def at_least(cs: ConstraintSystem, x: Fixed, lo: int, name: str) -> Fixed:
    """Constrain x >= lo with one range check of x - lo to the width its known upper bound needs."""
    with cs.scope(name):
        range_check(cs, x.lc - lo, max(1, (x.hi - lo).bit_length()))
    return Fixed(x.lc, lo, x.hi)


def fixed_input(cs: ConstraintSystem, name: str, value: int, lo: int, hi: int, *, public: bool) -> Fixed:
    """Declare an input X (mod r) and constrain lo <= X <= hi, the domain the engine declares for it."""
    wire = cs.public_input(name, value) if public else cs.private_input(name, value)
    return bounded(cs, wire, lo, hi, f"{name}_domain")


def _quotient(cs: ConstraintSystem, v: int, q_lo: int, q_hi: int, name: str, keep_bits: bool = False) -> Fixed:
    """A hint q constrained to [q_lo, q_lo + 2^n) with 2^n > q_hi - q_lo (one range check).

    keep_bits: the caller reads the bits of q - q_lo, so they are asked of the
    range-check factory as a decomposition and kept on the result.
    """
    n = max(1, (q_hi - q_lo).bit_length())
    q = cs.hint(v, name)
    if not keep_bits:
        range_check(cs, q - q_lo, n)
        return Fixed(q, q_lo, q_lo + (1 << n) - 1)
    with cs.scope("range"):
        bits = to_bits(cs, q - q_lo, n)
    return Fixed(q, q_lo, q_lo + (1 << n) - 1, tuple(bits))


def round_product(cs: ConstraintSystem, a: Operand, b: Operand, ab_bounds: tuple[int, int], addend: Operand,
                  addend_bounds: tuple[int, int], shift: int, q_bounds: tuple[int, int] | None = None,
                  name: str = "round", *, keep_bits: bool = False) -> Fixed:
    """q = fx.round_shift(a·b + addend, shift): round half up, in one product constraint plus two range checks.

    Constrains a·b = q·2^shift + rem - addend - 2^(shift-1) with rem in [0, 2^shift) and
    q in q_bounds (default: the rounded bounds of a·b + addend, which always hold; a
    caller may pass tighter ones it can justify). ab_bounds and addend_bounds bound the
    integers a·b and addend; the build refuses bounds that could wrap around r.
    keep_bits: the result carries the bits of q - q_lo (for a caller that reads them).
    """
    a, b, addend = as_lc(a), as_lc(b), as_lc(addend)
    half_unit = 1 << (shift - 1)
    lo = ab_bounds[0] + addend_bounds[0] + half_unit
    hi = ab_bounds[1] + addend_bounds[1] + half_unit
    q_lo, q_hi = q_bounds if q_bounds else (lo >> shift, hi >> shift)
    exact = to_signed(a.value) * to_signed(b.value) + to_signed(addend.value)
    with cs.scope(name):
        q = _quotient(cs, fx.round_shift(exact, shift), q_lo, q_hi, "quotient", keep_bits)
        rem = cs.hint((exact + half_unit - q.lc.value * (1 << shift)) % R, "remainder")
        range_check(cs, rem, shift)
        _require_no_wrap(lo, hi, cs.current_scope)
        _require_no_wrap(q.lo << shift, (q.hi + 1) << shift, cs.current_scope)
        cs.enforce(a, b, q.lc * (1 << shift) + rem - addend - half_unit, "a_times_b_is_q_shift_plus_rem")
    return q


def mul(cs: ConstraintSystem, a: Fixed, b: Fixed, q_bounds: tuple[int, int] | None = None, name: str = "mul") -> Fixed:
    """fx.mul(a, b) = round(a·b / 2^48): one product constraint plus the remainder and quotient checks."""
    ab = _product_bounds(a.lo, a.hi, b.lo, b.hi)
    return round_product(cs, a.lc, b.lc, ab, 0, (0, 0), fx.FRAC_BITS, q_bounds, name)


def half(cs: ConstraintSystem, a: Fixed, name: str = "half") -> Fixed:
    """fx.half(a) = round(a / 2): a + 1 = 2q + bit."""
    return round_product(cs, a.lc, 1, (a.lo, a.hi), 0, (0, 0), 1, None, name)


def div(cs: ConstraintSystem, a: Fixed, b: Fixed, q_bounds: tuple[int, int], name: str = "div") -> Fixed:
    """fx.div(a, b) = floor((2·a·2^48 + b) / 2b) for b >= 1 (b's bounds must say so).

    Constrains 2b·q + rem = 2·a·2^48 + b with 0 <= rem <= 2b - 1 (two range checks on
    rem), which pins q when neither side wraps. q_bounds is the caller's bound on the
    quotient (it must contain the engine's value; the range check enforces it).
    """
    if b.lo < 1:
        raise CircuitError(f"{cs.current_scope}/{name}: divisor must be constrained >= 1, bounds [{b.lo}, {b.hi}]")
    a_v, b_v = a.value, b.value
    numerator = a.lc * (2 << fx.FRAC_BITS) + b.lc
    num_v = 2 * (a_v << fx.FRAC_BITS) + b_v
    with cs.scope(name):
        q = _quotient(cs, num_v // (2 * b_v) if b_v > 0 else 0, q_bounds[0], q_bounds[1], "quotient")
        rem = cs.hint(num_v - 2 * b_v * to_signed(q.lc.value), "remainder")
        n = (2 * b.hi).bit_length()
        with cs.scope("rem_nonneg"):
            range_check(cs, rem, n)
        with cs.scope("rem_below_2b"):
            range_check(cs, b.lc * 2 - 1 - rem, n)
        num_lo = a.lo * (2 << fx.FRAC_BITS) + b.lo - (1 << n)
        num_hi = a.hi * (2 << fx.FRAC_BITS) + b.hi
        _require_no_wrap(num_lo, num_hi, cs.current_scope)
        _require_no_wrap(*_product_bounds(2 * b.lo, 2 * b.hi, q.lo, q.hi), cs.current_scope)
        cs.enforce(b.lc * 2, q.lc, numerator - rem, "two_b_q_plus_rem")
    return q


def sqrt(cs: ConstraintSystem, a: Fixed, name: str = "sqrt") -> Fixed:
    """fx.sqrt(a) = floor(sqrt(a·2^48) + 1/2) for a >= 0 (a's bounds must say so).

    With X = 4·a·2^48 and hint j (= isqrt X): j² <= X <= j² + 2j pins j; then
    s = (j + 1) >> 1 = (j >> 1) + bit0(j), read off j's bits (free).
    """
    if a.lo < 0:
        raise CircuitError(f"{cs.current_scope}/{name}: operand must be constrained >= 0, bounds [{a.lo}, {a.hi}]")
    x_lc = a.lc * (4 << fx.FRAC_BITS)
    x_hi = a.hi * (4 << fx.FRAC_BITS)
    n = max(1, isqrt(x_hi).bit_length())
    with cs.scope(name):
        j_value = isqrt(max(0, a.value * (4 << fx.FRAC_BITS)))
        j_bits = to_bits(cs, cs.hint(j_value, "isqrt"), n)
        j = sum((b.scale(1 << i) for i, b in enumerate(j_bits)), LC.constant(0))
        jj = cs.mul(j, j, "j_squared")
        # X - j² in [0, 2j]: both X - j² and 2j - (X - j²) are in [0, 2^(n+1))
        with cs.scope("lower"):
            range_check(cs, x_lc - jj, n + 2)
        with cs.scope("upper"):
            range_check(cs, j * 2 - (x_lc - jj), n + 2)
        _require_no_wrap(-(1 << (2 * n + 2)), x_hi + (1 << (2 * n + 2)), cs.current_scope)
        s = sum((b.scale(1 << (i - 1)) for i, b in enumerate(j_bits) if i), LC.constant(0)) + j_bits[0]
    return Fixed(s, 0, (isqrt(x_hi) + 1) >> 1)


def absolute(cs: ConstraintSystem, x: Fixed, name: str = "abs") -> Fixed:
    """|x|: a sign hint picks x or -x and a range check proves the pick is >= 0.

    A wrong sign bit gives -|x| < 0, which the range check refuses, except at x = 0,
    where both picks are 0: the output is unique either way.
    """
    with cs.scope(name):
        nonnegative = new_boolean(cs, int(x.value >= 0), "nonnegative")
        lc = select(cs, nonnegative, x.lc, -x.lc)
        hi = max(-x.lo, x.hi)
        range_check(cs, lc, max(hi, 1).bit_length())
    return Fixed(lc, 0, hi)
