"""The quote circuit: a bid/ask pair is the engine's fixed-point mid plus or minus a half
spread no smaller than the committed policy's floor (engine.fixed_quote, step by step).

Public: spot, the expiry's t, rate, carry and SVI parameters, the strike, the option
type, the regime flag, bid and ask, and the commitment to the solver's private state.
Private: the spread policy, the book's net vega and a salt, bound by
commitment = Poseidon(Poseidon(policy fields), net_vega, salt), and the half spread.
"""

from __future__ import annotations

from dataclasses import dataclass

from bn254.constants import R
from circuits import bsm as cb
from circuits.builder import ConstraintSystem
from circuits.gadgets import fixed as gf
from circuits.gadgets.bits import range_check
from circuits.gadgets.comparators import assert_equal
from circuits.gadgets.fixed import Fixed
from circuits.gadgets.hash import poseidon
from circuits.gadgets.select import select
from circuits.lc import LC, Boolean
from circuits.poseidon import poseidon_hash
from engine import fixed as fx
from engine import fixed_quote as fq

HALF_SPREAD_MAX = (1 << (fx.FRAC_BITS + 32)) - 1  # a power-of-two window: one range check


def state_commitment(policy: fq.PolicyFixed, net_vega: int, salt: int) -> int:
    """Poseidon(Poseidon(policy fields), net_vega, salt): the public commitment to the solver's state."""
    policy_hash = poseidon_hash([v % R for v in policy.fields()])
    return poseidon_hash([policy_hash, net_vega % R, salt % R])


@dataclass(frozen=True)
class CommittedState:
    """The solver's private state on wires, proven to open the public commitment."""

    base_half_spread: Fixed
    k_gamma: Fixed
    k_vega: Fixed
    multiplier_low: Fixed
    multiplier_high: Fixed
    vega_rate: Fixed  # mul(k_vega, |net_vega|), shared by every quote
    commitment: LC


def committed_state(cs: ConstraintSystem, policy: fq.PolicyFixed, net_vega: int, salt: int) -> CommittedState:
    """Private policy, net vega and salt, each in its declared domain, hashed to the public commitment."""
    with cs.scope("state"):
        commitment = cs.public_input("state_commitment", state_commitment(policy, net_vega, salt))
        bounds = {"base_half_spread": fq.BASE_HALF_SPREAD_MAX, "k_gamma": fq.K_GAMMA_MAX, "k_vega": fq.K_VEGA_MAX,
                  "multiplier_low": fq.MULTIPLIER_MAX, "multiplier_high": fq.MULTIPLIER_MAX}
        wires = {name: gf.fixed_input(cs, name, getattr(policy, name), 0, hi, public=False) for name, hi in bounds.items()}
        vega = gf.fixed_input(cs, "net_vega", net_vega, -fq.NET_VEGA_ABS_MAX, fq.NET_VEGA_ABS_MAX, public=False)
        salt_wire = cs.private_input("salt", salt)
        with cs.scope("commitment"):
            policy_hash = poseidon(cs, [wires[name].lc for name in bounds])
            assert_equal(cs, poseidon(cs, [policy_hash, vega.lc, salt_wire]), commitment, "opens_commitment")
        abs_vega = gf.absolute(cs, vega, "abs_net_vega")
        vega_rate = gf.mul(cs, wires["k_vega"], abs_vega, name="k_vega_q")
    return CommittedState(**wires, vega_rate=vega_rate, commitment=commitment)


def min_half_spread(cs: ConstraintSystem, state: CommittedState, spot: Fixed, gamma: Fixed, vega: Fixed,
                    high_vol: Boolean) -> Fixed:
    """fq.min_half_spread_fixed: m_regime·(h_0 + k_gamma·Gamma·S² + vega·(k_vega·|Q_vega|))."""
    with cs.scope("spread_floor"):
        dollar_gamma = gf.mul(cs, gf.mul(cs, gamma, spot, name="gamma_s"), spot, name="gamma_s2")
        vega_charge = gf.mul(cs, vega, state.vega_rate, name="vega_charge")
        charge = state.base_half_spread + gf.mul(cs, state.k_gamma, dollar_gamma, name="gamma_charge") + vega_charge
        m = state.multiplier_low
        multiplier = Fixed(select(cs, high_vol, state.multiplier_high.lc, m.lc), 0, fq.MULTIPLIER_MAX)
        return gf.mul(cs, multiplier, charge, name="regime")


