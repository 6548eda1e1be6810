"""The demo job: price an option chain on the float64 fast path and on the fixed-point
reference (what the circuits prove), and show how far apart they are; then prove book batches in
lookup mode (Groth16 with a commitment, development keys) and settle them through a QuoteVault on
a devnet (run_proven_batch), with both range-check modes' constraint counts of the same batch."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from engine import fixed as fx
from engine.bsm import bsm_greeks
from solver.kernels import compile_kernels
from solver.progress import Progress

DAY = 1.0 / 365.0


@dataclass(frozen=True)
class ChainRow:
    expiry_days: float
    strike: float
    is_call: bool
    vol: float
    float_price: float
    fixed_price: float
    delta: float
    gamma: float
    vega: float

    @property
    def error(self) -> float:
        return abs(self.fixed_price - self.float_price)


@dataclass(frozen=True)
class ChainReport:
    spot: float
    rows: list[ChainRow]
    float_seconds: float
    fixed_seconds: float

    @property
    def worst_error_over_spot(self) -> float:
        return max(r.error for r in self.rows) / self.spot


def demo_chain(spot: float = 95_000.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A BTC-like chain: 5 expiries x 7 strikes, out-of-the-money side quoted (puts below spot).

    Vols follow a downward skew and a term structure typical of BTC options (illustrative
    inputs, not market data)."""
    expiries = np.array([1, 7, 30, 90, 180]) * DAY
    moneyness = np.array([0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2])
    t, m = np.meshgrid(expiries, moneyness, indexing="ij")
    strikes = np.round(spot * m / 500.0) * 500.0
    atm = 0.55 + 0.08 * np.sqrt(t)  # upward-sloping term structure
    vols = atm - 0.25 * np.log(m) / np.sqrt(1.0 + 4.0 * t)  # put skew, flattening with t
    return t.ravel(), strikes.ravel(), vols.ravel(), (strikes >= spot).ravel()


def price_chain(spot: float = 95_000.0, rate: float = 0.04, carry: float = 0.0) -> ChainReport:
    t, strikes, vols, is_call = demo_chain(spot)
    bsm_greeks(spot, strikes, t, rate, vols, is_call, carry=carry)  # load the compiled kernels first
    start = time.perf_counter()
    g = bsm_greeks(spot, strikes, t, rate, vols, is_call, carry=carry)
    float_seconds = time.perf_counter() - start

    start = time.perf_counter()
    fixed = [
        fx.bsm_fixed(*(fx.to_fixed(x) for x in (spot, k, tt, rate, v)), bool(c), carry=fx.to_fixed(carry))
        for tt, k, v, c in zip(t, strikes, vols, is_call)
    ]
    fixed_seconds = time.perf_counter() - start

    rows = [
        ChainRow(tt / DAY, k, bool(c), v, float(p), fx.from_fixed(f.price), float(d), float(gm), float(vg))
        for tt, k, v, c, p, d, gm, vg, f in zip(t, strikes, vols, is_call, g.price, g.delta, g.gamma, g.vega, fixed)
    ]
    return ChainReport(spot, rows, float_seconds, fixed_seconds)


