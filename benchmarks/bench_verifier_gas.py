"""Gas of one verifying transaction: DLPE's generated Groth16 verifier against snarkjs's, and the precompile floor.

For n = 1, 2, 4, ..., 64 public inputs: a circuit with n public signals (built with
circuits.builder, exported as iden3 .r1cs/.wtns), its key and a proof made by the pinned
snarkjs; then, in the same run and on the same devnet (anvil when installed, else the
in-process py-evm; both run the Prague rules and charge the same gas), one transaction
of verifyProof(a, b, c, input) to each of
  ours     the verifier verifier_contracts.generate renders (uint256[n] calldata inputs),
  dynamic  the same with uint256[] calldata inputs,
  snarkjs  `snarkjs zkey export solidityverifier` for the same key,
all compiled by the same solc with the same settings, all given the same calldata bytes
(ours and snarkjs's share the selector) and an explicit gas limit, since an estimate can
settle on a limit at which snarkjs's verifier answers false instead of reverting.
requireValidProof is measured on ours as well.

Floor (what the precompiles alone charge, EIP-1108 prices):
  pairing of k = 4 pairs: 45,000 + 34,000·4 = 181,000
  each public input: one ecMul 6,000 + one ecAdd 150 = 6,150  (vk_x = IC_0 + sum x_i·IC_i: n products, n sums)
  floor(n) = 181,000 + 6,150·n
A transaction also pays its intrinsic gas, 21,000 + calldata (EIP-2028: 4 per zero byte,
16 per other byte), the same for every verifier here; "execution" = gas used - intrinsic,
and "overhead" = execution - floor is what a verifier's own code costs.

Writes benchmarks/results/verifier_gas.json and .png; prints the table with ratios.

    python benchmarks/bench_verifier_gas.py [--evm anvil|py-evm]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from web3 import Web3

from bn254.constants import R
from bn254.iden3 import write_r1cs, write_wtns
from circuits.builder import ConstraintSystem
from prover import read_proof, read_public, read_verification_key
from verifier_contracts.build import SOLC_SETTINGS, compile_contract, solc_version
from verifier_contracts.client import ContractClient, Groth16VerifierClient
from verifier_contracts.devnet import ANVIL_HARDFORK, Anvil, find_anvil, in_process_web3
from verifier_contracts.generate import InputLayout
from verifier_contracts.snarkjs import export_solidity_verifier, groth16_prove, groth16_setup, powers_of_tau

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (1, 2, 4, 8, 16, 32, 64)
PTAU_POWER = 7  # 2^7 >= constraints (2) + public signals (64) + 1 for the largest circuit
GAS_LIMIT = 2_000_000

PAIRING_BASE, PAIRING_PER_PAIR, PAIRS = 45_000, 34_000, 4
EC_MUL, EC_ADD = 6_000, 150
TX_BASE, CALLDATA_ZERO, CALLDATA_NONZERO = 21_000, 4, 16


def precompile_floor(n: int) -> int:
    """181,000 + 6,150·n: the pairing of 4 pairs plus one ecMul and one ecAdd per public input."""
    return PAIRING_BASE + PAIRING_PER_PAIR * PAIRS + (EC_MUL + EC_ADD) * n


def intrinsic_gas(calldata: bytes) -> int:
    """21,000 + 4 per zero calldata byte + 16 per other byte (EIP-2028)."""
    zeros = calldata.count(0)
    return TX_BASE + CALLDATA_ZERO * zeros + CALLDATA_NONZERO * (len(calldata) - zeros)


def circuit(n_public: int, rng: random.Random) -> ConstraintSystem:
    """n_public public signals: digest = w^2 + x_1 + ... + x_(n-1), w private, the x_i public."""
    cs = ConstraintSystem()
    w = cs.private_input("w", rng.randrange(1, R))
    digest = cs.mul(w, w, "w_squared")
    for i in range(n_public - 1):
        digest = digest + cs.public_input(f"x{i + 1}", rng.randrange(R))
    cs.public_output("digest", digest)
    return cs


@contextlib.contextmanager
def devnet(kind: str) -> Iterator[Web3]:
    if kind == "anvil":
        with Anvil() as chain:
            yield chain.web3()
    else:
        yield in_process_web3()


def measure_size(w3: Web3, n: int, ptau: Path, work: Path, rng: random.Random) -> dict:
    cs = circuit(n, rng)
    write_r1cs(cs.to_r1cs(), work / f"n{n}.r1cs")
    write_wtns(cs.witness(), work / f"n{n}.wtns")
    zkey, key_json = groth16_setup(work / f"n{n}.r1cs", ptau, work)
    proof_json, public_json = groth16_prove(zkey, work / f"n{n}.wtns", work)
    key, proof, public = read_verification_key(key_json), read_proof(proof_json), read_public(public_json)

    ours = Groth16VerifierClient.deploy(w3, key)
    dynamic = Groth16VerifierClient.deploy(w3, key, InputLayout.DYNAMIC)
    snarkjs_source = export_solidity_verifier(zkey, work)
    snarkjs_compiled = compile_contract(snarkjs_source, "Groth16Verifier", source_name="SnarkjsVerifier.sol")
    snarkjs = ContractClient.deploy_compiled(w3, snarkjs_compiled)
    args = ours.arguments(proof, public)

    row: dict = {"n_public": n}
    for name, client, function in (
        ("ours", ours, "verifyProof"),
        ("dynamic", dynamic, "verifyProof"),
        ("snarkjs", snarkjs, "verifyProof"),
        ("ours_require", ours, "requireValidProof"),
    ):
        if function == "verifyProof" and client.call(function, *args) is not True:
            raise RuntimeError(f"{name} does not accept the valid proof for n = {n}")
        receipt = client.transact(function, *args, gas=GAS_LIMIT)
        calldata = bytes(w3.eth.get_transaction(receipt["transactionHash"])["input"])
        row[name] = receipt["gasUsed"]
        row[f"{name}_intrinsic"] = intrinsic_gas(calldata)
    for name, client in (("ours", ours), ("dynamic", dynamic), ("snarkjs", snarkjs)):
        row[f"{name}_code_bytes"] = len(w3.eth.get_code(client.address))
    row["floor"] = precompile_floor(n)
    for name in ("ours", "dynamic", "snarkjs", "ours_require"):
        row[f"{name}_overhead"] = row[name] - row[f"{name}_intrinsic"] - row["floor"]
    return row


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'n':>3} {'ours':>9} {'snarkjs':>9} {'ours/sj':>8} {'dynamic':>9} {'require':>9} {'intrinsic':>9} "
        f"{'floor':>9} {'ovh ours':>9} {'ovh sj':>9} {'ovh o/sj':>8} {'ours/(fl+intr)':>14}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['n_public']:>3} {r['ours']:>9,} {r['snarkjs']:>9,} {r['ours'] / r['snarkjs']:>8.4f} "
            f"{r['dynamic']:>9,} {r['ours_require']:>9,} {r['ours_intrinsic']:>9,} {r['floor']:>9,} "
            f"{r['ours_overhead']:>9,} {r['snarkjs_overhead']:>9,} {r['ours_overhead'] / r['snarkjs_overhead']:>8.3f} "
            f"{r['ours'] / (r['floor'] + r['ours_intrinsic']):>14.4f}"
        )
    print("ovh = gas used - intrinsic (21,000 + calldata) - floor (181,000 + 6,150 n): the verifier's own code")


def plot(rows: list[dict], path: Path, evm: str) -> None:
    n = [r["n_public"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    left.plot(n, [r["snarkjs"] for r in rows], "s-", label="snarkjs verifier")
    left.plot(n, [r["ours"] for r in rows], "o-", label="ours (uint256[n] inputs)")
    left.plot(n, [r["floor"] + r["ours_intrinsic"] for r in rows], "k--", label="floor + intrinsic")
    left.plot(n, [r["floor"] for r in rows], "k:", label="precompile floor 181,000 + 6,150 n")
    left.set(xscale="log", xlabel="public inputs n", ylabel="gas per verifying transaction", title="Gas used")
    left.set_xticks(n, [str(v) for v in n])
    left.legend()
    width = 0.27
    x = range(len(n))
    right.bar([i - width for i in x], [r["snarkjs_overhead"] for r in rows], width, label="snarkjs")
    right.bar(list(x), [r["ours_overhead"] for r in rows], width, label="ours")
    right.bar([i + width for i in x], [r["dynamic_overhead"] for r in rows], width, label="ours, uint256[] inputs")
    right.set_xticks(list(x), [str(v) for v in n])
    right.set(xlabel="public inputs n", ylabel="gas", title="Overhead: used - intrinsic - precompile floor")
    right.legend()
    fig.suptitle(
        f"Groth16 verifier gas on {evm} ({ANVIL_HARDFORK} rules); solc {solc_version()}, "
        f"optimizer runs {SOLC_SETTINGS['optimizer']['runs']}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evm", choices=["anvil", "py-evm"], default="anvil" if find_anvil() else "py-evm")
    args = parser.parse_args()
    rng = random.Random(7)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, devnet(args.evm) as w3:
        work = Path(tmp)
        ptau = powers_of_tau(PTAU_POWER, work)
        for n in SIZES:
            rows.append(measure_size(w3, n, ptau, work, rng))
            print(f"n = {n}: ours {rows[-1]['ours']:,}, snarkjs {rows[-1]['snarkjs']:,}", flush=True)
    print()
    print_table(rows)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "verifier_gas.json").write_text(
        json.dumps(
            {
                "evm": args.evm,
                "hardfork": ANVIL_HARDFORK,
                "solc_version": solc_version(),
                "solc_settings": SOLC_SETTINGS,
                "gas_limit": GAS_LIMIT,
                "floor_formula": "45000 + 34000*4 + (6000 + 150)*n",
                "intrinsic_formula": "21000 + 4*zero_calldata_bytes + 16*nonzero_calldata_bytes",
                "python": platform.python_version(),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    plot(rows, RESULTS / "verifier_gas.png", args.evm)
    print(f"wrote {RESULTS / 'verifier_gas.json'} and .png")


if __name__ == "__main__":
    main()
