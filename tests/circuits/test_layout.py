"""The public-input layout, defined once: placement, JSON round trip, and the circuit's refusal to
publish anything else (a field added, omitted, reordered, widened or moved)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from circuits import batch as cbt
from circuits import layout as cl
from circuits.builder import ConstraintSystem
from circuits.gadgets import fixed as gf
from circuits.gadgets.bits import new_boolean
from circuits.layout import (
    BATCH,
    FieldGroup,
    Layout,
    LayoutDefinition,
    LayoutError,
    PackedField,
    WholeField,
    batch_layout,
)
from circuits.packing import PublicPacker
from engine import fixed_risk as fr
from tests.circuits.test_batch import request

# ---------------------------------------------------------------------------- placement


def test_batch_layout_places_groups_in_order_each_packed_group_in_new_elements():
    layout = batch_layout(3)
    assert [w.name for w in layout.whole] == ["state_commitment", "portfolio_commitment"]
    first = {}
    for s in layout.slots:
        first.setdefault((s.group, s.index), s)
    assert [(g, i) for g, i in first] == [("market", 0), ("smile", 0), ("regime", 0), ("limits", 0),
                                          ("quote", 0), ("quote", 1), ("quote", 2)]
    assert all(s.offset == 0 for s in first.values())
    assert [s.element for s in first.values()] == [0, 1, 2, 3, 5, 6, 7]
    assert layout.n_elements == 8 and layout.n_public_inputs == 10
    assert [s.name for s in layout.slots if s.group == "quote" and s.index == 2] == [
        "quote2_strike", "quote2_is_call", "quote2_mid", "quote2_half_spread"]


def test_limit_fields_are_the_limits_dataclass_fields():
    names = [f.name for f in BATCH.group("limits").fields]
    assert names == [f.name for f in dataclasses.fields(fr.RiskLimitsFixed)]


def test_batch_layout_is_computed_without_building_a_circuit(monkeypatch):
    def no_circuit(*args, **kwargs):
        raise AssertionError("batch_layout built a constraint system")

    monkeypatch.setattr(ConstraintSystem, "__init__", no_circuit)
    layout = batch_layout(256)
    assert layout.n_elements == 5 + 256


def test_a_field_that_does_not_fit_opens_the_next_element():
    group = FieldGroup("g", (PackedField("a", 200, 0), PackedField("b", 53, -1), PackedField("c", 1, 0)))
    layout = LayoutDefinition("sample", (group,)).place()
    assert [(s.element, s.offset) for s in layout.slots] == [(0, 0), (0, 200), (1, 0)]


def test_malformed_definitions_are_refused():
    with pytest.raises(LayoutError, match="254 bits"):
        PackedField("a", 254, 0)
    with pytest.raises(LayoutError, match="mixes"):
        FieldGroup("g", (WholeField("h"), PackedField("a", 1, 0)))
    with pytest.raises(LayoutError, match="before"):
        LayoutDefinition("c", (FieldGroup("p", (PackedField("a", 1, 0),)), FieldGroup("w", (WholeField("h"),))))
    with pytest.raises(LayoutError, match="repeat"):
        LayoutDefinition("c", (FieldGroup("g", (PackedField("a", 1, 0),)), FieldGroup("h", (PackedField("a", 1, 0),))))\
            .place()
    with pytest.raises(LayoutError, match="count"):
        BATCH.place({})


def test_pack_refuses_values_outside_their_slot():
    layout = batch_layout(1)
    values = {s.name: s.lo for s in layout.slots}
    with pytest.raises(LayoutError, match="quote0_mid"):
        layout.pack({**values, "quote0_mid": layout.slots[-2].lo - 1})
    with pytest.raises(LayoutError, match="no value for nonce"):
        layout.pack({k: v for k, v in values.items() if k != "nonce"})


# ---------------------------------------------------------------------------- JSON


@pytest.mark.parametrize("n_quotes", [1, 4, 64])
def test_batch_layout_json_round_trips(n_quotes):
    layout = batch_layout(n_quotes)
    text = json.dumps(layout.to_json())
    assert Layout.from_json(json.loads(text)) == layout
    quote = json.loads(text)["groups"][-1]
    assert (quote["name"], quote["repeated"], quote["count"]) == ("quote", True, n_quotes)


@given(st.lists(st.tuples(st.integers(1, 253), st.integers(-(1 << 80), 1 << 80)), min_size=1, max_size=8),
       st.integers(0, 3))
def test_any_layout_json_round_trips(fields, repeats):
    group = FieldGroup("g", tuple(PackedField(f"f{i}", bits, lo) for i, (bits, lo) in enumerate(fields)),
                       repeated=True)
    definition = LayoutDefinition("sample", (FieldGroup("h", (WholeField("hash"),)), group))
    layout = definition.place({"g": repeats})
    assert Layout.from_json(json.loads(json.dumps(layout.to_json()))) == layout


def test_a_document_whose_inputs_disagree_with_its_groups_is_refused():
    document = batch_layout(1).to_json()
    moved = json.loads(json.dumps(document))
    moved["public_inputs"][2]["slots"][1]["offset"] += 1  # market.t one bit higher
    with pytest.raises(LayoutError, match="public input 2"):
        Layout.from_json(moved)
    widened = json.loads(json.dumps(document))
    widened["groups"][1]["fields"][0]["bits"] += 1  # spot one bit wider, slots not moved
    with pytest.raises(LayoutError, match="public input 2"):
        Layout.from_json(widened)
    for key, value, match in (("schema", "dlpe.public-inputs/0", "schema"), ("groups", {}, "groups"),
                              ("max_packed_bits", 254, "max_packed_bits")):
        with pytest.raises(LayoutError, match=match):
            Layout.from_json({**document, key: value})
    no_lo = json.loads(json.dumps(document))
    del no_lo["groups"][1]["fields"][0]["lo"]
    with pytest.raises(LayoutError, match="'lo' missing"):
        Layout.from_json(no_lo)


def test_the_cli_prints_the_json_document(capsys):
    cl.main(["--quotes", "2"])
    assert json.loads(capsys.readouterr().out) == batch_layout(2).to_json()


# ---------------------------------------------------------------------------- the circuit packs exactly its layout


def _variant(group: str, change) -> LayoutDefinition:
    """BATCH with one group's fields changed by `change(fields) -> fields`."""
    groups = tuple(dataclasses.replace(g, fields=tuple(change(list(g.fields)))) if g.name == group else g
                   for g in BATCH.groups)
    return dataclasses.replace(BATCH, groups=groups)


