"""BatchLayout.sol, generated from the batch circuit's public-input layout document.

The layout is defined once, in circuits/layout.py, and written out as JSON (schema
"dlpe.public-inputs/1", documented there; `python -m circuits.layout --quotes N`). This module
reads that document (it does not import circuits/: DESIGN.md), checks that QuoteVault can
read the layout it describes, and renders templates/BatchLayout.sol.tmpl: where each field
sits in the packed public inputs, so that the contract and the circuit cannot drift.

What QuoteVault reads, and so requires (LayoutNotSupported otherwise):
  whole inputs   exactly the two commitments it stores, in the order it assembles them
  spot, t, nonce compared with what the vault derives (oracle, clock, nonce counter): lo >= 0
  limits         the group of risk limits, compared with governance's: every lo >= 0
  quote          one element per quote, the quotes in consecutive elements after every other
                 field, each with the same offsets; strike (lo > 0), is_call (one bit, lo 0),
                 mid and half spread

    python -m verifier_contracts.batch_layout layout.json -o BatchLayout.sol
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Mapping

LAYOUT_TEMPLATE = Path(__file__).resolve().parent / "templates" / "BatchLayout.sol.tmpl"
SCHEMA = "dlpe.public-inputs/1"
"""The layout document's schema (circuits.layout.SCHEMA)."""
MAX_PACKED_BITS = 253
"""Packed elements stay below 2^253 < r (circuits.layout.MAX_PACKED_BITS)."""
FRAC_BITS = 48
"""The contracts' fixed-point format, x · 2^48: engine.fixed.FRAC_BITS (solver/settlement.py checks they agree)."""

COMMITMENTS = ("state_commitment", "portfolio_commitment")
"""The whole public inputs, in the order QuoteVault.submitBatch fills them from its storage."""
DERIVED_FIELDS = ("spot", "t", "nonce")
"""Fields the vault compares with values it derives itself, as unsigned integers."""
LIMITS_GROUP = "limits"
QUOTE_GROUP = "quote"
QUOTE_READS = ("strike", "is_call", "mid", "half_spread")
"""The quote fields QuoteVault reads (BatchLayout.quoteStrike, ...)."""
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
class BatchInputs:
    """The batch layout as the vault reads it: whole public inputs, then packed slots in order."""

    whole: tuple[str, ...]
    slots: tuple[PackedSlot, ...]
    n_elements: int
    sha256: str
    """layout_sha256 of the document it was read from."""

    def group(self, name: str) -> list[PackedSlot]:
        """The slots of every instance of group `name`, in layout order."""
        return [s for s in self.slots if s.group == name]

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


def read_layout(document: Mapping[str, Any]) -> BatchInputs:
    """The batch layout a document describes, checked for what QuoteVault reads (see the module doc)."""
    if _get(document, "schema", str) != SCHEMA:
        raise LayoutNotSupported(f"schema is {document['schema']!r}; this generator reads {SCHEMA!r}")
    if _get(document, "circuit", str) != "batch":
        raise LayoutNotSupported(f"a layout of circuit {document['circuit']!r}; QuoteVault takes the batch circuit's")
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
    inputs = BatchInputs(tuple(whole), tuple(slots), n_elements, layout_sha256(document))
    _check_vault_reads(inputs)
    return inputs


def _check_vault_reads(inputs: BatchInputs) -> None:
    if inputs.whole != COMMITMENTS:
        raise LayoutNotSupported(f"whole public inputs are {list(inputs.whole)}; "
                                 f"the vault assembles {list(COMMITMENTS)}")
    names = [s.name for s in inputs.slots]
    if len(set(names)) != len(names):
        raise LayoutNotSupported("slot names repeat")
    by_name = {s.name: s for s in inputs.slots}
    for name in DERIVED_FIELDS:
        if name not in by_name or by_name[name].group == QUOTE_GROUP:
            raise LayoutNotSupported(f"the vault checks {name}, which the layout lacks")
    limits = inputs.group(LIMITS_GROUP)
    if not limits:
        raise LayoutNotSupported(f"the layout has no {LIMITS_GROUP} group; the vault checks the risk limits")
    for s in (*(by_name[n] for n in DERIVED_FIELDS), *limits):
        if s.lo < 0:
            raise LayoutNotSupported(f"{s.name} has lo {s.lo} < 0; the vault reads it unsigned")
    _check_quotes(inputs)


