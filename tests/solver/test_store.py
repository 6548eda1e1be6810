"""The job store: states and requests survive a reopen; transitions are whole."""

import dataclasses
import json

import pytest

from engine import fixed as fx
from engine import fixed_book as fb
from solver.service.proving import shape_request
from solver.service.store import BatchState, JobStore, StoredRequestUnreadable, request_from_json, request_to_json
from solver.settlement import BookCapacity


@pytest.fixture(scope="module")
def request_():
    """A book batch request with a held slot, a pending fill and an expiry settlement, so every
    nested type is stored."""
    shape = shape_request(BookCapacity(slots=4, fills=2, expiries=2, quotes=1))
    expiry = shape.market.expiries[0].expiry
    slot = fb.BookSlot(expiry, 95_000 * fx.ONE, True, -fx.ONE)
    fill = fb.Fill(1, False, 90_000 * fx.ONE, expiry, fx.ONE // 2)
    return dataclasses.replace(shape, old_book=(slot,) + shape.old_book[1:], fills=(fill, fb.ExpirySettled(expiry)))


def test_request_json_round_trip(request_):
    assert request_from_json(request_to_json(request_)) == request_


def test_a_request_of_the_old_batch_layout_is_a_typed_error(request_):
    old = json.loads(request_to_json(request_))
    del old["kind"]
    with pytest.raises(StoredRequestUnreadable, match="fresh --db-path"):
        request_from_json(json.dumps(old))


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
