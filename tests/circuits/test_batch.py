"""The batch circuit: the engine's quotes and risk check in one system, public inputs packed and
soundly unpacked, exported to iden3 files that snarkjs accepts."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bn254.constants import R
from bn254.iden3 import write_r1cs, write_wtns
from circuits import batch as cbt
from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets import fixed as gf
from circuits.layout import FieldGroup, LayoutDefinition, PackedField, batch_layout
from circuits.packing import PublicPacker
from engine import fixed as fx
from engine import fixed_quote as fq
from engine import fixed_risk as fr
from engine.quoting import QuotePolicy
from tests.bn254.test_iden3 import _snarkjs, needs_snarkjs

f = fx.to_fixed


def request(n_quotes: int, seed: int = 1, **changes) -> cbt.BatchRequest:
    rng = random.Random(seed)
    t = 30 / 365
    lines = tuple(cbt.QuoteLine(f(round(95_000 * rng.uniform(0.8, 1.2), -2)), rng.random() < 0.5, f(400.0))
                  for _ in range(n_quotes))
    positions = tuple(fr.PositionFixed(f(rng.uniform(-50, 50)), f(rng.uniform(-1, 1)), f(rng.uniform(0, 1e-4)),
                                       f(rng.uniform(0, 2e4))) for _ in range(3))
    base = cbt.BatchRequest(
        spot=f(95_000), t=f(t), rate=f(0.04), carry=0, svi=fx.SVIFixed(f(0.04 * t), f(0.1 * t**0.5), f(-0.3), 0, f(0.2)),
        high_vol=False, nonce=12345, policy=fq.PolicyFixed.from_policy(QuotePolicy()), net_vega=f(-1.5e4),
        state_salt=99, quotes=lines, positions=positions, portfolio_salt=77,
        limits=fr.RiskLimitsFixed(f(1e4), f(1e4), f(1e9), f(1e12)))
    return dataclasses.replace(base, **changes)


def public_inputs(cs: ConstraintSystem) -> list[int]:
    r1cs = cs.to_r1cs()
    return cs.witness()[1:1 + r1cs.n_public_outputs + r1cs.n_public_inputs]


@pytest.fixture(scope="module")
def built_pair():
    req = request(2)
    cs = ConstraintSystem()
    return req, cs, cbt.batch_circuit(cs, req)


def test_batch_proves_each_engine_quote_and_the_risk_report(built_pair):
    req, cs, wires = built_pair
    assert cs.is_satisfied(), cs.first_failure()
    terms = fx.expiry_terms(req.t, req.rate, req.carry)
    for line, q in zip(req.quotes, wires.quotes):
        want = fq.quote_fixed(req.spot, line.strike, terms, req.svi, line.is_call, req.policy, req.net_vega,
                              req.high_vol, line.half_spread)
        assert (q.bsm.price.value, q.min_half_spread.value) == (want.bsm.price, want.min_half_spread)
    report = fr.risk_report(list(req.positions), req.limits, req.spot)
    assert wires.risk.net_delta.value == report.net_delta


def test_public_inputs_are_the_commitments_then_the_packed_request(built_pair):
    req, cs, wires = built_pair
    public = public_inputs(cs)
    assert wires.layout == batch_layout(len(req.quotes))
    assert len(public) == 2 + wires.layout.n_elements == 2 + 5 + len(req.quotes)
    fields = wires.layout.unpack(public[2:])
    assert (fields["spot"], fields["t"], fields["rate"], fields["carry"]) == (req.spot, req.t, req.rate, req.carry)
    assert fields["svi_rho"] == req.svi.rho and fields["nonce"] == req.nonce and fields["high_vol"] == 0
    assert fields["max_loss"] == req.limits.max_loss
    for i, (line, q) in enumerate(zip(req.quotes, wires.quotes)):
        assert fields[f"quote{i}_strike"] == line.strike and fields[f"quote{i}_is_call"] == int(line.is_call)
        assert fields[f"quote{i}_mid"] == q.bsm.price.value
        assert fields[f"quote{i}_half_spread"] == line.half_spread


def test_layout_packs_each_quote_in_its_own_element(built_pair):
    _, _, wires = built_pair
    for i in range(2):
        elements = {s.element for s in wires.layout.slots if s.name.startswith(f"quote{i}_")}
        assert len(elements) == 1


@pytest.mark.parametrize("slot_name", ["spot", "svi_a", "nonce", "max_loss", "quote1_mid", "quote0_is_call"])
def test_changing_any_packed_field_is_rejected(built_pair, slot_name):
    _, cs, wires = built_pair
    slot = next(s for s in wires.layout.slots if s.name == slot_name)
    index = next(i for i in range(cs.n_wires) if cs.wire_label(i) == f"packed/element{slot.element}")
    for delta in (1 << slot.offset, -(1 << slot.offset), R - 1):
        values = list(cs.values)
        values[index] = (values[index] + delta) % R
        assert not cs.is_satisfied(values)


def test_a_breached_risk_limit_leaves_the_batch_unsatisfiable():
    req = request(1)
    report = fr.risk_report(list(req.positions), req.limits, req.spot)
    tight = dataclasses.replace(req.limits, max_abs_delta=abs(report.net_delta) - 1)
    cs = ConstraintSystem()
    cbt.batch_circuit(cs, dataclasses.replace(req, limits=tight))
    assert cs.first_failure().label.startswith("risk/delta_limit")


def test_batch_shape_does_not_depend_on_the_request():
    a, b = ConstraintSystem(), ConstraintSystem()
    cbt.batch_circuit(a, request(1, seed=1))
    cbt.batch_circuit(b, request(1, seed=2, high_vol=True, nonce=7))
    assert a.to_r1cs().constraints == b.to_r1cs().constraints


@given(st.lists(st.tuples(st.integers(1, 120), st.integers(-(1 << 60), 1 << 60)), min_size=1, max_size=12), st.data())
def test_layout_round_trip(fields, data):
    group = FieldGroup("g", tuple(PackedField(f"f{i}", bits, lo) for i, (bits, lo) in enumerate(fields)))
    layout = LayoutDefinition("sample", (group,)).place()
    values = {f"f{i}": lo + data.draw(st.integers(0, (1 << bits) - 1)) for i, (bits, lo) in enumerate(fields)}
    packed = layout.pack(values)
    assert all(0 <= e < 1 << 253 for e in packed)
    assert layout.unpack(packed) == values


def test_only_range_checked_values_can_be_packed():
    cs = ConstraintSystem()
    x = cs.private_input("x", 5)
    packer = PublicPacker(LayoutDefinition("sample", (FieldGroup("g", (PackedField("x", 3, 0),)),)).place())
    with pytest.raises(CircuitError, match="range-checked"):
        packer.add("g", {"x": gf.Fixed(x, 0, 7)})


@needs_snarkjs
def test_snarkjs_accepts_the_exported_four_quote_batch(tmp_path):
    cs = ConstraintSystem()
    cbt.batch_circuit(cs, request(4))
    write_r1cs(cs.to_r1cs(), tmp_path / "batch4.r1cs")
    write_wtns(cs.witness(), tmp_path / "batch4.wtns")
    info = _snarkjs("r1cs", "info", str(tmp_path / "batch4.r1cs"))
    assert info.returncode == 0 and f"# of Constraints: {cs.n_constraints}" in info.stdout
    check = _snarkjs("wtns", "check", str(tmp_path / "batch4.r1cs"), str(tmp_path / "batch4.wtns"))
    assert check.returncode == 0 and "WITNESS IS CORRECT" in check.stdout
