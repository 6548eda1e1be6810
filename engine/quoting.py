"""Quoting policy: from the vol surface and the book's inventory to bid/ask quotes.

For each option, with surface vol sigma, BSM price V and Greeks (engine.bsm):

    mid          = V(sigma)
    vol shift    = clip(-vega_risk_aversion * vol_of_vol^2 * horizon * Q_vega
                        + flow_vol_shift * flow, -max_vol_shift, +max_vol_shift)
    reservation  = V(sigma + vol shift)
                   - delta * delta_risk_aversion * Q_delta * (sigma * S)^2 * horizon
    half spread  = min_half_spread(policy, gamma, vega, Q_vega, regime multiplier, S)
    bid, ask     = reservation -/+ half spread

The reservation price is Avellaneda & Stoikov (2008, "High-frequency trading
in a limit order book", Quantitative Finance 8(3)), r = s - q*gamma*sigma^2*(T-t),
applied to the option's two risk factors: the delta inventory Q_delta (units
of underlying) moves the price through the option's delta, and the vega
inventory Q_vega (currency per 1.00 of vol) moves the quoted vol, i.e. shifts
the engine's smile against the market surface, as in the multi-asset extension
of Gueant, Lehalle & Fernandez-Tapia (2013, "Dealing with the inventory risk",
Math. Financ. Econ. 7) and Gueant (2017, "Optimal market making", Appl. Math.
Finance 24(2)). Taker flow (net buying > 0) lifts the quoted vol.

The half spread is the circuit's rule: ``min_half_spread``. Size and spread
depend on the regime: tight and large in LOW_VOL, wide and small in HIGH_VOL,
no quotes at all in LIQUIDATION_CASCADE (the engine only holds and hedges).
A side whose fill would push |Q_vega| past ``max_abs_net_vega`` is cut to the
remaining capacity.

Units: prices and spreads in the quote currency per contract of one unit of
underlying; vols annualized decimals; time in years.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np

from engine.bsm import bsm_greeks, bsm_price
from engine.errors import InvalidInput
from engine.instruments import OptionInstrument
from engine.regime import Regime
from engine.surface import VolSurface, log_moneyness


@dataclass(frozen=True)
class QuotePolicy:
    """Every parameter of the quoting rule, as plain numbers (the circuit commits to their hash).

    Defaults are sized for BTC options (spot about 60,000 USD, one contract = 1 BTC).

    base_half_spread: h_0, currency per contract.
    k_gamma: charge on dollar gamma |Gamma| S^2, in squared relative spot moves (about half the
        variance of the move between two hedges: 0.6^2 / 8760 / 2 = 2e-5 for 60% vol, hourly hedging).
    k_vega: charge on |vega * Q_vega|, per unit of currency (risk aversion times vol-of-vol variance).
    delta_risk_aversion: Avellaneda-Stoikov gamma for the delta inventory, per unit of currency.
    vega_risk_aversion: the same for the vega inventory, per unit of currency.
    vol_of_vol: annualized volatility of implied vol, in vol units (0.8 = 80 vol points per sqrt(year)).
    horizon_years: inventory holding horizon (T - t in Avellaneda-Stoikov), years.
    flow_vol_shift: quoted-vol shift per unit of normalized signed taker flow (flow in [-1, 1]).
    max_vol_shift: cap on |total vol shift|, vol units.
    base_size: contracts quoted per side in LOW_VOL.
    spread_multiplier_low / _high: regime multiplier of the half spread.
    size_multiplier_low / _high: regime multiplier of the size.
    max_abs_net_vega: |Q_vega| limit, currency per 1.00 vol.
    """

    base_half_spread: float = 10.0
    k_gamma: float = 5e-5
    k_vega: float = 1e-8
    delta_risk_aversion: float = 5e-5
    vega_risk_aversion: float = 1e-3
    vol_of_vol: float = 1.0
    horizon_years: float = 1.0 / (365.0 * 24.0)
    flow_vol_shift: float = 0.01
    max_vol_shift: float = 0.05
    base_size: float = 1.0
    spread_multiplier_low: float = 1.0
    spread_multiplier_high: float = 2.5
    size_multiplier_low: float = 1.0
    size_multiplier_high: float = 0.4
    max_abs_net_vega: float = 2.0e5

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise InvalidInput(f.name, "must be a finite number >= 0", value)
        for name in ("spread_multiplier_low", "spread_multiplier_high", "base_size", "max_abs_net_vega"):
            if getattr(self, name) <= 0:
                raise InvalidInput(name, "must be > 0", getattr(self, name))

    def spread_multiplier(self, regime: Regime) -> float:
        """Half-spread multiplier of a regime (a cascade has no quotes, so none applies; 0 is returned)."""
        return {Regime.LOW_VOL: self.spread_multiplier_low, Regime.HIGH_VOL: self.spread_multiplier_high}.get(
            regime, 0.0
        )

    def size_multiplier(self, regime: Regime) -> float:
        return {Regime.LOW_VOL: self.size_multiplier_low, Regime.HIGH_VOL: self.size_multiplier_high}.get(regime, 0.0)


def min_half_spread(
    policy: QuotePolicy,
    gamma: np.ndarray | float,
    vega: np.ndarray | float,
    net_vega_inventory: float,
    regime_multiplier: float,
    spot: float,
) -> np.ndarray | float:
    """Smallest admissible half spread, currency per contract; the rule the quote circuit mirrors.

        h_min = m_regime * (h_0 + k_gamma * |Gamma| * S^2 + k_vega * |vega * Q_vega|)

    gamma: option gamma (per unit of spot squared); vega: option vega (currency per 1.00 vol);
    net_vega_inventory: the book's Q_vega (currency per 1.00 vol); regime_multiplier: m_regime;
    spot: S. Linear in each charge, so the circuit needs two absolute values, three products
    and a sum. The gamma term prices the hedging slippage of the gamma taken on; the vega term
    grows with how much the trade adds to an already large vega position.
    """
    charge = (
        policy.base_half_spread
        + policy.k_gamma * np.abs(gamma) * spot * spot
        + policy.k_vega * np.abs(vega * net_vega_inventory)
    )
    return regime_multiplier * charge


@dataclass(frozen=True)
class Inventory:
    """The book's state that moves quotes.

    net_delta: units of underlying (options' delta plus hedges); net_vega: currency per 1.00 vol;
    signed_flow: recent taker buy minus sell volume over total, in [-1, 1].
    """

    net_delta: float = 0.0
    net_vega: float = 0.0
    signed_flow: float = 0.0

    def __post_init__(self) -> None:
        for name in ("net_delta", "net_vega", "signed_flow"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidInput(name, "must be finite", getattr(self, name))
        if not -1.0 <= self.signed_flow <= 1.0:
            raise InvalidInput("signed_flow", "must lie in [-1, 1]", self.signed_flow)


@dataclass(frozen=True)
class Quote:
    """Two-sided quote for one option, prices in currency per contract, sizes in contracts.

    A side with size 0 is not shown; both sizes 0 means no quote (e.g. a cascade).
    """

    instrument: OptionInstrument
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    mid: float
    reservation: float
    half_spread: float
    vol: float  # quoted vol: surface vol plus the inventory/flow shift
    surface_vol: float
    regime: Regime

    @property
    def is_live(self) -> bool:
        return self.bid_size > 0 or self.ask_size > 0


def quote_options(
    instruments: Sequence[OptionInstrument],
    times_to_expiry: Sequence[float] | np.ndarray,
    spot: float,
    rate: float,
    surface: VolSurface,
    inventory: Inventory,
    regime: Regime,
    policy: QuotePolicy,
    carry: float = 0.0,
) -> list[Quote]:
    """Quotes for ``instruments`` (times to expiry in years, > 0) at spot S, rate and carry (continuous, per year).

    See the module docstring for the formulas. Vectorized: one pricing pass for all options.
    """
    if not (math.isfinite(spot) and spot > 0):
        raise InvalidInput("spot", "must be finite and > 0", spot)
    if not isinstance(regime, Regime):
        raise InvalidInput("regime", "must be a Regime", regime)
    t = np.asarray(times_to_expiry, dtype=float)
    if t.shape != (len(instruments),):
        raise InvalidInput("times_to_expiry", "need one time per instrument", t.shape)
    if np.any(~np.isfinite(t)) or np.any(t <= 0):
        raise InvalidInput("times_to_expiry", "must be finite and > 0 (expired options are not quoted)", t)
    strikes = np.array([inst.strike for inst in instruments])
    is_call = np.array([inst.is_call for inst in instruments], dtype=bool)
    surface_vol = surface.implied_vol(log_moneyness(strikes, spot, t, rate, carry), t)
    g = bsm_greeks(spot, strikes, t, rate, surface_vol, is_call, carry)

    vol_shift = -policy.vega_risk_aversion * policy.vol_of_vol**2 * policy.horizon_years * inventory.net_vega
    vol_shift += policy.flow_vol_shift * inventory.signed_flow
    vol_shift = float(np.clip(vol_shift, -policy.max_vol_shift, policy.max_vol_shift))
    quoted_vol = np.maximum(surface_vol + vol_shift, 0.01)  # never quote below 1 vol point
    shifted = np.asarray(bsm_price(spot, strikes, t, rate, quoted_vol, is_call, carry))
    # Avellaneda-Stoikov on the delta inventory, passed through each option's delta.
    delta_skew = (
        g.delta * policy.delta_risk_aversion * inventory.net_delta * (surface_vol * spot) ** 2 * policy.horizon_years
    )
    reservation = shifted - delta_skew

    multiplier = policy.spread_multiplier(regime)
    half = np.asarray(min_half_spread(policy, g.gamma, g.vega, inventory.net_vega, multiplier, spot))
    size = policy.base_size * policy.size_multiplier(regime)
    # A bid fill buys the option (+vega); an ask fill sells it (-vega). Cap each side by the vega limit.
    vega = np.maximum(np.abs(g.vega), 1e-12)
    bid_capacity = np.maximum(policy.max_abs_net_vega - inventory.net_vega, 0.0) / vega
    ask_capacity = np.maximum(policy.max_abs_net_vega + inventory.net_vega, 0.0) / vega
    bid = np.maximum(reservation - half, 0.0)
    ask = reservation + half
    bid_size = np.where(bid > 0, np.minimum(size, bid_capacity), 0.0)
    ask_size = np.minimum(size, ask_capacity)

    return [
        Quote(
            instrument=inst,
            bid=float(bid[i]),
            ask=float(ask[i]),
            bid_size=float(bid_size[i]),
            ask_size=float(ask_size[i]),
            mid=float(np.atleast_1d(g.price)[i]),
            reservation=float(reservation[i]),
            half_spread=float(half[i]),
            vol=float(quoted_vol[i]),
            surface_vol=float(surface_vol[i]),
            regime=regime,
        )
        for i, inst in enumerate(instruments)
    ]
