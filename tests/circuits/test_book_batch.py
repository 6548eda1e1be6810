"""The book batch (circuits/book_batch.py): the proof is about the vault's book or it does not exist.

Smallest capacities that exercise each case: P = 4 slots, F = 2 fills, E = 2 expiries, one quote.
Each attack is a malicious prover's witness (a request that lies about private data, or a
rebuild with hints replaced, as tests/circuits/adversary.py does) against the vault's public
values; each must leave the R1CS unsatisfied. Every case has its honest twin.
"""

from __future__ import annotations

import dataclasses
import itertools
import re

import pytest

from circuits import book_batch as bb
from circuits import book_hash as bh
from circuits import merkle
from circuits.builder import ConstraintSystem
from engine import fixed as fx
from engine import fixed_book as fb
from engine import fixed_quote as fq
from engine import fixed_risk as fr
from tests.circuits.adversary import wrong_values

ONE = fx.ONE
NOW, DAY = 1_700_000_000, 86_400
E0, E1 = NOW + 30 * DAY, NOW + 60 * DAY
SMILE = fx.SVIFixed(fx.to_fixed(0.04), fx.to_fixed(0.1), fx.to_fixed(-0.3), 0, fx.to_fixed(0.2))
RICH = dataclasses.replace(SMILE, a=fx.to_fixed(0.09))  # the second expiry's own, richer smile
MARKET = fb.BookMarket(100 * ONE, NOW, fx.to_fixed(0.01), 0, (fb.ExpirySmile(E0, SMILE), fb.ExpirySmile(E1, RICH)))
POLICY = fq.PolicyFixed(fx.to_fixed(0.5), fx.to_fixed(0.01), fx.to_fixed(0.001), ONE, 2 * ONE)
LIMITS = fr.RiskLimitsFixed(50 * ONE, 10 * ONE, 10_000 * ONE, 100_000 * ONE)
FIRST = fb.Fill(0, True, 100 * ONE, E0, -ONE)  # proven by an earlier batch
FILLS = (fb.Fill(1, False, 90 * ONE, E1, 2 * ONE), fb.Fill(0, True, 100 * ONE, E0, -ONE))
QUOTE = fb.QuoteOrder(110 * ONE, 1, True, 5 * ONE, 3 * ONE)


def request(quotes=(QUOTE,), limits=LIMITS) -> bb.BookBatchRequest:
    old = fb.apply_fills(fb.empty_book(4), [FIRST])
    head = bh.fill_chain([fb.pack_fill(FIRST)])[0]
    return bb.book_batch_request(MARKET, old, FILLS, 2, 1, head, quotes=quotes, policy=POLICY, state_salt=7,
                                 limits=limits, margin=ONE)


def build(req: bb.BookBatchRequest, tamper=None) -> tuple[ConstraintSystem, bb.BookBatchWires]:
    cs = ConstraintSystem(tamper_hint=tamper)
    return cs, bb.book_batch_circuit(cs, req)


def public_fields(cs: ConstraintSystem, wires: bb.BookBatchWires) -> dict[str, int]:
    layout = wires.layout
    public = cs.witness()[1:1 + layout.n_public_inputs]
    return {**{w.name: v for w, v in zip(layout.whole, public)}, **layout.unpack(public[len(layout.whole):])}


def wire_labelled(cs: ConstraintSystem, label: str) -> int:
    (wire,) = [w for w in range(len(cs.values)) if cs.wire_label(w) == label]
    return wire


def satisfied_with(cs: ConstraintSystem, label: str, value: int) -> bool:
    """Whether the honest witness with the wire `label` set to `value` still satisfies the system."""
    values = list(cs.values)
    values[wire_labelled(cs, label)] = value
    return cs.is_satisfied(values)


@pytest.fixture(scope="module")
def honest():
    req = request()
    cs, wires = build(req)
    return req, cs, wires


