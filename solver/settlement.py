"""Settlement, the solver's side: prove batches over the vault's own book and trade them through a QuoteVault.

    capacity = BookCapacity(slots=4, fills=2, expiries=2, quotes=1)     # the circuit's P, F, E, N
    settlement = Settlement.deploy(w3, verifying_key, capacity, solver=solver, first_nonce=1, limits=limits,
                                   market=MarketSettings(...), margins=Margins(...))
    settlement.stack.oracle.post(spot, oracle_time)          # the oracles' owner, on its own schedule
    settlement.stack.iv_oracle.post(vol_index, oracle_time)
    request = settlement.book_request(expiries, quotes, policy=policy, state_salt=salt)
    built = build_book_batch(request)                         # or mode="lookup": range checks by lookup
    proving_key, verifying_key, _ = book_batch_keys(built)    # cached by circuit fingerprint
    proven = prove_book_batch(proving_key, request, built)
    settlement.publish_state_commitment(proven)               # the solver's spread policy (not the book)
    accepted = settlement.submit(proven)                      # AcceptedBatch: id, quotes, gas used
    fill = settlement.stack.vault.fill(accepted.batch_id, 0, size, max_premium, sender=taker)

The request is the vault's, read from the chain: the oracle's latest spot and time, governance's
rate, carry, limits and model margin, the next nonce, the book as of the last proof (rebuilt from
the vault's FillRecorded events) and the fills recorded since. A batch with quotes must be proven
over every recorded fill and submitted before the oracle posts again (or its post grows older than
maxOracleAge); a book update (every quote of size 0, see book_update_quotes) may stop at any fill.

Two modes of one circuit (circuits.builder's range-check factory): "bits" proves with plain
Groth16 (keys from prover.keys_for, a phase-2 ceremony's or a development setup's) and the vault
takes it through submitBatch; "lookup" settles every range check by one log-derivative lookup and
proves with Groth16 and a commitment (prover.committed; keys from committed_keys_for, always
development keys: the commitment key's sigma is no ceremony's), and the vault deployed with that
verifying key takes it through submitCommittedBatch. The proof's kind picks the entry (submit).

build_batch (the single-expiry batch of circuits/batch.py) has no caller left: the solver service
and the deployment commands prove book batches (solver.book_plan, solver.deployments).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

from web3 import Web3

import prover
from bn254.r1cs import R1CS
from circuits import book_batch as bb
from circuits.batch import BatchRequest, batch_circuit
from circuits.builder import CircuitError, ConstraintSystem, RangeCheckMode
from circuits.gadgets.logup import CommittedStatement, committed_statement
from circuits.layout import Layout
from circuits.merkle import merkle_path
from engine import fixed as fx
from engine import fixed_book as fb
from engine import fixed_quote as fq
from engine.fixed_risk import RiskLimitsFixed
from prover.committed import prove_committed, verify_committed
from prover.committed_keys import CommittedProof, CommittedProvingKey, CommittedVerifyingKey
from prover.committed_keystore import committed_keys_for
from prover.progress import Progress
from verifier_contracts import vault as vc
from verifier_contracts.vault import AcceptedBatch, Margins, MarketSettings, RiskLimits, VaultStack, deploy_vault_stack

assert vc.FRAC_BITS == fx.FRAC_BITS, "the contracts' fixed-point format must be the engine's"
assert (vc.STRIKE_MIN, vc.STRIKE_GRID_BITS, vc.SIZE_GRID_BITS) == (fx.SPOT_MIN, fb.STRIKE_GRID_BITS,
                                                                  fb.SIZE_GRID_BITS), "quote grids differ"


@dataclass(frozen=True)
class BuiltBatch:
    """A batch circuit built for one request: its constraint system, witness and public inputs."""

    r1cs: R1CS
    witness: list[int]
    layout: Layout

    @property
    def public_inputs(self) -> list[int]:
        return self.r1cs.public_values(self.witness)


def build_batch(request: BatchRequest) -> BuiltBatch:
    """Build the batch circuit for `request`; raises CircuitError when the request does not satisfy
    it (e.g. a breached risk limit). The circuit itself refuses to publish anything but its layout
    (circuits.layout.batch_layout), whose public inputs QuoteVault assembles."""
    cs = ConstraintSystem()
    wires = batch_circuit(cs, request)
    failure = cs.first_failure()
    if failure is not None:
        raise CircuitError(f"the batch request does not satisfy the circuit: {failure}")
    return BuiltBatch(cs.to_r1cs(), cs.witness(), wires.layout)


def vault_limits(limits: RiskLimitsFixed) -> RiskLimits:
    """The limits as QuoteVault's struct (compile_vault checks that both name the same limits)."""
    return RiskLimits(**dataclasses.asdict(limits))


