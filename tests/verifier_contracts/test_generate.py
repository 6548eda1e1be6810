"""The generated Solidity source and the key hash that names it (no chain needed)."""

from __future__ import annotations

import json
import re

import pytest
from py_ecc import optimized_bn128 as bn

from prover import InvalidPoint, VerifyingKey, verifying_key_from_json
from bn254.constants import Q, R
from verifier_contracts.build import compile_contract
from verifier_contracts.generate import CONTRACT_NAME, InputLayout, main, render_verifier, verifying_key_sha256


def _constants(source: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r"uint256 internal constant (\w+) = (\d+);", source)}


def _g2(point) -> tuple:
    (x0, x1), (y0, y1) = point
    return (bn.FQ2([x0, x1]), bn.FQ2([y0, y1]), bn.FQ2.one())


def test_key_hash_depends_on_the_points_only(snark_material):
    key = snark_material.valid.key
    document = json.loads(snark_material.valid.key_json.read_text())
    assert "vk_alphabeta_12" in document  # derived from alpha and beta: not part of the hash
    del document["vk_alphabeta_12"]
    document["dlpe_setup"] = "written by another tool"
    reread = verifying_key_from_json(json.loads(json.dumps(document, separators=(",", ":"))))
    assert verifying_key_sha256(reread) == verifying_key_sha256(key)
    assert verifying_key_sha256(snark_material.other_circuit.key) != verifying_key_sha256(key)
    # The same points in another order are another key.
    shuffled = VerifyingKey(key.alpha_g1, key.beta_g2, key.gamma_g2, key.delta_g2,
                            key.gamma_abc_g1[::-1], key.setup)
    assert verifying_key_sha256(shuffled) != verifying_key_sha256(key)


# -- the generated contract ---------------------------------------------------------------


def test_constants_are_the_key_with_g2_points_negated(snark_material):
    key = snark_material.valid.key
    source = render_verifier(key)
    constants = _constants(source)
    assert (constants["ALPHA_X"], constants["ALPHA_Y"]) == key.alpha_g1
    for name, point in (("BETA", key.beta_g2), ("GAMMA", key.gamma_g2), ("DELTA", key.delta_g2)):
        (x0, x1), (y0, y1) = point
        negated = ((constants[f"NEG_{name}_X_C0"], constants[f"NEG_{name}_X_C1"]),
                   (constants[f"NEG_{name}_Y_C0"], constants[f"NEG_{name}_Y_C1"]))
        assert negated[0] == (x0, x1) and negated[1] == ((Q - y0) % Q, (Q - y1) % Q)
        assert bn.is_inf(bn.add(_g2(point), _g2(negated)))  # P + (-P) = O
    ic = key.gamma_abc_g1
    assert [(constants[f"IC{i}_X"], constants[f"IC{i}_Y"]) for i in range(len(ic))] == list(ic)
    assert f"IC{len(ic)}_X" not in constants
    assert constants["R"] == R
    assert source.count("if iszero(lt(x, R))") == key.n_public  # every input range-checked


def test_header_names_the_key_and_forbids_editing(snark_material):
    key = snark_material.valid.key
    source = render_verifier(key)
    header = source.split("pragma solidity")[0]
    digest = verifying_key_sha256(key)
    assert "GENERATED" in header and "Do not edit" in header and digest in header
    assert f"bytes32 public constant VERIFYING_KEY_SHA256 = 0x{digest};" in source
    assert render_verifier(key) == source  # deterministic: same key, same text, same build cache entry


def test_layouts_differ_only_in_how_inputs_arrive(snark_material):
    key = snark_material.valid.key
    fixed, dynamic = render_verifier(key, InputLayout.FIXED), render_verifier(key, InputLayout.DYNAMIC)
    assert "uint256[3] calldata input" in fixed and "PublicInputCountMismatch" not in fixed
    assert "uint256[] calldata input" in dynamic
    assert "error PublicInputCountMismatch(uint256 expected, uint256 given);" in dynamic
    assert _constants(fixed) == _constants(dynamic)


@pytest.mark.parametrize("layout", list(InputLayout))
def test_generated_contract_compiles_cleanly(snark_material, layout):
    compiled = compile_contract(render_verifier(snark_material.valid.key, layout), CONTRACT_NAME)
    assert compiled.warnings == ()
    names = {entry.get("name") for entry in compiled.abi}
    assert {"verifyProof", "requireValidProof", "PublicInputNotInField", "PrecompileFailed", "ProofInvalid"} <= names
    assert ("PublicInputCountMismatch" in names) == (layout is InputLayout.DYNAMIC)


def test_key_without_public_inputs_is_refused(snark_material):
    key = snark_material.valid.key
    no_inputs = VerifyingKey(key.alpha_g1, key.beta_g2, key.gamma_g2, key.delta_g2, key.gamma_abc_g1[:1], key.setup)
    with pytest.raises(ValueError, match="no public inputs"):
        render_verifier(no_inputs)


def test_key_with_a_point_off_the_curve_is_refused(snark_material):
    key = snark_material.valid.key
    (x, y) = key.gamma_abc_g1[1]
    bad_ic = (key.gamma_abc_g1[0], (x, y + 1), *key.gamma_abc_g1[2:])
    with pytest.raises(InvalidPoint, match=r"IC\[1\]"):
        render_verifier(VerifyingKey(key.alpha_g1, key.beta_g2, key.gamma_g2, key.delta_g2, bad_ic, key.setup))
    (dx, (dy0, dy1)) = key.delta_g2
    swapped = VerifyingKey(key.alpha_g1, key.beta_g2, key.gamma_g2, (dx, (dy1, dy0)), key.gamma_abc_g1, key.setup)
    with pytest.raises(InvalidPoint, match="vk_delta_2"):  # y's components swapped: off the twist
        render_verifier(swapped)


def test_command_line_writes_the_rendered_contract(snark_material, tmp_path, capsys):
    out = tmp_path / "Groth16Verifier.sol"
    main([str(snark_material.valid.key_json), "-o", str(out), "--layout", "dynamic"])
    assert out.read_text() == render_verifier(snark_material.valid.key, InputLayout.DYNAMIC)
    assert str(out) in capsys.readouterr().out
