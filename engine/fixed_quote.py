"""The quoting rule in fixed point: what the quote circuit proves about a bid/ask pair.

It mirrors engine.quoting.min_half_spread,

    h_min = m_regime · (h_0 + k_gamma·Gamma·S² + k_vega·vega·|Q_vega|),

on the integers of engine.fixed (one rounding per product, in the order below). A quote
(bid, ask) = (mid - h, mid + h) is admissible when h >= h_min, mid being the fixed-point
Black-Scholes price on the expiry's SVI smile. The policy and the book's vega inventory
are private to the solver; the circuit binds them to a public hash commitment.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import fixed as fx
from engine.errors import InvalidInput
from engine.quoting import QuotePolicy

ONE = fx.ONE
# Declared domain of the committed state (sizes the circuit's range checks).
BASE_HALF_SPREAD_MAX = 1 << (fx.FRAC_BITS + 24)  # currency per contract
K_GAMMA_MAX = ONE  # squared relative move
K_VEGA_MAX = ONE >> 8  # per unit of currency
MULTIPLIER_MAX = 16 * ONE
NET_VEGA_ABS_MAX = 1 << (fx.FRAC_BITS + 32)  # currency per 1.00 vol


@dataclass(frozen=True)
class PolicyFixed:
    """The committed spread parameters of QuotePolicy, each at 2^-48."""

    base_half_spread: int
    k_gamma: int
    k_vega: int
    multiplier_low: int
    multiplier_high: int

    def __post_init__(self) -> None:
        for name, hi in (("base_half_spread", BASE_HALF_SPREAD_MAX), ("k_gamma", K_GAMMA_MAX), ("k_vega", K_VEGA_MAX),
                         ("multiplier_low", MULTIPLIER_MAX), ("multiplier_high", MULTIPLIER_MAX)):
            value = getattr(self, name)
            if not 0 <= value <= hi:
                raise InvalidInput(f"policy.{name}", f"must be in [0, {fx.from_fixed(hi):g}]", fx.from_fixed(value))

    @classmethod
    def from_policy(cls, policy: QuotePolicy) -> PolicyFixed:
        return cls(fx.to_fixed(policy.base_half_spread), fx.to_fixed(policy.k_gamma), fx.to_fixed(policy.k_vega),
                   fx.to_fixed(policy.spread_multiplier_low), fx.to_fixed(policy.spread_multiplier_high))

    def fields(self) -> tuple[int, ...]:
        """The values the commitment hashes, in a fixed order."""
        return (self.base_half_spread, self.k_gamma, self.k_vega, self.multiplier_low, self.multiplier_high)


def check_net_vega(net_vega: int) -> None:
    if not -NET_VEGA_ABS_MAX <= net_vega <= NET_VEGA_ABS_MAX:
        raise InvalidInput("net_vega", "must be within ±2^32", fx.from_fixed(net_vega))


def min_half_spread_fixed(policy: PolicyFixed, spot: int, gamma: int, vega: int, net_vega: int,
                          high_vol: bool) -> int:
    """h_min in fixed point; gamma >= 0 and vega >= 0 as bsm_fixed returns them."""
    check_net_vega(net_vega)
    dollar_gamma = fx.mul(fx.mul(gamma, spot), spot)  # Gamma·S²
    vega_charge = fx.mul(vega, fx.mul(policy.k_vega, abs(net_vega)))
    charge = fx.add(fx.add(policy.base_half_spread, fx.mul(policy.k_gamma, dollar_gamma)), vega_charge)
    multiplier = policy.multiplier_high if high_vol else policy.multiplier_low
    return fx.mul(multiplier, charge)


@dataclass(frozen=True)
class FixedQuote:
    """A proven-style quote: mid and Greeks from bsm_fixed_svi, the half spread and its floor, bid and ask."""

    bsm: fx.FixedBSM
    min_half_spread: int
    half_spread: int
    bid: int
    ask: int


def quote_fixed(spot: int, strike: int, terms: fx.ExpiryTerms, svi: fx.SVIFixed, is_call: bool,
                policy: PolicyFixed, net_vega: int, high_vol: bool, half_spread: int) -> FixedQuote:
    """The quote the circuit proves; raises InvalidInput when half_spread is below the policy floor."""
    bsm = fx.bsm_fixed_svi(spot, strike, terms, svi, is_call)
    floor = min_half_spread_fixed(policy, spot, bsm.gamma, bsm.vega, net_vega, high_vol)
    if half_spread < floor:
        raise InvalidInput("half_spread", f"below the policy minimum {fx.from_fixed(floor):.6g}",
                           fx.from_fixed(half_spread))
    return FixedQuote(bsm, floor, half_spread, bsm.price - half_spread, bsm.price + half_spread)
