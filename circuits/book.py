"""The vault's book in the circuit: open it, apply the recorded fills, price it, bound its risk.

engine/fixed_book.py, step by step (docs/real-book.md, "What the circuit proves"):

1. `open_book`, `apply_fills`, `close_book`: the private old book opens `book_before`; up to F
   private chain records, the first n = fills_to - fills_from of them active, chain from
   `chain_from` to `chain_to`; each active fill picks its slot one-hot and lands there (the
   slot is empty, or holds the fill's very series), each active expiry settlement empties every
   slot of its expiry and no other; the book after opens `book_after` and is canonical (an
   empty slot, expiry 0, holds nothing). A slot travels as (code, expiry, q), its code
   is_call + 2·(strike - SPOT_MIN) being bits 8..88 of its record and its expiry a wire of its
   own, so a record costs 8 constraints per slot (apply_fills), not one per field.
2. `expiry_markets`: per public expiry, t from the oracle's time (fx.div of seconds by a year),
   the expiry terms and the SVI smile, expiries strictly increasing.
3. `price_book`: each slot picks its expiry one-hot (a live slot must pick its own expiry, so it
   cannot borrow another's smile), prices with the quotes' BSM gadgets (an empty slot at a
   dummy: strike = spot, its q = 0 zeroes it), and checks Durrleman's condition at live
   strikes; mark = Σ q·mid, net Greeks Σ q·g.
4. `risk_outcome`: the worst case with the quotes' exposures (risk_ok and worst_loss are
   outputs, never constraints, so the book update stays provable whatever the limits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from bn254.constants import R
from bn254.field import inverse
from circuits import bsm as cb
from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets import fixed as gf
from circuits.gadgets.bits import from_bits, logical_and, new_boolean, range_check, to_bits
from circuits.gadgets.comparators import assert_equal, is_zero, less_equal
from circuits.gadgets.fixed import Fixed
from circuits.gadgets.hash import poseidon
from circuits.gadgets.select import select
from circuits.lc import LC, Boolean, linear_combination
from engine import fixed as fx
from engine import fixed_book as fb
from engine import fixed_risk as fr

CODE_BITS = fb.FLAG_BITS + fb.STRIKE_BITS  # 81: is_call + 2·(strike - SPOT_MIN)
CODE_OFFSET = fb.IS_CALL_OFFSET  # the code is the record's bits 8..88, the expiry bits 89..128
SERIES_EXPIRY_SHIFT = fb.EXPIRY_OFFSET - fb.IS_CALL_OFFSET  # 81: series = code + 2^81·expiry
MARK_BITS = fx.FRAC_BITS + 24 + 37 + 8 + 1
"""|mark| <= 256 slots · 2^24 contracts · 2^37 per mid: a signed window of 2^118 at 2^-48."""
WORST_LOSS_BITS = 250
"""worst_loss in [0, 2^250): its gadget bounds are checked against this at build time."""
ATM_VARIANCE_BITS = fx.FRAC_BITS + 5
"""w(0) <= a + b·(|ρm| + sqrt(m² + σ²)) <= 4 + 4·(2 + 2.9) < 32 on the engine's SVI domain."""


def series_code(slot: fb.BookSlot) -> int:
    """The slot's record bits 8..88: is_call + 2·(strike - SPOT_MIN) (0 for an empty slot)."""
    return fb.slot_record(0, slot) >> CODE_OFFSET & ((1 << CODE_BITS) - 1)


def _record(index: LC | int, code: LC, expiry: LC, quantity_field: LC) -> LC:
    """slot | code | expiry | quantity field packed as in fb.pack_fill (linear; the parts are
    range-checked by the caller)."""
    return (code.scale(1 << CODE_OFFSET) + expiry.scale(1 << fb.EXPIRY_OFFSET)
            + quantity_field.scale(1 << fb.QUANTITY_OFFSET) + index)


@dataclass(frozen=True)
class SlotState:
    """A slot between records: its series code, its expiry (a wire of its own, so that an expiry
    settlement compares it at 2 constraints a slot) and its position q."""

    code: LC
    expiry: LC
    quantity: LC

    @property
    def series(self) -> LC:
        return self.code + self.expiry.scale(1 << SERIES_EXPIRY_SHIFT)


@dataclass(frozen=True)
class LiveSlot:
    """A slot of the book after the fills, decomposed: live flag, type, strike, expiry, q."""

    live: Boolean
    is_call: Boolean
    strike: Fixed
    expiry: LC
    quantity: Fixed


