// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BATCH_ELEMENT_COUNT} from "generated/BatchLayout.sol";
import {ExpirySettlement} from "../ExpirySettlement.sol";
import {QuoteVault} from "../QuoteVault.sol";
import {TestToken} from "../TestToken.sol";
import {QuoteVaultHarness} from "./utils/QuoteVaultHarness.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {bound, vm} from "./utils/Vm.sol";
import {BookLedger} from "../BookLedger.sol";

/// @title Random sequences of LP, taker, solver, oracle and settlement actions on one book vault
/// @notice Each action picks its actor and amounts from fuzzed seeds, calls the vault, and keeps
///     ghost totals of what moved. A call the vault refused must leave its state as it was
///     (checked here with the fixture's state digest): the handler records any that did not.
///     Batches are planned from the vault's state at the moment they are submitted, as the solver
///     proves them (VaultFixture.plan; the pair is listed with PairVerifier), on the next two
///     expiries still ahead, on one of two strikes, as calls or puts, with or without quotes,
///     marked at MID per contract, sometimes with a worst loss beyond the free collateral or
///     limits breached (then refused unless a book update). `settle` jumps to the next expiry,
///     has the oracle observe a spot 20% below to 20% above, and settles it; `claim` has any actor
///     claim any series traded.
contract VaultHandler is VaultFixture {
    address[3] private actors = [LP, LP2, TAKER];
    uint256[] private batchIds;
    BookLedger.Series[] private traded;
    mapping(bytes32 series => bool) private seen;
    uint64[] private settledExpiries;
    mapping(uint64 expiry => uint256) public ghostClaimed;

    uint256 public ghostIn; // deposits, mints and premiums received
    uint256 public ghostOut; // withdrawals, redemptions and premiums paid
    uint256 public ghostDonated; // tokens sent to the vault outside its functions
    mapping(address actor => mapping(bytes32 series => uint256)) public ghostLong;
    bool public revertChangedState;
    bool public tradedWithoutQuotes; // a book update's id filled (it has no quotes to trade)
    bool public tradedWhileWindingDown; // a batch or a fill accepted while the vault winds down
    bool public claimedWithoutHolding; // a claim paid an actor that held none of the series
    bool public paidAnotherThanTheOwner; // a settled request paid someone else than its owner
    bool public settledOutOfOrder; // a request settled before an older unpaid one
    bool public redeemedIntoTheWorstCase; // a redemption left NAV below the worst-case reserve
    uint256 public ghostEscrowed; // shares in pending redemption requests
    uint256 public ghostQueueHead; // the oldest unpaid request
    uint256 public calls;
    uint256 public refusals;

    /// @dev The handler deploys the whole fixture itself, so that it owns the oracles, mints the
    ///     token, lists proofs and proposes to the timelock, as the test contract does in the unit tests.
    constructor() {
        setUp();
    }

    function vaultUnderTest() external view returns (QuoteVaultHarness) {
        return vault;
    }

    function tokenUnderTest() external view returns (TestToken) {
        return token;
    }

    function actor(uint256 seed) private view returns (address) {
        return actors[seed % actors.length];
    }

    function refused(bytes32 before) private {
        refusals += 1;
        if (vaultState() != before) revertChangedState = true;
    }

    function spotOf(uint256 seed) private pure returns (uint256) {
        uint256[4] memory spots = [SPOT, SPOT * 101 / 100, SPOT * 99 / 100, SPOT * 105 / 100];
        return spots[seed % spots.length];
    }

    // ------------------------------------------------------------------ LPs

    function deposit(uint256 actorSeed, uint256 assets) external {
        address who = actor(actorSeed);
        assets = bound(assets, 0, 1e13);
        bytes32 before = vaultState();
        calls += 1;
        vm.prank(who);
        try vault.deposit(assets, who) {
            ghostIn += assets;
        } catch {
            refused(before);
        }
    }

    function mint(uint256 actorSeed, uint256 shares) external {
        address who = actor(actorSeed);
        shares = bound(shares, 0, 1e19);
        bytes32 before = vaultState();
        calls += 1;
        vm.prank(who);
        try vault.mint(shares, who) returns (uint256 assets) {
            ghostIn += assets;
        } catch {
            refused(before);
        }
    }

    function withdraw(uint256 actorSeed, uint256 assets) external {
        address who = actor(actorSeed);
        assets = bound(assets, 0, vault.maxWithdraw(who) + 1); // sometimes one too many
        bytes32 before = vaultState();
        calls += 1;
        vm.prank(who);
        try vault.withdraw(assets, who, who) {
            ghostOut += assets;
            checkReserveKept(assets);
        } catch {
            refused(before);
        }
    }

    function redeem(uint256 actorSeed, uint256 shares) external {
        address who = actor(actorSeed);
        shares = bound(shares, 0, vault.balanceOf(who) + 1);
        bytes32 before = vaultState();
        calls += 1;
        vm.prank(who);
        try vault.redeem(shares, who, who) returns (uint256 assets) {
            ghostOut += assets;
            checkReserveKept(assets);
        } catch {
            refused(before);
        }
    }

    /// @dev An LP puts shares in escrow, to be redeemed at the next fresh mark.
    function requestRedeem(uint256 actorSeed, uint256 shares) external {
        address who = actor(actorSeed);
        shares = bound(shares, 0, vault.balanceOf(who) + 1);
        bytes32 before = vaultState();
        calls += 1;
        vm.prank(who);
        try vault.requestRedeem(shares) returns (uint256) {
            ghostEscrowed += shares;
        } catch {
            refused(before);
        }
    }

    /// @dev Any actor settles the oldest unpaid request, or one time in four any request: only
    ///     the oldest is paid, to its owner, once a fresh mark follows it and the free collateral covers it.
    function settleRedeem(uint256 actorSeed, uint256 idSeed) external {
        uint256 count = vault.redeemRequestCount();
        if (count == 0) return;
        address who = actor(actorSeed);
        uint256 id = idSeed % 4 == 0 ? idSeed % count : ghostQueueHead;
        (address owner,, uint256 shares) = vault.redeemRequests(id);
        uint256 balance = token.balanceOf(owner);
        bytes32 before = vaultState();
        calls += 1;
        vm.prank(who);
        try vault.settleRedeem(id) returns (uint256 assets) {
            if (token.balanceOf(owner) != balance + assets || owner == address(0)) paidAnotherThanTheOwner = true;
            if (id != ghostQueueHead) settledOutOfOrder = true;
            ghostQueueHead = id + 1;
            ghostOut += assets;
            ghostEscrowed -= shares;
            checkReserveKept(assets);
        } catch {
            refused(before);
        }
    }

    /// @dev After a redemption that paid `assets`: NAV still covers the worst-case reserve (the
    ///     collateral covers the liabilities plus the proven worst case). A redemption of nothing
    ///     may happen while a proof's worst case already exceeds NAV.
    function checkReserveKept(uint256 assets) private {
        if (assets > 0 && vault.totalAssets() < vault.worstLossReserve()) redeemedIntoTheWorstCase = true;
    }

    // ------------------------------------------------------------------ the solver and the oracles

    /// @dev The book's mark at MID per contract (2^-48): the vault is short, so it is <= 0.
    function bookMark() private view returns (int256 m) {
        (,,, uint256 slots) = vault.bookState();
        for (uint256 s = 0; s < slots; ++s) {
            (,,, int256 quantity) = vault.bookSlot(s);
            m += quantity * int256(MID) / int256(ONE);
        }
    }

    /// @dev The market moves (one of four spots) and the solver proves and submits a batch over the
    ///     whole book: quotes on one of two strikes, call or put, or a book update; sometimes a
    ///     worst loss of `loss` units or breached limits.
    function submit(uint256 spotSeed, uint256 shapeSeed, uint256 loss) external {
        postMarket(spotOf(spotSeed));
        Plan memory p = shapeSeed % 3 == 0 ? bookUpdate() : plan();
        uint64 next = nextExpiry();
        for (uint256 e = 0; e < p.expiries.length; ++e) {
            p.expiries[e] = next + uint64(e) * EXPIRY_STEP;
            p.atmVariances[e] = centredVariance(p.expiries[e], p.oracleTime);
        }
        p.mark = bookMark();
        p.quotes[0].strike = STRIKE + ((shapeSeed >> 2) & 1) * 1_000 * ONE;
        p.quotes[0].isCall = (shapeSeed >> 3) & 1 == 0;
        if ((shapeSeed >> 4) % 4 == 3) p.worstLoss = bound(loss, 0, 1e9) * ONE; // up to 10^15 token units
        if ((shapeSeed >> 6) % 8 == 7) p.riskOk = false;
        prove(p);
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(p);
        uint256[BATCH_ELEMENT_COUNT] memory packed = pack(p);
        uint256[] memory elements = quoteElements(p);
        uint256 root = quotesRootOf(p);
        bytes32 before = vaultState();
        bool windingDown = vault.windingDown();
        calls += 1;
        vm.prank(SOLVER);
        try vault.submitBatch(a, b, c, p.bookAfter, root, packed, elements) returns (uint256 batchId) {
            if (windingDown) tradedWhileWindingDown = true;
            batchIds.push(batchId);
            submittedQuotes[batchId] = elements;
        } catch {
            refused(before);
        }
    }

    /// @dev The solver withdraws its quotes, one time in four (so that batches live a while).
    function cancel(uint256 seed) external {
        if (seed % 4 != 0) return;
        calls += 1;
        vm.prank(SOLVER);
        vault.cancelQuotes();
    }

    /// @dev The oracles observe a new spot, within the fills' tolerance or beyond it.
    function post(uint256 spotSeed) external {
        calls += 1;
        postMarket(spotOf(spotSeed));
    }

    /// @dev Up to a minute, and one time in eight up to 400 s: past the quotes' lifetime and the oracle's age.
    function wait(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, seconds_ % 8 == 0 ? 400 : 60));
    }

    // ------------------------------------------------------------------ takers

    /// @dev The live batch, mostly; sometimes any batch (superseded ones and book updates are refused).
    function pickBatch(uint256 batchSeed) private view returns (bool found, uint256 batchId) {
        if (batchIds.length == 0) return (false, 0);
        if (batchSeed % 4 != 0 && vault.hasLiveBatch()) return (true, vault.liveBatch());
        return (true, batchIds[batchSeed % batchIds.length]);
    }

    /// @dev The first of the expiries EXPIRY_0 + k · EXPIRY_STEP still ahead.
    function nextExpiry() private view returns (uint64 expiry) {
        expiry = EXPIRY_0;
        while (expiry <= block.timestamp) expiry += EXPIRY_STEP;
    }

    function seriesOf(uint256 batchId)
        private
        view
        returns (bytes32 series, bool tradable, BookLedger.Series memory terms_)
    {
        (, uint64 validUntil,) = vault.batchTimes(batchId);
        if (validUntil == 0) return (bytes32(0), false, terms_); // a book update: no quotes
        (QuoteVault.QuoteTerms memory terms,) = quoteOf(batchId, 0);
        terms_ = BookLedger.Series(terms.expiry, terms.strike, terms.isCall);
        return (vault.seriesId(terms.expiry, terms.strike, terms.isCall), true, terms_);
    }

    function fill(uint256 actorSeed, uint256 batchSeed, uint256 size) external {
        (bool found, uint256 batchId) = pickBatch(batchSeed);
        if (!found) return;
        (bytes32 series, bool tradable, BookLedger.Series memory terms) = seriesOf(batchId);
        address who = actor(actorSeed);
        size = bound(size, 0, SIZE / 2); // 0 is refused: SizeOutOfRange
        bytes32 before = vaultState();
        bool windingDown = vault.windingDown();
        calls += 1;
        (bool ok, uint256 premium) = trade(true, who, batchId, size);
        if (!ok) {
            refused(before);
            return;
        }
        if (!tradable) tradedWithoutQuotes = true;
        if (windingDown) tradedWhileWindingDown = true;
        ghostIn += premium;
        ghostLong[who][series] += size;
        if (!seen[series]) {
            seen[series] = true;
            traded.push(terms);
        }
    }

    /// @dev `who` buys (takerBuys) or sells `size` of quote 0 of `batchId`, showing its element and
    ///     path: whether the vault took the trade, and the premium paid or received.
    function trade(bool takerBuys, address who, uint256 batchId, uint256 size)
        private
        returns (bool ok, uint256 premium)
    {
        (uint256 element, uint256[] memory path) = quoteProof(batchId, 0);
        vm.prank(who);
        if (takerBuys) {
            try vault.fill(batchId, 0, element, path, size, type(uint256).max) returns (uint256 paid) {
                return (true, paid);
            } catch {
                return (false, 0);
            }
        }
        try vault.sell(batchId, 0, element, path, size, 0) returns (uint256 received) {
            return (true, received);
        } catch {
            return (false, 0);
        }
    }

    function sell(uint256 actorSeed, uint256 batchSeed, uint256 size) external {
        (bool found, uint256 batchId) = pickBatch(batchSeed);
        if (!found) return;
        (bytes32 series, bool tradable,) = seriesOf(batchId);
        address who = actor(actorSeed);
        size = bound(size, 0, ghostLong[who][series] + 1);
        bytes32 before = vaultState();
        bool windingDown = vault.windingDown();
        calls += 1;
        (bool ok, uint256 premium) = trade(false, who, batchId, size);
        if (!ok) {
            refused(before);
            return;
        }
        if (!tradable) tradedWithoutQuotes = true;
        if (windingDown) tradedWhileWindingDown = true;
        ghostOut += premium;
        ghostLong[who][series] -= size;
    }

    // ------------------------------------------------------------------ settlement and claims

    /// @dev The expiry of the latest series traded that is not settled yet and still ahead (the
    ///     next expiry when there is none).
    function expiryToSettle() private view returns (uint64) {
        for (uint256 i = traded.length; i > 0; --i) {
            uint64 expiry = traded[i - 1].expiry;
            if (expiry > block.timestamp && vault.settlement(expiry).settledAt == 0) return expiry;
        }
        return nextExpiry();
    }

    /// @dev Jump to an expiry (a second after it, one time in eight past the settlement window),
    ///     the oracles observe spot ×0.8, ×1, or ×1.2 there, and anyone settles it.
    function settle(uint256 priceSeed, uint256 lateSeed) external {
        uint64 expiry = expiryToSettle();
        (uint64 window,,) = vault.lifecycle();
        vm.warp(expiry + (lateSeed % 8 == 0 ? window + 1 : 1));
        uint256[3] memory prices = [SPOT * 80 / 100, SPOT, SPOT * 120 / 100];
        oracle.post(uint192(prices[priceSeed % prices.length]), uint64(block.timestamp));
        ivOracle.post(uint192(IV_INDEX), uint64(block.timestamp));
        uint256 index = oracle.observationCount() - 1;
        bytes32 before = vaultState();
        calls += 1;
        try vault.settleExpiry(expiry, index) {
            settledExpiries.push(expiry);
        } catch {
            refused(before);
        }
    }

    /// @dev Any actor claims any series traded: only holders of a settled series are paid.
    function claim(uint256 actorSeed, uint256 seriesSeed) external {
        if (traded.length == 0) return;
        address who = actor(actorSeed);
        BookLedger.Series memory s = traded[seriesSeed % traded.length];
        bytes32 series = vault.seriesId(s.expiry, s.strike, s.isCall);
        bytes32 before = vaultState();
        calls += 1;
        vm.prank(who);
        try vault.claim(s.expiry, s.strike, s.isCall) returns (uint256 payoff) {
            if (ghostLong[who][series] == 0) claimedWithoutHolding = true;
            ghostLong[who][series] = 0;
            ghostOut += payoff;
            ghostClaimed[s.expiry] += payoff;
        } catch {
            refused(before);
        }
    }

    function donate(uint256 amount) external {
        amount = bound(amount, 0, 1e12);
        calls += 1;
        vm.prank(LP2);
        token.transfer(address(vault), amount);
        ghostDonated += amount;
    }

    // ------------------------------------------------------------------ views for the invariants

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actorAt(uint256 i) external view returns (address) {
        return actors[i];
    }

    function fillCapacity() external pure returns (uint256) {
        return FILL_CAPACITY;
    }

    function settledCount() external view returns (uint256) {
        return settledExpiries.length;
    }

    function settledAt(uint256 i) external view returns (uint64) {
        return settledExpiries[i];
    }
}

