"""Circuit cost in both range-check modes (bits: plain R1CS; lookup: a log-derivative lookup over a committed
challenge, issue 14): constraints per gadget, per quote ((C(16) - C(4)) / 12, the lookup table and the shared
costs apart), per batch of 1, 4, 16, 64 quotes with the witness time; and for the smaller batches the proof:
setup (or key load), prove time, Python verify time and peak memory (VmHWM), each in a fresh process, and the gas of
one verifying transaction (lookup mode: the folded verifier and gnark's two-call one), proof and calldata size.
Ratios are lookup over bits, measured in the same run. Writes benchmarks/results/circuits.json and .png.

    python benchmarks/bench_circuits.py [--quick]     (--quick: batches 1, 4, 16; proofs of 1 and 4 quotes)

Keys come from prover.keys_for / prover.committed_keystore.committed_keys_for (saved by circuit
fingerprint under KEY_CACHE): a first run pays each setup once (setup_s), later runs load them (key_load_s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bn254.cache import dlpe_cache_folder
from circuits.costs import gadget_costs
from solver.mode_costs import PER_QUOTE_SIZES, BatchCost, batch_cost, build_batch, lookup_gadget_costs, per_quote_costs
from engine import fixed as fx

RESULTS = Path(__file__).resolve().parent / "results"
KEY_CACHE = dlpe_cache_folder() / "bench-circuits"
"""This benchmark's own key cache (keys/<fingerprint>/ below it), apart from the service's."""
MODES = ("bits", "lookup")
GAS_LIMIT = 3_000_000
PROOF_BYTES = {"bits": 64 + 128 + 64, "lookup": 64 + 128 + 64 + 64 + 64}  # A, B, C (+ D, P)
CALLDATA_WORDS = {"bits": 2 + 4 + 2, "lookup": 2 + 4 + 2 + 2 + 2}  # proof words; one more per public signal


def measure_batch(n_quotes: int, mode: str, repeats: int) -> dict:
    """Constraints and the best-of-`repeats` witness time (build + settle) of one batch."""
    best, cost = float("inf"), None
    for _ in range(repeats):
        cost = batch_cost(n_quotes, mode)
        best = min(best, cost.build_seconds)
    return {**cost.as_dict(), "witness_seconds": best}


# -- the proof, in a fresh process per (mode, size) -------------------------------------------------


def worker(mode: str, n_quotes: int, out: Path) -> None:
    """Keys (saved or made), one proof timed after a warm-up, one Python verification; JSON files into `out`."""
    from prover import keys_for, prepare, prove, verify
    from prover.formats import proof_to_json, verifying_key_to_json
    from prover.committed import prepare_committed, prove_committed, verify_committed
    from prover.committed_formats import committed_proof_to_json, committed_verifying_key_to_json
    from prover.committed_keystore import committed_keys_for
    from circuits.gadgets.logup import committed_statement

    cs = build_batch(n_quotes, mode)
    start = time.perf_counter()
    if mode == "bits":
        r1cs = cs.to_r1cs()
        witness = cs.witness()
        pk, vk, reused = keys_for(r1cs, cache_folder=KEY_CACHE)
        keys_s = time.perf_counter() - start
        prepared = prepare(pk)
        prove(prepared, witness, check=False)
        start = time.perf_counter()
        proof = prove(prepared, witness, check=False)
        prove_s = time.perf_counter() - start
        public = r1cs.public_values(witness)
        start = time.perf_counter()
        ok = verify(vk, public, proof)
        vk_json, proof_json = verifying_key_to_json(vk), proof_to_json(proof)
    else:
        statement = committed_statement(cs)
        r1cs = statement.r1cs
        pk, vk, reused = committed_keys_for(r1cs, statement.committed_wires, statement.blinding_wire,
                                            cache_folder=KEY_CACHE)
        keys_s = time.perf_counter() - start
        prepared = prepare_committed(pk)
        prove_committed(prepared, statement.witness, statement.witness_for_challenge, check=False)
        start = time.perf_counter()
        proof, public = prove_committed(prepared, statement.witness, statement.witness_for_challenge, check=False)
        prove_s = time.perf_counter() - start
        start = time.perf_counter()
        ok = verify_committed(vk, public, proof)
        vk_json, proof_json = committed_verifying_key_to_json(vk), committed_proof_to_json(proof)
    verify_s = time.perf_counter() - start
    if not ok:
        raise SystemExit(f"{mode} {n_quotes}: the proof does not verify")
    (out / "vk.json").write_text(json.dumps(vk_json))
    (out / "proof.json").write_text(json.dumps(proof_json))
    (out / "public.json").write_text(json.dumps([str(v) for v in public]))
    (out / "times.json").write_text(json.dumps({
        "constraints": r1cs.n_constraints, "public_signals": r1cs.n_public,
        "key_load_s" if reused else "setup_s": keys_s, "prove_s": prove_s, "verify_python_s": verify_s,
        "peak_rss_mib": _peak_rss_mib(),
    }))


def _peak_rss_mib() -> float:
    """This process's peak resident memory: VmHWM, which belongs to the process's own address space.

    Not getrusage's ru_maxrss: Linux carries the parent's high-water mark over fork and exec,
    so a worker started by a large parent would report the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def measure_proof(mode: str, n_quotes: int) -> tuple[dict, Path]:
    """Run the worker in a fresh process; its times and peak RSS, and the folder of its files."""
    out = Path(tempfile.mkdtemp(prefix=f"bench-circuits-{mode}-{n_quotes}-"))
    subprocess.run([sys.executable, __file__, "--worker", mode, str(n_quotes), str(out)], check=True)
    result = json.loads((out / "times.json").read_text())
    result.update(mode=mode, quotes=n_quotes, proof_bytes=PROOF_BYTES[mode],
                  calldata_bytes=4 + 32 * (CALLDATA_WORDS[mode] + result["public_signals"]))
    return result, out


