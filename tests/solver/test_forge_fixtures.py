"""solver.forge_fixtures: the forge fixtures' calldata is the vault's ABI encoding of the scripted
proofs, the altered proofs differ from them in one byte, and the fixture folder is made once per
circuit and inputs (a warm run proves nothing). The proofs are solver/scripted_book.py's, saved by
`make forge-test` (which runs first in `make test`) or by the vault tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

import prover
from solver import forge_fixtures as ff
from solver import scripted_book as sb
from verifier_contracts.vault import VaultContracts, compile_vault


@pytest.fixture(scope="module")
def contracts() -> VaultContracts:
    return compile_vault(sb.CAPACITY.layout().to_json())


@pytest.fixture(scope="module")
def material() -> sb.BookMaterial:
    return sb.make_material({name: sb.requests()[name] for name in ff.PROOFS})


@pytest.fixture(scope="module")
def fixtures(material, contracts) -> ff.Fixtures:
    return ff.scripted_fixtures(material, contracts.vault.abi)


def decode(contracts: VaultContracts, data: bytes) -> tuple[str, dict]:
    function, args = Web3().eth.contract(abi=contracts.vault.abi).decode_function_input(data)
    return function.fn_name, args


def test_the_life_is_the_vaults_abi_encoding_of_the_scripted_proofs(fixtures, material, contracts):
    names = [decode(contracts, call.data)[0] for call in fixtures.life]
    assert names == ["submitBatch", "fill", "sell", "submitBatch", "fill"]
    for call, proven in ((fixtures.life[0], material.first), (fixtures.life[3], material.second)):
        _, args = decode(contracts, call.data)
        assert list(args["packed"]) == proven.packed and args["bookAfter"] == proven.book_after
    _, bought = decode(contracts, fixtures.life[1].data)
    assert (bought["batchId"], bought["size"]) == (sb.FIRST_NONCE, -sb.FILLS[0].dq)
    assert [call.expected.fill_count for call in fixtures.life] == [0, 1, 2, 2, 3]
    assert fixtures.life[3].expected.mark < 0 < fixtures.life[3].expected.proven_mark


@pytest.mark.parametrize("index", range(3))
def test_each_altered_proof_differs_from_the_first_batch_in_one_byte(fixtures, index):
    original = fixtures.life[0].data
    _, _, altered = fixtures.refusals[index]
    assert len(altered) == len(original)
    assert sum(x != y for x, y in zip(altered, original)) == 1


def test_the_inputs_hash_follows_the_vaults_abi(contracts):
    reqs = {name: sb.requests()[name] for name in ff.PROOFS}
    abi = contracts.vault.abi
    fill = next(e for e in abi if e.get("name") == "fill")
    longer = [e for e in abi if e is not fill] + [{**fill, "inputs": [*fill["inputs"], {"name": "path",
                                                                                         "type": "uint256[]"}]}]
    assert ff._inputs_hash(reqs, abi) == ff._inputs_hash(reqs, list(abi))
    assert ff._inputs_hash(reqs, longer) != ff._inputs_hash(reqs, abi)


def test_a_warm_run_finds_the_folder_and_proves_nothing(tmp_path, monkeypatch, material):
    cache = tmp_path / "cache"
    monkeypatch.setattr(ff, "dlpe_cache_folder", lambda: cache)
    monkeypatch.setattr(sb, "make_material", lambda reqs, progress=None: material)
    folder = ff.fixture_folder()
    assert folder.parent.name == prover.circuit_fingerprint(
        ff.build_book_batch(sb.requests()["first"]).r1cs) and folder.is_relative_to(cache)
    written = {name: (folder / name).read_text() for name in ff.FIXTURE_FILES}
    assert "library ProofFixtures" in written["ProofFixtures.sol"]

    def no_proving(reqs, progress=None):
        raise AssertionError("a warm run must not make proofs")

    monkeypatch.setattr(sb, "make_material", no_proving)
    assert ff.fixture_folder() == folder
    dest = tmp_path / "generated"
    ff.copy_fixtures(folder, dest)
    assert {p.name: p.read_text() for p in Path(dest).iterdir()} == written
