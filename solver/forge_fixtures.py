"""Forge fixtures with real proofs: the smallest book batch's verifier and a scripted vault life.

    python -m solver.forge_fixtures DEST      # `make forge-fixtures` (DEST: forge's generated/ folder)

writes into DEST the generated Solidity that forge compiles as `generated/` (foundry.toml's
remapping), all of one circuit, solver.scripted_book's CAPACITY (P = 4 slots, F = 2 fills,
E = 2 expiries, N = 1 quote):

  BatchLayout.sol      the batch layout of CAPACITY (verifier_contracts.batch_layout): the one
                       definition of the sizes every forge test compiles against
  Groth16Verifier.sol  the verifier of the circuit's real key (verifier_contracts.generate)
  ProofFixtures.sol    a library: the deployment values the proofs bind (times, spot, IV index,
                       rate, carry, limits, margins, first nonce, state commitment, capacities),
                       the scripted life as raw calldata in order (submitBatch, fill, sell), each
                       with its block time, its caller, what it returns and the vault's state after
                       it, and the calldata of refused calls (a proof with one byte of A, B or C
                       altered; a batch proven over the book before the taker's fills; a valid
                       proof submitted with another proof's book_after)

The proofs are solver.scripted_book's (`first`, `stale`, `second`: real Groth16 proofs from
prover.keys_for's key, saved by witness hash, shared with the Python vault tests). Every call is
encoded with web3 from the ABI of the QuoteVault compiled from the checkout's sources (submitBatch's
arguments through QuoteVaultClient.submit_arguments), so a change of submitBatch's or fill's
signature is followed here, never by editing Solidity by hand. The expected values come from the
engine and circuits (book commitments, fill chain heads, marks, quote prices) and
verifier_contracts.vault's premium and mark_liability, so a forge test that replays the life checks
the contracts against the Python definitions.

The three files are made once per key: `$DLPE_CACHE_DIR/forge_fixtures/<circuit fingerprint>/
<inputs hash>/`, where the inputs hash covers the scripted requests, the vault's ABI and the
generating sources (this module, solver.scripted_book, the verifier and layout generators and their
templates). A cold run makes the keys (prover.keys_for) and the proofs not saved yet, with progress
lines on stderr (about 15 s on 2 cores: the Groth16 setup, then about 2 s a proof); a warm run
builds one circuit for its fingerprint, finds the folder and copies it (about 5 s).
Nothing is written into the checkout unless DEST is inside it (`make contracts`: the git-ignored
verifier_contracts/generated/).

The forge tests over these fixtures are verifier_contracts/test/QuoteVaultProofs.t.sol. Invariant
handlers, which need proofs of states no prover saw, keep test/utils/PairVerifier.sol.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from web3 import Web3

import prover
from bn254.cache import dlpe_cache_folder
from circuits import book_hash as bh
from circuits.merkle import merkle_path, tree_depth
from engine import fixed_book as fb
from solver import scripted_book as sb
from solver.progress import Progress, ProgressLines
from solver.settlement import ProvenBookBatch, build_book_batch, vault_limits
from verifier_contracts import batch_layout, generate
from verifier_contracts.vault import QuoteVaultClient, compile_vault, mark_liability, premium

FIXTURE_FILES = ("BatchLayout.sol", "Groth16Verifier.sol", "ProofFixtures.sol")
PROOFS = ("first", "stale", "second")
"""The scripted proofs the fixtures use (solver.scripted_book.requests)."""
TOKEN_DECIMALS = 6
COLLATERAL = 10**10
"""What the LP deposits before the first batch (token units): enough for the quotes' worst case."""
MAX_ORACLE_AGE = 300
QUOTE_LIFETIME = 300
LAST_BUY = fb.Fill(0, True, sb.STRIKE, sb.EXPIRIES[0], -sb.ONE // 4)
"""After the second batch, the taker buys 0.25 more of its quote."""
NO_LIMIT = 2**256 - 1

_SOURCES = (
    Path(__file__),
    Path(sb.__file__),
    Path(generate.__file__),
    generate.TEMPLATE_PATH,
    Path(batch_layout.__file__),
    Path(batch_layout.__file__).parent / "templates" / "BatchLayout.sol.tmpl",
)
"""The code whose output the fixture folder holds: a change of any of them is a new folder."""


@dataclass(frozen=True)
class VaultAfter:
    """What the vault's getters read after a call."""

    next_nonce: int
    live_batch: int
    book_commitment: int
    """bookState's commitment: the book as of the last proof."""
    fill_count: int
    proven_fills: int
    chain_head: int
    """chainHead(fill_count)."""
    mark: int
    proven_mark: int
    mark_time: int
    taker_long: int
    """The taker's long position in the quoted series (2^-48 contracts)."""


@dataclass(frozen=True)
class ScriptedCall:
    """One call of the life: `data` sent to the vault at block time `time` by the solver or the taker."""

    name: str
    time: int
    by_solver: bool
    data: bytes
    returned: int
    """submitBatch's batch id, or the premium a fill pays or a sell receives."""
    expected: VaultAfter


@dataclass(frozen=True)
class Fixtures:
    """Everything ProofFixtures.sol states."""

    deployment: list[tuple[str, str, int]]
    """(Solidity type, name, value) of each deployment constant."""
    life: list[ScriptedCall]
    refusals: list[tuple[str, str, bytes]]
    """(function name, what it is, calldata)."""


class _Encoder:
    """Calldata of QuoteVault's functions, from the compiled vault's ABI."""

    def __init__(self, abi: list[dict[str, Any]]):
        self.contract = Web3().eth.contract(abi=abi)

    def call(self, function: str, *args: Any) -> bytes:
        return bytes.fromhex(self.contract.encode_abi(function, args=list(args))[2:])

    def submit(self, proven: ProvenBookBatch, *, book_after: int | None = None, tamper: str = "") -> bytes:
        """submitBatch's calldata for `proven`; `tamper` ("a", "b" or "c") flips the lowest bit of that
        point's first coordinate: one byte altered, and the point leaves its curve."""
        a, b, c, after, root, packed, quotes = QuoteVaultClient.submit_arguments(
            proven.proof, proven.book_after if book_after is None else book_after, proven.quotes_root, proven.packed,
            proven.quote_elements)
        if tamper == "a":
            a[0] ^= 1
        elif tamper == "b":
            b[0][0] ^= 1
        elif tamper == "c":
            c[0] ^= 1
        return self.call("submitBatch", a, b, c, after, root, packed, quotes)

    def trade(self, function: str, batch_id: int, proven: ProvenBookBatch, quote_index: int, size: int,
              bound: int) -> bytes:
        """fill's or sell's calldata for quote `quote_index` of `proven`, with its element and Merkle path."""
        elements = proven.quote_elements
        path = merkle_path(elements, tree_depth(len(elements)), quote_index)
        return self.call(function, batch_id, quote_index, elements[quote_index], path, size, bound)


def _quote_prices(proven: ProvenBookBatch) -> tuple[int, int]:
    """(bid, ask) of the batch's one quote as the engine prices it: mid on its smile ± the half spread."""
    req = proven.request
    (order,) = req.quotes
    mid = fb.quote_bsm(req.market, order).price
    return mid - order.half_spread, mid + order.half_spread


def _proven_mark(proven: ProvenBookBatch) -> int:
    """The engine's mark of the batch's book after its fills, at its market."""
    req = proven.request
    return fb.price_book(req.market, fb.apply_fills(req.old_book, req.fills)).mark


def scripted_fixtures(material: sb.BookMaterial, abi: list[dict[str, Any]]) -> Fixtures:
    """The life (first batch at T0, the taker buys 1 and sells 0.5 back, the second batch at T1 over
    those fills, the taker buys 0.25 more) and the refused calls, with the values each one binds."""
    first, stale, second = material.first, material.stale, material.second
    encode = _Encoder(abi)
    (quote,) = first.request.quotes
    strike, expiry = quote.strike, first.request.market.expiries[quote.expiry_index].expiry
    fills = (*sb.FILLS, LAST_BUY)
    assert all((f.strike, f.expiry, f.is_call) == (strike, expiry, quote.is_call) for f in fills)
    heads = [0, *bh.fill_chain([fb.pack_fill(f) for f in fills])]
    empty = fb.empty_book(sb.CAPACITY.slots)
    proven_book = fb.apply_fills(empty, sb.FILLS)
    if (first.book_after, second.book_after) != (bh.book_commitment(empty), bh.book_commitment(proven_book)):
        raise AssertionError("the scripted proofs do not open the books the script records")

    def after_first(fill_count: int, taker_long: int) -> VaultAfter:
        mark = _proven_mark(first)
        return VaultAfter(sb.FIRST_NONCE + 1, sb.FIRST_NONCE, first.book_after, fill_count, 0, heads[fill_count],
                          mark, mark_liability(mark, TOKEN_DECIMALS), sb.T0, taker_long)

    def after_second(fill_count: int, taker_long: int) -> VaultAfter:
        mark = _proven_mark(second)
        return VaultAfter(sb.FIRST_NONCE + 2, sb.FIRST_NONCE + 1, second.book_after, fill_count, len(sb.FILLS),
                          heads[fill_count], mark, mark_liability(mark, TOKEN_DECIMALS), sb.T1, taker_long)

    bought, sold, bought_later = -sb.FILLS[0].dq, sb.FILLS[1].dq, -LAST_BUY.dq
    bid, ask = _quote_prices(first)
    _, later_ask = _quote_prices(second)
    life = [
        ScriptedCall("first batch: a call on the first expiry over the empty book", sb.T0, True,
                     encode.submit(first), sb.FIRST_NONCE, after_first(0, 0)),
        ScriptedCall("the taker buys 1 contract at the ask", sb.T0, False,
                     encode.trade("fill", sb.FIRST_NONCE, first, 0, bought, NO_LIMIT),
                     premium(ask, bought, TOKEN_DECIMALS, taker_buys=True), after_first(1, bought)),
        ScriptedCall("the taker sells 0.5 back at the bid", sb.T0, False,
                     encode.trade("sell", sb.FIRST_NONCE, first, 0, sold, 0),
                     premium(bid, sold, TOKEN_DECIMALS, taker_buys=False), after_first(2, bought - sold)),
        ScriptedCall("second batch: the book after both fills, marked", sb.T1, True,
                     encode.submit(second), sb.FIRST_NONCE + 1, after_second(2, bought - sold)),
        ScriptedCall("the taker buys 0.25 of the second batch's quote", sb.T1, False,
                     encode.trade("fill", sb.FIRST_NONCE + 1, second, 0, bought_later, NO_LIMIT),
                     premium(later_ask, bought_later, TOKEN_DECIMALS, taker_buys=True),
                     after_second(3, bought - sold + bought_later)),
    ]
    market, margins, limits = sb.MARKET, sb.MARGINS, vault_limits(sb.LIMITS)
    deployment = [
        ("uint64", "FIRST_NONCE", sb.FIRST_NONCE),
        ("uint16", "BOOK_CAPACITY", sb.CAPACITY.slots),
        ("uint32", "FILL_CAPACITY", sb.CAPACITY.fills),
        ("uint8", "TOKEN_DECIMALS", TOKEN_DECIMALS),
        ("uint256", "COLLATERAL", COLLATERAL),
        ("uint64", "MAX_ORACLE_AGE", MAX_ORACLE_AGE),
        ("uint64", "QUOTE_LIFETIME", QUOTE_LIFETIME),
        ("uint64", "T0", sb.T0),
        ("uint64", "T1", sb.T1),
        ("uint256", "SPOT", sb.SPOT),
        ("uint256", "IV_INDEX", sb.IV_INDEX),
        ("int64", "RATE", market.rate),
        ("int64", "CARRY", market.carry),
        ("uint64", "SPOT_TOLERANCE", market.spot_tolerance),
        ("uint64", "IV_BAND", market.iv_band),
        ("uint128", "MAX_ABS_DELTA", limits.max_abs_delta),
        ("uint128", "MAX_ABS_GAMMA", limits.max_abs_gamma),
        ("uint128", "MAX_ABS_VEGA", limits.max_abs_vega),
        ("uint128", "MAX_LOSS", limits.max_loss),
        ("uint128", "MODEL_MARGIN", margins.model_margin),
        ("uint128", "SOLVENCY_MARGIN", margins.solvency_margin),
        ("uint256", "STATE_COMMITMENT", first.state_commitment),
        ("uint64", "EXPIRY", expiry),
        ("uint256", "STRIKE", strike),
        ("bool", "IS_CALL", quote.is_call),
    ]
    refusals = [
        ("firstBatchWithAAltered", "The first batch with the lowest bit of A's x flipped (one byte altered)",
         encode.submit(first, tamper="a")),
        ("firstBatchWithBAltered", "The first batch with the lowest bit of B's x.c1 flipped (one byte altered)",
         encode.submit(first, tamper="b")),
        ("firstBatchWithCAltered", "The first batch with the lowest bit of C's x flipped (one byte altered)",
         encode.submit(first, tamper="c")),
        ("staleBatch", "Nonce 2 at T1, proven over the empty book (fills_to 0) before the taker's fills",
         encode.submit(stale)),
        ("secondBatchWithStaleBookAfter", "The second batch's proof submitted with the stale proof's book_after",
         encode.submit(second, book_after=stale.book_after)),
    ]
    return Fixtures(deployment, life, refusals)


# ------------------------------------------------------------------------- Solidity


def _hex(data: bytes, indent: str) -> str:
    """`data` as adjacent hex literals (which Solidity concatenates): the selector, then one 32-byte word a line."""
    head, rest = data[:4], data[4:]
    chunks = [head] + [rest[i:i + 32] for i in range(0, len(rest), 32)]
    return f"\n{indent}".join(f'hex"{chunk.hex()}"' for chunk in chunks)


def _literal(solidity_type: str, value: int) -> str:
    if solidity_type == "bool":
        return "true" if value else "false"
    return str(value)


def render_fixtures(fixtures: Fixtures, fingerprint: str, inputs_hash: str) -> str:
    """ProofFixtures.sol for `fixtures`."""
    constants = "\n".join(f"    {t} internal constant {name} = {_literal(t, v)};" for t, name, v in fixtures.deployment)
    branches = []
    for i, call in enumerate(fixtures.life):
        a = call.expected
        branches.append(f"""        if (i == {i}) {{
            // {call.name}
            c.name = "{call.name}";
            c.time = {call.time};
            c.bySolver = {"true" if call.by_solver else "false"};
            c.returned = {call.returned};
            c.expected = VaultAfter({a.next_nonce}, {a.live_batch}, {a.book_commitment}, {a.fill_count},
                {a.proven_fills}, {a.chain_head}, {a.mark}, {a.proven_mark}, {a.mark_time}, {a.taker_long});
            c.data = {_hex(call.data, " " * 16)};
            return c;
        }}""")
    refusals = "\n\n".join(f"""    /// @notice {what}.
    function {name}() internal pure returns (bytes memory) {{
        return {_hex(data, " " * 12)};
    }}""" for name, what, data in fixtures.refusals)
    return f"""// SPDX-License-Identifier: MIT
// GENERATED by solver/forge_fixtures.py from real Groth16 proofs of the smallest book batch
// (solver/scripted_book.py). Do not edit: `make forge-fixtures` regenerates it.
// Circuit fingerprint: {fingerprint}
// Inputs sha256:       {inputs_hash}
pragma solidity ^0.8.28;

/// @title A scripted QuoteVault life with real proofs, as raw calldata
/// @notice Deploy the vault with these values (they are what the proofs bind, or what the script
///     needs: the collateral that covers the quotes' worst case, the oracle settings), the
///     generated Groth16Verifier.sol as its verifier, and the solver's STATE_COMMITMENT; the LP
///     deposits COLLATERAL. Then replay scriptedCall(0 .. CALL_COUNT - 1) in order: warp to each
///     call's time, have both oracles observe (SPOT, IV_INDEX) at that time when it is a new one,
///     send its data from the solver (bySolver) or the taker, and the call returns `returned` and
///     leaves the vault as `expected` says. The refusals are calls the vault must refuse.
library ProofFixtures {{
    /// @dev The vault's getters after a call: nextNonce, liveBatch, bookState's commitment,
    ///     fillCount and provenFills, chainHead(fillCount), mark, provenMark, markTime, and the
    ///     taker's long position in the quoted series (EXPIRY, STRIKE, IS_CALL).
    struct VaultAfter {{
        uint64 nextNonce;
        uint256 liveBatch;
        uint256 bookCommitment;
        uint256 fillCount;
        uint256 provenFills;
        uint256 chainHead;
        int256 mark;
        uint256 provenMark;
        uint64 markTime;
        uint256 takerLong;
    }}

    struct ScriptedCall {{
        string name;
        uint64 time;
        bool bySolver;
        bytes data;
        uint256 returned;
        VaultAfter expected;
    }}

    error NoSuchCall(uint256 index);

{constants}

    uint256 internal constant CALL_COUNT = {len(fixtures.life)};

    function scriptedCall(uint256 i) internal pure returns (ScriptedCall memory c) {{
{chr(10).join(branches)}
        revert NoSuchCall(i);
    }}

{refusals}
}}
"""


# ------------------------------------------------------------------------- the cache


def _inputs_hash(reqs: dict[str, Any], abi: list[dict[str, Any]]) -> str:
    document = {
        "requests": {name: repr(req) for name, req in reqs.items()},
        "vault_abi": abi,
        "sources": {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in _SOURCES},
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def fixture_folder(progress: Progress | None = None) -> Path:
    """The folder holding FIXTURE_FILES for the checkout's sources, made unless it exists."""
    reqs = {name: sb.requests()[name] for name in PROOFS}
    if progress:
        progress("forge fixtures: building the first batch's circuit for its fingerprint")
    fingerprint = prover.circuit_fingerprint(build_book_batch(reqs["first"]).r1cs)
    layout = sb.CAPACITY.layout().to_json()
    contracts = compile_vault(layout)
    inputs_hash = _inputs_hash(reqs, contracts.vault.abi)
    folder = dlpe_cache_folder() / "forge_fixtures" / fingerprint / inputs_hash[:16]
    if all((folder / name).is_file() for name in FIXTURE_FILES):
        if progress:
            progress(f"forge fixtures: saved in {folder}")
        return folder
    material = sb.make_material(reqs, progress)
    fixtures = scripted_fixtures(material, contracts.vault.abi)
    texts = {
        "BatchLayout.sol": batch_layout.render_batch_layout(layout),
        "Groth16Verifier.sol": generate.render_verifier(material.verifying_key),
        "ProofFixtures.sol": render_fixtures(fixtures, fingerprint, inputs_hash),
    }
    # Written whole into a fresh folder, then renamed into place: a run that stops half way leaves
    # no folder that looks complete.
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name + ".tmp"))
    for name, text in texts.items():
        (staging / name).write_text(text)
    try:
        os.replace(staging, folder)
    except OSError:  # another run finished first: its folder is the same
        shutil.rmtree(staging)
    if progress:
        progress(f"forge fixtures: written to {folder}")
    return folder


def copy_fixtures(source: Path, dest: Path) -> None:
    """FIXTURE_FILES from `source` into `dest`, each rewritten only when it differs (forge recompiles
    what changed)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in FIXTURE_FILES:
        data = (source / name).read_bytes()
        target = dest / name
        if not target.is_file() or target.read_bytes() != data:
            target.write_bytes(data)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="the folder forge maps as generated/")
    args = parser.parse_args(argv)
    progress = ProgressLines(sys.stderr)
    copy_fixtures(fixture_folder(progress), args.dest)
    progress.line(f"forge fixtures: {', '.join(FIXTURE_FILES)} in {args.dest}")


if __name__ == "__main__":
    main()
