"""Portfolio risk limits in fixed point: what the risk-limit circuit proves.

Net Greeks of a book, Σ q_i·g_i, within public limits, and the worst loss over the
scenario grid of engine.risk.ScenarioGrid — spot ×0.80, 0.85, …, 1.20 (dS = S·(m - 1)),
each with implied vol +0.10, unchanged, -0.10 — estimated by the delta-gamma-vega
expansion (as portfolio-margin systems do)

    PnL(dS, dσ) = Δ·dS + (Γ/2)·dS² + V·dσ,

within the public loss limit. One rounding per product, in the order below.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction

from engine import fixed as fx
from engine.errors import DLPEError, InvalidInput

ONE = fx.ONE
# The grid as fixed-point constants (m - 1 and dσ; 0.05 is not dyadic: rounded once here).
SPOT_MOVES = tuple(fx.to_fixed(Fraction(k, 20)) for k in range(-4, 5))  # m - 1 = -0.20 .. 0.20
VOL_SHIFT = fx.to_fixed(Fraction(1, 10))  # the grid's vol moves are +VOL_SHIFT, 0, -VOL_SHIFT

# Declared domain of one position and of the limits: each field lies in [-2^k, 2^k), a
# power-of-two window the circuit checks with a single range check.
QUANTITY_BITS = fx.FRAC_BITS + 24  # contracts (signed: short is negative)
DELTA_BITS = fx.FRAC_BITS + 3  # per contract
GAMMA_BITS = fx.FRAC_BITS + 16  # delta change per unit of spot, per contract
VEGA_BITS = fx.FRAC_BITS + 32  # currency per 1.00 vol, per contract
LIMIT_BITS = fx.FRAC_BITS + 40  # limits lie in [0, 2^LIMIT_BITS)


class RiskLimitBreached(DLPEError):
    """The book breaks a limit: quoting must stop (the risk circuit cannot be satisfied)."""


@dataclass(frozen=True)
class PositionFixed:
    """One line of the book at 2^-48: signed quantity and the per-contract Greeks."""

    quantity: int
    delta: int
    gamma: int
    vega: int

    def __post_init__(self) -> None:
        for name, bits in (("quantity", QUANTITY_BITS), ("delta", DELTA_BITS), ("gamma", GAMMA_BITS),
                           ("vega", VEGA_BITS)):
            value = getattr(self, name)
            if not -(1 << bits) <= value < 1 << bits:
                raise InvalidInput(f"position.{name}", f"must lie in [-2^{bits - 48}, 2^{bits - 48})",
                                   fx.from_fixed(value))

    def fields(self) -> tuple[int, int, int, int]:
        return (self.quantity, self.delta, self.gamma, self.vega)


@dataclass(frozen=True)
class RiskLimitsFixed:
    """Public limits at 2^-48: |net delta|, |net gamma|, |net vega| and the worst scenario loss."""

    max_abs_delta: int
    max_abs_gamma: int
    max_abs_vega: int
    max_loss: int

    def __post_init__(self) -> None:
        for limit in fields(self):
            value = getattr(self, limit.name)
            if not 0 <= value < 1 << LIMIT_BITS:
                raise InvalidInput(f"limits.{limit.name}", f"must lie in [0, 2^{LIMIT_BITS - 48})",
                                   fx.from_fixed(value))


@dataclass(frozen=True)
class RiskReport:
    net_delta: int
    net_gamma: int
    net_vega: int
    scenario_pnl: tuple[tuple[int, ...], ...]  # [spot move][vol shift]
    worst_loss: int  # max(0, -min pnl)
    breaches: tuple[str, ...]


def net_greeks(positions: list[PositionFixed]) -> tuple[int, int, int]:
    """(Σ q·Δ, Σ q·Γ, Σ q·V), one rounding per product."""
    return (sum(fx.mul(p.quantity, p.delta) for p in positions),
            sum(fx.mul(p.quantity, p.gamma) for p in positions),
            sum(fx.mul(p.quantity, p.vega) for p in positions))


def scenario_pnl(net_delta: int, net_gamma: int, net_vega: int, spot: int) -> tuple[tuple[int, ...], ...]:
    """Δ·dS + (Γ/2)·dS² + V·dσ on the grid; dS = S·(m - 1). The vol terms are v, 0, -v with
    v = V·0.10 rounded once, so each spot row's worst case is spot term - |v|."""
    half_gamma = fx.half(net_gamma)
    vega_up = fx.mul(net_vega, VOL_SHIFT)
    vega_terms = (vega_up, 0, -vega_up)
    rows = []
    for move in SPOT_MOVES:
        d_spot = fx.mul(spot, move)
        spot_term = fx.mul(net_delta, d_spot) + fx.mul(half_gamma, fx.mul(d_spot, d_spot))
        rows.append(tuple(spot_term + v for v in vega_terms))
    return tuple(rows)


def risk_report(positions: list[PositionFixed], limits: RiskLimitsFixed, spot: int) -> RiskReport:
    """Net Greeks, scenario P&L and which limits are breached (none: the circuit is satisfiable)."""
    delta, gamma, vega = net_greeks(positions)
    pnl = scenario_pnl(delta, gamma, vega, spot)
    worst = max(0, -min(min(row) for row in pnl))
    breaches = tuple(name for name, value, limit in (
        ("delta", abs(delta), limits.max_abs_delta), ("gamma", abs(gamma), limits.max_abs_gamma),
        ("vega", abs(vega), limits.max_abs_vega), ("scenario_loss", worst, limits.max_loss)) if value > limit)
    return RiskReport(delta, gamma, vega, pnl, worst, breaches)


def require_within_limits(positions: list[PositionFixed], limits: RiskLimitsFixed, spot: int) -> RiskReport:
    report = risk_report(positions, limits, spot)
    if report.breaches:
        raise RiskLimitBreached(f"risk limits breached: {', '.join(report.breaches)}; quoting must stop")
    return report
