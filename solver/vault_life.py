"""An option's whole life through the vault, on a devnet (issue 11 item 7), with the gas of each step.

    report = run_vault_life()            # anvil when installed, else the in-process EVM
    for step in report.steps: print(step.what, step.gas)

The smallest book batch circuit (P = 4 slots, F = 2 chain records, E = 2 expiries, 1 quote), its
keys from prover.keys_for (saved by circuit fingerprint, so a second run proves without a setup):
  1. two LPs deposit;
  2. the solver proves a batch over the empty book (a call at the money) and submits it; taker A buys;
  3. the oracle moves up; the second batch proves the book with A's call, its mark and worst case,
     and quotes a put; taker B buys it;
  4. expiry passes; the oracle posts the settlement price; anyone settles the expiry;
  5. A and B claim their payoffs;
  6. a third proof (a pure book update: B's put and the settlement record) brings the proven book to
     empty and the mark to 0;
  7. both LPs redeem every share: what they get back is their deposit plus premiums minus payoffs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import prover
from circuits import book_batch as bb
from engine import fixed as fx
from engine import fixed_book as fb
from engine import fixed_quote as fq
from engine import fixed_risk as fr
from solver.settlement import (
    BookCapacity,
    ProvenBookBatch,
    Settlement,
    book_update_quotes,
    build_book_batch,
    prove_book_batch,
    quote_at_floor,
)
from verifier_contracts.devnet import Anvil, find_anvil, in_process_web3, latest_timestamp, mine_block_at
from verifier_contracts.vault import Margins, MarketSettings

CAPACITY = BookCapacity(slots=4, fills=2, expiries=2, quotes=1)
DAY = 86_400
ONE = fx.ONE
VOL = 0.6
POLICY = fq.PolicyFixed(fx.to_fixed(0.5), fx.to_fixed(0.01), fx.to_fixed(0.001), ONE, 2 * ONE)
LIMITS = fr.RiskLimitsFixed(50 * ONE, 10 * ONE, 10_000 * ONE, 100_000 * ONE)
MARKET = MarketSettings(rate=fx.to_fixed(0.01), carry=0, spot_tolerance=fx.to_fixed(0.02), iv_band=fx.to_fixed(0.1))
MARGINS = Margins(model_margin=ONE, solvency_margin=1_000)
SALT = 11
SPOTS = (100 * ONE, 103 * ONE, 112 * ONE)
"""Spot at the first batch, at the second, and at expiry (the settlement price)."""
CALL_STRIKE, PUT_STRIKE = 100 * ONE, 115 * ONE
DEPOSITS = (6_000 * 10**6, 4_000 * 10**6)
"""The two LPs' deposits, token units (6 decimals)."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class LifeStep:
    what: str
    gas: int


@dataclass(frozen=True)
class VaultLifeReport:
    steps: tuple[LifeStep, ...]
    decimals: int
    deposits: tuple[int, int]
    redeemed: tuple[int, int]
    """What each LP's shares paid back (token units)."""
    premiums: int
    """Premiums the takers paid (token units)."""
    payoffs: tuple[int, int]
    """What the call's and the put's holders claimed (token units)."""
    settlement_price: int
    """2^-48."""
    unclaimed_dust: int
    """Payoffs set aside beyond the claims: each series' owed total rounds up, each claim down."""


def smiles(now: int, expiries: tuple[int, int]) -> tuple[fb.ExpirySmile, ...]:
    """SVI smiles (b 0.1, rho -0.3, m 0, sigma 0.2) with an ATM vol of VOL at `now` on each expiry."""
    out = []
    for expiry in expiries:
        t = fx.from_fixed(fb.year_fraction(expiry, now))
        svi = fx.SVIFixed(fx.to_fixed(VOL * VOL * t - 0.1 * 0.2), fx.to_fixed(0.1), fx.to_fixed(-0.3), 0,
                          fx.to_fixed(0.2))
        out.append(fb.ExpirySmile(expiry, svi))
    return tuple(out)


def run_vault_life(progress: Progress = lambda line: None) -> VaultLifeReport:
    """Run the whole life once on a fresh devnet (see the module's notes)."""
    anvil = Anvil().start() if find_anvil() else None
    try:
        return _life(anvil.web3() if anvil else in_process_web3(), progress)
    finally:
        if anvil:
            anvil.stop()