@dataclass(frozen=True)
class QuoteWires:
    bsm: cb.BSMWires
    min_half_spread: Fixed
    half_spread: Fixed
    bid: LC
    ask: LC


def quote(cs: ConstraintSystem, spot: Fixed, strike: Fixed, terms: cb.ExpiryWires, svi: cb.SVIWires,
          is_call: Boolean, state: CommittedState, high_vol: Boolean, half_spread: int) -> QuoteWires:
    """fq.quote_fixed: mid from BSM on the SVI smile; half_spread (private) >= the policy floor;
    bid = mid - h, ask = mid + h (returned as LCs for the caller to expose or pack)."""
    out = cb.bsm_svi(cs, spot, strike, terms, svi, is_call)
    floor = min_half_spread(cs, state, spot, out.gamma, out.vega, high_vol)
    with cs.scope("half_spread"):
        h = gf.fixed_input(cs, "half_spread", half_spread, 0, HALF_SPREAD_MAX, public=False)
        with cs.scope("at_least_floor"):
            range_check(cs, h.lc - floor.lc, max(floor.hi, HALF_SPREAD_MAX).bit_length())
    return QuoteWires(out, floor, h, out.price.lc - h.lc, out.price.lc + h.lc)


@dataclass(frozen=True)
class QuoteRequest:
    """Everything one quote's proof needs, as engine fixed-point integers (2^-48) and flags."""

    spot: int
    strike: int
    t: int
    rate: int
    carry: int
    svi: fx.SVIFixed
    is_call: bool
    high_vol: bool
    policy: fq.PolicyFixed
    net_vega: int
    salt: int
    half_spread: int


@dataclass(frozen=True)
class MarketWires:
    """Public market inputs shared by the quotes of one expiry."""

    spot: Fixed
    terms: cb.ExpiryWires
    svi: cb.SVIWires


def market_inputs(cs: ConstraintSystem, spot: int, t: int, rate: int, carry: int, svi: fx.SVIFixed,
                  prefix: str = "") -> MarketWires:
    """Declare spot, t, rate, carry and the SVI parameters as public inputs in the engine's domain."""
    with cs.scope(f"{prefix}market" if prefix else "market"):
        spot_w = gf.fixed_input(cs, "spot", spot, fx.SPOT_MIN, fx.SPOT_MAX, public=True)
        t_w = gf.fixed_input(cs, "t", t, 1, fx.T_MAX, public=True)
        rate_w = gf.fixed_input(cs, "rate", rate, -fx.RATE_ABS_MAX, fx.RATE_ABS_MAX, public=True)
        carry_w = gf.fixed_input(cs, "carry", carry, -fx.RATE_ABS_MAX, fx.RATE_ABS_MAX, public=True)
        svi_w = cb.svi_inputs(cs, "svi_", svi, public=True)
        terms = cb.expiry_terms(cs, t_w, rate_w, carry_w)
    return MarketWires(spot_w, terms, svi_w)


def single_quote_circuit(cs: ConstraintSystem, req: QuoteRequest) -> QuoteWires:
    """One quote as a whole circuit: market, strike, type and regime public; bid and ask public outputs."""
    market = market_inputs(cs, req.spot, req.t, req.rate, req.carry, req.svi)
    state = committed_state(cs, req.policy, req.net_vega, req.salt)
    with cs.scope("quote"):
        strike = gf.fixed_input(cs, "strike", req.strike, fx.SPOT_MIN, fx.SPOT_MAX, public=True)
        is_call = _public_flag(cs, "is_call", req.is_call)
        high_vol = _public_flag(cs, "high_vol", req.high_vol)
        q = quote(cs, market.spot, strike, market.terms, market.svi, is_call, state, high_vol, req.half_spread)
        cs.public_output("bid", q.bid)
        cs.public_output("ask", q.ask)
    return q


def _public_flag(cs: ConstraintSystem, name: str, value: bool) -> Boolean:
    flag = cs.public_input(name, int(value))
    cs.enforce(flag, flag - 1, 0, f"{name}_is_bit")
    return Boolean(flag)
