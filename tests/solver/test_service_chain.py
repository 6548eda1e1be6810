"""The operator's nonces (solver.service.chain.OperatorSender) when a broadcast fails, on a real anvil.

A signed transaction whose send fails (the node is down or restarting) may never have reached the
node. Its nonce must not stay taken in the sender: the next transaction would carry the nonce after
it, the node would hold that one back behind the gap for good, and every later receipt would time
out (found while restarting anvil under the live service, tests/solver/test_service_restart.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from eth_account import Account
from web3 import Web3

from solver.service.chain import ANVIL_OPERATOR_KEY, DEVNET_CHAIN_ID, Chain, OperatorSender
from verifier_contracts.devnet import Anvil, find_anvil

pytestmark = pytest.mark.skipif(find_anvil() is None, reason="the anvil binary is not installed: run `make install`")


@pytest.fixture
def sender() -> Iterator[OperatorSender]:
    with Anvil() as anvil:
        w3 = anvil.web3()
        operator = Account.from_key(ANVIL_OPERATOR_KEY)
        chain = Chain(w3, DEVNET_CHAIN_ID, settlement=None, operator=operator,  # type: ignore[arg-type]
                      posts_oracle=False)
        yield OperatorSender(chain)


def signed_transfer(sender: OperatorSender, nonce: int) -> str:
    """A 1-wei transfer from the operator to account #0, signed with ``nonce``."""
    w3, operator = sender.chain.w3, sender.chain.operator
    tx = {"to": w3.eth.accounts[0], "value": 1, "nonce": nonce, "gas": 21_000, "chainId": DEVNET_CHAIN_ID,
          "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
    return "0x" + operator.sign_transaction(tx).raw_transaction.hex().removeprefix("0x")


def test_a_failed_broadcast_gives_its_nonce_back(sender: OperatorSender, monkeypatch: pytest.MonkeyPatch) -> None:
    w3 = sender.chain.w3
    first = sender.next_nonce()
    lost = signed_transfer(sender, first)

    def node_down(raw: str) -> None:
        raise requests.exceptions.ConnectionError("Connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(w3.eth, "send_raw_transaction", node_down)
        with pytest.raises(requests.exceptions.ConnectionError):
            sender.broadcast(lost)
    # the node never saw it: the next transaction takes the same nonce and is mined at once
    retry = sender.next_nonce()
    assert retry == first == w3.eth.get_transaction_count(sender.chain.operator.address, "pending")
    raw = signed_transfer(sender, retry)
    sender.broadcast(raw)
    # anvil mines on its own clock: wait for the receipt rather than read the count at once
    w3.eth.wait_for_transaction_receipt(Web3.keccak(hexstr=raw), timeout=30)
    assert w3.eth.get_transaction_count(sender.chain.operator.address) == first + 1


def test_nonces_in_flight_are_not_shared(sender: OperatorSender) -> None:
    first = sender.next_nonce()
    assert sender.next_nonce() == first + 1  # signed but not yet sent: the node's count has not moved
    sender.broadcast(signed_transfer(sender, first))
    assert sender.next_nonce() == first + 2
