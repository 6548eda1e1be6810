"""Generate the Solidity verifier of a committed Groth16 key (lookup mode; prover.committed).

The contract text lives in templates/Groth16CommittedVerifier.sol.tmpl, next to the
plain verifier's; this module computes every constant from the key and renders one of
two variants:

  folded    one ecPairing call of 6 pairs: Groth16's 4 and the proof of knowledge's 2
            weighted by rho = 1 + sha256(FOLD_TAG, A, B, C, D, P, inputs) mod (r - 1)
            (prover.committed argues why this is sound), at the price of 2 ecMul;
  separate  gnark's way: one call of 4 pairs and a second of 2.

EIP-1108 prices: a pairing call costs 45,000 + 34,000 per pair and an ecMul 6,000, so
the fold saves 45,000 - 2 * 6,000 = 33,000 gas of precompiles; benchmarks/bench_circuits.py
and tests/verifier_contracts/test_committed_verifier.py measure both.

Sign conventions: the contract checks e(A,B) e(alpha,-beta) e(vk_x,-gamma) e(C,-delta) = 1
(the inverse of prover.verifier's product). The proof of knowledge e(D, g) e(P, -g/sigma) = 1
is used as it is when separate; folded, its inverse raised to rho joins the inverse
Groth16 product, so the generated POK_G, POK_G_SIGMA are -g and g/sigma there.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from string import Template

from bn254.constants import Q, R, G1Affine, G2Affine
from bn254.curve import validate_g1, validate_g2
from prover.committed_keys import CHALLENGE_TAG, FOLD_TAG, CommittedProof, CommittedVerifyingKey

TEMPLATE_PATH = Path(__file__).resolve().parent / "templates" / "Groth16CommittedVerifier.sol.tmpl"
CONTRACT_NAME = "Groth16CommittedVerifier"

PAIR_WORDS = 6  # a G1 point (2 words) and a G2 point (4 words)


def committed_key_sha256(key: CommittedVerifyingKey) -> str:
    """Hex sha256 of the key's defining fields as compact, sorted JSON of decimal strings."""

    def g2(p: G2Affine) -> list[list[str]]:
        return [[str(v) for v in coordinate] for coordinate in p]

    vk = key.vk
    canonical = {
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.n_public,
        "vk_alpha_1": [str(v) for v in vk.alpha_g1],
        "vk_beta_2": g2(vk.beta_g2),
        "vk_gamma_2": g2(vk.gamma_g2),
        "vk_delta_2": g2(vk.delta_g2),
        "IC": [[str(v) for v in p] for p in vk.gamma_abc_g1],
        "commitment_g2": g2(key.g2),
        "commitment_g2_sigma_neg": g2(key.g2_sigma_neg),
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _negate_g2(point: G2Affine) -> G2Affine:
    x, (y0, y1) = point
    return (x, ((Q - y0) % Q, (Q - y1) % Q))


def _g2_words(name: str, point: G2Affine) -> list[tuple[str, int]]:
    (x0, x1), (y0, y1) = point
    return [(f"{name}_X_C1", x1), (f"{name}_X_C0", x0), (f"{name}_Y_C1", y1), (f"{name}_Y_C0", y0)]


def _g1_words(name: str, point: G1Affine) -> list[tuple[str, int]]:
    return [(f"{name}_X", point[0]), (f"{name}_Y", point[1])]


def _input_term(index: int) -> str:
    """Yul adding x_(index+1)·IC_(index+1) to the sum (the signals were range-checked before)."""
    i = index + 1
    return (f"            // x_{i}·IC_{i}\n"
            f"            mstore(term, IC{i}_X)\n"
            f"            mstore(add(term, 0x20), IC{i}_Y)\n"
            f"            mstore(add(term, 0x40), calldataload(add(input, {32 * index:#x})))\n"
            "            mulOk := and(mulOk, staticcall(gas(), 0x07, term, 0x60, term, 0x40))\n"
            "            addOk := and(addOk, staticcall(gas(), 0x06, sum, 0x80, sum, 0x40))")


def _g2_stores(offset: int, name: str) -> list[str]:
    """Yul writing the G2 constant `name` (EIP-197 order) at p + offset."""
    parts = ("X_C1", "X_C0", "Y_C1", "Y_C0")
    return [f"            mstore(add(p, {offset + 32 * k:#05x}), {name}_{part})" for k, part in enumerate(parts)]


def _groth16_pairs() -> str:
    """Yul laying out Groth16's four pairs from p: (A, B) (alpha, -beta) (vk_x, -gamma) (C, -delta)."""
    return "\n".join([
        "            // pair 1: (A, B), copied from calldata as they are",
        "            calldatacopy(p, a, 0x40)",
        "            calldatacopy(add(p, 0x040), b, 0x80)",
        "            // pair 2: (alpha, -beta)",
        "            mstore(add(p, 0x0c0), ALPHA_X)",
        "            mstore(add(p, 0x0e0), ALPHA_Y)",
        *_g2_stores(0x100, "NEG_BETA"),
        "            // pair 3: (vk_x, -gamma)",
        "            mstore(add(p, 0x180), mload(vkX))",
        "            mstore(add(p, 0x1a0), mload(add(vkX, 0x20)))",
        *_g2_stores(0x1C0, "NEG_GAMMA"),
        "            // pair 4: (C, -delta)",
        "            calldatacopy(add(p, 0x240), c, 0x40)",
        *_g2_stores(0x280, "NEG_DELTA"),
    ])


_PAIRINGS = """    /// @dev The pairing check(s), ${variant}: ${summary}
    function _pairings(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[2] calldata commitment,
        uint256[2] calldata knowledgeProof,
        uint256[${n_public}] calldata input,
        uint256 rho
    ) private view returns (uint256 outcome, uint256 detail) {
        uint256[2] memory vkX;
        (outcome, detail, vkX) = _vkX(commitment, input);
        if (outcome != VALID) return (outcome, detail);
        assembly ("memory-safe") {
            // Scratch from the free memory pointer (never allocated): pairs of 192 bytes, a G1
            // point then a G2 point; the pairing's 32-byte answer (1 iff the product is 1) lands at p.
            let p := mload(0x40)
${groth16_pairs}
${pok_pairs}
        }
    }

    /// @dev ${fold_doc}
    function _foldScalar(
${fold_params}
    ) private ${fold_mutability} returns (uint256) {
${fold_body}
    }
"""

def _pairing_call(size: str, then: list[str] | None = None) -> list[str]:
    """Yul: the pairing of the `size` bytes at p; on success, `then` (nested: no early return in inline Yul)."""
    lines = [
        f"            switch staticcall(gas(), 0x08, p, {size}, p, 0x20)",
        "            case 0 {",
        "                outcome := PRECOMPILE_FAILED",
        "                detail := 0x08",
        "            }",
        "            default {",
        "                switch mload(p)",
        "                case 0 { outcome := PAIRING_FALSE }",
    ]
    if then:
        lines += ["                default {", *("        " + line for line in then), "                }"]
    return lines + ["            }"]


_FOLDED_POK = "\n".join([
    "            // pair 5: (rho·D, -g); ecMul's input (D, rho) in place, its output over D",
    "            calldatacopy(add(p, 0x300), commitment, 0x40)",
    "            mstore(add(p, 0x340), rho)",
    "            let mulOk := staticcall(gas(), 0x07, add(p, 0x300), 0x60, add(p, 0x300), 0x40)",
    *_g2_stores(0x340, "POK_G"),
    "            // pair 6: (rho·P, g/sigma)",
    "            calldatacopy(add(p, 0x3c0), knowledgeProof, 0x40)",
    "            mstore(add(p, 0x400), rho)",
    "            mulOk := and(mulOk, staticcall(gas(), 0x07, add(p, 0x3c0), 0x60, add(p, 0x3c0), 0x40))",
    *_g2_stores(0x400, "POK_G_SIGMA"),
    "            if iszero(mulOk) {",
    "                outcome := PRECOMPILE_FAILED",
    "                detail := 0x07",
    "            }",
    "            if mulOk {",
    *("    " + line for line in _pairing_call("0x480")),
    "            }",
])

_SEPARATE_POK = "\n".join(_pairing_call("0x300", [
    "            // the proof of knowledge, a second call: (D, g) (P, -g/sigma)",
    "            calldatacopy(p, commitment, 0x40)",
    *_g2_stores(0x040, "POK_G"),
    "            calldatacopy(add(p, 0x0c0), knowledgeProof, 0x40)",
    *_g2_stores(0x100, "POK_G_SIGMA"),
    *_pairing_call("0x180"),
]))


def _fold_functions(n_public: int, folded: bool) -> str:
    names = ("a", "b", "c", "commitment", "knowledgeProof", "input")
    types = ("uint256[2]", "uint256[2][2]", "uint256[2]", "uint256[2]", "uint256[2]", f"uint256[{n_public}]")
    fields = dict(
        n_public=n_public,
        groth16_pairs=_groth16_pairs(),
        variant="folded" if folded else "separate",
        # the separate variant leaves its parameters unnamed: it reads none of them
        fold_params=",\n".join(f"        {t} calldata{' ' + n if folded else ''}" for t, n in zip(types, names)),
    )
    if folded:
        fields.update(
            summary="one call of 6 pairs, the proof of knowledge inverted and raised to rho.",
            pok_pairs=_FOLDED_POK,
            fold_doc="rho = 1 + sha256(FOLD_TAG, A, B, C, D, P, x_1..x_n) mod (r - 1): the proof of knowledge's weight.",
            fold_mutability="view",
            fold_body="        return 1 + uint256(sha256(abi.encode(FOLD_TAG, a, b, c, commitment, knowledgeProof, input))) "
                      "% (R - 1);",
        )
    else:
        fields.update(
            summary="Groth16's 4 pairs, then the proof of knowledge's 2 in a second call.",
            pok_pairs=_SEPARATE_POK,
            fold_doc="No fold in this variant: rho is unused.",
            fold_mutability="pure",
            fold_body="        return 1;",
        )
    return Template(_PAIRINGS).substitute(fields)


def render_committed_verifier(key: CommittedVerifyingKey, *, folded: bool = True) -> str:
    """The Solidity source of the verifier of `key` (contract Groth16CommittedVerifier).

    Raises bn254.curve.InvalidPoint when a point of the key is not in its group.
    """
    vk = key.vk
    n = vk.n_public
    if n < 1:
        raise ValueError("a committed key has at least one public signal, its challenge")
    validate_g1(vk.alpha_g1, "vk_alpha_1")
    for name, point in (("vk_beta_2", vk.beta_g2), ("vk_gamma_2", vk.gamma_g2), ("vk_delta_2", vk.delta_g2),
                        ("commitment_g2", key.g2), ("commitment_g2_sigma_neg", key.g2_sigma_neg)):
        validate_g2(point, name)
    for i, point in enumerate(vk.gamma_abc_g1):
        validate_g1(point, f"IC[{i}]")
    pok_g = _negate_g2(key.g2) if folded else key.g2
    pok_g_sigma = _negate_g2(key.g2_sigma_neg) if folded else key.g2_sigma_neg
    constants = (
        _g1_words("ALPHA", vk.alpha_g1)
        + _g2_words("NEG_BETA", _negate_g2(vk.beta_g2))
        + _g2_words("NEG_GAMMA", _negate_g2(vk.gamma_g2))
        + _g2_words("NEG_DELTA", _negate_g2(vk.delta_g2))
        + _g2_words("POK_G", pok_g)
        + _g2_words("POK_G_SIGMA", pok_g_sigma)
        + [c for i, point in enumerate(vk.gamma_abc_g1) for c in _g1_words(f"IC{i}", point)]
    )
    return Template(TEMPLATE_PATH.read_text()).substitute(
        key_sha256=committed_key_sha256(key),
        n_public=n,
        last=n - 1,
        challenge_words=n + 2,
        variant="folded" if folded else "separate",
        variant_notice=(
            "Folded: both checks in one ecPairing call, the second weighted by rho, a hash of the\n"
            "///     whole proof and statement (prover.committed argues why that is sound)."
            if folded else "Separate: two ecPairing calls, as gnark's verifier makes them."
        ),
        folded="true" if folded else "false",
        r=R,
        challenge_tag=CHALLENGE_TAG,
        fold_tag=FOLD_TAG,
        pok_signs="-g and g/sigma (folded)" if folded else "g and -g/sigma (separate)",
        key_constants="\n".join(f"    uint256 internal constant {name} = {value};" for name, value in constants),
        input_terms="\n".join(_input_term(i) for i in range(n)),
        fold_functions=_fold_functions(n, folded),
    )


def committed_calldata(proof: CommittedProof, public_signals: list[int]) -> tuple[list, ...]:
    """(a, b, c, commitment, knowledgeProof, input) for verifyProof / requireValidProof, B in EIP-197 order.

    Values are passed as they are, never reduced mod r: the contract rejects non-canonical ones.
    """
    p = proof.proof
    (x0, x1), (y0, y1) = p.b
    return (list(p.a), [[x1, x0], [y1, y0]], list(p.c), list(proof.commitment), list(proof.knowledge_proof),
            list(public_signals))
