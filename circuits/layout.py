"""The public inputs of a circuit, defined once: typed groups of fields, free of values.

Every public input costs the verifier an ecMul and an ecAdd, so small values share field
elements (circuits.packing says why that is sound). A layout says, before any circuit is
built, where each value goes:

- a `WholeField` is one public input of its own, a whole field element (a Poseidon commitment);
- a `PackedField` is an integer x in [lo, lo + 2^bits), stored as x - lo in `bits` bits of a
  packed element.

A `LayoutDefinition` is an ordered tuple of `FieldGroup`s; a group marked `repeated` occurs once
per item (one `quote` group per quote), the others once. `place` turns it, for given counts,
into a concrete `Layout` by one rule: whole fields take one public input each, in order, ahead
of every packed element; each instance of a packed group opens a new element, and its fields
fill that element in order, a field that does not fit opening the next one (every element stays
below 2^253 < r). Adding a field or a group is one line in the definition: the placement, the
JSON, the circuit's check (circuits.packing.PublicPacker) and the generated Solidity follow.

A repeated group may be hashed (`merkle_root` names a whole field of the layout): its instances
are packed the same way, one element each, but those elements are not public inputs; they are
the leaves of a Poseidon Merkle tree (circuits.merkle: depth ceil(log2(count)), padded with 0)
whose root is that whole field. The public-input count then does not grow with the group, and
a verifier that needs one element is shown it with its path (QuoteVault's fills).

Who reads a layout:
  circuits.batch     packs exactly `batch_layout(n)`: PublicPacker refuses, naming the field, any
                     field added, omitted, reordered, widened or moved (LayoutError)
  solver             Layout.pack / unpack: the packed elements of plain integers
  verifier_contracts the JSON document below (verifier_contracts/batch_layout.py renders
                     BatchLayout.sol from it; it never imports circuits/)

JSON document, schema "dlpe.public-inputs/2" (Layout.to_json, Layout.from_json)::

    {
      "schema": "dlpe.public-inputs/2",
      "circuit": "batch",
      "max_packed_bits": 253,
      "groups": [                                       the definition, in order
        {"name": "commitments", "repeated": false, "count": 1, "merkle_root": null,
         "fields": [{"name": "state_commitment", "kind": "whole"}, ...]},
        {"name": "market", "repeated": false, "count": 1, "merkle_root": null,
         "fields": [{"name": "spot", "kind": "packed", "bits": 80, "lo": "1099511627776"}, ...]},
        ...
        {"name": "quote", "repeated": true, "count": 4, "merkle_root": "quotes_root", "fields": [...]}
      ],
      "public_inputs": [                                what the verifier is given, in order
        {"kind": "whole", "name": "state_commitment", "group": "commitments", "index": 0,
         "field": "state_commitment"},
        ...
        {"kind": "packed", "element": 0, "slots": [
          {"name": "spot", "group": "market", "index": 0, "field": "spot",
           "offset": 0, "bits": 80, "lo": "1099511627776"}, ...]},
        ...
      ],
      "merkle_trees": [                                 the hashed groups' elements, by leaf
        {"group": "quote", "root": "quotes_root", "depth": 2, "leaves": [
          {"leaf": 0, "slots": [{"name": "quote0_strike_units", "group": "quote", "index": 0, ...}, ...]},
          ...]}
      ]
    }

"count" is the number of instances of a group (1 unless repeated); "index" says which instance
a slot belongs to; "element" counts the packed elements only, from 0 (public input
n_whole + element); "lo" is a decimal string, since it may exceed 2^53, beyond which many JSON
readers round. A slot's "name" is its field's name, or "<group><index>_<field>" in a repeated
group ("quote3_mid"): a unique key for pack/unpack, never parsed. `public_inputs` and
`merkle_trees` follow from `groups` by the placement rule; from_json recomputes both and refuses a
document that disagrees. Schema 1 had no hashed groups (and no "merkle_root" or "merkle_trees").

    python -m circuits.layout --quotes 4        # the 4-quote batch layout, as JSON
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Sequence, Union

from circuits.builder import CircuitError
from circuits.merkle import tree_depth
from circuits.quote import HALF_SPREAD_MAX
from engine import fixed as fx
from engine import fixed_risk as fr

SCHEMA = "dlpe.public-inputs/2"
MAX_PACKED_BITS = 253  # 2^253 < r: a packed element never wraps
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


class LayoutError(CircuitError):
    """A malformed layout, or a circuit or document that deviates from its layout (the message names the field)."""


def _require_identifier(what: str, name: object) -> None:
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise LayoutError(f"{what} {name!r} is not a lower-case identifier")


# ------------------------------------------------------------------------- the definition


@dataclass(frozen=True)
class PackedField:
    """An integer in [lo, lo + 2^bits), packed as x - lo in `bits` bits."""

    name: str
    bits: int
    lo: int

    def __post_init__(self) -> None:
        _require_identifier("field name", self.name)
        if not 1 <= self.bits <= MAX_PACKED_BITS:
            raise LayoutError(f"{self.name}: {self.bits} bits do not fit in a packed element ({MAX_PACKED_BITS} bits)")

    @classmethod
    def domain(cls, name: str, lo: int, hi: int) -> PackedField:
        """The field of a value declared in [lo, hi]: n = bit_length(hi - lo) bits from lo, the
        window circuits.gadgets.fixed.bounded range-checks such a value to."""
        if hi < lo:
            raise LayoutError(f"{name}: empty domain [{lo}, {hi}]")
        return cls(name, max(1, (hi - lo).bit_length()), lo)

    @classmethod
    def flag(cls, name: str) -> PackedField:
        """A boolean: one bit, lo 0."""
        return cls(name, 1, 0)

    @property
    def hi(self) -> int:
        """The largest value the field can hold (lo + 2^bits - 1)."""
        return self.lo + (1 << self.bits) - 1


@dataclass(frozen=True)
class WholeField:
    """A whole field element: one public input of its own (a hash, a commitment)."""

    name: str

    def __post_init__(self) -> None:
        _require_identifier("field name", self.name)


Field = Union[PackedField, WholeField]


@dataclass(frozen=True)
class FieldGroup:
    """Fields published together: all whole, or all packed (each instance opens a new element)."""

    name: str
    fields: tuple[Field, ...]
    repeated: bool = False
    """One instance per item (a count given to place), instead of exactly one."""
    merkle_root: str | None = None
    """Hashed: the instances' elements are the leaves of a Poseidon Merkle tree whose root is the
    whole field of this name (circuits.merkle), not public inputs. Repeated packed groups only,
    one element per instance (the leaf index is the instance index)."""

    def __post_init__(self) -> None:
        _require_identifier("group name", self.name)
        if not self.fields:
            raise LayoutError(f"group {self.name} has no field")
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise LayoutError(f"group {self.name} repeats a field name: {names}")
        if len({isinstance(f, WholeField) for f in self.fields}) != 1:
            raise LayoutError(f"group {self.name} mixes whole and packed fields")
        if self.merkle_root is not None:
            _require_identifier(f"group {self.name}'s merkle_root", self.merkle_root)
            if not self.repeated or self.whole:
                raise LayoutError(f"group {self.name} is hashed: only a repeated group of packed fields can be")
            if sum(f.bits for f in self.fields) > MAX_PACKED_BITS:  # type: ignore[union-attr]
                raise LayoutError(f"group {self.name} is hashed, so each instance must fit one element "
                                  f"({MAX_PACKED_BITS} bits)")

    @property
    def whole(self) -> bool:
        return isinstance(self.fields[0], WholeField)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise LayoutError(f"group {self.name} has no field {name!r}")


@dataclass(frozen=True)
class LayoutDefinition:
    """A circuit's public inputs as an ordered tuple of groups, whole groups first."""

    circuit: str
    groups: tuple[FieldGroup, ...]

    def __post_init__(self) -> None:
        _require_identifier("circuit name", self.circuit)
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise LayoutError(f"group names repeat: {names}")
        kinds = [g.whole for g in self.groups]
        if kinds != sorted(kinds, reverse=True):
            raise LayoutError("whole-element groups must come before packed ones (the packed elements follow them)")
        whole = {f.name for g in self.groups if g.whole and not g.repeated for f in g.fields}
        roots = [g.merkle_root for g in self.groups if g.merkle_root is not None]
        for g in self.groups:
            if g.merkle_root is not None and g.merkle_root not in whole:
                raise LayoutError(f"group {g.name}'s merkle_root {g.merkle_root!r} is not a whole field of a group "
                                  "that occurs once")
        if len(set(roots)) != len(roots):
            raise LayoutError(f"two hashed groups share a root: {roots}")

    def group(self, name: str) -> FieldGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise LayoutError(f"the {self.circuit} layout has no group {name!r}")

    def field(self, group: str, name: str) -> Field:
        return self.group(group).field(name)

    def place(self, counts: Mapping[str, int] | None = None) -> Layout:
        """The concrete layout with counts[g] instances of each repeated group g (see the module doc)."""
        counts = dict(counts or {})
        repeated = [g.name for g in self.groups if g.repeated]
        if sorted(counts) != sorted(repeated):
            raise LayoutError(f"the {self.circuit} layout needs a count for exactly {repeated}, got {sorted(counts)}")
        for name, n in counts.items():
            if not isinstance(n, int) or n < 0:
                raise LayoutError(f"count of group {name} must be an integer >= 0, got {n!r}")
        whole: list[WholeSlot] = []
        slots: list[Slot] = []
        trees: list[MerkleTree] = []
        element = -1
        for group in self.groups:
            hashed: list[Slot] = []
            # a hashed group's instances are leaves: instance i is leaf i, counted apart from the public elements
            leaf = -1
            for index in range(counts[group.name] if group.repeated else 1):
                offset = MAX_PACKED_BITS  # each packed instance opens a new element
                for f in group.fields:
                    name = f"{group.name}{index}_{f.name}" if group.repeated else f.name
                    if isinstance(f, WholeField):
                        whole.append(WholeSlot(name, group.name, index, f.name))
                        continue
                    if offset + f.bits > MAX_PACKED_BITS:
                        if group.merkle_root is None:
                            element += 1
                        else:
                            leaf += 1
                        offset = 0
                    where = element if group.merkle_root is None else leaf
                    placed = Slot(name, group.name, index, f.name, where, offset, f.bits, f.lo)
                    (slots if group.merkle_root is None else hashed).append(placed)
                    offset += f.bits
            if group.merkle_root is not None:
                n = counts[group.name]
                trees.append(MerkleTree(group.name, group.merkle_root, n, tree_depth(n), tuple(hashed)))
        names = Counter(s.name for s in (*whole, *slots, *(s for t in trees for s in t.slots)))
        duplicates = sorted(n for n, k in names.items() if k > 1)
        if duplicates:
            raise LayoutError(f"slot names repeat in the {self.circuit} layout: {duplicates}")
        return Layout(self, tuple(sorted(counts.items())), tuple(whole), tuple(slots), tuple(trees))


