// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {
    BatchLayout,
    IBatchVerifier,
    BATCH_COMMITTED_INPUT_COUNT,
    BATCH_ELEMENT_COUNT,
    BATCH_EXPIRY_COUNT,
    BATCH_PUBLIC_INPUT_COUNT,
    BATCH_QUOTE_COUNT,
    BATCH_QUOTE_TREE_DEPTH
} from "generated/BatchLayout.sol";
import {BatchChecks} from "./BatchChecks.sol";
import {BatchStatement} from "./BatchStatement.sol";
import {BookLedger} from "./BookLedger.sol";
import {ExpirySettlement} from "./ExpirySettlement.sol";
import {IVIndexOracle} from "./IVIndexOracle.sol";
import {PoseidonT3} from "./PoseidonT3.sol";
import {QuoteTree} from "./QuoteTree.sol";
import {SpotOracle} from "./SpotOracle.sol";
import {VaultSettings} from "./VaultSettings.sol";

/// @title QuoteVault: option quotes trade only after a Groth16 proof over the vault's own book
/// @notice The solver proves off-chain (circuits/book_batch.py, docs/real-book.md) that the book
///     the vault recorded, brought up to a fill index by the fills the vault chained, opens to a
///     new book commitment and a mark; that each quote is the engine's fixed-point
///     Black-Scholes-Merton mid on its expiry's SVI smile at the oracle's spot, plus or minus a
///     half spread no smaller than the floor of the solver's committed policy (whose vega charge
///     uses the proven book's net vega); and the worst case of that book after any fills of the
///     quotes up to their sizes, with risk_ok = whether the risk limits hold. The vault assembles
///     the whole public inputs itself and checks every packed field it did not choose.
///
///     Trust notes: each value a proof carries, who chooses it, and what bounds it.
///         book_before, chain_from   the vault's storage (bookCommitment, head[provenFills]):
///                                   a proof over any other book does not verify
///         fills_from, fills_to      fills_from = provenFills; provenFills <= fills_to <= fillCount,
///                                   chain_to = the vault's head[fills_to]; with quotes, fills_to =
///                                   fillCount (the worst case covers exactly the live book); a
///                                   mark with fills_to below settlementFills (the last settlement
///                                   record, the vault's own count) still holds a settled expiry:
///                                   NAV waits for a later one (markFresh)
///         book_after, mark,         outputs of the proof, computed in the circuit from the
///         worst_loss, risk_ok,      vault's book and fills: each position's Greeks and mid come
///         atm_variance              from its own terms on its expiry's smile
///         quotes_root, quoted       outputs of the proof: the Poseidon Merkle root of the quote
///                                   elements it proved (circuits/merkle.py), and whether some
///                                   quote's size is positive (a trading batch)
///         spot, oracle_time         the SpotOracle's latest observation, at most maxOracleAge old
///         rate, carry               governance (setMarketSettings)
///         limits, model_margin      governance (setRiskLimits, setMargins)
///         nonce                     storage: each nonce once, in order
///         state_commitment          the solver's spread policy (setStateCommitment): it only sets
///                                   how wide above the proven floor the solver may not quote
///
///     Proof kind. A vault takes one kind of proof, fixed at construction by its verifier's input
///     count: plain Groth16 (bits mode: BATCH_PUBLIC_INPUT_COUNT inputs, submitBatch) or Groth16
///     with one Pedersen commitment (lookup mode, prover.committed: BATCH_COMMITTED_INPUT_COUNT,
///     the same inputs then a challenge; submitCommittedBatch). The entry of the other kind is
///     refused (ProofKindMismatch) before any statement check. A committed proof carries three more
///     values, all chosen by the solver:
///         commitment D              a Pedersen commitment to the lookup's limbs and
///                                   multiplicities and a fresh blinding scalar, fixed before the
///                                   challenge: bound by the pairing check (D joins vk_x)
///         knowledgeProof P          P = sigma·D, that D was made from the key's commitment basis:
///                                   checked inside the same pairing, weighted by a hash of the
///                                   whole proof and statement (the folded verifier)
///         challenge                 the lookup's random point: the verifier refuses any value but
///                                   sha256(CHALLENGE_TAG, D, the inputs above) mod r
///                                   (ChallengeMismatch), so the solver cannot pick it after D
///     Lookup-mode keys are development keys: the commitment key's sigma is no ceremony's (with
///     sigma a prover could make P for a D over other bases, public inputs' among them, and shift
///     the statement), so a committed vault is for devnets until a ceremony covers sigma.
///     What the solver still chooses, and within which bounds:
///         - each expiry's SVI smile (a, b, rho, m, sigma): its ATM vol sqrt(w(0)/t) must lie within
///           ivBand of the IVIndexOracle's index (at most maxOracleAge old), and the circuit
///           requires no butterfly arbitrage (Durrleman's g(k) >= 0) at every book and quoted
///           strike; the wings beyond the ATM point are otherwise the solver's;
///         - the book's expiries beyond the live ones (dummies, within the same band), and which
///           fill index a pure book update stops at;
///         - the quotes: strike, expiry (one of the proof's), type, half spread above the floor,
///           size (the worst case of every size must hold the limits, and fit the free collateral);
///         - the regime flag (high_vol), which only widens the floor;
///         - when to submit, and cancelQuotes().
///     The book is public (every fill is an event and a slot here); the proof keeps it private
///     only because opening one commitment costs fewer public inputs than P slots.
///
///     Quotes. They are not public inputs: the proof publishes one root of them (quotes_root), so
///     the verifier's cost and the batch's storage do not grow with the number of quotes. The
///     vault stores the root and emits the elements the solver submits once (QuotesPublished),
///     unchecked: that event is data availability for takers, nothing more. A fill or sell shows
///     its quote's element and Merkle path (QuoteTree: BATCH_QUOTE_TREE_DEPTH siblings, the
///     direction bits being the quote's index) and trades only at the terms of an element the
///     proof hashed into the root, at its own index. A solver that emits wrong elements only
///     makes its quotes unfillable until a taker learns the right ones (from the solver).
///
///     Batches. A batch whose quotes all have size 0 is a pure book update: accepted whatever
///     risk_ok says (a breached limit must never freeze the book, the mark or settlement), and the
///     live batch stays. A batch with a quote of positive size needs risk_ok = 1, fills_to =
///     fillCount, and worst_loss + solvencyMargin <= free collateral; it supersedes the live batch
///     (one live batch at a time). Takers buy at ask and sell back at bid while: the batch is the
///     live one, before validUntil = min(oracle time + quoteLifetime, the first expiry), the
///     oracle's latest observation is at most maxOracleAge old and within spotTolerance of the
///     batch's spot, and the quote's size is not used up (buys and sells both use it: the worst
///     case covers size either way). quoteLifetime <= maxOracleAge. Each fill appends to the fill
///     chain and updates the series' slot; at most fillCapacity fills wait for a proof.
///
///     Units. Prices, strikes, sizes, vols, variances and Greeks are the engine's fixed-point
///     integers, x · 2^48 (BatchLayout.FRAC_BITS). Premiums, collateral and NAV are in the token's
///     base units. A quote's strike is 2^40 + strike_units · 2^32, its size size_units · 2^36.
///
///     LP shares. The vault is an ERC-4626 vault (OpenZeppelin's) over its collateral token: LPs
///     deposit and redeem at NAV, totalAssets() = collateral - unclaimedPayoffs - provenMark -
///     unprovenPremiums, the last two only while an expiry is live. provenMark is the latest proof's
///     mark as a liability, rounded up in token units (the vault is only ever short: takers sell
///     back only what they bought). Premiums received for fills no proof has marked yet count as a
///     liability until a proof marks them (unprovenPremiums), so that an LP who redeems right after
///     a sale does not take the premium of an option still open. Once no expiry is live, every
///     option sold has settled and its payoffs are set aside: NAV is collateral - unclaimedPayoffs,
///     needing no mark. collateral counts only tokens that moved through the vault's own
///     transfers (a donation is not NAV). Shares have DECIMALS_OFFSET more decimals than the token,
///     and the conversions count 10^DECIMALS_OFFSET virtual shares and 1 virtual asset (OpenZeppelin's
///     defence of the first-deposit attack). Every conversion rounds in the vault's favour
///     (ERC4626's rules, inherited).
///
///     Governance is an OpenZeppelin TimelockController whose delay is at least
///     MIN_GOVERNANCE_DELAY: a change of limits, margins, rate, carry or oracle settings is
///     scheduled in public and applies no sooner than that delay later.
///
///     Expiry settlement (ExpirySettlement, a linked library). Options are European and
///     cash-settled in the collateral token. settleExpiry(E, i), anyone may call: observation i of
///     the SpotOracle (which keeps every observation) must be the first at or after E and no later
///     than E + lifecycle.settlementWindow, else the call is refused (a missing observation delays
///     settlement; none but the first is ever a settlement price). E leaves the book (the chain
///     record E << 9, counting against the fill capacity like a fill, docs/real-book.md) and its
///     payoffs, rounded up, are set aside in unclaimedPayoffs; when they exceed the collateral not
///     owed to earlier expiries, what there is is set aside and holders are paid pro rata. Each
///     holder claims its own position only, rounded down. While another expiry is still live, the
///     settled expiry's part of provenMark (and the unproven premiums of its fills) would still count
///     in NAV beside its payoffs: the proof publishes one mark for the whole book, so no part of it
///     can be taken out soundly (a per-expiry mark would need a circuit change). NAV would be
///     understated, and a depositor would buy shares cheap from the LPs until the next proof lifts
///     it; so the mark is stale (markFresh) until a proof's fills_to reaches the settlement record
///     (settlementFills): deposits, mints, withdrawals, redemptions and queued redemptions wait for
///     a proof of the book without the settled expiry. Once no expiry is live, neither counts.
///
///     NAV freshness. markFresh(): no expiry is live (NAV needs no mark) or the proven mark is at
///     most lifecycle.maxMarkAge old and covers the last settlement record (settlementFills). While it is not, maxDeposit, maxMint, maxWithdraw and
///     maxRedeem are 0 (ERC4626's typed errors refuse the calls).
///
///     Collateral and the redemption queue. provenWorstLoss is the proven worst-case loss
///     (worst_loss, beyond the mark: the circuit's scenario rows measure the change from it) in
///     token units, rounded up, from every accepted batch, a pure book update too; a pure update
///     does not lower it while the live batch's quotes can still fill (its worst case leaves them
///     out). worstLossReserve() is provenWorstLoss while an expiry is live or quotes can fill, else
///     0. Redemptions never take the collateral below the liabilities of NAV plus that reserve:
///     freeAssets() = NAV - worstLossReserve(). Instant withdrawals and redemptions take at most
///     instantAssets() = freeAssets() less the queued requests' shares at NAV (rounded up), so none
///     jumps the queue. requestRedeem escrows shares at the queue's tail; settleRedeem(id), anyone
///     may call, pays only the oldest unpaid request (RedeemRequestNotNext otherwise), to its owner,
///     all of it at NAV once a mark observed after the request is fresh (or no expiry is live) and
///     freeAssets() covers it (RedeemRequestWaitsForMark, RedeemRequestWaitsForCollateral): it and
///     every later request wait until a proof lowers the worst case or the collateral grows.
///
///     Wind-down. windingDown(): an expiry is live and no batch was accepted for more than
///     lifecycle.maxProofGap after the last one's oracle time (markTime). Derived from the time, so
///     no one need call anything and nothing can be raced. While it holds, batches, fills and
///     deposits are refused (WindingDown, ERC4626ExceededMaxDeposit); settlement, claims, requests
///     and redemptions go on. It ends when the last live expiry settles: then NAV needs no mark,
///     markFresh() holds, nothing can lose, and LPs redeem pro rata at NAV = collateral -
///     unclaimedPayoffs. A vault with nothing open needs no proof, so a returning solver may then
///     quote again.
///
///     Bounds, all governance's through the timelock: maxOracleAge, quoteLifetime, spotTolerance,
///     ivBand, rate, carry, risk limits, modelMargin, solvencyMargin, settlementWindow (<= 7 days,
///     default 1 hour), maxMarkAge (<= 30 days, default 1 day), maxProofGap (<= 30 days, default
///     7 days; raising it through the timelock lets a late solver resume before the book settles).
///
///     Code. submitBatch's statement checks (BatchStatement), the settings' checks (VaultSettings)
///     and expiry settlement (ExpirySettlement) are external libraries linked at deployment (their
///     errors and events are this contract's, at this address), to stay under EIP-170.
///
///     Still trusted: the SpotOracle's owner for its values and timestamps (they set the fills'
///     spot, every proof's spot and every settlement price) and the IVIndexOracle's owner for the
///     vol band; an oracle that misses an expiry's settlement window leaves that expiry unsettled
///     (its positions stay in the book, valued by the proofs' marks) rather than settled at a later
///     price (winding down, that expiry never settles and LPs' redemptions wait). The worst-case reserve is as
///     good as the proofs' scenario range and model_margin (governance's). The collateral token is
///     a plain ERC-20 (no transfer callbacks); LPs check that `governance` holds TimelockController
///     code. Margin for takers who sell options they do not hold is later work.
/// @dev A batch is named by its nonce (batchId == the nonce it was proven with).
contract QuoteVault is ERC4626 {
    using BookLedger for BookLedger.Book;

    /// @notice The proofs a vault takes (one kind per vault, its verifier's): plain Groth16 of the
    ///     bits-mode circuit, or Groth16 with a commitment of the lookup-mode circuit.
    enum ProofKind {
        Groth16,
        CommittedGroth16
    }

    struct RiskLimits {
        uint128 maxAbsDelta;
        uint128 maxAbsGamma;
        uint128 maxAbsVega;
        uint128 maxLoss;
    }

    /// @dev One storage slot: submitBatch and every fill read both with one SLOAD.
    struct OracleSettings {
        /// Oldest oracle observation a batch may be proven against or a fill may trade at, in seconds.
        uint64 maxOracleAge;
        /// Quotes stay valid this many seconds after the oracle observation (<= maxOracleAge).
        uint64 quoteLifetime;
    }

    /// @dev Governance's market values, one storage slot.
    struct MarketSettings {
        /// Risk-free rate and carry (2^-48 per year) every proof must use.
        int64 rate;
        int64 carry;
        /// Largest relative spot move (2^-48 fraction) from a batch's spot at which its quotes still fill.
        uint64 spotTolerance;
        /// Each expiry's ATM vol must lie within ivBand (2^-48 vol) of the implied-vol index.
        uint64 ivBand;
    }

    /// @dev Governance's margins, one storage slot.
    struct Margins {
        /// Added to every scenario loss in the circuit (2^-48 quote currency): covers the
        /// delta-gamma-vega expansion's gap against full repricing (benchmarks/bench_book.py).
        uint128 modelMargin;
        /// Free collateral demanded above the proven worst-case loss (token units).
        uint128 solvencyMargin;
    }

    /// @dev Governance's lifecycle bounds, one storage slot.
    struct LifecycleSettings {
        /// Seconds after an expiry within which the oracle's first observation settles it.
        uint64 settlementWindow;
        /// Oldest proven mark at which LPs deposit or redeem at once (seconds, against markTime).
        uint64 maxMarkAge;
        /// Longest the solver may go without an accepted proof while an expiry is live (seconds,
        /// against markTime): past it the vault winds down (windingDown).
        uint64 maxProofGap;
    }

    /// @dev Shares held in escrow by the vault until the queue reaches them. slither's timestamp
    ///     detector taints whatever a request's shares reach (requestedAt shares the struct), so
    ///     collateral too: comparisons it flags for that reason alone are marked "requestedAt taint".
    struct RedeemRequest {
        address owner;
        uint64 requestedAt;
        uint256 shares;
    }

    /// @dev The contracts a vault reads, and its book's capacities (the circuit's P and F).
    struct Dependencies {
        SpotOracle oracle;
        IVIndexOracle ivOracle;
        PoseidonT3 poseidon;
        IBatchVerifier verifier;
        address solver;
        TimelockController governance;
        uint64 firstNonce;
        uint16 bookCapacity;
        uint32 fillCapacity;
    }

    /// @dev The live batch: its times and spot in one slot, the proof's expiries, the root of its
    ///     quote elements (the quotes themselves are not stored: a fill shows its element and path)
    ///     and how much of each quote's size fills have used.
    struct Batch {
        uint64 oracleTime;
        uint64 validUntil;
        uint128 spot;
        uint40[BATCH_EXPIRY_COUNT] expiries;
        uint256 quotesRoot;
        uint256[BATCH_QUOTE_COUNT] used;
    }

    /// @notice Largest fill size (2^-48 fixed point): a quote's size is below 2^72 (36 bits on a
    ///     2^36 grid), and with an ask below 2^88 and a premium unit of at most 10^18 < 2^60,
    ///     ask · size · unit stays below 2^220: a premium never overflows.
    uint256 public constant MAX_FILL_SIZE = (1 << 72) - 1;
    uint8 public constant MAX_TOKEN_DECIMALS = 18;
    /// @notice Shares have this many more decimals than the token (OpenZeppelin ERC4626's _decimalsOffset).
    uint8 public constant DECIMALS_OFFSET = 6;
    /// @notice The shortest governance delay the vault accepts: the time LPs have to leave.
    uint256 public constant MIN_GOVERNANCE_DELAY = 1 days;
    /// @notice A quote's strike: STRIKE_MIN + strike_units << STRIKE_GRID_BITS (engine.fixed_book).
    uint256 public constant STRIKE_GRID_BITS = 32;
    /// @notice The settlement window a vault starts with, and the longest governance may set (seconds).
    uint64 public constant DEFAULT_SETTLEMENT_WINDOW = 1 hours;
    uint64 public constant MAX_SETTLEMENT_WINDOW = 7 days;
    /// @notice The mark age a vault starts with, and the longest governance may set (seconds).
    uint64 public constant DEFAULT_MAX_MARK_AGE = 1 days;
    uint64 public constant MAX_MARK_AGE = 30 days;
    /// @notice The proof gap a vault starts with, and the longest governance may set (seconds).
    uint64 public constant DEFAULT_MAX_PROOF_GAP = 7 days;
    uint64 public constant MAX_PROOF_GAP = 30 days;
    /// @notice A quote's size: size_units << SIZE_GRID_BITS (engine.fixed_book).
    uint256 public constant SIZE_GRID_BITS = 36;

    // ---------------------------------------------------------------- errors

    error NotSolver(address caller);
    error NotGovernance(address caller);
    /// @notice `governance` has no code: it cannot be a TimelockController.
    error GovernanceNotTimelock(address governance);
    /// @notice The governance timelock's delay `delay` is below MIN_GOVERNANCE_DELAY (`minDelay`).
    error GovernanceDelayTooShort(uint256 delay, uint256 minDelay);
    /// @notice Oracle settings need 0 < quoteLifetime <= maxOracleAge.
    error OracleSettingsInvalid(uint64 maxOracleAge, uint64 quoteLifetime);
    /// @notice Governance's rate or carry lies outside the circuit's window, the spot tolerance is
    ///     not below 1, or the band exceeds BatchChecks.VOL_CAP.
    error MarketSettingsInvalid(int64 rate, int64 carry, uint64 spotTolerance, uint64 ivBand);
    /// @notice The verifier takes `actual` public inputs; this vault's batch layout has `expected`
    ///     (or one more, the challenge, for a committed verifier).
    error VerifierInputCountMismatch(uint256 expected, uint256 actual);
    /// @notice A proof of kind `submitted` came to a vault whose verifier takes `vaultKind`.
    error ProofKindMismatch(ProofKind vaultKind, ProofKind submitted);
    /// @notice The token has `decimals` > MAX_TOKEN_DECIMALS (premiums could overflow).
    error TokenDecimalsUnsupported(uint8 decimals);
    /// @notice Risk limit `limit` (0 delta, 1 gamma, 2 vega, 3 loss, 4 model margin) is `value`,
    ///     above the `max` the circuit admits.
    error RiskLimitOutOfRange(uint256 limit, uint256 value, uint256 max);
    /// @notice The packed spot is not the oracle's.
    error SpotMismatch(uint256 oracleSpot, int256 packedSpot);
    /// @notice The packed oracle time is not the oracle's.
    error OracleTimeMismatch(uint64 oracleTime, int256 packedOracleTime);
    /// @notice The packed rate or carry is not governance's.
    error RateMismatch(int64 rate, int64 carry, int256 packedRate, int256 packedCarry);
    /// @notice The packed nonce is not the next one the vault accepts (a replay, or out of order).
    error NonceMismatch(uint64 expected, int256 packed);
    /// @notice The packed risk limit `limit` (0 delta, 1 gamma, 2 vega, 3 loss, 4 model margin) is not governance's.
    error RiskLimitMismatch(uint256 limit, uint256 expected, int256 packed);
    /// @notice A batch with quotes was proven at fill `fillsTo`; `fillCount` fills are recorded.
    error FillsPending(uint256 fillsTo, uint256 fillCount);
    /// @notice A batch with quotes whose proven worst case breaks a risk limit (risk_ok = 0).
    error RiskLimitsBreached();
    /// @notice The implied-vol index has never been posted.
    error NoVolIndex();
    error UnknownBatch(uint256 batchId);
    /// @notice Batch `batchId` is not the live one (superseded, cancelled, or a book update).
    error BatchNotLive(uint256 batchId);
    error QuoteIndexOutOfRange(uint256 quoteIndex, uint256 quoteCount);
    /// @notice The batch's quotes were valid until `validUntil`; it is now `blockTime`.
    error QuoteExpired(uint256 batchId, uint64 validUntil, uint256 blockTime);
    error SizeOutOfRange(uint256 size, uint256 max);
    /// @notice The quote has `remaining` of its proven size left; the fill asks for `size`.
    error QuoteSizeExceeded(uint256 quoteIndex, uint256 size, uint256 remaining);
    /// @notice This quote's ask is not positive: there is nothing to buy at it.
    error AskNotPositive(int256 ask);
    /// @notice This quote's bid is not positive: the vault does not buy at it.
    error BidNotPositive(int256 bid);
    error PremiumAboveMaximum(uint256 premium, uint256 maxPremium);
    error PremiumBelowMinimum(uint256 premium, uint256 minPremium);
    /// @notice The taker holds `held` of this option series, less than the `size` it tried to sell.
    error PositionTooSmall(uint256 held, uint256 size);
    error InsufficientCollateral(uint256 available, uint256 needed);
    /// @notice The settlement window, the mark age and the proof gap must lie in (0, their maximum] seconds.
    error LifecycleSettingsInvalid(uint64 settlementWindow, uint64 maxMarkAge, uint64 maxProofGap);
    /// @notice The vault is winding down: an expiry is live and no proof was accepted since the one
    ///     observed at `markTime`, more than `maxProofGap` seconds ago. No batch, fill or deposit.
    error WindingDown(uint64 markTime, uint64 maxProofGap);
    /// @notice Request `id` is not the oldest unpaid one (`next`): paid already, not made yet, or behind it.
    error RedeemRequestNotNext(uint256 id, uint256 next);
    /// @notice Request `id` is worth `assets`, more than the `free` assets redemptions may take now
    ///     (NAV less the worst-case reserve): it waits for a proof that lowers the worst case or more collateral.
    error RedeemRequestWaitsForCollateral(uint256 id, uint256 assets, uint256 free);
    /// @notice Request `id`, made at `requestedAt`, waits for a fresh mark observed after it (the last is `markTime`).
    error RedeemRequestWaitsForMark(uint256 id, uint64 requestedAt, uint64 markTime);
    /// @notice A redeem request needs at least one share.
    error RedeemRequestEmpty();

    // ---------------------------------------------------------------- events

    event StateCommitmentUpdated(uint256 stateCommitment);
    event RiskLimitsUpdated(uint256 maxAbsDelta, uint256 maxAbsGamma, uint256 maxAbsVega, uint256 maxLoss);
    event OracleSettingsUpdated(uint64 maxOracleAge, uint64 quoteLifetime);
    event MarketSettingsUpdated(int64 rate, int64 carry, uint64 spotTolerance, uint64 ivBand);
    event MarginsUpdated(uint128 modelMargin, uint128 solvencyMargin);
    event LifecycleUpdated(uint64 settlementWindow, uint64 maxMarkAge, uint64 maxProofGap);
    event RedeemRequested(uint256 indexed id, address indexed owner, uint256 shares);
    event RedeemRequestSettled(uint256 indexed id, address indexed owner, uint256 shares, uint256 assets);
    /// @notice The worst-case loss held back from redemptions is now `liability` token units.
    event ProvenWorstLossUpdated(uint256 liability);
    /// @notice A proof marked the book at `markTime`: `mark` (2^-48 quote currency, the vault's
    ///     positions times their mids) is a liability of `liability` token units.
    event ProvenMarkUpdated(int256 mark, uint256 liability, uint64 markTime);
    /// @notice Settled payoffs not yet claimed changed to `unclaimed` (token units).
    event UnclaimedPayoffsUpdated(uint256 unclaimed);
    /// @notice Batch `batchId` was accepted; `live` when its quotes now trade (it has a quote of positive size).
    event BatchAccepted(
        uint256 indexed batchId,
        bool live,
        uint256 spot,
        uint64 oracleTime,
        uint64 validUntil,
        uint256 fillsTo,
        uint256 worstLoss
    );
    /// @notice The live batch `batchId`'s quote elements (BatchLayout.quoteMid(element), ...), as the
    ///     solver submitted them, for takers to fill from: quote i is leaf i of the tree whose proven
    ///     root is `quotesRoot`. Not checked here (hashing them all would cost more than the design
    ///     saves): a fill shows its element and Merkle path against the root, so a wrong element
    ///     here can only make its quote unfillable, never fill at other terms.
    event QuotesPublished(uint256 indexed batchId, uint256 quotesRoot, uint256[] quotes);
    /// @notice The solver withdrew the live batch `batchId`.
    event QuotesCancelled(uint256 indexed batchId);
    /// @notice A taker bought (takerBuys) at ask, or sold at bid, `size` contracts of `series` for
    ///     `premium` token units.
    event Filled(
        uint256 indexed batchId,
        address indexed taker,
        bytes32 indexed series,
        uint256 quoteIndex,
        bool takerBuys,
        uint256 size,
        int256 price,
        uint256 premium
    );

    // ---------------------------------------------------------------- configuration

    SpotOracle public immutable oracle;
    IVIndexOracle public immutable ivOracle;
    PoseidonT3 public immutable poseidon;
    /// @notice An IBatchVerifier, or an ICommittedBatchVerifier when proofKind is CommittedGroth16.
    IBatchVerifier public immutable verifier;
    /// @notice The kind of proof this vault takes (its verifier's, by its input count).
    ProofKind public immutable proofKind;
    address public immutable solver;
    /// @notice The only caller of the settings' setters: a timelock (see the notes).
    TimelockController public immutable governance;
    /// @notice 10^decimals: token base units per unit of the quote currency.
    uint256 public immutable premiumUnit;

    // ---------------------------------------------------------------- state

    /// @notice Commitment to the solver's spread policy (book_batch.policy_commitment).
    uint256 public stateCommitment;
    RiskLimits public riskLimits;
    OracleSettings public oracleSettings;
    MarketSettings public marketSettings;
    Margins public margins;
    /// @notice The nonce the next batch must carry (and the id it will get).
    uint64 public nextNonce;
    /// @notice The batch whose quotes trade, when hasLiveBatch.
    uint64 public liveBatch;
    bool public hasLiveBatch;
    /// @notice When the proven mark was observed (the oracle time of the batch that proved it).
    uint64 public markTime;
    /// @notice The fill count a proof must have reached (provenFills) for its mark to be fresh: the
    ///     chain's length after the last settlement, whose expiry the marks before it still hold.
    uint64 public settlementFills;
    /// @notice The latest proof's mark, 2^-48 quote currency (the vault's positions times their mids).
    int256 public mark;
    /// @notice Tokens on the vault's books: what came in through its transfers minus what went out.
    uint256 public collateral;
    /// @notice The mark as a liability in token units: ceil(-mark · premiumUnit / 2^48), 0 when mark >= 0.
    uint256 public provenMark;
    /// @notice Payoffs of settled expiries set aside and not yet claimed (token units).
    uint256 public unclaimedPayoffs;
    mapping(address taker => mapping(bytes32 series => uint256 size)) public longPositions;
    /// @notice premiumsIn[k]: premiums received (token units) by the first k fills, for unprovenPremiums.
    mapping(uint256 k => uint256) public premiumsIn;
    mapping(uint256 batchId => Batch) private _batches;
    BookLedger.Book private _book;
    /// @notice Governance's lifecycle bounds (see LifecycleSettings).
    LifecycleSettings public lifecycle =
        LifecycleSettings(DEFAULT_SETTLEMENT_WINDOW, DEFAULT_MAX_MARK_AGE, DEFAULT_MAX_PROOF_GAP);
    /// @notice Redemption requests not yet paid, by id (ERC-7540 style), paid in id order.
    mapping(uint256 id => RedeemRequest) public redeemRequests;
    uint256 public redeemRequestCount;
    /// @notice The oldest unpaid request: the only one settleRedeem pays next (redeemRequestCount when none).
    uint256 public redeemQueueHead;
    /// @notice Shares escrowed by unpaid requests.
    uint256 public queuedShares;
    /// @notice The proven worst-case loss (token units, rounded up) that redemptions leave in the
    ///     vault while anything can still lose: the last proof's, or the live batch's while its quotes
    ///     can fill and a later pure book update's worst case (which leaves them out) is smaller.
    uint256 public provenWorstLoss;
    ExpirySettlement.Ledger private _settlements;

    /// @param token_ The collateral token: the ERC-4626 asset, in which premiums are paid.
    /// @param deps The oracles, Poseidon, the verifier, solver, governance (an OpenZeppelin
    ///     TimelockController with a delay of at least MIN_GOVERNANCE_DELAY), the first nonce and
    ///     the book's capacities (the circuit's P slots and F fills).
    constructor(
        IERC20Metadata token_,
        Dependencies memory deps,
        OracleSettings memory settings,
        RiskLimits memory limits,
        MarketSettings memory market,
        Margins memory margins_
    ) ERC20("DLPE vault share", "DLPE-LP") ERC4626(token_) {
        // The kind is the verifier's: the committed one takes the challenge after the layout's inputs.
        uint256 inputs = deps.verifier.PUBLIC_INPUT_COUNT();
        if (inputs != BATCH_PUBLIC_INPUT_COUNT && inputs != BATCH_COMMITTED_INPUT_COUNT) {
            revert VerifierInputCountMismatch(BATCH_PUBLIC_INPUT_COUNT, inputs);
        }
        proofKind = inputs == BATCH_PUBLIC_INPUT_COUNT ? ProofKind.Groth16 : ProofKind.CommittedGroth16;
        uint8 tokenDecimals = token_.decimals();
        if (tokenDecimals > MAX_TOKEN_DECIMALS) revert TokenDecimalsUnsupported(tokenDecimals);
        // An address without code answers every call with success and no data, which would not
        // decode as a delay: refuse it by name first.
        if (address(deps.governance).code.length == 0) revert GovernanceNotTimelock(address(deps.governance));
        uint256 delay = deps.governance.getMinDelay();
        if (delay < MIN_GOVERNANCE_DELAY) revert GovernanceDelayTooShort(delay, MIN_GOVERNANCE_DELAY);
        oracle = deps.oracle;
        ivOracle = deps.ivOracle;
        poseidon = deps.poseidon;
        verifier = deps.verifier;
        // missing-zero-check: a zero solver signs nothing: such a vault accepts
        // no batch and puts nothing at risk (deploy_vault_stack always passes an account)
        // slither-disable-next-line missing-zero-check
        solver = deps.solver;
        governance = deps.governance;
        premiumUnit = 10 ** tokenDecimals;
        nextNonce = deps.firstNonce;
        _book.initialize(deps.poseidon, deps.bookCapacity, deps.fillCapacity);
        VaultSettings.setOracleSettings(oracleSettings, settings);
        VaultSettings.setRiskLimits(riskLimits, limits);
        VaultSettings.setMarketSettings(marketSettings, market);
        VaultSettings.setMargins(margins, margins_);
    }

    // ---------------------------------------------------------------- solver and governance

    /// @notice The solver commits to its spread policy (Poseidon(Poseidon(policy), salt)); the
    ///     proof shows every half spread is at least that policy's floor. Not the book: the book
    ///     is the vault's.
    function setStateCommitment(uint256 stateCommitment_) external {
        _requireSolver();
        stateCommitment = stateCommitment_;
        emit StateCommitmentUpdated(stateCommitment_);
    }

    /// @notice The solver withdraws the live batch: its quotes stop filling at once.
    function cancelQuotes() external {
        _requireSolver();
        if (hasLiveBatch) {
            hasLiveBatch = false;
            emit QuotesCancelled(liveBatch);
        }
    }

    /// @notice Governance sets the risk limits every batch proof must be checked against
    ///     (through its timelock: scheduled, then executed after the delay).
    function setRiskLimits(RiskLimits calldata limits) external {
        _requireGovernance();
        VaultSettings.setRiskLimits(riskLimits, limits);
    }

    /// @notice Governance sets the oldest oracle observation a batch or a fill may use and the
    ///     quotes' lifetime, both in seconds, 0 < quoteLifetime <= maxOracleAge (through its timelock).
    function setOracleSettings(OracleSettings calldata settings) external {
        _requireGovernance();
        VaultSettings.setOracleSettings(oracleSettings, settings);
    }

    /// @notice Governance sets the rate and carry of every proof, the spot tolerance of fills and
    ///     the ATM-vol band around the implied-vol index (through its timelock).
    function setMarketSettings(MarketSettings calldata market) external {
        _requireGovernance();
        VaultSettings.setMarketSettings(marketSettings, market);
    }

    /// @notice Governance sets the model margin of every proof and the solvency margin (through its timelock).
    function setMargins(Margins calldata margins_) external {
        _requireGovernance();
        VaultSettings.setMargins(margins, margins_);
    }

    /// @notice Oldest oracle observation a batch may be proven against, in seconds.
    function maxOracleAge() external view returns (uint64) {
        return oracleSettings.maxOracleAge;
    }

    /// @notice Quotes stay valid this many seconds after the oracle observation (and never past expiry).
    function quoteLifetime() external view returns (uint64) {
        return oracleSettings.quoteLifetime;
    }

    function _requireSolver() private view {
        if (msg.sender != solver) revert NotSolver(msg.sender);
    }

    function _requireGovernance() private view {
        if (msg.sender != address(governance)) revert NotGovernance(msg.sender);
    }

    // ---------------------------------------------------------------- LP shares (ERC-4626)

    /// @notice NAV in token units: collateral - unclaimedPayoffs - provenMark - unprovenPremiums,
    ///     where the mark and the unproven premiums count only while an expiry is live (with none,
    ///     every option sold has settled and its payoffs are set aside: they stand for nothing open);
    ///     0 when the liabilities reach the collateral (then maxDeposit and maxMint are 0: new money
    ///     would pay old debts).
    function totalAssets() public view override returns (uint256) {
        uint256 owed = unclaimedPayoffs;
        if (!_noLiveExpiry()) owed += provenMark + unprovenPremiums();
        // slither-disable-next-line timestamp -- compares no time: requestedAt taint (RedeemRequest's note)
        return owed >= collateral ? 0 : collateral - owed;
    }

    /// @notice Premiums received (token units) for fills that no accepted proof has marked yet: a
    ///     liability until a proof marks the options they bought.
    function unprovenPremiums() public view returns (uint256) {
        BookLedger.Counters memory counters = _book.counters;
        return premiumsIn[counters.fillCount] - premiumsIn[counters.provenFills];
    }

    /// @notice Deposits are open while NAV is positive (see totalAssets) and the mark fresh (markFresh).
    function maxDeposit(address receiver) public view override returns (uint256) {
        return _depositsClosed() ? 0 : super.maxDeposit(receiver);
    }

    /// @notice Mints are open while NAV is positive (see totalAssets) and the mark fresh (markFresh).
    function maxMint(address receiver) public view override returns (uint256) {
        return _depositsClosed() ? 0 : super.maxMint(receiver);
    }

    /// @notice What `owner` may withdraw now: its shares' worth at NAV, at most what instant
    ///     redemptions may take (instantAssets: nothing while the mark is stale).
    function maxWithdraw(address owner) public view override returns (uint256) {
        // Not super.maxWithdraw: OpenZeppelin's goes through maxRedeem, whose share count rounds down.
        return Math.min(_convertToAssets(balanceOf(owner), Math.Rounding.Floor), instantAssets());
    }

    /// @notice Shares `owner` may redeem now: all of them when their worth fits in instantAssets(),
    ///     else the shares it pays for (rounded down); none while it is 0.
    function maxRedeem(address owner) public view override returns (uint256) {
        uint256 instant = instantAssets();
        // A ledger value, not a balance (donations are not collateral); 0 while the mark is stale.
        // slither-disable-next-line incorrect-equality,timestamp -- exact 0: nothing may be taken
        if (instant == 0) return 0;
        uint256 shares = balanceOf(owner);
        // Not _convertToShares alone: with the virtual shares, a sole holder's shares may be worth
        // less than NAV while NAV converts back to fewer shares than it holds.
        // slither-disable-next-line timestamp -- freshness spans days: seconds of drift are moot
        if (_convertToAssets(shares, Math.Rounding.Floor) <= instant) return shares;
        return _convertToShares(instant, Math.Rounding.Floor);
    }

    /// @notice What redemptions may take now (token units): NAV less the worst-case reserve, so that
    ///     the collateral never falls below the liabilities (unclaimed payoffs, and while an expiry
    ///     is live the mark and unproven premiums) plus worstLossReserve(). The oldest request is paid
    ///     from it (settleRedeem).
    function freeAssets() public view returns (uint256) {
        uint256 nav = totalAssets();
        uint256 reserve = worstLossReserve();
        // slither-disable-next-line timestamp -- quotes fill for minutes: seconds of drift are moot
        return nav > reserve ? nav - reserve : 0;
    }

    /// @notice What instant withdrawals and redemptions may take now: freeAssets() less the assets
    ///     owed to queued requests (their shares at NAV, rounded up), so none jumps the queue; 0
    ///     while the mark is stale.
    function instantAssets() public view returns (uint256) {
        if (!markFresh()) return 0;
        uint256 free = freeAssets();
        uint256 queued = _convertToAssets(queuedShares, Math.Rounding.Ceil);
        // slither-disable-next-line timestamp -- compares no time: requestedAt taint (RedeemRequest's note)
        return free > queued ? free - queued : 0;
    }

    /// @notice The worst-case loss redemptions leave in the vault: provenWorstLoss while an expiry
    ///     is live or the live batch's quotes can fill, else 0 (nothing open can lose).
    function worstLossReserve() public view returns (uint256) {
        // slither-disable-next-line timestamp -- quotes fill for minutes: seconds of drift are moot
        return !_noLiveExpiry() || _quotesOpen() ? provenWorstLoss : 0;
    }

    /// @dev Whether the live batch's quotes can still fill (before their validUntil, and not winding down).
    function _quotesOpen() private view returns (bool) {
        // slither-disable-next-line timestamp -- quotes fill for minutes: seconds of drift are moot
        return hasLiveBatch && block.timestamp <= _batches[liveBatch].validUntil && !windingDown();
    }

    /// @notice Whether NAV rests on a fresh proof: no expiry is live (every fill's expiry has
    ///     settled, its payoffs set aside: nothing is left to mark), or the last proven mark is at most
    ///     lifecycle.maxMarkAge old and was proven over the book without the last settled expiry.
    function markFresh() public view returns (bool) {
        if (_noLiveExpiry()) return true;
        // slither-disable-next-line timestamp -- a mark ages in hours to days: seconds are moot
        return _book.counters.provenFills >= settlementFills
            && block.timestamp <= uint256(markTime) + lifecycle.maxMarkAge;
    }

    /// @dev No expiry is live: every option the vault sold has settled (a fill opens or keeps its
    ///     expiry live until settleExpiry), so nothing open is left to mark or to lose.
    function _noLiveExpiry() private view returns (bool) {
        return _book.counters.expiryCount == 0;
    }

    function _depositsClosed() private view returns (bool) {
        // NAV is a ledger value, not a balance (donations are not collateral); freshness spans days.
        // slither-disable-next-line incorrect-equality,timestamp -- exact 0: liabilities reach it
        return (totalAssets() == 0 && totalSupply() > 0) || !markFresh() || windingDown();
    }

    /// @notice Whether the vault is winding down: an expiry is live and the last accepted proof was
    ///     observed more than lifecycle.maxProofGap ago. Then no batch, fill or deposit is accepted;
    ///     settlement, claims and redemptions go on, and once the last expiry settles NAV needs no
    ///     mark (totalAssets) and LPs redeem pro rata. Derived from the time, so no call is needed and
    ///     none can be raced; a vault with nothing open needs no proof, so wind-down ends with the
    ///     last live expiry.
    function windingDown() public view returns (bool) {
        // slither-disable-next-line timestamp -- the proof gap is days: seconds of drift are moot
        return !_noLiveExpiry() && block.timestamp > uint256(markTime) + lifecycle.maxProofGap;
    }

    function _requireNotWindingDown() private view {
        if (windingDown()) revert WindingDown(markTime, lifecycle.maxProofGap);
    }

    /// @notice ERC-7540-style asynchronous redemption: the caller's `shares` go into the vault's
    ///     escrow now and join the queue; settleRedeem pays them at NAV, in request order. Use it when
    ///     the mark is stale or the worst case holds the collateral back (maxRedeem below the shares).
    function requestRedeem(uint256 shares) external returns (uint256 id) {
        if (shares == 0) revert RedeemRequestEmpty();
        _transfer(msg.sender, address(this), shares); // ERC20InsufficientBalance when it holds fewer
        id = redeemRequestCount++;
        queuedShares += shares;
        redeemRequests[id] = RedeemRequest(msg.sender, uint64(block.timestamp), shares);
        emit RedeemRequested(id, msg.sender, shares);
    }

    /// @notice Pay the oldest unpaid request, `id` (anyone may call; its owner is paid): its escrowed
    ///     shares at NAV, rounded down (ERC4626's previewRedeem). Refused unless a mark observed
    ///     after the request is fresh (or no expiry is live), and unless freeAssets() covers it:
    ///     until then it, and every later request, waits.
    function settleRedeem(uint256 id) external returns (uint256 assets) {
        uint256 next = redeemQueueHead;
        if (id != next || id >= redeemRequestCount) revert RedeemRequestNotNext(id, next);
        RedeemRequest memory request = redeemRequests[id];
        // slither-disable-next-line timestamp -- a mark ages in days; requestedAt only orders it
        if (!markFresh() || (markTime <= request.requestedAt && !_noLiveExpiry())) {
            revert RedeemRequestWaitsForMark(id, request.requestedAt, markTime);
        }
        assets = previewRedeem(request.shares);
        uint256 free = freeAssets();
        if (assets > free) revert RedeemRequestWaitsForCollateral(id, assets, free);
        delete redeemRequests[id];
        redeemQueueHead = id + 1;
        queuedShares -= request.shares;
        // Burn before the transfer (checks-effects-interactions): a callback sees the request paid.
        _burn(address(this), request.shares);
        emit RedeemRequestSettled(id, request.owner, request.shares, assets);
        _transferOut(request.owner, assets);
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }

    /// @dev Every token the vault receives (deposits, premiums) comes in here, and is collateral
    ///     once it has arrived: a callback from the token during the pull sees the vault as it was.
    function _transferIn(address from, uint256 assets) internal override {
        super._transferIn(from, assets); // SafeERC20.safeTransferFrom
        collateral += assets;
    }

    /// @dev Every token the vault pays (redemptions, premiums) goes out here, debited before the
    ///     transfer (checks-effects-interactions), so that a callback sees it gone.
    function _transferOut(address to, uint256 assets) internal override {
        uint256 available = collateral;
        // slither-disable-next-line timestamp -- compares no time: requestedAt taint (RedeemRequest's note)
        if (available < assets) revert InsufficientCollateral(available, assets);
        collateral = available - assets;
        super._transferOut(to, assets); // SafeERC20.safeTransfer
    }

    /// @dev The proof path's record of the book's mark: the liability NAV counts from now on.
    function _recordProvenMark(int256 mark_, uint256 liability, uint64 markTime_) private {
        mark = mark_;
        provenMark = liability;
        markTime = markTime_;
        emit ProvenMarkUpdated(mark_, liability, markTime_);
    }

    /// @dev Expiry settlement's record of payoffs owed and not yet claimed (token units).
    // slither-disable-next-line dead-code -- expiry settlement calls it (docs/real-book.md)
    function _recordUnclaimedPayoffs(uint256 unclaimed) internal {
        unclaimedPayoffs = unclaimed;
        emit UnclaimedPayoffsUpdated(unclaimed);
    }

    // ---------------------------------------------------------------- batches

    /// @notice Submit a batch proven with plain Groth16 (a vault of kind Groth16; ProofKindMismatch
    ///     otherwise). The vault assembles the whole public inputs (the solver's
    ///     policy commitment, its own book commitment and chain heads, and the proof's book_after),
    ///     checks every packed field it did not choose against the oracle, governance and its
    ///     storage (see the contract's notes), and has the verifier check the proof. Any failure
    ///     reverts and changes nothing.
    /// @param a Proof point A (G1): [x, y].
    /// @param b Proof point B (G2) in EIP-197 order: [[x.c1, x.c0], [y.c1, y.c0]].
    /// @param c Proof point C (G1): [x, y].
    /// @param bookAfter The book commitment the proof outputs, as of its fills_to.
    /// @param quotesRoot The Poseidon Merkle root of the quote elements, a public input of the proof.
    /// @param packed The batch's packed public elements (BatchLayout), as the circuit made them.
    /// @param quotes The quote elements, published (QuotesPublished) for takers when the batch trades;
    ///     not checked: each fill proves its quote's membership under quotesRoot.
    /// @return batchId The batch's id: the nonce it was proven with.
    function submitBatch(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256 bookAfter,
        uint256 quotesRoot,
        uint256[BATCH_ELEMENT_COUNT] calldata packed,
        uint256[] calldata quotes
    ) external returns (uint256 batchId) {
        // A plain proof has no commitment, proof of knowledge or challenge: zeros, never read.
        return _acceptBatch(
            BatchStatement.Proof(ProofKind.Groth16, a, b, c, [uint256(0), 0], [uint256(0), 0], 0),
            bookAfter,
            quotesRoot,
            packed,
            quotes
        );
    }

    /// @notice Submit a batch of the lookup-mode circuit proven with Groth16 and a commitment (a vault
    ///     of kind CommittedGroth16; ProofKindMismatch otherwise): as submitBatch, the verifier
    ///     taking the whole inputs and the packed elements, then `challenge` (see the notes).
    /// @param commitment The Pedersen commitment D (G1): [x, y].
    /// @param knowledgeProof Its proof of knowledge P = sigma·D (G1): [x, y].
    /// @param challenge The lookup's challenge: the verifier accepts only sha256(CHALLENGE_TAG, D, inputs) mod r.
    function submitCommittedBatch(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[2] calldata commitment,
        uint256[2] calldata knowledgeProof,
        uint256 challenge,
        uint256 bookAfter,
        uint256 quotesRoot,
        uint256[BATCH_ELEMENT_COUNT] calldata packed,
        uint256[] calldata quotes
    ) external returns (uint256) {
        return _acceptBatch(
            BatchStatement.Proof(ProofKind.CommittedGroth16, a, b, c, commitment, knowledgeProof, challenge),
            bookAfter,
            quotesRoot,
            packed,
            quotes
        );
    }

    /// @dev Both entries' work: the statement checked (BatchStatement, the proof's kind first), then
    ///     the effects.
    function _acceptBatch(
        BatchStatement.Proof memory proof,
        uint256 bookAfter,
        uint256 quotesRoot,
        uint256[BATCH_ELEMENT_COUNT] calldata packed,
        uint256[] calldata quotes
    ) private returns (uint256 batchId) {
        _requireSolver();
        _requireNotWindingDown();
        BatchStatement.Statement memory statement = _checkedStatement(proof, bookAfter, quotesRoot, packed);

        // Effects only after every check has passed, so that a rejected batch leaves no trace.
        // There is no interaction after them: the oracles and the verifier were only read.
        batchId = statement.nonce;
        nextNonce = statement.nonce + 1;
        _book.acceptProvenBook(statement.fillsTo, bookAfter);
        uint256 worstLoss = statement.worstLossTokens;
        // A pure book update proves the book without the live batch's unfilled sizes: while they
        // can still fill, it does not lower the loss the live batch proved.
        // slither-disable-next-line timestamp -- quotes fill for minutes: seconds of drift are moot
        if (!statement.live && _quotesOpen() && provenWorstLoss > worstLoss) worstLoss = provenWorstLoss;
        provenWorstLoss = worstLoss;
        emit ProvenWorstLossUpdated(worstLoss);
        _recordProvenMark(statement.mark, statement.liability, statement.oracleTime);
        uint64 validUntil = 0;
        if (statement.live) {
            validUntil = _recordLiveBatch(batchId, packed, quotesRoot, statement.spot, statement.oracleTime);
            emit QuotesPublished(batchId, quotesRoot, quotes);
        }
        emit BatchAccepted(
            batchId, statement.live, statement.spot, statement.oracleTime, validUntil, statement.fillsTo,
            statement.worstLoss
        );
    }

    /// @dev BatchStatement.check with the vault's storage (a function of its own: the entries' stacks
    ///     hold their arguments).
    function _checkedStatement(
        BatchStatement.Proof memory proof,
        uint256 bookAfter,
        uint256 quotesRoot,
        uint256[BATCH_ELEMENT_COUNT] calldata packed
    ) private view returns (BatchStatement.Statement memory) {
        return BatchStatement.check(
            _statementContext(bookAfter, quotesRoot), _book, riskLimits, oracleSettings, marketSettings, margins, proof,
            packed
        );
    }

    /// @dev The vault's values BatchStatement checks a batch against (besides its settings' storage),
    ///     and the two whole inputs the solver supplies.
    function _statementContext(uint256 bookAfter, uint256 quotesRoot)
        private
        view
        returns (BatchStatement.Context memory ctx)
    {
        ctx.oracle = oracle;
        ctx.ivOracle = ivOracle;
        ctx.verifier = verifier;
        ctx.proofKind = proofKind;
        ctx.stateCommitment = stateCommitment;
        ctx.nonce = nextNonce;
        ctx.collateral = collateral;
        ctx.unclaimedPayoffs = unclaimedPayoffs;
        ctx.premiumUnit = premiumUnit;
        ctx.bookAfter = bookAfter;
        ctx.quotesRoot = quotesRoot;
    }

    /// @dev The oracle's latest (spot, time), refused when older than maxOracleAge.
    function _freshSpot() private view returns (uint256 spot, uint64 oracleTime) {
        (spot, oracleTime) = oracle.latest();
        BatchChecks.requireFresh(oracleTime, oracleSettings.maxOracleAge, block.timestamp);
    }

    /// @dev Store the batch as the live one (superseding any other): its expiries, times, spot and
    ///     quotes' root (one slot whatever the number of quotes); its quotes valid until
    ///     min(oracle time + quoteLifetime, the first expiry).
    function _recordLiveBatch(
        uint256 batchId,
        uint256[BATCH_ELEMENT_COUNT] calldata packed,
        uint256 quotesRoot,
        uint256 spot,
        uint64 oracleTime
    ) private returns (uint64 validUntil) {
        Batch storage batch = _batches[batchId];
        for (uint256 e = 0; e < BATCH_EXPIRY_COUNT; ++e) {
            batch.expiries[e] = uint40(uint256(BatchLayout.expiryExpiry(packed, e))); // 40 bits, lo 0
        }
        validUntil = oracleTime + oracleSettings.quoteLifetime;
        // The circuit proves the expiries strictly increasing and each after the oracle's time.
        // slither-disable-next-line timestamp -- the oracle's time against expiries: no block time
        if (validUntil > batch.expiries[0]) validUntil = batch.expiries[0];
        batch.oracleTime = oracleTime;
        batch.validUntil = validUntil;
        batch.spot = uint128(spot); // the packed spot: < 2^81
        batch.quotesRoot = quotesRoot;
        liveBatch = uint64(batchId);
        hasLiveBatch = true;
    }

    // ---------------------------------------------------------------- fills

    /// @dev A quote's terms, read from its proven element and the batch's expiries.
    struct QuoteTerms {
        uint64 expiry;
        uint256 strike;
        bool isCall;
        int256 bid;
        int256 ask;
        uint256 size;
    }

    /// @notice Buy `size` contracts (2^-48 fixed point) of quote `quoteIndex` of the live batch
    ///     `batchId` at its ask, paying premium = ceil(ask · size · premiumUnit / 2^96) token units,
    ///     at most `maxPremium` (approve the vault first). The vault's position in the series falls
    ///     by `size`, recorded in its book and fill chain.
    /// @param element The quote's element as QuotesPublished gave it.
    /// @param path Its Merkle path to the batch's quotesRoot: BATCH_QUOTE_TREE_DEPTH siblings from the
    ///     leaf up (QuoteTree; circuits.merkle.merkle_path). The vault trades only at terms it proves.
    /// @return premium What was paid.
    function fill(
        uint256 batchId,
        uint256 quoteIndex,
        uint256 element,
        uint256[] calldata path,
        uint256 size,
        uint256 maxPremium
    ) external returns (uint256 premium) {
        (Batch storage batch, QuoteTerms memory terms) = _tradableQuote(batchId, quoteIndex, element, path, size);
        if (terms.ask <= 0) revert AskNotPositive(terms.ask);
        premium = _premium(uint256(terms.ask), size, true);
        if (premium > maxPremium) revert PremiumAboveMaximum(premium, maxPremium);
        bytes32 series = seriesId(terms.expiry, terms.strike, terms.isCall);
        // The premium is pulled first, as ERC4626 pulls a deposit before it mints: a callback from
        // the token during the pull sees the vault as it was before the fill, and a failed pull
        // reverts everything.
        _transferIn(msg.sender, premium);
        batch.used[quoteIndex] += size;
        _recordFill(terms, -int256(size), premium); // size <= MAX_FILL_SIZE < 2^72: exact
        longPositions[msg.sender][series] += size;
        emit Filled(batchId, msg.sender, series, quoteIndex, true, size, terms.ask, premium);
    }

    /// @notice Sell back `size` contracts of a series bought from the vault, at quote `quoteIndex`'s
    ///     bid (only when bid > 0), receiving premium = floor(bid · size · premiumUnit / 2^96) token
    ///     units, at least `minPremium`. The vault's position rises by `size`. `element` and `path`
    ///     as for fill.
    /// @return premium What was received.
    function sell(
        uint256 batchId,
        uint256 quoteIndex,
        uint256 element,
        uint256[] calldata path,
        uint256 size,
        uint256 minPremium
    ) external returns (uint256 premium) {
        (Batch storage batch, QuoteTerms memory terms) = _tradableQuote(batchId, quoteIndex, element, path, size);
        if (terms.bid <= 0) revert BidNotPositive(terms.bid);
        premium = _premium(uint256(terms.bid), size, false);
        if (premium < minPremium) revert PremiumBelowMinimum(premium, minPremium);
        bytes32 series = seriesId(terms.expiry, terms.strike, terms.isCall);
        uint256 held = longPositions[msg.sender][series];
        if (held < size) revert PositionTooSmall(held, size);
        // Effects before the transfer (checks-effects-interactions): the position is reduced, and
        // _transferOut debits the premium (InsufficientCollateral when it cannot), before the
        // token is called, so a callback into `sell` cannot sell the same contracts twice.
        longPositions[msg.sender][series] = held - size;
        batch.used[quoteIndex] += size;
        _recordFill(terms, int256(size), 0);
        emit Filled(batchId, msg.sender, series, quoteIndex, false, size, terms.bid, premium);
        _transferOut(msg.sender, premium);
    }

    /// @dev The live batch's quote, checked: known, live, in time, size within range, the element
    ///     a leaf of the batch's proven quotesRoot at quoteIndex, the size within what is left of the
    ///     quote's proven size, and the oracle fresh and within spotTolerance of the batch's spot.
    function _tradableQuote(
        uint256 batchId,
        uint256 quoteIndex,
        uint256 element,
        uint256[] calldata path,
        uint256 size
    ) private view returns (Batch storage batch, QuoteTerms memory terms) {
        _requireNotWindingDown();
        batch = _knownBatch(batchId, quoteIndex);
        if (!hasLiveBatch || liveBatch != batchId) revert BatchNotLive(batchId);
        // timestamp: a validator can shift block.timestamp by seconds; quotes live for
        // minutes (quoteLifetime), and the oracle age check bounds the price they were proven at
        // slither-disable-next-line timestamp
        if (block.timestamp > batch.validUntil) revert QuoteExpired(batchId, batch.validUntil, block.timestamp);
        if (size == 0 || size > MAX_FILL_SIZE) revert SizeOutOfRange(size, MAX_FILL_SIZE);
        terms = _provenQuoteTerms(batch, quoteIndex, element, path);
        uint256 remaining = terms.size - batch.used[quoteIndex]; // used <= size: checked at every fill
        if (size > remaining) revert QuoteSizeExceeded(quoteIndex, size, remaining);
        (uint256 spot,) = _freshSpot();
        BatchChecks.requireSpotWithin(batch.spot, spot, marketSettings.spotTolerance);
    }

    function _knownBatch(uint256 batchId, uint256 quoteIndex) private view returns (Batch storage batch) {
        batch = _batches[batchId];
        if (batch.validUntil == 0) revert UnknownBatch(batchId);
        if (quoteIndex >= BATCH_QUOTE_COUNT) revert QuoteIndexOutOfRange(quoteIndex, BATCH_QUOTE_COUNT);
    }

    /// @dev Append the fill to the book and its chain (BookLedger: slot, position, head), and the
    ///     premium received to premiumsIn.
    function _recordFill(QuoteTerms memory terms, int256 dq, uint256 premiumIn) private {
        ExpirySettlement.recordFill(_book, poseidon, BookLedger.Series(terms.expiry, terms.strike, terms.isCall), dq);
        uint256 k = _book.counters.fillCount;
        premiumsIn[k] = premiumsIn[k - 1] + premiumIn;
    }

    /// @dev price · size · premiumUnit / 2^96, rounded up (roundUp: the taker pays) or down (the
    ///     vault pays): always in the vault's favour. price and size are both at 2^-48, so their
    ///     product is at 2^-96 units of the quote currency; premiumUnit converts to token units.
    function _premium(uint256 price, uint256 size, bool roundUp) private view returns (uint256) {
        uint256 scaled = price * size * premiumUnit; // < 2^220: see MAX_FILL_SIZE
        uint256 premium = scaled >> (2 * BatchLayout.FRAC_BITS);
        if (roundUp && premium << (2 * BatchLayout.FRAC_BITS) != scaled) premium += 1;
        return premium;
    }

    /// @dev The terms of `element` after QuoteTree has checked it is leaf `quoteIndex` of the batch's
    ///     root (QuoteNotInBatch, QuotePathLengthMismatch, QuoteElementNotInField otherwise). quoteIndex
    ///     < BATCH_QUOTE_COUNT (_knownBatch), so no padding leaf is ever a quote.
    function _provenQuoteTerms(Batch storage batch, uint256 quoteIndex, uint256 element, uint256[] calldata path)
        private
        view
        returns (QuoteTerms memory terms)
    {
        QuoteTree.requireMember(poseidon, batch.quotesRoot, BATCH_QUOTE_TREE_DEPTH, element, quoteIndex, path);
        // Every quote slot but mid has lo 0 (the generator refuses others): the casts are exact.
        terms.expiry = batch.expiries[uint256(BatchLayout.quoteExpiryIndex(element))];
        terms.strike = BookLedger.STRIKE_MIN + (uint256(BatchLayout.quoteStrikeUnits(element)) << STRIKE_GRID_BITS);
        terms.isCall = BatchLayout.quoteIsCall(element) == 1;
        int256 mid = BatchLayout.quoteMid(element);
        int256 halfSpread = BatchLayout.quoteHalfSpread(element);
        terms.bid = mid - halfSpread;
        terms.ask = mid + halfSpread;
        terms.size = uint256(BatchLayout.quoteSizeUnits(element)) << SIZE_GRID_BITS;
    }

    // ---------------------------------------------------------------- expiry settlement


    /// @notice Governance sets how long after an expiry the oracle's first observation may come and
    ///     still settle it, the oldest mark at which LPs deposit and redeem at once, and how long the
    ///     solver may go without a proof before the vault winds down, in seconds, each in (0, its
    ///     MAX_] (through its timelock).
    function setLifecycle(LifecycleSettings calldata settings) external {
        _requireGovernance();
        if (
            settings.settlementWindow == 0 || settings.settlementWindow > MAX_SETTLEMENT_WINDOW
                || settings.maxMarkAge == 0 || settings.maxMarkAge > MAX_MARK_AGE || settings.maxProofGap == 0
                || settings.maxProofGap > MAX_PROOF_GAP
        ) revert LifecycleSettingsInvalid(settings.settlementWindow, settings.maxMarkAge, settings.maxProofGap);
        lifecycle = settings;
        emit LifecycleUpdated(settings.settlementWindow, settings.maxMarkAge, settings.maxProofGap);
    }

    /// @notice Settle `expiry` (anyone may call) at the oracle's observation `observationIndex`,
    ///     which must be the first at or after the expiry and within settlementWindow of it. The
    ///     expiry leaves the book (the record expiry << 9 joins the fill chain, counting against
    ///     the fill capacity), and its payoffs are set aside as unclaimed: all of them, or pro rata
    ///     what the collateral not owed to earlier expiries covers (ExpirySettlement's notes). The
    ///     mark is stale until a proof covers the record (settlementFills, markFresh).
    function settleExpiry(uint64 expiry, uint256 observationIndex) external {
        uint256 owedBefore = unclaimedPayoffs;
        // slither-disable-next-line timestamp -- compares no time: requestedAt taint (RedeemRequest's note)
        uint256 available = collateral > owedBefore ? collateral - owedBefore : 0;
        uint256 paid = ExpirySettlement.settle(
            _book, _settlements, poseidon, oracle, lifecycle.settlementWindow, expiry, observationIndex, premiumUnit, available
        );
        uint256 k = _book.counters.fillCount;
        premiumsIn[k] = premiumsIn[k - 1]; // the record received no premium
        settlementFills = uint64(k); // marks proven before the record still hold the expiry
        _recordUnclaimedPayoffs(owedBefore + paid);
    }

    /// @notice Claim the caller's payoff for its whole position in a settled series, paid in the
    ///     collateral token: floor(n · intrinsic · unit / 2^96) for n contracts (pro rata if the
    ///     expiry's collateral fell short). Only the holder's own position is ever paid.
    /// @return payoff What was paid (token units; may be 0 for an option out of the money).
    function claim(uint64 expiry, uint256 strike, bool isCall) external returns (uint256 payoff) {
        bytes32 series = seriesId(expiry, strike, isCall);
        uint256 size = longPositions[msg.sender][series];
        payoff = ExpirySettlement.claimable(_settlements, expiry, strike, isCall, size, premiumUnit);
        longPositions[msg.sender][series] = 0;
        _recordUnclaimedPayoffs(unclaimedPayoffs - payoff); // claims never exceed what was set aside
        emit ExpirySettlement.PayoffClaimed(msg.sender, series, size, payoff);
        _transferOut(msg.sender, payoff);
    }

    /// @notice How `expiry` settled: price (2^-48), observation time, settlement time, owed and
    ///     paid (token units); all zero before it settles.
    function settlement(uint64 expiry) external view returns (ExpirySettlement.Settlement memory) {
        return ExpirySettlement.settlementOf(_settlements, expiry);
    }

    // ---------------------------------------------------------------- views

    /// @notice The option series a position is in: keccak256(abi.encode(expiry, strike, isCall)).
    function seriesId(uint64 expiry, uint256 strike, bool isCall) public pure returns (bytes32) {
        return BookLedger.seriesId(expiry, strike, isCall);
    }

    /// @notice Batch `batchId`'s oracle time, quote validity and spot (all zero unless it was live).
    function batchTimes(uint256 batchId) external view returns (uint64 oracleTime, uint64 validUntil, uint256 spot) {
        Batch storage batch = _batches[batchId];
        return (batch.oracleTime, batch.validUntil, batch.spot);
    }

    /// @notice The root of batch `batchId`'s quote elements (0 unless the batch was live).
    function quotesRootOf(uint256 batchId) external view returns (uint256) {
        return _batches[batchId].quotesRoot;
    }

    /// @notice How much of quote `quoteIndex`'s size of batch `batchId` fills have used (2^-48 contracts).
    function quoteUsed(uint256 batchId, uint256 quoteIndex) external view returns (uint256) {
        return _knownBatch(batchId, quoteIndex).used[quoteIndex];
    }

    /// @notice Quote `quoteIndex` of batch `batchId`, shown by its element and path (as for fill): its
    ///     series, bid = mid - half spread, ask = mid + half spread, its proven size, and how much of
    ///     that size fills have used.
    function quote(uint256 batchId, uint256 quoteIndex, uint256 element, uint256[] calldata path)
        external
        view
        returns (QuoteTerms memory terms, uint256 used)
    {
        Batch storage batch = _knownBatch(batchId, quoteIndex);
        return (_provenQuoteTerms(batch, quoteIndex, element, path), batch.used[quoteIndex]);
    }

    /// @notice The book as the vault recorded it: its commitment as of provenFills, fills recorded and proven.
    function bookState()
        external
        view
        returns (uint256 bookCommitment, uint256 fillCount, uint256 provenFills, uint256 seriesCount)
    {
        BookLedger.Counters memory counters = _book.counters;
        return (_book.bookCommitment, counters.fillCount, counters.provenFills, counters.seriesCount);
    }

    /// @notice How many expiries the book holds unsettled series of (NAV counts the mark while any does).
    function liveExpiryCount() external view returns (uint256) {
        return _book.counters.expiryCount;
    }

    /// @notice head[k]: the fill chain's head after k fills (0 for k = 0).
    function chainHead(uint256 k) external view returns (uint256) {
        return _book.head[k];
    }

    /// @notice Book slot `index`: its series and the vault's position (2^-48 contracts, short negative).
    function bookSlot(uint256 index) external view returns (uint64 expiry, uint256 strike, bool isCall, int256 quantity) {
        BookLedger.Slot memory s = _book.slots[index];
        return (s.expiry, s.strike, s.isCall, s.quantity);
    }
}
