"""Deploy and call DLPE's contracts with web3.py; reverts come back as typed Python errors.

    w3 = in_process_web3()                       # or Anvil().start().web3()
    key = prover.read_verification_key("verification_key.json")
    verifier = Groth16VerifierClient.deploy(w3, key)
    proof, signals = prover.read_proof("proof.json"), prover.read_public("public.json")
    verifier.verify(proof, signals)              # True / False (eth_call of verifyProof)
    verifier.require_valid(proof, signals)       # None, or raises ContractReverted("ProofInvalid", {})
    receipt = verifier.transact("requireValidProof", *verifier.arguments(proof, signals))

ContractClient is the general part (deploy, call, transact, decode custom errors from
the ABI); Groth16VerifierClient adds the proof encoding (prover.solidity_calldata: G2 in
EIP-197 order) and the check that a deployed verifier holds the expected key;
CommittedVerifierClient does the same for a committed (lookup-mode) key's folded verifier
(verifier_contracts.generate_committed).
"""

from __future__ import annotations

from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_abi_to_4byte_selector
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

from prover import Proof, PublicInputCountMismatch, VerifyingKey, solidity_calldata
from prover.committed_keys import CommittedProof, CommittedVerifyingKey
from verifier_contracts import generate_committed
from verifier_contracts.build import CompiledContract, compile_contract
from verifier_contracts.generate import CONTRACT_NAME, InputLayout, render_verifier, verifying_key_sha256

VerifierArguments = tuple[list[int], list[list[int]], list[int], list[int]]
"""(a, b, c, input) of verifyProof / requireValidProof: uint256[2], uint256[2][2] (EIP-197 order),
uint256[2], and the public inputs."""


class ContractReverted(Exception):
    """A call or transaction reverted.

    error: the custom error's name ("" when the revert carried no data, or data the ABI
    does not name); values: its arguments by name; data: the raw revert bytes.
    """

    def __init__(self, error: str, values: dict[str, Any], data: bytes):
        self.error = error
        self.values = values
        self.data = data
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        super().__init__(f"reverted with {error}({shown})" if error else f"reverted (data 0x{data.hex()})")


class TransactionFailed(Exception):
    """A mined transaction has status 0 (receipt attached)."""

    def __init__(self, receipt: TxReceipt):
        self.receipt = receipt
        super().__init__(f"transaction {receipt['transactionHash'].hex()} failed (gas used {receipt['gasUsed']})")


class VerifyingKeyMismatch(ValueError):
    """The contract at an address was generated from another verifying key."""


def _revert_data(error: ContractLogicError) -> bytes:
    data = error.data
    if isinstance(data, dict):  # some providers nest it: {"data": "0x..."}
        data = data.get("data")
    if not isinstance(data, str) or not data.startswith("0x"):
        return b""
    return bytes.fromhex(data[2:])


class ContractClient:
    """A contract deployed on a web3.py chain. Transactions are sent from w3.eth.default_account."""

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]]):
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.abi = abi
        self.contract = w3.eth.contract(address=self.address, abi=abi)
        self._errors = {
            function_abi_to_4byte_selector(entry): entry for entry in abi if entry.get("type") == "error"
        }

    @classmethod
    def deploy_compiled(cls, w3: Web3, compiled: CompiledContract, *constructor_args: Any) -> ContractClient:
        """Deploy `compiled` with constructor arguments; returns a client of this class at the new address.
        Raises ContractReverted, decoded from compiled's ABI, when the constructor reverts."""
        factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        try:
            tx_hash = factory.constructor(*constructor_args).transact()
        except ContractLogicError as error:
            no_address = "0x" + "00" * 20  # nothing is deployed; the client only decodes
            raise ContractClient(w3, no_address, compiled.abi).decode_revert(_revert_data(error)) from None
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise TransactionFailed(receipt)
        return cls(w3, receipt["contractAddress"], compiled.abi)

    def decode_revert(self, data: bytes) -> ContractReverted:
        """The ContractReverted for raw revert data, with the error decoded when the ABI names it
        (addresses checksummed, as web3 returns them everywhere else)."""
        entry = self._errors.get(data[:4])
        if entry is None:
            return ContractReverted("", {}, data)
        values = abi_decode([i["type"] for i in entry["inputs"]], data[4:])
        named = {
            i["name"]: Web3.to_checksum_address(v) if i["type"] == "address" else v
            for i, v in zip(entry["inputs"], values)
        }
        return ContractReverted(entry["name"], named, data)

    def call(self, function: str, *args: Any, sender: str | None = None) -> Any:
        """eth_call `function(*args)` from `sender` (default w3.eth.default_account); raises
        ContractReverted when it reverts."""
        try:
            return self.contract.functions[function](*args).call({} if sender is None else {"from": sender})
        except ContractLogicError as error:
            raise self.decode_revert(_revert_data(error)) from None

    def transact(self, function: str, *args: Any, gas: int | None = None, sender: str | None = None) -> TxReceipt:
        """Send `function(*args)` as a transaction from `sender` (default w3.eth.default_account)
        and wait for its receipt.

        Without `gas`, the node estimates it, which runs the call first: a call that would
        revert raises ContractReverted and is never sent. A mined transaction that still
        fails raises TransactionFailed.
        """
        params: dict[str, Any] = {}
        if gas is not None:
            params["gas"] = gas
        if sender is not None:
            params["from"] = sender
        try:
            tx_hash = self.contract.functions[function](*args).transact(params)
        except ContractLogicError as error:
            raise self.decode_revert(_revert_data(error)) from None
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise TransactionFailed(receipt)
        return receipt


