"""Settlement, the solver's side: prove a batch of quotes and trade it through a QuoteVault.

    layout = batch_layout(n_quotes)                          # circuits.layout: no circuit built
    proving_key, verifying_key = prover.setup(build_batch(request).r1cs)
    settlement = Settlement.deploy(w3, verifying_key, layout, solver=solver, first_nonce=request.nonce,
                                   limits=request.limits)
    settlement.stack.oracle.post(spot, oracle_time)          # the oracle's owner, on its own schedule
    request = settlement.request_at_oracle(request, expiry)   # spot and t as the vault derives them
    proven = prove_batch(proving_key, request)
    settlement.publish_commitments(proven)                    # trusted: see QuoteVault.sol's notes
    accepted = settlement.submit(proven, expiry)              # AcceptedBatch: id, quotes, gas used
    fill = settlement.stack.vault.fill(accepted.batch_id, 0, size, max_premium, sender=taker)

The proof binds the oracle observation (spot, and t through the oracle's timestamp): a batch must
be proven against the oracle's latest post and submitted before that post is older than the
vault's maxOracleAge, or before the oracle posts again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from web3 import Web3

import prover
from bn254.r1cs import R1CS
from circuits.batch import BatchRequest, batch_circuit
from circuits.builder import CircuitError, ConstraintSystem
from circuits.layout import Layout
from engine import fixed as fx
from engine.fixed_risk import RiskLimitsFixed
from verifier_contracts import vault as vc
from verifier_contracts.vault import AcceptedBatch, RiskLimits, VaultStack, deploy_vault_stack

assert vc.FRAC_BITS == fx.FRAC_BITS, "the contracts' fixed-point format must be the engine's"


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


@dataclass(frozen=True)
class ProvenBatch:
    """A request, its proof and its public inputs [state commitment, portfolio commitment, packed...]."""

    request: BatchRequest
    proof: prover.Proof
    public_inputs: list[int]

    @property
    def state_commitment(self) -> int:
        return self.public_inputs[0]

    @property
    def portfolio_commitment(self) -> int:
        return self.public_inputs[1]

    @property
    def packed(self) -> list[int]:
        return self.public_inputs[2:]


def prove_batch(proving_key: prover.ProvingKey, request: BatchRequest, built: BuiltBatch | None = None) -> ProvenBatch:
    """Prove `request` (built with build_batch unless `built` is given) under the batch circuit's key."""
    built = built or build_batch(request)
    return ProvenBatch(request, prover.prove(proving_key, built.witness), built.public_inputs)


class Settlement:
    """The solver's handle on a deployed vault stack (token, oracle, verifier, QuoteVault)."""

    def __init__(self, stack: VaultStack, solver: str):
        self.stack = stack
        self.solver = solver

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        verifying_key: prover.VerifyingKey,
        layout: Layout,
        *,
        solver: str,
        first_nonce: int,
        limits: RiskLimitsFixed,
        max_oracle_age: int = 300,
        quote_lifetime: int = 600,
        token_decimals: int = 6,
    ) -> Settlement:
        """Compile the vault for `layout` (from its JSON document) and deploy the stack from
        w3.eth.default_account (governance, oracle owner, token minter); `solver` is the address
        that submits batches."""
        stack = deploy_vault_stack(
            w3,
            vc.compile_vault(layout.to_json()),
            solver=solver,
            first_nonce=first_nonce,
            limits=vault_limits(limits),
            verifying_key=verifying_key,
            max_oracle_age=max_oracle_age,
            quote_lifetime=quote_lifetime,
            token_decimals=token_decimals,
        )
        return cls(stack, solver)

    def request_at_oracle(self, request: BatchRequest, expiry: int) -> BatchRequest:
        """`request` with the oracle's latest spot, and t from `expiry` and the oracle's timestamp,
        exactly as QuoteVault.submitBatch derives them."""
        spot, oracle_time = self.stack.oracle.latest()
        return dataclasses.replace(request, spot=spot, t=vc.years_to_expiry(expiry, oracle_time))

    def publish_commitments(self, proven: ProvenBatch) -> None:
        """Store the commitments the proof opens, if the vault holds others."""
        vault = self.stack.vault
        current = (vault.call("stateCommitment"), vault.call("portfolioCommitment"))
        if current != (proven.state_commitment, proven.portfolio_commitment):
            vault.set_commitments(proven.state_commitment, proven.portfolio_commitment, sender=self.solver)

    def submit(self, proven: ProvenBatch, expiry: int, *, gas: int | None = None) -> AcceptedBatch:
        """submitBatch from the solver; raises ContractReverted / TransactionFailed when the vault refuses it."""
        return self.stack.vault.submit_batch(proven.proof, proven.packed, expiry, sender=self.solver, gas=gas)
