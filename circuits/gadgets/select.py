"""Selection: a two-way mux and a table lookup by the multilinear extension.

select(b, x, y) = y + b (x - y) is circomlib's `Mux1` in one constraint; b must
be a `Boolean`, which the type records was constrained to {0, 1}, so there is
no precondition for the caller to forget.

A table T of 2^k constants indexed by bits b_0..b_{k-1} (index = sum 2^i b_i)
equals, on Boolean inputs, its multilinear extension

    T(b) = sum_{S subset of [k]} c_S prod_{i in S} b_i,
    c_S  = sum_{U subset of S} (-1)^{|S| - |U|} T[U]     (Moebius inversion),

so once the 2^k - k - 1 products prod_{i in S} b_i with |S| >= 2 are wires, every
table lookup with the same index is a free linear combination of them. That is
what `MultilinearSelector` does: the cost is paid once per index, not per table.
"""

from __future__ import annotations

from typing import Sequence

from circuits.builder import CircuitError, ConstraintSystem
from circuits.lc import LC, Boolean, Operand, as_lc, linear_combination


def select(cs: ConstraintSystem, b: Boolean, x: Operand, y: Operand) -> LC:
    """b ? x : y = y + b * (x - y); one constraint (none when x - y is a constant)."""
    if not isinstance(b, Boolean):
        raise TypeError("select needs a Boolean selector (constrained to {0, 1}); see assert_boolean")
    y = as_lc(y)
    with cs.scope("select"):
        return y + cs.mul(b, as_lc(x) - y, "choose")


class MultilinearSelector:
    """The monomials prod_{i in S} b_i of index bits b_0..b_{k-1}, for free table lookups.

    Building it costs 2^k - k - 1 constraints (each monomial is a smaller one times
    one bit); `lookup(table)` is then free for any number of tables.
    """

    __slots__ = ("index_bits", "monomials")

    def __init__(self, cs: ConstraintSystem, index_bits: Sequence[Boolean]) -> None:
        """Emit the products of the little-endian index bits (index = sum 2^i b_i)."""
        if not index_bits:
            raise CircuitError("a table selector needs at least one index bit")
        for b in index_bits:
            if not isinstance(b, Boolean):
                raise TypeError("index bits must be Booleans (constrained to {0, 1}); see to_bits")
        self.index_bits = list(index_bits)
        monomials: list[LC] = [LC.constant(1)]
        with cs.scope("monomials"):
            for i, b in enumerate(self.index_bits):
                # monomials of subsets containing bit i = (subsets of bits < i) * b_i
                for mask in range(1 << i):
                    m = monomials[mask]
                    monomials.append(b if mask == 0 else cs.mul(m, b, f"m{mask | (1 << i)}"))
        self.monomials = monomials

    def lookup(self, table: Sequence[int]) -> LC:
        """table[index] as an LC of the monomials; free. table holds 2^k integer constants (mod r)."""
        k = len(self.index_bits)
        if len(table) != 1 << k:
            raise CircuitError(f"table must have 2^{k} = {1 << k} entries, got {len(table)}")
        coeffs = list(table)
        # Moebius inversion over subsets: c_S = sum_{U subset S} (-1)^{|S|-|U|} T[U]
        for i in range(k):
            bit = 1 << i
            for mask in range(1 << k):
                if mask & bit:
                    coeffs[mask] -= coeffs[mask ^ bit]
        return linear_combination(zip(coeffs, self.monomials))