# ------------------------------------------------------------------------- the concrete layout


@dataclass(frozen=True)
class WholeSlot:
    """A whole-element field's public input (its position: its place among the layout's `whole`)."""

    name: str
    group: str
    index: int
    field: str


@dataclass(frozen=True)
class Slot:
    """Where one packed field sits: packed element, bit offset, width, and the integer offset lo subtracted."""

    name: str
    group: str
    index: int
    field: str
    element: int
    offset: int
    bits: int
    lo: int


def _pack(slots: Sequence[Slot], n_elements: int, values: Mapping[str, int]) -> list[int]:
    out = [0] * n_elements
    for s in slots:
        if s.name not in values:
            raise LayoutError(f"no value for {s.name}")
        v = values[s.name] - s.lo
        if not 0 <= v < 1 << s.bits:
            raise LayoutError(f"{s.name} = {values[s.name]} is outside [{s.lo}, {s.lo} + 2^{s.bits})")
        out[s.element] += v << s.offset
    return out


def _unpack(slots: Sequence[Slot], n_elements: int, elements: Sequence[int], what: str) -> dict[str, int]:
    if len(elements) != n_elements:
        raise LayoutError(f"{len(elements)} {what} given; the layout has {n_elements}")
    return {s.name: ((elements[s.element] >> s.offset) & ((1 << s.bits) - 1)) + s.lo for s in slots}