def test_honest_batch_proves_the_engines_book(honest):
    req, cs, wires = honest
    assert cs.is_satisfied(), cs.first_failure()
    book = fb.apply_fills(req.old_book, req.fills)
    pricing = fb.price_book(MARKET, book)
    report = fb.book_risk_report(pricing, [(QUOTE, fb.quote_bsm(MARKET, QUOTE))], LIMITS, MARKET.spot, ONE)
    got = public_fields(cs, wires)
    assert got["book_before"] == bh.book_commitment(req.old_book)
    assert got["book_after"] == bh.book_commitment(book)
    assert (got["chain_to"], got["fills_from"], got["fills_to"]) == (req.chain_to, 1, 3)
    assert got["mark"] == pricing.mark and got["worst_loss"] == report.worst_loss > 0
    assert got["risk_ok"] == 1 and report.risk_ok
    assert wires.book.net_vega.value == pricing.net_vega
    assert [got[f"expiry{e}_atm_variance"] for e in range(2)] == [fb.atm_total_variance(s) for s in (SMILE, RICH)]
    quote = fq.quote_fixed(MARKET.spot, QUOTE.strike, MARKET.terms(1), RICH, True, POLICY, pricing.net_vega, False,
                           QUOTE.half_spread)
    # the quotes are not public inputs: their elements hash to quotes_root
    elements = bb.quote_elements(MARKET, req.quotes)
    assert got["quotes_root"] == bb.quotes_root(elements) == elements[0]  # depth 0: the root is the element
    fields = wires.layout.tree("quote").unpack(elements)
    assert fields["quote0_mid"] == quote.bsm.price
    assert fields["quote0_size_units"] << fb.SIZE_GRID_BITS == QUOTE.size
    assert fx.SPOT_MIN + (fields["quote0_strike_units"] << fb.STRIKE_GRID_BITS) == QUOTE.strike
    assert got["quoted"] == 1
    assert wires.layout.n_public_inputs == 6 + 11  # whole; market, regime, 2 expiries × 2, risk × 3, outcome × 2


def test_book_update_with_breached_limits_stays_provable():
    tight = fr.RiskLimitsFixed(0, 0, 0, 0)
    cs, wires = build(request(quotes=(), limits=tight))
    assert cs.is_satisfied(), cs.first_failure()
    assert wires.risk.risk_ok.value == 0
    assert public_fields(cs, wires)["quotes_root"] == 0 and wires.quoted.value == 0  # one padding leaf


THREE_QUOTES = (QUOTE, fb.QuoteOrder(90 * ONE, 0, False, 4 * ONE, ONE), fb.QuoteOrder(100 * ONE, 1, True, 5 * ONE, 0))


@pytest.fixture(scope="module")
def three_quotes():
    """Three quotes: a tree of depth 2 whose fourth leaf is padding."""
    req = request(quotes=THREE_QUOTES)
    cs, wires = build(req)
    return req, cs, wires


def test_quotes_root_is_the_merkle_root_of_the_quote_elements(three_quotes):
    req, cs, wires = three_quotes
    assert cs.is_satisfied(), cs.first_failure()
    elements = bb.quote_elements(MARKET, req.quotes)
    tree = wires.layout.tree("quote")
    assert (tree.depth, tree.count, len(elements)) == (2, 3, 3)
    root = public_fields(cs, wires)["quotes_root"]
    assert root == merkle.merkle_root(elements, 2)
    for i, element in enumerate(elements):
        assert merkle.root_from_path(element, i, merkle.merkle_path(elements, 2, i)) == root
    assert wires.layout.n_public_inputs == 6 + 11  # as with one quote: the count does not grow
    assert [tree.unpack(elements)[f"quote{i}_size_units"] << fb.SIZE_GRID_BITS for i in range(3)] == [
        q.size for q in THREE_QUOTES]


