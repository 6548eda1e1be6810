"""The batch circuit: N quotes of one expiry and one risk check, with packed public inputs.

What a verifier sees is circuits.layout.batch_layout(N), and the circuit publishes exactly that
(PublicPacker checks every field): the commitment to the solver's quoting state, the
commitment to its book, then the packed elements — market (spot, t, rate, carry), the
expiry's SVI smile, the regime flag and the batch nonce, the risk limits, then one element
per quote (strike, type, mid, half spread). Every packed component is a private wire
range-checked to its slot's width, so the unpacking (one linear constraint per element) is
sound. The quotes' bid and ask are mid ∓ half spread, computed by whoever reads the packed
quote.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits import bsm as cb
from circuits import quote as cq
from circuits import risk as cr
from circuits.builder import ConstraintSystem
from circuits.gadgets import fixed as gf
from circuits.gadgets.bits import new_boolean, to_bits
from circuits.gadgets.fixed import Fixed
from circuits.layout import NONCE_BITS, Layout, PackedField, batch_layout
from circuits.packing import PublicPacker
from engine import fixed as fx
from engine import fixed_quote as fq
from engine import fixed_risk as fr


@dataclass(frozen=True)
class QuoteLine:
    """One quoted option of the batch: strike (2^-48), type, and the solver's half spread (2^-48)."""

    strike: int
    is_call: bool
    half_spread: int


@dataclass(frozen=True)
class BatchRequest:
    """Everything a batch proof needs, in engine fixed-point integers."""

    spot: int
    t: int
    rate: int
    carry: int
    svi: fx.SVIFixed
    high_vol: bool
    nonce: int
    policy: fq.PolicyFixed
    net_vega: int
    state_salt: int
    quotes: tuple[QuoteLine, ...]
    positions: tuple[fr.PositionFixed, ...]
    portfolio_salt: int
    limits: fr.RiskLimitsFixed


@dataclass(frozen=True)
class BatchWires:
    quotes: tuple[cq.QuoteWires, ...]
    risk: cr.RiskWires
    layout: Layout


def _window(cs: ConstraintSystem, x: Fixed, field: PackedField, name: str) -> Fixed:
    """Range-check x to the field's window [lo, lo + 2^bits) (one check) so that it can be packed."""
    with cs.scope(name):
        bits = to_bits(cs, x.lc - field.lo, field.bits)
    return Fixed(x.lc, field.lo, field.hi, tuple(bits))


def batch_circuit(cs: ConstraintSystem, req: BatchRequest) -> BatchWires:
    """Build the batch: shared market terms, committed state, each quote, the risk check, the packing."""
    layout = batch_layout(len(req.quotes))
    private = {"public": False}
    with cs.scope("market"):
        spot = gf.fixed_input(cs, "spot", req.spot, fx.SPOT_MIN, fx.SPOT_MAX, **private)
        t = gf.fixed_input(cs, "t", req.t, 1, fx.T_MAX, **private)
        rate = gf.fixed_input(cs, "rate", req.rate, -fx.RATE_ABS_MAX, fx.RATE_ABS_MAX, **private)
        carry = gf.fixed_input(cs, "carry", req.carry, -fx.RATE_ABS_MAX, fx.RATE_ABS_MAX, **private)
        svi = cb.svi_inputs(cs, "svi_", req.svi, **private)
        high_vol = new_boolean(cs, int(req.high_vol), "high_vol")
        nonce = gf.fixed_input(cs, "nonce", req.nonce, 0, (1 << NONCE_BITS) - 1, **private)
        terms = cb.expiry_terms(cs, t, rate, carry)

    state = cq.committed_state(cs, req.policy, req.net_vega, req.state_salt)
    risk = cr.risk_check(cs, list(req.positions), req.portfolio_salt, req.limits, spot, public_limits=False)

    quotes, published = [], []
    mid_field = layout.definition.field("quote", "mid")
    for i, line in enumerate(req.quotes):
        with cs.scope(f"quote[{i}]"):
            strike = gf.fixed_input(cs, "strike", line.strike, fx.SPOT_MIN, fx.SPOT_MAX, **private)
            is_call = new_boolean(cs, int(line.is_call), "is_call")
            q = cq.quote(cs, spot, strike, terms, svi, is_call, state, high_vol, line.half_spread)
            mid = _window(cs, q.bsm.price, mid_field, "mid_window")
            published.append({"strike": strike, "is_call": is_call, "mid": mid, "half_spread": q.half_spread})
            quotes.append(q)

    # Published in the layout's order; the packer refuses any field that is not the layout's.
    packer = PublicPacker(layout)
    packer.add("commitments", {"state_commitment": state.commitment, "portfolio_commitment": risk.commitment})
    packer.add("market", {"spot": spot, "t": t, "rate": rate, "carry": carry})
    packer.add("smile", {"svi_a": svi.a, "svi_b": svi.b, "svi_rho": svi.rho, "svi_m": svi.m, "svi_sigma": svi.sigma})
    packer.add("regime", {"high_vol": high_vol, "nonce": nonce})
    packer.add("limits", risk.limits)
    for fields in published:
        packer.add("quote", fields)
    packer.finish(cs)
    return BatchWires(tuple(quotes), risk, layout)