@dataclass(frozen=True)
class ProvenBatchReport:
    """What the end-to-end job measured: circuit size, proof costs, gas, and the float path's latency."""

    quotes: int
    constraints: int
    """Constraints of the circuit proven (in `mode`)."""
    public_inputs: int
    backend: str
    devnet: str
    witness_seconds: float
    setup_seconds: float
    key_reused: bool  # True: the key saved for this circuit was loaded (setup_seconds is the loading)
    prove_seconds: float
    verify_seconds: float
    proof_bytes: int
    gas: dict[str, int]
    fast_path_seconds: float
    onchain_quotes: list[tuple[float, bool, float, float]]  # strike, is_call, bid, ask as the vault stored them
    filled_premium: float
    fills_proven: int = 0
    """Fills of the first batch that the second batch's proof applied to the vault's book."""
    book_commitment: str = ""
    """The vault's book commitment after the second batch (hex)."""
    mark: float = 0.0
    """The proven mark of the vault's book after the second batch (quote currency; short is negative)."""
    worst_loss: float = 0.0
    """The second batch's proven worst-case scenario loss with its quotes filled the worst way."""
    life: object | None = None
    """solver.vault_life.VaultLifeReport: an option's whole life through the vault, each step's gas."""
    mode: str = "bits"
    """The range-check mode proven: "lookup" (Groth16 with a commitment, development keys) or "bits"."""
    bits_constraints: int = 0
    """The same first batch built in bits mode: its constraint count."""
    lookup_constraints: int = 0
    """The same first batch built in lookup mode: its constraint count."""
    other_mode_seconds: float = 0.0
    """What building the first batch in the other mode (for its count) cost."""
    development_keys: bool = True
    """The keys are a development setup's (lookup mode's always are: the commitment key's sigma is no ceremony's)."""
    submit_calldata_bytes: int = 0
    """The first batch's submit transaction's calldata (selector and ABI-encoded arguments)."""


def fast_path_quotes(request, repeats: int = 20) -> float:
    """Seconds for the float64 path to price the same quotes (SVI vol, price and Greeks, spread floor)."""
    from engine.quoting import QuotePolicy, min_half_spread
    from engine.svi import SviParams

    spot, t, rate = fx.from_fixed(request.spot), fx.from_fixed(request.t), fx.from_fixed(request.rate)
    svi = SviParams(*(fx.from_fixed(getattr(request.svi, n)) for n in ("a", "b", "rho", "m", "sigma")))
    strikes = np.array([fx.from_fixed(q.strike) for q in request.quotes])
    is_call = np.array([q.is_call for q in request.quotes])
    policy = QuotePolicy()

    def once():
        k = np.log(strikes / spot) - rate * t
        vol = np.sqrt(svi.total_variance(k) / t)
        g = bsm_greeks(spot, strikes, t, rate, vol, is_call)
        return min_half_spread(policy, g.gamma, g.vega, fx.from_fixed(request.net_vega), 1.0, spot)

    once()
    start = time.perf_counter()
    for _ in range(repeats):
        once()
    return (time.perf_counter() - start) / repeats


def _book_expiries(request, oracle_time: int, expiry_seconds: int):
    """The batch's expiry with its smile, and a second one 30 days later whose smile keeps the same
    ATM vol (SVI a raised by the ATM variance the extra time adds), so both sit in the vault's band."""
    from engine import fixed_book as fb

    first = oracle_time + expiry_seconds
    second = first + 30 * 86_400
    t_first, t_second = fb.year_fraction(first, oracle_time), fb.year_fraction(second, oracle_time)
    w_first = fb.atm_total_variance(request.svi)
    extra = w_first * (t_second - t_first) // t_first
    later = dataclasses.replace(request.svi, a=request.svi.a + extra)
    return (fb.ExpirySmile(first, request.svi), fb.ExpirySmile(second, later)), fx.sqrt(fx.div(w_first, t_first))


PLAIN_PROOF_BYTES = 256
"""A Groth16 proof: A and C in G1 (2 x 32 bytes each), B in G2 (4 x 32 bytes), uncompressed."""
COMMITTED_PROOF_BYTES = PLAIN_PROOF_BYTES + 2 * 64
"""A committed one adds the commitment D and its proof of knowledge P, two G1 points (the challenge is a public input)."""


