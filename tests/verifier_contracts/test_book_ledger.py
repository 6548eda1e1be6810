"""BookLedger.sol against engine/fixed_book.py: the same records, chain heads, book and commitments.

The library runs inside BookLedgerHarness (verifier_contracts/test/utils/), compiled with
verifier_contracts' sources. Packing and the empty book's commitment are checked on the vectors
docs/real-book.md pins and on random fills; a run of fills across series and expiries must leave
exactly the book and heads engine.fixed_book computes. Every refusal (capacity, a fifth expiry,
unknown series, too many unproven fills, quantities out of range, a proof that does not open the
ledger) is checked by its error, then mined with ample gas, and the ledger's state compared before
and after: a refused call changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.logs import DISCARD

from circuits import book_hash as bh
from engine import fixed as fx
from engine import fixed_book as fb
from verifier_contracts.build import compile_sources
from verifier_contracts.client import ContractClient, ContractReverted, TransactionFailed

ONE = fx.ONE
CONTRACTS = Path(__file__).resolve().parents[2] / "verifier_contracts"
HARNESS = "test/utils/BookLedgerHarness.sol"
EXPIRY = 1_700_000_000
GAS = 3_000_000

PINNED_RECORD = 3213875705394095334611710647344601810047549505977238364881155
PINNED_HEAD = 15935959852357606896906908083708863497866994148446463112770332007285758146696
PINNED_EMPTY_BOOK_4 = 6032751096789635616315999875366561345361274904829962121803934853659457843694
"""docs/real-book.md's vectors: the record of (slot 3, call, strike 50,000, expiry 1.7e9, dq -2),
the chain head after it, and the empty 4-slot book's commitment."""


def compile_harness() -> dict[str, Any]:
    """BookLedgerHarness, BookLedger and PoseidonT3, by their source names in the Foundry project."""
    names = (HARNESS, "BookLedger.sol", "PoseidonT3.sol")
    return compile_sources({name: (CONTRACTS / name).read_text() for name in names})


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    return compile_harness()


@pytest.fixture(scope="module")
def poseidon(py_evm_web3: Web3, compiled: dict[str, Any]) -> ContractClient:
    return ContractClient.deploy_compiled(py_evm_web3, compiled["PoseidonT3"])


def deploy(w3: Web3, compiled: dict[str, Any], poseidon: ContractClient, capacity: int, fill_capacity: int):
    return ContractClient.deploy_compiled(w3, compiled["BookLedgerHarness"], poseidon.address, capacity, fill_capacity)


@dataclass(frozen=True)
class LedgerState:
    counters: tuple
    commitment: int
    heads: tuple[int, ...]
    slots: tuple[tuple, ...]
    expiries: tuple[int, ...]


def state(ledger: ContractClient) -> LedgerState:
    counters = tuple(ledger.call("counters"))
    fill_count, series_count = counters[0], counters[3]
    return LedgerState(
        counters,
        ledger.call("bookCommitment"),
        tuple(ledger.call("headAt", k) for k in range(fill_count + 2)),
        tuple(tuple(ledger.call("slotAt", j)) for j in range(series_count + 1)),
        tuple(ledger.call("liveExpiries")),
    )


def assert_refused(ledger: ContractClient, error: str, function: str, *args: Any) -> ContractReverted:
    """`function(*args)` reverts with `error` by eth_call, and mined with ample gas it fails and leaves the state as it was."""
    before = state(ledger)
    with pytest.raises(ContractReverted) as refused:
        ledger.call(function, *args)
    assert refused.value.error == error
    with pytest.raises(TransactionFailed) as failed:
        ledger.transact(function, *args, gas=GAS)
    assert failed.value.receipt["gasUsed"] < GAS  # a revert, not an exhausted gas limit
    assert state(ledger) == before
    return refused.value


def fill_args(fill: fb.Fill) -> tuple:
    return fill.expiry, fill.strike, fill.is_call, fill.dq


# ------------------------------------------------------------------ packing and the empty book


def test_pack_fill_matches_the_pinned_vector_on_both_devnets(devnet: Web3, compiled: dict[str, Any]) -> None:
    ledger = deploy(devnet, compiled, ContractClient.deploy_compiled(devnet, compiled["PoseidonT3"]), 4, 4)
    assert ledger.call("packFill", 3, True, 50_000 * ONE, EXPIRY, -2 * ONE) == PINNED_RECORD
    assert ledger.call("bookCommitment") == PINNED_EMPTY_BOOK_4
    ledger.transact("recordFill", EXPIRY, 50_000 * ONE, True, -2 * ONE)
    assert ledger.call("headAt", 1) == bh.fill_chain([ledger.call("packFill", 0, True, 50_000 * ONE, EXPIRY, -2 * ONE)])[0]


