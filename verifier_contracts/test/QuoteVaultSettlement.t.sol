// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BATCH_EXPIRY_COUNT} from "generated/BatchLayout.sol";
import {BookLedger} from "../BookLedger.sol";
import {ExpirySettlement} from "../ExpirySettlement.sol";
import {QuoteVault} from "../QuoteVault.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {bound, vm} from "./utils/Vm.sol";

/// @title Unit and fuzz tests of expiry settlement: settleExpiry, claim, settlement, setLifecycle
/// @notice Takers buy the fixture's call (strike 100,000) on the first expiry; the oracle posts at or
///     after the expiry; anyone settles; holders claim. Each refusal leaves the vault as it was.
contract QuoteVaultSettlementTest is VaultFixture {
    uint64 private constant WINDOW = 1 hours;

    /// @dev A live batch, and `who` buys `size` of its call.
    function bought(address who, uint256 size) private returns (uint256 batchId) {
        batchId = submitLive();
        buy(who, batchId, size);
    }

    /// @dev The oracle observes `price` at `at` (after warping there); its index.
    function observe(uint256 price, uint64 at) private returns (uint256 index) {
        if (block.timestamp < at) vm.warp(at);
        oracle.post(uint192(price), at);
        return oracle.observationCount() - 1;
    }

    /// @dev An LP deposits; the taker buys a call of the first expiry and one of the second.
    function depositAndBuyOnTwoExpiries() private {
        deposit(LP, 1_000_000e6);
        buy(TAKER, submitLive(), ONE);
        postMarket(SPOT);
        Plan memory p = plan();
        p.quotes[0].expiryIndex = 1;
        buy(TAKER, submit(p), ONE);
    }

    function refuseSettle(uint64 expiry, uint256 index, bytes memory err) private {
        bytes32 before = vaultState();
        vm.expectRevert(err);
        vault.settleExpiry(expiry, index);
        vm.assertEq(vaultState(), before, "a refused settlement changes nothing");
    }

    function refuseClaim(address who, bytes memory err) private {
        bytes32 before = vaultState();
        vm.prank(who);
        vm.expectRevert(err);
        vault.claim(EXPIRY_0, STRIKE, true);
        vm.assertEq(vaultState(), before, "a refused claim changes nothing");
    }

    function test_settleExpiry_setsTheShortPayoffsAsideAndTakesTheExpiryOffTheBook() public {
        deposit(LP, 1_000_000e6);
        uint256 batchId = bought(TAKER, 2 * ONE);
        buy(LP2, batchId, ONE);
        (, uint256 fillCount,,) = vault.bookState();
        uint256 headBefore = vault.chainHead(fillCount);
        uint256 price = STRIKE + 5_000 * ONE;
        uint256 index = observe(price, EXPIRY_0);
        uint256 owed = 3 * 5_000 * 1e6; // 3 contracts, 5,000 in the money each
        uint256 navBefore = vault.totalAssets();
        vm.expectEmit();
        emit ExpirySettlement.ExpirySettled(EXPIRY_0, price, EXPIRY_0, owed, owed);
        vm.prank(TAKER); // anyone may settle
        vault.settleExpiry(EXPIRY_0, index);
        ExpirySettlement.Settlement memory s = vault.settlement(EXPIRY_0);
        vm.assertEq(uint256(s.price), price, "price");
        vm.assertEq(uint256(s.observedAt), EXPIRY_0, "observed at");
        vm.assertEq(uint256(s.settledAt), block.timestamp, "settled at");
        vm.assertEq(uint256(s.owed), owed, "owed");
        vm.assertEq(uint256(s.paid), owed, "paid in full");
        vm.assertEq(vault.unclaimedPayoffs(), owed, "set aside");
        vm.assertEq(navBefore, vault.collateral() - vault.unprovenPremiums(), "before: the premiums are owed");
        vm.assertEq(vault.totalAssets(), vault.collateral() - owed, "after: no expiry is live, the payoffs are");
        (uint64 expiry,,, int256 quantity) = vault.bookSlot(0);
        vm.assertEq(uint256(expiry) + uint256(quantity < 0 ? -quantity : quantity), 0, "the slot is empty");
        (, uint256 fillCountAfter,,) = vault.bookState();
        vm.assertEq(fillCountAfter, fillCount + 1, "the settlement record joins the chain");
        vm.assertEq(vault.chainHead(fillCountAfter), poseidon.hash(headBefore, uint256(EXPIRY_0) << 9), "head");
        vm.assertEq(vault.premiumsIn(fillCountAfter), vault.premiumsIn(fillCount), "no premium for the record");
    }

    function test_claim_paysTheHolderItsIntrinsicValueOnce() public {
        deposit(LP, 1_000_000e6);
        uint256 batchId = bought(TAKER, 2 * ONE);
        buy(LP2, batchId, ONE);
        vault.settleExpiry(EXPIRY_0, observe(STRIKE + 5_000 * ONE, EXPIRY_0 + 10));
        uint256 collateral = vault.collateral();
        bytes32 series = plannedSeries();
        vm.expectEmit();
        emit ExpirySettlement.PayoffClaimed(TAKER, series, 2 * ONE, 10_000e6);
        vm.prank(TAKER);
        vm.assertEq(vault.claim(EXPIRY_0, STRIKE, true), 10_000e6, "2 x 5,000");
        vm.assertEq(vault.longPositions(TAKER, series), 0, "the position is paid out");
        vm.assertEq(vault.unclaimedPayoffs(), 5_000e6, "the other holder's part stays set aside");
        vm.assertEq(vault.collateral(), collateral - 10_000e6, "collateral");
        // nobody but the holder claims, and the holder only once
        refuseClaim(TAKER, abi.encodeWithSelector(ExpirySettlement.NothingToClaim.selector, TAKER, series));
        refuseClaim(LP, abi.encodeWithSelector(ExpirySettlement.NothingToClaim.selector, LP, series));
        vm.prank(LP2);
        vm.assertEq(vault.claim(EXPIRY_0, STRIKE, true), 5_000e6, "the other holder");
        vm.assertEq(vault.unclaimedPayoffs(), 0, "all claimed");
    }

    function test_claim_outOfTheMoneyPaysNothing() public {
        bought(TAKER, ONE);
        vault.settleExpiry(EXPIRY_0, observe(STRIKE - ONE, EXPIRY_0));
        vm.assertEq(vault.unclaimedPayoffs(), 0, "nothing owed");
        vm.prank(TAKER);
        vm.assertEq(vault.claim(EXPIRY_0, STRIKE, true), 0, "nothing paid");
        vm.assertEq(vault.longPositions(TAKER, plannedSeries()), 0, "the position is closed");
    }

    function test_claim_refusedBeforeSettlement() public {
        bought(TAKER, ONE);
        refuseClaim(TAKER, abi.encodeWithSelector(ExpirySettlement.ExpiryNotSettled.selector, EXPIRY_0));
    }

    function test_settleExpiry_onlyAtTheFirstObservationAfterIt() public {
        bought(TAKER, ONE);
        uint256 count = oracle.observationCount();
        refuseSettle(EXPIRY_0, count, abi.encodeWithSelector(
            ExpirySettlement.SettlementObservationMissing.selector, EXPIRY_0, count, count
        ));
        uint256 early = observe(SPOT, EXPIRY_0 - 1);
        refuseSettle(EXPIRY_0, early, abi.encodeWithSelector(
            ExpirySettlement.ObservationBeforeExpiry.selector, early, EXPIRY_0 - 1, EXPIRY_0
        ));
        uint256 first = observe(SPOT + ONE, EXPIRY_0);
        uint256 second = observe(SPOT + 2 * ONE, EXPIRY_0 + 1);
        refuseSettle(EXPIRY_0, second, abi.encodeWithSelector(
            ExpirySettlement.ObservationNotFirst.selector, second, EXPIRY_0, EXPIRY_0
        ));
        vault.settleExpiry(EXPIRY_0, first);
        vm.assertEq(uint256(vault.settlement(EXPIRY_0).price), SPOT + ONE, "the first observation's price");
        refuseSettle(EXPIRY_0, first, abi.encodeWithSelector(ExpirySettlement.ExpiryAlreadySettled.selector, EXPIRY_0));
    }

    function test_settleExpiry_refusesAnObservationOutsideTheWindow() public {
        bought(TAKER, ONE);
        uint256 late = observe(SPOT, EXPIRY_0 + WINDOW + 1);
        refuseSettle(EXPIRY_0, late, abi.encodeWithSelector(
            ExpirySettlement.ObservationOutsideWindow.selector, late, EXPIRY_0 + WINDOW + 1, EXPIRY_0 + WINDOW
        ));
    }

    function test_settleExpiry_refusesAPriceThatDoesNotFit() public {
        bought(TAKER, ONE);
        uint256 huge = observe(uint256(1) << 128, EXPIRY_0);
        refuseSettle(EXPIRY_0, huge, abi.encodeWithSelector(
            ExpirySettlement.SettlementPriceOutOfRange.selector, uint256(1) << 128
        ));
    }

    function test_settleExpiry_refusesAnExpiryNotInTheBook() public {
        bought(TAKER, ONE);
        uint256 index = observe(SPOT, EXPIRY_0 + EXPIRY_STEP);
        refuseSettle(EXPIRY_0 + EXPIRY_STEP, index,
            abi.encodeWithSelector(BookLedger.ExpiryNotLive.selector, EXPIRY_0 + EXPIRY_STEP));
    }

    function test_settleExpiry_countsAgainstTheFillCapacity() public {
        deposit(LP, 1_000_000e6);
        uint256 batchId = submitLive();
        for (uint256 i = 0; i < FILL_CAPACITY; ++i) {
            buy(TAKER, batchId, ONE);
        }
        uint256 index = observe(SPOT, EXPIRY_0);
        refuseSettle(EXPIRY_0, index,
            abi.encodeWithSelector(BookLedger.FillCapacityReached.selector, FILL_CAPACITY, FILL_CAPACITY));
    }

    /// @notice When payoffs owed exceed the collateral, the expiry sets aside what there is and
    ///     holders are paid pro rata, floor(payoff · paid / owed).
    function test_settleExpiry_paysProRataWhenTheCollateralFallsShort() public {
        uint256 batchId = bought(TAKER, ONE); // the premium, 3,050 tokens, is all the collateral
        buy(LP2, batchId, ONE);
        uint256 collateral = vault.collateral();
        vault.settleExpiry(EXPIRY_0, observe(STRIKE + 5_000 * ONE, EXPIRY_0));
        ExpirySettlement.Settlement memory s = vault.settlement(EXPIRY_0);
        vm.assertEq(uint256(s.owed), 10_000e6, "owed");
        vm.assertEq(uint256(s.paid), collateral, "what the collateral covers");
        vm.prank(TAKER);
        uint256 paid = vault.claim(EXPIRY_0, STRIKE, true);
        vm.assertEq(paid, 5_000e6 * collateral / 10_000e6, "pro rata, rounded down");
        vm.prank(LP2);
        vm.assertEq(vault.claim(EXPIRY_0, STRIKE, true), paid, "the same for the same position");
        vm.assertLe(2 * paid, collateral, "never more than was set aside");
    }

    /// @notice While an expiry is live NAV counts the whole proven mark and the unproven premiums
    ///     beside the settled expiries' payoffs (the mark has no per-expiry part, so it is stale until
    ///     a proof covers the settlement record: the next test); once none is, NAV is the collateral
    ///     less the unclaimed payoffs.
    function test_nav_onceNoExpiryIsLiveIsCollateralLessUnclaimedPayoffs() public {
        depositAndBuyOnTwoExpiries();
        proveMark(-2 * int256(MID));
        buy(TAKER, vault.liveBatch(), ONE); // a third, unproven: its premium counts as a liability
        uint256 mark = vault.provenMark();
        uint256 unproven = vault.unprovenPremiums();
        vm.assertEq(mark, 6_000e6, "two calls at MID");
        vm.assertGt(unproven, 0, "a premium no proof has marked");

        vault.settleExpiry(EXPIRY_0, observe(STRIKE + 1_000 * ONE, EXPIRY_0));
        vm.assertEq(vault.liveExpiryCount(), 1, "the second expiry is live");
        uint256 unclaimed = vault.unclaimedPayoffs();
        vm.assertEq(unclaimed, 1_000e6, "the first call's payoff");
        vm.assertEq(vault.totalAssets(), vault.collateral() - mark - unproven - unclaimed, "everything still counts");

        vault.settleExpiry(EXPIRY_0 + EXPIRY_STEP, observe(STRIKE + 500 * ONE, EXPIRY_0 + EXPIRY_STEP));
        unclaimed = vault.unclaimedPayoffs();
        vm.assertEq(unclaimed, 1_000e6 + 2 * 500e6, "and the second expiry's two calls");
        vm.assertEq(vault.liveExpiryCount(), 0, "nothing live");
        vm.assertEq(vault.provenMark(), mark, "the last proof's mark is still stored");
        vm.assertEq(vault.totalAssets(), vault.collateral() - unclaimed, "but NAV no longer counts it");
        vm.assertTrue(vault.markFresh(), "and needs no fresh mark");
        vm.assertEq(vault.maxWithdraw(LP), vault.totalAssets() - 1, "the LP takes NAV (a virtual unit stays)");
    }

    /// @dev A pure book update proving `mark_` over fills [provenFills, fillsTo), observed a second
    ///     from now, for a book whose first expiry may have passed (its expiries start one step on).
    function proveMarkTo(int256 mark_, uint256 fillsTo) private {
        postMarket(SPOT);
        Plan memory p = bookUpdate();
        for (uint256 e = 0; e < BATCH_EXPIRY_COUNT; ++e) {
            p.expiries[e] = EXPIRY_0 + uint64(e + 1) * EXPIRY_STEP;
            p.atmVariances[e] = centredVariance(p.expiries[e], p.oracleTime);
        }
        (p.fillsTo, p.mark) = (fillsTo, mark_);
        submit(p);
    }

    function test_settleExpiry_whileAnotherIsLive_leavesTheMarkStaleUntilAProofCoversTheRecord() public {
        depositAndBuyOnTwoExpiries();
        while (block.timestamp + 6 days < EXPIRY_0) { // the solver proves at least weekly
            vm.warp(block.timestamp + 6 days);
            proveMark(-2 * int256(MID));
        }
        vm.warp(EXPIRY_0 - 1 hours);
        proveMark(-2 * int256(MID));
        vm.assertTrue(vault.markFresh(), "marked an hour before the first expiry");

        vault.settleExpiry(EXPIRY_0, observe(STRIKE + 1_000 * ONE, EXPIRY_0));
        (, uint256 fillCount, uint256 provenFills,) = vault.bookState();
        vm.assertEq(vault.settlementFills(), fillCount, "the record is the last fill");
        // The stored mark still holds the settled call beside its payoff: NAV is understated by it.
        vm.assertEq(vault.totalAssets(), vault.collateral() - vault.provenMark() - vault.unclaimedPayoffs(), "NAV");
        vm.assertFalse(vault.markFresh(), "stale: the mark holds the settled expiry");
        vm.assertEq(vault.maxDeposit(LP2), 0, "no cheap shares");
        vm.assertEq(vault.maxRedeem(LP), 0, "no redemption at the understated NAV");
        refuseDeposit(LP2, 1e6);

        proveMarkTo(-2 * int256(MID), fillCount - 1); // a pure book update that stops before the record
        (,, provenFills,) = vault.bookState();
        vm.assertEq(provenFills, fillCount - 1, "proven up to the record");
        vm.assertFalse(vault.markFresh(), "still stale");

        proveMarkTo(-int256(MID), fillCount); // over the book without the settled expiry
        vm.assertTrue(vault.markFresh(), "fresh again");
        vm.assertEq(vault.totalAssets(), vault.collateral() - vault.provenMark() - vault.unclaimedPayoffs(), "NAV");
        vm.assertGt(deposit(LP2, 1e6), 0, "deposits reopen");
    }

    function test_setLifecycle_throughTheTimelockWithinItsBounds() public {
        (uint64 window, uint64 markAge,) = vault.lifecycle();
        vm.assertEq(uint256(window), WINDOW, "the default window");
        vm.assertEq(uint256(markAge), vault.DEFAULT_MAX_MARK_AGE(), "the default mark age");
        bytes memory call =
            abi.encodeCall(QuoteVault.setLifecycle, (QuoteVault.LifecycleSettings(2 hours, 2 days, 7 days)));
        schedule(call);
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        vm.expectEmit();
        emit QuoteVault.LifecycleUpdated(2 hours, 2 days, 7 days);
        execute(call);
        (window, markAge,) = vault.lifecycle();
        vm.assertEq(uint256(window), 2 hours, "applied");
        vm.assertEq(uint256(markAge), 2 days, "applied");
        bytes32 before = vaultState();
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.NotGovernance.selector, address(this)));
        vault.setLifecycle(QuoteVault.LifecycleSettings(1 hours, 1 days, 7 days));
        uint64 maxWindow = vault.MAX_SETTLEMENT_WINDOW();
        uint64 maxAge = vault.MAX_MARK_AGE();
        uint64[2][4] memory bad = [[uint64(0), 1 days], [maxWindow + 1, 1 days], [uint64(1 hours), 0],
            [uint64(1 hours), maxAge + 1]];
        for (uint256 i = 0; i < bad.length; ++i) {
            call = abi.encodeCall(
                QuoteVault.setLifecycle, (QuoteVault.LifecycleSettings(bad[i][0], bad[i][1], 7 days))
            );
            schedule(call);
            vm.warp(block.timestamp + GOVERNANCE_DELAY);
            vm.expectRevert(
                abi.encodeWithSelector(QuoteVault.LifecycleSettingsInvalid.selector, bad[i][0], bad[i][1], 7 days)
            );
            execute(call);
        }
        (window, markAge,) = vault.lifecycle();
        vm.assertEq(uint256(window), 2 hours, "unchanged");
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    /// @notice What the vault owes rounds up and what a holder is paid rounds down, both against
    ///     the exact product n · intrinsic · 10^6 / 2^96, for calls and puts at any settlement price.
    function testFuzz_payoffs_roundInTheVaultsFavour(uint256 price, uint256 size, bool isCall) public {
        deposit(LP, 1e17);
        postMarket(SPOT);
        Plan memory p = plan();
        p.quotes[0].isCall = isCall;
        uint256 batchId = submit(p);
        size = bound(size, 1, SIZE);
        buy(TAKER, batchId, size);
        price = bound(price, 1, 4 * STRIKE);
        vault.settleExpiry(EXPIRY_0, observe(price, EXPIRY_0));
        uint256 intrinsic = isCall ? (price > STRIKE ? price - STRIKE : 0) : (STRIKE > price ? STRIKE - price : 0);
        uint256 exact = intrinsic * size * 10 ** DECIMALS; // payoff at 2^-96 token units
        uint256 owed = vault.settlement(EXPIRY_0).owed;
        vm.assertGe(owed << 96, exact, "the vault owes at least the payoff");
        if (owed > 0) vm.assertLt((owed - 1) << 96, exact, "and not a unit more");
        vm.prank(TAKER);
        uint256 paid = vault.claim(EXPIRY_0, STRIKE, isCall);
        vm.assertLe(paid << 96, exact, "the holder is paid at most the payoff");
        vm.assertGt((paid + 1) << 96, exact, "and not a unit less");
    }
}
