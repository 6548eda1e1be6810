"""BatchLayout.sol from the layout document: its constants are the layout's, and the generator refuses
a layout QuoteVault cannot read (no solc, no chain: the on-chain decoding is test_vault_contracts.py's)."""

from __future__ import annotations

import json
import re

import pytest

from circuits import layout as cl
from circuits.layout import batch_layout
from verifier_contracts import batch_layout as vbl
from verifier_contracts.batch_layout import LayoutNotSupported, layout_sha256, read_layout, render_batch_layout
from verifier_contracts.vault import vault_sources


def constants(source: str) -> dict[str, int]:
    """Every `<type> internal constant NAME = value;` and file-level `uint256 constant NAME = value;`."""
    found = re.findall(r"^\s*u?int256 (?:internal )?constant ([A-Z0-9_]+) = (-?[0-9]+);", source, re.MULTILINE)
    return {name: int(value) for name, value in found}


@pytest.mark.parametrize("n_quotes", [1, 4, 64])
def test_solidity_constants_are_the_layouts(n_quotes):
    layout = batch_layout(n_quotes)
    source = render_batch_layout(layout.to_json())
    got = constants(source)
    want = {
        "BATCH_QUOTE_COUNT": n_quotes,
        "BATCH_ELEMENT_COUNT": layout.n_elements,
        "BATCH_PUBLIC_INPUT_COUNT": layout.n_public_inputs,
        "BATCH_SLOT_COUNT": len(layout.slots),
        "FRAC_BITS": 48,
    }
    quotes = [s for s in layout.slots if s.group == "quote"]
    want["FIRST_QUOTE_ELEMENT"] = quotes[0].element
    for s in layout.slots:
        if s.group == "quote":
            if s.index == 0:
                prefix = f"QUOTE_{s.field.upper()}"
                want.update({f"{prefix}_OFFSET": s.offset, f"{prefix}_BITS": s.bits, f"{prefix}_LO": s.lo})
            assert s.element == want["FIRST_QUOTE_ELEMENT"] + s.index
        else:
            prefix = s.name.upper()
            want.update({f"{prefix}_ELEMENT": s.element, f"{prefix}_OFFSET": s.offset, f"{prefix}_BITS": s.bits,
                         f"{prefix}_LO": s.lo})
    assert got == want
    assert layout_sha256(layout.to_json()) in source


def test_decode_lists_every_slot_in_layout_order():
    layout = batch_layout(2)
    decode = re.findall(r"fields\[(\d+)\] = (\w+)\(([^;]*)\);", render_batch_layout(layout.to_json()))
    assert [int(i) for i, _, _ in decode] == list(range(len(layout.slots)))
    for (_, reader, argument), s in zip(decode, layout.slots):
        if s.group == "quote":
            assert (reader, argument) == (f"quote{''.join(w.capitalize() for w in s.field.split('_'))}",
                                          f"packed[FIRST_QUOTE_ELEMENT + {s.index}]")
        else:
            assert argument == "packed"


def _document(n_quotes: int = 1) -> dict:
    return json.loads(json.dumps(batch_layout(n_quotes).to_json()))


def _slot(document: dict, name: str) -> dict:
    return next(s for entry in document["public_inputs"] if entry["kind"] == "packed"
                for s in entry["slots"] if s["name"] == name)


def test_the_generator_refuses_what_the_vault_cannot_read():
    def refused(change, match: str) -> None:
        document = _document()
        change(document)
        with pytest.raises(LayoutNotSupported, match=match):
            render_batch_layout(document)

    def drop_nonce(document: dict) -> None:
        regime = next(e for e in document["public_inputs"] if _slot(document, "nonce") in e.get("slots", []))
        regime["slots"].remove(_slot(document, "nonce"))

    refused(drop_nonce, "nonce")
    refused(lambda d: _slot(d, "spot").update(lo="-1"), "spot")
    refused(lambda d: _slot(d, "max_loss").update(lo="-5"), "max_loss")
    refused(lambda d: _slot(d, "svi_a").update(bits=254), "svi_a")
    refused(lambda d: _slot(d, "quote0_strike").update(lo="0"), "strikes unsigned")
    refused(lambda d: _slot(d, "quote0_is_call").update(lo="1"), "is_call")
    refused(lambda d: d["public_inputs"].append(d["public_inputs"].pop(0)), "whole input")
    refused(lambda d: d["public_inputs"].pop(0), "the vault assembles")
    refused(lambda d: d.update(circuit="risk"), "circuit")
    refused(lambda d: d.update(schema="dlpe.public-inputs/2"), "schema")
    # a slot of quote 1 squeezed into quote 0's element
    refused(lambda d: d["public_inputs"][-1]["slots"].append(
        {"name": "quote1_strike", "group": "quote", "index": 1, "field": "strike", "offset": 250, "bits": 3,
         "lo": "1"}), "quote 1")
    refused(lambda d: _slot(d, "quote0_mid").update(offset=0), "overlap")


def test_the_vault_refuses_a_layout_whose_limits_are_not_its_struct():
    document = _document()
    limits = next(e for e in document["public_inputs"] if e["kind"] == "packed"
                  and e["slots"][0]["group"] == "limits")
    first, second = limits["slots"][:2]
    for key in ("name", "field"):
        first[key], second[key] = second[key], first[key]
    read_layout(document)  # the generator could render it ...
    with pytest.raises(LayoutNotSupported, match="RiskLimits"):
        vault_sources(document)  # ... but QuoteVault's struct holds the limits in another order


def test_json_file_to_solidity_from_the_command_line(tmp_path, capsys):
    path = tmp_path / "layout.json"
    cl.main(["--quotes", "3", "-o", str(path)])
    vbl.main([str(path), "-o", str(tmp_path / "BatchLayout.sol")])
    assert (tmp_path / "BatchLayout.sol").read_text() == render_batch_layout(batch_layout(3).to_json())
