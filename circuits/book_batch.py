"""The batch over the vault's real book: quotes with sizes, the book transition, the worst case.

One circuit for both jobs of docs/real-book.md: with zero quotes it is a pure book update
(satisfiable whatever the limits: risk_ok is an output), with quotes it also proves each
quote (mid on its expiry's smile, half spread above the policy floor, whose vega charge uses
the proven book's net vega) and the worst case of the book after any fills of the quotes up
to their sizes. The vault accepts a batch with quotes only when risk_ok = 1.

Public inputs: `book_batch_layout(E, N)` (BOOK_BATCH below), through PublicPacker:
commitments (state, book_before, chain_from, chain_to, book_after, quotes_root), market (spot,
oracle time, rate, carry), regime (high_vol, nonce, fills_from, fills_to), per expiry (time,
SVI smile, ATM total variance w(0)), risk (the limits and the model margin), outcome (risk_ok,
quoted, worst_loss, mark). The quotes are not public inputs: each is packed into one element
(strike on the 2^-16 grid, expiry index, type, mid, half spread, size on the 2^-12 contract
grid: 253 bits), and the elements are the leaves of a Poseidon Merkle tree (circuits.merkle)
whose root is quotes_root, so the public-input count does not grow with the batch; a taker
shows the vault one element and its path. `quoted` = some quote's size is positive: the vault
tells a trading batch from a pure book update by it, without seeing the quotes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bn254.constants import R
from circuits import book as cbk
from circuits import book_hash as bh
from circuits import bsm as cb
from circuits import quote as cq
from circuits.builder import ConstraintSystem
from circuits.gadgets import fixed as gf
from circuits.gadgets.bits import new_boolean, range_check, to_bits
from circuits.gadgets.comparators import assert_equal, is_zero
from circuits.gadgets.fixed import Fixed
from circuits.gadgets.hash import poseidon
from circuits.layout import NONCE_BITS, FieldGroup, Layout, LayoutDefinition, PackedField, WholeField
from circuits.lc import Boolean, linear_combination
from circuits.merkle import merkle_root, tree_depth
from circuits.packing import PublicPacker
from circuits.poseidon import poseidon_hash
from engine import fixed as fx
from engine import fixed_book as fb
from engine import fixed_quote as fq
from engine import fixed_risk as fr

FILL_INDEX_BITS = 64
EXPIRY_INDEX_BITS = (fb.MAX_EXPIRIES - 1).bit_length()
STRIKE_UNITS_BITS = fb.STRIKE_BITS - fb.STRIKE_GRID_BITS  # 48


def _limit(name: str) -> PackedField:
    return PackedField.domain(name, 0, (1 << fr.LIMIT_BITS) - 1)


BOOK_BATCH = LayoutDefinition("book_batch", (
    FieldGroup("commitments", tuple(WholeField(n) for n in ("state_commitment", "book_before", "chain_from",
                                                            "chain_to", "book_after", "quotes_root"))),
    FieldGroup("market", (
        PackedField.domain("spot", fx.SPOT_MIN, fx.SPOT_MAX),
        PackedField.domain("oracle_time", 0, fb.EXPIRY_MAX),
        PackedField.domain("rate", -fx.RATE_ABS_MAX, fx.RATE_ABS_MAX),
        PackedField.domain("carry", -fx.RATE_ABS_MAX, fx.RATE_ABS_MAX),
    )),
    FieldGroup("regime", (
        PackedField.flag("high_vol"),
        PackedField.domain("nonce", 0, (1 << NONCE_BITS) - 1),
        PackedField.domain("fills_from", 0, (1 << FILL_INDEX_BITS) - 1),
        PackedField.domain("fills_to", 0, (1 << FILL_INDEX_BITS) - 1),
    )),
    FieldGroup("expiry", (
        PackedField.domain("expiry", 0, fb.EXPIRY_MAX),
        PackedField.domain("svi_a", fx.SVI_A_MIN, fx.SVI_A_MAX),
        PackedField.domain("svi_b", 0, fx.SVI_B_MAX),
        PackedField.domain("svi_rho", -fx.ONE + 1, fx.ONE - 1),
        PackedField.domain("svi_m", -fx.SVI_M_ABS_MAX, fx.SVI_M_ABS_MAX),
        PackedField.domain("svi_sigma", 1, fx.SVI_SIGMA_MAX),
        PackedField("atm_variance", cbk.ATM_VARIANCE_BITS, 0),
    ), repeated=True),
    FieldGroup("risk", tuple(_limit(f.name) for f in dataclasses.fields(fr.RiskLimitsFixed)) + (_limit("model_margin"),)),
    FieldGroup("outcome", (
        PackedField.flag("risk_ok"),
        PackedField.flag("quoted"),
        PackedField("worst_loss", cbk.WORST_LOSS_BITS, 0),
        PackedField("mark", cbk.MARK_BITS, -(1 << (cbk.MARK_BITS - 1))),
    )),
    FieldGroup("quote", (
        PackedField("strike_units", STRIKE_UNITS_BITS, 0),
        PackedField("expiry_index", EXPIRY_INDEX_BITS, 0),
        PackedField.flag("is_call"),
        PackedField.domain("mid", -fb.MID_ABS_MAX, fb.MID_ABS_MAX),
        PackedField.domain("half_spread", 0, cq.HALF_SPREAD_MAX),
        PackedField("size_units", fb.SIZE_BITS, 0),
    ), repeated=True, merkle_root="quotes_root"),
))
"""strike = SPOT_MIN + strike_units·2^32 and size = size_units·2^36 (both at 2^-48); every other
packed value is at 2^-48, times and fill indices are plain integers. The quote group is hashed:
its elements are the leaves of quotes_root's tree, not public inputs."""