def test_a_root_over_other_quotes_is_unsatisfiable(three_quotes):
    req, cs, wires = three_quotes
    elements = bb.quote_elements(MARKET, req.quotes)
    fields = wires.layout.tree("quote").unpack(elements)
    honest = merkle.merkle_root(elements, 2)
    assert satisfied_with(cs, "commitments/quotes_root", honest)
    # a tampered leaf: quote 1 published with a wider half spread, a larger size, or its element + 1
    tampered = [wires.layout.tree("quote").pack({**fields, "quote1_half_spread": fields["quote1_half_spread"] + 1}),
                wires.layout.tree("quote").pack({**fields, "quote1_size_units": fields["quote1_size_units"] * 2}),
                [elements[0], elements[1] + 1, elements[2]]]
    for leaves in tampered:
        assert not satisfied_with(cs, "commitments/quotes_root", merkle.merkle_root(leaves, 2))
    # a wrong padding leaf: a fourth quote where the tree holds 0 (a copy of quote 0, or 1)
    for padding in (elements[0], 1):
        assert not satisfied_with(cs, "commitments/quotes_root", merkle.merkle_root(elements + [padding], 2))
    # leaves in another order, a shallower or deeper tree, and any other root
    assert not satisfied_with(cs, "commitments/quotes_root", merkle.merkle_root(elements[::-1], 2))
    for depth in (1, 3):
        padded = elements if depth == 3 else elements[:2]
        assert not satisfied_with(cs, "commitments/quotes_root", merkle.merkle_root(padded, depth))
    for bad in wrong_values(honest):
        assert not satisfied_with(cs, "commitments/quotes_root", bad)


def test_a_wrong_quoted_flag_is_unsatisfiable(three_quotes):
    _, cs, wires = three_quotes
    (p,) = wires.quoted.terms  # quoted = p = x·inverse with x = the sum of the sizes (> 0)
    assert wires.quoted.value == 1
    for bad in wrong_values(1):
        assert not satisfied_with(cs, cs.wire_label(p), bad)
    # the prover's only freedom, the inverse hint, cannot bring it to 0 either
    for change in (lambda v: 0, lambda v: v + 1):
        tamper = _Tamper({r"quoted/is_zero/inverse": change})
        tampered, _ = build(request(quotes=THREE_QUOTES), tamper)
        assert tamper.hits == ["quoted/is_zero/inverse"] and not tampered.is_satisfied()


def test_quotes_of_size_zero_make_a_book_update_and_cannot_claim_quoted():
    unsized = tuple(dataclasses.replace(q, size=0) for q in (QUOTE, THREE_QUOTES[1]))
    cs, wires = build(request(quotes=unsized))
    assert cs.is_satisfied(), cs.first_failure()
    assert public_fields(cs, wires)["quoted"] == 0
    (p,) = wires.quoted.terms
    assert not satisfied_with(cs, cs.wire_label(p), 1)


def test_omitting_a_fill_is_unsatisfiable():
    req = request()
    # the vault's fills_to and chain_to cover both fills; the prover applies only the first
    cs, _ = build(dataclasses.replace(req, fills=req.fills[:1]))
    assert not cs.is_satisfied()
    # honest twin: a proof that stops at the first fill publishes that head and index
    partial = dataclasses.replace(req, fills=req.fills[:1], fills_to=2,
                                  chain_to=bh.fill_chain([fb.pack_fill(req.fills[0])], req.chain_from)[0])
    cs, _ = build(partial)
    assert cs.is_satisfied(), cs.first_failure()


def test_altering_a_quantity_is_unsatisfiable():
    req = request()
    smaller = dataclasses.replace(req.fills[0], dq=ONE)
    cs, _ = build(dataclasses.replace(req, fills=(smaller, req.fills[1])))
    assert not cs.is_satisfied()
    flat = fb.BookSlot(E0, 100 * ONE, True, 0)  # the old book claims the first fill never happened
    cs, _ = build(dataclasses.replace(req, old_book=(flat,) + req.old_book[1:]))
    assert not cs.is_satisfied()


class _Tamper:
    """A hint tamperer: each hint whose label matches a pattern gets rules[pattern](value); `hits`
    records the labels changed, so a test knows its lie was told."""

    def __init__(self, rules: dict) -> None:
        self.rules, self.hits = rules, []

    def __call__(self, label: str, value: int) -> int:
        for pattern, change in self.rules.items():
            if re.fullmatch(pattern, label):
                self.hits.append(label)
                return change(value)
        return value