def _commit(cs: ConstraintSystem, states: Sequence[SlotState]) -> LC:
    h: LC = LC.constant(0)
    for j, s in enumerate(states):
        with cs.scope(f"slot[{j}]"):
            h = poseidon(cs, [h, _record(j, s.code, s.expiry, s.quantity + fb.QUANTITY_BIAS)])
    return h


def open_book(cs: ConstraintSystem, book: Sequence[fb.BookSlot], book_before: LC) -> list[SlotState]:
    """Private slots (code in 81 bits, expiry in 40, q + 2^72 in 73: the packing is then
    injective) whose commitment is book_before."""
    states = []
    with cs.scope("book_before"):
        for j, slot in enumerate(book):
            with cs.scope(f"slot[{j}]"):
                code = cs.private_input("code", series_code(slot))
                range_check(cs, code, CODE_BITS)
                expiry = cs.private_input("expiry", slot.expiry)
                range_check(cs, expiry, fb.EXPIRY_BITS)
                q = cs.private_input("quantity", slot.quantity)
                range_check(cs, q + fb.QUANTITY_BIAS, fb.QUANTITY_FIELD_BITS)
                states.append(SlotState(code, expiry, q))
        assert_equal(cs, _commit(cs, states), book_before, "opens_book_before")
    return states


@dataclass(frozen=True)
class RecordFields:
    """One chain record unpacked on wires (each field range-checked to its width)."""

    slot: LC
    code: LC
    strike_field: LC
    expiry: LC
    quantity_field: LC
    settlement: Boolean


def unpack_record(cs: ConstraintSystem, record: LC, value: int) -> RecordFields:
    """The record's fields, and whether it is an expiry settlement (fb.pack_expiry_settled): its
    expiry field is 0, and then its slot, type and quantity fields must be 0 too."""
    slot = from_bits(to_bits(cs, cs.hint(value & 0xFF, "slot"), fb.SLOT_BITS))
    is_call = new_boolean(cs, value >> fb.IS_CALL_OFFSET & 1, "is_call")
    strike_field = cs.hint(value >> fb.STRIKE_OFFSET & ((1 << fb.STRIKE_BITS) - 1), "strike_field")
    range_check(cs, strike_field, fb.STRIKE_BITS)
    expiry = cs.hint(value >> fb.EXPIRY_OFFSET & fb.EXPIRY_MAX, "expiry")
    range_check(cs, expiry, fb.EXPIRY_BITS)
    quantity_field = cs.hint(value >> fb.QUANTITY_OFFSET, "quantity_field")
    range_check(cs, quantity_field, fb.QUANTITY_FIELD_BITS)
    code = is_call + strike_field.scale(2)
    assert_equal(cs, _record(slot, code, expiry, quantity_field), record, "unpack")
    settlement = is_zero(cs, expiry)
    # a sum of small non-negative fields is 0 only when each is
    cs.enforce(settlement, slot + is_call + quantity_field, 0, "settlement_holds_only_its_expiry")
    return RecordFields(slot, code, strike_field, expiry, quantity_field, settlement)


