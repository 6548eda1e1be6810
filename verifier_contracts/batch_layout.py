"""BatchLayout.sol, generated from the book batch circuit's public-input layout document.

The layout is defined once, in circuits/ (`circuits.book_batch.BOOK_BATCH`, placed by
circuits/layout.py), and written out as JSON (schema "dlpe.public-inputs/2", documented in
circuits/layout.py). This module reads that document (it does not import circuits/: DESIGN.md),
checks that QuoteVault can read the layout it describes, and renders
templates/BatchLayout.sol.tmpl: where each public input and each packed field sits, so that the
contract and the circuit cannot drift.

Rendering is generic: a whole input NAME gets the constant NAME_INPUT (its index); a field of a
group that occurs once gets NAME_ELEMENT/_OFFSET/_BITS/_LO and a reader name(packed); a repeated
group G (every instance placed as instance 0, STRIDE elements apart) gets G_FIRST_ELEMENT,
G_STRIDE, per field G_FIELD_ELEMENT (relative to the instance's first element) /_OFFSET/_BITS/_LO,
and a reader gField(packed, i); a group of one element per instance also gets gField(element).
A hashed group G (its elements are the leaves of a Merkle tree, not public inputs) gets
BATCH_G_COUNT and BATCH_G_TREE_DEPTH, per field G_FIELD_OFFSET/_BITS/_LO, and a reader
gField(element) of an element a caller was shown (with its path: QuoteTree.sol).

What QuoteVault reads, and so requires (LayoutNotSupported otherwise):
  circuit        "book_batch"
  whole inputs   exactly the six commitments, in its order (WHOLE_INPUTS): the four it assembles,
                 then book_after and quotes_root, which the solver supplies and the proof binds
  unsigned reads spot, oracle_time, nonce, fills_from, fills_to, risk_ok, quoted, worst_loss,
                 every risk limit and margin, each expiry's expiry and atm_variance: lo >= 0
  mark           signed (read as int256)
  expiry         a repeated group (the book's E expiries)
  quote          a hashed group whose root is quotes_root, with strike_units, expiry_index,
                 is_call (one bit, lo 0), mid, half_spread, size_units

    python -m verifier_contracts.batch_layout layout.json -o BatchLayout.sol
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Mapping

LAYOUT_TEMPLATE = Path(__file__).resolve().parent / "templates" / "BatchLayout.sol.tmpl"
SCHEMA = "dlpe.public-inputs/2"
"""The layout document's schema (circuits.layout.SCHEMA)."""
MAX_PACKED_BITS = 253
"""Packed elements stay below 2^253 < r (circuits.layout.MAX_PACKED_BITS)."""
FRAC_BITS = 48
"""The contracts' fixed-point format, x · 2^48: engine.fixed.FRAC_BITS (solver/settlement.py checks they agree)."""

CIRCUIT = "book_batch"
WHOLE_INPUTS = ("state_commitment", "book_before", "chain_from", "chain_to", "book_after", "quotes_root")
"""The whole public inputs, in the order QuoteVault.submitBatch assembles them."""
SINGLE_READS = ("spot", "oracle_time", "rate", "carry", "nonce", "fills_from", "fills_to", "risk_ok", "quoted",
                "worst_loss", "mark")
"""Fields of groups that occur once which QuoteVault reads; all unsigned but SIGNED_FIELDS."""
SIGNED_FIELDS = ("rate", "carry", "mark")
RISK_GROUP = "risk"
MARGIN_FIELD = "model_margin"
EXPIRY_GROUP = "expiry"
EXPIRY_READS = ("expiry", "atm_variance")
QUOTE_GROUP = "quote"
QUOTE_ROOT = "quotes_root"
QUOTE_READS = ("strike_units", "expiry_index", "is_call", "mid", "half_spread", "size_units")
"""The quote fields QuoteVault reads (BatchLayout.quoteStrikeUnits, ...)."""
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


class LayoutNotSupported(ValueError):
    """A layout document that QuoteVault cannot read (the message says why)."""


@dataclass(frozen=True)
class PackedSlot:
    """One packed field: its group instance, packed element (from 0), bit offset, width and lo."""

    name: str
    group: str
    index: int
    field: str
    element: int
    offset: int
    bits: int
    lo: int


