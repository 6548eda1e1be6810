"""The demo job: price an option chain on the float64 fast path and on the fixed-point
reference (what the circuits prove), and show how far apart they are."""

from __future__ import annotations

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


def run_proven_batch(n_quotes: int = 4, progress: Progress = lambda step, fraction=None: None) -> ProvenBatchReport:
    """The main job: build an n-quote batch (quotes + risk check), set up, prove and verify it in
    Python, deploy verifier and vault to a local devnet (anvil, or the in-process EVM without it),
    submit the proven batch against the oracle's price and fill one quote.

    The kernels are loaded (or compiled, reported on a line of its own) before anything is timed;
    the proving key is the one saved for this circuit when there is one (prover.keys_for)."""
    import prover
    from prover.backends import backend_names
    from solver.feeds.simulated import simulated_batch_request
    from solver.settlement import ProvenBatch, Settlement, build_batch
    from verifier_contracts.devnet import Anvil, find_anvil, in_process_web3, latest_timestamp

    compile_kernels(lambda line: progress(line, None))
    request, expiry_seconds = simulated_batch_request(n_quotes)  # the pipeline's quotes on a simulated market
    progress("building the batch circuit")
    start = time.perf_counter()
    built = build_batch(request)
    witness_seconds = time.perf_counter() - start
    start = time.perf_counter()
    proving_key, verifying_key, key_reused = prover.keys_for(
        built.r1cs, progress=lambda stage, fraction: progress(f"Groth16 keys ({built.r1cs.n_constraints:,} constraints): {stage}", fraction))
    setup_seconds = time.perf_counter() - start

    anvil = Anvil().start() if find_anvil() else None
    try:
        w3 = anvil.web3() if anvil else in_process_web3()
        solver, taker = w3.eth.accounts[1], w3.eth.accounts[2]
        progress("deploying token, oracle, verifier and vault")
        settlement = Settlement.deploy(w3, verifying_key, built.layout, solver=solver, first_nonce=request.nonce,
                                       limits=request.limits)
        oracle_time = latest_timestamp(w3)
        gas = {"oracle post": settlement.stack.oracle.post(request.spot, oracle_time)["gasUsed"]}
        expiry = oracle_time + expiry_seconds
        request = settlement.request_at_oracle(request, expiry)

        progress("proving the batch at the oracle's price")
        built = build_batch(request)
        start = time.perf_counter()
        proof = prover.prove(proving_key, built.witness)
        prove_seconds = time.perf_counter() - start
        start = time.perf_counter()
        if not prover.verify(verifying_key, built.public_inputs, proof):
            raise RuntimeError("the fresh proof does not verify")
        verify_seconds = time.perf_counter() - start

        progress("submitting the proven batch and filling a quote")
        proven = ProvenBatch(request, proof, built.public_inputs)
        settlement.publish_commitments(proven)
        accepted = settlement.submit(proven, expiry)
        gas["submitBatch"] = accepted.gas_used
        funds = 10**12
        settlement.stack.token.mint(taker, funds)
        settlement.stack.token.approve(settlement.stack.vault.address, funds, sender=taker)
        fill = settlement.stack.vault.fill(accepted.batch_id, 0, fx.ONE, funds, sender=taker)
        gas["fill (1 contract)"] = fill.gas_used
        decimals = settlement.stack.token.decimals()
    finally:
        if anvil:
            anvil.stop()
    return ProvenBatchReport(
        quotes=n_quotes,
        constraints=built.r1cs.n_constraints,
        public_inputs=len(built.public_inputs),
        backend=backend_names()[0],
        devnet="anvil" if anvil else "in-process EVM (py-evm)",
        witness_seconds=witness_seconds,
        setup_seconds=setup_seconds,
        key_reused=key_reused,
        prove_seconds=prove_seconds,
        verify_seconds=verify_seconds,
        proof_bytes=256,  # A and C in G1 (2 x 32 bytes each), B in G2 (4 x 32 bytes), uncompressed
        gas=gas,
        fast_path_seconds=fast_path_quotes(request),
        onchain_quotes=[(fx.from_fixed(q.strike), q.is_call, fx.from_fixed(q.bid), fx.from_fixed(q.ask))
                        for q in accepted.quotes],
        filled_premium=fill.premium / 10**decimals,
    )
