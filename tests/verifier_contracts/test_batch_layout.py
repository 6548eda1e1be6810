"""BatchLayout.sol from the layout document: its constants are the layout's, and the generator refuses
a layout QuoteVault cannot read (no solc, no chain: the on-chain decoding is test_vault_contracts.py's)."""

from __future__ import annotations

import json
import re

import pytest

from circuits.book_batch import book_batch_layout
from verifier_contracts import batch_layout as vbl
from verifier_contracts.batch_layout import LayoutNotSupported, layout_sha256, read_layout, render_batch_layout
from verifier_contracts.vault import vault_sources


def constants(source: str) -> dict[str, int]:
    """Every `<type> internal constant NAME = value;` and file-level `uint256 constant NAME = value;`."""
    found = re.findall(r"^\s*u?int256 (?:internal )?constant ([A-Z0-9_]+) = (-?[0-9]+);", source, re.MULTILINE)
    return {name: int(value) for name, value in found}


@pytest.mark.parametrize("n_expiries, n_quotes", [(1, 1), (2, 1), (4, 4), (4, 64)])
def test_solidity_constants_are_the_layouts(n_expiries, n_quotes):
    layout = book_batch_layout(n_expiries, n_quotes)
    source = render_batch_layout(layout.to_json())
    want = {
        "BATCH_WHOLE_COUNT": len(layout.whole),
        "BATCH_ELEMENT_COUNT": layout.n_elements,
        "BATCH_PUBLIC_INPUT_COUNT": layout.n_public_inputs,
        "BATCH_COMMITTED_INPUT_COUNT": layout.n_public_inputs + 1,  # the committed verifier's: then the challenge
        "BATCH_SLOT_COUNT": len(layout.slots),
        "BATCH_EXPIRY_COUNT": n_expiries,
        "BATCH_QUOTE_COUNT": n_quotes,
        "BATCH_QUOTE_TREE_DEPTH": max(n_quotes - 1, 0).bit_length(),
        "BATCH_QUOTE_FIELD_COUNT": 6,
        "FRAC_BITS": 48,
    }
    want.update({f"{w.name.upper()}_INPUT": i for i, w in enumerate(layout.whole)})
    tree = layout.tree("quote")
    for s in tree.slots:
        prefix = f"quote_{s.field}".upper()
        if s.index == 0:  # no _ELEMENT: a quote is one element, shown to the vault with its path
            want.update({f"{prefix}_OFFSET": s.offset, f"{prefix}_BITS": s.bits, f"{prefix}_LO": s.lo})
        assert (s.element, s.offset, s.bits, s.lo) == (s.index, want[f"{prefix}_OFFSET"], want[f"{prefix}_BITS"],
                                                       want[f"{prefix}_LO"])
    for group in ("expiry",):
        own = [s for s in layout.slots if s.group == group]
        first = own[0].element
        stride = max(s.element for s in own if s.index == 0) - first + 1
        want.update({f"{group.upper()}_FIRST_ELEMENT": first, f"{group.upper()}_STRIDE": stride})
        for s in own:
            prefix = f"{group}_{s.field}".upper()
            if s.index == 0:
                want.update({f"{prefix}_ELEMENT": s.element - first, f"{prefix}_OFFSET": s.offset,
                             f"{prefix}_BITS": s.bits, f"{prefix}_LO": s.lo})
            # every instance sits where the constants say
            assert s.element == first + s.index * stride + want[f"{prefix}_ELEMENT"]
            assert (s.offset, s.bits, s.lo) == (want[f"{prefix}_OFFSET"], want[f"{prefix}_BITS"], want[f"{prefix}_LO"])
    for s in layout.slots:
        if s.group != "expiry":
            prefix = s.name.upper()
            want.update({f"{prefix}_ELEMENT": s.element, f"{prefix}_OFFSET": s.offset, f"{prefix}_BITS": s.bits,
                         f"{prefix}_LO": s.lo})
    assert constants(source) == want
    assert layout_sha256(layout.to_json()) in source


def test_decode_lists_every_slot_in_layout_order():
    layout = book_batch_layout(2, 2)
    source = render_batch_layout(layout.to_json())

    def body(function: str) -> str:
        return source.split(f"function {function}(")[1].split("\n    }")[0]

    decode = re.findall(r"fields\[(\d+)\] = (\w+)\(([^;]*)\);", body("decode"))
    assert [int(i) for i, _, _ in decode] == list(range(len(layout.slots)))
    assert not any(s.group == "quote" for s in layout.slots)  # the quotes are not public inputs
    quote = re.findall(r"fields\[(\d+)\] = (\w+)\(element\);", body("decodeQuote"))
    assert quote == [(str(i), "quote" + "".join(w.capitalize() for w in s.field.split("_")))
                     for i, s in enumerate(layout.tree("quote").slots) if s.index == 0]
    for (_, reader, argument), s in zip(decode, layout.slots):
        if s.group == "expiry":
            camel = s.group + "".join(w.capitalize() for w in s.field.split("_"))
            assert (reader, argument) == (camel, f"packed, {s.index}")
        else:
            assert argument == "packed"


