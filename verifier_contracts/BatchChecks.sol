// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title BatchChecks: the vault's bounds on what a proven batch claims about the market
/// @notice docs/real-book.md, "What the vault checks": pure functions QuoteVault applies to a
///     batch (and its fills) around the verifier, each reverting with a typed error:
///         requireFresh            the oracle's observation is at most maxAge seconds old
///         requireSpotWithin       a fill's spot moved at most `tolerance` (a fraction) from the batch's
///         requireAtmVolInBand     an expiry's proven ATM vol sqrt(w(0) / t) lies within `band` of the
///                                 implied-vol index (IVIndexOracle)
///         requireSolvent          the proven worst-case loss plus a margin fits in free collateral
///         lossInTokens            a proven loss in token units, rounded up
///     Units: spot, vols, w(0), fractions and losses are the engine's fixed point, x · 2^48; times
///     are Unix seconds; collateral and margins are token base units.
library BatchChecks {
    uint256 internal constant FRAC_BITS = 48;
    uint256 internal constant ONE = 1 << FRAC_BITS;
    /// @notice 365 days: the year of t (QuoteVault.YEAR_SECONDS, engine's convention).
    uint256 internal constant YEAR_SECONDS = 31_536_000;
    /// @notice The largest index + band the band check takes: a vol of 2^4 (1,600%) at 2^-48. Squared
    ///     and multiplied by seconds to expiry (< 2^64) it stays below 2^168.
    uint256 internal constant VOL_CAP = 1 << 52;

    /// @notice The oracle observed at `observedAt`, more than `maxAge` seconds before `blockTime`.
    error StaleObservation(uint64 observedAt, uint256 blockTime, uint64 maxAge);
    /// @notice Spot is `spot`, more than `tolerance` (fraction at 2^-48) away from the batch's `batchSpot`.
    error SpotMoved(uint256 batchSpot, uint256 spot, uint256 tolerance);
    /// @notice Expiry `expiryIndex`'s proven ATM total variance `atmVariance` (2^-48) at `secondsToExpiry`
    ///     is not within `band` of the implied-vol index `ivIndex` (vols at 2^-48).
    error AtmVolOutsideBand(uint256 expiryIndex, uint256 atmVariance, uint256 secondsToExpiry, uint256 ivIndex, uint256 band);
    /// @notice The index `ivIndex` plus the band `band` exceeds VOL_CAP: no smile is checked against it.
    error VolBoundOutOfRange(uint256 ivIndex, uint256 band);
    /// @notice The expiry `expiry` is not after the oracle's time `oracleTime`.
    error ExpiryNotAfter(uint64 expiry, uint64 oracleTime);
    /// @notice Worst-case loss plus margin (`needed`, token units, rounded up) exceeds free collateral `available`.
    error Insolvent(uint256 needed, uint256 available);

    /// @notice Reverts unless blockTime <= observedAt + maxAge.
    function requireFresh(uint64 observedAt, uint64 maxAge, uint256 blockTime) internal pure {
        if (blockTime > uint256(observedAt) + maxAge) revert StaleObservation(observedAt, blockTime, maxAge);
    }

    /// @notice Reverts unless |spot - batchSpot| · 2^48 <= tolerance · batchSpot (exact: no rounding).
    function requireSpotWithin(uint256 batchSpot, uint256 spot, uint256 tolerance) internal pure {
        uint256 moved = spot > batchSpot ? spot - batchSpot : batchSpot - spot;
        // spot, batchSpot < 2^192 (SpotOracle stores uint192) and tolerance is governance's fraction
        // below 2^48: both products stay below 2^256.
        if (moved * ONE > tolerance * batchSpot) revert SpotMoved(batchSpot, spot, tolerance);
    }

    /// @notice Reverts unless (max(index - band, 0))² · t <= w(0) <= (index + band)² · t, with
    ///     t = secondsToExpiry / YEAR_SECONDS: the ATM vol sqrt(w / t) within the band, compared in
    ///     squares so that nothing rounds: lo² · seconds <= w · 2^48 · YEAR_SECONDS <= hi² · seconds.
    function requireAtmVolInBand(
        uint256 expiryIndex,
        uint64 expiry,
        uint64 oracleTime,
        uint256 atmVariance,
        uint256 ivIndex,
        uint256 band
    ) internal pure {
        if (expiry <= oracleTime) revert ExpiryNotAfter(expiry, oracleTime);
        uint256 secondsToExpiry = expiry - oracleTime; // < 2^64
        if (ivIndex > VOL_CAP || band > VOL_CAP - ivIndex) revert VolBoundOutOfRange(ivIndex, band);
        uint256 lo = ivIndex > band ? ivIndex - band : 0;
        uint256 hi = ivIndex + band;
        // atmVariance < 2^53 (the layout's window); scaled < 2^53 · 2^48 · 2^25 = 2^126.
        uint256 scaled = atmVariance * ONE * YEAR_SECONDS;
        if (lo * lo * secondsToExpiry > scaled || scaled > hi * hi * secondsToExpiry) {
            revert AtmVolOutsideBand(expiryIndex, atmVariance, secondsToExpiry, ivIndex, band);
        }
    }

    /// @notice Reverts unless lossInTokens(worstLoss, premiumUnit) + margin <= freeCollateral: the
    ///     proven worst-case scenario loss in token units, rounded up (in the vault's favour: it
    ///     demands at least what the loss is), plus governance's margin.
    function requireSolvent(uint256 worstLoss, uint256 premiumUnit, uint256 margin, uint256 freeCollateral)
        internal
        pure
    {
        uint256 loss = lossInTokens(worstLoss, premiumUnit);
        // A loss no uint256 holds is refused, as is one whose margin would overflow.
        if (loss == type(uint256).max || margin > type(uint256).max - loss) {
            revert Insolvent(type(uint256).max, freeCollateral);
        }
        uint256 needed = loss + margin;
        if (needed > freeCollateral) revert Insolvent(needed, freeCollateral);
    }

    /// @notice ceil(worstLoss · premiumUnit / 2^48): a proven loss (2^-48 quote currency) in token
    ///     units, rounded up; type(uint256).max when it would exceed half of what a uint256 holds.
    function lossInTokens(uint256 worstLoss, uint256 premiumUnit) internal pure returns (uint256) {
        // worstLoss < 2^250 (the layout's window) times premiumUnit <= 10^18 could overflow:
        // split worstLoss at the binary point, exact either way.
        uint256 units = worstLoss >> FRAC_BITS;
        if (premiumUnit != 0 && units > type(uint256).max / premiumUnit / 2) return type(uint256).max;
        uint256 whole = units * premiumUnit;
        uint256 part = (worstLoss & (ONE - 1)) * premiumUnit; // < 2^108
        return whole + (part >> FRAC_BITS) + (part & (ONE - 1) == 0 ? 0 : 1);
    }
}