VARIANTS = {
    # the layout has a field the circuit does not publish (the circuit omits it)
    "omitted": (_variant("market", lambda f: [*f, PackedField("dividend", 8, 0)]), "market.dividend"),
    # the circuit publishes a field the layout lacks (the circuit adds it)
    "added": (_variant("regime", lambda f: f[:1]), "regime.nonce"),
    # the circuit publishes t one bit wider than the layout says
    "widened": (_variant("market", lambda f: [f[0], dataclasses.replace(f[1], bits=f[1].bits - 1), *f[2:]]),
                "market.t"),
    "another lo": (_variant("quote", lambda f: [dataclasses.replace(f[0], lo=f[0].lo + 1), *f[1:]]),
                   r"quote\[0\].strike: published as 80 bits from lo"),
    "reordered": (_variant("limits", lambda f: [f[1], f[0], *f[2:]]), "limits.max_abs_delta: published where"),
    "renamed": (_variant("commitments", lambda f: [WholeField("book_commitment"), f[1]]),
                "commitments.state_commitment: published where the layout has book_commitment"),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_circuit_refuses_to_pack_anything_but_its_layout(monkeypatch, variant):
    definition, field = VARIANTS[variant]
    monkeypatch.setattr(cbt, "batch_layout", lambda n: definition.place({"quote": n}))
    with pytest.raises(LayoutError, match=field):
        cbt.batch_circuit(ConstraintSystem(), request(1))


def test_groups_must_be_published_in_the_layouts_order():
    cs = ConstraintSystem()
    packer = PublicPacker(batch_layout(1))
    with pytest.raises(LayoutError, match="next group is commitments; the circuit publishes market"):
        packer.add("market", {"spot": gf.fixed_input(cs, "spot", 1 << 48, 1, 2 << 48, public=False)})


def test_every_group_must_be_published_before_finishing():
    cs = ConstraintSystem()
    definition = LayoutDefinition("c", (FieldGroup("flags", (PackedField.flag("a"),), repeated=True),))
    packer = PublicPacker(definition.place({"flags": 2}))
    packer.add("flags", {"a": new_boolean(cs, 1, "a0")})
    with pytest.raises(LayoutError, match=r"flags\[1\]: in the layout"):
        packer.finish(cs)


def test_a_whole_field_must_be_the_public_input_in_its_place():
    definition = LayoutDefinition("c", (FieldGroup("hashes", (WholeField("h"),)),
                                        FieldGroup("flags", (PackedField.flag("a"),))))
    cs = ConstraintSystem()
    cs.public_input("extra", 5)  # declared ahead of h: h is not public input 0
    packer = PublicPacker(definition.place())
    packer.add("hashes", {"h": cs.public_input("h", 7)})
    packer.add("flags", {"a": new_boolean(cs, 1, "a")})
    with pytest.raises(LayoutError, match="h: public input 0 in the layout"):
        packer.finish(cs)
    with pytest.raises(LayoutError, match="public-input wire itself"):
        PublicPacker(definition.place()).add("hashes", {"h": cs.public_input("h2", 7) + 1})


def test_the_built_batch_publishes_its_layout_in_order():
    cs = ConstraintSystem()
    wires = cbt.batch_circuit(cs, request(2))
    r1cs = cs.to_r1cs()
    names = r1cs.wire_names[1:1 + r1cs.n_public]
    assert names == ["state/state_commitment", "risk/portfolio_commitment",
                     *(f"packed/element{e}" for e in range(wires.layout.n_elements))]
    assert len(names) == wires.layout.n_public_inputs
