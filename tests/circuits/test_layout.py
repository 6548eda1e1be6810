"""The public-input layout, defined once: placement, JSON round trip, and the circuit's refusal to
publish anything else (a field added, omitted, reordered, widened or moved)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bn254.constants import R
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
from circuits.merkle import merkle_root, tree_depth
from circuits.packing import PublicPacker
from engine import fixed_risk as fr
from tests.circuits.adversary import assert_wire_tampering_caught
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


# ---------------------------------------------------------------------------- a hashed group: leaves of a Merkle tree

HASHED = LayoutDefinition("hashed", (
    FieldGroup("roots", (WholeField("items_root"),)),
    FieldGroup("head", (PackedField("n", 8, 0),)),
    FieldGroup("item", (PackedField("a", 100, -5), PackedField.flag("b")), repeated=True, merkle_root="items_root"),
))


def test_a_hashed_group_goes_into_its_tree_not_the_public_inputs():
    layout = HASHED.place({"item": 3})
    assert [s.group for s in layout.slots] == ["head"] and layout.n_public_inputs == 2
    tree = layout.tree("item")
    assert (tree.root, tree.count, tree.depth) == ("items_root", 3, 2)
    assert [(s.name, s.element, s.offset) for s in tree.slots] == [
        ("item0_a", 0, 0), ("item0_b", 0, 100), ("item1_a", 1, 0), ("item1_b", 1, 100), ("item2_a", 2, 0),
        ("item2_b", 2, 100)]
    values = {"item0_a": -5, "item0_b": 1, "item1_a": 7, "item1_b": 0, "item2_a": 2**99, "item2_b": 1}
    leaves = tree.pack(values)
    assert leaves == [1 << 100, 12, (2**99 + 5) + (1 << 100)]
    assert tree.unpack(leaves) == values
    assert [HASHED.place({"item": n}).tree("item").depth for n in (0, 1, 2, 4, 5, 64, 65)] == [0, 0, 1, 2, 3, 6, 7]
    with pytest.raises(LayoutError, match="no hashed group 'head'"):
        layout.tree("head")


@pytest.mark.parametrize("count", [0, 1, 3, 8])
def test_a_hashed_layout_json_round_trips(count):
    layout = HASHED.place({"item": count})
    document = json.loads(json.dumps(layout.to_json()))
    assert Layout.from_json(document) == layout
    assert document["schema"] == "dlpe.public-inputs/2"
    assert [g["merkle_root"] for g in document["groups"]] == [None, None, "items_root"]
    (tree,) = document["merkle_trees"]
    assert (tree["group"], tree["root"], tree["depth"], len(tree["leaves"])) == (
        "item", "items_root", tree_depth(count), count)
    assert all(entry["kind"] != "packed" or entry["slots"][0]["group"] == "head" for entry in document["public_inputs"])


def test_a_document_whose_tree_disagrees_with_its_groups_is_refused():
    document = HASHED.place({"item": 3}).to_json()
    for change in (lambda d: d["merkle_trees"][0].update(depth=1),
                   lambda d: d["merkle_trees"][0]["leaves"][1]["slots"][0].update(offset=1),
                   lambda d: d["merkle_trees"][0]["leaves"].pop(),
                   lambda d: d.update(merkle_trees=[])):
        changed = json.loads(json.dumps(document))
        change(changed)
        with pytest.raises(LayoutError, match="merkle_trees"):
            Layout.from_json(changed)
    unhashed = json.loads(json.dumps(document))
    unhashed["groups"][2]["merkle_root"] = None  # the items become public inputs: the document no longer says so
    with pytest.raises(LayoutError, match="public inputs stated"):
        Layout.from_json(unhashed)
    for value, match in ((5, "str or null"), ("nowhere", "not a whole field")):
        bad = json.loads(json.dumps(document))
        bad["groups"][2]["merkle_root"] = value
        with pytest.raises(LayoutError, match=match):
            Layout.from_json(bad)
    missing = json.loads(json.dumps(document))
    del missing["groups"][0]["merkle_root"]
    with pytest.raises(LayoutError, match="'merkle_root' missing"):
        Layout.from_json(missing)


def test_malformed_hashed_groups_are_refused():
    item = HASHED.group("item")
    with pytest.raises(LayoutError, match="only a repeated group"):
        dataclasses.replace(item, repeated=False)
    with pytest.raises(LayoutError, match="only a repeated group"):
        FieldGroup("w", (WholeField("h"),), repeated=True, merkle_root="h")
    with pytest.raises(LayoutError, match="fit one element"):
        FieldGroup("g", (PackedField("a", 200, 0), PackedField("b", 54, 0)), repeated=True, merkle_root="r")
    with pytest.raises(LayoutError, match="not a whole field"):
        LayoutDefinition("c", (FieldGroup("head", (PackedField("n", 8, 0),)), item))
    twice = dataclasses.replace(item, name="other")
    with pytest.raises(LayoutError, match="share a root"):
        LayoutDefinition("c", (*HASHED.groups, twice))


def _hashed_circuit(cs: ConstraintSystem, values: dict[str, int], root: int, count: int = 3) -> list:
    """A small circuit publishing HASHED: items_root (declared with `root`), n, then `count` items."""
    layout = HASHED.place({"item": count})
    packer = PublicPacker(layout)
    packer.add("roots", {"items_root": cs.public_input("items_root", root)})
    packer.add("head", {"n": gf.fixed_input(cs, "n", count, 0, 255, public=False)})
    outputs = []
    for i in range(count):
        a = gf.fixed_input(cs, f"a{i}", values[f"item{i}_a"], -5, 2**100 - 6, public=False)
        b = new_boolean(cs, values[f"item{i}_b"], f"b{i}")
        packer.add("item", {"a": a, "b": b})
        outputs += [a.lc, b]
    packer.finish(cs)
    return outputs


ITEMS = {"item0_a": -5, "item0_b": 1, "item1_a": 7, "item1_b": 0, "item2_a": 2**99, "item2_b": 1}


def test_the_packer_proves_the_root_of_the_hashed_elements():
    tree = HASHED.place({"item": 3}).tree("item")
    leaves = tree.pack(ITEMS)
    honest = merkle_root(leaves, 2)
    cs = ConstraintSystem()
    _hashed_circuit(cs, ITEMS, honest)
    assert cs.is_satisfied(), cs.first_failure()
    r1cs = cs.to_r1cs()
    assert r1cs.wire_names[1:1 + r1cs.n_public] == ["items_root", "packed/element0"]
    # a tampered leaf, a wrong padding leaf (a fourth item where the tree holds 0), leaves swapped
    for wrong in (tree.pack({**ITEMS, "item1_a": 8}), tree.pack({**ITEMS, "item2_b": 0}), leaves + [leaves[0]],
                  leaves + [1], [leaves[1], leaves[0], leaves[2]]):
        cs = ConstraintSystem()
        _hashed_circuit(cs, ITEMS, merkle_root(wrong, 2))
        assert not cs.is_satisfied()


def test_no_single_wire_of_the_hashed_circuit_can_be_changed():
    # every wire (bits, Poseidon rounds, the root itself) changed alone breaks a constraint or no output
    root = merkle_root(HASHED.place({"item": 3}).tree("item").pack(ITEMS), 2)
    cs = ConstraintSystem()
    outputs = _hashed_circuit(cs, ITEMS, root)
    assert_wire_tampering_caught(cs, outputs)
    values = list(cs.values)
    values[1] = (root + 1) % R  # the root's public wire (wire 1: the first declared)
    assert not cs.is_satisfied(values)
