"""Compile Solidity with the pinned solc (npm package solc, solc-js) through its standard-JSON interface.

    contracts = compile_sources({"Groth16Verifier.sol": source})
    verifier = contracts["Groth16Verifier"]          # .abi, .bytecode, .settings, .solc_version

The standard-JSON input (https://docs.soliditylang.org/en/v0.8.28/using-the-compiler.html,
"Compiler Input and Output JSON Description") holds the sources and every setting, so it
alone, with the compiler's version, decides the output. Artifacts are cached under
<DLPE cache folder>/solc/ (bn254.cache, outside the checkout) in a file named by the sha256 of (solc version, input): an edit to
a source or a setting compiles again, a repeated test run does not.

Imports resolve as forge resolves them with verifier_contracts/foundry.toml: a relative import
against the importing file's source name, a package import (`@openzeppelin/contracts/...`, pinned
in package.json) from node_modules/. The imported files join the input's sources, so they are part
of the hash, and solc needs no import callback.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bn254.cache import dlpe_cache_folder, write_atomically

ROOT = Path(__file__).resolve().parents[1]
SOLC_PACKAGE_JSON = ROOT / "node_modules" / "solc" / "package.json"
COMPILE_SCRIPT = Path(__file__).resolve().parent / "solc_standard_json.js"
NODE_MODULES = ROOT / "node_modules"
CACHE_DIR = dlpe_cache_folder() / "solc"

SOLC_SETTINGS: dict[str, Any] = {
    # Verifiers run far more often than they deploy: optimise for calls, not for code size.
    "optimizer": {"enabled": True, "runs": 10_000},
    # Cancun is solc 0.8.28's default; pinned so that a compiler upgrade cannot change it silently.
    "evmVersion": "cancun",
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}
"""Standard-JSON settings used unless a caller passes others; recorded in every artifact."""


class SolidityCompileError(RuntimeError):
    """solc reported errors (the message lists them), or could not be run."""


@dataclass(frozen=True, slots=True)
class CompiledContract:
    """One contract as solc built it: what a client needs to deploy it and call it."""

    name: str
    source_name: str
    abi: list[dict[str, Any]]
    bytecode: str
    """Creation code, hex with 0x."""
    deployed_bytecode: str
    """Runtime code, hex with 0x."""
    solc_version: str
    settings: dict[str, Any]
    warnings: tuple[str, ...]
    """solc's formatted warnings for the whole compilation (empty when clean)."""


def solc_version() -> str:
    """Version of the pinned solc npm package (from its package.json; raises when it is not installed)."""
    if not SOLC_PACKAGE_JSON.is_file():
        raise SolidityCompileError(f"solc-js is not installed ({SOLC_PACKAGE_JSON} missing): run `make install`")
    return json.loads(SOLC_PACKAGE_JSON.read_text())["version"]


def _run_solc(standard_input: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        raise SolidityCompileError("node is not on PATH; solc-js needs it")
    done = subprocess.run(
        [node, str(COMPILE_SCRIPT)],
        input=standard_input,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    if done.returncode != 0:
        raise SolidityCompileError(f"solc-js failed (exit {done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


# `import "x";`, `import * as A from "x";`, `import {A, B} from "x";` (one or several lines).
_IMPORT = re.compile(r'^\s*import\s+(?:[^;"]*?\s+from\s+)?"([^"]+)"\s*;', re.MULTILINE)


def _imported_name(importer: str, path: str) -> str:
    """The source name of `path` imported from source `importer`: relative paths resolve against
    the importer's folder, anything else is its own name (solc's rule, without remappings)."""
    if path.startswith(("./", "../")):
        name = posixpath.normpath(posixpath.join(posixpath.dirname(importer), path))
        if name.startswith("../"):
            raise SolidityCompileError(f"{importer} imports {path}, outside every source folder")
        return name
    return path


def with_imports(sources: dict[str, str]) -> dict[str, str]:
    """`sources` plus every file they import, transitively, read from node_modules/ (package
    imports) when not among `sources`. Raises SolidityCompileError for an import found nowhere."""
    closed = dict(sources)
    pending = list(sources)
    while pending:
        importer = pending.pop()
        for path in _IMPORT.findall(closed[importer]):
            name = _imported_name(importer, path)
            if name in closed:
                continue
            file = NODE_MODULES / name
            if not file.is_file():
                raise SolidityCompileError(f"{importer} imports {path}: no source {name} and no {file}")
            closed[name] = file.read_text()
            pending.append(name)
    return closed


def compile_sources(
    sources: dict[str, str],
    settings: dict[str, Any] | None = None,
    cache_dir: Path | None = CACHE_DIR,
) -> dict[str, CompiledContract]:
    """Compile {source name: Solidity text} and what it imports; returns every contract by name.

    settings: standard-JSON settings (default SOLC_SETTINGS). cache_dir: where artifacts
    are cached (None: no cache). Raises SolidityCompileError when solc reports an error
    or two files define contracts of the same name.
    """
    settings = SOLC_SETTINGS if settings is None else settings
    version = solc_version()
    standard_input = json.dumps(
        {
            "language": "Solidity",
            "sources": {name: {"content": text} for name, text in sorted(with_imports(sources).items())},
            "settings": settings,
        },
        sort_keys=True,
    )
    key = hashlib.sha256(f"{version}\n{standard_input}".encode()).hexdigest()
    cached = None if cache_dir is None else cache_dir / f"{key}.json"
    if cached is not None and cached.is_file():
        result = json.loads(cached.read_text())
    else:
        result = _run_solc(standard_input)
        problems = result["output"].get("errors", [])
        errors = [p["formattedMessage"] for p in problems if p["severity"] == "error"]
        if errors:
            raise SolidityCompileError("solc: " + "\n".join(errors))
        if cached is not None:
            write_atomically(cached, json.dumps(result).encode())

    output = result["output"]
    warnings = tuple(p["formattedMessage"] for p in output.get("errors", []) if p["severity"] != "error")
    contracts: dict[str, CompiledContract] = {}
    for source_name, by_name in output.get("contracts", {}).items():
        for name, artifact in by_name.items():
            if name in contracts:
                raise SolidityCompileError(
                    f"contract {name} is defined in {contracts[name].source_name} and {source_name}"
                )
            contracts[name] = CompiledContract(
                name=name,
                source_name=source_name,
                abi=artifact["abi"],
                bytecode="0x" + artifact["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + artifact["evm"]["deployedBytecode"]["object"],
                solc_version=result["version"],
                settings=settings,
                warnings=warnings,
            )
    return contracts


def compile_contract(source: str, name: str, *, source_name: str | None = None, **options: Any) -> CompiledContract:
    """Compile one Solidity file and return its contract `name` (options as for compile_sources)."""
    contracts = compile_sources({source_name or f"{name}.sol": source}, **options)
    if name not in contracts:
        raise SolidityCompileError(f"no contract {name} in the source (found: {', '.join(contracts) or 'none'})")
    return contracts[name]
