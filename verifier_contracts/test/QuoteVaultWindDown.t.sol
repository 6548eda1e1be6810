// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {QuoteVault} from "../QuoteVault.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @title Unit tests of the wind-down: the solver stops proving while an expiry is live
/// @notice Two LPs deposit, the taker buys a call of the first expiry and a pure book update marks
///     it; then the solver goes quiet. Past lifecycle.maxProofGap after the last proof's
///     observation the vault refuses batches, fills and deposits (each refusal leaves it as it
///     was); settlement and claims go on; once the expiry has settled the LPs redeem pro rata.
contract QuoteVaultWindDownTest is VaultFixture {
    uint256 private constant DEPOSIT = 600_000e6;
    uint256 private constant DEPOSIT2 = 400_000e6;

    /// @dev The book holds the taker's call, marked at MID; the live batch's quotes have expired.
    function quietSolver() private returns (uint256 batchId) {
        deposit(LP, DEPOSIT);
        deposit(LP2, DEPOSIT2);
        batchId = submitLive();
        buy(TAKER, batchId, ONE);
        proveMark(-int256(MID));
    }

    function test_windingDown_onlyPastTheProofGapWhileAnExpiryIsLive() public {
        vm.warp(block.timestamp + 60 days);
        vm.assertFalse(vault.windingDown(), "nothing open: no proof is needed");
        vm.warp(START_TIME);
        quietSolver();
        (,, uint64 gap) = vault.lifecycle();
        vm.assertEq(uint256(gap), vault.DEFAULT_MAX_PROOF_GAP(), "the default gap");
        vm.assertEq(uint256(gap), 7 days, "a week");
        vm.warp(uint256(vault.markTime()) + gap);
        vm.assertFalse(vault.windingDown(), "at the gap");
        vm.warp(block.timestamp + 1);
        vm.assertTrue(vault.windingDown(), "a second past it");
    }

    function test_windDown_refusesBatchesFillsAndDeposits() public {
        uint256 batchId = quietSolver();
        (,, uint64 gap) = vault.lifecycle();
        uint64 markTime = vault.markTime();
        vm.warp(uint256(markTime) + gap + 1);
        postMarket(SPOT); // a fresh market: only the wind-down refuses
        bytes memory err = abi.encodeWithSelector(QuoteVault.WindingDown.selector, markTime, gap);
        refuseSubmit(plan(), true, err);
        refuseSubmit(bookUpdate(), true, err);
        refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max, err);
        refuseTrade(TAKER, false, batchId, 0, ONE, 0, err);
        vm.assertEq(vault.maxDeposit(LP2), 0, "no deposits");
        vm.assertEq(vault.maxMint(LP2), 0, "no mints");
        refuseDeposit(LP2, 1e6);
    }

    function test_windDown_settlementAndClaimsGoOnThenLPsRedeemProRata() public {
        quietSolver();
        uint256 shares = vault.balanceOf(LP);
        uint256 shares2 = vault.balanceOf(LP2);
        vm.warp(EXPIRY_0);
        vm.assertTrue(vault.windingDown(), "three weeks without a proof");
        vm.assertFalse(vault.markFresh(), "the mark is stale: no instant redemption");
        vm.prank(LP);
        uint256 id = vault.requestRedeem(shares); // an LP queues while it waits

        oracle.post(uint192(STRIKE + 2_000 * ONE), EXPIRY_0);
        vault.settleExpiry(EXPIRY_0, oracle.observationCount() - 1); // anyone settles
        vm.prank(TAKER);
        vm.assertEq(vault.claim(EXPIRY_0, STRIKE, true), 2_000e6, "the holder is paid");
        vm.assertFalse(vault.windingDown(), "nothing open: wind-down ends with the last expiry");
        vm.assertTrue(vault.markFresh(), "NAV needs no mark");
        vm.assertEq(vault.worstLossReserve(), 0, "nothing can lose");

        uint256 nav = vault.totalAssets();
        uint256 supply = vault.totalSupply();
        uint256 assets = vault.settleRedeem(id);
        vm.assertEq(assets, shares * (nav + 1) / (supply + 1e6), "the queued LP: its share of NAV");
        vm.prank(LP2);
        uint256 assets2 = vault.redeem(shares2, LP2, LP2);
        vm.assertEq(assets2, shares2 * (vault.totalAssets() + 1 + assets2) / (shares2 + 1e6), "LP2 at once, pro rata");
        uint256 same = assets * DEPOSIT2 / DEPOSIT;
        vm.assertLe(same > assets2 ? same - assets2 : assets2 - same, 1, "both got the same per deposited token");
        vm.assertEq(vault.totalSupply(), 0, "every share redeemed");
        vm.assertLe(vault.collateral() - vault.unclaimedPayoffs(), 2, "a unit of rounding per LP stays");
    }

    function test_aSolverBackBeforeTheGapKeepsTheVaultRunning() public {
        uint256 batchId = quietSolver();
        (,, uint64 gap) = vault.lifecycle();
        vm.warp(uint256(vault.markTime()) + gap - 1);
        proveMark(-int256(MID)); // a second before the gap: the clock starts again
        vm.warp(block.timestamp + gap - 1);
        vm.assertFalse(vault.windingDown(), "proved in time");
        uint256 next = submitLive();
        vm.assertTrue(next > batchId, "batches go on");
        buy(TAKER, next, ONE);
    }

    function test_setLifecycle_boundsTheProofGap() public {
        bytes memory call = abi.encodeCall(QuoteVault.setLifecycle, (QuoteVault.LifecycleSettings(1 hours, 1 days, 2 days)));
        schedule(call);
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        vm.expectEmit();
        emit QuoteVault.LifecycleUpdated(1 hours, 1 days, 2 days);
        execute(call);
        (,, uint64 gap) = vault.lifecycle();
        vm.assertEq(uint256(gap), 2 days, "applied");
        bytes32 before = vaultState();
        uint64 maxGap = vault.MAX_PROOF_GAP();
        vm.assertEq(uint256(maxGap), 30 days, "at most a month");
        uint64[2] memory bad = [uint64(0), maxGap + 1];
        for (uint256 i = 0; i < bad.length; ++i) {
            call = abi.encodeCall(QuoteVault.setLifecycle, (QuoteVault.LifecycleSettings(1 hours, 1 days, bad[i])));
            schedule(call);
            vm.warp(block.timestamp + GOVERNANCE_DELAY);
            vm.expectRevert(
                abi.encodeWithSelector(QuoteVault.LifecycleSettingsInvalid.selector, 1 hours, 1 days, bad[i])
            );
            execute(call);
        }
        vm.assertEq(vaultState(), before, "state unchanged");
    }
}
