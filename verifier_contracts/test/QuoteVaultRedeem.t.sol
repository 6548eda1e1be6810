// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {QuoteVault} from "../QuoteVault.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @title Unit tests of NAV freshness, the worst-case reserve and the redemption queue
/// @notice LPs deposit and redeem at once only while the proven mark is at most maxMarkAge old (or
///     nothing is open), and never below the liabilities plus the proven worst case plus what the
///     queue is owed; otherwise shares wait in escrow (requestRedeem) and settleRedeem pays the
///     oldest request once a mark observed after it is fresh and the free collateral covers it.
contract QuoteVaultRedeemTest is VaultFixture {
    uint64 private constant MAX_MARK_AGE = 1 days;

    /// @dev An LP deposit, a live batch and a taker's buy: the book is open, marked at the batch's time.
    function openBook() private returns (uint256 shares) {
        shares = deposit(LP, 1_000_000e6);
        buy(TAKER, submitLive(), ONE);
        proveMark(-int256(MID));
    }

    function test_markFresh_whileNothingIsOpenOrTheMarkIsYoung() public {
        vm.assertTrue(vault.markFresh(), "an empty book needs no mark");
        openBook();
        vm.assertTrue(vault.markFresh(), "just marked");
        vm.warp(uint256(vault.markTime()) + MAX_MARK_AGE);
        vm.assertTrue(vault.markFresh(), "at the age limit");
        vm.warp(block.timestamp + 1);
        vm.assertFalse(vault.markFresh(), "a second later");
    }

    function test_aStaleMarkClosesInstantDepositsAndRedemptions() public {
        uint256 shares = openBook();
        vm.warp(uint256(vault.markTime()) + MAX_MARK_AGE + 1);
        vm.assertEq(vault.maxDeposit(LP2), 0, "no deposits");
        vm.assertEq(vault.maxMint(LP2), 0, "no mints");
        vm.assertEq(vault.maxWithdraw(LP), 0, "no withdrawals");
        vm.assertEq(vault.maxRedeem(LP), 0, "no redemptions");
        bytes32 before = vaultState();
        vm.prank(LP2);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxDeposit.selector, LP2, 1e6, 0));
        vault.deposit(1e6, LP2);
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, LP, shares, 0));
        vault.redeem(shares, LP, LP);
        vm.assertEq(vaultState(), before, "state unchanged");
        proveMark(-int256(MID)); // a fresh proof opens them again
        vm.assertEq(vault.maxRedeem(LP), shares, "open again");
    }

    function test_requestRedeem_escrowsTheShares() public {
        uint256 shares = openBook();
        vm.expectEmit();
        emit QuoteVault.RedeemRequested(0, LP, shares / 2);
        vm.prank(LP);
        uint256 id = vault.requestRedeem(shares / 2);
        vm.assertEq(id, 0, "the first request");
        vm.assertEq(vault.balanceOf(LP), shares - shares / 2, "the rest stays the LP's");
        vm.assertEq(vault.balanceOf(address(vault)), shares / 2, "in escrow");
        (address owner, uint64 requestedAt, uint256 escrowed) = vault.redeemRequests(id);
        vm.assertEq(owner, LP, "owner");
        vm.assertEq(uint256(requestedAt), block.timestamp, "requested at");
        vm.assertEq(escrowed, shares / 2, "shares");
    }

    function test_requestRedeem_refusesNothingOrMoreThanHeld() public {
        uint256 shares = openBook();
        bytes32 before = vaultState();
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RedeemRequestEmpty.selector));
        vault.requestRedeem(0);
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, LP, shares, shares + 1));
        vault.requestRedeem(shares + 1);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_settleRedeem_paysTheOwnerAtTheNextFreshMark() public {
        uint256 shares = openBook();
        vm.warp(uint256(vault.markTime()) + MAX_MARK_AGE + 1);
        vm.prank(LP);
        uint256 id = vault.requestRedeem(shares);
        (, uint64 requestedAt,) = vault.redeemRequests(id);
        uint64 markTime = vault.markTime();
        bytes32 before = vaultState();
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RedeemRequestWaitsForMark.selector, id, requestedAt, markTime));
        vault.settleRedeem(id);
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RedeemRequestNotNext.selector, id + 1, id));
        vault.settleRedeem(id + 1); // not made yet
        vm.assertEq(vaultState(), before, "state unchanged");
        proveMark(-int256(MID)); // observed after the request
        uint256 expected = vault.previewRedeem(shares);
        uint256 balance = token.balanceOf(LP);
        vm.expectEmit();
        emit QuoteVault.RedeemRequestSettled(id, LP, shares, expected);
        vm.prank(LP2); // anyone settles the oldest request: its owner is paid
        vm.assertEq(vault.settleRedeem(id), expected, "at NAV, rounded down");
        vm.assertEq(token.balanceOf(LP), balance + expected, "paid to the owner");
        vm.assertEq(vault.balanceOf(address(vault)), 0, "escrow burnt");
        vm.assertEq(vault.queuedShares(), 0, "nothing queued");
        vm.assertEq(vault.redeemQueueHead(), id + 1, "the queue moved on");
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RedeemRequestNotNext.selector, id, id + 1));
        vault.settleRedeem(id); // once
    }

    // ------------------------------------------------------------------ the proven worst case

    uint256 private constant DEPOSIT = 1_000_000e6;
    /// @dev The live batch's worst loss: 400,000 currency units, 400,000e6 token units.
    uint256 private constant WORST = 400_000;

    /// @dev LP deposits DEPOSIT, a live batch proves a worst loss of `worstUnits` currency units,
    ///     the taker buys a contract and a pure book update (worst loss 0) marks it at MID while
    ///     the batch's quotes can still fill.
    function openBookWithWorstCase(uint256 worstUnits) private returns (uint256 shares, uint256 batchId) {
        shares = deposit(LP, DEPOSIT);
        postMarket(SPOT);
        Plan memory p = plan();
        p.worstLoss = worstUnits * ONE;
        batchId = submit(p);
        buy(TAKER, batchId, ONE);
        proveMark(-int256(MID));
    }

    /// @dev A pure book update one second later, marking `mark_` with a worst loss of `worstUnits`.
    function proveWorstCase(int256 mark_, uint256 worstUnits) private {
        postMarket(SPOT);
        Plan memory p = bookUpdate();
        p.mark = mark_;
        p.worstLoss = worstUnits * ONE;
        submit(p);
    }

    function test_instantRedemptionsLeaveTheLiabilitiesAndTheWorstCaseInTheVault() public {
        (uint256 shares,) = openBookWithWorstCase(WORST);
        uint256 reserve = WORST * 1e6;
        vm.assertEq(vault.provenWorstLoss(), reserve, "the live batch's worst case: the update left its quotes out");
        vm.assertEq(vault.worstLossReserve(), reserve, "held back while the book is open");
        uint256 nav = vault.totalAssets();
        vm.assertEq(vault.freeAssets(), nav - reserve, "NAV less the reserve");
        vm.assertEq(vault.maxWithdraw(LP), nav - reserve, "capped below the LP's whole NAV");
        uint256 maxShares = vault.maxRedeem(LP);
        vm.assertLt(maxShares, shares, "not every share at once");
        vm.assertLe(vault.previewRedeem(maxShares), nav - reserve, "the shares' worth fits");
        vm.assertGt(vault.previewRedeem(maxShares + 1e6), nav - reserve, "the largest such share count");
        bytes32 before = vaultState();
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, LP, maxShares + 1, maxShares));
        vault.redeem(maxShares + 1, LP, LP);
        vm.prank(LP);
        vm.expectRevert(
            abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxWithdraw.selector, LP, nav - reserve + 1, nav - reserve)
        );
        vault.withdraw(nav - reserve + 1, LP, LP);
        vm.assertEq(vaultState(), before, "refusals change nothing");
        vm.prank(LP);
        vault.withdraw(nav - reserve, LP, LP);
        uint256 owed = vault.provenMark() + vault.unprovenPremiums() + vault.unclaimedPayoffs();
        vm.assertEq(vault.collateral(), owed + reserve, "the collateral left is the liabilities plus the worst case");
        vm.assertEq(vault.maxWithdraw(LP), 0, "nothing more at once");
    }

    function test_aPureBookUpdateLowersTheWorstCaseOnlyOnceTheQuotesCannotFill() public {
        (, uint256 batchId) = openBookWithWorstCase(WORST);
        proveWorstCase(-int256(MID), 100_000);
        vm.assertEq(vault.provenWorstLoss(), WORST * 1e6, "the quotes can still fill: the live batch's worst case");
        (, uint64 validUntil,) = vault.batchTimes(batchId);
        vm.warp(validUntil + 1);
        vm.assertEq(vault.worstLossReserve(), WORST * 1e6, "still held back: an expiry is live");
        proveWorstCase(-int256(MID), 100_000);
        vm.assertEq(vault.provenWorstLoss(), 100_000e6, "the last proof's, once the quotes expired");
        postMarket(SPOT);
        Plan memory p = plan();
        p.worstLoss = 50_000 * ONE;
        p.mark = -int256(MID);
        submit(p);
        vm.assertEq(vault.provenWorstLoss(), 50_000e6, "a batch with quotes proves the whole worst case");
        vm.prank(SOLVER);
        vault.cancelQuotes();
        proveWorstCase(-int256(MID), 10_000);
        vm.assertEq(vault.provenWorstLoss(), 10_000e6, "cancelled quotes cannot fill");
    }

    function test_theQueueIsPaidInOrderOnceAProofLowersTheWorstCase() public {
        (uint256 shares,) = openBookWithWorstCase(WORST);
        uint256 shares2 = deposit(LP2, 100_000e6);
        vm.prank(LP);
        uint256 first = vault.requestRedeem(shares * 8 / 10); // ~800,000e6: more than the free ~700,000e6
        vm.prank(LP2);
        uint256 second = vault.requestRedeem(shares2);
        vm.assertEq(vault.queuedShares(), shares * 8 / 10 + shares2, "both escrowed");
        vm.assertEq(vault.instantAssets(), 0, "the queue takes all that is free: nothing at once");
        vm.assertEq(vault.maxWithdraw(LP), 0, "no instant withdrawal jumps the queue");

        bytes32 before = vaultState();
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RedeemRequestNotNext.selector, second, first));
        vault.settleRedeem(second);
        (, uint64 requestedAt,) = vault.redeemRequests(first);
        vm.expectRevert(
            abi.encodeWithSelector(QuoteVault.RedeemRequestWaitsForMark.selector, first, requestedAt, vault.markTime())
        );
        vault.settleRedeem(first);
        vm.assertEq(vaultState(), before, "refusals change nothing");

        proveMark(-int256(MID)); // a mark after the requests, but the quotes can still fill
        uint256 assets = vault.previewRedeem(shares * 8 / 10);
        uint256 free = vault.freeAssets();
        vm.assertGt(assets, free, "the worst case holds the collateral back");
        before = vaultState();
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RedeemRequestWaitsForCollateral.selector, first, assets, free));
        vault.settleRedeem(first);
        vm.assertEq(vaultState(), before, "a waiting request changes nothing");

        vm.prank(SOLVER);
        vault.cancelQuotes();
        proveWorstCase(-int256(MID), 100_000); // the worst case falls to 100,000e6
        assets = vault.previewRedeem(shares * 8 / 10);
        uint256 balance = token.balanceOf(LP);
        vm.expectEmit();
        emit QuoteVault.RedeemRequestSettled(first, LP, shares * 8 / 10, assets);
        vm.prank(TAKER);
        vault.settleRedeem(first);
        vm.assertEq(token.balanceOf(LP), balance + assets, "the first request's owner paid");
        uint256 assets2 = vault.previewRedeem(shares2);
        balance = token.balanceOf(LP2);
        vm.prank(TAKER);
        vault.settleRedeem(second);
        vm.assertEq(token.balanceOf(LP2), balance + assets2, "then the second's");
        vm.assertEq(vault.queuedShares(), 0, "the queue is empty");
        vm.assertEq(vault.redeemQueueHead(), 2, "both paid");
        uint256 owed = vault.provenMark() + vault.unprovenPremiums() + vault.unclaimedPayoffs();
        vm.assertGe(vault.collateral(), owed + vault.worstLossReserve(), "the worst case stays covered");
    }

    function test_theQueueIsPaidOnceTheCollateralGrows() public {
        (uint256 shares,) = openBookWithWorstCase(WORST);
        vm.prank(LP);
        uint256 id = vault.requestRedeem(shares * 8 / 10);
        proveMark(-int256(MID));
        uint256 assets = vault.previewRedeem(shares * 8 / 10);
        uint256 free = vault.freeAssets();
        bytes32 before = vaultState();
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RedeemRequestWaitsForCollateral.selector, id, assets, free));
        vault.settleRedeem(id);
        vm.assertEq(vaultState(), before, "state unchanged");
        deposit(LP2, assets - free); // exactly what was missing
        assets = vault.previewRedeem(shares * 8 / 10);
        vm.assertLe(assets, vault.freeAssets(), "now covered");
        vm.assertEq(vault.settleRedeem(id), assets, "paid");
        vm.assertEq(vault.freeAssets(), vault.totalAssets() - WORST * 1e6, "the reserve stays");
    }
}
