"""Compiling with the pinned solc-js: artifacts, recorded settings, the source-hash cache, errors."""

from __future__ import annotations

import pytest

from verifier_contracts import build
from verifier_contracts.build import SOLC_SETTINGS, SolidityCompileError, compile_contract, compile_sources

SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

contract Counter {
    uint256 public count;

    function increment() external {
        count += 1;
    }
}
"""


def _no_solc(_standard_input: str) -> dict:
    raise AssertionError("solc ran although the artifact is cached")


def test_artifact_records_what_built_it(tmp_path):
    counter = compile_contract(SOURCE, "Counter", cache_dir=tmp_path)
    assert counter.solc_version.startswith("0.8.28+commit")
    assert counter.settings == SOLC_SETTINGS and counter.settings["optimizer"]["enabled"] is True
    assert {entry["name"] for entry in counter.abi} == {"count", "increment"}
    assert counter.bytecode.startswith("0x60") and len(counter.deployed_bytecode) < len(counter.bytecode)
    assert counter.warnings == ()


def test_cache_is_keyed_by_source_and_settings(tmp_path, monkeypatch):
    first = compile_contract(SOURCE, "Counter", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 1
    monkeypatch.setattr(build, "_run_solc", _no_solc)
    assert compile_contract(SOURCE, "Counter", cache_dir=tmp_path) == first
    with pytest.raises(AssertionError, match="solc ran"):
        compile_contract(SOURCE + "\n// edited\n", "Counter", cache_dir=tmp_path)
    other_settings = {**SOLC_SETTINGS, "optimizer": {"enabled": True, "runs": 1}}
    with pytest.raises(AssertionError, match="solc ran"):
        compile_contract(SOURCE, "Counter", cache_dir=tmp_path, settings=other_settings)


def test_errors_are_reported_and_not_cached(tmp_path):
    with pytest.raises(SolidityCompileError, match="ParserError"):
        compile_sources({"Broken.sol": "contract Broken {"}, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SolidityCompileError, match="no contract Missing"):
        compile_contract(SOURCE, "Missing", source_name="Counter.sol", cache_dir=tmp_path)