def _check_quotes(inputs: BatchInputs) -> None:
    """Quotes q = 0..n-1 fill the last n elements, one each, placing their fields as quote 0 does."""
    quotes = inputs.group(QUOTE_GROUP)
    if not quotes:
        raise LayoutNotSupported("the layout has no quote")
    first = quotes[0].element
    reference = [(s.field, s.offset, s.bits, s.lo) for s in quotes if s.index == 0]
    n_quotes = max(s.index for s in quotes) + 1
    for q in range(n_quotes):
        own = [s for s in quotes if s.index == q]
        if [(s.field, s.offset, s.bits, s.lo) for s in own] != reference:
            raise LayoutNotSupported(f"quote {q} does not place its fields as quote 0 does")
        if any(s.element != first + q for s in own):
            raise LayoutNotSupported(f"quote {q} is not alone in element {first + q}")
    if any(s.group != QUOTE_GROUP and s.element >= first for s in inputs.slots):
        raise LayoutNotSupported("a non-quote slot shares or follows the quote elements")
    fields = {field: (offset, bits, lo) for field, offset, bits, lo in reference}
    missing = [name for name in QUOTE_READS if name not in fields]
    if missing:
        raise LayoutNotSupported(f"the vault reads quote fields {missing}, which the layout lacks")
    if fields["strike"][2] <= 0:
        raise LayoutNotSupported("the vault reads strikes unsigned: their lo must be > 0")
    if fields["is_call"][1:] != (1, 0):
        raise LayoutNotSupported("is_call must be one bit with lo 0")


# ------------------------------------------------------------------------- rendering


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _slot_constants(prefix: str, slot: PackedSlot, element: int | None) -> list[str]:
    lines = [f"    // {slot.name}: bits [{slot.offset}, {slot.offset + slot.bits}), lo {slot.lo}"]
    if element is not None:
        lines.append(f"    uint256 internal constant {prefix}_ELEMENT = {element};")
    lines += [
        f"    uint256 internal constant {prefix}_OFFSET = {slot.offset};",
        f"    uint256 internal constant {prefix}_BITS = {slot.bits};",
        f"    int256 internal constant {prefix}_LO = {slot.lo};",
    ]
    return lines


def _reader(function: str, parameter: str, element: str, prefix: str) -> str:
    """A library function returning one slot's field from `element`."""
    return (
        f"    function {function}({parameter}) internal pure returns (int256) {{\n"
        f"        return field({element}, {prefix}_OFFSET, {prefix}_BITS, {prefix}_LO);\n"
        "    }\n"
    )


def render_batch_layout(document: Mapping[str, Any]) -> str:
    """BatchLayout.sol for a layout document (raises LayoutNotSupported when the vault cannot read it)."""
    inputs = read_layout(document)
    quotes = inputs.group(QUOTE_GROUP)
    first_quote_element = quotes[0].element
    constants: list[str] = []
    readers: list[str] = []
    decode: list[str] = []
    for i, s in enumerate(inputs.slots):
        if s.group == QUOTE_GROUP:
            reader = _camel(f"{QUOTE_GROUP}_{s.field}")
            decode.append(f"        fields[{i}] = {reader}(packed[FIRST_QUOTE_ELEMENT + {s.index}]);")
        else:
            prefix = s.name.upper()
            constants += _slot_constants(prefix, s, s.element)
            packed = "uint256[BATCH_ELEMENT_COUNT] calldata packed"
            readers.append(_reader(_camel(s.name), packed, f"packed[{prefix}_ELEMENT]", prefix))
            decode.append(f"        fields[{i}] = {_camel(s.name)}(packed);")
    constants.append("    // every quote q, in element FIRST_QUOTE_ELEMENT + q, as quote 0:")
    for s in quotes:
        if s.index == 0:
            prefix = f"{QUOTE_GROUP}_{s.field}".upper()
            constants += _slot_constants(prefix, s, None)
            readers.append(_reader(_camel(f"{QUOTE_GROUP}_{s.field}"), "uint256 element", "element", prefix))
    return Template(LAYOUT_TEMPLATE.read_text()).substitute(
        layout_sha256=inputs.sha256,
        frac_bits=FRAC_BITS,
        n_quotes=quotes[-1].index + 1,
        n_elements=inputs.n_elements,
        n_public=inputs.n_public_inputs,
        first_quote_element=first_quote_element,
        n_slots=len(inputs.slots),
        slot_constants="\n".join(constants),
        slot_readers="\n".join(readers),
        decode_lines="\n".join(decode),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate BatchLayout.sol from a batch layout JSON document")
    parser.add_argument("layout", type=Path, help="the layout JSON (python -m circuits.layout --quotes N)")
    parser.add_argument("-o", "--output", type=Path, default=Path("BatchLayout.sol"))
    args = parser.parse_args(argv)
    args.output.write_text(render_batch_layout(json.loads(args.layout.read_text())))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
