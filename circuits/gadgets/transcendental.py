"""exp, ln and the normal pdf/cdf in the circuit: engine/fixed.py's integers, constrained.

Each function repeats the engine's algorithm step by step: a range reduction whose
integer and fractional parts are read off one bit decomposition, a piecewise
polynomial whose coefficients are selected by the top bits of the reduced argument
(a multilinear table lookup: the coefficient is a free linear combination of the
index-bit monomials), Horner's rule with exact products and one rounding every
fx.HORNER_GROUP steps, and a final rounding. Every hint is pinned on the spot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets.bits import new_boolean, to_bits
from circuits.gadgets.comparators import is_zero
from circuits.gadgets.fixed import Fixed, _product_bounds, _require_no_wrap, round_product
from circuits.gadgets.select import MultilinearSelector, select
from circuits.lc import LC, Boolean, linear_combination
from engine import fixed as fx
from engine import fixed_tables as tables

F = fx.FRAC_BITS
GUARD = fx.COEF_BITS - F  # the tables' extra bits, dropped by each function's final rounding


def _from_bits(bits: Sequence[Boolean], offset: int = 0) -> LC:
    """offset + sum_i 2^i b_i (free)."""
    return linear_combination((1 << i, b) for i, b in enumerate(bits)) + offset


def _pow2(cs: ConstraintSystem, exponent_bits: Sequence[Boolean]) -> Fixed:
    """2^e for e = sum 2^i e_i, as the exact integer prod_i (1 + (2^(2^i) - 1)·e_i): len - 1 constraints."""
    with cs.scope("pow2"):
        acc: LC = 1 + exponent_bits[0]
        for i, e in enumerate(exponent_bits[1:], start=1):
            acc = cs.mul(acc, 1 + e.scale((1 << (1 << i)) - 1), f"factor{i}")
    return Fixed(acc, 1, 1 << ((1 << len(exponent_bits)) - 1))


def horner(cs: ConstraintSystem, coeffs: Sequence[tuple[LC, int, int]], u: Fixed) -> Fixed:
    """fx.horner(c, u): sum_i c_i·u^i at scale 2^COEF_BITS; coeffs as (LC, lo, hi) per power.

    While `owed` roundings are pending the accumulator is the exact integer at scale
    2^(COEF_BITS + 48·owed); a product that ends a group is folded into the rounding
    constraint, the others become product wires (exact, bounded, no range check).
    """
    acc_lc, acc_lo, acc_hi = coeffs[-1]
    owed = 0
    steps = len(coeffs) - 1
    with cs.scope("horner"):
        for step, (c_lc, c_lo, c_hi) in enumerate(reversed(coeffs[:-1]), start=1):
            owed += 1
            scale = 1 << (F * owed)
            ab_lo, ab_hi = _product_bounds(acc_lo, acc_hi, u.lo, u.hi)
            if owed == fx.HORNER_GROUP or step == steps:
                q = round_product(cs, acc_lc, u.lc, (ab_lo, ab_hi), c_lc.scale(scale), (c_lo * scale, c_hi * scale),
                                  F * owed, name=f"round{step}")
                acc_lc, acc_lo, acc_hi = q.lc, q.lo, q.hi
                owed = 0
            else:
                _require_no_wrap(ab_lo, ab_hi, cs.current_scope)
                acc_lc = cs.mul(acc_lc, u.lc, f"step{step}") + c_lc.scale(scale)
                acc_lo, acc_hi = ab_lo + c_lo * scale, ab_hi + c_hi * scale
    return Fixed(acc_lc, acc_lo, acc_hi)


@dataclass(frozen=True)
class PieceArgument:
    """A reduced argument split for a piecewise table: the piece selector and the centred offset u."""

    selector: MultilinearSelector
    u: Fixed


def piece_argument(cs: ConstraintSystem, frac_bits: Sequence[Boolean], index_bits: Sequence[Boolean],
                   piece_bits: int) -> PieceArgument:
    """u = (low bits) - 2^(F-b-1), the offset from the piece centre (as fx.piece_and_offset), and the selector.

    frac_bits are the F - piece_bits bits below the index; index_bits the piece index.
    """
    width = 1 << (F - piece_bits)
    if len(frac_bits) != F - piece_bits:
        raise CircuitError(f"expected {F - piece_bits} offset bits, got {len(frac_bits)}")
    u = Fixed(_from_bits(frac_bits, -(width >> 1)), -(width >> 1), (width >> 1) - 1)
    with cs.scope("index"):
        selector = MultilinearSelector(cs, index_bits)
    return PieceArgument(selector, u)


def table_poly(cs: ConstraintSystem, arg: PieceArgument, table: Sequence[Sequence[int]], name: str) -> Fixed:
    """The table's polynomial for the selected piece at arg.u, at scale 2^COEF_BITS (not yet rounded)."""
    coeffs = []
    for i in range(len(table[0])):
        column = [row[i] for row in table]
        coeffs.append((arg.selector.lookup(column), min(column), max(column)))
    with cs.scope(name):
        return horner(cs, coeffs, arg.u)