def book_batch_layout(n_expiries: int, n_quotes: int) -> Layout:
    """The public-input layout for E expiries and N quotes, without building any circuit."""
    return BOOK_BATCH.place({"expiry": n_expiries, "quote": n_quotes})


def quote_fields(market: fb.BookMarket, quotes: tuple[fb.QuoteOrder, ...]) -> dict[str, int]:
    """The quote group's field values by slot name ("quote0_mid", ...), computed natively: the mid
    is the engine's fixed-point BSM on the quote's expiry smile, which the circuit proves."""
    values = {}
    for i, order in enumerate(quotes):
        values.update({
            f"quote{i}_strike_units": (order.strike - fx.SPOT_MIN) >> fb.STRIKE_GRID_BITS,
            f"quote{i}_expiry_index": order.expiry_index,
            f"quote{i}_is_call": int(order.is_call),
            f"quote{i}_mid": fb.quote_bsm(market, order).price,
            f"quote{i}_half_spread": order.half_spread,
            f"quote{i}_size_units": order.size >> fb.SIZE_GRID_BITS,
        })
    return values


def quote_elements(market: fb.BookMarket, quotes: tuple[fb.QuoteOrder, ...]) -> list[int]:
    """The quotes packed one element each, as the circuit packs them: the leaves of quotes_root, and
    what submitBatch publishes for takers."""
    return book_batch_layout(len(market.expiries), len(quotes)).tree("quote").pack(quote_fields(market, quotes))


def quotes_root(elements: list[int]) -> int:
    """The Poseidon Merkle root of a batch's quote elements (depth ceil(log2(N)), padded with 0)."""
    return merkle_root(elements, tree_depth(len(elements)))


def policy_commitment(policy: fq.PolicyFixed, salt: int) -> int:
    """Poseidon(Poseidon(policy fields), salt): the solver's committed spread policy (no net vega:
    the floor's vega charge uses the proven book's)."""
    return poseidon_hash([poseidon_hash([v % R for v in policy.fields()]), salt % R])


