// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchChecks} from "../../BatchChecks.sol";

/// @title BatchChecksHarness: BatchChecks' internal functions as external ones, for tests only
/// @notice Deployed by tests/verifier_contracts/test_batch_checks.py; never outside tests.
contract BatchChecksHarness {
    function requireFresh(uint64 observedAt, uint64 maxAge, uint256 blockTime) external pure {
        BatchChecks.requireFresh(observedAt, maxAge, blockTime);
    }

    function requireSpotWithin(uint256 batchSpot, uint256 spot, uint256 tolerance) external pure {
        BatchChecks.requireSpotWithin(batchSpot, spot, tolerance);
    }

    function requireAtmVolInBand(
        uint256 expiryIndex,
        uint64 expiry,
        uint64 oracleTime,
        uint256 atmVariance,
        uint256 ivIndex,
        uint256 band
    ) external pure {
        BatchChecks.requireAtmVolInBand(expiryIndex, expiry, oracleTime, atmVariance, ivIndex, band);
    }

    function requireSolvent(uint256 worstLoss, uint256 premiumUnit, uint256 margin, uint256 freeCollateral)
        external
        pure
    {
        BatchChecks.requireSolvent(worstLoss, premiumUnit, margin, freeCollateral);
    }
}