@dataclass(frozen=True)
class RepeatedGroup:
    """A repeated group as placed: instance i's field f sits in element first + i·stride + f's
    relative element, at the same offset for every instance."""

    name: str
    count: int
    first_element: int
    stride: int
    fields: tuple[PackedSlot, ...]
    """Instance 0's slots (their `element` is relative to first_element)."""


@dataclass(frozen=True)
class HashedGroup:
    """A hashed group as placed: instance i is leaf i of a Merkle tree of `depth` levels whose root
    is the whole input `root`; its elements are not public inputs."""

    name: str
    root: str
    count: int
    depth: int
    fields: tuple[PackedSlot, ...]
    """Instance 0's slots (element 0: the leaf itself)."""


@dataclass(frozen=True)
class BatchInputs:
    """The batch layout as the vault reads it: whole public inputs, then packed slots in order, and
    the hashed groups (not public inputs)."""

    circuit: str
    whole: tuple[str, ...]
    slots: tuple[PackedSlot, ...]
    n_elements: int
    repeated: tuple[RepeatedGroup, ...]
    sha256: str
    """layout_sha256 of the document it was read from."""
    hashed: tuple[HashedGroup, ...] = ()

    def hashed_group(self, name: str) -> HashedGroup:
        for g in self.hashed:
            if g.name == name:
                return g
        raise LayoutNotSupported(f"the layout has no hashed group {name!r}")

    def group(self, name: str) -> list[PackedSlot]:
        """The slots of every instance of group `name`, in layout order."""
        return [s for s in self.slots if s.group == name]

    def repeated_group(self, name: str) -> RepeatedGroup:
        for g in self.repeated:
            if g.name == name:
                return g
        raise LayoutNotSupported(f"the layout has no repeated group {name!r}")

    @property
    def n_public_inputs(self) -> int:
        return len(self.whole) + self.n_elements