def _drop_guard(cs: ConstraintSystem, p: Fixed, addend: LC | int = 0, addend_bounds=(0, 0),
                q_bounds: tuple[int, int] | None = None, shift: int = GUARD) -> Fixed:
    """round_shift(p + addend, shift): back from the tables' scale to 2^-48."""
    return round_product(cs, p.lc, 1, (p.lo, p.hi), addend, addend_bounds, shift, q_bounds, name="to_frac_bits")


# ---------------------------------------------------------------- exp

EXP_ARG_BOUND = 32 * fx.ONE
EXP_BIAS = 47  # y + 47 lies in [0, 128) for |x| <= 32: the biased exponent has 7 bits


def exp(cs: ConstraintSystem, x: Fixed, out_bounds: tuple[int, int], name: str = "exp") -> Fixed:
    """fx.exp(x) for x constrained to [-32, 32]; out_bounds must contain every result for x's bounds.

    y = round(x·log2 e) is the quotient of one rounding whose range check decomposes
    y + 47·2^48 into 55 bits: the low 48 are f, the top 7 are e = n + 47. Then
    2^f from the EXP2 table (index: top 3 bits of f) and
    exp = round(2^f·2^56 · 2^e / 2^55), which is the engine's shift by 8 - n for
    every n (a left shift when n > 8, a rounded right shift otherwise).
    """
    if x.lo < -EXP_ARG_BOUND or x.hi > EXP_ARG_BOUND:
        raise CircuitError(f"{cs.current_scope}/{name}: argument bounds [{x.lo}, {x.hi}] exceed |x| <= 32")
    with cs.scope(name):
        biased = -EXP_BIAS << F
        y = round_product(cs, x.lc.scale(tables.LOG2E), 1, (x.lo * tables.LOG2E, x.hi * tables.LOG2E), 0, (0, 0),
                          tables.LOG2E_BITS, q_bounds=(biased, biased + (1 << (F + 7)) - 1), name="log2",
                          keep_bits=True)
        bits = y.bits
        arg = piece_argument(cs, bits[: F - tables.EXP2_PIECE_BITS], bits[F - tables.EXP2_PIECE_BITS: F],
                             tables.EXP2_PIECE_BITS)
        p = table_poly(cs, arg, tables.EXP2, "exp2")
        scale = _pow2(cs, bits[F:])
        ab = _product_bounds(p.lo, p.hi, scale.lo, scale.hi)
        return round_product(cs, p.lc, scale.lc, ab, 0, (0, 0), GUARD + EXP_BIAS, out_bounds, name="scale")


# ---------------------------------------------------------------- ln


def ln(cs: ConstraintSystem, x: Fixed, out_bounds: tuple[int, int], name: str = "ln") -> Fixed:
    """fx.ln(x) for x constrained to [1, x.hi]; out_bounds must contain every result.

    With L = bit_length(X) - 1 and LMAX = bit_length(x.hi) - 1: hint d = LMAX - L (7 bits),
    Z = X·2^d lies in [2^LMAX, 2^(LMAX+1)), and the mantissa M = floor(Z / 2^(LMAX-48)) in
    [2^48, 2^49) (a left shift when LMAX < 48) is the engine's m. Z's range — hence d —
    is pinned by M's 48-bit decomposition plus the remainder check. Then
    ln x = round((L - 48)·ln2·2^56 + ln_poly(M), 8), with L - 48 = LMAX - 48 - d linear in d.
    """
    if x.lo < 1:
        raise CircuitError(f"{cs.current_scope}/{name}: argument must be constrained >= 1, bounds [{x.lo}, {x.hi}]")
    lmax = x.hi.bit_length() - 1
    x_value = x.value
    d_value = lmax - (x_value.bit_length() - 1) if 1 <= x_value <= x.hi else 0
    with cs.scope(name):
        d_bits = to_bits(cs, cs.hint(d_value, "normalising_shift"), 7)
        d = _from_bits(d_bits)
        scale = _pow2(cs, d_bits)
        shift = lmax - F
        if shift > 0:
            # floor(Z / 2^shift) = round_shift(Z - 2^(shift-1), shift): the engine truncates here
            m = round_product(cs, x.lc, scale.lc, _product_bounds(x.lo, x.hi, scale.lo, scale.hi),
                              -(1 << (shift - 1)), (-(1 << (shift - 1)),) * 2, shift,
                              q_bounds=(fx.ONE, 2 * fx.ONE - 1), name="mantissa", keep_bits=True)
        else:
            with cs.scope("mantissa"):
                m_lc = cs.hint((x_value << d_value) << -shift, "mantissa")
                m_bits = to_bits(cs, m_lc - fx.ONE, F)
                cs.enforce(x.lc.scale(1 << -shift), scale.lc, m_lc, "x_shifted_is_mantissa")
                m = Fixed(m_lc, fx.ONE, 2 * fx.ONE - 1, tuple(m_bits))
        bits = m.bits  # bits of M - 2^48: the fraction of the mantissa
        arg = piece_argument(cs, bits[: F - tables.LN_PIECE_BITS], bits[F - tables.LN_PIECE_BITS: F],
                             tables.LN_PIECE_BITS)
        p = table_poly(cs, arg, tables.LN, "ln_mantissa")
        exponent = d.scale(-tables.LN2) + (lmax - F) * tables.LN2  # (L - 48)·ln2 at 2^56
        e_lo, e_hi = (lmax - F - 127) * tables.LN2, (lmax - F) * tables.LN2
        return _drop_guard(cs, p, exponent, (e_lo, e_hi), out_bounds)