def verify_gas(w3, mode: str, files: Path) -> dict[str, int]:
    """Gas of one requireValidProof transaction (lookup: folded and separate verifiers)."""
    from prover.formats import proof_from_json, verifying_key_from_json
    from prover.committed_formats import committed_proof_from_json, committed_verifying_key_from_json
    from verifier_contracts.build import compile_contract
    from verifier_contracts.client import ContractClient, Groth16VerifierClient
    from verifier_contracts.generate_committed import CONTRACT_NAME, committed_calldata, render_committed_verifier

    public = [int(v) for v in json.loads((files / "public.json").read_text())]
    vk_json, proof_json = (json.loads((files / name).read_text()) for name in ("vk.json", "proof.json"))
    if mode == "bits":
        key, proof = verifying_key_from_json(vk_json), proof_from_json(proof_json)
        verifier = Groth16VerifierClient.deploy(w3, key)
        receipt = verifier.transact("requireValidProof", *verifier.arguments(proof, public), gas=GAS_LIMIT)
        return {"verify_gas": receipt["gasUsed"]}
    key, proof = committed_verifying_key_from_json(vk_json), committed_proof_from_json(proof_json)
    gas = {}
    for folded, name in ((True, "verify_gas"), (False, "verify_gas_separate")):
        compiled = compile_contract(render_committed_verifier(key, folded=folded), CONTRACT_NAME)
        verifier = ContractClient.deploy_compiled(w3, compiled)
        gas[name] = verifier.transact("requireValidProof", *committed_calldata(proof, public), gas=GAS_LIMIT)["gasUsed"]
    return gas


def _chain():
    from verifier_contracts.devnet import Anvil, find_anvil, in_process_web3

    if find_anvil() is not None:
        anvil = Anvil()
        anvil.__enter__()
        return anvil.web3(), anvil, "anvil"
    return in_process_web3(), None, "py-evm"


# -- the report -------------------------------------------------------------------------------------


def _plot(result: dict) -> None:
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    for mode, style in zip(MODES, ("o-", "s-")):
        rows = result["batches"][mode]
        q = [b["quotes"] for b in rows]
        ax[0].loglog(q, [b["constraints"] for b in rows], style, label=f"{mode}")
        proofs = result["proofs"][mode]
        ax[1].plot([p["quotes"] for p in proofs], [p["prove_s"] for p in proofs], style, label=mode)
    ax[0].loglog(q, [3000 * n for n in q], ":", color="gray", label="3,000 per quote (required)")
    ax[0].loglog(q, [1500 * n for n in q], "--", color="gray", label="1,500 per quote (goal)")
    ax[0].set_xlabel("quotes in batch")
    ax[0].set_ylabel("constraints")
    ax[0].legend()
    ax[1].set_xlabel("quotes in batch")
    ax[1].set_ylabel("prove time (s)")
    ax[1].legend()
    names = list(result["gadgets"]["bits"])
    y = range(len(names))
    ax[2].barh([i + 0.2 for i in y], [result["gadgets"]["bits"][n] for n in names], height=0.4, label="bits")
    ax[2].barh([i - 0.2 for i in y], [result["gadgets"]["lookup"][n] for n in names], height=0.4, label="lookup")
    ax[2].set_yticks(list(y), names)
    ax[2].set_xlabel("constraints")
    ax[2].legend()
    fig.suptitle(f"DLPE circuits at 2^-{fx.FRAC_BITS}: bits vs lookup range checks")
    fig.tight_layout()
    fig.savefig(RESULTS / "circuits.png", dpi=120)
    plt.close(fig)


