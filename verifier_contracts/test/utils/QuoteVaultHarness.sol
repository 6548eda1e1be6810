// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IBatchVerifier} from "generated/BatchLayout.sol";
import {QuoteVault} from "../../QuoteVault.sol";
import {SpotOracle} from "../../SpotOracle.sol";

/// @title QuoteVault with its two NAV liabilities settable by the test
/// @notice The vault writes provenMark and unclaimedPayoffs only from the proof path and from
///     expiry settlement, neither of which publishes them yet; the NAV and share tests set them
///     here to reach every NAV the vault can be in. Everything else is QuoteVault's own code.
contract QuoteVaultHarness is QuoteVault {
    constructor(
        IERC20Metadata token_,
        SpotOracle oracle_,
        IBatchVerifier verifier_,
        address solver_,
        TimelockController governance_,
        uint64 firstNonce,
        OracleSettings memory settings,
        RiskLimits memory limits
    ) QuoteVault(token_, oracle_, verifier_, solver_, governance_, firstNonce, settings, limits) {}

    function recordProvenMark(uint256 mark) external {
        _recordProvenMark(mark);
    }

    function recordUnclaimedPayoffs(uint256 unclaimed) external {
        _recordUnclaimedPayoffs(unclaimed);
    }
}
