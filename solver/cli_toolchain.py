"""The protocol engineer's commands, in the shape snarkjs and foundry users know.

    dlpe export r1cs --quotes 1 circuit.r1cs                  (circom's .r1cs output)
    dlpe ceremony new circuit.r1cs pot.ptau circuit_0000.zkey  (snarkjs zkey new)
    dlpe ceremony contribute circuit_0000.zkey circuit_0001.zkey --name alice
    dlpe ceremony beacon circuit_0003.zkey circuit_final.zkey <hex> 10
    dlpe ceremony verify circuit.r1cs pot.ptau circuit_final.zkey
    dlpe setup --quotes 1 --zkey circuit_final.zkey keys/    (or a development key without --zkey)
    dlpe prove keys/ request.json proof.json public.json     (snarkjs groth16 prove)
    dlpe verify verification_key.json public.json proof.json (snarkjs groth16 verify)
    dlpe export verifier keys/verification_key.json Groth16Verifier.sol
    dlpe export calldata public.json proof.json
    dlpe deploy / request / oracle-post / submit / devnet    (solver.cli_chain)

Each command has --json (one document on stdout) and ends with exit status 2 and
one line on stderr for bad input (solver.cli_base).
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from solver.cli_base import JSON_HELP, fail, print_json, read_book_request
from solver.cli_chain import register as register_chain

KEYS_FOLDER_HELP = "a folder written by `dlpe setup` (circuit.zkey, verification_key.json, fingerprint)"

ceremony_app = typer.Typer(help="The phase-2 trusted setup, snarkjs-compatible (snarkjs zkey new/contribute/beacon/verify).",
                           no_args_is_help=True)
export_app = typer.Typer(help="Export the circuit, keys, verifier and calldata (snarkjs zkey export ...).",
                         no_args_is_help=True)


def _say(as_json: bool, payload: dict, text: str) -> None:
    if as_json:
        print_json(payload)
    else:
        typer.echo(text)


def _batch_r1cs(quotes: int):
    """The book batch circuit the vault verifies: the smallest book (P = 4, F = 2, E = 2), `quotes` quotes."""
    from solver.deployments import book_capacity
    from solver.service.proving import shape_request
    from solver.settlement import build_book_batch

    return build_book_batch(shape_request(book_capacity(quotes))).r1cs


def _read_r1cs(path: Path):
    from bn254.iden3 import parse_r1cs

    try:
        return parse_r1cs(path.read_bytes())
    except OSError as error:
        fail(f"cannot read the circuit {path}: {error.strerror}")


# -- export -----------------------------------------------------------------------------------------


@export_app.command("r1cs", epilog="Example: dlpe export r1cs --quotes 1 circuit.r1cs. JSON keys: file, constraints, "
                                   "wires, public_signals, fingerprint.")
def export_r1cs(
    out: Path = typer.Argument(..., help="where to write the .r1cs (iden3 format, as circom writes it)"),
    quotes: int = typer.Option(1, min=1, help="quotes in the batch circuit"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The batch circuit as an iden3 .r1cs file: what a ceremony and snarkjs start from."""
    from bn254.iden3 import write_r1cs
    from prover import circuit_fingerprint

    r1cs = _batch_r1cs(quotes)
    write_r1cs(r1cs, out)
    summary = {"file": str(out), "constraints": r1cs.n_constraints, "wires": r1cs.n_wires,
               "public_signals": r1cs.n_public, "fingerprint": circuit_fingerprint(r1cs)}
    _say(as_json, summary, f"wrote {out}: {r1cs.n_constraints:,} constraints, {r1cs.n_wires:,} wires, "
                           f"{r1cs.n_public} public signals")


@export_app.command("verificationkey", epilog="Example: dlpe export verificationkey circuit_final.zkey "
                                              "verification_key.json. JSON keys: file, n_public, setup, sha256.")
