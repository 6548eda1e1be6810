// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {
    BatchLayout,
    IBatchVerifier,
    BATCH_ELEMENT_COUNT,
    BATCH_PUBLIC_INPUT_COUNT,
    BATCH_QUOTE_COUNT,
    BATCH_SLOT_COUNT
} from "generated/BatchLayout.sol";
import {SpotOracle} from "./SpotOracle.sol";

/// @title QuoteVault: option quotes trade only after a Groth16 proof shows the solver computed them
/// @notice The solver proves off-chain (circuits/batch.py) that each quote of a batch is the
///     engine's fixed-point Black-Scholes-Merton mid on the batch's SVI smile, plus or minus a half
///     spread no smaller than the floor of its committed quoting policy, and that its committed
///     book is within the risk limits. The vault accepts a batch only if that proof verifies
///     against public inputs it assembles itself, from what it trusts:
///         state and portfolio commitments   storage (set by the solver: see the trust notes)
///         spot                              the oracle, refused when older than maxOracleAge
///         t, time to expiry in years        the batch's expiry and the oracle's timestamp
///         batch nonce                       storage: nonces are accepted once each, in order
///         risk limits                       storage (set by governance)
///     The solver chooses the rest: rate, carry, the SVI smile, the regime flag, and the quotes
///     (strike, type, and the mid and half spread that the proof constrains). Takers then buy at
///     ask, and sell back what they bought at bid, until the batch's validUntil.
///
///     Units. Prices (spot, strike, bid, ask), t and sizes are the engine's fixed-point integers,
///     x · 2^48 (BatchLayout.FRAC_BITS). Premiums, collateral and NAV are in the token's base units.
///
///     LP shares. The vault is an ERC-4626 vault (OpenZeppelin's) over its collateral token: LPs
///     deposit and redeem at NAV, totalAssets() = collateral - provenMark - unclaimedPayoffs, where
///     collateral counts only tokens that moved through the vault's own transfers (a donation is
///     not NAV). Shares have DECIMALS_OFFSET more decimals than the token, and the conversions
///     count 10^DECIMALS_OFFSET virtual shares and 1 virtual asset, so that inflating the share
///     price against a later depositor costs the attacker about 10^DECIMALS_OFFSET times what the
///     victim loses (OpenZeppelin's defence of the first-deposit attack). Every conversion rounds
///     in the vault's favour (ERC4626's rules, inherited):
///         deposit(assets)  shares = floor(assets · (supply + 10^6) / (totalAssets + 1))
///         mint(shares)     assets = ceil(shares · (totalAssets + 1) / (supply + 10^6))
///         withdraw(assets) shares = ceil(assets · (supply + 10^6) / (totalAssets + 1))
///         redeem(shares)   assets = floor(shares · (totalAssets + 1) / (supply + 10^6))
///
///     Governance is an OpenZeppelin TimelockController whose delay is at least
///     MIN_GOVERNANCE_DELAY: a change of the risk limits or the oracle settings is scheduled in
///     public and applies no sooner than that delay later, so that LPs who disagree can redeem first.
///
///     Trust assumptions of this version:
///     - The commitments are the solver's word. The proof shows that the quotes follow from some
///       private state and book that open them; nothing on-chain ties that book to the fills
///       recorded here, so a solver that commits to a fictitious book passes the risk check.
///     - The NAV is not yet proven: provenMark, the mark of the open option positions, is written
///       only by the proof path, and no proof publishes a mark yet, so it is 0; unclaimedPayoffs
///       is 0 until expiry settlement exists. Until both are wired, NAV = collateral: premiums of
///       options the vault has sold count as LP assets although the options are still open, so an
///       LP who redeems after fills takes a share of premiums that back open positions.
///     - rate, carry, the SVI smile and the regime flag are the solver's model, unchecked here.
///     - The oracle's owner is trusted for spot and for its timestamp.
///     - The collateral token is a plain ERC-20 (no transfer callbacks; TestToken on devnets).
///     - LPs check that `governance` holds OpenZeppelin's TimelockController code: the constructor
///       reads its delay but cannot tell that code from an impostor's.
///     - Expiry settlement, and margin for takers who sell options they do not hold (sells here
///       only close a long position bought from the vault), are later work.
/// @dev A batch is named by its nonce (batchId == the nonce it was proven with).
contract QuoteVault is ERC4626 {
    struct RiskLimits {
        uint128 maxAbsDelta;
        uint128 maxAbsGamma;
        uint128 maxAbsVega;
        uint128 maxLoss;
    }

    /// @dev One storage slot: submitBatch reads both with one SLOAD.
    struct OracleSettings {
        /// Oldest oracle observation a batch may be proven against, in seconds.
        uint64 maxOracleAge;
        /// Quotes stay valid this many seconds after the oracle observation (and never past expiry).
        uint64 quoteLifetime;
    }

    /// @dev One storage slot of times, then the batch's quote elements exactly as proven (one slot
    ///     each, read back by BatchLayout's quote readers).
    struct Batch {
        uint64 oracleTime;
        uint64 expiry;
        uint64 validUntil;
        uint256[BATCH_QUOTE_COUNT] quotes;
    }

    /// @notice 365 days: the year of t = (expiry - oracleTime) / YEAR_SECONDS.
    uint256 public constant YEAR_SECONDS = 31_536_000;
    /// @notice Largest fill size (2^-48 fixed point): about 2.8e14 contracts. With an ask below
    ///     2^88 (the layout's mid and half-spread widths) and a premium unit of at most 10^18 < 2^60,
    ///     ask · size · unit stays below 2^244: a premium never overflows.
    uint256 public constant MAX_FILL_SIZE = (1 << 96) - 1;
    uint8 public constant MAX_TOKEN_DECIMALS = 18;
    /// @notice Shares have this many more decimals than the token: 10^6 virtual shares against the
    ///     first-deposit inflation attack (OpenZeppelin ERC4626's _decimalsOffset).
    uint8 public constant DECIMALS_OFFSET = 6;
    /// @notice The shortest governance delay the vault accepts: the time LPs have to leave before
    ///     a change of limits or oracle settings applies.
    uint256 public constant MIN_GOVERNANCE_DELAY = 1 days;

    // ---------------------------------------------------------------- errors

    error NotSolver(address caller);
    error NotGovernance(address caller);
    /// @notice `governance` has no code: it cannot be a TimelockController.
    error GovernanceNotTimelock(address governance);
    /// @notice The governance timelock's delay `delay` is below MIN_GOVERNANCE_DELAY (`minDelay`).
    error GovernanceDelayTooShort(uint256 delay, uint256 minDelay);
    /// @notice Oracle settings need a positive maximum age and quote lifetime.
    error OracleSettingsInvalid(uint64 maxOracleAge, uint64 quoteLifetime);
    /// @notice The verifier takes `actual` public inputs; this vault's batch layout has `expected`.
    error VerifierInputCountMismatch(uint256 expected, uint256 actual);
    /// @notice The token has `decimals` > MAX_TOKEN_DECIMALS (premiums could overflow).
    error TokenDecimalsUnsupported(uint8 decimals);
    /// @notice Risk limit `limit` (0 delta, 1 gamma, 2 vega, 3 loss) is `value`, above the `max` the circuit admits.
    error RiskLimitOutOfRange(uint256 limit, uint256 value, uint256 max);
    /// @notice The oracle's price was observed at `oracleTime`, more than `maxAge` seconds before `blockTime`.
    error StaleOraclePrice(uint64 oracleTime, uint256 blockTime, uint64 maxAge);
    /// @notice The batch's `expiry` is not after the oracle's observation time.
    error ExpiryNotAfterOracleTime(uint64 expiry, uint64 oracleTime);
    /// @notice The packed spot is not the oracle's.
    error SpotMismatch(uint256 oracleSpot, int256 packedSpot);
    /// @notice The packed t is not the time to expiry the vault computes (yearsToExpiry).
    error TimeToExpiryMismatch(uint256 expected, int256 packed);
    /// @notice The packed nonce is not the next one the vault accepts (a replay, or out of order).
    error NonceMismatch(uint64 expected, int256 packed);
    /// @notice The packed risk limit `limit` (0 delta, 1 gamma, 2 vega, 3 loss) is not governance's.
    error RiskLimitMismatch(uint256 limit, uint256 expected, int256 packed);
    error UnknownBatch(uint256 batchId);
    error QuoteIndexOutOfRange(uint256 quoteIndex, uint256 quoteCount);
    /// @notice The batch's quotes were valid until `validUntil`; it is now `blockTime`.
    error QuoteExpired(uint256 batchId, uint64 validUntil, uint256 blockTime);
    error SizeOutOfRange(uint256 size, uint256 max);
    /// @notice This quote's ask is not positive: there is nothing to buy at it.
    error AskNotPositive(int256 ask);
    /// @notice This quote's bid is not positive: the vault does not buy at it.
    error BidNotPositive(int256 bid);
    error PremiumAboveMaximum(uint256 premium, uint256 maxPremium);
    error PremiumBelowMinimum(uint256 premium, uint256 minPremium);
    /// @notice The taker holds `held` of this option series, less than the `size` it tried to sell.
    error PositionTooSmall(uint256 held, uint256 size);
    error InsufficientCollateral(uint256 available, uint256 needed);

    // ---------------------------------------------------------------- events

    event CommitmentsUpdated(uint256 stateCommitment, uint256 portfolioCommitment);
    event RiskLimitsUpdated(uint256 maxAbsDelta, uint256 maxAbsGamma, uint256 maxAbsVega, uint256 maxLoss);
    event OracleSettingsUpdated(uint64 maxOracleAge, uint64 quoteLifetime);
    /// @notice The mark of the open option positions, as the proof path recorded it (token units).
    event ProvenMarkUpdated(uint256 mark);
    /// @notice Settled payoffs not yet claimed changed to `unclaimed` (token units).
    event UnclaimedPayoffsUpdated(uint256 unclaimed);
    event BatchAccepted(
        uint256 indexed batchId, uint256 spot, uint256 t, uint64 oracleTime, uint64 expiry, uint64 validUntil
    );
    event QuoteRecorded(
        uint256 indexed batchId, uint256 indexed quoteIndex, uint256 strike, bool isCall, int256 bid, int256 ask
    );
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
    IBatchVerifier public immutable verifier;
    address public immutable solver;
    /// @notice The only caller of setRiskLimits and setOracleSettings: a timelock (see the notes).
    TimelockController public immutable governance;
    /// @notice 10^decimals: token base units per unit of the quote currency.
    uint256 public immutable premiumUnit;

    // ---------------------------------------------------------------- state

    uint256 public stateCommitment;
    uint256 public portfolioCommitment;
    RiskLimits public riskLimits;
    OracleSettings public oracleSettings;
    /// @notice The nonce the next batch must carry (and the id it will get).
    uint64 public nextNonce;
    /// @notice Tokens on the vault's books: what came in through its transfers (deposits, premiums
    ///     received) minus what went out (redemptions, premiums paid). Tokens sent to the vault
    ///     directly are not collateral, so a donation cannot move the share price.
    uint256 public collateral;
    /// @notice Mark of the open option positions (token units), a liability in NAV. Written only by
    ///     the proof path (_recordProvenMark); no proof publishes a mark yet, so it is 0 (see the notes).
    uint256 public provenMark;
    /// @notice Payoffs of expired series settled but not yet claimed (token units), a liability in
    ///     NAV. Written only by expiry settlement (_recordUnclaimedPayoffs), which is later work: 0.
    uint256 public unclaimedPayoffs;
    mapping(address taker => mapping(bytes32 series => uint256 size)) public longPositions;
    mapping(uint256 batchId => Batch) private _batches;

    /// @param token_ The collateral token: the ERC-4626 asset, in which premiums are paid.
    /// @param governance_ An OpenZeppelin TimelockController with a delay of at least MIN_GOVERNANCE_DELAY.
    constructor(
        IERC20Metadata token_,
        SpotOracle oracle_,
        IBatchVerifier verifier_,
        address solver_,
        TimelockController governance_,
        uint64 firstNonce,
        OracleSettings memory settings,
        RiskLimits memory limits
    ) ERC20("DLPE vault share", "DLPE-LP") ERC4626(token_) {
        uint256 inputs = verifier_.PUBLIC_INPUT_COUNT();
        if (inputs != BATCH_PUBLIC_INPUT_COUNT) {
            revert VerifierInputCountMismatch(BATCH_PUBLIC_INPUT_COUNT, inputs);
        }
        uint8 tokenDecimals = token_.decimals();
        if (tokenDecimals > MAX_TOKEN_DECIMALS) revert TokenDecimalsUnsupported(tokenDecimals);
        // An address without code answers every call with success and no data, which would not
        // decode as a delay: refuse it by name first.
        if (address(governance_).code.length == 0) revert GovernanceNotTimelock(address(governance_));
        uint256 delay = governance_.getMinDelay();
        if (delay < MIN_GOVERNANCE_DELAY) revert GovernanceDelayTooShort(delay, MIN_GOVERNANCE_DELAY);
        oracle = oracle_;
        verifier = verifier_;
        // missing-zero-check: a zero solver signs nothing: such a vault accepts
        // no batch and puts nothing at risk (deploy_vault_stack always passes an account)
        // slither-disable-next-line missing-zero-check
        solver = solver_;
        governance = governance_;
        premiumUnit = 10 ** tokenDecimals;
        nextNonce = firstNonce;
        _setOracleSettings(settings);
        _setRiskLimits(limits);
    }

    // ---------------------------------------------------------------- solver and governance

    /// @notice The solver publishes the commitments its next proofs open (Poseidon hashes of its
    ///     private quoting state and of its book). Trusted: see the contract's notes.
    function setCommitments(uint256 stateCommitment_, uint256 portfolioCommitment_) external {
        if (msg.sender != solver) revert NotSolver(msg.sender);
        stateCommitment = stateCommitment_;
        portfolioCommitment = portfolioCommitment_;
        emit CommitmentsUpdated(stateCommitment_, portfolioCommitment_);
    }

    /// @notice Governance sets the risk limits every batch proof must be checked against
    ///     (through its timelock: scheduled, then executed after the delay).
    function setRiskLimits(RiskLimits calldata limits) external {
        _requireGovernance();
        _setRiskLimits(limits);
    }

    /// @notice Governance sets the oldest oracle observation a batch may use and the quotes'
    ///     lifetime, both in seconds and positive (through its timelock).
    function setOracleSettings(OracleSettings calldata settings) external {
        _requireGovernance();
        _setOracleSettings(settings);
    }

    /// @notice Oldest oracle observation a batch may be proven against, in seconds.
    function maxOracleAge() external view returns (uint64) {
        return oracleSettings.maxOracleAge;
    }

    /// @notice Quotes stay valid this many seconds after the oracle observation (and never past expiry).
    function quoteLifetime() external view returns (uint64) {
        return oracleSettings.quoteLifetime;
    }

    function _requireGovernance() private view {
        if (msg.sender != address(governance)) revert NotGovernance(msg.sender);
    }

    function _setOracleSettings(OracleSettings memory settings) private {
        if (settings.maxOracleAge == 0 || settings.quoteLifetime == 0) {
            revert OracleSettingsInvalid(settings.maxOracleAge, settings.quoteLifetime);
        }
        oracleSettings = settings;
        emit OracleSettingsUpdated(settings.maxOracleAge, settings.quoteLifetime);
    }

    function _setRiskLimits(RiskLimits memory limits) private {
        _requireLimitFits(0, limits.maxAbsDelta, BatchLayout.MAX_ABS_DELTA_BITS, BatchLayout.MAX_ABS_DELTA_LO);
        _requireLimitFits(1, limits.maxAbsGamma, BatchLayout.MAX_ABS_GAMMA_BITS, BatchLayout.MAX_ABS_GAMMA_LO);
        _requireLimitFits(2, limits.maxAbsVega, BatchLayout.MAX_ABS_VEGA_BITS, BatchLayout.MAX_ABS_VEGA_LO);
        _requireLimitFits(3, limits.maxLoss, BatchLayout.MAX_LOSS_BITS, BatchLayout.MAX_LOSS_LO);
        riskLimits = limits;
        emit RiskLimitsUpdated(limits.maxAbsDelta, limits.maxAbsGamma, limits.maxAbsVega, limits.maxLoss);
    }

    /// @dev A limit the circuit cannot carry would make every batch unprovable: refuse it here.
    function _requireLimitFits(uint256 limit, uint256 value, uint256 bits, int256 lo) private pure {
        // The generator only emits limit slots with lo >= 0, so the casts below are exact.
        uint256 low = uint256(lo);
        uint256 max = low + (1 << bits) - 1;
        if (value < low || value > max) revert RiskLimitOutOfRange(limit, value, max);
    }

    // ---------------------------------------------------------------- LP shares (ERC-4626)

    /// @notice NAV in token units: collateral - provenMark - unclaimedPayoffs, and 0 when those
    ///     liabilities reach the collateral (then maxDeposit and maxMint are 0: new money would
    ///     pay old debts).
    function totalAssets() public view override returns (uint256) {
        uint256 owed = provenMark + unclaimedPayoffs;
        return owed >= collateral ? 0 : collateral - owed;
    }

    /// @notice Deposits are open while NAV is positive (see totalAssets).
    function maxDeposit(address receiver) public view override returns (uint256) {
        return totalAssets() == 0 && totalSupply() > 0 ? 0 : super.maxDeposit(receiver);
    }

    /// @notice Mints are open while NAV is positive (see totalAssets).
    function maxMint(address receiver) public view override returns (uint256) {
        return totalAssets() == 0 && totalSupply() > 0 ? 0 : super.maxMint(receiver);
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
        if (available < assets) revert InsufficientCollateral(available, assets);
        collateral = available - assets;
        super._transferOut(to, assets); // SafeERC20.safeTransfer
    }

    /// @dev The proof path's record of the book's mark (token units). Nothing calls it until a
    ///     proof publishes the mark (the real-book work); NAV counts it from then on.
    // slither-disable-next-line dead-code -- the real book's proof path calls it (docs/real-book.md)
    function _recordProvenMark(uint256 mark) internal {
        provenMark = mark;
        emit ProvenMarkUpdated(mark);
    }

    /// @dev Expiry settlement's record of payoffs owed and not yet claimed (token units).
    // slither-disable-next-line dead-code -- expiry settlement calls it (docs/real-book.md)
    function _recordUnclaimedPayoffs(uint256 unclaimed) internal {
        unclaimedPayoffs = unclaimed;
        emit UnclaimedPayoffsUpdated(unclaimed);
    }

    // ---------------------------------------------------------------- batches

    /// @notice Submit a proven batch. The vault assembles the public inputs (commitments, spot, t,
    ///     nonce, limits: see the contract's notes), checks that the packed elements carry exactly
    ///     those, and has the verifier check the proof. Any failure reverts and changes nothing.
    /// @param a Proof point A (G1): [x, y].
    /// @param b Proof point B (G2) in EIP-197 order: [[x.c1, x.c0], [y.c1, y.c0]].
    /// @param c Proof point C (G1): [x, y].
    /// @param packed The batch's packed public elements (BatchLayout), as the circuit made them.
    /// @param expiry The quotes' expiry (Unix seconds): t derives from it and the oracle's time.
    /// @return batchId The batch's id: the nonce it was proven with.
    function submitBatch(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[BATCH_ELEMENT_COUNT] calldata packed,
        uint64 expiry
    ) external returns (uint256 batchId) {
        if (msg.sender != solver) revert NotSolver(msg.sender);
        OracleSettings memory settings = oracleSettings;
        (uint256 spot, uint64 oracleTime) = oracle.latest();
        // timestamp: a validator can shift block.timestamp by seconds; maxOracleAge is
        // minutes, so the drift cannot make a stale price fresh by more than that margin
        // slither-disable-next-line timestamp
        if (block.timestamp > uint256(oracleTime) + settings.maxOracleAge) {
            revert StaleOraclePrice(oracleTime, block.timestamp, settings.maxOracleAge);
        }
        if (expiry <= oracleTime) revert ExpiryNotAfterOracleTime(expiry, oracleTime);
        uint256 t = yearsToExpiry(expiry, oracleTime);
        uint64 nonce = nextNonce;
        _requireMarketMatches(packed, spot, t, nonce);
        _requireLimitsMatch(packed);
        uint256[BATCH_PUBLIC_INPUT_COUNT] memory input;
        input[0] = stateCommitment;
        input[1] = portfolioCommitment;
        for (uint256 i = 0; i < BATCH_ELEMENT_COUNT; ++i) {
            input[2 + i] = packed[i];
        }
        // Reverts with the verifier's error (ProofInvalid, PublicInputNotInField, PrecompileFailed)
        // unless the proof is valid. A view call: the verifier cannot change any state.
        verifier.requireValidProof(a, b, c, input);

        // Effects only after every check has passed, so that a rejected batch leaves no trace.
        // There is no interaction after them: oracle and verifier were only read.
        batchId = nonce;
        nextNonce = nonce + 1;
        uint64 validUntil = oracleTime + settings.quoteLifetime;
        if (validUntil > expiry) validUntil = expiry;
        Batch storage batch = _batches[batchId];
        batch.oracleTime = oracleTime;
        batch.expiry = expiry;
        batch.validUntil = validUntil;
        for (uint256 q = 0; q < BATCH_QUOTE_COUNT; ++q) {
            uint256 element = packed[BatchLayout.FIRST_QUOTE_ELEMENT + q];
            batch.quotes[q] = element;
            (uint256 strike, bool isCall, int256 bid, int256 ask) = _unpackQuote(element);
            emit QuoteRecorded(batchId, q, strike, isCall, bid, ask);
        }
        emit BatchAccepted(batchId, spot, t, oracleTime, expiry, validUntil);
    }

    function _requireMarketMatches(
        uint256[BATCH_ELEMENT_COUNT] calldata packed,
        uint256 spot,
        uint256 t,
        uint64 nonce
    ) private pure {
        int256 packedSpot = BatchLayout.spot(packed);
        if (packedSpot < 0 || uint256(packedSpot) != spot) revert SpotMismatch(spot, packedSpot);
        int256 packedT = BatchLayout.t(packed);
        if (packedT < 0 || uint256(packedT) != t) revert TimeToExpiryMismatch(t, packedT);
        int256 packedNonce = BatchLayout.nonce(packed);
        if (packedNonce < 0 || uint256(packedNonce) != nonce) revert NonceMismatch(nonce, packedNonce);
    }

    function _requireLimitsMatch(uint256[BATCH_ELEMENT_COUNT] calldata packed) private view {
        RiskLimits memory limits = riskLimits;
        _requireLimitMatches(0, limits.maxAbsDelta, BatchLayout.maxAbsDelta(packed));
        _requireLimitMatches(1, limits.maxAbsGamma, BatchLayout.maxAbsGamma(packed));
        _requireLimitMatches(2, limits.maxAbsVega, BatchLayout.maxAbsVega(packed));
        _requireLimitMatches(3, limits.maxLoss, BatchLayout.maxLoss(packed));
    }

    function _requireLimitMatches(uint256 limit, uint256 expected, int256 packedValue) private pure {
        if (packedValue < 0 || uint256(packedValue) != expected) {
            revert RiskLimitMismatch(limit, expected, packedValue);
        }
    }

    // ---------------------------------------------------------------- fills

    /// @notice Buy `size` contracts (2^-48 fixed point) of quote `quoteIndex` of batch `batchId` at
    ///     its ask, paying premium = ceil(ask · size · premiumUnit / 2^96) token units, at most
    ///     `maxPremium` (approve the vault first).
    /// @return premium What was paid.
    function fill(uint256 batchId, uint256 quoteIndex, uint256 size, uint256 maxPremium)
        external
        returns (uint256 premium)
    {
        (Batch storage batch, uint256 strike, bool isCall,, int256 ask) = _liveQuote(batchId, quoteIndex, size);
        if (ask <= 0) revert AskNotPositive(ask);
        premium = _premium(uint256(ask), size, true);
        if (premium > maxPremium) revert PremiumAboveMaximum(premium, maxPremium);
        bytes32 series = seriesId(batch.expiry, strike, isCall);
        // The premium is pulled before the position is recorded, as ERC4626 pulls a deposit before
        // it mints: a callback from the token during the pull sees the vault as it was before the
        // fill, and a failed pull reverts everything.
        _transferIn(msg.sender, premium);
        longPositions[msg.sender][series] += size;
        emit Filled(batchId, msg.sender, series, quoteIndex, true, size, ask, premium);
    }

    /// @notice Sell back `size` contracts of a series bought from the vault, at quote `quoteIndex`'s
    ///     bid (only when bid > 0), receiving premium = floor(bid · size · premiumUnit / 2^96) token
    ///     units, at least `minPremium`.
    /// @return premium What was received.
    function sell(uint256 batchId, uint256 quoteIndex, uint256 size, uint256 minPremium)
        external
        returns (uint256 premium)
    {
        (Batch storage batch, uint256 strike, bool isCall, int256 bid,) = _liveQuote(batchId, quoteIndex, size);
        if (bid <= 0) revert BidNotPositive(bid);
        premium = _premium(uint256(bid), size, false);
        if (premium < minPremium) revert PremiumBelowMinimum(premium, minPremium);
        bytes32 series = seriesId(batch.expiry, strike, isCall);
        uint256 held = longPositions[msg.sender][series];
        if (held < size) revert PositionTooSmall(held, size);
        // Effects before the transfer (checks-effects-interactions): the position is reduced, and
        // _transferOut debits the premium (InsufficientCollateral when it cannot), before the
        // token is called, so a callback into `sell` cannot sell the same contracts twice or
        // spend the same collateral twice.
        longPositions[msg.sender][series] = held - size;
        emit Filled(batchId, msg.sender, series, quoteIndex, false, size, bid, premium);
        _transferOut(msg.sender, premium);
    }

    /// @dev The batch and quote, checked to exist and to be within the validity window, and the size checked.
    function _liveQuote(uint256 batchId, uint256 quoteIndex, uint256 size)
        private
        view
        returns (Batch storage batch, uint256 strike, bool isCall, int256 bid, int256 ask)
    {
        batch = _knownBatch(batchId, quoteIndex);
        // timestamp: a validator can shift block.timestamp by seconds; quotes live for
        // minutes (quoteLifetime), and the oracle age check bounds the price they were proven at
        // slither-disable-next-line timestamp
        if (block.timestamp > batch.validUntil) revert QuoteExpired(batchId, batch.validUntil, block.timestamp);
        if (size == 0 || size > MAX_FILL_SIZE) revert SizeOutOfRange(size, MAX_FILL_SIZE);
        (strike, isCall, bid, ask) = _unpackQuote(batch.quotes[quoteIndex]);
    }

    function _knownBatch(uint256 batchId, uint256 quoteIndex) private view returns (Batch storage batch) {
        batch = _batches[batchId];
        if (batch.expiry == 0) revert UnknownBatch(batchId);
        if (quoteIndex >= BATCH_QUOTE_COUNT) revert QuoteIndexOutOfRange(quoteIndex, BATCH_QUOTE_COUNT);
    }

    /// @dev price · size · premiumUnit / 2^96, rounded up (roundUp: the taker pays) or down (the
    ///     vault pays): always in the vault's favour. price and size are both at 2^-48, so their
    ///     product is at 2^-96 units of the quote currency; premiumUnit converts to token units.
    function _premium(uint256 price, uint256 size, bool roundUp) private view returns (uint256) {
        uint256 scaled = price * size * premiumUnit; // < 2^244: see MAX_FILL_SIZE
        uint256 premium = scaled >> (2 * BatchLayout.FRAC_BITS);
        if (roundUp && premium << (2 * BatchLayout.FRAC_BITS) != scaled) premium += 1;
        return premium;
    }

    // ---------------------------------------------------------------- views

    /// @notice t in years at 2^-48: floor(((expiry - oracleTime) · 2^48 + YEAR_SECONDS / 2) / YEAR_SECONDS),
    ///     the seconds to expiry over a 365-day year, rounded to nearest with ties up (the engine's
    ///     rounding rule). YEAR_SECONDS is even, so YEAR_SECONDS / 2 is exact. expiry > oracleTime.
    function yearsToExpiry(uint64 expiry, uint64 oracleTime) public pure returns (uint256) {
        uint256 secondsToExpiry = uint256(expiry) - oracleTime;
        return (secondsToExpiry * (1 << BatchLayout.FRAC_BITS) + YEAR_SECONDS / 2) / YEAR_SECONDS;
    }

    /// @notice The option series a position is in: keccak256(abi.encode(expiry, strike, isCall)).
    function seriesId(uint64 expiry, uint256 strike, bool isCall) public pure returns (bytes32) {
        return keccak256(abi.encode(expiry, strike, isCall));
    }

    /// @notice Batch `batchId`'s times (all zero for an unknown batch).
    function batchTimes(uint256 batchId) external view returns (uint64 oracleTime, uint64 expiry, uint64 validUntil) {
        Batch storage batch = _batches[batchId];
        return (batch.oracleTime, batch.expiry, batch.validUntil);
    }

    /// @notice Quote `quoteIndex` of batch `batchId`: strike, type, bid = mid - half spread, ask = mid + half spread.
    function quote(uint256 batchId, uint256 quoteIndex)
        external
        view
        returns (uint256 strike, bool isCall, int256 bid, int256 ask)
    {
        return _unpackQuote(_knownBatch(batchId, quoteIndex).quotes[quoteIndex]);
    }

    /// @notice Every field of packed batch elements, in layout order, read with the layout's shifts and masks.
    function decodePacked(uint256[BATCH_ELEMENT_COUNT] calldata packed)
        external
        pure
        returns (int256[BATCH_SLOT_COUNT] memory)
    {
        return BatchLayout.decode(packed);
    }

    function _unpackQuote(uint256 element)
        private
        pure
        returns (uint256 strike, bool isCall, int256 bid, int256 ask)
    {
        // The generator only emits a strike slot with lo > 0, so the cast is exact.
        strike = uint256(BatchLayout.quoteStrike(element));
        isCall = BatchLayout.quoteIsCall(element) == 1;
        int256 mid = BatchLayout.quoteMid(element);
        int256 halfSpread = BatchLayout.quoteHalfSpread(element);
        bid = mid - halfSpread;
        ask = mid + halfSpread;
    }
}