def _print(result: dict) -> None:
    g_bits, g_lookup = result["gadgets"]["bits"], result["gadgets"]["lookup"]
    print(f"{'gadget':45s} {'bits':>8} {'lookup':>8} {'ratio':>6}")
    for name in g_bits:
        print(f"{name:45s} {g_bits[name]:>8,} {g_lookup[name]:>8,} {g_lookup[name] / g_bits[name]:>6.2f}")
    pq = result["per_quote"]
    for mode in MODES:
        p = pq[mode]
        print(f"{mode:6s} per quote {p['per_quote_constraints']:>8,.0f}  shared {p['shared_constraints']:>8,.0f}  "
              f"table {p['table_constraints']}")
    print(f"per quote, lookup over bits: {pq['lookup']['per_quote_constraints'] / pq['bits']['per_quote_constraints']:.3f}")
    print(f"{'mode':>6} {'quotes':>6} {'constraints':>12} {'table':>6} {'committed':>9} {'witness s':>9}")
    for mode in MODES:
        for b in result["batches"][mode]:
            print(f"{mode:>6} {b['quotes']:>6} {b['constraints']:>12,} {b['table_constraints']:>6,} "
                  f"{b['committed_wires']:>9,} {b['witness_seconds']:>9.2f}")
    print(f"{'mode':>6} {'quotes':>6} {'prove s':>8} {'verify s':>8} {'peak MiB':>9} {'gas':>9} {'gas 2-call':>10} "
          f"{'proof B':>7} {'calldata B':>10}")
    for mode in MODES:
        for p in result["proofs"][mode]:
            print(f"{mode:>6} {p['quotes']:>6} {p['prove_s']:>8.2f} {p['verify_python_s']:>8.2f} "
                  f"{p['peak_rss_mib']:>9.0f} {p['verify_gas']:>9,} {p.get('verify_gas_separate', '-'):>10} "
                  f"{p['proof_bytes']:>7} {p['calldata_bytes']:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", nargs=3, metavar=("MODE", "QUOTES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        mode, quotes, out = args.worker
        worker(mode, int(quotes), Path(out))
        return
    sizes = [1, 4, 16] if args.quick else [1, 4, 16, 64]
    prove_sizes = [1, 4] if args.quick else [1, 4, 16]

    batches = {mode: [measure_batch(n, mode, repeats=2 if n <= 16 else 1) for n in sizes] for mode in MODES}
    by_size = {mode: {b["quotes"]: b for b in batches[mode]} for mode in MODES}
    per_quote = {}
    for mode in MODES:
        small, large = (by_size[mode][n] for n in PER_QUOTE_SIZES)
        per_quote[mode] = per_quote_costs(mode, *(BatchCost(**{k: v for k, v in b.items() if k != "witness_seconds"})
                                                  for b in (small, large)))
    limb_bits = per_quote["lookup"]["limb_bits"][PER_QUOTE_SIZES[-1]]
    gadgets = {"bits": gadget_costs(), "lookup": lookup_gadget_costs(limb_bits)}

    w3, anvil, chain = _chain()
    proofs: dict[str, list] = {mode: [] for mode in MODES}
    try:
        for n in prove_sizes:
            for mode in MODES:
                row, files = measure_proof(mode, n)
                row.update(verify_gas(w3, mode, files))
                proofs[mode].append(row)
                print(f"proved {mode} {n}: {row['prove_s']:.2f} s", file=sys.stderr)
    finally:
        if anvil is not None:
            anvil.__exit__(None, None, None)

    result = {
        "frac_bits": fx.FRAC_BITS,
        "per_quote_definition": "(C(16) - C(4)) / 12 with the lookup table (2^L + 2 rows) taken out of each C",
        "per_quote": {m: {**p, "table_constraints": {str(k): v for k, v in p["table_constraints"].items()},
                          "limb_bits": {str(k): v for k, v in p["limb_bits"].items()}} for m, p in per_quote.items()},
        "per_quote_lookup_over_bits": per_quote["lookup"]["per_quote_constraints"] / per_quote["bits"]["per_quote_constraints"],
        "gadgets": gadgets,
        "gadget_note": f"lookup: the gadget's constraints plus its checks at L = {limb_bits} (the 16-quote batch's)",
        "batches": batches,
        "proofs": proofs,
        "gas_chain": chain,
        "target_constraints_per_quote": {"required": 3000, "goal": 1500},
        "machine": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "circuits.json").write_text(json.dumps(result, indent=2) + "\n")
    _plot(result)
    _print(result)


if __name__ == "__main__":
    main()
