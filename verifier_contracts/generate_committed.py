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
    i = index + 1
    return (f"        // x_{i}·IC_{i}\n"
            f"        (ok, term) = _ecMul([IC{i}_X, IC{i}_Y], input[{index}]);\n"
            "        mulOk = mulOk && ok;\n"
            "        (ok, vkX) = _ecAdd(vkX, term);\n"
            "        addOk = addOk && ok;")


def _fill(array: str, start: int, words: list[str]) -> list[str]:
    return [f"        {array}[{start + k}] = {w};" for k, w in enumerate(words)]


def _groth16_pairs() -> str:
    g2 = lambda name: [f"{name}_X_C1", f"{name}_X_C0", f"{name}_Y_C1", f"{name}_Y_C0"]  # noqa: E731
    return "\n".join(
        _fill("pairs", 0, ["a[0]", "a[1]", "b[0][0]", "b[0][1]", "b[1][0]", "b[1][1]"])
        + _fill("pairs", 6, ["ALPHA_X", "ALPHA_Y", *g2("NEG_BETA")])
        + _fill("pairs", 12, ["vkX[0]", "vkX[1]", *g2("NEG_GAMMA")])
        + _fill("pairs", 18, ["c[0]", "c[1]", *g2("NEG_DELTA")])
    )


def _fill(array: str, start: int, words: list[str]) -> list[str]:
    return [f"        {array}[{start + k}] = {w};" for k, w in enumerate(words)]


_PAIRINGS_HEAD = """    /// @dev The pairing check(s): ${variant}.
    function _pairings(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[2] calldata commitment,
        uint256[2] calldata knowledgeProof,
        uint256[${n_public}] calldata input,
        uint256 rho
    ) private view returns (uint256, uint256) {
        (uint256 outcome, uint256 detail, uint256[2] memory vkX) = _vkX(commitment, input);
        if (outcome != VALID) return (outcome, detail);
"""

_FOLDED = _PAIRINGS_HEAD + """        uint256[] memory pairs = new uint256[](36);
        _groth16Pairs(pairs, a, b, c, vkX);
        if (!_pokPairs(pairs, commitment, knowledgeProof, rho)) return (PRECOMPILE_FAILED, 0x07);
        (bool ok, bool product) = _pairing(pairs);
        if (!ok) return (PRECOMPILE_FAILED, 0x08);
        if (!product) return (PAIRING_FALSE, 0);
        return (VALID, 0);
    }

    /// @dev pairs[24..36): (rho·D, -g) (rho·P, g/sigma), the proof of knowledge inverted and raised to rho.
    function _pokPairs(uint256[] memory pairs, uint256[2] calldata commitment, uint256[2] calldata knowledgeProof,
                       uint256 rho) private view returns (bool) {
        (bool okD, uint256[2] memory rhoD) = _ecMul([commitment[0], commitment[1]], rho);
        (bool okP, uint256[2] memory rhoP) = _ecMul([knowledgeProof[0], knowledgeProof[1]], rho);
${pok_fill}
        return okD && okP;
    }

    /// @dev rho = 1 + sha256(FOLD_TAG, A, B, C, D, P, x_1..x_n) mod (r - 1): the proof of knowledge's weight.
    function _foldScalar(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[2] calldata commitment,
        uint256[2] calldata knowledgeProof,
        uint256[${n_public}] calldata input
    ) private view returns (uint256) {
        return 1 + uint256(sha256(abi.encode(FOLD_TAG, a, b, c, commitment, knowledgeProof, input))) % (R - 1);
    }
"""

_SEPARATE = _PAIRINGS_HEAD + """        uint256[] memory pairs = new uint256[](24);
        _groth16Pairs(pairs, a, b, c, vkX);
        (bool ok, bool product) = _pairing(pairs);
        if (!ok) return (PRECOMPILE_FAILED, 0x08);
        if (!product) return (PAIRING_FALSE, 0);
        // (D, g) (P, -g/sigma): the proof of knowledge, a second call (rho unused)
        pairs = new uint256[](12);
${pok_fill}
        (ok, product) = _pairing(pairs);
        if (!ok) return (PRECOMPILE_FAILED, 0x08);
        if (!product) return (PAIRING_FALSE, 0);
        return (VALID, 0);
    }

    /// @dev No fold in this variant: the proof of knowledge is checked on its own.
    function _foldScalar(
        uint256[2] calldata,
        uint256[2][2] calldata,
        uint256[2] calldata,
        uint256[2] calldata,
        uint256[2] calldata,
        uint256[${n_public}] calldata
    ) private pure returns (uint256) {
        return 1;
    }
"""

_POK_G2 = ["POK_G_X_C1", "POK_G_X_C0", "POK_G_Y_C1", "POK_G_Y_C0"]
_POK_G2_SIGMA = ["POK_G_SIGMA_X_C1", "POK_G_SIGMA_X_C0", "POK_G_SIGMA_Y_C1", "POK_G_SIGMA_Y_C0"]


def _fold_functions(n_public: int, folded: bool) -> str:
    if folded:
        fill = (_fill("pairs", 24, ["rhoD[0]", "rhoD[1]", *_POK_G2])
                + _fill("pairs", 30, ["rhoP[0]", "rhoP[1]", *_POK_G2_SIGMA]))
        text = _FOLDED
    else:
        fill = (_fill("pairs", 0, ["commitment[0]", "commitment[1]", *_POK_G2])
                + _fill("pairs", 6, ["knowledgeProof[0]", "knowledgeProof[1]", *_POK_G2_SIGMA]))
        text = _SEPARATE
    return Template(text).substitute(n_public=n_public, variant="folded" if folded else "separate",
                                     pok_fill="\n".join(fill))


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
        groth16_pairs=_groth16_pairs(),
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
