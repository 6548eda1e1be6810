"""Generate the Solidity Groth16 verifier of one verifying key.

The contract text lives in templates/Groth16Verifier.sol.tmpl; this module computes
every constant from the key and renders it, so that no number is ever typed by hand.
The header names the key by its sha256 (verifying_key_sha256), which the contract also
exposes as VERIFYING_KEY_SHA256, so a client can tell which key a deployed verifier holds.

Generated constants (all EIP-196/197 word order, G2 imaginary part first):
  ALPHA_X, ALPHA_Y                      alpha·G1
  NEG_BETA_*, NEG_GAMMA_*, NEG_DELTA_*  -beta·G2, -gamma·G2, -delta·G2: y -> q - y
  IC<i>_X, IC<i>_Y                      the key's IC points (gamma_abc_g1)
Negating the three G2 constants here turns Groth16's e(A,B) = e(alpha,beta)·e(vk_x,gamma)·e(C,delta)
into the single product EIP-197 checks, e(A,B)·e(alpha,-beta)·e(vk_x,-gamma)·e(C,-delta) = 1,
with nothing to negate at run time.

Public inputs arrive as `uint256[N] calldata` (InputLayout.FIXED, the default: the
ABI fixes the count, and benchmarks/bench_verifier_gas.py measures it cheaper) or as a
`uint256[] calldata` array (InputLayout.DYNAMIC, which checks the count and reverts
with PublicInputCountMismatch).

    python -m verifier_contracts.generate verification_key.json -o Groth16Verifier.sol
"""

from __future__ import annotations

import argparse
import enum
import hashlib
import json
from pathlib import Path
from string import Template

from prover import VerifyingKey, read_verification_key
from bn254.constants import Q, R, G1Affine, G2Affine
from bn254.curve import validate_g1, validate_g2

TEMPLATE_PATH = Path(__file__).resolve().parent / "templates" / "Groth16Verifier.sol.tmpl"
CONTRACT_NAME = "Groth16Verifier"


class InputLayout(enum.Enum):
    """How the contract takes its public inputs."""

    FIXED = "fixed"  # uint256[N] calldata: count fixed by the ABI
    DYNAMIC = "dynamic"  # uint256[] calldata: count checked by the contract


