"""IVIndexOracle.sol: the owner posts (implied vol index, timestamp); bad posts are refused and change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from engine import fixed as fx
from verifier_contracts.build import compile_contract
from verifier_contracts.client import ContractClient, ContractReverted
from verifier_contracts.devnet import latest_timestamp

SOURCE = Path(__file__).resolve().parents[2] / "verifier_contracts" / "IVIndexOracle.sol"


@pytest.fixture
def oracle(devnet: Web3) -> ContractClient:
    return ContractClient.deploy_compiled(devnet, compile_contract(SOURCE.read_text(), "IVIndexOracle"))


def test_posts_and_serves_the_latest_index(oracle: ContractClient) -> None:
    assert oracle.call("latest") == [0, 0]
    now = latest_timestamp(oracle.w3)
    receipt = oracle.transact("post", fx.to_fixed(0.55), now - 10)
    events = oracle.contract.events.VolPosted().process_receipt(receipt)
    assert [dict(e["args"]) for e in events] == [{"vol": fx.to_fixed(0.55), "timestamp": now - 10}]
    oracle.transact("post", fx.to_fixed(0.6), now)
    assert oracle.call("latest") == [fx.to_fixed(0.6), now]


def test_refuses_bad_posts_and_keeps_the_latest(oracle: ContractClient) -> None:
    now = latest_timestamp(oracle.w3)
    oracle.transact("post", fx.to_fixed(0.5), now)
    other = oracle.w3.eth.accounts[1]
    cases = [
        ("NotOwner", {"caller": other}, (fx.to_fixed(0.4), now), other),
        ("VolZero", {}, (0, now), None),
        ("TimestampNotAfterLatest", {"timestamp": now, "latestTimestamp": now}, (fx.to_fixed(0.4), now), None),
    ]
    for error, values, args, sender in cases:
        with pytest.raises(ContractReverted) as refused:
            oracle.call("post", *args, sender=sender)
        assert (refused.value.error, refused.value.values) == (error, values)
    with pytest.raises(ContractReverted) as refused:
        oracle.call("post", fx.to_fixed(0.4), now + 10**6)
    assert refused.value.error == "TimestampInFuture"
    assert oracle.call("latest") == [fx.to_fixed(0.5), now]
