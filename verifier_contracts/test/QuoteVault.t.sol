// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {
    IBatchVerifier,
    BatchLayout,
    BATCH_COMMITTED_INPUT_COUNT,
    BATCH_ELEMENT_COUNT,
    BATCH_PUBLIC_INPUT_COUNT,
    BATCH_QUOTE_COUNT,
    BATCH_QUOTE_TREE_DEPTH
} from "generated/BatchLayout.sol";
import {BatchChecks} from "../BatchChecks.sol";
import {BookLedger} from "../BookLedger.sol";
import {QuoteTree} from "../QuoteTree.sol";
import {QuoteVault} from "../QuoteVault.sol";
import {TestToken} from "../TestToken.sol";
import {PairVerifier} from "./utils/PairVerifier.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {vm} from "./utils/Vm.sol";

/// @title Unit tests of QuoteVault over its own book
/// @notice One test or more per function and per custom error of QuoteVault, and of BookLedger
///     and BatchChecks where the vault reaches them (BookLedger.t.sol has the rest); every
///     refusal also checks that the vault's state (VaultFixture.vaultState) is what it was.
///     Batches are planned and "proven" through PairVerifier (VaultFixture.plan / submit).
contract QuoteVaultTest is VaultFixture {
    // ------------------------------------------------------------------ constructor

    function test_constructor_setsTheShareTokenTheConfigurationAndAnEmptyBook() public view {
        vm.assertEq(vault.asset(), address(token), "asset");
        vm.assertEq(uint256(vault.decimals()), DECIMALS + 6, "share decimals = token's + DECIMALS_OFFSET");
        vm.assertEq(vault.name(), "DLPE vault share", "name");
        vm.assertEq(vault.symbol(), "DLPE-LP", "symbol");
        vm.assertEq(address(vault.governance()), address(timelock), "governance");
        vm.assertEq(address(vault.oracle()), address(oracle), "oracle");
        vm.assertEq(address(vault.ivOracle()), address(ivOracle), "IV oracle");
        vm.assertEq(address(vault.poseidon()), address(poseidon), "poseidon");
        vm.assertEq(address(vault.verifier()), address(verifier), "verifier");
        vm.assertEq(vault.solver(), SOLVER, "solver");
        vm.assertEq(uint256(vault.nextNonce()), FIRST_NONCE, "first nonce");
        vm.assertEq(vault.premiumUnit(), 10 ** DECIMALS, "premium unit");
        vm.assertEq(uint256(vault.maxOracleAge()), MAX_ORACLE_AGE, "max oracle age");
        vm.assertEq(uint256(vault.quoteLifetime()), QUOTE_LIFETIME, "quote lifetime");
        (int64 rate,, uint64 tolerance, uint64 band) = vault.marketSettings();
        vm.assertEq(int256(rate), RATE, "rate");
        vm.assertEq(uint256(tolerance), SPOT_TOLERANCE, "spot tolerance");
        vm.assertEq(uint256(band), IV_BAND, "IV band");
        (uint128 modelMargin,) = vault.margins();
        vm.assertEq(uint256(modelMargin), MODEL_MARGIN, "model margin");
        (uint128 d,,, uint128 loss) = vault.riskLimits();
        vm.assertEq(uint256(d), limits().maxAbsDelta, "delta limit");
        vm.assertEq(uint256(loss), limits().maxLoss, "loss limit");
        vm.assertEq(vault.totalAssets(), 0, "empty vault");
        vm.assertFalse(vault.hasLiveBatch(), "no live batch");
        // the empty book's commitment: h_{j+1} = Poseidon(h_j, j + 2^72 · 2^129) over the P slots
        uint256 h = 0;
        for (uint256 j = 0; j < BOOK_CAPACITY; ++j) {
            h = poseidon.hash(h, j | (uint256(1 << 72) << 129));
        }
        (uint256 commitment, uint256 fillCount, uint256 provenFills, uint256 seriesCount) = vault.bookState();
        vm.assertEq(commitment, h, "the empty book's commitment");
        vm.assertEq(fillCount + provenFills + seriesCount, 0, "no fills, no series");
        vm.assertEq(vault.chainHead(0), 0, "head[0] = 0");
    }

    function test_constructor_refusesAVerifierWithAnotherInputCount() public {
        QuoteVault.Dependencies memory deps = dependencies();
        deps.verifier = new PairVerifier(3, new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.VerifierInputCountMismatch.selector, BATCH_PUBLIC_INPUT_COUNT, 3));
        newVault(deps);
    }

    function test_constructor_refusesATokenWithMoreThan18Decimals() public {
        TestToken wide = new TestToken("Wide", "W", 19);
        QuoteVault.Dependencies memory deps = dependencies();
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.TokenDecimalsUnsupported.selector, 19));
        newVault(wide, deps, oracleSettings(), limits(), marketSettings(), margins());
    }

    function test_constructor_refusesGovernanceWithoutCode() public {
        QuoteVault.Dependencies memory deps = dependencies();
        deps.governance = TimelockController(payable(address(0xBEEF)));
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.GovernanceNotTimelock.selector, address(0xBEEF)));
        newVault(deps);
    }

    function test_constructor_refusesAGovernanceDelayBelowTheMinimum() public {
        QuoteVault.Dependencies memory deps = dependencies();
        deps.governance = newTimelock(1 days - 1);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.GovernanceDelayTooShort.selector, 1 days - 1, 1 days));
        newVault(deps);
        deps.governance = newTimelock(1 days); // exactly the minimum is enough
        newVault(deps);
    }

    function test_constructor_refusesOracleSettingsWithoutALifetimeOrOutlivingTheOracle() public {
        QuoteVault.Dependencies memory deps = dependencies();
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.OracleSettingsInvalid.selector, MAX_ORACLE_AGE, 0));
        newVault(token, deps, QuoteVault.OracleSettings(MAX_ORACLE_AGE, 0), limits(), marketSettings(), margins());
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.OracleSettingsInvalid.selector, 60, 61));
        newVault(token, deps, QuoteVault.OracleSettings(60, 61), limits(), marketSettings(), margins());
    }

    function test_constructor_refusesMarketSettingsOutsideTheCircuitsWindow() public {
        QuoteVault.Dependencies memory deps = dependencies();
        int64 rateMax = int64(-BatchLayout.RATE_LO);
        QuoteVault.MarketSettings memory m = QuoteVault.MarketSettings(rateMax + 1, 0, SPOT_TOLERANCE, IV_BAND);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.MarketSettingsInvalid.selector, rateMax + 1, 0, SPOT_TOLERANCE, IV_BAND));
        newVault(token, deps, oracleSettings(), limits(), m, margins());
        m = QuoteVault.MarketSettings(RATE, -rateMax - 1, SPOT_TOLERANCE, IV_BAND);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.MarketSettingsInvalid.selector, RATE, -rateMax - 1, SPOT_TOLERANCE, IV_BAND));
        newVault(token, deps, oracleSettings(), limits(), m, margins());
        m = QuoteVault.MarketSettings(RATE, 0, uint64(ONE), IV_BAND);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.MarketSettingsInvalid.selector, RATE, 0, ONE, IV_BAND));
        newVault(token, deps, oracleSettings(), limits(), m, margins());
        m = QuoteVault.MarketSettings(RATE, 0, SPOT_TOLERANCE, uint64(BatchChecks.VOL_CAP + 1));
        vm.expectRevert(abi.encodeWithSelector(
            QuoteVault.MarketSettingsInvalid.selector, RATE, 0, SPOT_TOLERANCE, BatchChecks.VOL_CAP + 1
        ));
        newVault(token, deps, oracleSettings(), limits(), m, margins());
        // the window's edges are accepted
        newVault(token, deps, oracleSettings(), limits(), QuoteVault.MarketSettings(rateMax, -rateMax, uint64(ONE - 1),
            uint64(BatchChecks.VOL_CAP)), margins());
    }

    function test_constructor_refusesALimitOrMarginTheCircuitCannotCarry() public {
        QuoteVault.Dependencies memory deps = dependencies();
        QuoteVault.RiskLimits memory tooWide = limits();
        tooWide.maxLoss = uint128(1 << 88);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RiskLimitOutOfRange.selector, 3, 1 << 88, (1 << 88) - 1));
        newVault(token, deps, oracleSettings(), tooWide, marketSettings(), margins());
        QuoteVault.Margins memory wideMargin = QuoteVault.Margins(uint128(1 << 88), 0);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.RiskLimitOutOfRange.selector, 4, 1 << 88, (1 << 88) - 1));
        newVault(token, deps, oracleSettings(), limits(), marketSettings(), wideMargin);
    }

    function test_constructor_refusesABookTheCircuitCannotTake() public {
        QuoteVault.Dependencies memory deps = dependencies();
        deps.bookCapacity = 0;
        vm.expectRevert(abi.encodeWithSelector(BookLedger.BookCapacityInvalid.selector, 0, FILL_CAPACITY));
        newVault(deps);
        deps.bookCapacity = 257;
        vm.expectRevert(abi.encodeWithSelector(BookLedger.BookCapacityInvalid.selector, 257, FILL_CAPACITY));
        newVault(deps);
        deps.bookCapacity = BOOK_CAPACITY;
        deps.fillCapacity = 0;
        vm.expectRevert(abi.encodeWithSelector(BookLedger.BookCapacityInvalid.selector, BOOK_CAPACITY, 0));
        newVault(deps);
    }

    // ------------------------------------------------------------------ the solver

    function test_setStateCommitment_entersEveryLaterProof() public {
        postMarket(SPOT);
        Plan memory p = plan();
        prove(p); // proven under the fixture's commitment
        vm.expectEmit();
        emit QuoteVault.StateCommitmentUpdated(99);
        vm.prank(SOLVER);
        vault.setStateCommitment(99);
        vm.assertEq(vault.stateCommitment(), 99, "stored");
        refuseSubmit(p, false, abi.encodeWithSelector(IBatchVerifier.ProofInvalid.selector));
        submit(p); // proven again, under the new commitment
    }

    function test_setStateCommitment_refusesAnyoneButTheSolver() public {
        bytes32 before = vaultState();
        vm.prank(TAKER);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.NotSolver.selector, TAKER));
        vault.setStateCommitment(99);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_cancelQuotes_stopsTheLiveBatchAtOnce() public {
        uint256 batchId = submitLive();
        bytes32 before = vaultState();
        vm.prank(TAKER);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.NotSolver.selector, TAKER));
        vault.cancelQuotes();
        vm.assertEq(vaultState(), before, "state unchanged");
        vm.expectEmit();
        emit QuoteVault.QuotesCancelled(batchId);
        vm.prank(SOLVER);
        vault.cancelQuotes();
        vm.assertFalse(vault.hasLiveBatch(), "no live batch");
        refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.BatchNotLive.selector, batchId));
        bytes32 cancelled = vaultState();
        vm.prank(SOLVER);
        vault.cancelQuotes(); // nothing live: a no-op
        vm.assertEq(vaultState(), cancelled, "cancelling twice changes nothing");
    }

    // ------------------------------------------------------------------ governance with a delay

    function test_setRiskLimits_appliesOnlyAfterTheTimelockDelay() public {
        QuoteVault.RiskLimits memory wider = limits();
        wider.maxAbsDelta = uint128(400 * ONE);
        bytes memory call = abi.encodeCall(QuoteVault.setRiskLimits, (wider));
        bytes32 id = schedule(call);
        bytes memory notReady = abi.encodeWithSelector(
            TimelockController.TimelockUnexpectedOperationState.selector, id,
            bytes32(1 << uint8(TimelockController.OperationState.Ready))
        );
        bytes32 before = vaultState();
        vm.expectRevert(notReady);
        execute(call);
        vm.warp(block.timestamp + GOVERNANCE_DELAY - 1);
        vm.expectRevert(notReady);
        execute(call);
        vm.assertEq(vaultState(), before, "state unchanged before the delay");

        vm.warp(block.timestamp + 1);
        vm.expectEmit();
        emit QuoteVault.RiskLimitsUpdated(wider.maxAbsDelta, wider.maxAbsGamma, wider.maxAbsVega, wider.maxLoss);
        execute(call);
        (uint128 d,,,) = vault.riskLimits();
        vm.assertEq(uint256(d), 400 * ONE, "applied after the delay");
        // and every later proof must carry it
        postMarket(SPOT);
        Plan memory p = plan();
        vm.assertEq(p.limits[0], 400 * ONE, "the plan reads the new limit");
        submit(p);
    }

    function test_setters_refuseAnyoneButTheTimelock() public {
        bytes32 before = vaultState();
        bytes[4] memory calls = [
            abi.encodeCall(QuoteVault.setRiskLimits, (limits())),
            abi.encodeCall(QuoteVault.setOracleSettings, (oracleSettings())),
            abi.encodeCall(QuoteVault.setMarketSettings, (marketSettings())),
            abi.encodeCall(QuoteVault.setMargins, (margins()))
        ];
        address[2] memory callers = [address(this), SOLVER]; // not even the timelock's own proposer
        for (uint256 i = 0; i < calls.length; ++i) {
            for (uint256 k = 0; k < callers.length; ++k) {
                vm.prank(callers[k]);
                (bool ok, bytes memory err) = address(vault).call(calls[i]);
                vm.assertFalse(ok, "refused");
                vm.assertEq(keccak256(err), keccak256(abi.encodeWithSelector(QuoteVault.NotGovernance.selector, callers[k])),
                    "NotGovernance");
            }
        }
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    /// @dev Schedule `data`, wait the delay, and check that executing it reverts with `err`, changing nothing.
    function refuseGoverned(bytes memory data, bytes memory err) private {
        schedule(data);
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        bytes32 before = vaultState();
        vm.expectRevert(err);
        execute(data);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_setRiskLimits_refusesALimitOutOfRangeEvenAfterTheDelay() public {
        QuoteVault.RiskLimits memory tooWide = limits();
        tooWide.maxAbsGamma = uint128(1 << 88);
        refuseGoverned(abi.encodeCall(QuoteVault.setRiskLimits, (tooWide)),
            abi.encodeWithSelector(QuoteVault.RiskLimitOutOfRange.selector, 1, 1 << 88, (1 << 88) - 1));
    }

    function test_setOracleSettings_appliesAfterTheDelayAndGovernsTheNextBatch() public {
        bytes memory call = abi.encodeCall(QuoteVault.setOracleSettings, (QuoteVault.OracleSettings(60, 60)));
        schedule(call);
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        vm.expectEmit();
        emit QuoteVault.OracleSettingsUpdated(60, 60);
        execute(call);
        uint256 batchId = submitLive();
        (uint64 oracleTime, uint64 validUntil,) = vault.batchTimes(batchId);
        vm.assertEq(uint256(validUntil), uint256(oracleTime) + 60, "the new quote lifetime");
        // the new maximum age: a 61-second-old observation is stale
        postMarket(SPOT);
        uint64 observed = uint64(block.timestamp);
        vm.warp(block.timestamp + 61);
        refuseSubmit(plan(), true,
            abi.encodeWithSelector(BatchChecks.StaleObservation.selector, observed, block.timestamp, uint64(60)));
    }

    function test_setOracleSettings_refusesALifetimeOutlivingTheOracle() public {
        refuseGoverned(abi.encodeCall(QuoteVault.setOracleSettings, (QuoteVault.OracleSettings(60, 61))),
            abi.encodeWithSelector(QuoteVault.OracleSettingsInvalid.selector, 60, 61));
    }

    function test_setMarketSettings_appliesAfterTheDelayAndEntersTheNextProof() public {
        postMarket(SPOT);
        Plan memory old = plan();
        QuoteVault.MarketSettings memory m = QuoteVault.MarketSettings(RATE / 2, RATE / 4, SPOT_TOLERANCE, IV_BAND);
        bytes memory call = abi.encodeCall(QuoteVault.setMarketSettings, (m));
        schedule(call);
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        vm.expectEmit();
        emit QuoteVault.MarketSettingsUpdated(RATE / 2, RATE / 4, SPOT_TOLERANCE, IV_BAND);
        execute(call);
        postMarket(SPOT);
        old.spot = SPOT;
        old.oracleTime = uint64(block.timestamp);
        refuseSubmit(old, true,
            abi.encodeWithSelector(QuoteVault.RateMismatch.selector, RATE / 2, RATE / 4, RATE, int256(0)));
        submit(plan());
    }

    function test_setMarketSettings_refusesValuesOutsideTheWindow() public {
        QuoteVault.MarketSettings memory m = QuoteVault.MarketSettings(RATE, 0, uint64(ONE), IV_BAND);
        refuseGoverned(abi.encodeCall(QuoteVault.setMarketSettings, (m)),
            abi.encodeWithSelector(QuoteVault.MarketSettingsInvalid.selector, RATE, 0, ONE, IV_BAND));
    }

    function test_setMargins_appliesAfterTheDelay() public {
        bytes memory call = abi.encodeCall(QuoteVault.setMargins, (QuoteVault.Margins(uint128(ONE), 5)));
        schedule(call);
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        vm.expectEmit();
        emit QuoteVault.MarginsUpdated(uint128(ONE), 5);
        execute(call);
        (uint128 modelMargin, uint128 solvencyMargin) = vault.margins();
        vm.assertEq(uint256(modelMargin), ONE, "model margin");
        vm.assertEq(uint256(solvencyMargin), 5, "solvency margin");
    }

    function test_setMargins_refusesAModelMarginTheCircuitCannotCarry() public {
        refuseGoverned(abi.encodeCall(QuoteVault.setMargins, (QuoteVault.Margins(uint128(1 << 88), 0))),
            abi.encodeWithSelector(QuoteVault.RiskLimitOutOfRange.selector, 4, 1 << 88, (1 << 88) - 1));
    }

    function test_lpsCanRedeemWhileAChangeIsScheduled() public {
        deposit(LP, 1_000e6);
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

    /// @dev A mark whose liability is exactly `liability` token units.
    function markFor(uint256 liability) internal pure returns (int256) {
        return -int256(liability * ONE / 10 ** DECIMALS);
    }

    function test_deposit_mintsSharesAtNavAndCreditsCollateral() public {
        vm.expectEmit();
        emit IERC4626.Deposit(LP, LP, 1_000e6, 1_000e6 * 1e6);
        uint256 shares = deposit(LP, 1_000e6);
        vm.assertEq(shares, 1_000e6 * 1e6, "first deposit: 10^DECIMALS_OFFSET shares per token unit");
        vm.assertEq(vault.balanceOf(LP), shares, "shares");
        vm.assertEq(vault.collateral(), 1_000e6, "collateral");
        vm.assertEq(vault.totalAssets(), 1_000e6, "NAV");
        vm.assertEq(token.balanceOf(address(vault)), 1_000e6, "tokens in the vault");
        vm.assertEq(deposit(LP2, 500e6), 500e6 * 1e6, "a second LP at the same NAV gets the same price");
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
        deposit(LP, 1_000e6);
        proveMark(-1); // a liability of 1 token unit: NAV 999_999_999 for 10^15 shares, prices are not round
        vm.assertEq(vault.provenMark(), 1, "ceil(2^-48 * 10^6) = 1");
        uint256 shares = 3e6 + 1;
        uint256 expected = (shares * (vault.totalAssets() + 1) + vault.totalSupply() + 1e6 - 1) / (vault.totalSupply() + 1e6);
        vm.prank(LP2);
        uint256 assets = vault.mint(shares, LP2);
        vm.assertEq(assets, expected, "ceil");
        vm.assertEq(vault.balanceOf(LP2), shares, "shares minted");
        vm.assertEq(vault.collateral(), 1_000e6 + assets, "collateral");
    }

    function test_withdraw_burnsSharesRoundedUpAndDebitsCollateral() public {
        deposit(LP, 1_000e6);
        proveMark(markFor(7));
        vm.assertEq(vault.provenMark(), 7, "liability");
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
        deposit(LP, 1_000e6);
        proveMark(markFor(3));
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

    function test_redeemAndWithdraw_refusedAboveTheHoldingChangeNothing() public {
        deposit(LP, 1_000e6);
        uint256 held = vault.balanceOf(LP);
        bytes32 before = vaultState();
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, LP, held + 1, held));
        vault.redeem(held + 1, LP, LP);
        vm.prank(TAKER); // someone else's shares, without an allowance
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, TAKER, 0, 1));
        vault.redeem(1, TAKER, LP);
        vm.prank(LP);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxWithdraw.selector, LP, 1_000e6 + 1, 1_000e6));
        vault.withdraw(1_000e6 + 1, LP, LP);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_totalAssets_isCollateralLessMarkUnprovenPremiumsAndUnclaimedPayoffs() public {
        deposit(LP, 1_000e6);
        postMarket(SPOT);
        Plan memory p = plan();
        p.mark = markFor(300e6);
        prove(p);
        vm.expectEmit();
        emit QuoteVault.ProvenMarkUpdated(p.mark, 300e6, p.oracleTime);
        uint256 batchId = submitProven(p);
        vm.assertEq(vault.mark(), p.mark, "mark");
        vm.assertEq(uint256(vault.markTime()), p.oracleTime, "mark time");
        uint256 premium = buy(TAKER, batchId, ONE);
        vm.assertEq(vault.unprovenPremiums(), premium, "the premium of an unmarked fill is owed");
        vm.expectEmit();
        emit QuoteVault.UnclaimedPayoffsUpdated(200e6);
        vault.recordUnclaimedPayoffs(200e6);
        vm.assertEq(vault.totalAssets(), 500e6, "1000 + premium - 300 - premium - 200");
        vm.assertEq(vault.previewRedeem(vault.balanceOf(LP)), 500e6, "LPs redeem at NAV");
        // a proof that marks the fill releases the premium: NAV = collateral - the new mark
        proveMark(markFor(250e6));
        vm.assertEq(vault.unprovenPremiums(), 0, "marked");
        vm.assertEq(vault.totalAssets(), 1_000e6 + premium - 250e6 - 200e6, "NAV after the mark");
    }

    function test_deposits_refusedWhileLiabilitiesReachTheCollateral() public {
        deposit(LP, 1_000e6);
        uint256 premium = buy(TAKER, submitLive(), 1); // the least fill: an expiry is live, so the mark counts
        proveMark(markFor(600e6));
        vault.recordUnclaimedPayoffs(400e6 + premium);
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
        deposit(LP, 1);
        vm.prank(LP2);
        token.transfer(address(vault), 1_000_000e6);
        vm.assertEq(vault.totalAssets(), 1, "a donation is not collateral");
        vm.assertEq(deposit(TAKER, 1_000e6), 1_000e6 * 1e6, "the next depositor pays the first one's price");
    }

    /// @notice The first-deposit attack through the share price: the attacker holds the only
    ///     shares and raises NAV by buying options at the ask (once a proof marks them at mid, the
    ///     spread is NAV), so that the victim's deposit rounds down to nothing. With 10^6 virtual
    ///     shares the virtual holders take half of what the attacker puts in: making a victim
    ///     lose V costs the attacker about 10^6 · V.
    function test_inflationAttack_costsTheAttackerAMillionTimesWhatTheVictimLoses() public {
        deposit(TAKER, 1); // the attacker
        postMarket(SPOT);
        Plan memory p = plan();
        p.quotes[0].size = 1_000_000 * ONE;
        uint256 batchId = submit(p);
        uint256 size = 1_000_000 * ONE;
        uint256 paid = buy(TAKER, batchId, size);
        proveMark(-int256(size * MID / ONE)); // the attacker's options marked at mid
        uint256 spread = paid - vault.provenMark(); // what the attacker gave NAV
        uint256 victimDeposit = 10e6;
        uint256 victimShares = deposit(LP, victimDeposit);
        vm.assertEq(victimShares, 0, "the attack works: the victim's deposit rounds down to no shares");
        uint256 victimLoss = victimDeposit - vault.previewRedeem(victimShares);
        uint256 attackerLoss = spread + 1 - vault.previewRedeem(vault.balanceOf(TAKER));
        vm.assertEq(victimLoss, victimDeposit, "the victim lost its deposit");
        vm.assertGe(attackerLoss, victimLoss * 1e6, "and the attacker lost a million times more");
    }

    // ------------------------------------------------------------------ batches

    function test_submitBatch_acceptsALiveBatchAndRecordsItsQuotes() public {
        postMarket(SPOT);
        Plan memory p = plan();
        p.mark = -int256(ONE);
        prove(p);
        vm.expectEmit();
        emit QuoteVault.BatchAccepted(FIRST_NONCE, true, SPOT, p.oracleTime, p.oracleTime + QUOTE_LIFETIME, 0, 0);
        uint256 batchId = submitProven(p);
        vm.assertEq(batchId, FIRST_NONCE, "batch id is the nonce");
        vm.assertEq(uint256(vault.nextNonce()), FIRST_NONCE + 1, "next nonce");
        vm.assertTrue(vault.hasLiveBatch(), "live");
        vm.assertEq(uint256(vault.liveBatch()), batchId, "the live batch");
        (QuoteVault.QuoteTerms memory terms, uint256 used) = quoteOf(batchId, 0);
        vm.assertEq(uint256(terms.expiry), EXPIRY_0, "expiry");
        vm.assertEq(terms.strike, STRIKE, "strike");
        vm.assertTrue(terms.isCall, "call");
        vm.assertEq(terms.bid, int256(BID), "bid");
        vm.assertEq(terms.ask, int256(ASK), "ask");
        vm.assertEq(terms.size, SIZE, "size");
        vm.assertEq(used, 0, "unused");
        (uint64 oracleTime, uint64 validUntil, uint256 spot) = vault.batchTimes(batchId);
        vm.assertEq(uint256(oracleTime), p.oracleTime, "oracle time");
        vm.assertEq(uint256(validUntil), p.oracleTime + QUOTE_LIFETIME, "valid until");
        vm.assertEq(spot, SPOT, "spot");
        (uint256 commitment,, uint256 provenFills,) = vault.bookState();
        vm.assertEq(commitment, p.bookAfter, "the book commits to the proof's book_after");
        vm.assertEq(provenFills, 0, "proven fills");
        vm.assertEq(vault.provenMark(), 1e6, "the mark's liability");
    }

    function test_submitBatch_quotesNeverOutliveTheFirstExpiry() public {
        postMarket(SPOT);
        Plan memory p = plan();
        p.expiries[0] = p.oracleTime + 100; // sooner than the quote lifetime
        p.atmVariances[0] = centredVariance(p.expiries[0], p.oracleTime);
        uint256 batchId = submit(p);
        (, uint64 validUntil,) = vault.batchTimes(batchId);
        vm.assertEq(uint256(validUntil), p.expiries[0], "valid until the first expiry");
        vm.warp(p.expiries[0] + 1);
        refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max, abi.encodeWithSelector(
            QuoteVault.QuoteExpired.selector, batchId, p.expiries[0], block.timestamp
        ));
    }

    function test_submitBatch_aBookUpdateKeepsTheLiveBatchWhateverRiskOkSays() public {
        uint256 live = submitLive();
        uint256 premium = buy(TAKER, live, ONE);
        postMarket(SPOT);
        Plan memory p = bookUpdate();
        p.riskOk = false; // a breached limit never freezes the book or the mark
        p.mark = -int256(MID);
        prove(p);
        vm.expectEmit();
        emit BookLedger.BookProven(0, 1, p.bookAfter);
        uint256 update = submitProven(p);
        vm.assertEq(update, live + 1, "its own id");
        vm.assertEq(uint256(vault.liveBatch()), live, "the live batch stays");
        (, uint64 validUntil,) = vault.batchTimes(update);
        vm.assertEq(uint256(validUntil), 0, "a book update never trades");
        refuseTrade(TAKER, true, update, 0, ONE, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.UnknownBatch.selector, update));
        (,, uint256 provenFills,) = vault.bookState();
        vm.assertEq(provenFills, 1, "the fill is proven");
        vm.assertEq(vault.unprovenPremiums(), 0, "and its premium marked");
        vm.assertEq(vault.totalAssets(), premium - 3_000e6, "NAV = premium - the mark's liability");
        buy(TAKER, live, ONE); // the live batch still trades
    }

    function test_submitBatch_refusesAnyoneButTheSolver() public {
        postMarket(SPOT);
        Plan memory p = plan();
        prove(p);
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(p);
        uint256[BATCH_ELEMENT_COUNT] memory packed = pack(p);
        uint256[] memory elements = quoteElements(p);
        uint256 root = quotesRootOf(p);
        bytes32 before = vaultState();
        vm.prank(TAKER);
        vm.expectRevert(abi.encodeWithSelector(QuoteVault.NotSolver.selector, TAKER));
        vault.submitBatch(a, b, c, p.bookAfter, root, packed, elements);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_submitCommittedBatch_refusedByAVaultOfPlainGroth16() public {
        vm.assertEq(uint256(vault.proofKind()), uint256(QuoteVault.ProofKind.Groth16), "the fixture's kind");
        postMarket(SPOT);
        Plan memory p = plan();
        prove(p); // listed as a plain pair: the kind is refused before any proof is looked at
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(p);
        uint256[BATCH_ELEMENT_COUNT] memory packed = pack(p);
        uint256[] memory elements = quoteElements(p);
        uint256 root = quotesRootOf(p);
        bytes32 before = vaultState();
        vm.prank(SOLVER);
        vm.expectRevert(abi.encodeWithSelector(
            QuoteVault.ProofKindMismatch.selector, QuoteVault.ProofKind.Groth16, QuoteVault.ProofKind.CommittedGroth16
        ));
        vault.submitCommittedBatch(a, b, c, [uint256(1), 2], [uint256(1), 2], 1, p.bookAfter, root, packed, elements);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_submitBatch_refusedByAVaultOfCommittedGroth16() public {
        QuoteVault.Dependencies memory deps = dependencies();
        // a verifier taking the layout's inputs and then the challenge makes a committed vault
        deps.verifier = new PairVerifier(BATCH_COMMITTED_INPUT_COUNT, new bytes32[](0));
        vault = newVault(deps);
        vm.assertEq(uint256(vault.proofKind()), uint256(QuoteVault.ProofKind.CommittedGroth16), "the verifier's kind");
        vm.prank(SOLVER);
        vault.setStateCommitment(STATE_COMMITMENT);
        postMarket(SPOT);
        Plan memory p = plan();
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(p);
        uint256[BATCH_ELEMENT_COUNT] memory packed = pack(p);
        uint256[] memory elements = quoteElements(p);
        uint256 root = quotesRootOf(p);
        bytes32 before = vaultState();
        vm.prank(SOLVER);
        vm.expectRevert(abi.encodeWithSelector(
            QuoteVault.ProofKindMismatch.selector, QuoteVault.ProofKind.CommittedGroth16, QuoteVault.ProofKind.Groth16
        ));
        vault.submitBatch(a, b, c, p.bookAfter, root, packed, elements);
        vm.assertEq(vaultState(), before, "state unchanged");
    }

    function test_submitBatch_refusesAPairTheVerifierDoesNotAccept() public {
        postMarket(SPOT);
        Plan memory p = plan();
        refuseSubmit(p, false, abi.encodeWithSelector(IBatchVerifier.ProofInvalid.selector));
        prove(p);
        p.bookAfter += 1; // another book_after than the one proven
        refuseSubmit(p, false, abi.encodeWithSelector(IBatchVerifier.ProofInvalid.selector));
        p.bookAfter -= 1;
        p.salt = 1; // another proof of the same statement
        refuseSubmit(p, false, abi.encodeWithSelector(IBatchVerifier.ProofInvalid.selector));
    }

    function test_submitBatch_refusesAStaleOrMissingOracle() public {
        Plan memory p = plan(); // nothing posted: the oracle's time 0 is stale
        p.spot = SPOT; // (the oracle's 0 does not fit the layout's spot window)
        refuseSubmit(p, true, abi.encodeWithSelector(
            BatchChecks.StaleObservation.selector, uint64(0), block.timestamp, MAX_ORACLE_AGE
        ));
        postMarket(SPOT);
        uint64 observed = uint64(block.timestamp);
        vm.warp(block.timestamp + MAX_ORACLE_AGE + 1);
        refuseSubmit(plan(), true, abi.encodeWithSelector(
            BatchChecks.StaleObservation.selector, observed, block.timestamp, MAX_ORACLE_AGE
        ));
    }

    function test_submitBatch_refusesAMarketTheOracleAndGovernanceDidNotSet() public {
        postMarket(SPOT);
        Plan memory p = plan();
        p.spot = SPOT + 1;
        refuseSubmit(p, true, abi.encodeWithSelector(QuoteVault.SpotMismatch.selector, SPOT, int256(SPOT + 1)));
        p = plan();
        p.oracleTime -= 1;
        refuseSubmit(p, true, abi.encodeWithSelector(
            QuoteVault.OracleTimeMismatch.selector, uint64(block.timestamp), int256(block.timestamp - 1)
        ));
        p = plan();
        p.rate = 0;
        refuseSubmit(p, true, abi.encodeWithSelector(QuoteVault.RateMismatch.selector, RATE, int64(0), int256(0), int256(0)));
        p = plan();
        p.carry = RATE;
        refuseSubmit(p, true, abi.encodeWithSelector(QuoteVault.RateMismatch.selector, RATE, int64(0), RATE, RATE));
    }

    function test_submitBatch_refusesAReplayAndANonceOutOfOrder() public {
        postMarket(SPOT);
        Plan memory p = plan();
        p.nonce += 1;
        refuseSubmit(p, true, abi.encodeWithSelector(QuoteVault.NonceMismatch.selector, FIRST_NONCE, int256(uint256(FIRST_NONCE + 1))));
        p = plan();
        submit(p);
        refuseSubmit(p, false, abi.encodeWithSelector( // the very same pair, again
            QuoteVault.NonceMismatch.selector, FIRST_NONCE + 1, int256(uint256(FIRST_NONCE))
        ));
    }

    function test_submitBatch_refusesLimitsGovernanceDidNotSet() public {
        postMarket(SPOT);
        for (uint256 i = 0; i < 5; ++i) {
            Plan memory p = plan();
            uint256 expected = p.limits[i];
            p.limits[i] = expected + 1;
            refuseSubmit(p, true, abi.encodeWithSelector(
                QuoteVault.RiskLimitMismatch.selector, i, expected, int256(expected + 1)
            ));
        }
    }

    function test_submitBatch_refusesSmilesWithoutAFreshIndexOrOutsideItsBand() public {
        vm.warp(block.timestamp + 1);
        oracle.post(uint192(SPOT), uint64(block.timestamp));
        refuseSubmit(plan(), true, abi.encodeWithSelector(QuoteVault.NoVolIndex.selector));
        ivOracle.post(uint192(IV_INDEX), uint64(block.timestamp));
        uint64 indexTime = uint64(block.timestamp);
        vm.warp(block.timestamp + MAX_ORACLE_AGE + 1);
        oracle.post(uint192(SPOT), uint64(block.timestamp)); // spot fresh, the index stale
        refuseSubmit(plan(), true, abi.encodeWithSelector(
            BatchChecks.StaleObservation.selector, indexTime, block.timestamp, MAX_ORACLE_AGE
        ));
        postMarket(SPOT);
        Plan memory p = plan();
        uint256 seconds1 = p.expiries[1] - p.oracleTime;
        p.atmVariances[1] *= 4; // a vol of 1.0 against 0.5 ± 0.1
        refuseSubmit(p, true, abi.encodeWithSelector(
            BatchChecks.AtmVolOutsideBand.selector, 1, p.atmVariances[1], seconds1, IV_INDEX, IV_BAND
        ));
        p = plan();
        p.atmVariances[0] = 0; // below the band
        refuseSubmit(p, true, abi.encodeWithSelector(
            BatchChecks.AtmVolOutsideBand.selector, 0, 0, p.expiries[0] - p.oracleTime, IV_INDEX, IV_BAND
        ));
        vm.warp(block.timestamp + 1);
        oracle.post(uint192(SPOT), uint64(block.timestamp));
        ivOracle.post(uint192(BatchChecks.VOL_CAP), uint64(block.timestamp)); // index + band beyond the cap
        refuseSubmit(plan(), true, abi.encodeWithSelector(
            BatchChecks.VolBoundOutOfRange.selector, BatchChecks.VOL_CAP, IV_BAND
        ));
    }

    function test_submitBatch_refusesAnExpiryNotAfterTheOracle() public {
        postMarket(SPOT);
        Plan memory p = plan();
        p.expiries[0] = p.oracleTime;
        p.atmVariances[0] = 0;
        refuseSubmit(p, true, abi.encodeWithSelector(BatchChecks.ExpiryNotAfter.selector, p.oracleTime, p.oracleTime));
    }

    function test_submitBatch_refusesAFillRangeTheBookDidNotRecord() public {
        uint256 live = submitLive();
        buy(TAKER, live, ONE);
        postMarket(SPOT);
        Plan memory p = bookUpdate();
        p.fillsFrom = 1; // provenFills is 0
        refuseSubmit(p, true, abi.encodeWithSelector(BookLedger.FillRangeInvalid.selector, 1, 1, 0, 1));
        p = bookUpdate();
        p.fillsTo = 2; // one fill is recorded
        refuseSubmit(p, true, abi.encodeWithSelector(BookLedger.FillRangeInvalid.selector, 0, 2, 0, 1));
        p = bookUpdate();
        p.fillsTo = 0; // a book update may stop short of the recorded fills
        submit(p);
    }

    function test_submitBatch_aBatchWithQuotesCoversEveryFill() public {
        uint256 live = submitLive();
        buy(TAKER, live, ONE);
        postMarket(SPOT);
        Plan memory p = plan();
        p.fillsTo = 0;
        refuseSubmit(p, true, abi.encodeWithSelector(QuoteVault.FillsPending.selector, 0, 1));
    }

    function test_submitBatch_aBatchWithQuotesHoldsTheLimits() public {
        postMarket(SPOT);
        Plan memory p = plan();
        p.riskOk = false;
        refuseSubmit(p, true, abi.encodeWithSelector(QuoteVault.RiskLimitsBreached.selector));
    }

    function test_submitBatch_aBatchWithQuotesFitsItsWorstLossInFreeCollateral() public {
        postMarket(SPOT);
        Plan memory p = plan();
        p.worstLoss = ONE; // 1 unit of the quote currency: 10^6 token units
        refuseSubmit(p, true, abi.encodeWithSelector(BatchChecks.Insolvent.selector, 1e6, 0));
        deposit(LP, 1e6);
        govern(abi.encodeCall(QuoteVault.setMargins, (QuoteVault.Margins(MODEL_MARGIN, 1))));
        postMarket(SPOT);
        p = plan();
        p.worstLoss = ONE - 1; // rounded up to 10^6 token units, plus the margin of 1
        refuseSubmit(p, true, abi.encodeWithSelector(BatchChecks.Insolvent.selector, 1e6 + 1, 1e6));
        deposit(LP, 1);
        submit(p); // exactly the free collateral
        // the mark's liability is not free collateral
        postMarket(SPOT);
        p = plan();
        p.mark = -1;
        p.worstLoss = ONE - 1;
        refuseSubmit(p, true, abi.encodeWithSelector(BatchChecks.Insolvent.selector, 1e6 + 1, 1e6));
    }

    // ------------------------------------------------------------------ fills and sells

    function test_fill_pullsThePremiumAndRecordsTheFillInTheBook() public {
        deposit(LP, 1_000e6);
        uint256 batchId = submitLive();
        uint256 size = ONE / 3;
        uint256 premium = premiumOf(ASK, size, true);
        vm.expectEmit();
        emit QuoteVault.Filled(batchId, TAKER, plannedSeries(), 0, true, size, int256(ASK), premium);
        vm.assertEq(buyQuote(TAKER, batchId, 0, size, premium), premium, "premium, rounded up");
        vm.assertEq(vault.collateral(), 1_000e6 + premium, "collateral");
        vm.assertEq(vault.unprovenPremiums(), premium, "owed until a proof marks the option");
        vm.assertEq(vault.totalAssets(), 1_000e6, "NAV unchanged by an unmarked sale");
        vm.assertEq(token.balanceOf(TAKER), FUNDS - premium, "taker paid");
        vm.assertEq(vault.longPositions(TAKER, plannedSeries()), size, "position");
        (, uint256 fillCount, uint256 provenFills, uint256 seriesCount) = vault.bookState();
        vm.assertEq(fillCount, 1, "one fill");
        vm.assertEq(provenFills, 0, "none proven");
        vm.assertEq(seriesCount, 1, "one series");
        (uint64 expiry, uint256 strike, bool isCall, int256 quantity) = vault.bookSlot(0);
        vm.assertEq(uint256(expiry), EXPIRY_0, "slot expiry");
        vm.assertEq(strike, STRIKE, "slot strike");
        vm.assertTrue(isCall, "slot call");
        vm.assertEq(quantity, -int256(size), "the vault is short");
        uint256 record = BookLedger.packFill(0, true, STRIKE, EXPIRY_0, -int256(size));
        vm.assertEq(vault.chainHead(1), poseidon.hash(0, record), "head[1] = Poseidon(0, record)");
        (, uint256 used) = quoteOf(batchId, 0);
        vm.assertEq(used, size, "used");
        vm.assertEq(vault.quoteUsed(batchId, 0), size, "used, without the element");
    }

    function test_sell_paysTheBidFromCollateral() public {
        uint256 batchId = submitLive();
        uint256 paid = buy(TAKER, batchId, 2 * ONE);
        uint256 premium = premiumOf(BID, ONE, false);
        vm.expectEmit();
        emit QuoteVault.Filled(batchId, TAKER, plannedSeries(), 0, false, ONE, int256(BID), premium);
        vm.assertEq(sellQuote(TAKER, batchId, 0, ONE, premium), premium, "premium, rounded down");
        vm.assertEq(vault.collateral(), paid - premium, "collateral");
        vm.assertEq(token.balanceOf(TAKER), FUNDS - paid + premium, "taker received");
        vm.assertEq(vault.longPositions(TAKER, plannedSeries()), ONE, "position");
        (,,, int256 quantity) = vault.bookSlot(0);
        vm.assertEq(quantity, -int256(ONE), "the vault's position rose");
        (, uint256 used) = quoteOf(batchId, 0);
        vm.assertEq(used, 3 * ONE, "sells use the quote's size too");
    }

    function test_trades_refuseAnUnknownBatchOrQuote() public {
        uint256 batchId = submitLive();
        refuseTrade(TAKER, true, batchId + 5, 0, ONE, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.UnknownBatch.selector, batchId + 5));
        refuseTrade(TAKER, true, batchId, BATCH_QUOTE_COUNT, ONE, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.QuoteIndexOutOfRange.selector, BATCH_QUOTE_COUNT, BATCH_QUOTE_COUNT));
        refuseTrade(TAKER, false, batchId + 5, 0, ONE, 0,
            abi.encodeWithSelector(QuoteVault.UnknownBatch.selector, batchId + 5));
        bytes memory err = abi.encodeWithSelector(QuoteVault.QuoteIndexOutOfRange.selector, 9, BATCH_QUOTE_COUNT);
        vm.expectRevert(err);
        vault.quote(batchId, 9, 0, new uint256[](BATCH_QUOTE_TREE_DEPTH));
        vm.expectRevert(err);
        vault.quoteUsed(batchId, 9);
    }

    function test_trades_refuseAnElementOrPathNotUnderTheBatchsRoot() public {
        uint256 batchId = submitLive();
        (uint256 element, uint256[] memory path) = quoteProof(batchId, 0);
        vm.assertTrue(vault.quotesRootOf(batchId) != 0, "the live batch keeps its quotes' root");
        // another element: a larger size, a lower ask (both the taker's wish), or the element + r
        refuseForged(batchId, true, element + (uint256(1) << BatchLayout.QUOTE_SIZE_UNITS_OFFSET), path);
        refuseForged(batchId, true, element - (uint256(1) << BatchLayout.QUOTE_MID_OFFSET), path);
        refuseTradeShown(TAKER, true, batchId, 0, element + QuoteTree.FIELD_MODULUS, path, ONE, type(uint256).max,
            abi.encodeWithSelector(QuoteTree.QuoteElementNotInField.selector, element + QuoteTree.FIELD_MODULUS));
        // a path one sibling longer than the tree is deep
        uint256[] memory longer = new uint256[](BATCH_QUOTE_TREE_DEPTH + 1);
        refuseTradeShown(TAKER, true, batchId, 0, element, longer, ONE, type(uint256).max,
            abi.encodeWithSelector(QuoteTree.QuotePathLengthMismatch.selector, BATCH_QUOTE_TREE_DEPTH + 1,
                BATCH_QUOTE_TREE_DEPTH));
        buy(TAKER, batchId, ONE);
        refuseForged(batchId, false, element + (uint256(1) << BatchLayout.QUOTE_MID_OFFSET), path);
        sellBack(TAKER, batchId, ONE); // the quote's own element and path trade
    }

    /// @dev A trade of quote 0 of `batchId` showing `forged` with the quote's path is refused: QuoteNotInBatch.
    function refuseForged(uint256 batchId, bool takerBuys, uint256 forged, uint256[] memory path) private {
        bytes memory err = abi.encodeWithSelector(
            QuoteTree.QuoteNotInBatch.selector, 0, vault.quotesRootOf(batchId), rootOfPath(forged, 0, path)
        );
        refuseTradeShown(TAKER, takerBuys, batchId, 0, forged, path, ONE, takerBuys ? type(uint256).max : 0, err);
    }

    function test_trades_refuseASupersededBatch() public {
        uint256 first = submitLive();
        uint256 second = submitLive();
        refuseTrade(TAKER, true, first, 0, ONE, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.BatchNotLive.selector, first));
        buy(TAKER, second, ONE);
        refuseTrade(TAKER, false, first, 0, ONE, 0, abi.encodeWithSelector(QuoteVault.BatchNotLive.selector, first));
    }

    function test_trades_refuseAnExpiredQuote() public {
        uint256 batchId = submitLive();
        (, uint64 validUntil,) = vault.batchTimes(batchId);
        vm.warp(validUntil);
        buy(TAKER, batchId, ONE); // the last second
        vm.warp(validUntil + 1);
        refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.QuoteExpired.selector, batchId, validUntil, validUntil + 1));
        refuseTrade(TAKER, false, batchId, 0, ONE, 0,
            abi.encodeWithSelector(QuoteVault.QuoteExpired.selector, batchId, validUntil, validUntil + 1));
    }

    function test_trades_refuseASizeOutOfRangeOrBeyondTheQuote() public {
        uint256 batchId = submitLive();
        uint256 maxSize = vault.MAX_FILL_SIZE();
        refuseTrade(TAKER, true, batchId, 0, 0, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.SizeOutOfRange.selector, 0, maxSize));
        refuseTrade(TAKER, true, batchId, 0, maxSize + 1, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.SizeOutOfRange.selector, maxSize + 1, maxSize));
        refuseTrade(TAKER, true, batchId, 0, SIZE + 1, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.QuoteSizeExceeded.selector, 0, SIZE + 1, SIZE));
        buy(TAKER, batchId, SIZE - ONE);
        refuseTrade(TAKER, false, batchId, 0, ONE + 1, 0,
            abi.encodeWithSelector(QuoteVault.QuoteSizeExceeded.selector, 0, ONE + 1, ONE));
        sellBack(TAKER, batchId, ONE); // buys and sells both use the size
        refuseTrade(TAKER, true, batchId, 0, 1, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.QuoteSizeExceeded.selector, 0, 1, 0));
    }

    function test_fill_refusesANonPositiveAsk() public {
        postMarket(SPOT);
        Plan memory p = plan();
        p.quotes[0].mid = -int256(ONE);
        p.quotes[0].halfSpread = ONE; // ask = 0
        uint256 batchId = submit(p);
        refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.AskNotPositive.selector, int256(0)));
        postMarket(SPOT);
        p = plan();
        p.quotes[0].mid = -int256(2 * ONE);
        p.quotes[0].halfSpread = ONE; // ask < 0
        batchId = submit(p);
        refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max,
            abi.encodeWithSelector(QuoteVault.AskNotPositive.selector, -int256(ONE)));
    }

    function test_sell_refusesANonPositiveBid() public {
        postMarket(SPOT);
        Plan memory p = plan();
        p.quotes[0].mid = int256(HALF_SPREAD); // bid = 0, ask = 2 · half spread
        uint256 batchId = submit(p);
        buy(TAKER, batchId, ONE);
        refuseTrade(TAKER, false, batchId, 0, ONE, 0, abi.encodeWithSelector(QuoteVault.BidNotPositive.selector, int256(0)));
    }

    function test_trades_refuseAPremiumBeyondTheTakersBound() public {
        uint256 batchId = submitLive();
        uint256 cost = premiumOf(ASK, ONE, true);
        refuseTrade(TAKER, true, batchId, 0, ONE, cost - 1,
            abi.encodeWithSelector(QuoteVault.PremiumAboveMaximum.selector, cost, cost - 1));
        buy(TAKER, batchId, ONE);
        uint256 proceeds = premiumOf(BID, ONE, false);
        refuseTrade(TAKER, false, batchId, 0, ONE, proceeds + 1,
            abi.encodeWithSelector(QuoteVault.PremiumBelowMinimum.selector, proceeds, proceeds + 1));
        sellQuote(TAKER, batchId, 0, ONE, proceeds); // exactly the minimum is enough
    }

    function test_fill_refusedWithoutFundsChangesNothing() public {
        uint256 batchId = submitLive();
        vm.prank(TAKER);
        token.approve(address(vault), 0);
        uint256 premium = premiumOf(ASK, ONE, true);
        refuseTrade(TAKER, true, batchId, 0, ONE, premium,
            abi.encodeWithSelector(TestToken.InsufficientAllowance.selector, TAKER, address(vault), 0, premium));
    }

    function test_sell_refusesMoreThanTheTakerHolds() public {
        uint256 batchId = submitLive();
        refuseTrade(TAKER, false, batchId, 0, ONE, 0, abi.encodeWithSelector(QuoteVault.PositionTooSmall.selector, 0, ONE));
        buy(TAKER, batchId, ONE);
        refuseTrade(TAKER, false, batchId, 0, ONE + 1, 0,
            abi.encodeWithSelector(QuoteVault.PositionTooSmall.selector, ONE, ONE + 1));
        // the option is the buyer's: nobody else sells it back
        refuseTrade(LP, false, batchId, 0, ONE, 0, abi.encodeWithSelector(QuoteVault.PositionTooSmall.selector, 0, ONE));
    }

    function test_sell_refusedWhenCollateralIsShort() public {
        postMarket(SPOT);
        Plan memory p = plan();
        p.quotes[0].mid = int256(ONE);
        p.quotes[0].halfSpread = 0;
        uint256 cheap = submit(p);
        uint256 paid = buy(TAKER, cheap, ONE); // 10^6 token units: the vault's only collateral
        postMarket(SPOT);
        p = plan();
        p.quotes[0].mid = int256(10_000 * ONE); // a later batch bids far more for the same series
        uint256 rich = submit(p);
        uint256 proceeds = premiumOf(10_000 * ONE - HALF_SPREAD, ONE, false);
        refuseTrade(TAKER, false, rich, 0, ONE, 0,
            abi.encodeWithSelector(QuoteVault.InsufficientCollateral.selector, paid, proceeds));
    }

    function test_trades_refuseASpotThatMovedBeyondTheTolerance() public {
        uint256 batchId = submitLive();
        uint256 edge = SPOT + uint256(SPOT_TOLERANCE) * SPOT / ONE; // exactly the 2% tolerance
        postMarket(edge);
        buy(TAKER, batchId, ONE);
        postMarket(edge + 1);
        refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max, abi.encodeWithSelector(
            BatchChecks.SpotMoved.selector, SPOT, edge + 1, SPOT_TOLERANCE
        ));
        postMarket(SPOT * 97 / 100);
        refuseTrade(TAKER, false, batchId, 0, ONE, 0, abi.encodeWithSelector(
            BatchChecks.SpotMoved.selector, SPOT, SPOT * 97 / 100, SPOT_TOLERANCE
        ));
    }

    // ------------------------------------------------------------------ the book's capacities

    function test_fill_refusedOnceFFillsAwaitAProof() public {
        deposit(LP, 1_000e6);
        uint256 batchId = submitLive();
        for (uint256 i = 0; i < FILL_CAPACITY; ++i) {
            buy(TAKER, batchId, ONE);
        }
        refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max,
            abi.encodeWithSelector(BookLedger.FillCapacityReached.selector, FILL_CAPACITY, FILL_CAPACITY));
        refuseTrade(TAKER, false, batchId, 0, ONE, 0,
            abi.encodeWithSelector(BookLedger.FillCapacityReached.selector, FILL_CAPACITY, FILL_CAPACITY));
        proveMark(-int256(4 * MID)); // a proof applies them: the capacity is free again
        buy(TAKER, batchId, ONE);
    }

    function test_fill_refusedWhenTheBookIsFull() public {
        QuoteVault.Dependencies memory deps = dependencies();
        deps.bookCapacity = 1;
        vault = newVault(deps);
        vm.prank(SOLVER);
        vault.setStateCommitment(STATE_COMMITMENT);
        vm.prank(TAKER);
        token.approve(address(vault), type(uint256).max);
        buy(TAKER, submitLive(), ONE);
        postMarket(SPOT);
        Plan memory p = plan();
        p.quotes[0].strike = STRIKE + 1_000 * ONE; // another series
        uint256 batchId = submit(p);
        refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max,
            abi.encodeWithSelector(BookLedger.BookFull.selector, 1));
    }

    function test_fill_refusedBeyondFourLiveExpiries() public {
        for (uint256 k = 0; k <= BookLedger.MAX_EXPIRIES; ++k) {
            postMarket(SPOT);
            Plan memory p = plan();
            for (uint256 e = 0; e < p.expiries.length; ++e) {
                p.expiries[e] += uint64(k * 1 days);
                p.atmVariances[e] = centredVariance(p.expiries[e], p.oracleTime);
            }
            uint256 batchId = submit(p);
            if (k < BookLedger.MAX_EXPIRIES) {
                buy(TAKER, batchId, ONE);
            } else {
                refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max,
                    abi.encodeWithSelector(BookLedger.TooManyExpiries.selector, p.expiries[0], BookLedger.MAX_EXPIRIES));
            }
        }
    }

    function test_fill_refusesAStrikeBeyondTheRecordsField() public {
        postMarket(SPOT);
        Plan memory p = plan();
        uint256 strike = STRIKE_MIN + (((uint256(1) << BatchLayout.QUOTE_STRIKE_UNITS_BITS) - 1) << 32);
        p.quotes[0].strike = strike; // above STRIKE_MAX = 2^80
        uint256 batchId = submit(p);
        refuseTrade(TAKER, true, batchId, 0, ONE, type(uint256).max,
            abi.encodeWithSelector(BookLedger.SeriesOutOfRange.selector, EXPIRY_0, strike));
    }
}
