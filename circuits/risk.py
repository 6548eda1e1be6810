"""The risk-limit circuit: the solver's private book is within public limits (engine.fixed_risk).

Private: the positions (quantity and per-contract Greeks) and a salt, bound by the public
commitment h_N, where h_0 = salt and h_i = Poseidon(h_{i-1}, q_i, Δ_i, Γ_i, V_i). Public: the
limits, the spot, the commitment. Constrained: |net Δ|, |net Γ|, |net V| within their limits,
and every point of the scenario grid (spot ×0.80..1.20 by 0.05, vol ±0.10) losing no more than
max_loss under the delta-gamma-vega expansion. A breached limit leaves the circuit
unsatisfiable, so no proof exists and quoting stops.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from bn254.constants import R
from circuits.builder import ConstraintSystem
from circuits.gadgets import fixed as gf
from circuits.gadgets.bits import range_check
from circuits.gadgets.comparators import assert_equal
from circuits.gadgets.fixed import Fixed
from circuits.gadgets.hash import poseidon
from circuits.lc import LC
from circuits.poseidon import poseidon_hash
from engine import fixed_risk as fr



def _window_input(cs: ConstraintSystem, name: str, value: int, bits: int, *, signed: bool, public: bool) -> Fixed:
    """An input in [-2^bits, 2^bits) (signed) or [0, 2^bits): a power-of-two window, one range check."""
    lo = -(1 << bits) if signed else 0
    return gf.fixed_input(cs, name, value, lo, (1 << bits) - 1, public=public)


def portfolio_commitment(positions: list[fr.PositionFixed], salt: int) -> int:
    """h_N of the hash chain h_0 = salt, h_i = Poseidon(h_{i-1}, q_i, Δ_i, Γ_i, V_i)."""
    h = salt % R
    for p in positions:
        h = poseidon_hash([h] + [v % R for v in p.fields()])
    return h


@dataclass(frozen=True)
class RiskWires:
    net_delta: Fixed
    net_gamma: Fixed
    net_vega: Fixed
    scenario_pnl: tuple[tuple[Fixed, ...], ...]
    commitment: LC
    limits: dict[str, Fixed]


def _within(cs: ConstraintSystem, x: Fixed, limit: Fixed, name: str) -> None:
    """Constrain -limit <= x <= limit: limit - x and limit + x both in [0, 2^n)."""
    n = max(limit.hi + max(-x.lo, x.hi), 1).bit_length()
    with cs.scope(name):
        with cs.scope("upper"):
            range_check(cs, limit.lc - x.lc, n)
        with cs.scope("lower"):
            range_check(cs, limit.lc + x.lc, n)


def risk_check(cs: ConstraintSystem, positions: list[fr.PositionFixed], salt: int, limits: fr.RiskLimitsFixed,
               spot: Fixed, *, public_limits: bool = True) -> RiskWires:
    """fr.risk_report's quantities, constrained, with every limit enforced (see module doc).

    public_limits=False declares the limits as private wires (range-checked, with their
    bits) for a caller that publishes them packed."""
    with cs.scope("risk"):
        commitment = cs.public_input("portfolio_commitment", portfolio_commitment(positions, salt))
        limit = {f.name: _window_input(cs, f.name, getattr(limits, f.name), fr.LIMIT_BITS, signed=False,
                                       public=public_limits)
                 for f in fields(fr.RiskLimitsFixed)}
        h: LC = cs.private_input("salt", salt)
        nets: dict[str, list[Fixed]] = {"delta": [], "gamma": [], "vega": []}
        bits = {"delta": fr.DELTA_BITS, "gamma": fr.GAMMA_BITS, "vega": fr.VEGA_BITS}
        for i, p in enumerate(positions):
            with cs.scope(f"position[{i}]"):
                q = _window_input(cs, "quantity", p.quantity, fr.QUANTITY_BITS, signed=True, public=False)
                greeks = {g: _window_input(cs, g, getattr(p, g), b, signed=True, public=False) for g, b in bits.items()}
                h = poseidon(cs, [h, q.lc, greeks["delta"].lc, greeks["gamma"].lc, greeks["vega"].lc])
                for g, wire in greeks.items():
                    nets[g].append(gf.mul(cs, q, wire, name=f"q_{g}"))
        assert_equal(cs, h, commitment, "opens_commitment")
        net = {g: sum(terms[1:], terms[0]) if terms else Fixed.constant(0) for g, terms in nets.items()}
        _within(cs, net["delta"], limit["max_abs_delta"], "delta_limit")
        _within(cs, net["gamma"], limit["max_abs_gamma"], "gamma_limit")
        _within(cs, net["vega"], limit["max_abs_vega"], "vega_limit")

        with cs.scope("scenarios"):
            half_gamma = gf.half(cs, net["gamma"], "half_gamma")
            vega_up = gf.mul(cs, net["vega"], Fixed.constant(fr.VOL_SHIFT), name="vega_up")
            abs_vega_up = gf.absolute(cs, vega_up, "abs_vega_up")
            max_loss = limit["max_loss"]
            rows = []
            for j, move in enumerate(fr.SPOT_MOVES):
                with cs.scope(f"spot_move[{j}]"):
                    d_spot = gf.mul(cs, spot, Fixed.constant(move), name="d_spot")
                    spot_term = (gf.mul(cs, net["delta"], d_spot, name="delta_term")
                                 + gf.mul(cs, half_gamma, gf.mul(cs, d_spot, d_spot, name="d_spot_sq"), name="gamma_term"))
                    # the row's worst point, spot_term - |v|, loses at most max_loss
                    worst = spot_term - abs_vega_up
                    with cs.scope("loss_limit"):
                        range_check(cs, worst.lc + max_loss.lc, max(max_loss.hi + max(-worst.lo, worst.hi), 1).bit_length())
                    rows.append((spot_term + vega_up, spot_term, spot_term - vega_up))
    return RiskWires(net["delta"], net["gamma"], net["vega"], tuple(rows), commitment, limit)