def apply_fills(cs: ConstraintSystem, states: list[SlotState], records: Sequence[int], capacity: int,
                chain_from: LC, chain_to: LC, fill_count: LC) -> list[SlotState]:
    """The first `fill_count` of `capacity` private chain records chain chain_from -> chain_to and
    change the book; the rest change nothing. Per slot and record, 8 constraints:

    - a fill picks its slot one-hot (b_j boolean, 1), gathers the slot's series (1) and requires
      it empty or the fill's own; the slot takes the fill's series and q += dq;
    - a settlement of expiry E marks r_j = [expiry_j == E] (r_j·d_j = 0 and d_j·inv_j = s - r_j
      with d_j = expiry_j - E and s = [the record is an active settlement]: 2, and r_j is then
      in {0, s}, so nothing is removed by a fill or padding) and empties the marked slots;
    - both update a slot through m_j = b_j + r_j (never both 1): code += m_j·(target - code),
      expiry += m_j·(target - expiry) (the targets are 0 for a settlement: 2), and
      q += b_j·dq - r_j·q (2).
    """
    if len(records) > capacity:
        raise CircuitError(f"{len(records)} chain records for a circuit that takes {capacity}")
    padded = list(records) + [0] * (capacity - len(records))
    head, actives = chain_from, []
    for i, value in enumerate(padded):
        with cs.scope(f"fill[{i}]"):
            active = new_boolean(cs, int(i < len(records)), "active")
            if actives:  # active records come first: active_i <= active_{i-1}
                cs.enforce(active, 1 - actives[-1], 0, "prefix")
            actives.append(active)
            record = cs.private_input("record", value)
            fields = unpack_record(cs, record, value)
            head = select(cs, active, poseidon(cs, [head, record]), head)
            settles = cs.mul(active, fields.settlement, "settles")
            fills = active - settles
            dq = fields.quantity_field - fb.QUANTITY_BIAS
            code_target = fields.code - cs.mul(fields.settlement, fields.code, "code_target")
            settled = fields.strike_field  # a settlement's expiry E

            index = fields.slot.value if fills.value == 1 else -1
            onehot = [new_boolean(cs, int(j == index), f"to_slot[{j}]") for j in range(len(states))]
            cs.enforce_equal(linear_combination((1, b) for b in onehot), fills, "one_slot_if_fill")
            cs.enforce_equal(linear_combination((j, b) for j, b in enumerate(onehot)),
                             cs.mul(fills, fields.slot, "slot_if"), "slot_index")
            current = linear_combination((1, cs.mul(b, s.series, f"gather[{j}]")) for j, (b, s) in
                                         enumerate(zip(onehot, states)))
            # the slot is empty (series 0) or holds the fill's series
            cs.enforce(current, current - (fields.code + fields.expiry.scale(1 << SERIES_EXPIRY_SHIFT)), 0,
                       "empty_or_same_series")
            updated = []
            for j, (b, s) in enumerate(zip(onehot, states)):
                with cs.scope(f"slot[{j}]"):
                    d = s.expiry - settled
                    r = cs.hint(int(settles.value == 1 and d.value == 0), "settles")
                    inv = cs.hint(inverse(d.value) * (settles.value - r.value) % R if d.value else 0, "inverse")
                    cs.enforce(r, d, 0, "settles_only_its_expiry")
                    cs.enforce(d, inv, settles - r, "settles_all_its_expiry")
                    m = b + r
                    updated.append(SlotState(s.code + cs.mul(m, code_target - s.code, "code"),
                                             s.expiry + cs.mul(m, fields.expiry - s.expiry, "expiry"),
                                             s.quantity + cs.mul(b, dq, "q_fill") - cs.mul(r, s.quantity, "q_settle")))
            states = updated
    assert_equal(cs, head, chain_to, "chain_to")
    assert_equal(cs, linear_combination((1, a) for a in actives), fill_count, "fill_count")
    return states


def close_book(cs: ConstraintSystem, states: Sequence[SlotState], book_after: LC) -> list[LiveSlot]:
    """Decompose each slot after the records (code into type | strike; q in its window), require
    empty slots to hold nothing, and open book_after. The expiry needs no check of its own: it is
    an opened slot's, a fill record's (both range-checked to 40 bits) or 0."""
    slots = []
    with cs.scope("book_after"):
        for j, s in enumerate(states):
            with cs.scope(f"slot[{j}]"):
                bits = to_bits(cs, s.code, CODE_BITS)
                q = gf.bounded(cs, s.quantity, fb.QUANTITY_MIN, fb.QUANTITY_MAX, "quantity")
                live = is_zero(cs, s.expiry).negate()
                cs.enforce(1 - live, s.code, 0, "empty_has_no_series")
                cs.enforce(1 - live, s.quantity, 0, "empty_has_no_position")
                strike = Fixed(from_bits(bits[1:]) + fx.SPOT_MIN, fx.SPOT_MIN, fx.SPOT_MIN + (1 << fb.STRIKE_BITS) - 1)
                slots.append(LiveSlot(live, bits[0], strike, s.expiry, q))
        assert_equal(cs, _commit(cs, states), book_after, "opens_book_after")
    return slots


@dataclass(frozen=True)
class ExpiryMarket:
    """One public expiry on wires: its time, terms and smile."""

    expiry: Fixed
    terms: cb.ExpiryWires
    svi: cb.SVIWires


