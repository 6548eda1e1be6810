"""Write the Solidity standard-JSON input that `make lint` hands to slither (crytic-compile's Solc-json).

slither reaches the pinned solc-js through verifier_contracts/bin/solc, which speaks only
standard JSON; crytic-compile's Foundry route mis-parses forge 1.x build-info here (missing
inheritance ids in OpenZeppelin's contracts), so the input is built as the Python clients
compile: every hand-written contract (vault_sources: the vault, its three linked libraries,
BookLedger, BatchChecks, the oracles, the token, Poseidon, the layout reader), the generated
BatchLayout.sol of a 2-expiry 1-quote book batch, a generated Groth16Verifier (of a throwaway
development key: the template is what is linted), and their OpenZeppelin imports, with
verifier_contracts.build's settings. PoseidonT3.sol, generated too, is linted as its generator
writes it for 3 rounds (full, partial, full; every line of the template): its 65 straight-line
rounds cost slither's data-dependency closure, quadratic in a function's SSA variables, 88 of
100 s here (12 s in all with 3 rounds), for no detector that 3 rounds do not reach.

    python tools/slither_input.py DIR      (then: cd DIR && slither input.json --compile-force-framework Solc-json)

crytic-compile looks every source name up on disk relative to the working folder, so DIR
gets the generated sources as files and links to the hand-written ones and to OpenZeppelin.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from circuits.builder import ConstraintSystem  # noqa: E402
from circuits.book_batch import book_batch_layout  # noqa: E402
from circuits.poseidon import poseidon_parameters  # noqa: E402
import prover  # noqa: E402
from verifier_contracts.build import SOLC_SETTINGS, with_imports  # noqa: E402
from verifier_contracts.generate import render_verifier  # noqa: E402
from verifier_contracts.poseidon_contract import render_poseidon_t3  # noqa: E402
from verifier_contracts.vault import vault_sources  # noqa: E402

def _throwaway_verifier() -> str:
    cs = ConstraintSystem()
    x = cs.public_input("x", 3)
    cs.public_output("square", cs.mul(x, x, "square"))
    _, vk = prover.setup(cs.to_r1cs())
    return render_verifier(vk)


def _three_round_poseidon() -> str:
    # Round 0 full, round 1 partial, round 2 full (is_full_round with 2 full rounds): every template line.
    params = poseidon_parameters(3)
    return render_poseidon_t3(replace(params, full_rounds=2, partial_rounds=1, round_constants=params.round_constants[:3]))


def main(folder: Path) -> None:
    sources = vault_sources(book_batch_layout(2, 1).to_json())  # the smallest vault: 2 expiries, 1 quote
    sources["generated/Groth16Verifier.sol"] = _throwaway_verifier()
    sources["PoseidonT3.sol"] = _three_round_poseidon()
    sources = with_imports(sources)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        path = folder / name
        if name.startswith("generated/") or name == "PoseidonT3.sol":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)  # a link to the committed file, from an earlier version of this script
            path.write_text(text)
        elif "/" not in name:  # a hand-written contract: linked, so findings point at the real file
            path.unlink(missing_ok=True)
            path.symlink_to(ROOT / "verifier_contracts" / name)
    packages = folder / "@openzeppelin"
    packages.unlink(missing_ok=True)
    packages.symlink_to(ROOT / "node_modules" / "@openzeppelin")
    document = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sorted(sources.items())},
        # crytic-compile reads bytecode and source maps; the optimizer is off, since slither reads the
        # AST and its own IR, and solc-js takes minutes to optimise every contract.
        "settings": {**SOLC_SETTINGS, "optimizer": {"enabled": False},
                     "outputSelection": {"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode"], "": ["ast"]}}},
    }
    (folder / "input.json").write_text(json.dumps(document))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/slither_input.py DIR")
    main(Path(sys.argv[1]))
