// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchChecks} from "../BatchChecks.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {bound, vm} from "./utils/Vm.sol";

/// @title Fuzz tests of the premium, mark, solvency, share and NAV arithmetic, against references
///     written the other way
/// @notice The vault converts with OpenZeppelin's mulDiv: x · (A + 1) / (S + 10^6) and its
///     inverse, rounded down or up. The references here do not divide: each states the defining
///     inequalities of the rounded result (the largest or smallest integer on the right side of
///     the exact product), which hold for exactly one integer. NAV is reached the vault's own way:
///     a first deposit, a proven mark (a book update through PairVerifier), a second deposit at
///     that NAV and another mark, so that supply and NAV take any ratio.
contract QuoteVaultSharesTest is VaultFixture {
    uint256 private constant VIRTUAL_SHARES = 1e6;
    uint256 private constant MAX_DEPOSIT = 1e15; // 10^9 tokens of 6 decimals: every product < 2^256

    /// @dev A mark whose liability is exactly `liability` token units (floor(L · 2^48 / 10^6) at 2^-48).
    function markFor(uint256 liability) private pure returns (int256) {
        return -int256(liability * ONE / 10 ** DECIMALS);
    }

    function reachState(uint256 first, uint256 firstMark, uint256 second, uint256 secondMark)
        private
        returns (uint256 nav, uint256 supply)
    {
        first = bound(first, 1, MAX_DEPOSIT);
        deposit(LP, first);
        proveMark(markFor(bound(firstMark, 0, first - 1)));
        second = bound(second, 1, MAX_DEPOSIT);
        deposit(LP2, second);
        proveMark(markFor(bound(secondMark, 0, vault.collateral() - 1)));
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

    /// @notice A proven mark's liability is ceil(-mark · 10^6 / 2^48) token units (0 for a mark
    ///     >= 0): the reference multiplies back instead of dividing.
    function testFuzz_provenMark_isTheLeastLiabilityCoveringTheMark(int256 mark_) public {
        mark_ = int256(bound(uint256(mark_), 0, 1 << 117)) - int256(1 << 116);
        proveMark(mark_);
        uint256 liability = vault.provenMark();
        vm.assertEq(vault.mark(), mark_, "the proven mark");
        if (mark_ >= 0) {
            vm.assertEq(liability, 0, "a mark the vault is owed is not counted");
        } else {
            uint256 owed = uint256(-mark_) * 10 ** DECIMALS;
            vm.assertGe(liability * ONE, owed, "covers the mark");
            vm.assertLt((liability - 1) * ONE, owed, "the least that does");
            vm.assertEq(liability, liabilityOf(mark_), "the fixture's reference");
        }
    }

    /// @notice NAV = collateral - proven mark - unproven premiums - unclaimed payoffs, and zero when
    ///     those reach the collateral; the reference adds back instead of subtracting.
    function testFuzz_totalAssets_isCollateralLessLiabilities(
        uint256 deposited, uint256 markLiability, uint256 size, uint256 unclaimed
    ) public {
        deposited = bound(deposited, 1, MAX_DEPOSIT);
        deposit(LP, deposited);
        postMarket(SPOT);
        Plan memory p = plan();
        markLiability = bound(markLiability, 0, 2 * MAX_DEPOSIT);
        p.mark = markFor(markLiability);
        uint256 batchId = submit(p);
        uint256 premium = buy(TAKER, batchId, bound(size, 1, SIZE));
        unclaimed = bound(unclaimed, 0, 2 * MAX_DEPOSIT);
        vault.recordUnclaimedPayoffs(unclaimed);
        uint256 collateral = deposited + premium;
        vm.assertEq(vault.collateral(), collateral, "collateral");
        vm.assertEq(vault.unprovenPremiums(), premium, "unproven premium");
        uint256 nav = vault.totalAssets();
        if (nav > 0) {
            vm.assertEq(nav + markLiability + premium + unclaimed, collateral, "NAV plus liabilities is the collateral");
        } else {
            vm.assertGe(markLiability + premium + unclaimed, collateral, "NAV is zero only when the liabilities reach it");
            vm.assertEq(vault.maxDeposit(LP2), 0, "and then deposits are closed");
        }
    }

    /// @notice The premium a fill pays and a sale receives, for any quote and size, against
    ///     premiumOf's two-step reference: rounded up when the taker pays, down when the vault pays.
    function testFuzz_premium_roundsInTheVaultsFavour(uint256 mid, uint256 halfSpread, uint256 sizeUnits, uint256 size)
        public
    {
        deposit(LP, MAX_DEPOSIT);
        postMarket(SPOT);
        Plan memory p = plan();
        halfSpread = bound(halfSpread, 0, 1_000 * ONE);
        mid = bound(mid, halfSpread + 1, 20_000 * ONE); // bid > 0
        p.quotes[0].mid = int256(mid);
        p.quotes[0].halfSpread = halfSpread;
        p.quotes[0].size = bound(sizeUnits, 1, 1 << 20) << 36; // up to 256 contracts
        uint256 batchId = submit(p);
        size = bound(size, 1, p.quotes[0].size / 2);
        uint256 ask = premiumOf(mid + halfSpread, size, true);
        vm.assertEq(buy(TAKER, batchId, size), ask, "fill premium");
        vm.assertGe(ask * (1 << 96), (mid + halfSpread) * size * 10 ** DECIMALS, "the taker pays at least the exact premium");
        vm.assertLt((ask == 0 ? 0 : ask - 1) * (1 << 96), (mid + halfSpread) * size * 10 ** DECIMALS, "and not a unit more");
        uint256 bid = premiumOf(mid - halfSpread, size, false);
        vm.assertEq(sellBack(TAKER, batchId, size), bid, "sale premium");
        vm.assertLe(bid * (1 << 96), (mid - halfSpread) * size * 10 ** DECIMALS, "the vault pays at most the exact premium");
        vm.assertGt((bid + 1) * (1 << 96), (mid - halfSpread) * size * 10 ** DECIMALS, "and not a unit less");
    }

    /// @notice A batch with quotes is accepted exactly when ceil(worstLoss · 10^6 / 2^48) plus the
    ///     solvency margin fits in the free collateral; the reference compares products, not quotients.
    function testFuzz_solvency_acceptsExactlyWhatTheFreeCollateralCovers(
        uint256 deposited, uint256 worstLoss, uint256 markLiability
    ) public {
        deposited = bound(deposited, 0, MAX_DEPOSIT);
        if (deposited > 0) deposit(LP, deposited);
        postMarket(SPOT);
        Plan memory p = plan();
        p.worstLoss = bound(worstLoss, 0, 2 * MAX_DEPOSIT * ONE / 10 ** DECIMALS);
        markLiability = bound(markLiability, 0, deposited);
        p.mark = markFor(markLiability);
        uint256 free = deposited - markLiability;
        // fits iff worstLoss · 10^6 <= free · 2^48, i.e. ceil(worstLoss · 10^6 / 2^48) <= free
        bool fits = p.worstLoss * 10 ** DECIMALS <= free * ONE;
        if (fits) {
            submit(p);
            vm.assertEq(uint256(vault.liveBatch()), p.nonce, "accepted");
        } else {
            uint256 needed = liabilityOf(-int256(p.worstLoss));
            refuseSubmit(p, true, abi.encodeWithSelector(BatchChecks.Insolvent.selector, needed, free));
        }
    }
}
