"""The book batch built in lookup mode (issue 14's range checks by lookup, on issue 10's real book).

Smallest book update that exercises the book: P = 4 slots, F = 2 fills, E = 2 expiries, no quote.
Every range check of the book circuit goes through the factory, so in lookup mode they are settled
together by one log-derivative lookup; these tests check that the book proves the same statement
as in bits mode, that lies about a position or a Greek still leave the system unsatisfied (the
lookup, not a bit decomposition, catching the out-of-range remainders), and that the committed
Groth16 proves and verifies it (keys cached by fingerprint, so a later run only loads them).
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from circuits import book_batch as bb
from circuits import book_hash as bh
from circuits.builder import ConstraintSystem
from circuits.gadgets.logup import committed_statement
from engine import fixed as fx
from engine import fixed_book as fb
from engine import fixed_quote as fq
from engine import fixed_risk as fr
from tests.circuits.adversary import wrong_values

ONE = fx.ONE
NOW, DAY = 1_700_000_000, 86_400
NEAR, FAR = NOW + 30 * DAY, NOW + 60 * DAY
NEAR_SMILE = fx.SVIFixed(fx.to_fixed(0.04), fx.to_fixed(0.1), fx.to_fixed(-0.3), 0, fx.to_fixed(0.2))
FAR_SMILE = dataclasses.replace(NEAR_SMILE, a=fx.to_fixed(0.09))
MARKET = fb.BookMarket(100 * ONE, NOW, fx.to_fixed(0.01), 0,
                       (fb.ExpirySmile(NEAR, NEAR_SMILE), fb.ExpirySmile(FAR, FAR_SMILE)))
POLICY = fq.PolicyFixed(fx.to_fixed(0.5), fx.to_fixed(0.01), fx.to_fixed(0.001), ONE, 2 * ONE)
LIMITS = fr.RiskLimitsFixed(50 * ONE, 10 * ONE, 10_000 * ONE, 100_000 * ONE)
PROVEN = fb.Fill(0, True, 100 * ONE, NEAR, -ONE)  # in the book already, proven by an earlier batch
NEW_FILLS = (fb.Fill(1, False, 90 * ONE, FAR, 2 * ONE), fb.Fill(0, True, 100 * ONE, NEAR, -ONE))


def book_update(old_book: fb.Book | None = None, fills: tuple = NEW_FILLS) -> bb.BookBatchRequest:
    """The zero-quote book batch over the vault's values (book_before and the chain from the honest book)."""
    honest_old = fb.apply_fills(fb.empty_book(4), [PROVEN])
    head = bh.fill_chain([fb.pack_fill(PROVEN)])[0]
    req = bb.book_batch_request(MARKET, honest_old, NEW_FILLS, 2, 1, head, policy=POLICY, state_salt=7,
                                limits=LIMITS, margin=ONE)
    # a lying prover keeps the vault's public values and changes only what it alone knows
    return dataclasses.replace(req, old_book=old_book or req.old_book, fills=fills)


def build(req: bb.BookBatchRequest, mode: str = "lookup", tamper=None) -> tuple[ConstraintSystem, bb.BookBatchWires]:
    cs = ConstraintSystem(range_mode=mode, tamper_hint=tamper)
    wires = bb.book_batch_circuit(cs, req)
    cs.finish()
    return cs, wires


def layout_inputs(cs: ConstraintSystem, wires: bb.BookBatchWires) -> list[int]:
    """The layout's public inputs (lookup mode's challenge, the last public signal, left out)."""
    return cs.witness()[1:1 + wires.layout.n_public_inputs]


class HintLie:
    """Each hint whose label fully matches `pattern` becomes change(value); `hits` lists the labels changed."""

    def __init__(self, pattern: str, change) -> None:
        self.pattern, self.change, self.hits = pattern, change, []

    def __call__(self, label: str, value: int) -> int:
        if re.fullmatch(self.pattern, label):
            self.hits.append(label)
            return self.change(value)
        return value


@pytest.fixture(scope="module")
def honest():
    return build(book_update())


def test_lookup_book_update_is_satisfied_and_publishes_what_bits_mode_does(honest):
    cs, wires = honest
    assert cs.is_satisfied(), cs.first_failure()
    settlement = cs.range_checker.settlement
    assert settlement is not None and settlement.n_lookup_checks > 0
    bits_cs, bits_wires = build(book_update(), "bits")
    assert bits_cs.is_satisfied(), bits_cs.first_failure()
    # the same book, mark and risk outcome, bit for bit, for far fewer constraints
    assert layout_inputs(cs, wires) == layout_inputs(bits_cs, bits_wires)
    assert wires.book.mark.value == fb.price_book(MARKET, fb.apply_fills(book_update().old_book, NEW_FILLS)).mark
    assert cs.n_constraints < bits_cs.n_constraints
    assert cs.to_r1cs().n_public == bits_cs.to_r1cs().n_public + 1  # the challenge


def test_lying_about_a_position_quantity_is_unsatisfiable_in_lookup_mode():
    old = book_update().old_book
    flat = dataclasses.replace(old[0], quantity=0)  # the old book claims the proven fill never happened
    cs, _ = build(book_update(old_book=(flat,) + old[1:]))
    failure = cs.first_failure()
    assert failure is not None and "opens_book_before" in failure.label
    smaller = dataclasses.replace(NEW_FILLS[0], dq=ONE)  # a new fill applied at half its size
    cs, _ = build(book_update(fills=(smaller, NEW_FILLS[1])))
    failure = cs.first_failure()
    assert failure is not None and "chain_to" in failure.label


@pytest.mark.parametrize("greek", ["carry_prob", "gamma", "vega"])
def test_lying_about_a_greek_is_caught_by_the_lookup(greek):
    # slot 1 (the put on the far expiry): its Greek's rounded quotient off by one ulp, or r - 1,
    # and everything after computed from the lie; the rounding's remainder leaves its range,
    # which in lookup mode only the settled lookup checks
    for change in (lambda v: v + 1, lambda v: wrong_values(v)[4]):
        lie = HintLie(rf"book/slot\[1\]/bsm/{greek}/quotient", change)
        cs, _ = build(book_update(), tamper=lie)
        assert lie.hits == [f"book/slot[1]/bsm/{greek}/quotient"]
        failure = cs.first_failure()
        assert failure is not None and failure.label.startswith("lookup/"), failure


def test_lookup_book_update_proves_and_verifies_with_the_committed_groth16():
    from prover.committed import prove_committed, verify_committed
    from prover.committed_keystore import committed_keys_for

    cs, wires = build(book_update())  # a system of its own: the prover completes its witness per challenge
    statement = committed_statement(cs)
    pk, vk, _ = committed_keys_for(statement.r1cs, statement.committed_wires, statement.blinding_wire)
    assert vk.is_development  # sigma is no ceremony's
    proof, public = prove_committed(pk, statement.witness, statement.witness_for_challenge)
    assert public[:-1] == layout_inputs(cs, wires)
    assert verify_committed(vk, public, proof)
    # the same proof for another book after the fills is refused
    book_after = [w.name for w in wires.layout.whole].index("book_after")
    forged = list(public)
    forged[book_after] = (forged[book_after] + 1) % (1 << 253)
    assert not verify_committed(vk, forged, proof)