def expiry_markets(cs: ConstraintSystem, now: Fixed, rate: Fixed, carry: Fixed,
                   expiries: Sequence[tuple[Fixed, cb.SVIWires]]) -> list[ExpiryMarket]:
    """t = fx.div(expiry - now, YEAR_SECONDS) in (0, 4] years, the expiry terms, expiries increasing."""
    out = []
    for e, (expiry, svi) in enumerate(expiries):
        with cs.scope(f"expiry[{e}]"):
            if out:
                range_check(cs, expiry.lc - out[-1].expiry.lc - 1, fb.EXPIRY_BITS)
            seconds = expiry - now
            t = gf.div(cs, seconds, Fixed.constant(fb.YEAR_SECONDS), (1, fx.T_MAX), "t")
            out.append(ExpiryMarket(expiry, cb.expiry_terms(cs, t, rate, carry), svi))
    return out


def _pick(cs: ConstraintSystem, onehot: Sequence[Boolean], values: Sequence[Fixed], name: str) -> Fixed:
    """Σ onehot_e·values_e (one of them, as onehot sums to 1), with the union of their bounds."""
    lc = linear_combination((1, cs.mul(b, v.lc, f"{name}[{e}]")) for e, (b, v) in enumerate(zip(onehot, values)))
    return Fixed(lc, min(v.lo for v in values), max(v.hi for v in values))


def select_market(cs: ConstraintSystem, markets: Sequence[ExpiryMarket], onehot: Sequence[Boolean]
                  ) -> tuple[cb.ExpiryWires, cb.SVIWires]:
    """The terms and smile of the expiry onehot picks."""
    with cs.scope("select_expiry"):
        terms = cb.ExpiryWires(*(_pick(cs, onehot, [getattr(m.terms, f) for m in markets], f)
                                 for f in ("t", "sqrt_t", "disc_rate", "disc_carry", "drift")))
        svi = cb.SVIWires(*(_pick(cs, onehot, [getattr(m.svi, f) for m in markets], f)
                            for f in ("a", "b", "rho", "m", "sigma", "sigma_sq")))
    return terms, svi


def price_option(cs: ConstraintSystem, spot: Fixed, strike: Fixed, terms: cb.ExpiryWires, svi: cb.SVIWires,
                 is_call: Boolean) -> tuple[cb.BSMWires, Fixed]:
    """cb.bsm_svi, also returning the log-moneyness k (for Durrleman's check at this strike)."""
    k = cb.forward_log_moneyness(cs, spot, strike, terms)
    variance = cb.svi_total_variance(cs, k, svi)
    with cs.scope("total_vol"):
        root = gf.sqrt(cs, gf.at_least(cs, variance, 1, "variance_positive"))
        total_vol = gf.at_least(cs, root, fx.TOTAL_VOL_MIN, "at_least_min")
    return cb.bsm_from_total_vol(cs, spot, strike, terms, k, total_vol, is_call), k