def test_pinned_head_is_the_chain_of_the_pinned_record() -> None:
    assert bh.fill_chain([PINNED_RECORD]) == [PINNED_HEAD]


fills = st.builds(
    fb.Fill,
    slot=st.integers(0, fb.MAX_SLOTS - 1),
    is_call=st.booleans(),
    strike=st.integers(fx.SPOT_MIN, fx.SPOT_MAX),
    expiry=st.integers(1, fb.EXPIRY_MAX),
    dq=st.integers(fb.QUANTITY_MIN, fb.QUANTITY_MAX),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fill=fills)
def test_pack_fill_equals_the_engines(py_evm_web3: Web3, compiled: dict[str, Any], poseidon: ContractClient,
                                      fill: fb.Fill) -> None:
    ledger = _packing_ledger(py_evm_web3, compiled, poseidon)
    assert ledger.call("packFill", fill.slot, fill.is_call, fill.strike, fill.expiry, fill.dq) == fb.pack_fill(fill)


_PACKING: dict[int, ContractClient] = {}


def _packing_ledger(w3: Web3, compiled: dict[str, Any], poseidon: ContractClient) -> ContractClient:
    if id(w3) not in _PACKING:
        _PACKING[id(w3)] = deploy(w3, compiled, poseidon, 1, 1)
    return _PACKING[id(w3)]


@pytest.mark.parametrize("capacity", [1, 4, 16])
def test_initial_commitment_is_the_empty_books(py_evm_web3: Web3, compiled: dict[str, Any],
                                               poseidon: ContractClient, capacity: int) -> None:
    ledger = deploy(py_evm_web3, compiled, poseidon, capacity, 8)
    assert ledger.call("bookCommitment") == bh.book_commitment(fb.empty_book(capacity))
    assert tuple(ledger.call("counters")) == (0, 0, capacity, 0, 8, 0)


@pytest.mark.parametrize(("capacity", "fill_capacity"), [(0, 4), (257, 4), (4, 0), (4, 2**32)])
def test_constructor_refuses_capacities_the_circuit_cannot_take(py_evm_web3: Web3, compiled: dict[str, Any],
                                                                poseidon: ContractClient, capacity: int,
                                                                fill_capacity: int) -> None:
    with pytest.raises(ContractReverted) as refused:
        deploy(py_evm_web3, compiled, poseidon, capacity, fill_capacity)
    assert refused.value.error == "BookCapacityInvalid"
    assert refused.value.values == {"capacity": capacity, "fillCapacity": fill_capacity}


# ------------------------------------------------------------------ fills


def test_fills_build_the_engines_book_and_chain(py_evm_web3: Web3, compiled: dict[str, Any],
                                                poseidon: ContractClient) -> None:
    rng = random.Random(7)
    capacity = 8
    ledger = deploy(py_evm_web3, compiled, poseidon, capacity, 64)
    series = [(EXPIRY + 86_400 * rng.randrange(4), rng.randrange(1_000, 90_000) * ONE, rng.random() < 0.5)
              for _ in range(capacity)]
    slots: dict[tuple, int] = {}
    records, book = [], fb.empty_book(capacity)
    for _ in range(30):
        expiry, strike, is_call = rng.choice(series)
        dq = rng.choice([-1, 1]) * rng.randrange(1, 50 * ONE)
        slot = slots.setdefault((expiry, strike, is_call), len(slots))
        fill = fb.Fill(slot, is_call, strike, expiry, dq)
        receipt = ledger.transact("recordFill", *fill_args(fill))
        assert receipt["status"] == 1
        records.append(fb.pack_fill(fill))
        book = fb.apply_fill(book, fill)
    heads = bh.fill_chain(records)
    assert [ledger.call("headAt", k + 1) for k in range(len(records))] == heads
    for j, slot in enumerate(book):
        assert tuple(ledger.call("slotAt", j)) == (slot.expiry, slot.strike, slot.is_call, slot.quantity)
    for (expiry, strike, is_call), j in slots.items():
        assert ledger.call("slotOf", expiry, strike, is_call) == j
    assert sorted(ledger.call("liveExpiries")) == sorted({s[0] for s in slots})
    # A proof that applied all 30 fills: the commitment it would publish is the engine's.
    after = bh.book_commitment(book)
    ledger.transact("proveBook", ledger.call("bookCommitment"), 0, heads[-1], 0, 30, after)
    assert ledger.call("bookCommitment") == after
    assert ledger.call("counters")[:2] == (30, 30)


