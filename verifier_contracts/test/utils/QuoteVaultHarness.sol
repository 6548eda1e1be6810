// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {QuoteVault} from "../../QuoteVault.sol";

/// @title QuoteVault with its unclaimed payoffs settable by the test
/// @notice The proven mark is reached the vault's own way in these tests (a batch through
///     PairVerifier, VaultFixture.proveMark); unclaimedPayoffs is written only by expiry
///     settlement, and the NAV and share tests set it here to reach every NAV the vault can be
///     in. Everything else is QuoteVault's own code.
contract QuoteVaultHarness is QuoteVault {
    constructor(
        IERC20Metadata token_,
        Dependencies memory deps,
        OracleSettings memory settings,
        RiskLimits memory limits,
        MarketSettings memory market,
        Margins memory margins_
    ) QuoteVault(token_, deps, settings, limits, market, margins_) {}

    function recordUnclaimedPayoffs(uint256 unclaimed) external {
        _recordUnclaimedPayoffs(unclaimed);
    }
}