def run_proven_batch(n_quotes: int = 4, progress: Progress = lambda step, fraction=None: None,
                     mode: str = "lookup") -> ProvenBatchReport:
    """The main job: on a local devnet (anvil, or the in-process EVM without it) deploy the vault
    stack; prove a batch of n quotes over the vault's (empty) book and the pipeline's smile, verify
    it in Python and submit it; a taker buys one contract; then prove the next batch over the book
    that includes that fill, and submit it: the vault's book, mark and worst case are now proven.

    mode "lookup" (the default) settles the range checks by one log-derivative lookup and proves
    with Groth16 and a commitment, under development keys (the commitment key's sigma is no
    ceremony's), to a vault deployed with the committed verifier; "bits" proves plain Groth16. The
    same first batch is also built in the other mode, for its constraint count.

    The kernels are loaded (or compiled, reported on a line of its own) before anything is timed;
    the proving key is the one saved for this circuit when there is one (settlement.book_batch_keys)."""
    from circuits.book_batch import book_batch_circuit, book_batch_request
    from circuits.builder import ConstraintSystem, RangeCheckMode
    from engine import fixed_book as fb
    from prover.backends import backend_names
    from solver.feeds.simulated import simulated_batch_request
    from solver.settlement import (
        BookCapacity,
        Settlement,
        book_batch_keys,
        build_book_batch,
        prove_book_batch,
        quote_at_floor,
        verify_book_batch,
    )
    from verifier_contracts.devnet import Anvil, find_anvil, in_process_web3, latest_timestamp, mine_block_at
    from verifier_contracts.vault import Margins, MarketSettings

    mode = RangeCheckMode(mode).value
    other_mode = RangeCheckMode.BITS.value if mode == RangeCheckMode.LOOKUP.value else RangeCheckMode.LOOKUP.value

    compile_kernels(lambda line: progress(line, None))
    request, expiry_seconds = simulated_batch_request(n_quotes)  # the pipeline's quotes on a simulated market
    capacity = BookCapacity(slots=4, fills=2, expiries=2, quotes=n_quotes)
    settings = MarketSettings(rate=request.rate, carry=request.carry, spot_tolerance=fx.to_fixed(0.02),
                              iv_band=fx.to_fixed(0.1))
    margins = Margins(model_margin=fx.ONE, solvency_margin=0)

    def quotes_on(settlement, market):
        """The pipeline's strikes and types, 1 contract each, at the policy's floor on the book as it stands."""
        book = settlement.vault_book().current
        return tuple(quote_at_floor(market, book, q.strike, 0, q.is_call, fx.ONE, request.policy, request.high_vol)
                     for q in request.quotes)

    anvil = Anvil().start() if find_anvil() else None
    try:
        w3 = anvil.web3() if anvil else in_process_web3()
        solver, lp, taker = w3.eth.accounts[1:4]
        oracle_time = latest_timestamp(w3)
        expiries, iv_index = _book_expiries(request, oracle_time, expiry_seconds)
        first_market = fb.BookMarket(request.spot, oracle_time, request.rate, request.carry, expiries)
        progress(f"building the book batch circuit ({mode} mode)")
        start = time.perf_counter()
        empty = fb.empty_book(capacity.slots)
        orders = tuple(quote_at_floor(first_market, empty, q.strike, 0, q.is_call, fx.ONE, request.policy,
                                      request.high_vol) for q in request.quotes)
        first_request = book_batch_request(first_market, empty, (), capacity.fills, 0, 0, quotes=orders,
                                           high_vol=request.high_vol, nonce=1, policy=request.policy,
                                           state_salt=request.state_salt, limits=request.limits, margin=fx.ONE)
        built = build_book_batch(first_request, mode)
        witness_seconds = time.perf_counter() - start
        progress(f"building the same batch in {other_mode} mode, for its constraint count")
        start = time.perf_counter()
        other = ConstraintSystem(range_mode=other_mode)
        book_batch_circuit(other, first_request)
        other.finish()
        other_mode_seconds = time.perf_counter() - start
        counts = {mode: built.r1cs.n_constraints, other_mode: other.n_constraints}
        start = time.perf_counter()
        n = built.r1cs.n_constraints

        def key_progress(stage, fraction):
            progress(f"Groth16 keys ({mode} mode, {n:,} constraints): {stage}", fraction)

        # In lookup mode development keys: the commitment key's sigma is no ceremony's (prover.committed).
        proving_key, verifying_key, key_reused = book_batch_keys(built, progress=key_progress)
        setup_seconds = time.perf_counter() - start

        progress("deploying token, oracles, Poseidon, verifier and vault")
        settlement = Settlement.deploy(w3, verifying_key, capacity, solver=solver, first_nonce=1,
                                       limits=request.limits, market=settings, margins=margins)
        stack = settlement.stack
        funds = 10**15
        for account in (lp, taker):
            stack.token.mint(account, funds)
            stack.token.approve(stack.vault.address, funds, sender=account)
        stack.vault.deposit(funds, sender=lp)
        gas = {"oracle post": stack.oracle.post(request.spot, oracle_time)["gasUsed"]}
        stack.iv_oracle.post(iv_index, oracle_time)
        if settlement.book_request(expiries, orders, policy=request.policy, state_salt=request.state_salt,
                                   high_vol=request.high_vol) != first_request:
            raise RuntimeError("the vault's request differs from the one the circuit was built for")

        progress("proving the first batch at the oracle's price")
        start = time.perf_counter()
        proven = prove_book_batch(proving_key, first_request, built)
        prove_seconds = time.perf_counter() - start
        start = time.perf_counter()
        if not verify_book_batch(verifying_key, proven):
            raise RuntimeError("the fresh proof does not verify")
        verify_seconds = time.perf_counter() - start

        progress("submitting the first batch and filling a quote")
        settlement.publish_state_commitment(proven)
        accepted = settlement.submit(proven)
        entry = "submitCommittedBatch" if built.statement is not None else "submitBatch"
        gas[f"{entry} (empty book)"] = accepted.gas_used
        calldata_bytes = len(w3.eth.get_transaction(accepted.receipt["transactionHash"])["input"])
        fill = stack.vault.fill(accepted.batch_id, 0, fx.ONE, funds, sender=taker)
        gas["fill (1 contract, new series)"] = fill.gas_used
        decimals = stack.token.decimals()

        progress("proving the second batch over the book with that fill")
        later = oracle_time + 60
        mine_block_at(w3, later)
        stack.oracle.post(request.spot, later)
        stack.iv_oracle.post(iv_index, later)
        second_market = fb.BookMarket(request.spot, later, request.rate, request.carry, expiries)
        second_request = settlement.book_request(expiries, quotes_on(settlement, second_market),
                                                 policy=request.policy, state_salt=request.state_salt,
                                                 high_vol=request.high_vol)
        second = prove_book_batch(proving_key, second_request, build_book_batch(second_request, mode))
        accepted_second = settlement.submit(second)
        gas[f"{entry} (book with the fill)"] = accepted_second.gas_used
        book = stack.vault.book_state()
        mark = stack.vault.state().mark[0]
    finally:
        if anvil:
            anvil.stop()
    from solver.vault_life import run_vault_life

    progress("the vault's whole life: deposits, two batches, fills, expiry settlement, claims, redemptions")
    life = run_vault_life(lambda line: progress(line, None))
    return ProvenBatchReport(
        quotes=n_quotes,
        constraints=built.r1cs.n_constraints,
        public_inputs=len(proven.public_inputs),
        backend=backend_names()[0],
        devnet="anvil" if anvil else "in-process EVM (py-evm)",
        witness_seconds=witness_seconds,
        setup_seconds=setup_seconds,
        key_reused=key_reused,
        prove_seconds=prove_seconds,
        verify_seconds=verify_seconds,
        proof_bytes=COMMITTED_PROOF_BYTES if built.statement is not None else PLAIN_PROOF_BYTES,
        gas=gas,
        fast_path_seconds=fast_path_quotes(request),
        onchain_quotes=[(fx.from_fixed(q.strike), q.is_call, fx.from_fixed(q.bid), fx.from_fixed(q.ask))
                        for q in accepted.quotes],
        filled_premium=fill.premium / 10**decimals,
        fills_proven=book.proven_fills,
        book_commitment=hex(book.book_commitment),
        mark=fx.from_fixed(mark),
        worst_loss=fx.from_fixed(accepted_second.worst_loss),
        life=life,
        mode=mode,
        bits_constraints=counts[RangeCheckMode.BITS.value],
        lookup_constraints=counts[RangeCheckMode.LOOKUP.value],
        other_mode_seconds=other_mode_seconds,
        development_keys=verifying_key.is_development,
        submit_calldata_bytes=calldata_bytes,
    )
