"""Linear combinations over the wires of a constraint system, carrying their values.

An `LC` is sum_w coeff_w * wire_w + const over F_r, stored sparsely as
{wire: coeff} (wire 0, the constant one, is kept apart as `const`). Every LC
also carries its value under the witness being built, so one function both
emits constraints and computes the witness (see builder.ConstraintSystem).

Addition, subtraction and scaling by a constant are free: they make a new LC
and no constraint. Multiplying two non-constant LCs needs a constraint, so `*`
refuses it; use `ConstraintSystem.mul`.

`RangeChecked` and `Boolean` are LCs with a fact the circuit has already
constrained; gadgets that consume them skip re-checking (the way arkworks'
`Boolean` and gnark's range-checked variables avoid paying twice). Only the
gadgets that emit the constraints construct them.
"""

from __future__ import annotations

from typing import Iterable, Union

from bn254.constants import R

ONE_WIRE = 0
"""Index of the wire that always holds 1 (iden3/snarkjs convention)."""


class LC:
    """An immutable linear combination sum(coeff * wire) + const with its current value.

    Coefficients are in [1, r) (zero terms are dropped), const and value in [0, r).
    """

    __slots__ = ("terms", "const", "value")

    terms: dict[int, int]
    const: int
    value: int

    def __init__(self, terms: dict[int, int], const: int, value: int) -> None:
        self.terms = terms
        self.const = const
        self.value = value

    @classmethod
    def constant(cls, c: int) -> LC:
        """The constant c mod r (no wire)."""
        c %= R
        return cls({}, c, c)

    @property
    def is_constant(self) -> bool:
        """True when no wire appears (the LC is a circuit constant, not a witness value)."""
        return not self.terms

    def row(self) -> dict[int, int]:
        """This LC as a sparse R1CS row {wire: coeff}, the constant on wire 0."""
        if not self.const:
            return self.terms
        row = dict(self.terms)
        row[ONE_WIRE] = self.const
        return row

    def evaluate(self, values: list[int]) -> int:
        """The LC's value under another assignment of the wires (used to check tampered witnesses)."""
        return (self.const + sum(c * values[w] for w, c in self.terms.items())) % R

    def __add__(self, other: Operand) -> LC:
        if isinstance(other, int):
            return LC(self.terms, (self.const + other) % R, (self.value + other) % R)
        if not isinstance(other, LC):
            return NotImplemented
        if len(other.terms) > len(self.terms):
            small, big = self.terms, other.terms
        else:
            small, big = other.terms, self.terms
        terms = dict(big)
        for w, c in small.items():
            s = (terms.get(w, 0) + c) % R
            if s:
                terms[w] = s
            else:
                del terms[w]
        return LC(terms, (self.const + other.const) % R, (self.value + other.value) % R)

    __radd__ = __add__

    def __neg__(self) -> LC:
        return LC({w: R - c for w, c in self.terms.items()}, -self.const % R, -self.value % R)

    def __sub__(self, other: Operand) -> LC:
        if isinstance(other, int):
            return self + (-other)
        if not isinstance(other, LC):
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other: Operand) -> LC:
        return (-self) + other

    def scale(self, k: int) -> LC:
        """k * self, free (no constraint)."""
        k %= R
        if k == 0:
            return LC({}, 0, 0)
        if k == 1:
            return self
        return LC({w: c * k % R for w, c in self.terms.items()}, self.const * k % R, self.value * k % R)

    def __mul__(self, other: Operand) -> LC:
        if isinstance(other, int):
            return self.scale(other)
        if not isinstance(other, LC):
            return NotImplemented
        if other.is_constant:
            return self.scale(other.const)
        if self.is_constant:
            return other.scale(self.const)
        raise TypeError("the product of two non-constant LCs needs a constraint: use cs.mul(a, b)")

    __rmul__ = __mul__

    def __repr__(self) -> str:
        parts = [f"{c}*w{w}" for w, c in sorted(self.terms.items())]
        if self.const or not parts:
            parts.append(str(self.const))
        return f"LC({' + '.join(parts)} = {self.value})"


Operand = Union[LC, int]
"""What gadgets accept: an LC, or an int meaning the circuit constant int mod r."""


def as_lc(x: Operand) -> LC:
    """Coerce an int (a circuit constant, reduced mod r) or an LC to an LC."""
    if isinstance(x, LC):
        return x
    if isinstance(x, int):
        return LC.constant(x)
    raise TypeError(f"expected an LC or an int, got {type(x).__name__}")


def linear_combination(pairs: Iterable[tuple[int, LC]]) -> LC:
    """sum_i k_i * x_i accumulated in one dict (free; faster than chaining + and *)."""
    terms: dict[int, int] = {}
    const = 0
    value = 0
    for k, x in pairs:
        k %= R
        if not k:
            continue
        const += k * x.const
        value += k * x.value
        for w, c in x.terms.items():
            terms[w] = terms.get(w, 0) + k * c
    reduced = {w: c % R for w, c in terms.items() if c % R}
    return LC(reduced, const % R, value % R)


class RangeChecked(LC):
    """An LC the circuit has constrained to lo <= v < lo + 2^n_bits, v read as an integer.

    The field element x stands for the unique integer v in [lo, lo + 2^n_bits) with
    v = x mod r (unique because 2^n_bits < r). Arithmetic on it returns plain LCs:
    the fact does not survive `+` or `*`.
    """

    __slots__ = ("lo", "n_bits")

    lo: int
    n_bits: int

    def __init__(self, lc: LC, lo: int, n_bits: int) -> None:
        super().__init__(lc.terms, lc.const, lc.value)
        self.lo = lo
        self.n_bits = n_bits

    def within(self, lo: int, n_bits: int) -> bool:
        """True when the checked interval lies inside [lo, lo + 2^n_bits)."""
        return lo <= self.lo and self.lo + (1 << self.n_bits) <= lo + (1 << n_bits)

    @property
    def integer(self) -> int:
        """The integer this value stands for (its field value lifted into [lo, lo + 2^n_bits))."""
        return self.lo + (self.value - self.lo) % R

    def __repr__(self) -> str:
        return f"RangeChecked({LC.__repr__(self)}, [{self.lo}, {self.lo} + 2^{self.n_bits}))"


class Boolean(RangeChecked):
    """An LC the circuit has constrained to {0, 1} (b * (b - 1) = 0, or derived from such)."""

    __slots__ = ()

    def __init__(self, lc: LC) -> None:
        super().__init__(lc, 0, 1)

    @classmethod
    def constant_bit(cls, bit: bool) -> Boolean:
        """The circuit constant 0 or 1 as a Boolean (no wire, no constraint)."""
        return cls(LC.constant(int(bit)))

    def negate(self) -> Boolean:
        """1 - b, free: it is boolean whenever b is."""
        return Boolean(1 - self)

    def __repr__(self) -> str:
        return f"Boolean({LC.__repr__(self)})"