class Groth16VerifierClient(ContractClient):
    """A verifier generated by verifier_contracts.generate, bound to the key it was made from."""

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]], key: VerifyingKey):
        super().__init__(w3, address, abi)
        self.key = key

    @classmethod
    def compiled(cls, key: VerifyingKey, layout: InputLayout = InputLayout.FIXED) -> CompiledContract:
        """The verifier of `key`, generated and compiled (cached by source hash)."""
        return compile_contract(render_verifier(key, layout), CONTRACT_NAME)

    @classmethod
    def deploy(cls, w3: Web3, key: VerifyingKey, layout: InputLayout = InputLayout.FIXED) -> Groth16VerifierClient:
        """Generate, compile and deploy the verifier of `key`."""
        deployed = ContractClient.deploy_compiled(w3, cls.compiled(key, layout))
        return cls(w3, deployed.address, deployed.abi, key)

    @classmethod
    def attach(
        cls, w3: Web3, address: str, key: VerifyingKey, layout: InputLayout = InputLayout.FIXED
    ) -> Groth16VerifierClient:
        """A client for a verifier already deployed at `address`; raises VerifyingKeyMismatch
        unless the contract names `key` (its VERIFYING_KEY_SHA256)."""
        client = cls(w3, address, cls.compiled(key, layout).abi, key)
        deployed_hash = client.call("VERIFYING_KEY_SHA256").hex().removeprefix("0x")
        if deployed_hash != verifying_key_sha256(key):
            raise VerifyingKeyMismatch(
                f"the verifier at {address} names key {deployed_hash}, not {verifying_key_sha256(key)}"
            )
        return client

    def arguments(self, proof: Proof, public_signals: list[int]) -> VerifierArguments:
        """(a, b, c, input) for verifyProof / requireValidProof, B in EIP-197 order.

        Raises prover.PublicInputCountMismatch when the signal count is not the key's. Values
        are passed as they are, never reduced mod r: the contract rejects non-canonical ones.
        """
        if len(public_signals) != self.key.n_public:
            raise PublicInputCountMismatch(
                f"{len(public_signals)} public signals given; the key takes {self.key.n_public}"
            )
        calldata = solidity_calldata(proof, public_signals)
        return list(calldata.a), [list(w) for w in calldata.b], list(calldata.c), list(calldata.public_signals)

    def verify(self, proof: Proof, public_signals: list[int]) -> bool:
        """verifyProof by eth_call: True iff the contract accepts the proof."""
        return bool(self.call("verifyProof", *self.arguments(proof, public_signals)))

    def require_valid(self, proof: Proof, public_signals: list[int]) -> None:
        """requireValidProof by eth_call: returns when the proof is valid, else raises ContractReverted
        (error PublicInputNotInField, PrecompileFailed or ProofInvalid, with its values)."""
        self.call("requireValidProof", *self.arguments(proof, public_signals))


class CommittedVerifierClient(ContractClient):
    """A folded Groth16CommittedVerifier generated by verifier_contracts.generate_committed, bound to its key."""

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]], key: CommittedVerifyingKey):
        super().__init__(w3, address, abi)
        self.key = key

    @classmethod
    def compiled(cls, key: CommittedVerifyingKey) -> CompiledContract:
        """The folded verifier of `key`, generated and compiled (cached by source hash)."""
        return compile_contract(generate_committed.render_committed_verifier(key), generate_committed.CONTRACT_NAME)

    @classmethod
    def deploy(cls, w3: Web3, key: CommittedVerifyingKey) -> CommittedVerifierClient:
        """Generate, compile and deploy the verifier of `key`."""
        deployed = ContractClient.deploy_compiled(w3, cls.compiled(key))
        return cls(w3, deployed.address, deployed.abi, key)

    def arguments(self, proof: CommittedProof, public_signals: list[int]) -> tuple[list, ...]:
        """(a, b, c, commitment, knowledgeProof, input) for verifyProof / requireValidProof, the
        challenge last in `public_signals`; PublicInputCountMismatch when the count is not the key's."""
        if len(public_signals) != self.key.vk.n_public:
            raise PublicInputCountMismatch(
                f"{len(public_signals)} public signals given; the key takes {self.key.vk.n_public}"
            )
        return generate_committed.committed_calldata(proof, public_signals)

    def verify(self, proof: CommittedProof, public_signals: list[int]) -> bool:
        """verifyProof by eth_call: True iff the contract accepts the proof."""
        return bool(self.call("verifyProof", *self.arguments(proof, public_signals)))

    def require_valid(self, proof: CommittedProof, public_signals: list[int]) -> None:
        """requireValidProof by eth_call: returns when the proof is valid, else raises ContractReverted
        (PublicInputNotInField, ChallengeMismatch, PrecompileFailed or ProofInvalid)."""
        self.call("requireValidProof", *self.arguments(proof, public_signals))
