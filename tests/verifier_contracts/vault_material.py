"""Proof material for the QuoteVault tests: the 1-quote batch circuit's keys and two proven batches.

Proving is the slow part (a Groth16 setup and a proof of a ~23k-constraint circuit), so it is
done once per machine: keys and proofs are cached under <DLPE cache folder>/vault_tests/<sha256 of
the .r1cs>/ (bn254.cache, outside the checkout). A change to the circuit changes the hash, hence a fresh setup; a proof is cached
under the sha256 of its witness and is only ever read back with the key it was made with.

Batches (all for an expiry EXPIRY_SECONDS after the oracle's observation, whenever that is:
t depends only on the difference):
  first   the sample 1-quote request, nonce FIRST_NONCE: an at-the-money call, bid and ask > 0
  second  nonce FIRST_NONCE + 1, a far out-of-the-money call quoted with half spread = mid + 1,
          so its bid is negative: the vault must refuse to buy at it
  four    the sample 4-quote request, nonce FIRST_NONCE (its own circuit and keys; slow tests)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

import prover
from bn254.cache import dlpe_cache_folder
from bn254.iden3 import r1cs_bytes
from circuits.batch import BatchRequest, QuoteLine
from engine import fixed as fx
from engine import fixed_quote as fq
from solver.samples import sample_batch_request
from solver.settlement import BuiltBatch, ProvenBatch, build_batch, prove_batch
from verifier_contracts.vault import years_to_expiry

CACHE_DIR = dlpe_cache_folder() / "vault_tests"
EXPIRY_SECONDS = 30 * 86_400
FIRST_NONCE = 7


def sample_request(n_quotes: int) -> BatchRequest:
    """solver.samples' request, for the test expiry and nonce FIRST_NONCE."""
    request = sample_batch_request(n_quotes)
    return dataclasses.replace(request, t=years_to_expiry(EXPIRY_SECONDS, 0), nonce=FIRST_NONCE)


def first_request() -> BatchRequest:
    return sample_request(1)


def second_request() -> BatchRequest:
    """Next nonce; one call far out of the money whose half spread exceeds its mid by 1.0."""
    request = dataclasses.replace(first_request(), nonce=FIRST_NONCE + 1)
    strike, is_call = fx.to_fixed(150_000), True
    terms = fx.expiry_terms(request.t, request.rate, request.carry)
    mid = fx.bsm_fixed_svi(request.spot, strike, terms, request.svi, is_call).price
    half_spread = mid + fx.ONE
    fq.quote_fixed(request.spot, strike, terms, request.svi, is_call, request.policy, request.net_vega,
                   request.high_vol, half_spread)  # raises if below the policy's floor
    return dataclasses.replace(request, quotes=(QuoteLine(strike, is_call, half_spread),))


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


@dataclass(frozen=True)
class VaultMaterial:
    built: BuiltBatch
    """The first request's circuit (its layout is every batch's of the same quote count)."""
    verifying_key: prover.VerifyingKey
    first: ProvenBatch
    second: ProvenBatch | None
    """None for the 4-quote material."""


class _KeyCache:
    """Keys and proofs of one R1CS, under CACHE_DIR/<r1cs sha256>/."""

    def __init__(self, built: BuiltBatch):
        self.dir = CACHE_DIR / hashlib.sha256(r1cs_bytes(built.r1cs)).hexdigest()
        self.r1cs = built.r1cs
        self._proving_key: prover.ProvingKey | None = None

    def proving_key(self) -> prover.ProvingKey:
        if self._proving_key is None:
            path = self.dir / "proving_key.pickle"
            if path.is_file():
                self._proving_key = pickle.loads(path.read_bytes())
            else:
                # Written before any proof is cached, so a cached proof always has its key beside it.
                self._proving_key, _ = prover.setup(self.r1cs)
                _write_atomically(path, pickle.dumps(self._proving_key))
                prover.write_verification_key(self._proving_key.vk, self.dir / "verification_key.json")
        return self._proving_key

    def verifying_key(self) -> prover.VerifyingKey:
        path = self.dir / "verification_key.json"
        if not path.is_file():
            self.proving_key()
        return prover.read_verification_key(path)

    def prove(self, request: BatchRequest, built: BuiltBatch) -> ProvenBatch:
        witness_hash = hashlib.sha256(",".join(map(str, built.witness)).encode()).hexdigest()
        path = self.dir / f"proof_{witness_hash}.json"
        if not path.is_file():
            proven = prove_batch(self.proving_key(), request, built)
            _write_atomically(path, json.dumps(prover.proof_to_json(proven.proof)).encode())
        return ProvenBatch(request, prover.read_proof(path), built.public_inputs)


def make_material() -> VaultMaterial:
    """The 1-quote batches first and second, proven unless the cache holds their proofs."""
    first_built = build_batch(first_request())
    cache = _KeyCache(first_built)
    second = cache.prove(second_request(), build_batch(second_request()))
    return VaultMaterial(first_built, cache.verifying_key(), cache.prove(first_request(), first_built), second)


def make_four_quote_material() -> VaultMaterial:
    """The 4-quote sample batch, proven unless the cache holds its proof."""
    built = build_batch(sample_request(4))
    cache = _KeyCache(built)
    return VaultMaterial(built, cache.verifying_key(), cache.prove(sample_request(4), built), None)
