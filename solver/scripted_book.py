"""A scripted market for the smallest book batch (P = 4 slots, F = 2 fills, E = 2 expiries, N = 1
quote) and its proofs, made once: the real-proof material of the QuoteVault tests, Python's
(tests/verifier_contracts/) and forge's (solver.forge_fixtures).

The proofs bind absolute times (the oracle's time is a public input), so the script fixes them:
every batch is proven at BASE_TIME + an offset, on a fresh chain that the tests move to those
times (tests/verifier_contracts/test_book_vault.py; forge warps there). The vault's fills are
scripted too (FILLS), so every book and chain head a proof opens is known before any chain exists.
Keys come from prover.keys_for (saved by circuit fingerprint in the DLPE cache folder); a proof is
saved beside them under the sha256 of its witness, so a second run proves nothing.

Proofs (nonce, oracle time, book, quotes):
  rich      1, T0: a 250%-vol smile on the first expiry (the issue's drain): outside the IV band
  first     1, T0: an at-the-money call on the first expiry, size 2, over the empty book
  stale     2, T1: over the empty book although FILLS were recorded (fills_to = 0), size 2
  second    2, T1: over the book after FILLS (fills 0..2), size 2
  breached  3, T2: over the proven book with governance's limits tightened to 0, size 2: risk_ok = 0
  update    3, T2: the same with size 0: a pure book update, risk_ok = 0

quotes_request(n) is the first batch with n quotes instead of one (a circuit of its own: the vault
tests of quote paths at depth 2, benchmarks/bench_batch_gas.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

import prover
from bn254.cache import dlpe_cache_folder, write_atomically
from circuits import book_batch as bb
from circuits import book_hash as bh
from engine import fixed as fx
from engine import fixed_book as fb
from engine import fixed_quote as fq
from engine import fixed_risk as fr
from solver.progress import Progress
from solver.settlement import (
    BookCapacity,
    ProvenBookBatch,
    build_book_batch,
    prove_book_batch,
    quote_at_floor,
)
from verifier_contracts.vault import Margins, MarketSettings

ONE = fx.ONE
DAY = 86_400
CAPACITY = BookCapacity(slots=4, fills=2, expiries=2, quotes=1)
FIRST_NONCE = 1
BASE_TIME = 4_000_000_000
"""Far beyond any devnet's genesis clock, so a fresh chain can always be moved there."""
T0 = BASE_TIME
T1 = BASE_TIME + 60
T2 = BASE_TIME + 2 * DAY
EXPIRIES = (BASE_TIME + 30 * DAY, BASE_TIME + 60 * DAY)
SPOT = 100 * ONE
STRIKE = 100 * ONE
IV_INDEX = fx.to_fixed(0.6)
MARKET = MarketSettings(rate=fx.to_fixed(0.01), carry=0, spot_tolerance=fx.to_fixed(0.02), iv_band=fx.to_fixed(0.1))
MARGINS = Margins(model_margin=ONE, solvency_margin=1_000)
LIMITS = fr.RiskLimitsFixed(50 * ONE, 10 * ONE, 10_000 * ONE, 100_000 * ONE)
TIGHT = fr.RiskLimitsFixed(0, 0, 0, 0)
POLICY = fq.PolicyFixed(fx.to_fixed(0.5), fx.to_fixed(0.01), fx.to_fixed(0.001), ONE, 2 * ONE)
SALT = 7
SIZE = 2 * ONE
FILLS = (fb.Fill(0, True, STRIKE, EXPIRIES[0], -ONE), fb.Fill(0, True, STRIKE, EXPIRIES[0], ONE // 2))
"""The script's fills: a taker buys 1 contract of the quoted call (the vault's dq = -1), then sells 0.5 back."""
CACHE_DIR = dlpe_cache_folder() / "book_vault_tests"


def smile(expiry: int, now: int, vol: float) -> fb.ExpirySmile:
    """An SVI smile (b 0.1, rho -0.3, m 0, sigma 0.2) whose ATM vol at `now` is `vol`: w(0) = a + b·sigma."""
    t = fx.from_fixed(fb.year_fraction(expiry, now))
    b, sigma = 0.1, 0.2
    svi = fx.SVIFixed(fx.to_fixed(vol * vol * t - b * sigma), fx.to_fixed(b), fx.to_fixed(-0.3), 0,
                      fx.to_fixed(sigma))
    return fb.ExpirySmile(expiry, svi)


def market(now: int, first_vol: float = 0.6) -> fb.BookMarket:
    return fb.BookMarket(SPOT, now, MARKET.rate, MARKET.carry,
                         (smile(EXPIRIES[0], now, first_vol), smile(EXPIRIES[1], now, 0.6)))


def _request(nonce: int, now: int, proven_fills: int, fills: tuple[fb.Fill, ...], *, size: int = SIZE,
             limits: fr.RiskLimitsFixed = LIMITS, first_vol: float = 0.6) -> bb.BookBatchRequest:
    m = market(now, first_vol)
    old = fb.apply_fills(fb.empty_book(CAPACITY.slots), FILLS[:proven_fills])
    heads = bh.fill_chain([fb.pack_fill(f) for f in FILLS])
    chain_from = heads[proven_fills - 1] if proven_fills else 0
    quote = quote_at_floor(m, fb.apply_fills(old, fills), STRIKE, 0, True, size, POLICY)
    return bb.book_batch_request(m, old, fills, CAPACITY.fills, proven_fills, chain_from, quotes=(quote,),
                                 nonce=nonce, policy=POLICY, state_salt=SALT, limits=limits,
                                 margin=MARGINS.model_margin)


QUOTES_SIZE = ONE // 4
"""Each quote's size in quotes_request: the worst case of 64 such quotes holds LIMITS."""


def quotes_request(n_quotes: int, nonce: int = FIRST_NONCE, now: int = T0) -> bb.BookBatchRequest:
    """n quotes over the empty book: calls and puts at strikes 0.5 apart around spot, on both
    expiries, each of size QUOTES_SIZE, at the policy's floor."""
    m = market(now)
    book = fb.empty_book(CAPACITY.slots)
    quotes = tuple(quote_at_floor(m, book, SPOT + (i - n_quotes // 2) * ONE // 2, i % 2, i % 3 != 0, QUOTES_SIZE,
                                  POLICY) for i in range(n_quotes))
    return bb.book_batch_request(m, book, (), CAPACITY.fills, 0, 0, quotes=quotes, nonce=nonce, policy=POLICY,
                                 state_salt=SALT, limits=LIMITS, margin=MARGINS.model_margin)


def requests() -> dict[str, bb.BookBatchRequest]:
    return {
        "rich": _request(FIRST_NONCE, T0, 0, (), first_vol=2.5),
        "first": _request(FIRST_NONCE, T0, 0, ()),
        "stale": _request(FIRST_NONCE + 1, T1, 0, ()),
        "second": _request(FIRST_NONCE + 1, T1, 0, FILLS),
        "breached": _request(FIRST_NONCE + 2, T2, 2, (), limits=TIGHT),
        "update": _request(FIRST_NONCE + 2, T2, 2, (), size=0, limits=TIGHT),
    }


@dataclass(frozen=True)
class BookMaterial:
    verifying_key: prover.VerifyingKey
    proofs: dict[str, ProvenBookBatch]

    def __getattr__(self, name: str) -> ProvenBookBatch:
        try:
            return self.__dict__["proofs"][name]
        except KeyError:
            raise AttributeError(name) from None


def make_book_material(progress: Progress | None = None) -> BookMaterial:
    """Every scripted proof, proven unless saved; all under one key (the circuit's shape depends
    only on CAPACITY: a request whose circuit differs fails the fingerprint check)."""
    return make_material(requests(), progress)


def make_material(reqs: dict[str, bb.BookBatchRequest], progress: Progress | None = None) -> BookMaterial:
    """The proofs of `reqs`, proven unless saved, under the one key of their circuit. `progress`
    hears of each circuit built, the keys, and each proof made."""
    built = {}
    for name, req in reqs.items():
        if progress:
            progress(f"book batch {name!r}: building its circuit and witness")
        built[name] = build_book_batch(req)
    fingerprints = {prover.circuit_fingerprint(b.r1cs) for b in built.values()}
    assert len(fingerprints) == 1, "the book batch's shape must not depend on the request's values"
    (fingerprint,) = fingerprints
    proving_key, verifying_key, _ = prover.keys_for(next(iter(built.values())).r1cs, progress=progress)
    # Saved proofs sit under their verifying key's hash: a key made anew (its folder deleted) must not
    # meet proofs made under the old one.
    key_id = hashlib.sha256(json.dumps(prover.verifying_key_to_json(verifying_key), sort_keys=True).encode())
    folder = CACHE_DIR / fingerprint / key_id.hexdigest()[:16]
    proofs = {}
    for name, b in built.items():
        witness_hash = hashlib.sha256(",".join(map(str, b.witness)).encode()).hexdigest()
        path = folder / f"proof_{witness_hash}.json"
        if not path.is_file():
            if progress:
                progress(f"book batch {name!r}: proving (not saved yet)")
            proven = prove_book_batch(proving_key, reqs[name], b)
            write_atomically(path, json.dumps(prover.proof_to_json(proven.proof)).encode())
        proofs[name] = ProvenBookBatch(reqs[name], prover.read_proof(path), b.public_inputs)
    return BookMaterial(verifying_key, proofs)


def tampered(proven: ProvenBookBatch, **changes) -> ProvenBookBatch:
    return dataclasses.replace(proven, **changes)