# ------------------------------------------------------------------------- book batches


@dataclass(frozen=True)
class BookCapacity:
    """The book batch circuit's capacities: P book slots, F fills between proofs, E expiries, N quotes."""

    slots: int
    fills: int
    expiries: int
    quotes: int

    def layout(self) -> Layout:
        return bb.book_batch_layout(self.expiries, self.quotes)


@dataclass(frozen=True)
class BuiltBookBatch:
    """A book batch circuit built for one request: its constraint system, witness and public inputs.

    mode: "bits" or "lookup"; in lookup mode `statement` is what the committed prover takes, and the
    witness holds a stand-in challenge (the proof draws the real one from its commitment)."""

    r1cs: R1CS
    witness: list[int]
    layout: Layout
    mode: str = RangeCheckMode.BITS.value
    statement: CommittedStatement | None = None

    @property
    def public_inputs(self) -> list[int]:
        """The layout's public inputs (in lookup mode the challenge, the last public signal, left out)."""
        return self.r1cs.public_values(self.witness)[: self.layout.n_public_inputs]


def build_book_batch(request: bb.BookBatchRequest, mode: RangeCheckMode | str = RangeCheckMode.BITS) -> BuiltBookBatch:
    """Build the book batch for `request` with its range checks in `mode` ("bits": bit decompositions,
    plain Groth16; "lookup": one log-derivative lookup, Groth16 with a commitment); raises
    CircuitError when the request does not satisfy it."""
    cs = ConstraintSystem(range_mode=mode)
    wires = bb.book_batch_circuit(cs, request)
    failure = cs.first_failure()
    if failure is not None:
        raise CircuitError(f"the book batch request does not satisfy the circuit: {failure}")
    statement = committed_statement(cs) if cs.range_mode is RangeCheckMode.LOOKUP else None
    if statement is None:
        return BuiltBookBatch(cs.to_r1cs(), cs.witness(), wires.layout)
    return BuiltBookBatch(statement.r1cs, statement.witness, wires.layout, RangeCheckMode.LOOKUP.value, statement)


BookBatchKeys = (tuple[prover.ProvingKey, prover.VerifyingKey, bool]
                 | tuple[CommittedProvingKey, CommittedVerifyingKey, bool])


def book_batch_keys(built: BuiltBookBatch, *, progress: Progress | None = None) -> BookBatchKeys:
    """(proving key, verifying key, reused) of the circuit `built` belongs to: saved by circuit
    fingerprint and reused (prover.keys_for; in lookup mode committed_keys_for; reused is True when
    the saved keys were loaded). The circuit's shape depends only on its capacities and mode, so every
    request of one capacity and mode shares them. Lookup-mode keys are development keys: the
    commitment key's sigma is covered by no ceremony (prover.committed), so a vault of them is for
    devnets only."""
    if built.statement is not None:
        statement = built.statement
        return committed_keys_for(statement.r1cs, statement.committed_wires, statement.blinding_wire,
                                  progress=progress)
    return prover.keys_for(built.r1cs, progress=progress)


@dataclass(frozen=True)
class ProvenBookBatch:
    """A request, its proof and its public signals [state, book_before, chain_from, chain_to, book_after,
    quotes_root, packed...], followed in lookup mode (a CommittedProof) by the challenge."""

    request: bb.BookBatchRequest
    proof: prover.Proof | CommittedProof
    public_inputs: list[int]

    @property
    def mode(self) -> str:
        """"lookup" for a committed proof (the vault's submitCommittedBatch), else "bits" (submitBatch)."""
        return RangeCheckMode.LOOKUP.value if isinstance(self.proof, CommittedProof) else RangeCheckMode.BITS.value

    @property
    def challenge(self) -> int | None:
        """The committed proof's challenge (its last public signal); None for a plain proof."""
        return self.public_inputs[-1] if isinstance(self.proof, CommittedProof) else None

    @property
    def layout_inputs(self) -> list[int]:
        """The layout's public inputs, which the vault assembles (the challenge left out)."""
        return self.public_inputs[:-1] if isinstance(self.proof, CommittedProof) else self.public_inputs

    @property
    def state_commitment(self) -> int:
        return self.public_inputs[0]

    @property
    def book_after(self) -> int:
        return self.public_inputs[4]

    @property
    def quotes_root(self) -> int:
        return self.public_inputs[5]

    @property
    def packed(self) -> list[int]:
        return self.layout_inputs[6:]

    @property
    def quote_elements(self) -> list[int]:
        """The quotes packed one element each: the leaves of quotes_root, which submitBatch publishes."""
        return bb.quote_elements(self.request.market, self.request.quotes)