def verifying_key_sha256(key: VerifyingKey) -> str:
    """Hex sha256 of the key's defining fields as compact, sorted snarkjs-style JSON (affine
    points as decimal strings). snarkjs's vk_alphabeta_12 (derived from alpha and beta) and
    DLPE's dlpe_setup note are left out, so every writer of the same key gets the same hash."""

    def g2(p: G2Affine) -> list[list[str]]:
        return [[str(v) for v in coordinate] for coordinate in p]

    canonical = {
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": key.n_public,
        "vk_alpha_1": [str(v) for v in key.alpha_g1],
        "vk_beta_2": g2(key.beta_g2),
        "vk_gamma_2": g2(key.gamma_g2),
        "vk_delta_2": g2(key.delta_g2),
        "IC": [[str(v) for v in p] for p in key.gamma_abc_g1],
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _negate_g2(point: G2Affine) -> G2Affine:
    """-P = (x, -y) on the twist; -y negates both Fq components (the infinity point is its own negative)."""
    x, (y0, y1) = point
    return (x, ((Q - y0) % Q, (Q - y1) % Q))


def _g2_constants(name: str, point: G2Affine) -> list[tuple[str, int]]:
    (x0, x1), (y0, y1) = point
    return [(f"{name}_X_C1", x1), (f"{name}_X_C0", x0), (f"{name}_Y_C1", y1), (f"{name}_Y_C0", y0)]


def _g1_constants(name: str, point: G1Affine) -> list[tuple[str, int]]:
    return [(f"{name}_X", point[0]), (f"{name}_Y", point[1])]


def _stores(offset: int, words: list[tuple[str, int]]) -> str:
    """Yul that writes the named constants to consecutive words from p + offset."""
    return "\n".join(
        f"                mstore(add(p, {offset + 32 * i:#05x}), {name})" for i, (name, _) in enumerate(words)
    )


def _input_term(index: int) -> str:
    """The Yul that range-checks input `index` (0-based) and adds x·IC_(index+1) to the sum."""
    i = index + 1
    return "\n".join(
        [
            f"                // x_{i} · IC_{i}",
            f"                x := calldataload(add(inputOffset, {32 * index:#x}))",
            "                if iszero(lt(x, R)) {",
            "                    status := INPUT_NOT_IN_FIELD",
            f"                    statusDetail := {index}",
            "                    leave",
            "                }",
            f"                mstore(term, IC{i}_X)",
            f"                mstore(add(term, 0x20), IC{i}_Y)",
            "                mstore(add(term, 0x40), x)",
            "                mulOk := and(mulOk, staticcall(gas(), 0x07, term, 0x60, term, 0x40))",
            "                addOk := and(addOk, staticcall(gas(), 0x06, sum, 0x80, sum, 0x40))",
        ]
    )


def render_verifier(key: VerifyingKey, layout: InputLayout = InputLayout.FIXED) -> str:
    """The Solidity source of a verifier for `key` (contract name Groth16Verifier).

    Raises prover.InvalidPoint when a point of the key is not in its group, ValueError
    when the key has no public inputs.
    """
    n = key.n_public
    if n == 0:
        # Solidity has no uint256[0], and a proof about no public value proves nothing to a contract.
        raise ValueError("the key has no public inputs; a verifier contract needs at least one")
    # The contract trusts its constants (its PrecompileFailed doc says only gas can make ecAdd
    # or ecMul fail on them), so every point is checked here, whoever built the key object.
    validate_g1(key.alpha_g1, "vk_alpha_1")
    for name, point in (("vk_beta_2", key.beta_g2), ("vk_gamma_2", key.gamma_g2), ("vk_delta_2", key.delta_g2)):
        validate_g2(point, name)
    for i, ic_point in enumerate(key.gamma_abc_g1):
        validate_g1(ic_point, f"IC[{i}]")
    alpha = _g1_constants("ALPHA", key.alpha_g1)
    neg_beta = _g2_constants("NEG_BETA", _negate_g2(key.beta_g2))
    neg_gamma = _g2_constants("NEG_GAMMA", _negate_g2(key.gamma_g2))
    neg_delta = _g2_constants("NEG_DELTA", _negate_g2(key.delta_g2))
    ic = [c for i, point in enumerate(key.gamma_abc_g1) for c in _g1_constants(f"IC{i}", point)]
    key_constants = "\n".join(
        f"    uint256 internal constant {name} = {value};"
        for name, value in alpha + neg_beta + neg_gamma + neg_delta + ic
    )

    if layout is InputLayout.FIXED:
        input_param = f"uint256[{n}] calldata input"
        input_offset = "input"
        count_error = count_outcome = count_revert = count_check = count_error_name = count_revert_note = ""
        revert_list = "PublicInputNotInField, PrecompileFailed"
    else:
        input_param = "uint256[] calldata input"
        input_offset = "input.offset"
        count_error = (
            "    /// @notice `given` public inputs were passed; the key takes `expected`.\n"
            "    error PublicInputCountMismatch(uint256 expected, uint256 given);\n"
        )
        count_outcome = "    uint256 private constant INPUT_COUNT_MISMATCH = 4; // detail: the count given\n"
        count_revert = (
            "        if (outcome == INPUT_COUNT_MISMATCH) {\n"
            "            revert PublicInputCountMismatch(PUBLIC_INPUT_COUNT, detail);\n"
            "        }\n"
        )
        count_check = (
            "        // A calldata array can have any length; the key fixes it.\n"
            "        if (input.length != PUBLIC_INPUT_COUNT) return (INPUT_COUNT_MISMATCH, input.length);\n"
        )
        revert_list = "PublicInputCountMismatch, PublicInputNotInField, PrecompileFailed"
        count_error_name = ", PublicInputCountMismatch"
        count_revert_note = ", and with PublicInputCountMismatch for a wrong number of inputs"

    return Template(TEMPLATE_PATH.read_text()).substitute(
        key_sha256=verifying_key_sha256(key),
        n_public=n,
        r=R,
        q=Q,
        key_constants=key_constants,
        alpha_neg_beta_stores=_stores(0x0C0, alpha + neg_beta),
        neg_gamma_stores=_stores(0x1C0, neg_gamma),
        neg_delta_stores=_stores(0x280, neg_delta),
        input_terms="\n".join(_input_term(i) for i in range(n)),
        input_param=input_param,
        input_offset=input_offset,
        count_error=count_error,
        count_outcome=count_outcome,
        count_revert=count_revert,
        count_check=count_check,
        revert_list=revert_list,
        count_error_name=count_error_name,
        count_revert_note=count_revert_note,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate Groth16Verifier.sol from a snarkjs verification_key.json")
    parser.add_argument("key", type=Path, help="verification_key.json (snarkjs format)")
    parser.add_argument("-o", "--output", type=Path, default=Path("Groth16Verifier.sol"))
    parser.add_argument("--layout", choices=[m.value for m in InputLayout], default=InputLayout.FIXED.value)
    args = parser.parse_args(argv)
    args.output.write_text(render_verifier(read_verification_key(args.key), InputLayout(args.layout)))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
