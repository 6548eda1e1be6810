// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {QuoteVault} from "../QuoteVault.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @title Unit tests of NAV freshness and asynchronous redemption: markFresh, requestRedeem, settleRedeem
/// @notice LPs deposit and redeem at once only while the proven mark is at most maxMarkAge old (or
///     nothing is open); otherwise shares wait in escrow until a mark observed after the request.
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
        vm.prank(LP2); // only the owner settles its request
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RedeemRequestNotOwned.selector, id, LP2));
        vault.settleRedeem(id);
        vm.assertEq(vaultState(), before, "state unchanged");
        proveMark(-int256(MID)); // observed after the request
        uint256 expected = vault.previewRedeem(shares);
        uint256 balance = token.balanceOf(LP);
        vm.expectEmit();
        emit QuoteVault.RedeemRequestSettled(id, LP, shares, expected);
        vm.prank(LP);
        vm.assertEq(vault.settleRedeem(id), expected, "at NAV, rounded down");
        vm.assertEq(token.balanceOf(LP), balance + expected, "paid");
        vm.assertEq(vault.balanceOf(address(vault)), 0, "escrow burnt");
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RedeemRequestNotOwned.selector, id, LP));
        vault.settleRedeem(id); // once
    }
}
