"""QuoteVault and its companions: sources, the generated BatchLayout library, and web3 clients.

    contracts = compile_vault(layout)               # layout: the batch circuit's packing Layout
    stack = deploy_vault_stack(w3, verifying_key, contracts, solver=..., first_nonce=..., limits=...)
    stack.oracle.post(spot, timestamp)
    stack.vault.set_commitments(state_commitment, portfolio_commitment, sender=solver)
    accepted = stack.vault.submit_batch(proof, packed, expiry, sender=solver)
    fill = stack.vault.fill(accepted.batch_id, 0, size, max_premium, sender=taker)

Sources (Solidity 0.8.28, compiled together by verifier_contracts.build):
  QuoteVault.sol   holds collateral; accepts a batch of quotes only with a valid batch proof whose
                   public inputs it assembles itself (its NatSpec states what it trusts); fills at
                   ask / bid within the batch's validity window
  SpotOracle.sol   one owner posts (spot at 2^-48, timestamp)
  TestToken.sol    a minimal ERC-20 for devnets (IERC20.sol: the interface the vault uses)
  BatchLayout.sol  GENERATED here from the circuit's packing layout (templates/BatchLayout.sol.tmpl):
                   where each field sits in the packed public inputs, so the contract and the
                   circuit cannot drift; also IBatchVerifier, the verifier as the vault calls it

This package does not import circuits/ (see DESIGN.md): a layout is anything whose `slots` have
name, element, offset, bits and lo, which circuits.packing.Layout is. The solver passes it in
(solver/settlement.py).

Fixed point meets uint256 in three places, each defined here as the contract does it:
  years_to_expiry   t = floor(((expiry - oracle_time) · 2^48 + YEAR/2) / YEAR), YEAR = 365 days
  premium           ceil (taker buys) or floor (taker sells) of price · size · 10^decimals / 2^96
  the layout        x = ((e >> offset) & (2^bits - 1)) + lo, exact
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Protocol, Sequence

from eth_abi import encode as abi_encode
from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD
from web3.types import TxReceipt

from prover import Proof, VerifyingKey, solidity_calldata
from verifier_contracts.build import CompiledContract, compile_sources
from verifier_contracts.client import ContractClient, Groth16VerifierClient

PACKAGE_DIR = Path(__file__).resolve().parent
LAYOUT_TEMPLATE = PACKAGE_DIR / "templates" / "BatchLayout.sol.tmpl"
HAND_WRITTEN_SOURCES = ("IERC20.sol", "TestToken.sol", "SpotOracle.sol", "QuoteVault.sol")

FRAC_BITS = 48
"""The contracts' fixed-point format, x · 2^48: engine.fixed.FRAC_BITS (solver/settlement.py checks they agree)."""
YEAR_SECONDS = 31_536_000
"""365 days, the year of t."""
N_COMMITMENTS = 2
"""Public inputs before the packed elements: the state commitment, then the portfolio commitment."""
MAX_PACKED_BITS = 253
"""Packed elements stay below 2^253 < r (circuits.packing.MAX_PACKED_BITS)."""

MARKET_SLOTS = ("spot", "t", "nonce")
LIMIT_SLOTS = ("max_abs_delta", "max_abs_gamma", "max_abs_vega", "max_loss")
QUOTE_FIELDS = ("strike", "is_call", "mid", "half_spread")
_UNSIGNED = (*MARKET_SLOTS, *LIMIT_SLOTS)
"""Slots the vault reads as unsigned integers: their lo must be >= 0."""
_QUOTE_SLOT = re.compile(r"quote(\d+)_([a-z][a-z0-9_]*)")
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


class LayoutNotSupported(ValueError):
    """A packing layout that QuoteVault cannot read (the message says why)."""


class PackedSlot(Protocol):
    """One field of the packed public inputs (circuits.packing.Slot)."""

    name: str
    element: int
    offset: int
    bits: int
    lo: int


class PackedLayout(Protocol):
    """The ordered slots of the batch circuit's packed public inputs (circuits.packing.Layout)."""

    @property
    def slots(self) -> Sequence[PackedSlot]: ...


