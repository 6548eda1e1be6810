"""Keys that persist: .zkey write/read, the key cache by circuit fingerprint, and refusing untrusted keys."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bn254.constants import G2_GENERATOR
from prover import (
    DEVELOPMENT_SETUP,
    KeyMismatch,
    StaleKey,
    UntrustedKey,
    circuit_fingerprint,
    keys_for,
    prove,
    read_zkey,
    require_deployable,
    setup,
    untrusted_reasons,
    verify,
    write_verification_key,
    write_zkey,
)
from prover.keys import DEVELOPMENT_ZKEY_SETUP, UNKNOWN_SETUP
from prover.keystore import FINGERPRINT_FILE, keys_folder, load_keys
from tests.prover.sample_circuits import build, multiplication_chain, range_checked_spend


@pytest.fixture(scope="module")
def chain():
    r1cs, witness = build(multiplication_chain(9))
    pk, vk = setup(r1cs)
    return r1cs, witness, pk, vk


def test_zkey_round_trip_gives_the_same_key(chain, tmp_path):
    r1cs, _, pk, vk = chain
    write_zkey(pk, tmp_path / "k.zkey")
    read = read_zkey(tmp_path / "k.zkey", r1cs, development=True)
    assert read.vk.setup == DEVELOPMENT_ZKEY_SETUP and read.vk.is_development
    assert replace(read, vk=replace(read.vk, setup=vk.setup)) == pk


def test_zkey_without_contribution_is_refused_unless_flagged(chain, tmp_path):
    r1cs, _, pk, _ = chain
    write_zkey(pk, tmp_path / "k.zkey")
    with pytest.raises(UntrustedKey, match="no phase-2 contribution"):
        read_zkey(tmp_path / "k.zkey", r1cs)


def test_keys_for_sets_up_once_then_reuses(tmp_path):
    r1cs, witness = build(range_checked_spend())
    stages: list[tuple[str, float]] = []
    pk, vk, reused = keys_for(r1cs, cache_folder=tmp_path, progress=lambda s, f: stages.append((s, f)))
    assert not reused and vk.setup == DEVELOPMENT_SETUP
    assert stages[0][1] == 0.0 and stages[-1][1] == 1.0
    assert all(0.0 <= f <= 1.0 for _, f in stages)
    pk2, vk2, reused2 = keys_for(r1cs, cache_folder=tmp_path)
    assert reused2 and vk2 == vk and pk2 == pk
    assert verify(vk, r1cs.public_values(witness), prove(pk2, witness))


def test_keys_for_uses_the_dlpe_cache_dir(monkeypatch, tmp_path):
    r1cs, _ = build(multiplication_chain(3))
    monkeypatch.setenv("DLPE_CACHE_DIR", str(tmp_path))
    keys_for(r1cs)
    assert (tmp_path / "keys" / circuit_fingerprint(r1cs) / FINGERPRINT_FILE).is_file()


def test_fingerprint_follows_every_coefficient():
    r1cs, _ = build(multiplication_chain(3))
    (a, b, c), *rest = r1cs.constraints
    changed = replace(r1cs, constraints=[({**a, 0: 2}, b, c), *rest])
    assert circuit_fingerprint(r1cs) == circuit_fingerprint(build(multiplication_chain(3))[0])
    assert circuit_fingerprint(changed) != circuit_fingerprint(r1cs)


def test_a_stale_key_is_refused(tmp_path):
    r1cs, _ = build(multiplication_chain(3))
    keys_for(r1cs, cache_folder=tmp_path)
    folder = keys_folder(circuit_fingerprint(r1cs), tmp_path)
    (a, b, c), *rest = r1cs.constraints
    changed = replace(r1cs, constraints=[({**a, 0: 2}, b, c), *rest])
    with pytest.raises(StaleKey, match="circuit changed"):
        load_keys(folder, changed)
    assert issubclass(StaleKey, KeyMismatch)


def test_gamma_equal_delta_is_refused_unless_development(chain, tmp_path):
    r1cs, witness, pk, vk = chain
    forged = replace(vk, gamma_g2=vk.delta_g2, setup=UNKNOWN_SETUP)
    assert any("gamma = delta" in reason for reason in untrusted_reasons(forged))
    with pytest.raises(UntrustedKey, match="gamma = delta"):
        prove(replace(pk, vk=forged), witness)
    with pytest.raises(UntrustedKey):
        write_verification_key(forged, tmp_path / "vk.json")
    with pytest.raises(UntrustedKey):
        write_zkey(replace(pk, vk=forged), tmp_path / "k.zkey")
    flagged = replace(forged, setup=DEVELOPMENT_SETUP)
    prove(replace(pk, vk=flagged), witness)  # flagged: allowed (for a local devnet)
    with pytest.raises(UntrustedKey, match="local devnet"):
        require_deployable(flagged, local_devnet=False)
    require_deployable(flagged, local_devnet=True)


def test_delta_equal_generator_is_untrusted_but_gamma_equal_generator_is_normal(chain):
    _, _, _, vk = chain
    assert untrusted_reasons(vk) == []
    assert untrusted_reasons(replace(vk, gamma_g2=G2_GENERATOR)) == []  # every snarkjs key
    assert any("delta is the G2 generator" in r for r in untrusted_reasons(replace(vk, delta_g2=G2_GENERATOR)))


def test_development_keys_are_deployable_on_a_local_devnet_only(chain):
    _, _, _, vk = chain
    require_deployable(vk, local_devnet=True)
    with pytest.raises(UntrustedKey, match="development key"):
        require_deployable(vk, local_devnet=False)
    require_deployable(replace(vk, setup="snarkjs zkey with 1 phase-2 contribution(s)"), local_devnet=False)


def test_a_process_that_loses_the_save_race_uses_the_winners_keys(chain, tmp_path, monkeypatch):
    """Two processes set up the same circuit at once: the one whose save comes second must prove
    with the saved keys, not its own, or its proofs would not verify against a verifier deployed
    from the saved key."""
    import prover.keystore as keystore

    r1cs, witness, _, _ = chain
    folder = keys_folder(circuit_fingerprint(r1cs), tmp_path)
    winner_pk, winner_vk = setup(r1cs)
    real_setup = keystore.setup

    def setup_while_another_process_saves(*args, **kwargs):
        keys = real_setup(*args, **kwargs)
        assert keystore.save_keys(winner_pk, folder, circuit_fingerprint(r1cs))
        return keys

    monkeypatch.setattr(keystore, "setup", setup_while_another_process_saves)
    pk, vk, reused = keys_for(r1cs, cache_folder=tmp_path)
    assert reused and vk.gamma_abc_g1 == winner_vk.gamma_abc_g1 and vk.delta_g2 == winner_vk.delta_g2
    assert verify(winner_vk, r1cs.public_values(witness), prove(pk, witness))