def _document(n_expiries: int = 2, n_quotes: int = 1) -> dict:
    return json.loads(json.dumps(book_batch_layout(n_expiries, n_quotes).to_json()))


def _slot(document: dict, name: str) -> dict:
    return next(s for entry in document["public_inputs"] if entry["kind"] == "packed"
                for s in entry["slots"] if s["name"] == name)


def _leaf_slot(document: dict, leaf: int, name: str) -> dict:
    (tree,) = document["merkle_trees"]
    return next(s for s in tree["leaves"][leaf]["slots"] if s["name"] == name)


def _element_of(document: dict, name: str) -> dict:
    return next(e for e in document["public_inputs"] if _slot(document, name) in e.get("slots", []))


def test_the_generator_refuses_what_the_vault_cannot_read():
    def refused(change, match: str) -> None:
        document = _document()
        change(document)
        with pytest.raises(LayoutNotSupported, match=match):
            render_batch_layout(document)

    refused(lambda d: _element_of(d, "nonce")["slots"].remove(_slot(d, "nonce")), "nonce")
    refused(lambda d: _element_of(d, "worst_loss")["slots"].remove(_slot(d, "worst_loss")), "worst_loss")
    refused(lambda d: _slot(d, "spot").update(lo="-1"), "spot")
    refused(lambda d: _slot(d, "fills_to").update(lo="-1"), "fills_to")
    refused(lambda d: _slot(d, "max_loss").update(lo="-5"), "max_loss")
    refused(lambda d: [_slot(d, f"expiry{e}_atm_variance").update(lo="-5") for e in (0, 1)], "atm_variance")
    refused(lambda d: _leaf_slot(d, 0, "quote0_size_units").update(lo="-1"), "size_units")
    refused(lambda d: _leaf_slot(d, 0, "quote0_is_call").update(lo="1"), "is_call")
    refused(lambda d: d["merkle_trees"][0].update(root="book_after"), "quotes_root")
    refused(lambda d: d["merkle_trees"][0].update(root="nowhere"), "not a whole public input")
    refused(lambda d: d["merkle_trees"][0].update(depth=1), "depth 1 for 1 leaves")
    refused(lambda d: d.update(merkle_trees=[]), "no hashed group 'quote'")
    refused(lambda d: _element_of(d, "quoted")["slots"].remove(_slot(d, "quoted")), "quoted")
    refused(lambda d: _slot(d, "expiry0_svi_a").update(bits=254), "svi_a")
    refused(lambda d: d["public_inputs"].append(d["public_inputs"].pop(0)), "whole input")
    refused(lambda d: d["public_inputs"].pop(0), "the vault assembles")
    refused(lambda d: d.update(circuit="batch"), "circuit")
    refused(lambda d: d.update(schema="dlpe.public-inputs/1"), "schema")
    # expiry 1 placing a field elsewhere than expiry 0 does
    refused(lambda d: _slot(d, "expiry1_svi_b").update(bits=50), "expiry 1")
    refused(lambda d: _slot(d, "worst_loss").update(offset=0), "overlap")
    refused(lambda d: _leaf_slot(d, 0, "quote0_mid").update(offset=0), "overlap")


def test_the_vault_refuses_a_layout_whose_limits_are_not_its_struct():
    document = _document()
    risk = next(e for e in document["public_inputs"] if e["kind"] == "packed" and e["slots"][0]["group"] == "risk")
    first, second = risk["slots"][:2]
    for key in ("name", "field"):
        first[key], second[key] = second[key], first[key]
    read_layout(document)  # the generator could render it ...
    with pytest.raises(LayoutNotSupported, match="RiskLimits"):
        vault_sources(document)  # ... but QuoteVault's struct holds the limits in another order


def test_json_file_to_solidity_from_the_command_line(tmp_path):
    path = tmp_path / "layout.json"
    path.write_text(json.dumps(book_batch_layout(3, 2).to_json()))
    vbl.main([str(path), "-o", str(tmp_path / "BatchLayout.sol")])
    assert (tmp_path / "BatchLayout.sol").read_text() == render_batch_layout(book_batch_layout(3, 2).to_json())
