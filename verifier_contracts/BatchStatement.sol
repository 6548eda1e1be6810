// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    BatchLayout,
    IBatchVerifier,
    ICommittedBatchVerifier,
    BATCH_COMMITTED_INPUT_COUNT,
    BATCH_ELEMENT_COUNT,
    BATCH_EXPIRY_COUNT,
    BATCH_PUBLIC_INPUT_COUNT,
    BATCH_WHOLE_COUNT
} from "generated/BatchLayout.sol";
import {BatchChecks} from "./BatchChecks.sol";
import {BookLedger} from "./BookLedger.sol";
import {IVIndexOracle} from "./IVIndexOracle.sol";
import {QuoteVault} from "./QuoteVault.sol";
import {SpotOracle} from "./SpotOracle.sol";

/// @title BatchStatement: what QuoteVault.submitBatch reads of a proven batch, checked, and its proof verified
/// @notice The vault's statement checks (QuoteVault's trust notes say what binds each field): the
///     proof of the vault's kind, the whole public inputs assembled from the vault's own storage,
///     every packed field the vault did not choose checked against the oracles, governance and
///     storage, a batch with quotes checked to be tradable, then the proof, by the verifier of
///     the vault's kind (plain Groth16, or Groth16 with a commitment whose challenge follows the
///     inputs). It only reads: the vault applies the effects.
///
///     An external library linked into QuoteVault (called by delegatecall, so it reads the vault's
///     storage through the pointers it is given), to keep the vault's code under EIP-170's 24,576
///     bytes. Its errors and settings types are QuoteVault's own (QuoteVault's ABI and its callers
///     name them there): this file and QuoteVault.sol import each other, for types only.
library BatchStatement {
    using BookLedger for BookLedger.Book;

    /// @dev What submitBatch reads of a batch, after checking the fields the vault did not choose.
    struct Statement {
        uint256 spot;
        uint64 oracleTime;
        uint64 nonce;
        bool live;
        uint256 fillsTo;
        int256 mark;
        /// The mark as a liability in token units (rounded up).
        uint256 liability;
        /// The proven worst-case loss, 2^-48 quote currency.
        uint256 worstLoss;
        /// The same loss in token units, rounded up (type(uint256).max when no uint256 holds it).
        uint256 worstLossTokens;
    }

    /// @dev A proof as submitBatch or submitCommittedBatch received it, in memory: one argument
    ///     instead of up to seven keeps the entries' stacks within reach.
    struct Proof {
        /// The entry it came through: submitBatch's Groth16, submitCommittedBatch's CommittedGroth16.
        QuoteVault.ProofKind kind;
        /// A, B in EIP-197 order, C.
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
        /// CommittedGroth16 only (zero otherwise): the commitment D, its proof of knowledge P and
        /// the challenge, the committed verifier's last public input.
        uint256[2] commitment;
        uint256[2] knowledgeProof;
        uint256 challenge;
    }

    /// @dev The vault's values a statement is checked against, besides its settings' storage.
    struct Context {
        SpotOracle oracle;
        IVIndexOracle ivOracle;
        /// An IBatchVerifier, or an ICommittedBatchVerifier when proofKind is CommittedGroth16.
        IBatchVerifier verifier;
        QuoteVault.ProofKind proofKind;
        uint256 stateCommitment;
        uint64 nonce;
        uint256 collateral;
        uint256 unclaimedPayoffs;
        uint256 premiumUnit;
        /// The whole inputs the solver supplies and the proof binds: the book commitment it
        /// outputs, and the root of its quote elements.
        uint256 bookAfter;
        uint256 quotesRoot;
    }

    /// @notice The batch's statement, after every check (see the title); reverts, with the vault's
    ///     or the verifier's typed error, on the first that fails: ProofKindMismatch first, for a
    ///     proof of the other kind than the vault's verifier takes.
    function check(
        Context memory ctx,
        BookLedger.Book storage book,
        QuoteVault.RiskLimits storage limits,
        QuoteVault.OracleSettings storage oracleSettings,
        QuoteVault.MarketSettings storage market,
        QuoteVault.Margins storage margins,
        Proof memory proof,
        uint256[BATCH_ELEMENT_COUNT] calldata packed
    ) external view returns (Statement memory statement) {
        if (proof.kind != ctx.proofKind) revert QuoteVault.ProofKindMismatch(ctx.proofKind, proof.kind);
        uint64 maxOracleAge = oracleSettings.maxOracleAge;
        statement = _read(ctx, maxOracleAge, market, packed);
        _requireRiskInputsMatch(packed, limits, margins.modelMargin);
        _requireSmilesInBand(packed, ctx.ivOracle, maxOracleAge, market.ivBand, statement.oracleTime);
        uint256[BATCH_PUBLIC_INPUT_COUNT] memory input =
            _publicInputs(book, ctx, packed, statement.fillsTo);
        if (statement.live) _requireTradable(ctx, book, margins.solvencyMargin, statement, packed);
        _requireValidProof(ctx.verifier, proof, input);
    }

    /// @dev The proof checked by the verifier of its kind (check has matched it to the vault's), which
    ///     reverts with its own error (ProofInvalid, PublicInputNotInField, PrecompileFailed, and the
    ///     committed verifier's ChallengeMismatch) unless the proof is valid. A view call: the
    ///     verifier cannot change any state.
    function _requireValidProof(
        IBatchVerifier verifier,
        Proof memory proof,
        uint256[BATCH_PUBLIC_INPUT_COUNT] memory input
    ) private view {
        if (proof.kind == QuoteVault.ProofKind.Groth16) {
            verifier.requireValidProof(proof.a, proof.b, proof.c, input);
            return;
        }
        // The committed verifier takes the same inputs and then the challenge, which it recomputes
        // as sha256(CHALLENGE_TAG, D, input) mod r: the solver cannot choose it after D.
        uint256[BATCH_COMMITTED_INPUT_COUNT] memory signals;
        for (uint256 i = 0; i < BATCH_PUBLIC_INPUT_COUNT; ++i) {
            signals[i] = input[i];
        }
        signals[BATCH_PUBLIC_INPUT_COUNT] = proof.challenge;
        ICommittedBatchVerifier(address(verifier)).requireValidProof(
            proof.a, proof.b, proof.c, proof.commitment, proof.knowledgeProof, signals
        );
    }

    /// @dev The statement's market fields checked (fresh spot, oracle time, nonce, rate, carry) and its outcome read.
    function _read(
        Context memory ctx,
        uint64 maxOracleAge,
        QuoteVault.MarketSettings storage market,
        uint256[BATCH_ELEMENT_COUNT] calldata packed
    ) private view returns (Statement memory statement) {
        (statement.spot, statement.oracleTime) = ctx.oracle.latest();
        BatchChecks.requireFresh(statement.oracleTime, maxOracleAge, block.timestamp);
        statement.nonce = ctx.nonce;
        _requireMarketMatches(packed, statement.spot, statement.oracleTime, statement.nonce, market);
        // quoted = some quote's size is positive (proven): the quotes themselves are not public inputs
        statement.live = BatchLayout.quoted(packed) == 1;
        statement.fillsTo = uint256(BatchLayout.fillsTo(packed)); // lo 0: never negative
        statement.mark = BatchLayout.mark(packed);
        statement.liability = _liability(statement.mark, ctx.premiumUnit);
        statement.worstLoss = uint256(BatchLayout.worstLoss(packed)); // lo 0
        statement.worstLossTokens = BatchChecks.lossInTokens(statement.worstLoss, ctx.premiumUnit);
    }

    /// @dev A batch with quotes must cover exactly the live book, hold the limits in its worst
    ///     case, and be able to pay that worst case. (A pure book update is accepted whatever
    ///     risk_ok says: a breached limit never freezes the book or the mark.)
    function _requireTradable(
        Context memory ctx,
        BookLedger.Book storage book,
        uint256 solvencyMargin,
        Statement memory statement,
        uint256[BATCH_ELEMENT_COUNT] calldata packed
    ) private view {
        uint256 fillCount = book.counters.fillCount;
        if (statement.fillsTo != fillCount) revert QuoteVault.FillsPending(statement.fillsTo, fillCount);
        if (BatchLayout.riskOk(packed) != 1) revert QuoteVault.RiskLimitsBreached();
        // With fills_to == fillCount no premium stays unproven once this batch is accepted.
        uint256 owed = statement.liability + ctx.unclaimedPayoffs;
        uint256 free = owed >= ctx.collateral ? 0 : ctx.collateral - owed;
        BatchChecks.requireSolvent(statement.worstLoss, ctx.premiumUnit, solvencyMargin, free);
    }

    function _requireMarketMatches(
        uint256[BATCH_ELEMENT_COUNT] calldata packed,
        uint256 spot,
        uint64 oracleTime,
        uint64 nonce,
        QuoteVault.MarketSettings storage market
    ) private view {
        int256 packedSpot = BatchLayout.spot(packed);
        if (uint256(packedSpot) != spot) revert QuoteVault.SpotMismatch(spot, packedSpot); // lo > 0
        int256 packedTime = BatchLayout.oracleTime(packed);
        if (uint256(packedTime) != oracleTime) revert QuoteVault.OracleTimeMismatch(oracleTime, packedTime); // lo 0
        int256 packedNonce = BatchLayout.nonce(packed);
        if (uint256(packedNonce) != nonce) revert QuoteVault.NonceMismatch(nonce, packedNonce); // lo 0
        (int64 rate, int64 carry) = (market.rate, market.carry);
        int256 packedRate = BatchLayout.rate(packed);
        int256 packedCarry = BatchLayout.carry(packed);
        if (packedRate != rate || packedCarry != carry) {
            revert QuoteVault.RateMismatch(rate, carry, packedRate, packedCarry);
        }
    }

    function _requireRiskInputsMatch(
        uint256[BATCH_ELEMENT_COUNT] calldata packed,
        QuoteVault.RiskLimits storage limits,
        uint256 modelMargin
    ) private view {
        _requireLimitMatches(0, limits.maxAbsDelta, BatchLayout.maxAbsDelta(packed));
        _requireLimitMatches(1, limits.maxAbsGamma, BatchLayout.maxAbsGamma(packed));
        _requireLimitMatches(2, limits.maxAbsVega, BatchLayout.maxAbsVega(packed));
        _requireLimitMatches(3, limits.maxLoss, BatchLayout.maxLoss(packed));
        _requireLimitMatches(4, modelMargin, BatchLayout.modelMargin(packed));
    }

    function _requireLimitMatches(uint256 limit, uint256 expected, int256 packedValue) private pure {
        // Every risk slot has lo >= 0 (the generator refuses others): packedValue >= 0.
        if (uint256(packedValue) != expected) revert QuoteVault.RiskLimitMismatch(limit, expected, packedValue);
    }

    /// @dev Each expiry's proven ATM vol within ivBand of the implied-vol index (fresh).
    function _requireSmilesInBand(
        uint256[BATCH_ELEMENT_COUNT] calldata packed,
        IVIndexOracle ivOracle,
        uint64 maxOracleAge,
        uint256 band,
        uint64 oracleTime
    ) private view {
        (uint256 ivIndex, uint64 observedAt) = ivOracle.latest();
        if (observedAt == 0) revert QuoteVault.NoVolIndex();
        BatchChecks.requireFresh(observedAt, maxOracleAge, block.timestamp);
        for (uint256 e = 0; e < BATCH_EXPIRY_COUNT; ++e) {
            // expiry and atm_variance have lo 0 and fit 40 and 53 bits: the casts are exact.
            uint64 expiry = uint64(uint256(BatchLayout.expiryExpiry(packed, e)));
            uint256 atmVariance = uint256(BatchLayout.expiryAtmVariance(packed, e));
            BatchChecks.requireAtmVolInBand(e, expiry, oracleTime, atmVariance, ivIndex, band);
        }
    }

    /// @dev [stateCommitment, bookCommitment, head[fills_from], head[fills_to], bookAfter, quotesRoot,
    ///     packed...], after checking fills_from = provenFills <= fills_to <= fillCount (FillRangeInvalid).
    function _publicInputs(
        BookLedger.Book storage book,
        Context memory ctx,
        uint256[BATCH_ELEMENT_COUNT] calldata packed,
        uint256 fillsTo
    ) private view returns (uint256[BATCH_PUBLIC_INPUT_COUNT] memory input) {
        uint256 fillsFrom = uint256(BatchLayout.fillsFrom(packed)); // lo 0
        uint256 bookBefore = book.bookCommitment;
        uint256 chainFrom = book.head[fillsFrom];
        uint256 chainTo = book.head[fillsTo];
        book.requireProvenTransition(bookBefore, chainFrom, chainTo, fillsFrom, fillsTo);
        input[BatchLayout.STATE_COMMITMENT_INPUT] = ctx.stateCommitment;
        input[BatchLayout.BOOK_BEFORE_INPUT] = bookBefore;
        input[BatchLayout.CHAIN_FROM_INPUT] = chainFrom;
        input[BatchLayout.CHAIN_TO_INPUT] = chainTo;
        input[BatchLayout.BOOK_AFTER_INPUT] = ctx.bookAfter;
        input[BatchLayout.QUOTES_ROOT_INPUT] = ctx.quotesRoot;
        for (uint256 i = 0; i < BATCH_ELEMENT_COUNT; ++i) {
            input[BATCH_WHOLE_COUNT + i] = packed[i];
        }
    }

    /// @dev The mark as a liability in token units: ceil(-mark · premiumUnit / 2^48) for a short
    ///     book (rounded up: in the vault's favour), 0 for mark >= 0 (an asset the vault does not count).
    function _liability(int256 mark, uint256 premiumUnit) private pure returns (uint256) {
        if (mark >= 0) return 0;
        uint256 scaled = uint256(-mark) * premiumUnit; // |mark| < 2^117, premiumUnit < 2^60
        uint256 whole = scaled >> BatchLayout.FRAC_BITS;
        return whole << BatchLayout.FRAC_BITS == scaled ? whole : whole + 1;
    }
}
