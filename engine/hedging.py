"""Delta hedging: a no-trade band, child-order schedules (TWAP/VWAP), and a simulated perp book with impact.

Hedge planning. The book's delta is left alone while inside [-H, +H]; outside,
the hedge trades back to the band's edge (Whalley & Wilmott 1997, "An
asymptotic analysis of an optimal hedging model for option pricing with
transaction costs", Math. Finance 7(3): the optimal policy under proportional
costs rebalances to the nearest edge, not to zero). Their band half-width,

    H = (3/2 * exp(-r (T - t)) * cost * S * Gamma^2 / risk_aversion)^(1/3),

is given by ``whalley_wilmott_half_width`` (discounting dropped: T - t is days).

Execution. A parent order is split into child orders: TWAP, equal slices;
VWAP, slices proportional to the expected volume of each interval (Berkowitz,
Logue & Noser 1988; Kissell & Glantz 2003, ch. 8). Each child pays half the
quoted spread, a taker fee, and market impact in relative terms:

    square root:  I(q) = Y * sigma_daily * sqrt(|q| / ADV)   (Almgren et al. 2005, Toth et al. 2011)
    linear:       I(q) = Y * sigma_daily * |q| / ADV          (Kyle 1985)

A fraction ``permanent_fraction`` of each child's impact stays in the book's
price and decays exponentially with ``impact_decay_steps`` (Obizhaeva & Wang
2013, "Optimal trading strategy and supply/demand dynamics", J. Financial
Markets 16: exponential resilience), so a fast schedule pays for its own
earlier children. A buy of q at mid M fills at
M * (1 + offset + h + I(q)), a sell at M * (1 + offset - h - I(q)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

import numpy as np

from engine.errors import InvalidInput


class RebalanceTo(Enum):
    """Where a hedge that leaves the band brings the delta back to."""

    BAND_EDGE = "band_edge"
    ZERO = "zero"


@dataclass(frozen=True)
class HedgePlan:
    """Hedge decision in units of underlying: trade ``quantity`` (+ buy perp) to move delta from ``delta_before`` to ``delta_after``."""

    delta_before: float
    delta_after: float
    quantity: float
    band: float

    @property
    def trades(self) -> bool:
        return self.quantity != 0.0


def plan_delta_hedge(net_delta: float, band: float, rebalance_to: RebalanceTo = RebalanceTo.BAND_EDGE) -> HedgePlan:
    """No-trade-band hedge of ``net_delta`` (units of underlying) with band half-width ``band`` (>= 0)."""
    if not math.isfinite(net_delta):
        raise InvalidInput("net_delta", "must be finite", net_delta)
    if not (math.isfinite(band) and band >= 0):
        raise InvalidInput("band", "must be finite and >= 0", band)
    if abs(net_delta) <= band:
        return HedgePlan(net_delta, net_delta, 0.0, band)
    target = math.copysign(band, net_delta) if rebalance_to is RebalanceTo.BAND_EDGE else 0.0
    return HedgePlan(net_delta, target, target - net_delta, band)


def whalley_wilmott_half_width(gamma: float, spot: float, cost_rate: float, risk_aversion: float) -> float:
    """Band half-width in delta units: (1.5 * cost_rate * S * Gamma^2 / risk_aversion)^(1/3).

    gamma: book gamma (per unit of spot squared); cost_rate: proportional cost of trading
    (half spread plus fee plus impact, relative); risk_aversion: exponential-utility
    coefficient, per unit of currency.
    """
    for name, value in (("spot", spot), ("risk_aversion", risk_aversion)):
        if not (math.isfinite(value) and value > 0):
            raise InvalidInput(name, "must be finite and > 0", value)
    if not (math.isfinite(cost_rate) and cost_rate >= 0):
        raise InvalidInput("cost_rate", "must be finite and >= 0", cost_rate)
    if not math.isfinite(gamma):
        raise InvalidInput("gamma", "must be finite", gamma)
    return (1.5 * cost_rate * spot * gamma * gamma / risk_aversion) ** (1.0 / 3.0)


def twap_child_sizes(quantity: float, n_slices: int) -> np.ndarray:
    """Equal child orders that add up to ``quantity``."""
    if not math.isfinite(quantity):
        raise InvalidInput("quantity", "must be finite", quantity)
    if not isinstance(n_slices, int) or n_slices < 1:
        raise InvalidInput("n_slices", "must be an integer >= 1", n_slices)
    return np.full(n_slices, quantity / n_slices)


def vwap_child_sizes(quantity: float, expected_volumes: Sequence[float] | np.ndarray) -> np.ndarray:
    """Child orders proportional to the expected market volume of each interval."""
    if not math.isfinite(quantity):
        raise InvalidInput("quantity", "must be finite", quantity)
    profile = np.asarray(expected_volumes, dtype=float)
    if (
        profile.ndim != 1
        or profile.size == 0
        or np.any(~np.isfinite(profile))
        or np.any(profile < 0)
        or profile.sum() <= 0
    ):
        raise InvalidInput("expected_volumes", "must be non-negative, finite, not all zero", expected_volumes)
    return quantity * profile / profile.sum()


class ImpactModel(Enum):
    SQUARE_ROOT = "square_root"
    LINEAR = "linear"


@dataclass(frozen=True)
class PerpBookParams:
    """The simulated perpetual book.

    half_spread: quoted half spread, relative (1e-4 = 1 bp); taker_fee: relative;
    impact_model and impact_coefficient Y; daily_volume: ADV in units of underlying;
    daily_vol: daily return volatility; permanent_fraction: share of each child's impact that
    stays in the price; impact_decay_steps: e-folding time of that offset, in steps.
    """

    half_spread: float = 1e-4
    taker_fee: float = 5e-4
    impact_model: ImpactModel = ImpactModel.SQUARE_ROOT
    impact_coefficient: float = 0.7
    daily_volume: float = 20_000.0
    daily_vol: float = 0.03
    permanent_fraction: float = 0.3
    impact_decay_steps: float = 10.0

    def __post_init__(self) -> None:
        for name in ("half_spread", "taker_fee", "impact_coefficient", "daily_vol", "permanent_fraction"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise InvalidInput(name, "must be finite and >= 0", value)
        for name in ("daily_volume", "impact_decay_steps"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise InvalidInput(name, "must be finite and > 0", getattr(self, name))
        if self.permanent_fraction > 1:
            raise InvalidInput("permanent_fraction", "must be <= 1", self.permanent_fraction)

    def impact(self, quantity: float) -> float:
        """Relative market impact of one child order of ``quantity`` (either sign)."""
        participation = abs(quantity) / self.daily_volume
        if self.impact_model is ImpactModel.SQUARE_ROOT:
            return self.impact_coefficient * self.daily_vol * math.sqrt(participation)
        return self.impact_coefficient * self.daily_vol * participation


@dataclass(frozen=True)
class ChildFill:
    """One executed child order: ``quantity`` (+ buy) at ``price``, against exogenous ``mid``; ``fee`` in currency."""

    step: int
    quantity: float
    price: float
    mid: float
    fee: float

    @property
    def cost(self) -> float:
        """Cost against the market mid, currency: q (price - mid) + fee (spread, impact, fee)."""
        return self.quantity * (self.price - self.mid) + self.fee


class SimulatedPerpBook:
    """A perp book around an exogenous mid, remembering the decaying price offset of its own past trades."""

    def __init__(self, params: PerpBookParams = PerpBookParams()):
        self.params = params
        self.offset = 0.0  # relative price displacement left by our own trades

    def advance(self, steps: float = 1.0) -> None:
        """Let ``steps`` time steps pass: the permanent-impact offset relaxes."""
        self.offset *= math.exp(-steps / self.params.impact_decay_steps)

    def execute(self, quantity: float, mid: float, step: int = 0) -> ChildFill:
        """Fill a market order of ``quantity`` (units of underlying, + buy) against market ``mid``."""
        if not (math.isfinite(quantity) and quantity != 0):
            raise InvalidInput("quantity", "must be finite and non-zero", quantity)
        if not (math.isfinite(mid) and mid > 0):
            raise InvalidInput("mid", "must be finite and > 0", mid)
        p = self.params
        side = 1.0 if quantity > 0 else -1.0
        impact = p.impact(quantity)
        price = mid * (1.0 + self.offset + side * (p.half_spread + impact))
        fee = abs(quantity) * price * p.taker_fee
        self.offset += side * p.permanent_fraction * impact
        return ChildFill(step, quantity, price, mid, fee)


@dataclass(frozen=True)
class ExecutionReport:
    """A parent order's execution. Costs in currency, positive = paid.

    cost_vs_mid: sum of q (price - mid at the child's time) + fees: what trading itself cost.
    implementation_shortfall: sum of q (price - arrival mid) + fees: adds the market's own drift.
    """

    fills: tuple[ChildFill, ...]
    quantity: float
    average_price: float
    arrival_mid: float
    cost_vs_mid: float
    implementation_shortfall: float
    fees: float


def execute_schedule(
    child_sizes: Sequence[float] | np.ndarray,
    mids: Sequence[float] | np.ndarray,
    params: PerpBookParams = PerpBookParams(),
) -> ExecutionReport:
    """Run child orders, one per step, against the market mids of those steps (``mids[0]`` is the arrival mid)."""
    sizes = np.asarray(child_sizes, dtype=float)
    mids = np.asarray(mids, dtype=float)
    if sizes.ndim != 1 or sizes.shape != mids.shape or sizes.size == 0:
        raise InvalidInput("mids", "need one mid per child order", (sizes.shape, mids.shape))
    book = SimulatedPerpBook(params)
    fills = []
    for step, (q, mid) in enumerate(zip(sizes, mids)):
        if step:
            book.advance()
        if q != 0:
            fills.append(book.execute(float(q), float(mid), step))
    total = float(sum(f.quantity for f in fills))
    fees = float(sum(f.fee for f in fills))
    notional = float(sum(f.quantity * f.price for f in fills))
    return ExecutionReport(
        fills=tuple(fills),
        quantity=total,
        average_price=notional / total if total else float("nan"),
        arrival_mid=float(mids[0]),
        cost_vs_mid=float(sum(f.cost for f in fills)),
        implementation_shortfall=notional - total * float(mids[0]) + fees,
        fees=fees,
    )