@dataclass(frozen=True)
class BookBatchRequest:
    """Everything a book batch proof needs. Public claims (the vault's values): book_before,
    fills_from/chain_from (its proven index and head), fills_to/chain_to (the head the proof
    stops at). Private: the old book, the chain records (`fills`: fills and expiry settlements),
    the policy and salt."""

    market: fb.BookMarket
    high_vol: bool
    nonce: int
    policy: fq.PolicyFixed
    state_salt: int
    quotes: tuple[fb.QuoteOrder, ...]
    old_book: fb.Book
    fills: tuple[fb.ChainRecord, ...]
    fill_capacity: int
    book_before: int
    fills_from: int
    chain_from: int
    fills_to: int
    chain_to: int
    limits: fr.RiskLimitsFixed
    margin: int


def book_batch_request(market: fb.BookMarket, old_book: fb.Book, fills: tuple[fb.ChainRecord, ...], fill_capacity: int,
                       fills_from: int, chain_from: int, *, quotes: tuple[fb.QuoteOrder, ...] = (),
                       high_vol: bool = False, nonce: int = 0, policy: fq.PolicyFixed, state_salt: int,
                       limits: fr.RiskLimitsFixed, margin: int) -> BookBatchRequest:
    """The honest request: book_before, fills_to and chain_to computed from the book and the fills."""
    heads = bh.fill_chain([fb.pack_record(f) for f in fills], chain_from)
    return BookBatchRequest(market, high_vol, nonce, policy, state_salt, quotes, old_book, fills, fill_capacity,
                            bh.book_commitment(old_book), fills_from, chain_from, fills_from + len(fills),
                            heads[-1] if heads else chain_from, limits, margin)


@dataclass(frozen=True)
class BookBatchWires:
    book: cbk.BookPriceWires
    risk: cbk.RiskOutcome
    quotes: tuple[cb.BSMWires, ...]
    quoted: Boolean
    layout: Layout


def _quote(cs: ConstraintSystem, order: fb.QuoteOrder, markets: list[cbk.ExpiryMarket], spot: Fixed,
           state: cq.CommittedState, high_vol) -> tuple[dict, cb.BSMWires, Fixed]:
    """One quote: strike on its grid, the expiry it names, BSM + Durrleman, the spread floor, its size."""
    units = gf.fixed_input(cs, "strike_units", (order.strike - fx.SPOT_MIN) >> fb.STRIKE_GRID_BITS, 0,
                           (1 << STRIKE_UNITS_BITS) - 1, public=False)
    strike = Fixed(units.lc.scale(1 << fb.STRIKE_GRID_BITS) + fx.SPOT_MIN, fx.SPOT_MIN,
                   fx.SPOT_MIN + (units.hi << fb.STRIKE_GRID_BITS))
    index = gf.fixed_input(cs, "expiry_index", order.expiry_index, 0, (1 << EXPIRY_INDEX_BITS) - 1, public=False)
    onehot = [new_boolean(cs, int(e == order.expiry_index), f"expiry_is[{e}]") for e in range(len(markets))]
    cs.enforce_equal(linear_combination((1, b) for b in onehot), 1, "one_expiry")
    cs.enforce_equal(linear_combination((e, b) for e, b in enumerate(onehot)), index.lc, "expiry_index")
    is_call = new_boolean(cs, int(order.is_call), "is_call")
    terms, svi = cbk.select_market(cs, markets, onehot)
    bsm, k = cbk.price_option(cs, spot, strike, terms, svi, is_call)
    cbk.require_no_butterfly(cs, k, svi)
    floor = cq.min_half_spread(cs, state, spot, bsm.gamma, bsm.vega, high_vol)
    with cs.scope("half_spread"):
        h = gf.fixed_input(cs, "half_spread", order.half_spread, 0, cq.HALF_SPREAD_MAX, public=False)
        with cs.scope("at_least_floor"):
            range_check(cs, h.lc - floor.lc, max(floor.hi, cq.HALF_SPREAD_MAX).bit_length())
    size_units = gf.fixed_input(cs, "size_units", order.size >> fb.SIZE_GRID_BITS, 0, (1 << fb.SIZE_BITS) - 1,
                                public=False)
    size = Fixed(size_units.lc.scale(1 << fb.SIZE_GRID_BITS), 0, size_units.hi << fb.SIZE_GRID_BITS)
    mid = cbk.mid_window(cs, bsm.price)
    published = {"strike_units": units, "expiry_index": index, "is_call": is_call, "mid": mid, "half_spread": h,
                 "size_units": size_units}
    return published, bsm, size