def _life(w3, progress: Progress) -> VaultLifeReport:
    solver, lp_a, lp_b, taker_a, taker_b = w3.eth.accounts[1:6]
    steps: list[LifeStep] = []

    def step(what: str, gas: int) -> None:
        steps.append(LifeStep(what, gas))
        progress(f"{what}: {gas:,} gas")

    start = latest_timestamp(w3) + 60
    expiry = start + 30 * DAY
    expiries = (expiry, expiry + 30 * DAY)

    def request_at(settlement: Settlement, now: int, spot: int, strike: int, is_call: bool, days=expiries):
        market = fb.BookMarket(spot, now, MARKET.rate, MARKET.carry, smiles(now, days))
        book = settlement.vault_book().current
        quote = quote_at_floor(market, book, strike, 0, is_call, 2 * ONE, POLICY)
        return settlement.book_request(market.expiries, (quote,), policy=POLICY, state_salt=SALT)

    def post(settlement: Settlement, now: int, spot: int) -> int:
        mine_block_at(w3, now)
        gas = settlement.stack.oracle.post(spot, now)["gasUsed"]
        settlement.stack.iv_oracle.post(fx.to_fixed(VOL), now)
        return gas

    # The key first: the circuit's shape depends only on CAPACITY, so any request of it will do.
    progress("Groth16 keys of the smallest book batch (P=4, F=2, E=2, 1 quote)")
    empty = fb.empty_book(CAPACITY.slots)
    probe_market = fb.BookMarket(SPOTS[0], start, MARKET.rate, MARKET.carry, smiles(start, expiries))
    probe = bb.book_batch_request(probe_market, empty, (), CAPACITY.fills, 0, 0,
                                  quotes=book_update_quotes(probe_market, empty, CAPACITY.quotes, POLICY), nonce=1,
                                  policy=POLICY, state_salt=SALT, limits=LIMITS, margin=MARGINS.model_margin)
    proving_key, verifying_key, _ = prover.keys_for(build_book_batch(probe).r1cs)

    settlement = Settlement.deploy(w3, verifying_key, CAPACITY, solver=solver, first_nonce=1, limits=LIMITS,
                                   market=MARKET, margins=MARGINS)
    stack = settlement.stack
    vault, token = stack.vault, stack.token
    for account in (lp_a, lp_b, taker_a, taker_b):
        token.mint(account, 10**12)
        token.approve(vault.address, 2**256 - 1, sender=account)
    for name, lp, amount in (("LP A", lp_a, DEPOSITS[0]), ("LP B", lp_b, DEPOSITS[1])):
        step(f"deposit: {name} deposits {amount / 10**6:,.0f}", vault.deposit(amount, sender=lp)["gasUsed"])

    def prove_and_submit(request: bb.BookBatchRequest, what: str) -> ProvenBookBatch:
        progress(f"proving {what}")
        proven = prove_book_batch(proving_key, request)
        settlement.publish_state_commitment(proven)
        accepted = settlement.submit(proven)
        step(f"submitBatch: {what}", accepted.gas_used)
        return proven

    step("oracle post", post(settlement, start, SPOTS[0]))
    first = prove_and_submit(request_at(settlement, start, SPOTS[0], CALL_STRIKE, True), "batch 1 (empty book, a call)")
    call = vault.fill(first.request.nonce, 0, ONE, 2**256 - 1, sender=taker_a)
    step("fill: taker A buys 1 call (new series)", call.gas_used)

    second_time = start + 120
    post(settlement, second_time, SPOTS[1])
    prove_and_submit(request_at(settlement, second_time, SPOTS[1], PUT_STRIKE, False),
                     "batch 2 (the book with A's call, its mark; a put)")
    put = vault.fill(first.request.nonce + 1, 0, ONE, 2**256 - 1, sender=taker_b)
    step("fill: taker B buys 1 put (new series)", put.gas_used)

    settle_time = expiry + 30
    step("oracle post (settlement price)", post(settlement, settle_time, SPOTS[2]))
    index = stack.oracle.first_observation_at_or_after(expiry)
    step("settleExpiry", vault.settle_expiry(expiry, index, sender=taker_a)["gasUsed"])
    claims = []
    for name, taker, strike, is_call in (("A", taker_a, CALL_STRIKE, True), ("B", taker_b, PUT_STRIKE, False)):
        claim = vault.claim(expiry, strike, is_call, sender=taker)
        claims.append(claim.payoff)
        step(f"claim: taker {name} is paid {claim.payoff / 10**6:,.2f}", claim.gas_used)

    # A pure book update (size-0 quote) over B's put and the settlement record: the proven book is
    # empty again and the mark 0; its expiries are later ones, as every proof's must be.
    update_time = settle_time + 60
    post(settlement, update_time, SPOTS[2])
    later = (expiry + 60 * DAY, expiry + 90 * DAY)
    market = fb.BookMarket(SPOTS[2], update_time, MARKET.rate, MARKET.carry, smiles(update_time, later))
    book = settlement.vault_book().current
    quote = quote_at_floor(market, book, SPOTS[2], 0, True, 0, POLICY)
    prove_and_submit(settlement.book_request(market.expiries, (quote,), policy=POLICY, state_salt=SALT),
                     "batch 3 (book update after settlement: empty book, mark 0)")

    redeemed = []
    for name, lp in (("LP A", lp_a), ("LP B", lp_b)):
        before = token.balance_of(lp)
        receipt = vault.redeem(vault.shares(lp), sender=lp)
        redeemed.append(token.balance_of(lp) - before)
        step(f"redeem: {name} redeems every share for {redeemed[-1] / 10**6:,.2f}", receipt["gasUsed"])
    return VaultLifeReport(
        steps=tuple(steps), decimals=6, deposits=DEPOSITS, redeemed=(redeemed[0], redeemed[1]),
        premiums=call.premium + put.premium, payoffs=(claims[0], claims[1]), settlement_price=SPOTS[2],
        unclaimed_dust=vault.call("unclaimedPayoffs"),
    )
