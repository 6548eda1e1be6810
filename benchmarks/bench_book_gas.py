"""Gas of the vault's book: one Poseidon hash, the book update of a fill, a proof's book check.

On the in-process EVM (py-evm, Prague rules, the gas anvil charges), with contracts compiled by
the pinned solc at the project's settings:
  poseidon          PoseidonT3.hash(x, y): one transaction; execution = gas used - intrinsic
  fill, new series  BookLedger.recordFill opening a slot (registry entry, slot word, expiry word)
  fill, new expiry  the same when the series also brings a new live expiry
  fill, known       recordFill on a series already in the book (the common case)
  proof check       requireProvenTransition + acceptProvenBook (what submitBatch adds for the book)
  empty book        deployment of a ledger of P slots: its empty commitment takes P hashes
The ledger runs in BookLedgerHarness (verifier_contracts/test/utils/), whose own dispatch is a
few hundred gas of each figure. "execution" excludes the 21,000 + calldata intrinsic gas (EIP-2028).

Writes benchmarks/results/book_gas.json and prints the table.

    python benchmarks/bench_book_gas.py
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from web3 import Web3

from circuits import book_hash as bh
from engine import fixed as fx
from engine import fixed_book as fb
from verifier_contracts.build import SOLC_SETTINGS, compile_sources, solc_version
from verifier_contracts.client import ContractClient
from verifier_contracts.devnet import in_process_web3

RESULTS = Path(__file__).resolve().parent / "results"
CONTRACTS = Path(__file__).resolve().parents[1] / "verifier_contracts"
HARNESS = "test/utils/BookLedgerHarness.sol"
TX_BASE, CALLDATA_ZERO, CALLDATA_NONZERO = 21_000, 4, 16
EXPIRY = 1_700_000_000
CAPACITIES = (16, 64, 256)


def intrinsic_gas(calldata: bytes) -> int:
    """21,000 + 4 per zero calldata byte + 16 per other byte (EIP-2028)."""
    zeros = calldata.count(0)
    return TX_BASE + CALLDATA_ZERO * zeros + CALLDATA_NONZERO * (len(calldata) - zeros)


def execution_gas(client: ContractClient, function: str, *args: Any) -> int:
    """Gas used by one transaction of function(*args), less its intrinsic gas."""
    receipt = client.transact(function, *args, gas=5_000_000)
    calldata = bytes.fromhex(client.contract.encode_abi(function, args=list(args))[2:])
    return receipt["gasUsed"] - intrinsic_gas(calldata)


def measure(w3: Web3) -> dict[str, Any]:
    names = (HARNESS, "BookLedger.sol", "PoseidonT3.sol")
    compiled = compile_sources({name: (CONTRACTS / name).read_text() for name in names})
    poseidon = ContractClient.deploy_compiled(w3, compiled["PoseidonT3"])
    one = fx.ONE
    out: dict[str, Any] = {"poseidon_hash": execution_gas(poseidon, "hash", 2**250 + 12345, 2**251 + 6789)}

    ledger = ContractClient.deploy_compiled(w3, compiled["BookLedgerHarness"], poseidon.address, 16, 64)
    out["fill_new_series_new_expiry"] = execution_gas(ledger, "recordFill", EXPIRY, 100 * one, True, -2 * one)
    out["fill_new_series_live_expiry"] = execution_gas(ledger, "recordFill", EXPIRY, 110 * one, True, -one)
    out["fill_known_series"] = execution_gas(ledger, "recordFill", EXPIRY, 100 * one, True, -3 * one)
    fills = [fb.Fill(0, True, 100 * one, EXPIRY, -2 * one), fb.Fill(1, True, 110 * one, EXPIRY, -one),
             fb.Fill(0, True, 100 * one, EXPIRY, -3 * one)]
    heads = bh.fill_chain(fb.pack_fill(f) for f in fills)
    after = bh.book_commitment(fb.apply_fills(fb.empty_book(16), fills))
    out["proof_book_check"] = execution_gas(ledger, "proveBook", ledger.call("bookCommitment"), 0, heads[-1], 0, 3,
                                            after)

    factory = w3.eth.contract(abi=compiled["BookLedgerHarness"].abi, bytecode=compiled["BookLedgerHarness"].bytecode)
    out["deploy_empty_book"] = {}
    for capacity in CAPACITIES:
        receipt = w3.eth.wait_for_transaction_receipt(
            factory.constructor(poseidon.address, capacity, 64).transact({"gas": 29_000_000}))
        out["deploy_empty_book"][str(capacity)] = receipt["gasUsed"]
    out["poseidon_runtime_bytes"] = (len(compiled["PoseidonT3"].deployed_bytecode) - 2) // 2
    return out


def main() -> None:
    gas = measure(in_process_web3())
    document = {
        "what": "execution gas (gas used - intrinsic) of the book's operations; deployment gas in full",
        "evm": "py-evm (eth-tester), Prague rules",
        "solc": solc_version(),
        "solc_settings": {k: SOLC_SETTINGS[k] for k in ("optimizer", "evmVersion")},
        "python": platform.python_version(),
        "gas": gas,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "book_gas.json").write_text(json.dumps(document, indent=2) + "\n")
    width = max(len(k) for k in gas)
    for key, value in gas.items():
        if isinstance(value, dict):
            for capacity, used in value.items():
                print(f"{key + ' P=' + capacity:<{width + 6}} {used:>12,}")
        else:
            print(f"{key:<{width + 6}} {value:>12,}")
    print(f"wrote {RESULTS / 'book_gas.json'}")


if __name__ == "__main__":
    main()