def layout_sha256(document: Mapping[str, Any]) -> str:
    """Hex sha256 of the layout document as compact JSON with sorted keys."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _get(obj: Any, key: str, kind: type) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise LayoutNotSupported(f"{key!r} missing in {obj!r}")
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise LayoutNotSupported(f"{key!r} must be a {kind.__name__}, got {value!r}")
    return value


def _slot(raw: Any, element: int) -> PackedSlot:
    lo = _get(raw, "lo", str)
    if not re.fullmatch(r"-?[0-9]+", lo):
        raise LayoutNotSupported(f"lo {lo!r} is not a decimal integer")
    slot = PackedSlot(_get(raw, "name", str), _get(raw, "group", str), _get(raw, "index", int),
                      _get(raw, "field", str), element, _get(raw, "offset", int), _get(raw, "bits", int), int(lo))
    for what in ("name", "group", "field"):
        if not _IDENTIFIER.fullmatch(getattr(slot, what)):
            raise LayoutNotSupported(f"{what} {getattr(slot, what)!r} is not a lower-case identifier")
    if not (1 <= slot.bits and 0 <= slot.offset and slot.offset + slot.bits <= MAX_PACKED_BITS
            and abs(slot.lo) < 1 << 253):
        raise LayoutNotSupported(f"slot {slot.name} (offset {slot.offset}, {slot.bits} bits, lo {slot.lo}) "
                                 "does not fit")
    return slot


def _repeated_groups(document: Mapping[str, Any], slots: list[PackedSlot]) -> tuple[RepeatedGroup, ...]:
    """Each repeated group of the document, checked to place every instance as instance 0, in
    consecutive runs of `stride` elements."""
    groups = []
    for raw in _get(document, "groups", list):
        if not _get(raw, "repeated", bool) or raw.get("merkle_root") is not None:
            continue
        name, count = _get(raw, "name", str), _get(raw, "count", int)
        own = [s for s in slots if s.group == name]
        if count == 0 or not own:
            raise LayoutNotSupported(f"repeated group {name} has no instance")
        first = own[0].element
        zero = [s for s in own if s.index == 0]
        stride = max(s.element for s in zero) - first + 1
        reference = [(s.field, s.element - first, s.offset, s.bits, s.lo) for s in zero]
        for i in range(count):
            placed = [(s.field, s.element - first - i * stride, s.offset, s.bits, s.lo) for s in own if s.index == i]
            if placed != reference:
                raise LayoutNotSupported(f"{name} {i} does not place its fields as {name} 0 does, "
                                         f"{stride} element(s) further")
        if len(own) != count * len(zero):
            raise LayoutNotSupported(f"group {name} has slots of instances beyond its count {count}")
        run = range(first, first + count * stride)
        if any(s.group != name and s.element in run for s in slots):
            raise LayoutNotSupported(f"another group's slot shares the elements of group {name}")
        fields = tuple(dataclasses.replace(s, element=s.element - first) for s in zero)
        groups.append(RepeatedGroup(name, count, first, stride, fields))
    return tuple(groups)


def read_layout(document: Mapping[str, Any]) -> BatchInputs:
    """The batch layout a document describes, checked for what QuoteVault reads (see the module doc)."""
    if _get(document, "schema", str) != SCHEMA:
        raise LayoutNotSupported(f"schema is {document['schema']!r}; this generator reads {SCHEMA!r}")
    circuit = _get(document, "circuit", str)
    whole: list[str] = []
    slots: list[PackedSlot] = []
    n_elements = 0
    for entry in _get(document, "public_inputs", list):
        kind = _get(entry, "kind", str)
        if kind == "whole":
            if n_elements:
                raise LayoutNotSupported(f"whole input {entry.get('name')!r} follows packed elements")
            whole.append(_get(entry, "name", str))
        elif kind == "packed":
            if _get(entry, "element", int) != n_elements:
                raise LayoutNotSupported(f"packed element {entry['element']} stated where element {n_elements} is")
            element_slots = [_slot(raw, n_elements) for raw in _get(entry, "slots", list)]
            if not element_slots:
                raise LayoutNotSupported(f"packed element {n_elements} has no slot")
            ends = [s.offset + s.bits for s in element_slots]
            if any(s.offset < end for s, end in zip(element_slots[1:], ends)):
                raise LayoutNotSupported(f"slots of packed element {n_elements} overlap or are out of order")
            slots += element_slots
            n_elements += 1
        else:
            raise LayoutNotSupported(f"public input kind {kind!r} is neither 'whole' nor 'packed'")
    hashed = _hashed_groups(document, whole)
    names = [s.name for s in slots] + whole + [f"{g.name}_{s.field}" for g in hashed for s in g.fields]
    if len(set(names)) != len(names):
        raise LayoutNotSupported("slot names repeat")
    inputs = BatchInputs(circuit, tuple(whole), tuple(slots), n_elements, _repeated_groups(document, slots),
                         layout_sha256(document), hashed)
    _check_vault_reads(inputs)
    return inputs


def _hashed_groups(document: Mapping[str, Any], whole: list[str]) -> tuple[HashedGroup, ...]:
    """Each tree of the document, checked: its root a whole input, depth ceil(log2(count)), one leaf per
    instance placing its fields as leaf 0 does."""
    groups = []
    for tree in _get(document, "merkle_trees", list):
        name, root, depth = _get(tree, "group", str), _get(tree, "root", str), _get(tree, "depth", int)
        if root not in whole:
            raise LayoutNotSupported(f"the root {root!r} of group {name} is not a whole public input")
        leaves = _get(tree, "leaves", list)
        if not leaves:
            raise LayoutNotSupported(f"hashed group {name} has no instance")
        if depth != max(len(leaves) - 1, 0).bit_length():
            raise LayoutNotSupported(f"hashed group {name}: depth {depth} for {len(leaves)} leaves, "
                                     f"not ceil(log2({len(leaves)}))")
        reference = None
        for i, leaf in enumerate(leaves):
            if _get(leaf, "leaf", int) != i:
                raise LayoutNotSupported(f"hashed group {name}: leaf {leaf['leaf']} stated where leaf {i} is")
            placed = [_slot(raw, 0) for raw in _get(leaf, "slots", list)]
            if any(s.group != name or s.index != i for s in placed):
                raise LayoutNotSupported(f"hashed group {name}: leaf {i} holds another instance's slot")
            ends = [s.offset + s.bits for s in placed]
            if not placed or any(s.offset < end for s, end in zip(placed[1:], ends)):
                raise LayoutNotSupported(f"hashed group {name}: the slots of leaf {i} are empty, overlap or are "
                                         "out of order")
            shape = [(s.field, s.offset, s.bits, s.lo) for s in placed]
            if reference is None:
                reference, fields = shape, tuple(placed)
            elif shape != reference:
                raise LayoutNotSupported(f"{name} {i} does not place its fields as {name} 0 does")
        groups.append(HashedGroup(name, root, len(leaves), depth, fields))
    return tuple(groups)


def _check_vault_reads(inputs: BatchInputs) -> None:
    if inputs.circuit != CIRCUIT:
        raise LayoutNotSupported(f"a layout of circuit {inputs.circuit!r}; QuoteVault takes the {CIRCUIT} circuit's")
    if inputs.whole != WHOLE_INPUTS:
        raise LayoutNotSupported(f"whole public inputs are {list(inputs.whole)}; "
                                 f"the vault assembles {list(WHOLE_INPUTS)}")
    repeated = {g.name for g in inputs.repeated}
    single = {s.name: s for s in inputs.slots if s.group not in repeated}
    for name in SINGLE_READS:
        if name not in single:
            raise LayoutNotSupported(f"the vault reads {name}, which the layout lacks")
    risk = inputs.group(RISK_GROUP)
    if not any(s.field == MARGIN_FIELD for s in risk):
        raise LayoutNotSupported(f"the layout has no {RISK_GROUP} group with {MARGIN_FIELD}; the vault checks them")
    unsigned = [single[n] for n in SINGLE_READS if n not in SIGNED_FIELDS] + risk
    expiries = inputs.repeated_group(EXPIRY_GROUP)
    quotes = inputs.hashed_group(QUOTE_GROUP)
    if quotes.root != QUOTE_ROOT:
        raise LayoutNotSupported(f"the quotes' tree root is {quotes.root!r}; the vault takes {QUOTE_ROOT!r}")
    for group, reads in ((expiries, EXPIRY_READS), (quotes, QUOTE_READS)):
        missing = [f for f in reads if f not in {s.field for s in group.fields}]
        if missing:
            raise LayoutNotSupported(f"the vault reads {group.name} fields {missing}, which the layout lacks")
    unsigned += [s for s in expiries.fields if s.field in EXPIRY_READS]
    unsigned += [s for s in quotes.fields if s.field != "mid"]
    for s in unsigned:
        if s.lo < 0:
            raise LayoutNotSupported(f"{s.name} has lo {s.lo} < 0; the vault reads it unsigned")
    is_call = next(s for s in quotes.fields if s.field == "is_call")
    if (is_call.bits, is_call.lo) != (1, 0):
        raise LayoutNotSupported("is_call must be one bit with lo 0")


# ------------------------------------------------------------------------- rendering


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _slot_constants(prefix: str, slot: PackedSlot, what: str, *, element: bool = True) -> list[str]:
    """NAME_ELEMENT (unless the slot's element is the one a reader is given), _OFFSET, _BITS, _LO."""
    return [
        f"    // {slot.name}: {what}, bits [{slot.offset}, {slot.offset + slot.bits}), lo {slot.lo}",
        *([f"    uint256 internal constant {prefix}_ELEMENT = {slot.element};"] if element else []),
        f"    uint256 internal constant {prefix}_OFFSET = {slot.offset};",
        f"    uint256 internal constant {prefix}_BITS = {slot.bits};",
        f"    int256 internal constant {prefix}_LO = {slot.lo};",
    ]


PACKED = "uint256[BATCH_ELEMENT_COUNT] calldata packed"


def _reader(function: str, parameters: str, element: str, prefix: str) -> str:
    """A library function returning one slot's field from `element`."""
    return (
        f"    function {function}({parameters}) internal pure returns (int256) {{\n"
        f"        return field({element}, {prefix}_OFFSET, {prefix}_BITS, {prefix}_LO);\n"
        "    }\n"
    )


def render_batch_layout(document: Mapping[str, Any]) -> str:
    """BatchLayout.sol for a layout document (raises LayoutNotSupported when the vault cannot read it)."""
    inputs = read_layout(document)
    repeated = {g.name: g for g in inputs.repeated}
    counts: list[str] = []
    constants = [f"    uint256 internal constant {name.upper()}_INPUT = {i};" for i, name in enumerate(inputs.whole)]
    readers: list[str] = []
    decode: list[str] = []
    for g in inputs.repeated:
        group = g.name.upper()
        counts.append(f"uint256 constant BATCH_{group}_COUNT = {g.count};")
        constants += [f"    // group {g.name}: instance i in elements {group}_FIRST_ELEMENT + i·{group}_STRIDE + ...",
                      f"    uint256 internal constant {group}_FIRST_ELEMENT = {g.first_element};",
                      f"    uint256 internal constant {group}_STRIDE = {g.stride};"]
        for s in g.fields:
            prefix = f"{g.name}_{s.field}".upper()
            constants += _slot_constants(prefix, s, "element relative to the instance")
            function = _camel(f"{g.name}_{s.field}")
            readers.append(_reader(function, f"{PACKED}, uint256 i", f"packed[{group}_FIRST_ELEMENT + i * {group}_STRIDE"
                                   f" + {prefix}_ELEMENT]", prefix))
            if g.stride == 1:
                readers.append(_reader(function, "uint256 element", "element", prefix))
    for h in inputs.hashed:
        group = h.name.upper()
        counts += [f"uint256 constant BATCH_{group}_COUNT = {h.count};",
                   f"uint256 constant BATCH_{group}_TREE_DEPTH = {h.depth};",
                   f"uint256 constant BATCH_{group}_FIELD_COUNT = {len(h.fields)};"]
        constants.append(f"    // hashed group {h.name}: one element per instance, the leaves of {h.root}'s tree "
                         "(not public inputs)")
        for s in h.fields:
            prefix = f"{h.name}_{s.field}".upper()
            constants += _slot_constants(prefix, dataclasses.replace(s, name=f"{h.name}_{s.field}"), "within the element",
                                         element=False)
            readers.append(_reader(_camel(f"{h.name}_{s.field}"), "uint256 element", "element", prefix))
        function = "decode" + _camel(h.name).capitalize()
        readers.append(
            f"    /// @notice Every field of one {h.name} element, in layout order.\n"
            f"    function {function}(uint256 element) internal pure returns (int256[BATCH_{group}_FIELD_COUNT] memory fields) {{\n"
            + "".join(f"        fields[{i}] = {_camel(f'{h.name}_{s.field}')}(element);\n" for i, s in enumerate(h.fields))
            + "    }\n")
    for i, s in enumerate(inputs.slots):
        if s.group in repeated:
            decode.append(f"        fields[{i}] = {_camel(f'{s.group}_{s.field}')}(packed, {s.index});")
        else:
            prefix = s.name.upper()
            constants += _slot_constants(prefix, s, f"element {s.element}")
            readers.append(_reader(_camel(s.name), PACKED, f"packed[{prefix}_ELEMENT]", prefix))
            decode.append(f"        fields[{i}] = {_camel(s.name)}(packed);")
    return Template(LAYOUT_TEMPLATE.read_text()).substitute(
        layout_sha256=inputs.sha256,
        circuit=inputs.circuit,
        frac_bits=FRAC_BITS,
        n_whole=len(inputs.whole),
        n_elements=inputs.n_elements,
        n_public=inputs.n_public_inputs,
        n_committed=inputs.n_public_inputs + 1,
        n_slots=len(inputs.slots),
        group_counts="\n".join(counts),
        whole_names=", ".join(inputs.whole),
        slot_constants="\n".join(constants),
        slot_readers="\n".join(readers),
        decode_lines="\n".join(decode),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate BatchLayout.sol from a batch layout JSON document")
    parser.add_argument("layout", type=Path, help="the layout JSON (circuits.book_batch.book_batch_layout(E, N))")
    parser.add_argument("-o", "--output", type=Path, default=Path("BatchLayout.sol"))
    args = parser.parse_args(argv)
    args.output.write_text(render_batch_layout(json.loads(args.layout.read_text())))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