def test_fill_event_carries_record_and_head(py_evm_web3: Web3, compiled: dict[str, Any],
                                            poseidon: ContractClient) -> None:
    ledger = deploy(py_evm_web3, compiled, poseidon, 4, 4)
    receipt = ledger.transact("recordFill", EXPIRY, 50_000 * ONE, True, -2 * ONE)
    # each event's reader skips the receipt's other event (DISCARD: not a warning)
    opened = ledger.contract.events.SeriesOpened().process_receipt(receipt, errors=DISCARD)
    recorded = ledger.contract.events.FillRecorded().process_receipt(receipt, errors=DISCARD)
    assert [dict(e["args"]) for e in opened] == [
        {"slot": 0, "expiry": EXPIRY, "strike": 50_000 * ONE, "isCall": True}]
    record = fb.pack_fill(fb.Fill(0, True, 50_000 * ONE, EXPIRY, -2 * ONE))
    assert [dict(e["args"]) for e in recorded] == [
        {"index": 0, "slot": 0, "dq": -2 * ONE, "position": -2 * ONE, "record": record,
         "head": bh.fill_chain([record])[0]}]


def test_a_series_beyond_capacity_is_refused(py_evm_web3: Web3, compiled: dict[str, Any],
                                             poseidon: ContractClient) -> None:
    ledger = deploy(py_evm_web3, compiled, poseidon, 2, 16)
    ledger.transact("recordFill", EXPIRY, 100 * ONE, True, ONE)
    ledger.transact("recordFill", EXPIRY, 110 * ONE, True, ONE)
    refused = assert_refused(ledger, "BookFull", "recordFill", EXPIRY, 120 * ONE, True, ONE)
    assert refused.values == {"capacity": 2}
    ledger.transact("recordFill", EXPIRY, 110 * ONE, True, ONE)  # a known series still trades


def test_a_fifth_expiry_is_refused(py_evm_web3: Web3, compiled: dict[str, Any], poseidon: ContractClient) -> None:
    ledger = deploy(py_evm_web3, compiled, poseidon, 16, 16)
    for e in range(4):
        ledger.transact("recordFill", EXPIRY + e, 100 * ONE, False, ONE)
    ledger.transact("recordFill", EXPIRY + 3, 200 * ONE, True, ONE)  # a new series of a live expiry
    refused = assert_refused(ledger, "TooManyExpiries", "recordFill", EXPIRY + 4, 100 * ONE, False, ONE)
    assert refused.values == {"expiry": EXPIRY + 4, "maxExpiries": 4}
    assert ledger.call("liveExpiries") == [EXPIRY + e for e in range(4)]


def test_an_unknown_series_has_no_slot(py_evm_web3: Web3, compiled: dict[str, Any], poseidon: ContractClient) -> None:
    ledger = deploy(py_evm_web3, compiled, poseidon, 4, 4)
    ledger.transact("recordFill", EXPIRY, 100 * ONE, True, ONE)
    with pytest.raises(ContractReverted) as refused:
        ledger.call("slotOf", EXPIRY, 100 * ONE, False)
    assert refused.value.error == "UnknownSeries"
    assert refused.value.values == {"expiry": EXPIRY, "strike": 100 * ONE, "isCall": False}


def test_fills_beyond_the_circuits_capacity_wait_for_a_proof(py_evm_web3: Web3, compiled: dict[str, Any],
                                                             poseidon: ContractClient) -> None:
    ledger = deploy(py_evm_web3, compiled, poseidon, 4, 3)
    records = []
    for i in range(3):
        ledger.transact("recordFill", EXPIRY, 100 * ONE, True, ONE)
        records.append(fb.pack_fill(fb.Fill(0, True, 100 * ONE, EXPIRY, ONE)))
    refused = assert_refused(ledger, "FillCapacityReached", "recordFill", EXPIRY, 100 * ONE, True, ONE)
    assert refused.values == {"unproven": 3, "fillCapacity": 3}
    # A proof of the first two fills frees two places.
    book = fb.apply_fills(fb.empty_book(4), [fb.unpack_fill(r) for r in records[:2]])
    heads = bh.fill_chain(records)
    ledger.transact("proveBook", ledger.call("bookCommitment"), 0, heads[1], 0, 2, bh.book_commitment(book))
    ledger.transact("recordFill", EXPIRY, 100 * ONE, True, ONE)
    ledger.transact("recordFill", EXPIRY, 100 * ONE, True, ONE)
    assert_refused(ledger, "FillCapacityReached", "recordFill", EXPIRY, 100 * ONE, True, ONE)


