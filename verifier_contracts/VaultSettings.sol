// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchLayout} from "generated/BatchLayout.sol";
import {BatchChecks} from "./BatchChecks.sol";
import {QuoteVault} from "./QuoteVault.sol";

/// @title VaultSettings: governance's settings of a QuoteVault, checked, stored and announced
/// @notice Each setter refuses, with QuoteVault's typed error, a value the circuit cannot carry or
///     the vault's rules do not admit (the lifecycle's bounds stay in QuoteVault, beside its constants), then writes the vault's storage through the pointer it is
///     given and emits QuoteVault's event. QuoteVault's setters call it once the caller is known to
///     be governance (its timelock), and its constructor for the first values.
///
///     An external library linked into QuoteVault (called by delegatecall: the writes and events
///     are the vault's), to keep the vault's code under EIP-170's 24,576 bytes. Its errors, events,
///     and settings types are QuoteVault's own (its ABI and callers name them there): this
///     file and QuoteVault.sol import each other, for types only.
library VaultSettings {
    /// @notice Oracle settings need 0 < quoteLifetime <= maxOracleAge (seconds).
    function setOracleSettings(QuoteVault.OracleSettings storage stored, QuoteVault.OracleSettings memory settings)
        external
    {
        // A quote outliving the oracle's maximum age could fill at a spot nobody observed lately.
        if (settings.quoteLifetime == 0 || settings.quoteLifetime > settings.maxOracleAge) {
            revert QuoteVault.OracleSettingsInvalid(settings.maxOracleAge, settings.quoteLifetime);
        }
        (stored.maxOracleAge, stored.quoteLifetime) = (settings.maxOracleAge, settings.quoteLifetime);
        emit QuoteVault.OracleSettingsUpdated(settings.maxOracleAge, settings.quoteLifetime);
    }

    /// @notice Rate and carry within the circuit's window, a spot tolerance below 1, a band at most
    ///     BatchChecks.VOL_CAP.
    function setMarketSettings(QuoteVault.MarketSettings storage stored, QuoteVault.MarketSettings memory market)
        external
    {
        // rate and carry are declared in [-RATE_ABS_MAX, RATE_ABS_MAX] (circuits.book_batch): a
        // symmetric domain whose lo is -RATE_ABS_MAX, so |x| <= -lo is exactly what the circuit admits.
        bool rateFits = market.rate >= BatchLayout.RATE_LO && market.rate <= -BatchLayout.RATE_LO;
        bool carryFits = market.carry >= BatchLayout.CARRY_LO && market.carry <= -BatchLayout.CARRY_LO;
        if (!rateFits || !carryFits || market.spotTolerance >= BatchChecks.ONE || market.ivBand > BatchChecks.VOL_CAP) {
            revert QuoteVault.MarketSettingsInvalid(market.rate, market.carry, market.spotTolerance, market.ivBand);
        }
        (stored.rate, stored.carry) = (market.rate, market.carry);
        (stored.spotTolerance, stored.ivBand) = (market.spotTolerance, market.ivBand);
        emit QuoteVault.MarketSettingsUpdated(market.rate, market.carry, market.spotTolerance, market.ivBand);
    }

    /// @notice A model margin the circuit carries; any solvency margin.
    function setMargins(QuoteVault.Margins storage stored, QuoteVault.Margins memory margins) external {
        _requireLimitFits(4, margins.modelMargin, BatchLayout.MODEL_MARGIN_BITS, BatchLayout.MODEL_MARGIN_LO);
        (stored.modelMargin, stored.solvencyMargin) = (margins.modelMargin, margins.solvencyMargin);
        emit QuoteVault.MarginsUpdated(margins.modelMargin, margins.solvencyMargin);
    }

    /// @notice Risk limits the circuit carries.
    function setRiskLimits(QuoteVault.RiskLimits storage stored, QuoteVault.RiskLimits memory limits) external {
        _requireLimitFits(0, limits.maxAbsDelta, BatchLayout.MAX_ABS_DELTA_BITS, BatchLayout.MAX_ABS_DELTA_LO);
        _requireLimitFits(1, limits.maxAbsGamma, BatchLayout.MAX_ABS_GAMMA_BITS, BatchLayout.MAX_ABS_GAMMA_LO);
        _requireLimitFits(2, limits.maxAbsVega, BatchLayout.MAX_ABS_VEGA_BITS, BatchLayout.MAX_ABS_VEGA_LO);
        _requireLimitFits(3, limits.maxLoss, BatchLayout.MAX_LOSS_BITS, BatchLayout.MAX_LOSS_LO);
        (stored.maxAbsDelta, stored.maxAbsGamma) = (limits.maxAbsDelta, limits.maxAbsGamma);
        (stored.maxAbsVega, stored.maxLoss) = (limits.maxAbsVega, limits.maxLoss);
        emit QuoteVault.RiskLimitsUpdated(limits.maxAbsDelta, limits.maxAbsGamma, limits.maxAbsVega, limits.maxLoss);
    }

    /// @dev A limit the circuit cannot carry would make every batch unprovable: refuse it here.
    function _requireLimitFits(uint256 limit, uint256 value, uint256 bits, int256 lo) private pure {
        // The generator only renders layouts whose limit slots have lo >= 0, so the casts below are exact.
        uint256 low = uint256(lo);
        uint256 max = low + (1 << bits) - 1;
        if (value < low || value > max) revert QuoteVault.RiskLimitOutOfRange(limit, value, max);
    }
}