@pytest.mark.parametrize("greek", ["carry_prob", "gamma", "vega"])
def test_altering_a_greek_is_unsatisfiable(greek):
    # slot 1 (the put on the second expiry): its Greek's rounded quotient is off by one ulp (and by
    # r - 1), everything after it computed from the lie
    for change in (lambda v: v + 1, lambda v: wrong_values(v)[4]):
        tamper = _Tamper({rf"book/slot\[1\]/bsm/{greek}/quotient": change})
        cs, _ = build(request(), tamper)
        assert tamper.hits == [f"book/slot[1]/bsm/{greek}/quotient"]
        assert not cs.is_satisfied()


def test_pricing_with_another_expirys_smile_is_unsatisfiable(honest):
    # slot 1 lives on the second expiry; the prover selects the first's smile and terms
    swap = {r"book/slot\[1\]/expiry_is\[0\]": lambda v: 1, r"book/slot\[1\]/expiry_is\[1\]": lambda v: 0}
    cs, wires = build(request(), _Tamper(swap))
    assert wires.book.mark.value != honest[2].book.mark.value  # the lie would move the mark
    failure = cs.first_failure()
    assert failure is not None and "own_expiry" in str(failure)


def _decisive_bit(cs: ConstraintSystem, limit: str) -> str:
    prefix = f"risk/limits/{limit}/less_than/bits/bit"
    return max((cs.wire_label(h) for h in cs.hint_wires() if cs.wire_label(h).startswith(prefix)),
               key=lambda label: int(label[len(prefix):]))


def test_quote_sizes_whose_worst_case_breaks_a_limit_give_risk_ok_0_and_cannot_force_1():
    big = dataclasses.replace(QUOTE, size=20_000 * ONE)
    req = request(quotes=(big,))
    cs, wires = build(req)
    assert cs.is_satisfied(), cs.first_failure()
    report = fb.book_risk_report(fb.price_book(MARKET, fb.apply_fills(req.old_book, req.fills)),
                                 [(big, fb.quote_bsm(MARKET, big))], LIMITS, MARKET.spot, ONE)
    assert not report.risk_ok and {"delta", "scenario_loss"} <= set(report.breaches)
    assert wires.risk.risk_ok.value == 0
    assert wires.risk.worst_loss.value == report.worst_loss
    # forcing risk_ok = 1: every breached comparison's decisive bit flipped at once
    flips = {re.escape(_decisive_bit(cs, limit)): (lambda v: 1 - v) for limit in ("delta", "gamma", "vega", "loss")}
    forced_cs, forced = build(req, _Tamper(flips))
    assert forced.risk.risk_ok.value == 1
    assert not forced_cs.is_satisfied()


def test_worst_loss_is_the_maximum_not_a_smaller_row(honest):
    _, cs, wires = honest
    rows = [r.value for r in wires.risk.rows]
    top = rows.index(max(rows))
    lower = min(range(len(rows)), key=lambda s: rows[s])
    swap = {rf"risk/worst_loss/is_row\[{top}\]": lambda v: 0, rf"risk/worst_loss/is_row\[{lower}\]": lambda v: 1}
    tampered, forged = build(request(), _Tamper(swap))
    assert forged.risk.worst_loss.value != wires.risk.worst_loss.value
    assert not tampered.is_satisfied()


def test_capacity_and_layout_width():
    req = request()
    with pytest.raises(Exception, match="takes 1"):
        build(dataclasses.replace(req, fill_capacity=1))
    layout = bb.book_batch_layout(4, 3)
    assert all(s.offset + s.bits <= 253 for s in layout.slots)
    tree = layout.tree("quote")
    assert not any(s.group == "quote" for s in layout.slots)  # hashed: no quote is a public input
    assert {s.element for s in tree.slots} == {0, 1, 2}  # one leaf per quote, size included
    assert sum(s.bits for s in tree.slots if s.index == 0) == 253
    assert (tree.root, tree.depth) == ("quotes_root", 2)
    assert list(itertools.islice((w.name for w in layout.whole), 6)) == [
        "state_commitment", "book_before", "chain_from", "chain_to", "book_after", "quotes_root"]
    assert bb.book_batch_layout(4, 64).n_public_inputs == bb.book_batch_layout(4, 1).n_public_inputs