# ------------------------------------------------------------------------- fixed point


def years_to_expiry(expiry: int, oracle_time: int) -> int:
    """t in years at 2^-48, as QuoteVault.yearsToExpiry computes it:
    floor(((expiry - oracle_time) · 2^48 + YEAR_SECONDS/2) / YEAR_SECONDS), i.e. the seconds to
    expiry over a 365-day year, rounded to nearest with ties up (engine.fixed's rule)."""
    if expiry <= oracle_time:
        raise ValueError(f"expiry {expiry} is not after the oracle time {oracle_time}")
    return ((expiry - oracle_time) * (1 << FRAC_BITS) + YEAR_SECONDS // 2) // YEAR_SECONDS


def premium(price: int, size: int, decimals: int, *, taker_buys: bool) -> int:
    """Token base units for `size` contracts at `price` (both at 2^-48): price · size · 10^decimals / 2^96,
    rounded in the vault's favour (up when the taker buys and pays, down when the vault pays)."""
    scaled = price * size * 10**decimals
    whole = scaled >> (2 * FRAC_BITS)
    return whole + 1 if taker_buys and whole << (2 * FRAC_BITS) != scaled else whole


def series_id(expiry: int, strike: int, is_call: bool) -> bytes:
    """QuoteVault.seriesId: keccak256(abi.encode(uint64 expiry, uint256 strike, bool isCall))."""
    return keccak(abi_encode(["uint64", "uint256", "bool"], [expiry, strike, is_call]))


# ------------------------------------------------------------------------- BatchLayout.sol


def layout_sha256(layout: PackedLayout) -> str:
    """Hex sha256 of the layout's slots as compact JSON [[name, element, offset, bits, lo], ...]."""
    rows = [[s.name, s.element, s.offset, s.bits, s.lo] for s in layout.slots]
    return hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class _QuoteGroup:
    count: int
    first_element: int
    fields: dict[str, PackedSlot]
    """quote 0's slot of each field: every quote has the same offset, bits and lo."""


def _quote_group(slots: Sequence[PackedSlot]) -> _QuoteGroup:
    """Check that quotes q = 0..n-1 fill the last n elements, one each, field by field alike."""
    by_quote: dict[int, list[tuple[str, PackedSlot]]] = {}
    for s in slots:
        match = _QUOTE_SLOT.fullmatch(s.name)
        if match:
            by_quote.setdefault(int(match.group(1)), []).append((match.group(2), s))
    if sorted(by_quote) != list(range(len(by_quote))) or not by_quote:
        raise LayoutNotSupported(f"quotes must be numbered 0..n-1, found {sorted(by_quote)}")
    first = by_quote[0][0][1].element
    reference = [(name, s.offset, s.bits, s.lo) for name, s in by_quote[0]]
    if [name for name, *_ in reference] != list(QUOTE_FIELDS):
        raise LayoutNotSupported(f"quote fields are {[n for n, *_ in reference]}, the vault reads {QUOTE_FIELDS}")
    for q, fields in by_quote.items():
        if [(name, s.offset, s.bits, s.lo) for name, s in fields] != reference:
            raise LayoutNotSupported(f"quote {q} does not place its fields as quote 0 does")
        if any(s.element != first + q for _, s in fields):
            raise LayoutNotSupported(f"quote {q} is not alone in element {first + q}")
    if any(not _QUOTE_SLOT.fullmatch(s.name) and s.element >= first for s in slots):
        raise LayoutNotSupported("a non-quote slot shares or follows the quote elements")
    return _QuoteGroup(len(by_quote), first, dict(by_quote[0]))


def _check_layout(layout: PackedLayout) -> _QuoteGroup:
    slots = list(layout.slots)
    names = [s.name for s in slots]
    if len(set(names)) != len(names):
        raise LayoutNotSupported("slot names repeat")
    for s in slots:
        if not _IDENTIFIER.fullmatch(s.name):
            raise LayoutNotSupported(f"slot name {s.name!r} is not a lower-case identifier")
        if not (1 <= s.bits and 0 <= s.offset and s.offset + s.bits <= MAX_PACKED_BITS and abs(s.lo) < 1 << 253):
            raise LayoutNotSupported(f"slot {s.name} (offset {s.offset}, {s.bits} bits, lo {s.lo}) does not fit")
    missing = [n for n in (*MARKET_SLOTS, *LIMIT_SLOTS) if n not in names]
    if missing:
        raise LayoutNotSupported(f"the vault checks {missing}, which the layout lacks")
    by_name = {s.name: s for s in slots}
    for name in _UNSIGNED:
        if by_name[name].lo < 0:
            raise LayoutNotSupported(f"{name} has lo {by_name[name].lo} < 0; the vault reads it unsigned")
    group = _quote_group(slots)
    if group.fields["strike"].lo <= 0:
        raise LayoutNotSupported("the vault reads strikes unsigned: their lo must be > 0")
    is_call = group.fields["is_call"]
    if (is_call.bits, is_call.lo) != (1, 0):
        raise LayoutNotSupported("is_call must be one bit with lo 0")
    elements = sorted({s.element for s in slots})
    if elements != list(range(len(elements))):
        raise LayoutNotSupported(f"elements must be numbered 0..n-1, found {elements}")
    return group


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _slot_constants(prefix: str, slot: PackedSlot, element: int | None) -> list[str]:
    lines = [f"    // {slot.name}: bits [{slot.offset}, {slot.offset + slot.bits}), lo {slot.lo}"]
    if element is not None:
        lines.append(f"    uint256 internal constant {prefix}_ELEMENT = {element};")
    lines += [
        f"    uint256 internal constant {prefix}_OFFSET = {slot.offset};",
        f"    uint256 internal constant {prefix}_BITS = {slot.bits};",
        f"    int256 internal constant {prefix}_LO = {slot.lo};",
    ]
    return lines


def _reader(function: str, parameter: str, element: str, prefix: str) -> str:
    """A library function returning one slot's field from `element`."""
    return (
        f"    function {function}({parameter}) internal pure returns (int256) {{\n"
        f"        return field({element}, {prefix}_OFFSET, {prefix}_BITS, {prefix}_LO);\n"
        "    }\n"
    )


def render_batch_layout(layout: PackedLayout) -> str:
    """BatchLayout.sol for `layout` (raises LayoutNotSupported when the vault cannot read it)."""
    group = _check_layout(layout)
    constants: list[str] = []
    readers: list[str] = []
    decode: list[str] = []
    for i, s in enumerate(layout.slots):
        match = _QUOTE_SLOT.fullmatch(s.name)
        if match:
            quote, name = int(match.group(1)), match.group(2)
            decode.append(f"        fields[{i}] = {_camel('quote_' + name)}(packed[FIRST_QUOTE_ELEMENT + {quote}]);")
        else:
            prefix = s.name.upper()
            constants += _slot_constants(prefix, s, s.element)
            packed = "uint256[BATCH_ELEMENT_COUNT] calldata packed"
            readers.append(_reader(_camel(s.name), packed, f"packed[{prefix}_ELEMENT]", prefix))
            decode.append(f"        fields[{i}] = {_camel(s.name)}(packed);")
    constants.append("    // every quote q, in element FIRST_QUOTE_ELEMENT + q, as quote 0:")
    for name, s in group.fields.items():
        prefix = f"QUOTE_{name.upper()}"
        constants += _slot_constants(prefix, s, None)
        readers.append(_reader(_camel(f"quote_{name}"), "uint256 element", "element", prefix))
    n_elements = max(s.element for s in layout.slots) + 1
    return Template(LAYOUT_TEMPLATE.read_text()).substitute(
        layout_sha256=layout_sha256(layout),
        frac_bits=FRAC_BITS,
        n_quotes=group.count,
        n_elements=n_elements,
        n_public=N_COMMITMENTS + n_elements,
        first_quote_element=group.first_element,
        n_slots=len(layout.slots),
        slot_constants="\n".join(constants),
        slot_readers="\n".join(readers),
        decode_lines="\n".join(decode),
    )


def vault_sources(layout: PackedLayout) -> dict[str, str]:
    """{source name: Solidity}: the hand-written contracts and the BatchLayout.sol of `layout`."""
    sources = {name: (PACKAGE_DIR / name).read_text() for name in HAND_WRITTEN_SOURCES}
    sources["BatchLayout.sol"] = render_batch_layout(layout)
    return sources


@dataclass(frozen=True)
class VaultContracts:
    """The compiled contracts of one batch layout."""

    vault: CompiledContract
    oracle: CompiledContract
    token: CompiledContract
    verifier_interface: CompiledContract
    """IBatchVerifier: its ABI names the verifier's errors, which the vault lets through."""
    layout_sha256: str


def compile_vault(layout: PackedLayout) -> VaultContracts:
    """Generate BatchLayout.sol from `layout` and compile it with the other sources (cached by hash)."""
    contracts = compile_sources(vault_sources(layout))
    return VaultContracts(
        vault=contracts["QuoteVault"],
        oracle=contracts["SpotOracle"],
        token=contracts["TestToken"],
        verifier_interface=contracts["IBatchVerifier"],
        layout_sha256=layout_sha256(layout),
    )


# ------------------------------------------------------------------------- clients


class _EventReading(ContractClient):
    def events(self, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
        """The arguments of every `name` event this contract emitted in the transaction."""
        decoded = self.contract.events[name]().process_receipt(receipt, errors=DISCARD)
        return [dict(e["args"]) for e in decoded if e["address"] == self.address]


class TestTokenClient(_EventReading):
    """TestToken: mint (deployer only), approve, transfer, balances."""

    __test__ = False  # a class named Test* that pytest must not collect

    @classmethod
    def deploy(cls, w3: Web3, contracts: VaultContracts, name: str = "Test USD", symbol: str = "tUSD",
               decimals: int = 6) -> TestTokenClient:
        deployed = ContractClient.deploy_compiled(w3, contracts.token, name, symbol, decimals)
        return cls(w3, deployed.address, deployed.abi)

    def decimals(self) -> int:
        return self.call("decimals")

    def balance_of(self, account: str) -> int:
        return self.call("balanceOf", account)

    def mint(self, to: str, amount: int) -> TxReceipt:
        return self.transact("mint", to, amount)

    def approve(self, spender: str, amount: int, *, sender: str) -> TxReceipt:
        return self.transact("approve", spender, amount, sender=sender)


class SpotOracleClient(_EventReading):
    """SpotOracle: the owner (deployer) posts spot at 2^-48 with its timestamp."""

    @classmethod
    def deploy(cls, w3: Web3, contracts: VaultContracts) -> SpotOracleClient:
        deployed = ContractClient.deploy_compiled(w3, contracts.oracle)
        return cls(w3, deployed.address, deployed.abi)

    def post(self, price: int, timestamp: int, *, sender: str | None = None) -> TxReceipt:
        return self.transact("post", price, timestamp, sender=sender)

    def latest(self) -> tuple[int, int]:
        """(price at 2^-48, timestamp)."""
        price, timestamp = self.call("latest")
        return price, timestamp


@dataclass(frozen=True)
class RiskLimits:
    """Governance's limits at 2^-48, in the order the circuit packs them (engine.fixed_risk.RiskLimitsFixed)."""

    max_abs_delta: int
    max_abs_gamma: int
    max_abs_vega: int
    max_loss: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.max_abs_delta, self.max_abs_gamma, self.max_abs_vega, self.max_loss)


@dataclass(frozen=True)
class VaultQuote:
    """A recorded quote: strike, type, bid = mid - half spread, ask = mid + half spread (2^-48)."""

    strike: int
    is_call: bool
    bid: int
    ask: int


@dataclass(frozen=True)
class VaultState:
    """What a rejected call must leave unchanged: the vault's storage and token balance."""

    next_nonce: int
    state_commitment: int
    portfolio_commitment: int
    risk_limits: RiskLimits
    collateral: int
    token_balance: int
    next_batch_times: tuple[int, int, int]
    """batchTimes(next_nonce): (0, 0, 0) until a batch with that nonce is accepted."""


@dataclass(frozen=True)
class AcceptedBatch:
    """A batch the vault accepted: its BatchAccepted and QuoteRecorded events, and the gas used."""

    batch_id: int
    spot: int
    t: int
    oracle_time: int
    expiry: int
    valid_until: int
    quotes: tuple[VaultQuote, ...]
    gas_used: int
    receipt: TxReceipt


@dataclass(frozen=True)
class Fill:
    """One Filled event, and the gas used by its transaction."""

    batch_id: int
    quote_index: int
    taker: str
    series: bytes
    taker_buys: bool
    size: int
    price: int
    premium: int
    gas_used: int
    receipt: TxReceipt


SubmitArguments = tuple[list[int], list[list[int]], list[int], list[int], int]
"""(a, b, c, packed, expiry) of submitBatch, B in EIP-197 order."""


class QuoteVaultClient(_EventReading):
    """A deployed QuoteVault. Reverts decode the vault's errors and those it lets through from
    the verifier (ProofInvalid, PublicInputNotInField, PrecompileFailed) and from TestToken."""

    def __init__(self, w3: Web3, address: str, contracts: VaultContracts):
        passed_through = [
            entry
            for entry in contracts.verifier_interface.abi + contracts.token.abi
            if entry["type"] == "error"
        ]
        super().__init__(w3, address, contracts.vault.abi + passed_through)
        self.contracts = contracts

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        contracts: VaultContracts,
        *,
        token: str,
        oracle: str,
        verifier: str,
        solver: str,
        first_nonce: int,
        limits: RiskLimits,
        max_oracle_age: int,
        quote_lifetime: int,
    ) -> QuoteVaultClient:
        """Deploy a vault; the sender (w3.eth.default_account) becomes its governance."""
        deployed = ContractClient.deploy_compiled(
            w3, contracts.vault, token, oracle, verifier, solver, first_nonce, max_oracle_age, quote_lifetime,
            limits.as_tuple(),
        )
        return cls(w3, deployed.address, contracts)

    # -- configuration and collateral

    def set_commitments(self, state_commitment: int, portfolio_commitment: int, *, sender: str) -> TxReceipt:
        return self.transact("setCommitments", state_commitment, portfolio_commitment, sender=sender)

    def set_risk_limits(self, limits: RiskLimits, *, sender: str | None = None) -> TxReceipt:
        return self.transact("setRiskLimits", limits.as_tuple(), sender=sender)

    def deposit(self, amount: int, *, sender: str) -> TxReceipt:
        return self.transact("deposit", amount, sender=sender)

    # -- batches

    @staticmethod
    def submit_arguments(proof: Proof, packed: Sequence[int], expiry: int) -> SubmitArguments:
        """(a, b, c, packed, expiry) for submitBatch, B in EIP-197 order (prover.solidity_calldata)."""
        calldata = solidity_calldata(proof, [])
        return list(calldata.a), [list(w) for w in calldata.b], list(calldata.c), list(packed), expiry

    def submit_batch(
        self, proof: Proof, packed: Sequence[int], expiry: int, *, sender: str, gas: int | None = None
    ) -> AcceptedBatch:
        """Send submitBatch and return the accepted batch; raises ContractReverted (gas=None: the
        node's estimate runs it first) or TransactionFailed (explicit gas) when it reverts."""
        receipt = self.transact("submitBatch", *self.submit_arguments(proof, packed, expiry), sender=sender, gas=gas)
        accepted = self.events("BatchAccepted", receipt)[0]
        recorded = sorted(self.events("QuoteRecorded", receipt), key=lambda e: e["quoteIndex"])
        quotes = tuple(VaultQuote(e["strike"], e["isCall"], e["bid"], e["ask"]) for e in recorded)
        return AcceptedBatch(
            batch_id=accepted["batchId"],
            spot=accepted["spot"],
            t=accepted["t"],
            oracle_time=accepted["oracleTime"],
            expiry=accepted["expiry"],
            valid_until=accepted["validUntil"],
            quotes=quotes,
            gas_used=receipt["gasUsed"],
            receipt=receipt,
        )

    # -- fills

    def fill(self, batch_id: int, quote_index: int, size: int, max_premium: int, *, sender: str,
             gas: int | None = None) -> Fill:
        """Buy `size` (2^-48 contracts) at the quote's ask, paying at most `max_premium` token units."""
        return self._fill_event(self.transact("fill", batch_id, quote_index, size, max_premium, sender=sender, gas=gas))

    def sell(self, batch_id: int, quote_index: int, size: int, min_premium: int, *, sender: str,
             gas: int | None = None) -> Fill:
        """Sell back `size` of a long bought from the vault at the quote's bid, receiving at least `min_premium`."""
        return self._fill_event(self.transact("sell", batch_id, quote_index, size, min_premium, sender=sender, gas=gas))

    def _fill_event(self, receipt: TxReceipt) -> Fill:
        (e,) = self.events("Filled", receipt)
        return Fill(
            batch_id=e["batchId"],
            quote_index=e["quoteIndex"],
            taker=e["taker"],
            series=bytes(e["series"]),
            taker_buys=e["takerBuys"],
            size=e["size"],
            price=e["price"],
            premium=e["premium"],
            gas_used=receipt["gasUsed"],
            receipt=receipt,
        )

    # -- reading

    def quote(self, batch_id: int, quote_index: int) -> VaultQuote:
        strike, is_call, bid, ask = self.call("quote", batch_id, quote_index)
        return VaultQuote(strike, is_call, bid, ask)

    def batch_times(self, batch_id: int) -> tuple[int, int, int]:
        """(oracle time, expiry, valid until); zeros for an unknown batch."""
        oracle_time, expiry, valid_until = self.call("batchTimes", batch_id)
        return oracle_time, expiry, valid_until

    def long_position(self, taker: str, series: bytes) -> int:
        return self.call("longPositions", taker, series)

    def decode_packed(self, packed: Sequence[int]) -> list[int]:
        """The contract's reading of every slot of `packed`, in layout order."""
        return list(self.call("decodePacked", list(packed)))

    def state(self) -> VaultState:
        next_nonce = self.call("nextNonce")
        token = ContractClient(self.w3, self.call("token"), self.contracts.token.abi)
        return VaultState(
            next_nonce=next_nonce,
            state_commitment=self.call("stateCommitment"),
            portfolio_commitment=self.call("portfolioCommitment"),
            risk_limits=RiskLimits(*self.call("riskLimits")),
            collateral=self.call("collateral"),
            token_balance=token.call("balanceOf", self.address),
            next_batch_times=self.batch_times(next_nonce),
        )