def prove_book_batch(proving_key: prover.ProvingKey | CommittedProvingKey, request: bb.BookBatchRequest,
                     built: BuiltBookBatch | None = None) -> ProvenBookBatch:
    """Prove `request` (built with build_book_batch unless `built` is given, in the key's mode) under the
    book batch's key: plain Groth16, or with a CommittedProvingKey the committed prover (lookup mode)."""
    if not isinstance(proving_key, CommittedProvingKey):
        built = built or build_book_batch(request)
        return ProvenBookBatch(request, prover.prove(proving_key, built.witness), built.public_inputs)
    built = built or build_book_batch(request, RangeCheckMode.LOOKUP)
    if built.statement is None:
        raise ValueError("a committed key proves a lookup-mode build; this one was built in bits mode")
    proof, public = prove_committed(proving_key, built.statement.witness, built.statement.witness_for_challenge)
    return ProvenBookBatch(request, proof, public)


def verify_book_batch(verifying_key: prover.VerifyingKey | CommittedVerifyingKey, proven: ProvenBookBatch) -> bool:
    """The Python verifier of the proof's kind: True iff `proven` verifies under the key."""
    if isinstance(proven.proof, CommittedProof):
        if not isinstance(verifying_key, CommittedVerifyingKey):
            raise ValueError("a committed proof needs the committed verifying key")
        return verify_committed(verifying_key, proven.public_inputs, proven.proof)
    if isinstance(verifying_key, CommittedVerifyingKey):
        raise ValueError("a plain Groth16 proof needs a plain verifying key")
    return prover.verify(verifying_key, proven.public_inputs, proven.proof)


