"""The risk-limit circuit: proves the engine's net Greeks and scenario P&L, and cannot be satisfied
by a book one unit over any limit (so no proof exists and quoting stops)."""

from __future__ import annotations

import dataclasses
import random

import pytest

from circuits import risk as cr
from circuits.builder import ConstraintSystem
from circuits.gadgets import fixed as gf
from engine import fixed as fx
from engine import fixed_risk as fr
from engine.errors import InvalidInput

f = fx.to_fixed
SPOT = f(95_000)


def book(seed: int, n: int = 3) -> list[fr.PositionFixed]:
    rng = random.Random(seed)
    return [fr.PositionFixed(f(rng.uniform(-50, 50)), f(rng.uniform(-1, 1)), f(rng.uniform(0, 1e-4)),
                             f(rng.uniform(0, 2e4))) for _ in range(n)]


def tight_limits(positions: list[fr.PositionFixed]) -> fr.RiskLimitsFixed:
    """Limits exactly at the book's values: satisfiable, and one unit less is not."""
    loose = fr.RiskLimitsFixed(f(1e6), f(1e6), f(1e9), f(1e12))
    report = fr.risk_report(positions, loose, SPOT)
    return fr.RiskLimitsFixed(abs(report.net_delta), abs(report.net_gamma), abs(report.net_vega), report.worst_loss)


def build(positions, limits, salt=7) -> tuple[ConstraintSystem, cr.RiskWires]:
    cs = ConstraintSystem()
    spot = gf.fixed_input(cs, "spot", SPOT, fx.SPOT_MIN, fx.SPOT_MAX, public=True)
    return cs, cr.risk_check(cs, positions, salt, limits, spot)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_risk_circuit_proves_the_engine_report(seed):
    positions = book(seed)
    limits = tight_limits(positions)
    report = fr.require_within_limits(positions, limits, SPOT)
    cs, w = build(positions, limits)
    assert cs.is_satisfied(), cs.first_failure()
    assert (w.net_delta.value, w.net_gamma.value, w.net_vega.value) == (report.net_delta, report.net_gamma, report.net_vega)
    assert tuple(tuple(x.value for x in row) for row in w.scenario_pnl) == report.scenario_pnl


@pytest.mark.parametrize("limit", ["max_abs_delta", "max_abs_gamma", "max_abs_vega", "max_loss"])
def test_one_unit_over_any_limit_is_unsatisfiable(limit):
    positions = book(4)
    limits = dataclasses.replace(tight_limits(positions), **{limit: getattr(tight_limits(positions), limit) - 1})
    with pytest.raises(fr.RiskLimitBreached):
        fr.require_within_limits(positions, limits, SPOT)
    cs, _ = build(positions, limits)
    failure = cs.first_failure()
    assert failure is not None
    expected = {"max_abs_delta": "risk/delta_limit", "max_abs_gamma": "risk/gamma_limit",
                "max_abs_vega": "risk/vega_limit", "max_loss": "risk/scenarios"}[limit]
    assert failure.label.startswith(expected)


def test_portfolio_not_matching_its_commitment_is_rejected():
    positions = book(5)
    limits = tight_limits(positions)
    cs, _ = build(positions, limits)
    values = list(cs.values)
    position_wire = next(i for i in range(cs.n_wires) if cs.wire_label(i) == "risk/position[1]/quantity")
    values[position_wire] -= 1  # hide one contract from the book
    assert not cs.is_satisfied(values)
    values = list(cs.values)
    commitment = next(i for i in range(cs.n_wires) if cs.wire_label(i) == "risk/portfolio_commitment")
    values[commitment] = cr.portfolio_commitment(book(6), 7)
    assert cs.first_failure(values).label == "risk/opens_commitment"


def test_lying_about_the_sign_of_the_vega_shift_is_caught():
    def flip(label, value):
        return 1 - value if label.endswith("abs_vega_up/nonnegative") else value

    positions = book(8)
    cs = ConstraintSystem(tamper_hint=flip)
    spot = gf.fixed_input(cs, "spot", SPOT, fx.SPOT_MIN, fx.SPOT_MAX, public=True)
    cr.risk_check(cs, positions, 7, tight_limits(positions), spot)
    assert not cs.is_satisfied()


def test_domains_are_typed_errors():
    with pytest.raises(InvalidInput, match="position.quantity"):
        fr.PositionFixed(1 << fr.QUANTITY_BITS, 0, 0, 0)
    with pytest.raises(InvalidInput, match="limits.max_loss"):
        fr.RiskLimitsFixed(0, 0, 0, -1)
