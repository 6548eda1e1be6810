"""The devnets themselves: anvil's lifecycle on a free loopback port, and revert data from the in-process EVM."""

from __future__ import annotations

import socket

import pytest
from eth_abi import encode
from eth_tester.exceptions import TransactionFailed

from verifier_contracts import devnet
from verifier_contracts.devnet import Anvil, DevnetError, _answers_chain_id, _revert_bytes, find_anvil

needs_anvil = pytest.mark.skipif(
    find_anvil() is None, reason="the anvil binary (npm @foundry-rs/anvil) is not installed"
)


@needs_anvil
def test_anvil_answers_then_stops():
    with Anvil() as chain:
        url = chain.url
        assert _answers_chain_id(url)
        w3 = chain.web3()
        assert w3.eth.chain_id == 31337 and w3.eth.default_account == w3.eth.accounts[0]
        process = chain._process
    assert process.poll() is not None  # exited, not orphaned
    assert not _answers_chain_id(url)


@needs_anvil
def test_anvil_moves_to_another_port_when_its_port_is_taken(monkeypatch):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken, devnet._free_loopback_port()])
        monkeypatch.setattr(devnet, "_free_loopback_port", lambda: next(ports))
        with Anvil() as chain:
            assert chain.port != taken
            assert _answers_chain_id(chain.url)


def test_missing_anvil_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(devnet, "find_anvil", lambda: None)
    with pytest.raises(DevnetError, match="make install"):
        Anvil()


def test_revert_data_is_recovered_from_eth_tester():
    custom = bytes.fromhex("7fcdd1f4") + (5).to_bytes(32, "big")
    assert _revert_bytes(TransactionFailed(f"execution reverted: {custom!r}")) == custom
    text = _revert_bytes(TransactionFailed("execution reverted: too late"))
    assert text == bytes.fromhex("08c379a0") + encode(["string"], ["too late"])
    assert _revert_bytes(TransactionFailed("out of gas")) == b""
