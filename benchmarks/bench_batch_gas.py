"""Gas of a batch of N quotes now that the quotes are one Poseidon root (issue 11 item 8).

For N = 1, 4, 16, 64 quotes of the smallest book batch (P = 4 slots, F = 2 fills, E = 2 expiries;
solver.scripted_book.quotes_request: N quotes over the empty book, nonce 1 at T0), each with a real
proof (keys from prover.keys_for, cached by circuit fingerprint; proofs cached beside them by
witness), on the in-process EVM (py-evm, the gas anvil charges), a fresh chain per N:
  submit            QuoteVault.submitBatch of that trading batch, all of it: 21,000, calldata (the
                    quote elements travel as calldata, 32 bytes each), the proof's 17 public inputs
                    (as many for any N), the stored root and the one QuotesPublished event
  per extra quote   (submit(N) - submit(1)) / (N - 1)
  amortized         submit(N) / N
  fill              QuoteVault.fill of quote N - 1 (a series new to the book), its element and its
                    path of ceil(log2 N) siblings checked against the batch's root (one PoseidonT3
                    hash per level)
The old design (each quote a packed public input, stored in its own slot and emitted on its own)
is gone from the code, so its figures are docs/vault-life.md's, measured on anvil on the vault just
before this change (with the worst-case reserve and the wind-down): submitBatch 502,978 for one
quote, a fill opening a series 280,798; and issue 11's 33,500 per extra quote (the per-quote part,
which the reserve did not change). The ratio column compares submit(N) with 502,978 + 33,500 (N - 1).

Writes benchmarks/results/batch_gas.json and batch_gas.png and prints the table.

    python benchmarks/bench_batch_gas.py [--quotes 1 4 16 64]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from circuits import book_batch as bb  # noqa: E402
from circuits.merkle import merkle_path, tree_depth  # noqa: E402
from solver import scripted_book as sb  # noqa: E402
from solver.settlement import build_book_batch, vault_limits  # noqa: E402
from verifier_contracts.build import SOLC_SETTINGS, solc_version  # noqa: E402
from verifier_contracts.client import Groth16VerifierClient  # noqa: E402
from verifier_contracts.devnet import in_process_web3, mine_block_at  # noqa: E402
from verifier_contracts.vault import compile_vault, deploy_vault_stack  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
OLD_SUBMIT_ONE, OLD_PER_QUOTE, OLD_FILL = 502_978, 33_500, 280_798
"""docs/vault-life.md's and issue 11's figures of the design with one public element, one slot and one
event per quote."""
REQUIRED, GOAL = 12_000, 5_000
"""Issue 11 item 8: gas per quote amortized at a batch of 64, all of submitBatch included."""
COLLATERAL = 10**12
FILL_SIZE = sb.ONE // 8


def prove(n_quotes: int) -> tuple[Any, dict[str, Any]]:
    """The proof of quotes_request(n_quotes) and its costs (constraints, build and keys + proof time)."""
    start = time.perf_counter()
    request = sb.quotes_request(n_quotes)
    built = build_book_batch(request)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    material = sb.make_material({"batch": request})
    return material, {"constraints": built.r1cs.n_constraints, "public_inputs": len(built.public_inputs),
                      "build_s": round(build_s, 1), "keys_and_proof_s": round(time.perf_counter() - start, 1)}


def measure(n_quotes: int) -> dict[str, Any]:
    """Deploy a vault for N quotes on a fresh chain, submit the proven batch, fill its last quote."""
    material, costs = prove(n_quotes)
    proven = material.batch
    contracts = compile_vault(bb.book_batch_layout(sb.CAPACITY.expiries, n_quotes).to_json())
    w3 = in_process_web3()
    _, solver, lp, taker = w3.eth.accounts[:4]
    stack = deploy_vault_stack(
        w3, contracts, solver=solver, first_nonce=sb.FIRST_NONCE, limits=vault_limits(sb.LIMITS), market=sb.MARKET,
        margins=sb.MARGINS, book_capacity=sb.CAPACITY.slots, fill_capacity=sb.CAPACITY.fills,
        verifier=Groth16VerifierClient.deploy(w3, material.verifying_key), quote_path=merkle_path)
    for account in (lp, taker):
        stack.token.mint(account, COLLATERAL)
        stack.token.approve(stack.vault.address, 2**256 - 1, sender=account)
    stack.vault.deposit(COLLATERAL, sender=lp)
    stack.vault.set_state_commitment(proven.state_commitment, sender=solver)
    mine_block_at(w3, sb.T0)
    stack.oracle.post(sb.SPOT, sb.T0)
    stack.iv_oracle.post(sb.IV_INDEX, sb.T0)
    accepted = stack.vault.submit_batch(proven.proof, proven.book_after, proven.quotes_root, proven.packed,
                                        proven.quote_elements, sender=solver, gas=5_000_000)
    assert accepted.live and len(accepted.quotes) == n_quotes
    fill = stack.vault.fill(sb.FIRST_NONCE, n_quotes - 1, FILL_SIZE, 2**256 - 1, sender=taker, gas=2_000_000)
    return {"quotes": n_quotes, "tree_depth": tree_depth(n_quotes), **costs, "submit": accepted.gas_used,
            "fill_new_series": fill.gas_used, "old_design_submit": OLD_SUBMIT_ONE + OLD_PER_QUOTE * (n_quotes - 1)}


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    n = [r["quotes"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(n, [r["submit"] / 1e3 for r in rows], "o-", label="one root (measured)")
    left.plot(n, [r["old_design_submit"] / 1e3 for r in rows], "s--",
              label="one element + slot per quote (vault-life.md, issue 11)")
    left.set(xscale="log", xlabel="quotes per batch", ylabel="submitBatch gas (thousands)", title="submitBatch")
    left.set_xticks(n, [str(x) for x in n])
    left.legend()
    right.plot(n, [r["amortized_per_quote"] / 1e3 for r in rows], "o-", label="submitBatch / N")
    right.plot(n, [r["fill_new_series"] / 1e3 for r in rows], "^-", label="fill (path of ceil(log2 N))")
    right.axhline(REQUIRED / 1e3, color="red", ls=":", label="required at 64: 12k")
    right.axhline(GOAL / 1e3, color="green", ls=":", label="goal at 64: 5k")
    right.set(xscale="log", yscale="log", xlabel="quotes per batch", ylabel="gas (thousands)",
              title="per quote, and a fill")
    right.set_xticks(n, [str(x) for x in n])
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, nargs="+", default=[1, 4, 16, 64])
    args = parser.parse_args(argv)
    rows = []
    for n in sorted(args.quotes):
        rows.append(measure(n))
        print(f"N = {n}: submitBatch {rows[-1]['submit']:,} gas, fill {rows[-1]['fill_new_series']:,} gas "
              f"({rows[-1]['constraints']:,} constraints, keys + proof {rows[-1]['keys_and_proof_s']} s)", flush=True)
    base = next((r for r in rows if r["quotes"] == 1), None)
    for r in rows:
        r["amortized_per_quote"] = round(r["submit"] / r["quotes"])
        r["per_extra_quote"] = round((r["submit"] - base["submit"]) / (r["quotes"] - 1)) if base and r["quotes"] > 1 \
            else None
        r["submit_vs_old_design"] = round(r["submit"] / r["old_design_submit"], 3)
    document = {
        "what": "gas used by whole transactions (21,000 and calldata included) of a trading batch of N quotes "
                "over the empty book and a fill of its last quote; the smallest book batch (P 4, F 2, E 2)",
        "evm": "py-evm (eth-tester), Prague rules",
        "solc": solc_version(),
        "solc_settings": {k: SOLC_SETTINGS[k] for k in ("optimizer", "evmVersion")},
        "python": platform.python_version(),
        "old_design": {"source": "docs/vault-life.md (anvil, the vault before this change) and issue 11 item 8",
                       "submit_one_quote": OLD_SUBMIT_ONE,
                       "per_extra_quote": OLD_PER_QUOTE, "fill_new_series": OLD_FILL},
        "required_per_quote_at_64": REQUIRED,
        "goal_per_quote_at_64": GOAL,
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "batch_gas.json").write_text(json.dumps(document, indent=2) + "\n")
    plot(rows, RESULTS / "batch_gas.png")
    print(f"{'N':>3} {'depth':>5} {'public':>6} {'submitBatch':>12} {'per extra':>10} {'amortized':>10} "
          f"{'fill':>9} {'old submit':>11} {'new/old':>8}")
    for r in rows:
        extra = f"{r['per_extra_quote']:,}" if r["per_extra_quote"] is not None else "-"
        print(f"{r['quotes']:>3} {r['tree_depth']:>5} {r['public_inputs']:>6} {r['submit']:>12,} {extra:>10} "
              f"{r['amortized_per_quote']:>10,} {r['fill_new_series']:>9,} {r['old_design_submit']:>11,} "
              f"{r['submit_vs_old_design']:>8}")
    print(f"wrote {RESULTS / 'batch_gas.json'} and batch_gas.png")


if __name__ == "__main__":
    main()
