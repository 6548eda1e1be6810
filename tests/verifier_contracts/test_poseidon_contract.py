"""PoseidonT3.sol, generated from circuits.poseidon's parameters, hashes as circuits.poseidon_hash does.

The committed source is what the generator renders today (a drift here means: regenerate, see
verifier_contracts/poseidon_contract.py); on both devnets the contract's hash(x, y) equals
poseidon_hash([x, y]) on fixed vectors (circomlib's published Poseidon([1, 2]) among them,
inputs at and above r reduced as the reference reduces them) and on random field elements.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from bn254.constants import R
from circuits.poseidon import poseidon_hash, poseidon_parameters
from verifier_contracts.build import compile_contract
from verifier_contracts.client import ContractClient
from verifier_contracts.poseidon_contract import (
    SOURCE_PATH,
    PoseidonParametersUnsupported,
    render_poseidon_t3,
)

CIRCOMLIB_POSEIDON_1_2 = 0x115CC0F5E7D690413DF64C6B9662E9CF2A3617F2743245519E19607A4417189A
"""circomlibjs poseidon([1, 2]), the value its tests publish."""


@pytest.fixture(scope="module")
def poseidon(devnet: Web3) -> ContractClient:
    return ContractClient.deploy_compiled(devnet, compile_contract(SOURCE_PATH.read_text(), "PoseidonT3"))


def test_the_committed_source_is_what_the_generator_renders() -> None:
    assert SOURCE_PATH.read_text() == render_poseidon_t3(poseidon_parameters(3))


def test_the_generator_refuses_another_width_and_values_outside_the_field() -> None:
    with pytest.raises(PoseidonParametersUnsupported, match="width t = 3"):
        render_poseidon_t3(poseidon_parameters(4))
    params = poseidon_parameters(3)
    rows = [list(row) for row in params.round_constants]
    rows[5][1] = R
    bad = dataclasses.replace(params, round_constants=tuple(tuple(row) for row in rows))
    with pytest.raises(PoseidonParametersUnsupported, match="not a field element"):
        render_poseidon_t3(bad)


@pytest.mark.parametrize(
    ("x", "y"),
    [(0, 0), (1, 2), (R - 1, R - 1), (R, 0), (0, R + 5), (2**256 - 1, 2**256 - 1), (2**253, 7)],
)
def test_hash_equals_the_reference_on_vectors(poseidon: ContractClient, x: int, y: int) -> None:
    assert poseidon.call("hash", x, y) == poseidon_hash([x, y])


def test_hash_of_one_two_is_circomlibs(poseidon: ContractClient) -> None:
    assert poseidon.call("hash", 1, 2) == CIRCOMLIB_POSEIDON_1_2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=st.integers(0, R - 1), y=st.integers(0, R - 1))
def test_hash_equals_the_reference_on_random_field_elements(poseidon: ContractClient, x: int, y: int) -> None:
    assert poseidon.call("hash", x, y) == poseidon_hash([x, y])
