// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestToken} from "../TestToken.sol";
import {QuoteVaultHarness} from "./utils/QuoteVaultHarness.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";
import {bound, vm} from "./utils/Vm.sol";

/// @title Random sequences of LP, taker, solver and oracle actions on one vault
/// @notice Each action picks its actor and amounts from fuzzed seeds, calls the vault, and keeps
///     ghost totals of what moved. A call the vault refuses must leave its state as it was
///     (checked here, with the fixture's state digest): the handler records any that did not.
///     Batches come from the fixture's plan (PairVerifier), so the handler can submit up to
///     PLANNED_BATCHES of them, at any of the planned spots.
contract VaultHandler is VaultFixture {
    address[3] private actors = [LP, LP2, TAKER];
    uint256[] private batchIds;

    uint256 public ghostIn; // deposits, mints and premiums received
    uint256 public ghostOut; // withdrawals, redemptions and premiums paid
    uint256 public ghostDonated; // tokens sent to the vault outside its functions
    mapping(address actor => mapping(bytes32 series => uint256)) public ghostLong;
    bool public revertChangedState;
    uint256 public calls;
    uint256 public refusals;

    /// @dev The handler deploys the whole fixture itself, so that it owns the oracle, mints the
    ///     token and proposes to the timelock, as the test contract does in the unit tests.
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
        } catch {
            refused(before);
        }
    }

    function submit(uint256 spotSeed) external {
        if (vault.nextNonce() >= FIRST_NONCE + PLANNED_BATCHES) return;
        calls += 1;
        batchIds.push(submitBatch(spotSeed % SPOT_COUNT));
    }

    function fill(uint256 actorSeed, uint256 batchSeed, uint256 size) external {
        if (batchIds.length == 0) return;
        address who = actor(actorSeed);
        uint256 batchId = batchIds[batchSeed % batchIds.length];
        size = bound(size, 0, 100 * ONE); // 0 is refused: SizeOutOfRange
        bytes32 before = vaultState();
        calls += 1;
        vm.prank(who);
        try vault.fill(batchId, 0, size, type(uint256).max) returns (uint256 premium) {
            ghostIn += premium;
            ghostLong[who][seriesOf(batchId)] += size;
        } catch {
            refused(before);
        }
    }

    function sell(uint256 actorSeed, uint256 batchSeed, uint256 size) external {
        if (batchIds.length == 0) return;
        address who = actor(actorSeed);
        uint256 batchId = batchIds[batchSeed % batchIds.length];
        size = bound(size, 0, ghostLong[who][seriesOf(batchId)] + 1);
        bytes32 before = vaultState();
        calls += 1;
        vm.prank(who);
        try vault.sell(batchId, 0, size, 0) returns (uint256 premium) {
            ghostOut += premium;
            ghostLong[who][seriesOf(batchId)] -= size;
        } catch {
            refused(before);
        }
    }

    /// @dev The mark a proof would record (QuoteVaultHarness), up to 1.5 times the collateral.
    function recordMark(uint256 mark) external {
        calls += 1;
        vault.recordProvenMark(bound(mark, 0, vault.collateral() * 3 / 2));
    }

    function donate(uint256 amount) external {
        amount = bound(amount, 0, 1e12);
        calls += 1;
        vm.prank(LP2);
        token.transfer(address(vault), amount);
        ghostDonated += amount;
    }

    function wait(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 900)); // past quotes' lifetime, sometimes
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actorAt(uint256 i) external view returns (address) {
        return actors[i];
    }

    function longOf(address who, uint256 i) external view returns (uint256 ghost, uint256 recorded) {
        bytes32 series = seriesOf(batchIds[i]);
        return (ghostLong[who][series], vault.longPositions(who, series));
    }

    function batchCount() external view returns (uint256) {
        return batchIds.length;
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
        bytes4[] memory actions = new bytes4[](10);
        actions[0] = VaultHandler.deposit.selector;
        actions[1] = VaultHandler.mint.selector;
        actions[2] = VaultHandler.withdraw.selector;
        actions[3] = VaultHandler.redeem.selector;
        actions[4] = VaultHandler.submit.selector;
        actions[5] = VaultHandler.fill.selector;
        actions[6] = VaultHandler.sell.selector;
        actions[7] = VaultHandler.recordMark.selector;
        actions[8] = VaultHandler.donate.selector;
        actions[9] = VaultHandler.wait.selector;
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

    /// @notice Shares are the holders' balances: nobody else holds any, none appear from nowhere.
    function invariant_sharesAreTheHoldersBalances() public view {
        uint256 sum;
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            sum += vault.balanceOf(handler.actorAt(i));
        }
        vm.assertEq(vault.totalSupply(), sum, "total supply");
    }

    /// @notice NAV is collateral less the liabilities, never more than the collateral, and all
    ///     shares together never claim more than NAV.
    function invariant_sharesNeverClaimMoreThanNav() public view {
        uint256 nav = vault.totalAssets();
        uint256 owed = vault.provenMark() + vault.unclaimedPayoffs();
        vm.assertEq(nav, owed >= vault.collateral() ? 0 : vault.collateral() - owed, "NAV");
        vm.assertLe(vault.convertToAssets(vault.totalSupply()), nav, "all shares at NAV");
        uint256 withdrawable;
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            withdrawable += vault.maxWithdraw(handler.actorAt(i));
        }
        vm.assertLe(withdrawable, nav, "what LPs can withdraw now");
    }

    /// @notice Positions are what each taker bought less what it sold.
    function invariant_positionsAreWhatWasBoughtLessSold() public view {
        for (uint256 b = 0; b < handler.batchCount(); ++b) {
            for (uint256 i = 0; i < handler.actorCount(); ++i) {
                (uint256 ghost, uint256 recorded) = handler.longOf(handler.actorAt(i), b);
                vm.assertEq(recorded, ghost, "position");
            }
        }
    }

    /// @notice A call the vault refused left its state as it was.
    function invariant_aRefusedCallChangesNothing() public view {
        vm.assertFalse(handler.revertChangedState(), "a refused call changed the state");
    }
}