@pytest.mark.parametrize("dq", [0, fb.QUANTITY_MAX + 1, fb.QUANTITY_MIN - 1])
def test_a_fill_quantity_outside_its_field_is_refused(py_evm_web3: Web3, compiled: dict[str, Any],
                                                      poseidon: ContractClient, dq: int) -> None:
    ledger = deploy(py_evm_web3, compiled, poseidon, 4, 4)
    refused = assert_refused(ledger, "FillQuantityOutOfRange", "recordFill", EXPIRY, 100 * ONE, True, dq)
    assert refused.values == {"dq": dq}


def test_a_position_leaving_its_range_is_refused(py_evm_web3: Web3, compiled: dict[str, Any],
                                                 poseidon: ContractClient) -> None:
    ledger = deploy(py_evm_web3, compiled, poseidon, 4, 8)
    ledger.transact("recordFill", EXPIRY, 100 * ONE, True, fb.QUANTITY_MIN)
    refused = assert_refused(ledger, "PositionOutOfRange", "recordFill", EXPIRY, 100 * ONE, True, -1)
    assert refused.values == {"slot": 0, "quantity": fb.QUANTITY_MIN - 1}
    ledger.transact("recordFill", EXPIRY, 100 * ONE, True, fb.QUANTITY_MAX)
    assert ledger.call("slotAt", 0)[3] == -1


@pytest.mark.parametrize(("expiry", "strike"), [
    (0, 100 * ONE), (2**40, 100 * ONE), (EXPIRY, fx.SPOT_MIN - 1), (EXPIRY, fx.SPOT_MAX + 1)])
def test_a_series_outside_the_record_is_refused(py_evm_web3: Web3, compiled: dict[str, Any],
                                                poseidon: ContractClient, expiry: int, strike: int) -> None:
    ledger = deploy(py_evm_web3, compiled, poseidon, 4, 4)
    refused = assert_refused(ledger, "SeriesOutOfRange", "recordFill", expiry, strike, True, ONE)
    assert refused.values == {"expiry": expiry, "strike": strike}


# ------------------------------------------------------------------ proofs against the ledger


@pytest.fixture
def filled(py_evm_web3: Web3, compiled: dict[str, Any], poseidon: ContractClient):
    """A 4-slot ledger with three fills, none proven; (ledger, heads, commitment before)."""
    ledger = deploy(py_evm_web3, compiled, poseidon, 4, 8)
    fills = [fb.Fill(0, True, 100 * ONE, EXPIRY, -ONE), fb.Fill(1, False, 90 * ONE, EXPIRY, 2 * ONE),
             fb.Fill(0, True, 100 * ONE, EXPIRY, ONE)]
    for fill in fills:
        ledger.transact("recordFill", *fill_args(fill))
    return ledger, [0, *bh.fill_chain(fb.pack_fill(f) for f in fills)], ledger.call("bookCommitment")


def test_a_proof_made_at_k_stays_valid_while_fills_arrive(filled) -> None:
    ledger, heads, before = filled
    ledger.transact("recordFill", EXPIRY, 100 * ONE, True, ONE)  # a fourth fill after the proof's k = 2
    ledger.transact("proveBook", before, heads[0], heads[2], 0, 2, 12345)
    assert ledger.call("bookCommitment") == 12345
    assert ledger.call("counters")[:2] == (4, 2)
    ledger.transact("proveBook", 12345, heads[2], ledger.call("headAt", 4), 2, 4, 678)
    assert ledger.call("counters")[:2] == (4, 4)


@pytest.mark.parametrize(("change", "error"), [
    ({"book_before": 1}, "BookCommitmentMismatch"),
    ({"chain_from": 1}, "ChainHeadMismatch"),
    ({"chain_to": 1}, "ChainHeadMismatch"),
    ({"fills_from": 1, "chain_from": "head"}, "FillRangeInvalid"),
    ({"fills_to": 4, "chain_to": 0}, "FillRangeInvalid"),
])
def test_a_proof_that_does_not_open_the_ledger_is_refused(filled, change: dict, error: str) -> None:
    ledger, heads, before = filled
    statement = {"book_before": before, "chain_from": heads[0], "chain_to": heads[3], "fills_from": 0, "fills_to": 3}
    statement.update(change)
    if statement["chain_from"] == "head":
        statement["chain_from"] = heads[statement["fills_from"]]
    args = [statement[k] for k in ("book_before", "chain_from", "chain_to", "fills_from", "fills_to")]
    assert_refused(ledger, error, "proveBook", *args, 999)


def test_a_proof_cannot_go_back(filled) -> None:
    ledger, heads, before = filled
    ledger.transact("proveBook", before, heads[0], heads[2], 0, 2, 555)
    refused = assert_refused(ledger, "FillRangeInvalid", "proveBook", 555, heads[2], heads[1], 2, 1, 999)
    assert refused.values == {"fillsFrom": 2, "fillsTo": 1, "provenFills": 2, "fillCount": 3}
