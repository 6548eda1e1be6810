// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IBatchVerifier, BATCH_PUBLIC_INPUT_COUNT} from "generated/BatchLayout.sol";
import {QuoteVault} from "../QuoteVault.sol";
import {TestToken} from "../TestToken.sol";
import {PairVerifier} from "./utils/PairVerifier.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @title Unit tests of what the ERC-4626 and governance work added to QuoteVault or touched
/// @notice One test or more per function and custom error; every revert test also checks that
///     the vault's state (VaultFixture.vaultState) is what it was.
contract QuoteVaultTest is VaultFixture {
    bytes32 private constant NO_STATE = bytes32(0);

    // ------------------------------------------------------------------ constructor

    function test_constructor_setsTheShareTokenAndConfiguration() public view {
        vm.assertEq(vault.asset(), address(token), "asset");
        vm.assertEq(uint256(vault.decimals()), DECIMALS + 6, "share decimals = token's + DECIMALS_OFFSET");
        vm.assertEq(vault.name(), "DLPE vault share", "name");
        vm.assertEq(vault.symbol(), "DLPE-LP", "symbol");
        vm.assertEq(address(vault.governance()), address(timelock), "governance");
        vm.assertEq(vault.solver(), SOLVER, "solver");
        vm.assertEq(uint256(vault.nextNonce()), FIRST_NONCE, "first nonce");
        vm.assertEq(vault.premiumUnit(), 10 ** DECIMALS, "premium unit");
        vm.assertEq(uint256(vault.maxOracleAge()), MAX_ORACLE_AGE, "max oracle age");
        vm.assertEq(uint256(vault.quoteLifetime()), QUOTE_LIFETIME, "quote lifetime");
        (uint128 d,,, uint128 loss) = vault.riskLimits();
        vm.assertEq(uint256(d), limits().maxAbsDelta, "delta limit");
        vm.assertEq(uint256(loss), limits().maxLoss, "loss limit");
        vm.assertEq(vault.totalAssets(), 0, "empty vault");
    }

    function test_constructor_refusesAVerifierWithAnotherInputCount() public {
        PairVerifier wrong = new PairVerifier(3, new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.VerifierInputCountMismatch.selector, BATCH_PUBLIC_INPUT_COUNT, 3));
        newVault(token, wrong, timelock, oracleSettings(), limits());
    }

    function test_constructor_refusesATokenWithMoreThan18Decimals() public {
        TestToken wide = new TestToken("Wide", "W", 19);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.TokenDecimalsUnsupported.selector, 19));
        newVault(wide, verifier, timelock, oracleSettings(), limits());
    }

    function test_constructor_refusesGovernanceWithoutCode() public {
        TimelockController eoa = TimelockController(payable(address(0xBEEF)));
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.GovernanceNotTimelock.selector, address(0xBEEF)));
        newVault(token, verifier, eoa, oracleSettings(), limits());
    }

    function test_constructor_refusesAGovernanceDelayBelowTheMinimum() public {
        TimelockController quick = newTimelock(1 days - 1);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.GovernanceDelayTooShort.selector, 1 days - 1, 1 days));
        newVault(token, verifier, quick, oracleSettings(), limits());
        // exactly the minimum is enough
        newVault(token, verifier, newTimelock(1 days), oracleSettings(), limits());
    }

    function test_constructor_refusesZeroOracleSettings() public {
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.OracleSettingsInvalid.selector, 0, QUOTE_LIFETIME));
        newVault(token, verifier, timelock, QuoteVault.OracleSettings(0, QUOTE_LIFETIME), limits());
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.OracleSettingsInvalid.selector, MAX_ORACLE_AGE, 0));
        newVault(token, verifier, timelock, QuoteVault.OracleSettings(MAX_ORACLE_AGE, 0), limits());
    }

    function test_constructor_refusesALimitTheCircuitCannotCarry() public {
        QuoteVault.RiskLimits memory tooWide = limits();
        tooWide.maxLoss = uint128(1 << 88);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RiskLimitOutOfRange.selector, 3, 1 << 88, (1 << 88) - 1));
        newVault(token, verifier, timelock, oracleSettings(), tooWide);
    }

    // ------------------------------------------------------------------ governance with a delay

    function test_setRiskLimits_appliesOnlyAfterTheTimelockDelay() public {
        QuoteVault.RiskLimits memory wider = limits();
        wider.maxAbsDelta = uint128(400 * ONE);
        bytes memory call = abi.encodeCall(QuoteVault.setRiskLimits, (wider));
        bytes32 id = schedule(call);

        bytes32 before = vaultState();
        vm.expectRevert(abi.encodeWithSelector(
            TimelockController.TimelockUnexpectedOperationState.selector, id, bytes32(1 << uint8(TimelockController.OperationState.Ready))
        ));
        execute(call);
        vm.warp(block.timestamp + GOVERNANCE_DELAY - 1);
        vm.expectRevert(abi.encodeWithSelector(
            TimelockController.TimelockUnexpectedOperationState.selector, id, bytes32(1 << uint8(TimelockController.OperationState.Ready))
        ));
        execute(call);
        vm.assertEq(vaultState(), before, "state unchanged before the delay");

        vm.warp(block.timestamp + 1);
        vm.expectEmit();
        emit QuoteVault.RiskLimitsUpdated(wider.maxAbsDelta, wider.maxAbsGamma, wider.maxAbsVega, wider.maxLoss);
        execute(call);
        (uint128 d,,,) = vault.riskLimits();
        vm.assertEq(uint256(d), 400 * ONE, "applied after the delay");
    }

    function test_setRiskLimits_refusesAnyoneButTheTimelock() public {
        bytes32 before = vaultState();
        // not even the timelock's own proposer, calling directly
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.NotGovernance.selector, address(this)));
        vault.setRiskLimits(limits());
        vm.prank(SOLVER);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.NotGovernance.selector, SOLVER));
        vault.setRiskLimits(limits());
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_setRiskLimits_refusesALimitOutOfRangeEvenAfterTheDelay() public {
        QuoteVault.RiskLimits memory tooWide = limits();
        tooWide.maxAbsGamma = uint128(1 << 88);
        bytes memory call = abi.encodeCall(QuoteVault.setRiskLimits, (tooWide));
        schedule(call);
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        bytes32 before = vaultState();
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RiskLimitOutOfRange.selector, 1, 1 << 88, (1 << 88) - 1));
        execute(call);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_setOracleSettings_appliesOnlyAfterTheTimelockDelay() public {
        bytes memory call = abi.encodeCall(QuoteVault.setOracleSettings, (QuoteVault.OracleSettings(60, 120)));
        schedule(call);
        bytes32 before = vaultState();
        vm.warp(block.timestamp + GOVERNANCE_DELAY - 1);
        vm.expectRevert(); // TimelockUnexpectedOperationState, checked in full above
        execute(call);
        vm.assertEq(vaultState(), before, "state unchanged before the delay");
        vm.warp(block.timestamp + 1);
        vm.expectEmit();
        emit QuoteVault.OracleSettingsUpdated(60, 120);
        execute(call);
        vm.assertEq(uint256(vault.maxOracleAge()), 60, "max oracle age");
        vm.assertEq(uint256(vault.quoteLifetime()), 120, "quote lifetime");
    }

    function test_setOracleSettings_refusesZeroAndAnyoneButTheTimelock() public {
        bytes32 before = vaultState();
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.NotGovernance.selector, address(this)));
        vault.setOracleSettings(QuoteVault.OracleSettings(60, 120));
        bytes memory call = abi.encodeCall(QuoteVault.setOracleSettings, (QuoteVault.OracleSettings(60, 0)));
        schedule(call);
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        bytes32 scheduled = vaultState();
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.OracleSettingsInvalid.selector, 60, 0));
        execute(call);
        vm.assertEq(vaultState(), scheduled, "state unchanged");
        vm.assertEq(before, scheduled, "scheduling changes nothing in the vault");
    }

    function test_oracleSettings_governTheNextBatch() public {
        bytes memory call = abi.encodeCall(QuoteVault.setOracleSettings, (QuoteVault.OracleSettings(60, 120)));
        schedule(call);
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        execute(call);
        uint256 batchId = submitBatch(0);
        (uint64 oracleTime,, uint64 validUntil) = vault.batchTimes(batchId);
        vm.assertEq(uint256(validUntil), uint256(oracleTime) + 120, "the new quote lifetime");
        // the new maximum age: a 61-second-old observation is stale
        vm.warp(block.timestamp + 1);
        oracle.post(uint192(spotOf(1)), uint64(block.timestamp));
        vm.warp(block.timestamp + 61);
        uint64 nonce = vault.nextNonce();
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(nonce, 1);
        bytes32 before = vaultState();
        vm.prank(SOLVER);
        vm.expectRevert(abi.encodeWithSelector(
            QuoteVault.StaleOraclePrice.selector, uint64(block.timestamp - 61), block.timestamp, uint64(60)
        ));
        vault.submitBatch(a, b, c, packedOf(nonce, spotOf(1)), uint64(block.timestamp + EXPIRY_SECONDS));
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_lpsCanRedeemWhileAChangeIsScheduled() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        QuoteVault.RiskLimits memory wider = limits();
        wider.maxLoss = uint128((1 << 88) - 1);
        bytes memory call = abi.encodeCall(QuoteVault.setRiskLimits, (wider));
        schedule(call);
        uint256 shares = vault.balanceOf(LP);
        vm.prank(LP);
        vault.redeem(shares, LP, LP);
        vm.assertEq(token.balanceOf(LP), FUNDS, "the LP left with everything before the change");
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        execute(call);
    }

    // ------------------------------------------------------------------ LP shares

    function test_deposit_mintsSharesAtNavAndCreditsCollateral() public {
        vm.expectEmit();
        emit IERC4626.Deposit(LP, LP, 1_000e6, 1_000e6 * 1e6);
        vm.prank(LP);
        uint256 shares = vault.deposit(1_000e6, LP);
        vm.assertEq(shares, 1_000e6 * 1e6, "first deposit: 10^DECIMALS_OFFSET shares per token unit");
        vm.assertEq(vault.balanceOf(LP), shares, "shares");
        vm.assertEq(vault.collateral(), 1_000e6, "collateral");
        vm.assertEq(vault.totalAssets(), 1_000e6, "NAV");
        vm.assertEq(token.balanceOf(address(vault)), 1_000e6, "tokens in the vault");
        // a second LP at the same NAV gets the same price
        vm.prank(LP2);
        vm.assertEq(vault.deposit(500e6, LP2), 500e6 * 1e6, "same price");
    }

    function test_deposit_refusedWithoutAllowanceChangesNothing() public {
        vm.prank(LP);
        token.approve(address(vault), 10);
        bytes32 before = vaultState();
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(TestToken.InsufficientAllowance.selector, LP, address(vault), 10, 11));
        vault.deposit(11, LP);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_mint_chargesAssetsRoundedUp() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        vault.recordProvenMark(1); // NAV 999_999_999 for 10^15 shares: prices are not round
        uint256 shares = 3e6 + 1;
        uint256 expected = (shares * (vault.totalAssets() + 1) + vault.totalSupply() + 1e6 - 1) / (vault.totalSupply() + 1e6);
        vm.prank(LP2);
        uint256 assets = vault.mint(shares, LP2);
        vm.assertEq(assets, expected, "ceil");
        vm.assertEq(vault.balanceOf(LP2), shares, "shares minted");
        vm.assertEq(vault.collateral(), 1_000e6 + assets, "collateral");
    }

    function test_withdraw_burnsSharesRoundedUpAndDebitsCollateral() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        vault.recordProvenMark(7);
        uint256 supply = vault.totalSupply();
        uint256 nav = vault.totalAssets();
        uint256 expected = (100e6 * (supply + 1e6) + nav) / (nav + 1); // ceil(a (S + 10^6) / (A + 1))
        vm.prank(LP);
        uint256 shares = vault.withdraw(100e6, LP, LP);
        vm.assertEq(shares, expected, "ceil");
        vm.assertEq(vault.collateral(), 900e6, "collateral");
        vm.assertEq(token.balanceOf(LP), FUNDS - 900e6, "paid");
    }

    function test_redeem_paysAssetsRoundedDown() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        vault.recordProvenMark(3);
        uint256 shares = vault.balanceOf(LP) / 3;
        uint256 expected = shares * (vault.totalAssets() + 1) / (vault.totalSupply() + 1e6);
        vm.expectEmit();
        emit IERC4626.Withdraw(LP, LP2, LP, expected, shares);
        vm.prank(LP);
        uint256 assets = vault.redeem(shares, LP2, LP);
        vm.assertEq(assets, expected, "floor");
        vm.assertEq(token.balanceOf(LP2), FUNDS + assets, "receiver paid");
        vm.assertEq(vault.collateral(), 1_000e6 - assets, "collateral");
    }

    function test_redeem_refusedAboveTheHoldingChangesNothing() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        uint256 held = vault.balanceOf(LP);
        bytes32 before = vaultState();
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, LP, held + 1, held));
        vault.redeem(held + 1, LP, LP);
        vm.prank(TAKER); // someone else's shares, without an allowance
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, TAKER, 0, 1));
        vault.redeem(1, TAKER, LP);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_withdraw_refusedAboveTheHoldingChangesNothing() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        bytes32 before = vaultState();
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxWithdraw.selector, LP, 1_000e6 + 1, 1_000e6));
        vault.withdraw(1_000e6 + 1, LP, LP);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_totalAssets_isCollateralLessMarkLessUnclaimedPayoffs() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        vm.expectEmit();
        emit QuoteVault.ProvenMarkUpdated(300e6);
        vault.recordProvenMark(300e6);
        vm.expectEmit();
        emit QuoteVault.UnclaimedPayoffsUpdated(200e6);
        vault.recordUnclaimedPayoffs(200e6);
        vm.assertEq(vault.totalAssets(), 500e6, "1000 - 300 - 200");
        // LPs redeem at NAV: all the LP's shares are now worth about half its deposit
        vm.assertEq(vault.previewRedeem(vault.balanceOf(LP)), 500e6, "redeemable");
    }

    function test_deposits_refusedWhileLiabilitiesReachTheCollateral() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        vault.recordProvenMark(600e6);
        vault.recordUnclaimedPayoffs(400e6);
        vm.assertEq(vault.totalAssets(), 0, "NAV is zero, not negative");
        vm.assertEq(vault.maxDeposit(LP2), 0, "no deposits");
        vm.assertEq(vault.maxMint(LP2), 0, "no mints");
        bytes32 before = vaultState();
        vm.prank(LP2);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxDeposit.selector, LP2, 1, 0));
        vault.deposit(1, LP2);
        vm.prank(LP2);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxMint.selector, LP2, 1, 0));
        vault.mint(1, LP2);
        vm.assertEq(vaultState(), before, "state unchanged");
        vault.recordUnclaimedPayoffs(399e6);
        vm.assertEq(vault.maxDeposit(LP2), type(uint256).max, "open again once NAV is positive");
    }

    function test_donation_doesNotMoveTheSharePrice() public {
        vm.prank(LP);
        vault.deposit(1, LP);
        vm.prank(LP2);
        token.transfer(address(vault), 1_000_000e6);
        vm.assertEq(vault.totalAssets(), 1, "a donation is not collateral");
        vm.prank(TAKER);
        vm.assertEq(vault.deposit(1_000e6, TAKER), 1_000e6 * 1e6, "the next depositor pays the first one's price");
    }

    /// @notice The first-deposit attack through the share price: the attacker holds the only
    ///     shares and raises NAV by paying a premium (which, while the mark is 0, is all NAV), so
    ///     that the victim's deposit rounds down to nothing. With 10^6 virtual shares, the virtual
    ///     holders take half of what the attacker puts in: making a victim lose V costs the
    ///     attacker about 10^6 · V.
    function test_inflationAttack_costsTheAttackerAMillionTimesWhatTheVictimLoses() public {
        vm.prank(TAKER); // the attacker
        vault.deposit(1, TAKER);
        uint256 batchId = submitBatch(0);
        vm.prank(TAKER);
        uint256 raised = vault.fill(batchId, 0, 30_000 * ONE, type(uint256).max); // about 9.15e13 token units
        uint256 victimDeposit = 10e6;
        vm.prank(LP);
        uint256 victimShares = vault.deposit(victimDeposit, LP);
        vm.assertEq(victimShares, 0, "the attack works: the victim's deposit rounds down to no shares");
        uint256 victimLoss = victimDeposit - vault.previewRedeem(victimShares);
        uint256 attackerLoss = raised + 1 - vault.previewRedeem(vault.balanceOf(TAKER));
        vm.assertEq(victimLoss, victimDeposit, "the victim lost its deposit");
        vm.assertGe(attackerLoss, victimLoss * 1e6, "and the attacker lost a million times more");
    }

    /// @notice A deposit after NAV has grown gets shares worth its deposit, less at most one
    ///     share's value (the floor of deposit's conversion).
    function test_deposit_afterNavGrowthLosesAtMostOneShareUnit() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        uint256 batchId = submitBatch(0);
        vm.prank(TAKER);
        vault.fill(batchId, 0, ONE / 7, type(uint256).max);
        uint256 oneShare = vault.convertToAssets(1) + 1;
        vm.prank(LP2);
        uint256 shares = vault.deposit(123_456_789, LP2);
        vm.assertLe(123_456_789 - vault.previewRedeem(shares), oneShare, "at most one share's value");
    }

    // ------------------------------------------------------------------ batches, fills and sells

    function test_submitBatch_acceptsAPlannedPairAndRecordsItsQuotes() public {
        uint256 batchId = submitBatch(2);
        vm.assertEq(batchId, FIRST_NONCE, "batch id is the nonce");
        (uint256 strike, bool isCall, int256 bid, int256 ask) = vault.quote(batchId, 0);
        vm.assertEq(strike, STRIKE, "strike");
        vm.assertTrue(isCall, "call");
        vm.assertEq(bid, int256(BID), "bid");
        vm.assertEq(ask, int256(ASK), "ask");
        (uint64 oracleTime, uint64 expiry, uint64 validUntil) = vault.batchTimes(batchId);
        vm.assertEq(uint256(expiry), oracleTime + EXPIRY_SECONDS, "expiry");
        vm.assertEq(uint256(validUntil), oracleTime + QUOTE_LIFETIME, "valid until");
    }

    function test_submitBatch_refusesAPairTheVerifierDoesNotAccept() public {
        vm.warp(block.timestamp + 1);
        oracle.post(uint192(spotOf(0)), uint64(block.timestamp));
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(FIRST_NONCE, 1); // spot 1's proof
        bytes32 before = vaultState();
        vm.prank(SOLVER);
        vm.expectRevert(abi.encodeWithSelector(IBatchVerifier.ProofInvalid.selector));
        vault.submitBatch(a, b, c, packedOf(FIRST_NONCE, spotOf(0)), uint64(block.timestamp + EXPIRY_SECONDS));
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_fill_pullsThePremiumIntoCollateralAndNav() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        uint256 batchId = submitBatch(0);
        uint256 size = ONE / 3;
        uint256 premium = premiumOf(ASK, size, true);
        vm.expectEmit();
        emit QuoteVault.Filled(batchId, TAKER, seriesOf(batchId), 0, true, size, int256(ASK), premium);
        vm.prank(TAKER);
        vm.assertEq(vault.fill(batchId, 0, size, premium), premium, "premium, rounded up");
        vm.assertEq(vault.collateral(), 1_000e6 + premium, "collateral");
        vm.assertEq(vault.totalAssets(), 1_000e6 + premium, "NAV (the mark is 0 until it is proven)");
        vm.assertEq(token.balanceOf(TAKER), FUNDS - premium, "taker paid");
        vm.assertEq(vault.longPositions(TAKER, seriesOf(batchId)), size, "position");
    }

    function test_fill_refusedWithoutFundsChangesNothing() public {
        uint256 batchId = submitBatch(0);
        vm.prank(TAKER);
        token.approve(address(vault), 0);
        uint256 premium = premiumOf(ASK, ONE, true);
        bytes32 before = vaultState();
        vm.prank(TAKER);
        vm.expectRevert(abi.encodeWithSelector(TestToken.InsufficientAllowance.selector, TAKER, address(vault), 0, premium));
        vault.fill(batchId, 0, ONE, premium);
        vm.prank(TAKER);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.PremiumAboveMaximum.selector, premium, premium - 1));
        vault.fill(batchId, 0, ONE, premium - 1);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_sell_paysThePremiumFromCollateral() public {
        uint256 batchId = submitBatch(0);
        vm.prank(TAKER);
        uint256 paid = vault.fill(batchId, 0, 2 * ONE, type(uint256).max);
        uint256 premium = premiumOf(BID, ONE, false);
        vm.prank(TAKER);
        vm.assertEq(vault.sell(batchId, 0, ONE, premium), premium, "premium, rounded down");
        vm.assertEq(vault.collateral(), paid - premium, "collateral");
        vm.assertEq(token.balanceOf(TAKER), FUNDS - paid + premium, "taker received");
        vm.assertEq(vault.longPositions(TAKER, seriesOf(batchId)), ONE, "position");
    }

    function test_sell_refusedWhenCollateralIsShortChangesNothing() public {
        vm.prank(LP);
        vault.deposit(1_000e6, LP);
        uint256 batchId = submitBatch(0);
        vm.prank(TAKER);
        vault.fill(batchId, 0, ONE, type(uint256).max);
        // the LP redeems everything NAV allows, premium included (the mark is not yet proven)
        uint256 lpShares = vault.balanceOf(LP);
        vm.prank(LP);
        vault.redeem(lpShares, LP, LP);
        uint256 left = vault.collateral();
        uint256 premium = premiumOf(BID, ONE, false);
        vm.assertLt(left, premium, "less collateral than the sale pays");
        bytes32 before = vaultState();
        vm.prank(TAKER);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.InsufficientCollateral.selector, left, premium));
        vault.sell(batchId, 0, ONE, 0);
        vm.assertEq(vaultState(), before, "state unchanged");
    }
}