def export_verification_key(
    zkey: Path = typer.Argument(..., help="a .zkey (ceremony transcript or development key)"),
    out: Path = typer.Argument(..., help="where to write verification_key.json (snarkjs format)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The verifying key of a .zkey, as snarkjs's verification_key.json."""
    from prover import write_verification_key
    from prover.ceremony import Phase2Key
    from verifier_contracts.generate import verifying_key_sha256

    vk = Phase2Key.read(zkey).verifying_key()
    write_verification_key(vk, out)
    _say(as_json, {"file": str(out), "n_public": vk.n_public, "setup": vk.setup, "sha256": verifying_key_sha256(vk)},
         f"wrote {out} ({vk.setup})")


def read_any_verifying_key(path: Path):
    """The verifying key in a verification_key.json, a .zkey, or a `dlpe setup` folder."""
    from prover import read_verification_key
    from prover.ceremony import Phase2Key

    if path.is_dir():
        path = path / "verification_key.json"
    if path.suffix == ".zkey":
        return Phase2Key.read(path).verifying_key()
    if not path.is_file():
        fail(f"no verifying key at {path}: give a verification_key.json, a .zkey or a `dlpe setup` folder")
    return read_verification_key(path)


@export_app.command("verifier", epilog="Example: dlpe export verifier keys/verification_key.json "
                                       "Groth16Verifier.sol (also a .zkey, or snarkjs's verification_key.json). "
                                       "JSON keys: file, contract, layout, n_public, sha256, setup.")
def export_verifier(
    key: Path = typer.Argument(..., help="verification_key.json (ours or snarkjs's), a .zkey, or a setup folder"),
    out: Path = typer.Argument(Path("Groth16Verifier.sol"), help="where to write the Solidity verifier"),
    layout: str = typer.Option("fixed", help="public inputs as uint256[N] (fixed, the vault's) or uint256[] (dynamic)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The Solidity Groth16 verifier for a key (snarkjs zkey export solidityverifier)."""
    from verifier_contracts.generate import CONTRACT_NAME, InputLayout, render_verifier, verifying_key_sha256

    try:
        input_layout = InputLayout(layout)
    except ValueError:
        fail(f"--layout must be fixed or dynamic, got {layout!r}")
    vk = read_any_verifying_key(key)
    out.write_text(render_verifier(vk, input_layout))
    _say(as_json, {"file": str(out), "contract": CONTRACT_NAME, "layout": layout, "n_public": vk.n_public,
                   "sha256": verifying_key_sha256(vk), "setup": vk.setup},
         f"wrote {out}: contract {CONTRACT_NAME}, {vk.n_public} public inputs ({vk.setup})")


@export_app.command("calldata", epilog="Example: dlpe export calldata public.json proof.json. JSON keys: a, b, c, "
                                       "inputs (decimal strings; b in EIP-197 order).")
def export_calldata(
    public: Path = typer.Argument(..., help="public.json (snarkjs format)"),
    proof: Path = typer.Argument(..., help="proof.json (snarkjs format)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """verifyProof's arguments for a proof (snarkjs zkey export soliditycalldata)."""
    from prover import read_proof, read_public, solidity_calldata

    calldata = solidity_calldata(read_proof(proof), read_public(public))
    arguments = {"a": list(calldata.a), "b": [list(row) for row in calldata.b], "c": list(calldata.c),
                 "inputs": list(calldata.public_signals)}
    if as_json:
        print_json({k: [[str(v) for v in row] for row in value] if k == "b" else [str(v) for v in value]
                    for k, value in arguments.items()})
        return

    def word(v: int) -> str:
        return f'"0x{v:064x}"'  # snarkjs's 32-byte words

    def words(values) -> str:
        return "[" + ",".join(word(v) for v in values) + "]"

    typer.echo(",".join([words(arguments["a"]), "[" + ",".join(words(row) for row in arguments["b"]) + "]",
                         words(arguments["c"]), words(arguments["inputs"])]))


# -- ceremony ----------------------------------------------------------------------------------------


def _contribution_summary(key) -> dict:
    last = key.contributions[-1]
    return {"contributions": len(key.contributions), "name": last.name,
            "contribution_hash": last.contribution_hash().hex()}


@ceremony_app.command("new", epilog="Example: dlpe ceremony new circuit.r1cs pot15_final.ptau circuit_0000.zkey "
                                    "(the .ptau prepared for phase 2, e.g. a Perpetual Powers of Tau file). "
                                    "JSON keys: file, circuit_hash, domain_size.")
def ceremony_new(
    r1cs: Path = typer.Argument(..., help="the circuit (dlpe export r1cs)"),
    ptau: Path = typer.Argument(..., help="powers of tau prepared for phase 2 (snarkjs powersoftau prepare phase2)"),
    out: Path = typer.Argument(..., help="the initial .zkey to write (no contribution yet)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Start a phase-2 ceremony: the initial key, byte for byte what `snarkjs zkey new` writes."""
    from prover.ceremony import new_phase2
    from prover.ptau import PowersOfTau

    key = new_phase2(_read_r1cs(r1cs), PowersOfTau.read(ptau))
    key.write(out)
    _say(as_json, {"file": str(out), "circuit_hash": key.circuit_hash.hex(), "domain_size": key.domain_size},
         f"wrote {out}; circuit hash {key.circuit_hash.hex()}")


@ceremony_app.command("contribute", epilog="Example: dlpe ceremony contribute circuit_0000.zkey circuit_0001.zkey "
                                           "--name alice (asks for entropy text unless --entropy is given; it is "
                                           "mixed with the OS's randomness). Publish the contribution hash. JSON "
                                           "keys: file, contributions, name, contribution_hash.")
def ceremony_contribute(
    old: Path = typer.Argument(..., help="the ceremony's latest .zkey"),
    new: Path = typer.Argument(..., help="the .zkey to write, with your contribution"),
    name: str = typer.Option(..., help="your name in the transcript (at most 64 characters are kept)"),
    entropy: str | None = typer.Option(None, "-e", "--entropy", help="random text (asked for when absent)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Add one contribution; the secret is used once and forgotten."""
    from prover.ceremony import Phase2Key, contribute

    text = entropy if entropy is not None else getpass.getpass("Enter random text (entropy): ")
    key = contribute(Phase2Key.read(old), name, text)
    key.write(new)
    summary = {"file": str(new), **_contribution_summary(key)}
    _say(as_json, summary, f"wrote {new}: contribution #{summary['contributions']} ({name}), "
                           f"hash {summary['contribution_hash']}")


@ceremony_app.command("beacon", epilog="Example: dlpe ceremony beacon circuit_0003.zkey circuit_final.zkey "
                                       "<block hash hex> 10 --name 'final beacon' (the secret is SHA-256 iterated "
                                       "2^10 times over the public value: anyone can recompute it). JSON keys: file, "
                                       "contributions, name, contribution_hash.")
def ceremony_beacon(
    old: Path = typer.Argument(..., help="the ceremony's latest .zkey"),
    new: Path = typer.Argument(..., help="the final .zkey to write"),
    beacon_hash: str = typer.Argument(..., help="the public random value, hex (e.g. a future block's hash)"),
    iterations_exp: int = typer.Argument(..., help="log2 of the SHA-256 iterations, 10 to 63"),
    name: str = typer.Option("final beacon", help="the beacon's name in the transcript"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """End a ceremony with a contribution derived from a public random value."""
    from prover.ceremony import Phase2Key, beacon

    try:
        value = bytes.fromhex(beacon_hash.removeprefix("0x"))
    except ValueError:
        fail(f"the beacon hash must be hex, got {beacon_hash!r}")
    key = beacon(Phase2Key.read(old), name, value, iterations_exp)
    key.write(new)
    summary = {"file": str(new), **_contribution_summary(key)}
    _say(as_json, summary, f"wrote {new}: beacon contribution #{summary['contributions']}, "
                           f"hash {summary['contribution_hash']}")


@ceremony_app.command("verify", epilog="Example: dlpe ceremony verify circuit.r1cs pot15_final.ptau "
                                       "circuit_final.zkey (as snarkjs zkey verify; exit 2 and the failing check on "
                                       "one line when it does not verify). JSON keys: valid, circuit_hash, "
                                       "contributions [{index, name, contribution_hash, beacon_hash}].")
def ceremony_verify(
    r1cs: Path = typer.Argument(..., help="the circuit (dlpe export r1cs)"),
    ptau: Path = typer.Argument(..., help="the powers of tau the ceremony started from"),
    zkey: Path = typer.Argument(..., help="the .zkey whose transcript to verify"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Verify a whole transcript without trusting any contributor."""
    from dataclasses import asdict

    from prover.ceremony import Phase2Key, verify_transcript
    from prover.ptau import PowersOfTau

    key = Phase2Key.read(zkey)
    verified = verify_transcript(_read_r1cs(r1cs), PowersOfTau.read(ptau), key)
    if as_json:
        print_json({"valid": True, "circuit_hash": key.circuit_hash.hex(),
                    "contributions": [asdict(c) for c in verified]})
        return
    for c in verified:
        beacon_note = f" (beacon {c.beacon_hash})" if c.beacon_hash else ""
        typer.echo(f"contribution #{c.index} {c.name}{beacon_note}: {c.contribution_hash}")
    typer.echo(f"ZKey OK: {len(verified)} contribution(s) verified")
    if not verified:
        typer.echo("no contribution yet: its delta is known, so it is a development key at best")


# -- setup, prove, verify ---------------------------------------------------------------------------


def setup(
    out: Path = typer.Argument(..., help="the folder to write the keys into (created if absent)"),
    quotes: int = typer.Option(1, min=1, help="quotes in the batch circuit"),
    zkey: Path | None = typer.Option(None, help="a ceremony's final .zkey (without it: a development key)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Keys for the batch circuit: from a ceremony's final .zkey, or a development key (devnets only)."""
    import shutil

    import prover
    from prover.keystore import FINGERPRINT_FILE, VK_FILE, ZKEY_FILE
    from verifier_contracts.generate import verifying_key_sha256

    r1cs = _batch_r1cs(quotes)
    out.mkdir(parents=True, exist_ok=True)
    if zkey is None:
        pk, vk, _ = prover.keys_for(r1cs)
        prover.write_zkey(pk, out / ZKEY_FILE)
    else:
        pk = prover.read_zkey(zkey, r1cs)  # KeyMismatch for another circuit, UntrustedKey without contributions
        vk = pk.vk
        shutil.copyfile(zkey, out / ZKEY_FILE)  # the transcript travels with the key
    prover.write_verification_key(vk, out / VK_FILE)
    (out / FINGERPRINT_FILE).write_text(prover.circuit_fingerprint(r1cs) + "\n")
    _say(as_json, {"folder": str(out), "quotes": quotes, "setup": vk.setup, "development": vk.is_development,
                   "sha256": verifying_key_sha256(vk)},
         f"wrote {out / ZKEY_FILE} and {out / VK_FILE} ({vk.setup})")


def prove(
    keys: Path = typer.Argument(..., help=KEYS_FOLDER_HELP),
    request: Path = typer.Argument(..., help="a batch request (JSON: dlpe request, or the service's job store)"),
    proof_out: Path = typer.Argument(Path("proof.json"), help="where to write proof.json"),
    public_out: Path = typer.Argument(Path("public.json"), help="where to write public.json"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Prove a book batch request (snarkjs groth16 prove): proof.json and public.json in snarkjs format."""
    import time

    import prover
    from prover.keystore import load_keys
    from solver.settlement import build_book_batch

    batch = read_book_request(request)
    built = build_book_batch(batch)
    pk, vk = load_keys(keys, built.r1cs)
    start = time.perf_counter()
    proof = prover.prove(prover.prepare(pk), built.witness)
    seconds = time.perf_counter() - start
    prover.write_proof(proof, proof_out)
    prover.write_public(built.public_inputs, public_out)
    _say(as_json, {"proof": str(proof_out), "public": str(public_out), "public_inputs": len(built.public_inputs),
                   "prove_seconds": seconds, "setup": vk.setup},
         f"wrote {proof_out} and {public_out} ({len(built.public_inputs)} public inputs, proved in {seconds:.1f} s)")


def verify(
    verification_key: Path = typer.Argument(..., help="verification_key.json, a .zkey or a setup folder"),
    public: Path = typer.Argument(..., help="public.json"),
    proof: Path = typer.Argument(..., help="proof.json"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Verify a proof (snarkjs groth16 verify): exit 0 and OK, or exit 2 and one line."""
    import prover

    vk = read_any_verifying_key(verification_key)
    valid = prover.verify(vk, prover.read_public(public), prover.read_proof(proof))
    if not valid:
        fail(f"the proof in {proof} does not verify for {public} under {verification_key}")
    _say(as_json, {"valid": True, "setup": vk.setup}, "OK")


def register(app: typer.Typer) -> None:
    """Add the toolchain's commands to the `dlpe` app."""
    app.add_typer(ceremony_app, name="ceremony")
    app.add_typer(export_app, name="export")
    app.command("setup", epilog="Example: dlpe setup --quotes 1 --zkey circuit_final.zkey keys/ (without --zkey: "
                                "a development key, refused by dlpe deploy on any chain but a devnet). JSON keys: "
                                "folder, quotes, setup, development, sha256.")(setup)
    app.command("prove", epilog="Example: dlpe prove keys/ request.json proof.json public.json. JSON keys: proof, "
                                "public, public_inputs, prove_seconds, setup.")(prove)
    app.command("verify", epilog="Example: dlpe verify keys/verification_key.json public.json proof.json. JSON "
                                 "keys: valid, setup.")(verify)
    register_chain(app)