# ---------------------------------------------------------------- normal pdf and cdf

NORMAL_SATURATION_BITS = F + 4  # |x| >= 2^(F+4) (16.0): tail and pdf are 0


@dataclass(frozen=True)
class NormalArgument:
    """|x| split for the NORMAL_TAIL/NORMAL_PDF tables (which share the grid), the sign and the saturation flag."""

    nonnegative: Boolean
    saturated: Boolean
    piece: PieceArgument


def normal_argument(cs: ConstraintSystem, x: Fixed, name: str = "normal_arg") -> NormalArgument:
    """Sign, |x| bits and piece selector of x, shared by normal_cdf and normal_pdf of the same x.

    A hint sign bit s picks z = s ? x : -x, and z's bit decomposition proves z >= 0, so s
    is x's sign except at x = 0, where both choices give z = 0 (normal_cdf checks that
    this leaves its output unique).
    """
    n = max(NORMAL_SATURATION_BITS, max(abs(x.lo), abs(x.hi)).bit_length())
    with cs.scope(name):
        nonnegative = new_boolean(cs, int(x.value >= 0), "nonnegative")
        z = select(cs, nonnegative, x.lc, -x.lc)
        with cs.scope("abs"):
            z_bits = to_bits(cs, z, n)
        high = linear_combination((1, b) for b in z_bits[NORMAL_SATURATION_BITS:])
        saturated = is_zero(cs, high).negate()  # some bit at or above 2^(F+4) is set: |x| >= 16
        pb = tables.NORMAL_TAIL_PIECE_BITS
        piece = piece_argument(cs, z_bits[: F - pb], z_bits[F - pb: NORMAL_SATURATION_BITS], pb)
    return NormalArgument(nonnegative, saturated, piece)


def _normal_table(cs: ConstraintSystem, arg: NormalArgument, table, name: str) -> Fixed:
    p = table_poly(cs, arg.piece, table, name)
    with cs.scope(name):
        value = _drop_guard(cs, p)
        # beyond |x| >= 16 the engine returns 0
        return Fixed(select(cs, arg.saturated, 0, value.lc), min(0, value.lo), max(0, value.hi))


def normal_cdf(cs: ConstraintSystem, arg: NormalArgument, name: str = "normal_cdf") -> Fixed:
    """fx.normal_cdf(x): tail = N(-|x|) from NORMAL_TAIL; N = x >= 0 ? 1 - tail : tail.

    At x = 0 the sign hint is free, and both answers agree because the table gives
    tail(0) = 1/2 exactly; that is checked here at build time, so the output is unique.
    """
    if fx.normal_cdf(0) * 2 != fx.ONE:
        raise CircuitError("NORMAL_TAIL(0) != 1/2: the sign of x = 0 would not be determined")
    tail = _normal_table(cs, arg, tables.NORMAL_TAIL, name)
    with cs.scope(name):
        value = select(cs, arg.nonnegative, fx.ONE - tail.lc, tail.lc)
    return Fixed(value, min(tail.lo, fx.ONE - tail.hi), max(tail.hi, fx.ONE - tail.lo))


def normal_pdf(cs: ConstraintSystem, arg: NormalArgument, name: str = "normal_pdf") -> Fixed:
    """fx.normal_pdf(x) from NORMAL_PDF at |x| (0 for |x| >= 16)."""
    return _normal_table(cs, arg, tables.NORMAL_PDF, name)
