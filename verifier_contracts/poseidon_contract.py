"""PoseidonT3.sol: circomlib's Poseidon of two field elements as an EVM contract, generated.

    from circuits.poseidon import poseidon_parameters
    source = render_poseidon_t3(poseidon_parameters(3))       # what PoseidonT3.sol holds

The contract's `hash(x, y)` is `circuits.poseidon.poseidon_hash([x, y])`: the HADES permutation
of width t = 3 (Grassi et al., "Poseidon", USENIX Security 2021) on the state (0, x mod r, y mod r),
whose first element it returns. The round constants and the MDS matrix are this project's own
(circuits/poseidon.py derives them from the paper's Grain LFSR); they reach this module as a value,
since verifier_contracts does not import circuits/ (DESIGN.md), and the generated source is
committed as verifier_contracts/PoseidonT3.sol, which tests/verifier_contracts/test_poseidon_contract.py
regenerates and compares byte for byte. To regenerate after a change here:

    .venv/bin/python -c "from circuits.poseidon import poseidon_parameters as p; \
from verifier_contracts.poseidon_contract import write_poseidon_t3; write_poseidon_t3(p(3))"

Gas. Every round is straight-line assembly with the round constants inline. Values are reduced
lazily: a mixed element is a sum of three mulmod results, below 3r; adding a round constant
(< r) keeps it below 4r < 2^256 (r < 2^253.6), and mulmod accepts any 256-bit operand, so only
the output needs a final `mod`. The nine MDS entries sit in memory (an mload is 3 bytes of code,
a PUSH32 33: inlining them in all 65 rounds would take the contract past EIP-170's 24 KiB).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence

from bn254.constants import R

SOURCE_PATH = Path(__file__).resolve().parent / "PoseidonT3.sol"
WIDTH = 3
MDS_MEMORY = 0x80
"""Memory address of mds[0][0]; entry (i, j) is at MDS_MEMORY + 32·(3i + j)."""


class PoseidonParameterSet(Protocol):
    """What the generator reads of circuits.poseidon.PoseidonParameters."""

    t: int
    full_rounds: int
    partial_rounds: int
    round_constants: Sequence[Sequence[int]]
    mds: Sequence[Sequence[int]]

    def is_full_round(self, round_index: int) -> bool: ...


class PoseidonParametersUnsupported(ValueError):
    """The parameters are not a width-3 Poseidon over BN254's scalar field."""


def _check(params: PoseidonParameterSet) -> None:
    if params.t != WIDTH:
        raise PoseidonParametersUnsupported(f"PoseidonT3 needs width t = {WIDTH}, got {params.t}")
    rounds = params.full_rounds + params.partial_rounds
    if len(params.round_constants) != rounds or any(len(row) != WIDTH for row in params.round_constants):
        raise PoseidonParametersUnsupported(f"expected {rounds} rows of {WIDTH} round constants")
    if len(params.mds) != WIDTH or any(len(row) != WIDTH for row in params.mds):
        raise PoseidonParametersUnsupported(f"the MDS matrix must be {WIDTH} x {WIDTH}")
    for value in (*(c for row in params.round_constants for c in row), *(m for row in params.mds for m in row)):
        if not 0 <= value < R:
            raise PoseidonParametersUnsupported(f"parameter {value} is not a field element (0 <= v < r)")


def _mds(i: int, j: int) -> str:
    return f"mload({hex(MDS_MEMORY + 32 * (WIDTH * i + j))})"


def _round(params: PoseidonParameterSet, rnd: int) -> list[str]:
    c0, c1, c2 = (hex(c) for c in params.round_constants[rnd])
    full = params.is_full_round(rnd)
    lines = [f"// round {rnd}: {'full' if full else 'partial'}",
             f"s0 := add(s0, {c0})", f"s1 := add(s1, {c1})", f"s2 := add(s2, {c2})"]
    for s in ("s0", "s1", "s2") if full else ("s0",):
        # s^5 = (s^2)^2 · s
        lines.append(f"{{ let q := mulmod({s}, {s}, p) {s} := mulmod(mulmod(q, q, p), {s}, p) }}")
    # state_i <- sum_j M[i][j] state_j, each sum below 3r (see the module doc)
    mixed = [f"add(add(mulmod({_mds(i, 0)}, s0, p), mulmod({_mds(i, 1)}, s1, p)), mulmod({_mds(i, 2)}, s2, p))"
             for i in range(WIDTH)]
    lines += [f"let n0 := {mixed[0]}", f"let n1 := {mixed[1]}", f"s2 := {mixed[2]}", "s0 := n0", "s1 := n1"]
    return ["{", *lines, "}"]


def render_poseidon_t3(params: PoseidonParameterSet) -> str:
    """The Solidity source of PoseidonT3 for these width-3 parameters (r_f full, r_p partial rounds)."""
    _check(params)
    body: list[str] = ["let p := " + hex(R)]
    body += ["// the state (0, x, y)", "let s0 := 0", "let s1 := mod(x, p)", "let s2 := mod(y, p)"]
    body += [f"mstore({hex(MDS_MEMORY + 32 * (WIDTH * i + j))}, {hex(params.mds[i][j])})"
             for i in range(WIDTH) for j in range(WIDTH)]
    for rnd in range(params.full_rounds + params.partial_rounds):
        body += _round(params, rnd)
    body += ["mstore(0x00, mod(s0, p))", "return(0x00, 0x20)"]
    indented, depth = [], 3
    for line in body:
        if line == "}":
            depth -= 1
        indented.append("    " * depth + line)
        if line == "{":
            depth += 1
    return _HEADER.format(
        full=params.full_rounds, partial=params.partial_rounds, r=R
    ) + "\n".join(indented) + "\n" + _FOOTER


def write_poseidon_t3(params: PoseidonParameterSet, path: Path = SOURCE_PATH) -> Path:
    """Render PoseidonT3.sol for `params` into `path` (default: the committed verifier_contracts/PoseidonT3.sol)."""
    path.write_text(render_poseidon_t3(params))
    return path


_HEADER = """\
// SPDX-License-Identifier: MIT
// GENERATED by verifier_contracts/poseidon_contract.py from circuits/poseidon.py's parameters. Do not edit.
pragma solidity ^0.8.28;

/// @title PoseidonT3: circomlib's Poseidon hash of two BN254 scalar-field elements
/// @notice hash(x, y) = circuits.poseidon.poseidon_hash([x, y]) = circomlib's Poseidon(2): the
///     width-3 HADES permutation ({full} full rounds, {partial} partial rounds, S-box x^5) of the
///     state (0, x mod r, y mod r), first element out. Inputs are reduced mod r, as the Python
///     reference reduces them; r = {r}.
/// @dev The whole function is one assembly block that returns by itself, so it owns memory:
///     the MDS matrix lives at 0x80..0x1a0 (see poseidon_contract.py for the lazy reduction).
contract PoseidonT3 {{
    // assembly,too-many-digits: straight-line Yul with the round constants
    // inline is what makes the hash affordable on-chain; the long literals are those constants and r
    // slither-disable-next-line assembly,too-many-digits
    function hash(uint256 x, uint256 y) external pure returns (uint256) {{
        assembly {{
"""

_FOOTER = """\
        }
    }
}
"""