/// @title Invariants: what must never happen to the money, whatever the order of calls
contract QuoteVaultInvariantTest {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    VaultHandler private handler;
    QuoteVaultHarness private vault;
    TestToken private token;

    function setUp() public {
        handler = new VaultHandler();
        vault = handler.vaultUnderTest();
        token = handler.tokenUnderTest();
    }

    /// @notice forge's invariant fuzzer calls only the handler's actions (StdInvariant's
    ///     targetContracts and targetSelectors, declared here without forge-std).
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory actions = new bytes4[](18);
        actions[0] = VaultHandler.deposit.selector;
        actions[1] = VaultHandler.mint.selector;
        actions[2] = VaultHandler.withdraw.selector;
        actions[3] = VaultHandler.redeem.selector;
        actions[4] = VaultHandler.submit.selector;
        actions[5] = VaultHandler.fill.selector;
        actions[6] = VaultHandler.sell.selector;
        actions[7] = VaultHandler.post.selector;
        actions[8] = VaultHandler.wait.selector;
        actions[9] = VaultHandler.donate.selector;
        actions[10] = VaultHandler.cancel.selector;
        actions[11] = VaultHandler.fill.selector; // takers and the solver act twice as often
        actions[12] = VaultHandler.sell.selector;
        actions[13] = VaultHandler.submit.selector;
        actions[14] = VaultHandler.settle.selector;
        actions[15] = VaultHandler.claim.selector;
        actions[16] = VaultHandler.requestRedeem.selector;
        actions[17] = VaultHandler.settleRedeem.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), actions);
    }

    /// @notice Collateral is exactly what came in through the vault's functions less what went out.
    function invariant_collateralIsWhatMovedThroughTheVault() public view {
        vm.assertEq(vault.collateral(), handler.ghostIn() - handler.ghostOut(), "collateral");
    }

    /// @notice The vault holds every token of its collateral, plus donations (which are not NAV).
    function invariant_tokensBackTheCollateral() public view {
        vm.assertEq(token.balanceOf(address(vault)), vault.collateral() + handler.ghostDonated(), "token balance");
    }

    /// @notice Shares are the holders' balances plus the escrow of pending redemption requests:
    ///     nobody else holds any, none appear from nowhere; requests are paid in order, each to its owner.
    function invariant_sharesAreTheHoldersBalances() public view {
        uint256 sum;
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            sum += vault.balanceOf(handler.actorAt(i));
        }
        vm.assertEq(vault.balanceOf(address(vault)), handler.ghostEscrowed(), "escrow = pending requests");
        vm.assertEq(vault.queuedShares(), handler.ghostEscrowed(), "queued = pending requests");
        vm.assertEq(vault.redeemQueueHead(), handler.ghostQueueHead(), "the oldest unpaid request");
        vm.assertEq(vault.totalSupply(), sum + handler.ghostEscrowed(), "total supply");
        vm.assertFalse(handler.paidAnotherThanTheOwner(), "a request paid another than its owner");
        vm.assertFalse(handler.settledOutOfOrder(), "a request paid before an older one");
    }

    /// @notice No instant redemption or settled request ever left the collateral below the
    ///     liabilities plus the proven worst-case loss (while anything open can lose).
    function invariant_redemptionsLeaveTheWorstCaseCovered() public view {
        vm.assertFalse(handler.redeemedIntoTheWorstCase(), "a redemption took the worst case's collateral");
    }

    /// @notice NAV is collateral less the liabilities (unclaimed payoffs; while an expiry is live the
    ///     proven mark and unproven premiums too), never more than the collateral, and all shares
    ///     together never claim more than NAV.
    function invariant_sharesNeverClaimMoreThanNav() public view {
        uint256 nav = vault.totalAssets();
        uint256 owed = vault.unclaimedPayoffs();
        if (vault.liveExpiryCount() != 0) owed += vault.provenMark() + vault.unprovenPremiums();
        vm.assertEq(nav, owed >= vault.collateral() ? 0 : vault.collateral() - owed, "NAV");
        vm.assertLe(vault.convertToAssets(vault.totalSupply()), nav, "all shares at NAV");
        uint256 withdrawable;
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            withdrawable += vault.maxWithdraw(handler.actorAt(i));
        }
        vm.assertLe(withdrawable, nav, "what LPs can withdraw now");
    }

    /// @notice Positions are what each taker bought less what it sold (and claimed), and the
    ///     vault's book is exactly the other side: each live slot is minus the takers' positions.
    function invariant_theBookIsTheTakersPositionsShort() public view {
        (,,, uint256 slots) = vault.bookState();
        for (uint256 s = 0; s < slots; ++s) {
            (uint64 expiry, uint256 strike, bool isCall, int256 quantity) = vault.bookSlot(s);
            if (expiry == 0) continue; // emptied by a settlement
            bytes32 series = vault.seriesId(expiry, strike, isCall);
            uint256 held;
            for (uint256 i = 0; i < handler.actorCount(); ++i) {
                address who = handler.actorAt(i);
                uint256 recorded = vault.longPositions(who, series);
                vm.assertEq(recorded, handler.ghostLong(who, series), "position");
                held += recorded;
            }
            vm.assertEq(quantity, -int256(held), "book slot = -(takers' positions)");
        }
    }

    /// @notice The fill chain and the proven range stay ordered: provenFills <= fillCount, at most
    ///     the fill capacity between proofs, and a head recorded for every fill.
    function invariant_theFillChainIsOrdered() public view {
        (, uint256 fillCount, uint256 provenFills,) = vault.bookState();
        vm.assertLe(provenFills, fillCount, "proven <= recorded");
        vm.assertLe(fillCount - provenFills, handler.fillCapacity(), "at most F unproven fills");
        if (fillCount > 0) vm.assertTrue(vault.chainHead(fillCount) != 0, "a head for the last fill");
    }

    /// @notice Nobody but a holder is ever paid a claim, and an expiry's claims never exceed what
    ///     its settlement set aside.
    function invariant_onlyHoldersClaimWithinWhatWasSetAside() public view {
        vm.assertFalse(handler.claimedWithoutHolding(), "a claim paid someone who held nothing");
        for (uint256 i = 0; i < handler.settledCount(); ++i) {
            uint64 expiry = handler.settledAt(i);
            ExpirySettlement.Settlement memory s = vault.settlement(expiry);
            vm.assertLe(handler.ghostClaimed(expiry), s.paid, "claims within what was set aside");
            vm.assertLe(uint256(s.paid), uint256(s.owed), "set aside at most what is owed");
        }
    }

    /// @notice A call the vault refused left its state as it was, only batches with quotes traded,
    ///     and nothing was proven or traded while the vault wound down.
    function invariant_aRefusedCallChangesNothing() public view {
        vm.assertFalse(handler.revertChangedState(), "a refused call changed the state");
        vm.assertFalse(handler.tradedWithoutQuotes(), "a book update traded");
        vm.assertFalse(handler.tradedWhileWindingDown(), "a batch or a fill while winding down");
    }
}
