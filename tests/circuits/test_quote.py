"""The quote circuit proves the engine's quote, and rejects what the issue lists: a mid off by one
unit, a spread below policy, a vol that does not match the surface inputs, a commitment that does
not match the private parameters."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits import quote as cq
from circuits.builder import ConstraintSystem
from engine import fixed as fx
from engine import fixed_quote as fq
from engine.errors import InvalidInput
from engine.quoting import QuotePolicy

f = fx.to_fixed
POLICY = fq.PolicyFixed.from_policy(QuotePolicy())


def request(**changes) -> cq.QuoteRequest:
    t = 30 / 365
    base = cq.QuoteRequest(
        spot=f(95_000), strike=f(100_000), t=f(t), rate=f(0.04), carry=f(0.0),
        svi=fx.SVIFixed(f(0.04 * t), f(0.1 * t**0.5), f(-0.3), f(0.0), f(0.2)),
        is_call=True, high_vol=False, policy=POLICY, net_vega=f(-1.5e4), salt=987654321, half_spread=f(150.0),
    )
    return dataclasses.replace(base, **changes)


def engine_quote(req: cq.QuoteRequest) -> fq.FixedQuote:
    terms = fx.expiry_terms(req.t, req.rate, req.carry)
    return fq.quote_fixed(req.spot, req.strike, terms, req.svi, req.is_call, req.policy, req.net_vega,
                          req.high_vol, req.half_spread)


def build(req: cq.QuoteRequest, tamper=None) -> tuple[ConstraintSystem, cq.QuoteWires]:
    cs = ConstraintSystem(tamper_hint=tamper)
    return cs, cq.single_quote_circuit(cs, req)


def public_value(cs: ConstraintSystem, name: str) -> int:
    """Creation-order index of the public input or output called name."""
    return next(i for i in range(cs.n_wires) if cs.wire_label(i).endswith(name))


@settings(max_examples=6, deadline=None)
@given(
    st.floats(0.5, 2.0), st.floats(1 / 365, 1.0), st.booleans(), st.booleans(), st.floats(-1e5, 1e5),
)
def test_quote_circuit_proves_the_engine_quote(moneyness, t, is_call, high_vol, net_vega):
    req = request(strike=f(95_000 * moneyness), t=f(t), is_call=is_call, high_vol=high_vol, net_vega=f(net_vega),
                  svi=fx.SVIFixed(f(0.04 * t), f(0.1 * t**0.5), f(-0.3), f(0.0), f(0.2)), half_spread=f(400.0))
    want = engine_quote(req)
    cs, q = build(req)
    assert cs.is_satisfied(), cs.first_failure()
    assert (q.bsm.price.value, q.bsm.delta.value, q.bsm.gamma.value, q.bsm.vega.value) == (
        want.bsm.price, want.bsm.delta, want.bsm.gamma, want.bsm.vega)
    assert q.min_half_spread.value == want.min_half_spread
    assert (fx.from_fixed(want.bid), fx.from_fixed(want.ask)) == (
        fx.from_fixed(cq.gf.to_signed(q.bid.value)), fx.from_fixed(cq.gf.to_signed(q.ask.value)))


def test_shape_does_not_depend_on_the_witness():
    a, _ = build(request())
    b, _ = build(request(strike=f(80_000), is_call=False, high_vol=True, net_vega=f(3e4), half_spread=f(900.0)))
    assert a.to_r1cs().constraints == b.to_r1cs().constraints


def test_published_bid_or_ask_off_by_one_unit_is_rejected():
    for name in ("bid", "ask"):
        cs, _ = build(request())
        values = list(cs.values)
        values[public_value(cs, f"quote/{name}")] += 1
        failure = cs.first_failure(values)
        assert failure is not None and failure.label == f"quote/output:{name}"


def test_mid_off_by_one_unit_is_rejected():
    """A prover who shifts the price's last rounding by one ulp (remainder adjusted) is caught."""
    def tamper(label, value):
        return value + 1 if label == "quote/bsm/spot_leg/quotient" else value

    cs, q = build(request(), tamper)
    assert q.bsm.price.value == engine_quote(request()).bsm.price + 1
    assert not cs.is_satisfied()


def test_spread_below_policy_is_rejected():
    floor = engine_quote(request()).min_half_spread
    with pytest.raises(InvalidInput, match="half_spread"):
        engine_quote(request(half_spread=floor - 1))
    cs, _ = build(request(half_spread=floor))
    assert cs.is_satisfied()
    cs, _ = build(request(half_spread=floor - 1))
    assert cs.first_failure().label.startswith("quote/half_spread/at_least_floor")


def test_high_vol_regime_raises_the_floor():
    low, high = engine_quote(request()), engine_quote(request(high_vol=True, half_spread=f(400.0)))
    assert high.min_half_spread > low.min_half_spread


def test_vol_not_matching_the_surface_is_rejected():
    """Proving with another total volatility than SVI(k) gives: the sqrt hint is pinned to the variance."""
    def tamper(label, value):
        return value + 1000 if label == "quote/total_vol/sqrt/isqrt" else value

    cs, _ = build(request(), tamper)
    assert not cs.is_satisfied()
    # and the published SVI parameters are what the proof is about: change one after proving
    cs, _ = build(request())
    values = list(cs.values)
    values[public_value(cs, "market/svi_a")] += 1
    assert not cs.is_satisfied(values)


def test_commitment_not_matching_the_private_parameters_is_rejected():
    req = request()
    cs, _ = build(req)
    values = list(cs.values)
    index = public_value(cs, "state/state_commitment")
    values[index] = cq.state_commitment(dataclasses.replace(req.policy, k_gamma=req.policy.k_gamma + 1),
                                        req.net_vega, req.salt)
    assert cs.first_failure(values).label == "state/commitment/opens_commitment"
    # private parameters changed under the honest commitment: the same constraint fails
    values = list(cs.values)
    values[next(i for i in range(cs.n_wires) if cs.wire_label(i) == "state/k_gamma")] += 1
    assert not cs.is_satisfied(values)