@dataclass(frozen=True)
class MerkleTree:
    """A hashed group as placed: instance i is leaf i (slots' `element` is the leaf index), the
    leaves padded with 0 to 2^depth, the root the whole field `root` (circuits.merkle)."""

    group: str
    root: str
    count: int
    depth: int
    slots: tuple[Slot, ...]

    def pack(self, values: Mapping[str, int]) -> list[int]:
        """The group's elements (the tree's leaves before padding) for field values by slot name."""
        return _pack(self.slots, self.count, values)

    def unpack(self, elements: Sequence[int]) -> dict[str, int]:
        """The field values of the group's elements, by slot name (the inverse of pack)."""
        return _unpack(self.slots, self.count, elements, f"{self.group} elements")


@dataclass(frozen=True)
class Layout:
    """A definition placed for given counts: whole public inputs, then packed elements of slots;
    a hashed group's elements sit in its tree instead."""

    definition: LayoutDefinition
    counts: tuple[tuple[str, int], ...]
    """(group, number of instances) of each repeated group, by name."""
    whole: tuple[WholeSlot, ...]
    slots: tuple[Slot, ...]
    """The packed public elements' slots (no hashed group's)."""
    trees: tuple[MerkleTree, ...] = ()

    @property
    def n_elements(self) -> int:
        """Number of packed elements."""
        return self.slots[-1].element + 1 if self.slots else 0

    @property
    def n_public_inputs(self) -> int:
        return len(self.whole) + self.n_elements

    def count(self, group: str) -> int:
        """Number of instances of `group` in this layout."""
        self.definition.group(group)  # raises for a group the layout lacks
        return dict(self.counts).get(group, 1)

    def instances(self) -> list[tuple[FieldGroup, int]]:
        """Every (group, instance index), in the order their values are published."""
        return [(g, i) for g in self.definition.groups for i in range(self.count(g.name))]

    def tree(self, group: str) -> MerkleTree:
        """The tree of hashed group `group`."""
        for t in self.trees:
            if t.group == group:
                return t
        raise LayoutError(f"the {self.definition.circuit} layout has no hashed group {group!r}")

    def pack(self, values: Mapping[str, int]) -> list[int]:
        """The packed public elements for integer field values by slot name (each lo <= v < lo + 2^bits)."""
        return _pack(self.slots, self.n_elements, values)

    def unpack(self, elements: Sequence[int]) -> dict[str, int]:
        """The field values packed into the public elements, by slot name (the inverse of pack)."""
        return _unpack(self.slots, self.n_elements, elements, "packed elements")

    # -- JSON

    def to_json(self) -> dict[str, Any]:
        """The layout as a JSON-ready document (schema in the module doc)."""
        counts = dict(self.counts)
        groups = [
            {
                "name": g.name,
                "repeated": g.repeated,
                "count": counts.get(g.name, 1),
                "merkle_root": g.merkle_root,
                "fields": [_field_json(f) for f in g.fields],
            }
            for g in self.definition.groups
        ]
        inputs: list[dict[str, Any]] = [{"kind": "whole", **dataclasses.asdict(w)} for w in self.whole]
        inputs += [{"kind": "packed", "element": e, "slots": []} for e in range(self.n_elements)]
        for s in self.slots:
            inputs[len(self.whole) + s.element]["slots"].append(_slot_json(s))
        trees = []
        for t in self.trees:
            leaves: list[dict[str, Any]] = [{"leaf": i, "slots": []} for i in range(t.count)]
            for s in t.slots:
                leaves[s.element]["slots"].append(_slot_json(s))
            trees.append({"group": t.group, "root": t.root, "depth": t.depth, "leaves": leaves})
        return {
            "schema": SCHEMA,
            "circuit": self.definition.circuit,
            "max_packed_bits": MAX_PACKED_BITS,
            "groups": groups,
            "public_inputs": inputs,
            "merkle_trees": trees,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Layout:
        """The layout a document describes; LayoutError when it is malformed, or when its public
        inputs are not the ones its groups place."""
        if not isinstance(document, Mapping):
            raise LayoutError(f"a layout document is a JSON object, got {type(document).__name__}")
        if document.get("schema") != SCHEMA:
            raise LayoutError(f"schema is {document.get('schema')!r}, expected {SCHEMA!r}")
        if document.get("max_packed_bits") != MAX_PACKED_BITS:
            raise LayoutError(f"max_packed_bits is {document.get('max_packed_bits')!r}, expected {MAX_PACKED_BITS}")
        groups, counts = [], {}
        for g in _list(document, "groups"):
            name, repeated = _get(g, "name", str), _get(g, "repeated", bool)
            if not isinstance(g, Mapping) or "merkle_root" not in g:
                raise LayoutError(f"'merkle_root' missing in {g!r}")
            root = g["merkle_root"]
            if root is not None and not isinstance(root, str):
                raise LayoutError(f"'merkle_root' must be a str or null, got {root!r}")
            groups.append(FieldGroup(name, tuple(_field_from_json(f) for f in _list(g, "fields")), repeated, root))
            count = _get(g, "count", int)
            if repeated:
                counts[name] = count
            elif count != 1:
                raise LayoutError(f"group {name} is not repeated but has count {count}")
        layout = LayoutDefinition(_get(document, "circuit", str), tuple(groups)).place(counts)
        stated, placed = _list(document, "public_inputs"), layout.to_json()["public_inputs"]
        for i, (a, b) in enumerate(zip(stated, placed)):
            if a != b:
                raise LayoutError(f"public input {i} is {a}; the groups place {b} there")
        if len(stated) != len(placed):
            raise LayoutError(f"{len(stated)} public inputs stated; the groups place {len(placed)}")
        stated, placed = _list(document, "merkle_trees"), layout.to_json()["merkle_trees"]
        if stated != placed:
            raise LayoutError(f"merkle_trees are {stated}; the groups place {placed}")
        return layout


def _field_json(f: Field) -> dict[str, Any]:
    if isinstance(f, WholeField):
        return {"name": f.name, "kind": "whole"}
    return {"name": f.name, "kind": "packed", "bits": f.bits, "lo": str(f.lo)}


def _slot_json(s: Slot) -> dict[str, Any]:
    return {"name": s.name, "group": s.group, "index": s.index, "field": s.field, "offset": s.offset,
            "bits": s.bits, "lo": str(s.lo)}


def _get(obj: Any, key: str, kind: type) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise LayoutError(f"{key!r} missing in {obj!r}")
    value = obj[key]
    # bool is an int in Python: keep the two apart
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise LayoutError(f"{key!r} must be a {kind.__name__}, got {value!r}")
    return value


def _list(obj: Any, key: str) -> list[Any]:
    return _get(obj, key, list)


def _field_from_json(f: Any) -> Field:
    kind, name = _get(f, "kind", str), _get(f, "name", str)
    if kind == "whole":
        return WholeField(name)
    if kind != "packed":
        raise LayoutError(f"field {name}: kind {kind!r} is neither 'whole' nor 'packed'")
    lo = _get(f, "lo", str)
    try:
        lo_value = int(lo, 10)
    except ValueError:
        raise LayoutError(f"field {name}: lo {lo!r} is not a decimal integer") from None
    return PackedField(name, _get(f, "bits", int), lo_value)


# ------------------------------------------------------------------------- the batch circuit's layout

NONCE_BITS = 64
MID_ABS_MAX = (1 << (fx.FRAC_BITS + 37)) - 1
"""|mid| <= 2^37 - 1 (at 2^-48): on the engine's domain a BSM price is below
max(S·e^(-qT), K·e^(-rT)) <= 2^32·e^2 < 2^35, and 2^37 - 1 is what the BSM gadget's interval
arithmetic bounds it by, so the mid's window is one range check an honest price always passes."""


def _limits() -> FieldGroup:
    # Named by the limits dataclass: a limit added there is packed here (and read by the vault).
    return FieldGroup("limits", tuple(PackedField.domain(f.name, 0, (1 << fr.LIMIT_BITS) - 1)
                                      for f in dataclasses.fields(fr.RiskLimitsFixed)))


BATCH = LayoutDefinition("batch", (
    FieldGroup("commitments", (WholeField("state_commitment"), WholeField("portfolio_commitment"))),
    FieldGroup("market", (
        PackedField.domain("spot", fx.SPOT_MIN, fx.SPOT_MAX),
        PackedField.domain("t", 1, fx.T_MAX),
        PackedField.domain("rate", -fx.RATE_ABS_MAX, fx.RATE_ABS_MAX),
        PackedField.domain("carry", -fx.RATE_ABS_MAX, fx.RATE_ABS_MAX),
    )),
    FieldGroup("smile", (
        PackedField.domain("svi_a", fx.SVI_A_MIN, fx.SVI_A_MAX),
        PackedField.domain("svi_b", 0, fx.SVI_B_MAX),
        PackedField.domain("svi_rho", -fx.ONE + 1, fx.ONE - 1),
        PackedField.domain("svi_m", -fx.SVI_M_ABS_MAX, fx.SVI_M_ABS_MAX),
        PackedField.domain("svi_sigma", 1, fx.SVI_SIGMA_MAX),
    )),
    FieldGroup("regime", (PackedField.flag("high_vol"), PackedField.domain("nonce", 0, (1 << NONCE_BITS) - 1))),
    _limits(),
    FieldGroup("quote", (
        PackedField.domain("strike", fx.SPOT_MIN, fx.SPOT_MAX),
        PackedField.flag("is_call"),
        PackedField.domain("mid", -MID_ABS_MAX, MID_ABS_MAX),
        PackedField.domain("half_spread", 0, HALF_SPREAD_MAX),
    ), repeated=True),
))
"""The batch circuit's public inputs: the two commitments, the market (spot, t, rate, carry), the
expiry's SVI smile, the regime flag and batch nonce, the risk limits, then one quote group per
quote (strike, type, mid, half spread; bid and ask are mid ∓ half spread)."""


def batch_layout(n_quotes: int) -> Layout:
    """The public-input layout of an n-quote batch, without building any circuit."""
    return BATCH.place({"quote": n_quotes})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print the batch circuit's public-input layout as JSON")
    parser.add_argument("--quotes", type=int, required=True, help="number of quotes in the batch")
    parser.add_argument("-o", "--output", help="write to this file instead of stdout")
    args = parser.parse_args(argv)
    if args.quotes < 1:
        parser.error("--quotes must be at least 1")
    text = json.dumps(batch_layout(args.quotes).to_json(), indent=2) + "\n"
    if args.output:
        with open(args.output, "w") as out:
            out.write(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