@dataclass(frozen=True)
class VaultStack:
    """Token, oracle, verifier and vault deployed together (deploy_vault_stack)."""

    token: TestTokenClient
    oracle: SpotOracleClient
    verifier: Groth16VerifierClient
    vault: QuoteVaultClient


def deploy_vault_stack(
    w3: Web3,
    contracts: VaultContracts,
    *,
    solver: str,
    first_nonce: int,
    limits: RiskLimits,
    verifying_key: VerifyingKey | None = None,
    verifier: Groth16VerifierClient | None = None,
    max_oracle_age: int = 300,
    quote_lifetime: int = 600,
    token_decimals: int = 6,
) -> VaultStack:
    """Deploy a TestToken, a SpotOracle, the batch verifier (generated from `verifying_key`, unless
    an already deployed `verifier` is given) and a QuoteVault over them, all from w3.eth.default_account
    (which becomes the token's minter, the oracle's owner and the vault's governance)."""
    if verifier is None:
        if verifying_key is None:
            raise ValueError("give the batch circuit's verifying key, or a deployed verifier")
        verifier = Groth16VerifierClient.deploy(w3, verifying_key)
    token = TestTokenClient.deploy(w3, contracts, decimals=token_decimals)
    oracle = SpotOracleClient.deploy(w3, contracts)
    vault = QuoteVaultClient.deploy(
        w3, contracts, token=token.address, oracle=oracle.address, verifier=verifier.address, solver=solver,
        first_nonce=first_nonce, limits=limits, max_oracle_age=max_oracle_age, quote_lifetime=quote_lifetime,
    )
    return VaultStack(token, oracle, verifier, vault)
