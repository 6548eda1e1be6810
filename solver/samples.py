"""Sample inputs for the demo, `dlpe circuit-info` and the benchmarks: a BTC chain of one expiry,
a small book, the default quoting policy. Illustrative numbers, not market data."""

from __future__ import annotations

import random

from circuits.batch import BatchRequest, QuoteLine
from engine import fixed as fx
from engine.fixed_quote import PolicyFixed
from engine.fixed_risk import PositionFixed, RiskLimitsFixed
from engine.quoting import QuotePolicy

SPOT = 95_000.0
EXPIRY_YEARS = 30 / 365


def sample_svi(t: float = EXPIRY_YEARS) -> fx.SVIFixed:
    """A BTC-like smile: about 55% ATM vol with a put skew (raw SVI, total variance)."""
    f = fx.to_fixed
    return fx.SVIFixed(a=f(0.25 * t), b=f(0.18 * t**0.5), rho=f(-0.35), m=f(0.02), sigma=f(0.25 * t**0.5))


def sample_batch_request(n_quotes: int, seed: int = 1, high_vol: bool = False) -> BatchRequest:
    """n_quotes strikes around the money, alternating puts below and calls above spot."""
    f = fx.to_fixed
    rng = random.Random(seed)
    strikes = [round(SPOT * (0.8 + 0.4 * (i + 0.5) / max(n_quotes, 1)), -2) for i in range(n_quotes)]
    lines = tuple(QuoteLine(f(k), k >= SPOT, f(450.0 + rng.uniform(0, 100))) for k in strikes)
    positions = tuple(PositionFixed(f(rng.uniform(-20, 20)), f(rng.uniform(-1, 1)), f(rng.uniform(0, 5e-5)),
                                    f(rng.uniform(0, 1.5e4))) for _ in range(4))
    return BatchRequest(
        spot=f(SPOT), t=f(EXPIRY_YEARS), rate=f(0.04), carry=0, svi=sample_svi(), high_vol=high_vol,
        nonce=seed, policy=PolicyFixed.from_policy(QuotePolicy()), net_vega=f(-1.2e4), state_salt=rng.getrandbits(128),
        quotes=lines, positions=positions, portfolio_salt=rng.getrandbits(128),
        limits=RiskLimitsFixed(f(200.0), f(1.0), f(5e5), f(5e6)))