def durrleman(cs: ConstraintSystem, k: Fixed, svi: cb.SVIWires) -> Fixed:
    """fb.durrleman_scaled: G = R·(wR - k·p/2)² - R·p²·(w/4 + w²/16) + b·σ²·w²/2 (= R³w²·g(k))."""
    with cs.scope("durrleman"):
        u = k - svi.m
        square = gf.mul(cs, u, u, (0, max(u.lo ** 2, u.hi ** 2) // fx.ONE + 1), "u_squared")
        root = gf.sqrt(cs, square + svi.sigma_sq, "root")
        w = svi.a + gf.mul(cs, svi.b, gf.mul(cs, svi.rho, u, name="rho_u") + root, name="w")
        p = gf.mul(cs, svi.b, gf.mul(cs, svi.rho, root, name="rho_root") + u, name="p")
        centre = gf.mul(cs, w, root, name="w_root") - gf.half(cs, gf.mul(cs, k, p, name="k_p"), "half_k_p")
        ww = gf.mul(cs, w, w, name="w_squared")
        quarter_in = Fixed(w.lc * 4 + ww.lc, 4 * w.lo + ww.lo, 4 * w.hi + ww.hi)
        w_quarter = gf.round_product(cs, quarter_in.lc, 1, (quarter_in.lo, quarter_in.hi), 0, (0, 0), 4,
                                     name="w_quarter")
        first = gf.mul(cs, root, gf.mul(cs, centre, centre, name="centre_squared"), name="first")
        second = gf.mul(cs, root, gf.mul(cs, gf.mul(cs, p, p, name="p_squared"), w_quarter, name="p2_wq"),
                        name="second")
        third = gf.half(cs, gf.mul(cs, gf.mul(cs, svi.b, svi.sigma_sq, name="b_sigma_sq"), ww, name="b_s2_w2"),
                        "third")
    return first - second + third


def require_no_butterfly(cs: ConstraintSystem, k: Fixed, svi: cb.SVIWires, live: Boolean | None = None) -> None:
    """Durrleman's G >= 0 at k (where `live`, when given)."""
    g = durrleman(cs, k, svi)
    with cs.scope("no_butterfly"):
        checked = g.lc if live is None else cs.mul(live, g.lc, "where_live")
        range_check(cs, checked, max(g.hi, 1).bit_length())


def atm_total_variance(cs: ConstraintSystem, svi: cb.SVIWires) -> Fixed:
    """w(0) (fb.atm_total_variance), range-checked to its published window [0, 2^53)."""
    with cs.scope("atm_variance"):
        w = cb.svi_total_variance(cs, Fixed.constant(0), svi)
        bits = to_bits(cs, w.lc, ATM_VARIANCE_BITS)
    return Fixed(w.lc, 0, (1 << ATM_VARIANCE_BITS) - 1, tuple(bits))


def mid_window(cs: ConstraintSystem, price: Fixed) -> Fixed:
    """The mid range-checked to its published window [-MID, -MID + 2^86) (an honest price always is)."""
    lo = -fb.MID_ABS_MAX
    with cs.scope("mid_window"):
        bits = to_bits(cs, price.lc - lo, (2 * fb.MID_ABS_MAX).bit_length())
    return Fixed(price.lc, lo, lo + (1 << len(bits)) - 1, tuple(bits))


@dataclass(frozen=True)
class BookPriceWires:
    mark: Fixed
    net_delta: Fixed
    net_gamma: Fixed
    net_vega: Fixed
    slots: tuple[cb.BSMWires, ...]


def sum_fixed(terms: list[Fixed]) -> Fixed:
    """Σ terms (the constant 0 for none); free."""
    return sum(terms[1:], terms[0]) if terms else Fixed.constant(0)


def price_book(cs: ConstraintSystem, slots: Sequence[LiveSlot], markets: Sequence[ExpiryMarket], spot: Fixed
               ) -> BookPriceWires:
    """Per slot: the expiry one-hot (hint: the live slot's own expiry, the first for an empty
    one), BSM at strike (spot when empty), Durrleman where live, the mid in its window; then
    Σ q·mid and Σ q·g."""
    marks, deltas, gammas, vegas, priced = [], [], [], [], []
    expiry_values = [m.expiry.value for m in markets]
    for j, slot in enumerate(slots):
        with cs.scope(f"slot[{j}]"):
            own = slot.expiry.value
            choice = expiry_values.index(own) if own in expiry_values else 0
            onehot = [new_boolean(cs, int(e == choice), f"expiry_is[{e}]") for e in range(len(markets))]
            cs.enforce_equal(linear_combination((1, b) for b in onehot), 1, "one_expiry")
            chosen = linear_combination((1, cs.mul(b, m.expiry.lc, f"expiry[{e}]"))
                                        for e, (b, m) in enumerate(zip(onehot, markets)))
            cs.enforce(slot.live, chosen - slot.expiry, 0, "own_expiry")
            terms, svi = select_market(cs, markets, onehot)
            strike = Fixed(select(cs, slot.live, slot.strike.lc, spot.lc), min(slot.strike.lo, spot.lo),
                           max(slot.strike.hi, spot.hi))
            bsm, k = price_option(cs, spot, strike, terms, svi, slot.is_call)
            require_no_butterfly(cs, k, svi, slot.live)
            mid = mid_window(cs, bsm.price)
            marks.append(gf.mul(cs, slot.quantity, mid, name="q_mid"))
            deltas.append(gf.mul(cs, slot.quantity, bsm.delta, name="q_delta"))
            gammas.append(gf.mul(cs, slot.quantity, bsm.gamma, name="q_gamma"))
            vegas.append(gf.mul(cs, slot.quantity, bsm.vega, name="q_vega"))
            priced.append(bsm)
    return BookPriceWires(sum_fixed(marks), sum_fixed(deltas), sum_fixed(gammas), sum_fixed(vegas), tuple(priced))


@dataclass(frozen=True)
class RiskOutcome:
    risk_ok: Boolean
    worst_loss: Fixed
    rows: tuple[Fixed, ...]


def _leq(cs: ConstraintSystem, a: Fixed, b: Fixed, name: str) -> Boolean:
    """[a <= b] for a, b >= 0 (their bounds must say so)."""
    if a.lo < 0 or b.lo < 0:
        raise CircuitError(f"{cs.current_scope}/{name}: operands must be bounded below by 0")
    with cs.scope(name):
        return less_equal(cs, a.lc, b.lc, max(a.hi, b.hi, 1).bit_length())


def risk_outcome(cs: ConstraintSystem, book: BookPriceWires, exposure: tuple[Fixed, Fixed, Fixed],
                 limits: dict[str, Fixed], margin: Fixed, spot: Fixed) -> RiskOutcome:
    """fb.book_risk_report on wires: the row loss bounds, worst_loss = max(0, rows) (the hint picks
    the largest row, or none when all are negative), and risk_ok = every limit holds. Nothing
    here is enforced against the limits: the outcome is an output."""
    a_delta, a_gamma, a_vega = exposure
    with cs.scope("risk"):
        half_gamma = gf.half(cs, book.net_gamma, "half_gamma")
        half_a_gamma = gf.half(cs, a_gamma, "half_a_gamma")
        abs_vega_up = gf.absolute(cs, gf.mul(cs, book.net_vega, Fixed.constant(fr.VOL_SHIFT), name="vega_up"),
                                  "abs_vega_up")
        fill_vega = gf.mul(cs, a_vega, Fixed.constant(fr.VOL_SHIFT), name="fill_vega")
        rows = []
        for s, move in enumerate(fr.SPOT_MOVES):
            with cs.scope(f"spot_move[{s}]"):
                d_spot = gf.mul(cs, spot, Fixed.constant(move), name="d_spot")
                d_spot_sq = gf.mul(cs, d_spot, d_spot, (0, d_spot.hi ** 2 // fx.ONE + 1), "d_spot_sq")
                spot_term = (gf.mul(cs, book.net_delta, d_spot, name="delta_term")
                             + gf.mul(cs, half_gamma, d_spot_sq, name="gamma_term"))
                abs_d_spot = -d_spot if move < 0 else d_spot  # the sign of S·(m - 1) is the move's
                fills = (gf.mul(cs, abs_d_spot, a_delta, name="fill_delta")
                         + gf.mul(cs, half_a_gamma, d_spot_sq, name="fill_gamma") + fill_vega)
                rows.append(abs_vega_up + fills + margin - spot_term)
        with cs.scope("worst_loss"):
            values = [r.value for r in rows]
            worst_row = values.index(max(values)) if max(values) > 0 else -1
            pick = [new_boolean(cs, int(s == worst_row), f"is_row[{s}]") for s in range(len(rows))]
            cs.enforce(linear_combination((1, b) for b in pick), linear_combination((1, b) for b in pick) - 1, 0,
                       "at_most_one_row")
            worst_lc = linear_combination((1, cs.mul(b, r.lc, f"pick[{s}]")) for s, (b, r) in enumerate(zip(pick, rows)))
            hi = max(max(r.hi for r in rows), 0)
            if hi >= 1 << WORST_LOSS_BITS:
                raise CircuitError(f"worst_loss bound 2^{hi.bit_length()} exceeds its {WORST_LOSS_BITS}-bit window")
            bits = to_bits(cs, worst_lc, WORST_LOSS_BITS)  # >= 0: covers the 0 candidate too
            worst = Fixed(worst_lc, 0, (1 << WORST_LOSS_BITS) - 1, tuple(bits))
            for s, r in enumerate(rows):
                with cs.scope(f"covers_row[{s}]"):
                    range_check(cs, worst.lc - r.lc, max(worst.hi - r.lo, 1).bit_length())
        with cs.scope("limits"):
            checks = [
                _leq(cs, gf.absolute(cs, book.net_delta, "abs_delta") + a_delta, limits["max_abs_delta"], "delta"),
                _leq(cs, gf.absolute(cs, book.net_gamma, "abs_gamma") + a_gamma, limits["max_abs_gamma"], "gamma"),
                _leq(cs, gf.absolute(cs, book.net_vega, "abs_vega") + a_vega, limits["max_abs_vega"], "vega"),
                _leq(cs, worst, limits["max_loss"], "loss"),
            ]
            ok = checks[0]
            for c in checks[1:]:
                ok = logical_and(cs, ok, c)
    return RiskOutcome(ok, worst, tuple(rows))
