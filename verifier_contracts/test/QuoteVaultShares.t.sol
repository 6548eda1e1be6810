// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {VaultFixture} from "./utils/VaultFixture.sol";
import {bound, vm} from "./utils/Vm.sol";

/// @title Fuzz tests of the share and NAV arithmetic against references written the other way
/// @notice The vault converts with OpenZeppelin's mulDiv: x · (A + 1) / (S + 10^6) and its
///     inverse, rounded down or up. The references here do not divide: each states the defining
///     inequalities of the rounded result (the largest or smallest integer on the right side of
///     the exact product), which hold for exactly one integer. NAV is reached by a first deposit,
///     a mark, a second deposit at that NAV and another mark (QuoteVaultHarness), so that
///     supply and NAV take any ratio, above and below the first price.
contract QuoteVaultSharesTest is VaultFixture {
    uint256 private constant VIRTUAL_SHARES = 1e6;
    uint256 private constant MAX_DEPOSIT = 1e15; // 10^9 tokens of 6 decimals: every product < 2^256

    function reachState(uint256 first, uint256 firstMark, uint256 second, uint256 secondMark)
        private
        returns (uint256 nav, uint256 supply)
    {
        first = bound(first, 1, MAX_DEPOSIT);
        vm.prank(LP);
        vault.deposit(first, LP);
        vault.recordProvenMark(bound(firstMark, 0, first - 1));
        second = bound(second, 1, MAX_DEPOSIT);
        vm.prank(LP2);
        vault.deposit(second, LP2);
        vault.recordProvenMark(bound(secondMark, 0, vault.collateral() - 1));
        return (vault.totalAssets(), vault.totalSupply());
    }

    function testFuzz_previewDeposit_isTheLargestShareCountTheAssetsPayFor(
        uint256 first, uint256 firstMark, uint256 second, uint256 secondMark, uint256 assets
    ) public {
        (uint256 nav, uint256 supply) = reachState(first, firstMark, second, secondMark);
        assets = bound(assets, 0, MAX_DEPOSIT);
        uint256 shares = vault.previewDeposit(assets);
        // shares · (A + 1) <= assets · (S + 10^6) < (shares + 1) · (A + 1): rounded down, the vault's way
        vm.assertLe(shares * (nav + 1), assets * (supply + VIRTUAL_SHARES), "not more than paid for");
        vm.assertGt((shares + 1) * (nav + 1), assets * (supply + VIRTUAL_SHARES), "the largest such count");
    }

    function testFuzz_previewMint_isTheLeastAssetCountThatPaysForTheShares(
        uint256 first, uint256 firstMark, uint256 second, uint256 secondMark, uint256 shares
    ) public {
        (uint256 nav, uint256 supply) = reachState(first, firstMark, second, secondMark);
        shares = bound(shares, 0, supply);
        uint256 assets = vault.previewMint(shares);
        // assets · (S + 10^6) >= shares · (A + 1) > (assets - 1) · (S + 10^6): rounded up, the vault's way
        vm.assertGe(assets * (supply + VIRTUAL_SHARES), shares * (nav + 1), "pays at least the shares' value");
        if (assets > 0) {
            vm.assertLt((assets - 1) * (supply + VIRTUAL_SHARES), shares * (nav + 1), "the least such amount");
        }
    }

    function testFuzz_previewWithdraw_isTheLeastShareCountThatCoversTheAssets(
        uint256 first, uint256 firstMark, uint256 second, uint256 secondMark, uint256 assets
    ) public {
        (uint256 nav, uint256 supply) = reachState(first, firstMark, second, secondMark);
        assets = bound(assets, 0, nav);
        uint256 shares = vault.previewWithdraw(assets);
        // shares · (A + 1) >= assets · (S + 10^6) > (shares - 1) · (A + 1): rounded up, the vault's way
        vm.assertGe(shares * (nav + 1), assets * (supply + VIRTUAL_SHARES), "burns at least the assets' worth");
        if (shares > 0) {
            vm.assertLt((shares - 1) * (nav + 1), assets * (supply + VIRTUAL_SHARES), "the least such count");
        }
    }

    function testFuzz_previewRedeem_isTheLargestAssetCountTheSharesAreWorth(
        uint256 first, uint256 firstMark, uint256 second, uint256 secondMark, uint256 shares
    ) public {
        (uint256 nav, uint256 supply) = reachState(first, firstMark, second, secondMark);
        shares = bound(shares, 0, supply);
        uint256 assets = vault.previewRedeem(shares);
        // assets · (S + 10^6) <= shares · (A + 1) < (assets + 1) · (S + 10^6): rounded down, the vault's way
        vm.assertLe(assets * (supply + VIRTUAL_SHARES), shares * (nav + 1), "pays no more than the shares' worth");
        vm.assertGt((assets + 1) * (supply + VIRTUAL_SHARES), shares * (nav + 1), "the largest such amount");
    }

    /// @notice Whatever the NAV, depositing and redeeming at once never returns more than was put
    ///     in, and minting and withdrawing never burns fewer shares than were minted.
    function testFuzz_roundTrips_neverProfit(
        uint256 first, uint256 firstMark, uint256 second, uint256 secondMark, uint256 amount
    ) public {
        reachState(first, firstMark, second, secondMark);
        amount = bound(amount, 1, MAX_DEPOSIT);
        uint256 before = token.balanceOf(TAKER);
        vm.startPrank(TAKER);
        uint256 shares = vault.deposit(amount, TAKER);
        uint256 back = vault.redeem(shares, TAKER, TAKER);
        vm.assertLe(back, amount, "deposit then redeem");
        uint256 paid = vault.mint(amount, TAKER);
        uint256 redeemable = vault.maxWithdraw(TAKER);
        uint256 burnt = redeemable == 0 ? 0 : vault.withdraw(redeemable, TAKER, TAKER);
        vm.stopPrank();
        vm.assertLe(redeemable, paid, "mint then withdraw");
        vm.assertLe(burnt, amount, "burns no more than it holds");
        vm.assertLe(token.balanceOf(TAKER), before, "never a profit");
    }

    /// @notice NAV = collateral - mark - unclaimed payoffs, and zero when those reach the
    ///     collateral; the reference adds back instead of subtracting.
    function testFuzz_totalAssets_isCollateralLessLiabilities(uint256 deposit, uint256 mark, uint256 unclaimed)
        public
    {
        deposit = bound(deposit, 1, MAX_DEPOSIT);
        vm.prank(LP);
        vault.deposit(deposit, LP);
        mark = bound(mark, 0, 2 * MAX_DEPOSIT);
        unclaimed = bound(unclaimed, 0, 2 * MAX_DEPOSIT);
        vault.recordProvenMark(mark);
        vault.recordUnclaimedPayoffs(unclaimed);
        uint256 nav = vault.totalAssets();
        if (nav > 0) {
            vm.assertEq(nav + mark + unclaimed, deposit, "NAV plus liabilities is the collateral");
        } else {
            vm.assertGe(mark + unclaimed, deposit, "NAV is zero only when the liabilities reach the collateral");
            vm.assertEq(vault.maxDeposit(LP2), 0, "and then deposits are closed");
        }
    }

    /// @notice The premium a fill pays and a sale receives, against premiumOf's two-step
    ///     reference: rounded up when the taker pays, down when the vault pays.
    function testFuzz_premium_roundsInTheVaultsFavour(uint256 size) public {
        uint256 batchId = submitBatch(0);
        size = bound(size, 1, 1_000 * ONE);
        uint256 ask = premiumOf(ASK, size, true);
        vm.prank(TAKER);
        vm.assertEq(vault.fill(batchId, 0, size, type(uint256).max), ask, "fill premium");
        vm.assertGe(ask * (1 << 96), ASK * size * 10 ** DECIMALS, "the taker pays at least the exact premium");
        uint256 bid = premiumOf(BID, size, false);
        vm.prank(TAKER);
        vm.assertEq(vault.sell(batchId, 0, size, 0), bid, "sale premium");
        vm.assertLe(bid * (1 << 96), BID * size * 10 ** DECIMALS, "the vault pays at most the exact premium");
    }
}