def book_batch_circuit(cs: ConstraintSystem, req: BookBatchRequest) -> BookBatchWires:
    """Build the book batch (module doc); the witness comes from the request's values."""
    m = req.market
    n_expiries = len(m.expiries)
    layout = book_batch_layout(n_expiries, len(req.quotes))
    new_book = fb.apply_fills(req.old_book, req.fills)
    # whole public inputs first: they are public inputs 1..5 in the layout's order
    with cs.scope("commitments"):
        state_commitment = cs.public_input("state_commitment", policy_commitment(req.policy, req.state_salt))
        book_before = cs.public_input("book_before", req.book_before)
        chain_from = cs.public_input("chain_from", req.chain_from)
        chain_to = cs.public_input("chain_to", req.chain_to)
        book_after = cs.public_input("book_after", bh.book_commitment(new_book))
        root = cs.public_input("quotes_root", quotes_root(quote_elements(m, req.quotes)))
    private = {"public": False}
    with cs.scope("market"):
        spot = gf.fixed_input(cs, "spot", m.spot, fx.SPOT_MIN, fx.SPOT_MAX, **private)
        now = gf.fixed_input(cs, "oracle_time", m.now, 0, fb.EXPIRY_MAX, **private)
        rate = gf.fixed_input(cs, "rate", m.rate, -fx.RATE_ABS_MAX, fx.RATE_ABS_MAX, **private)
        carry = gf.fixed_input(cs, "carry", m.carry, -fx.RATE_ABS_MAX, fx.RATE_ABS_MAX, **private)
    with cs.scope("regime"):
        high_vol = new_boolean(cs, int(req.high_vol), "high_vol")
        nonce = gf.fixed_input(cs, "nonce", req.nonce, 0, (1 << NONCE_BITS) - 1, **private)
        fills_from = gf.fixed_input(cs, "fills_from", req.fills_from, 0, (1 << FILL_INDEX_BITS) - 1, **private)
        fills_to = gf.fixed_input(cs, "fills_to", req.fills_to, 0, (1 << FILL_INDEX_BITS) - 1, **private)
    expiry_inputs = []
    for e, smile in enumerate(m.expiries):
        with cs.scope(f"expiry[{e}]"):
            expiry_inputs.append((gf.fixed_input(cs, "expiry", smile.expiry, 0, fb.EXPIRY_MAX, **private),
                                  cb.svi_inputs(cs, "svi_", smile.svi, **private)))
    markets = cbk.expiry_markets(cs, now, rate, carry, expiry_inputs)
    atm = []
    for e, market in enumerate(markets):
        with cs.scope(f"expiry[{e}]"):
            atm.append(cbk.atm_total_variance(cs, market.svi))
    with cs.scope("risk_inputs"):
        limits = {f.name: gf.fixed_input(cs, f.name, getattr(req.limits, f.name), 0, (1 << fr.LIMIT_BITS) - 1,
                                         **private) for f in dataclasses.fields(fr.RiskLimitsFixed)}
        margin = gf.fixed_input(cs, "model_margin", req.margin, 0, (1 << fr.LIMIT_BITS) - 1, **private)

    with cs.scope("book"):
        states = cbk.open_book(cs, req.old_book, book_before)
        states = cbk.apply_fills(cs, states, [fb.pack_record(f) for f in req.fills], req.fill_capacity, chain_from,
                                 chain_to, fills_to.lc - fills_from.lc)
        slots = cbk.close_book(cs, states, book_after)
        book = cbk.price_book(cs, slots, markets, spot)

    with cs.scope("state"):
        wires = {name: gf.fixed_input(cs, name, getattr(req.policy, name), 0, hi, **private) for name, hi in (
            ("base_half_spread", fq.BASE_HALF_SPREAD_MAX), ("k_gamma", fq.K_GAMMA_MAX), ("k_vega", fq.K_VEGA_MAX),
            ("multiplier_low", fq.MULTIPLIER_MAX), ("multiplier_high", fq.MULTIPLIER_MAX))}
        salt = cs.private_input("salt", req.state_salt)
        with cs.scope("commitment"):
            policy_hash = poseidon(cs, [w.lc for w in wires.values()])
            assert_equal(cs, poseidon(cs, [policy_hash, salt]), state_commitment, "opens_commitment")
        abs_vega = gf.absolute(cs, book.net_vega, "abs_book_net_vega")
        state = cq.CommittedState(**wires, vega_rate=gf.mul(cs, wires["k_vega"], abs_vega, name="k_vega_q"),
                                  commitment=state_commitment)

    published, quote_bsm, exposure = [], [], {"delta": [], "gamma": [], "vega": []}
    for i, order in enumerate(req.quotes):
        with cs.scope(f"quote[{i}]"):
            fields, bsm, size = _quote(cs, order, markets, spot, state, high_vol)
            published.append(fields)
            quote_bsm.append(bsm)
            exposure["delta"].append(gf.mul(cs, size, gf.absolute(cs, bsm.delta, "abs_delta"), name="size_delta"))
            exposure["gamma"].append(gf.mul(cs, size, gf.absolute(cs, bsm.gamma, "abs_gamma"), name="size_gamma"))
            exposure["vega"].append(gf.mul(cs, size, gf.absolute(cs, bsm.vega, "abs_vega"), name="size_vega"))
    totals = tuple(cbk.sum_fixed(exposure[g]) for g in ("delta", "gamma", "vega"))
    with cs.scope("quoted"):
        # each size_units < 2^36, so their sum cannot wrap: it is 0 exactly when every size is
        total_size = linear_combination((1, fields["size_units"].lc) for fields in published)
        quoted = is_zero(cs, total_size).negate() if published else Boolean.constant_bit(False)
    risk = cbk.risk_outcome(cs, book, totals, limits, margin, spot)
    with cs.scope("mark_window"):
        lo = -(1 << (cbk.MARK_BITS - 1))
        mark = Fixed(book.mark.lc, lo, -lo - 1, tuple(to_bits(cs, book.mark.lc - lo, cbk.MARK_BITS)))

    packer = PublicPacker(layout)
    packer.add("commitments", {"state_commitment": state_commitment, "book_before": book_before,
                               "chain_from": chain_from, "chain_to": chain_to, "book_after": book_after,
                               "quotes_root": root})
    packer.add("market", {"spot": spot, "oracle_time": now, "rate": rate, "carry": carry})
    packer.add("regime", {"high_vol": high_vol, "nonce": nonce, "fills_from": fills_from, "fills_to": fills_to})
    for (expiry, svi), w0 in zip(expiry_inputs, atm):
        packer.add("expiry", {"expiry": expiry, "svi_a": svi.a, "svi_b": svi.b, "svi_rho": svi.rho, "svi_m": svi.m,
                              "svi_sigma": svi.sigma, "atm_variance": w0})
    packer.add("risk", {**limits, "model_margin": margin})
    packer.add("outcome", {"risk_ok": risk.risk_ok, "quoted": quoted, "worst_loss": risk.worst_loss, "mark": mark})
    for fields in published:
        packer.add("quote", fields)
    packer.finish(cs)
    return BookBatchWires(book, risk, tuple(quote_bsm), quoted, layout)
