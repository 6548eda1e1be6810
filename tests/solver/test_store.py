"""The job store: states and requests survive a reopen; transitions are whole."""

import pytest

from solver.feeds.simulated import simulated_batch_request
from solver.service.store import BatchState, JobStore, request_from_json, request_to_json


@pytest.fixture(scope="module")
def request_():
    return simulated_batch_request(1)[0]


def test_request_json_round_trip(request_):
    assert request_from_json(request_to_json(request_)) == request_


def test_batches_and_states_survive_a_reopen(tmp_path, request_):
    store = JobStore(tmp_path / "jobs.sqlite")
    first = store.add(request_, 1_700_000_000, ["BTC-8JAN25-60000-C"])
    second = store.add(request_, 1_700_000_000, ["BTC-8JAN25-60000-P"])
    store.update(first, BatchState.PROVED, proof={"pi_a": ["1"]}, public_inputs=["5"], timings={"prove_s": 1.5})
    store.update(first, BatchState.SUBMITTED, tx_hash="0xab", raw_tx="0xcd", tx_nonce=3)
    store.close()

    again = JobStore(tmp_path / "jobs.sqlite")
    b = again.get(first)
    assert b.state is BatchState.SUBMITTED and b.tx_hash == "0xab" and b.tx_nonce == 3
    assert b.proof == {"pi_a": ["1"]} and b.timings == {"prove_s": 1.5} and b.request == request_
    assert [x.id for x in again.unfinished()] == [first, second]
    assert again.reject_unfinished("chain gone") == 2
    assert again.unfinished() == [] and again.get(second).error == "chain gone"
    assert again.count_by_state() == {"rejected": 2}
    with pytest.raises(KeyError, match="not batch columns"):
        again.update(first, BatchState.ACCEPTED, nonsense=1)
    again.record_deployment(31337, {"vault": "0x1"}, "abc")
    assert again.deployment(31337) == ({"vault": "0x1"}, "abc") and again.deployment(1) is None