def on_strike_grid(strike: int) -> int:
    """The quotable strike nearest `strike` (2^-48): SPOT_MIN plus a multiple of 2^-16."""
    step = 1 << fb.STRIKE_GRID_BITS
    return fx.SPOT_MIN + (strike - fx.SPOT_MIN + step // 2) // step * step


def on_size_grid(size: int) -> int:
    """The largest quotable size not above `size` (2^-48 contracts): a multiple of 2^-12 contracts."""
    return size >> fb.SIZE_GRID_BITS << fb.SIZE_GRID_BITS


def quote_at_floor(market: fb.BookMarket, book: Sequence[fb.BookSlot], strike: int, expiry_index: int,
                   is_call: bool, size: int, policy: fq.PolicyFixed, high_vol: bool = False,
                   widen: int = 0) -> fb.QuoteOrder:
    """A quote whose half spread is the policy's floor (plus `widen`, 2^-48) on the book as it will
    be proven (the floor's vega charge uses that book's net vega): strike and size on their grids."""
    order = fb.QuoteOrder(on_strike_grid(strike), expiry_index, is_call, 0, on_size_grid(size))
    bsm = fb.quote_bsm(market, order)
    net_vega = fb.price_book(market, book).net_vega
    floor = fq.min_half_spread_fixed(policy, market.spot, bsm.gamma, bsm.vega, net_vega, high_vol)
    return dataclasses.replace(order, half_spread=floor + widen)


def book_update_quotes(market: fb.BookMarket, book: Sequence[fb.BookSlot], n_quotes: int,
                       policy: fq.PolicyFixed, high_vol: bool = False) -> tuple[fb.QuoteOrder, ...]:
    """N quotes of size 0 (at the money on the first expiry): the batch is a pure book update,
    which the vault accepts whatever risk_ok says and which leaves the live batch as it was."""
    return (quote_at_floor(market, book, market.spot, 0, True, 0, policy, high_vol),) * n_quotes


@dataclass(frozen=True)
class VaultBook:
    """The vault's book as the chain records it: as of the last proof, and the fills since."""

    proven: fb.Book
    proven_fills: int
    chain_from: int
    pending: tuple[fb.ChainRecord, ...]
    """Chain records proven_fills .. fill_count - 1, in order: fills and expiry settlements."""

    @property
    def current(self) -> fb.Book:
        return fb.apply_fills(self.proven, self.pending)


class Settlement:
    """The solver's handle on a deployed vault stack (token, oracles, verifier, QuoteVault)."""

    def __init__(self, stack: VaultStack, solver: str, capacity: BookCapacity):
        self.stack = stack
        self.solver = solver
        self.capacity = capacity

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        verifying_key: prover.VerifyingKey | CommittedVerifyingKey,
        capacity: BookCapacity,
        *,
        solver: str,
        first_nonce: int,
        limits: RiskLimitsFixed,
        market: MarketSettings,
        margins: Margins,
        max_oracle_age: int = 300,
        quote_lifetime: int = 300,
        token_decimals: int = 6,
    ) -> Settlement:
        """Compile the vault for the capacity's layout and deploy the stack from w3.eth.default_account
        (governance, oracles' owner, token minter); `solver` is the address that submits batches. A
        CommittedVerifyingKey (lookup mode, development keys) deploys the committed verifier, and
        the vault takes committed proofs only."""
        stack = deploy_vault_stack(
            w3,
            vc.compile_vault(capacity.layout().to_json()),
            solver=solver,
            first_nonce=first_nonce,
            limits=vault_limits(limits),
            market=market,
            margins=margins,
            book_capacity=capacity.slots,
            fill_capacity=capacity.fills,
            verifying_key=verifying_key,
            max_oracle_age=max_oracle_age,
            quote_lifetime=quote_lifetime,
            token_decimals=token_decimals,
            quote_path=merkle_path,
        )
        return cls(stack, solver, capacity)

    def vault_book(self) -> VaultBook:
        """The book rebuilt from the vault's FillRecorded and ExpirySettlementRecorded events (each
        carries its packed chain record)."""
        vault = self.stack.vault
        state = vault.book_state()
        events = [*vault.contract.events.FillRecorded().get_logs(from_block=0),
                  *vault.contract.events.ExpirySettlementRecorded().get_logs(from_block=0)]
        records = {e["args"]["index"]: e["args"]["record"] for e in events if e["address"] == vault.address}
        if sorted(records) != list(range(state.fill_count)):
            raise RuntimeError(f"the vault recorded {state.fill_count} chain records; events name {sorted(records)}")
        fills = [fb.unpack_record(records[k]) for k in range(state.fill_count)]
        proven = fb.apply_fills(fb.empty_book(self.capacity.slots), fills[:state.proven_fills])
        return VaultBook(proven, state.proven_fills, vault.chain_head(state.proven_fills),
                         tuple(fills[state.proven_fills:]))

    def settleable_expiries(self) -> list[tuple[int, int]]:
        """(expiry, observation index) for each expiry the vault's book holds and the oracle has
        observed at or after: what settleExpiry takes (the vault itself refuses an observation
        outside its settlement window). No batch can be proven over a book that holds a passed expiry."""
        held = sorted({slot.expiry for slot in self.vault_book().current if not slot.empty})
        found = ((expiry, self.stack.oracle.first_observation_at_or_after(expiry)) for expiry in held)
        return [(expiry, index) for expiry, index in found if index is not None]

    def market(self, expiries: Sequence[fb.ExpirySmile]) -> fb.BookMarket:
        """The market a proof must use: the oracle's latest spot and time, governance's rate and carry."""
        spot, oracle_time = self.stack.oracle.latest()
        settings = self.stack.vault.state().market_settings
        return fb.BookMarket(spot, oracle_time, settings.rate, settings.carry, tuple(expiries))

    def book_request(self, expiries: Sequence[fb.ExpirySmile], quotes: Sequence[fb.QuoteOrder] | None = None, *,
                     policy: fq.PolicyFixed, state_salt: int, high_vol: bool = False,
                     fills: int | None = None) -> bb.BookBatchRequest:
        """The request the vault will check: its market, limits, margin, nonce, book and the first
        `fills` pending fills (all of them by default). quotes=None: a pure book update."""
        vault = self.stack.vault
        state = vault.state()
        book = self.vault_book()
        pending = book.pending if fills is None else book.pending[:fills]
        market = self.market(expiries)
        if quotes is None:
            quotes = book_update_quotes(market, fb.apply_fills(book.proven, pending), self.capacity.quotes, policy,
                                        high_vol)
        limits = RiskLimitsFixed(**dataclasses.asdict(state.risk_limits))
        return bb.book_batch_request(market, book.proven, tuple(pending), self.capacity.fills, book.proven_fills,
                                     book.chain_from, quotes=tuple(quotes), high_vol=high_vol, nonce=state.next_nonce,
                                     policy=policy, state_salt=state_salt, limits=limits,
                                     margin=state.margins.model_margin)

    def publish_state_commitment(self, proven: ProvenBookBatch) -> None:
        """Store the policy commitment the proof opens, if the vault holds another."""
        vault = self.stack.vault
        if vault.call("stateCommitment") != proven.state_commitment:
            vault.set_state_commitment(proven.state_commitment, sender=self.solver)

    def submit(self, proven: ProvenBookBatch, *, gas: int | None = None) -> AcceptedBatch:
        """submitBatch (a plain proof) or submitCommittedBatch (a committed proof, with its challenge)
        from the solver; raises ContractReverted / TransactionFailed when the vault refuses it."""
        return self.stack.vault.submit_batch(proven.proof, proven.book_after, proven.quotes_root, proven.packed,
                                             proven.quote_elements, challenge=proven.challenge, sender=self.solver,
                                             gas=gas)
