// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BookLedger} from "../BookLedger.sol";
import {PoseidonT3} from "../PoseidonT3.sol";
import {BookLedgerHarness} from "./utils/BookLedgerHarness.sol";
import {vm} from "./utils/Vm.sol";

/// @title Unit tests of BookLedger's refusals that QuoteVault cannot reach
/// @notice The vault checks a fill's size before the ledger sees it (FillQuantityOutOfRange), looks
///     series up only by recording fills (UnknownSeries), and assembles a proof's book statement
///     from the ledger itself (BookCommitmentMismatch, ChainHeadMismatch); PositionOutOfRange
///     needs more size than any one quote proves. Each is driven here through BookLedgerHarness,
///     and each refusal leaves the ledger as it was.
contract BookLedgerTest {
    uint256 private constant ONE = 1 << 48;
    uint64 private constant EXPIRY = 1_800_000_000;
    uint256 private constant STRIKE = 100_000 * ONE;
    int256 private constant QUANTITY_MAX = (int256(1) << 72) - 1;

    BookLedgerHarness private ledger;

    function setUp() public {
        ledger = new BookLedgerHarness(new PoseidonT3(), 4, 4);
    }

    /// @dev The ledger's commitment, counters, chain head and first slot.
    function ledgerState() private view returns (bytes32) {
        BookLedger.Counters memory c = ledger.counters();
        return keccak256(abi.encode(ledger.bookCommitment(), c, ledger.headAt(c.fillCount), ledger.slotAt(0)));
    }

    function refuse(bytes memory call, bytes memory err) private {
        bytes32 before = ledgerState();
        (bool ok, bytes memory returned) = address(ledger).call(call);
        vm.assertFalse(ok, "refused");
        vm.assertEq(keccak256(returned), keccak256(err), "the expected error");
        vm.assertEq(ledgerState(), before, "the ledger is unchanged");
    }

    function test_recordFill_refusesAZeroOrOutOfRangeChange() public {
        int256[3] memory bad = [int256(0), QUANTITY_MAX + 1, -QUANTITY_MAX - 2];
        for (uint256 i = 0; i < bad.length; ++i) {
            refuse(abi.encodeCall(BookLedgerHarness.recordFill, (EXPIRY, STRIKE, true, bad[i])),
                abi.encodeWithSelector(BookLedger.FillQuantityOutOfRange.selector, bad[i]));
        }
        ledger.recordFill(EXPIRY, STRIKE, true, -QUANTITY_MAX - 1); // the range's ends are accepted
    }

    function test_recordFill_refusesAPositionLeavingItsRange() public {
        ledger.recordFill(EXPIRY, STRIKE, true, QUANTITY_MAX);
        refuse(abi.encodeCall(BookLedgerHarness.recordFill, (EXPIRY, STRIKE, true, 1)),
            abi.encodeWithSelector(BookLedger.PositionOutOfRange.selector, 0, QUANTITY_MAX + 1));
        ledger.recordFill(EXPIRY, STRIKE, true, -QUANTITY_MAX); // back to 0
        vm.assertEq(ledger.slotAt(0).quantity, 0, "position");
    }

    function test_slotOf_refusesASeriesNotInTheBook() public {
        ledger.recordFill(EXPIRY, STRIKE, true, -int256(ONE));
        vm.assertEq(ledger.slotOf(EXPIRY, STRIKE, true), 0, "the recorded series");
        vm.expectRevert(abi.encodeWithSelector(BookLedger.UnknownSeries.selector, EXPIRY, STRIKE, false));
        ledger.slotOf(EXPIRY, STRIKE, false);
    }

    function test_proveBook_refusesAnotherBookOrChain() public {
        ledger.recordFill(EXPIRY, STRIKE, true, -int256(ONE));
        ledger.recordFill(EXPIRY, STRIKE, true, int256(ONE / 2));
        uint256 book = ledger.bookCommitment();
        uint256 head1 = ledger.headAt(1);
        uint256 head2 = ledger.headAt(2);
        refuse(abi.encodeCall(BookLedgerHarness.proveBook, (book + 1, 0, head2, 0, 2, 99)),
            abi.encodeWithSelector(BookLedger.BookCommitmentMismatch.selector, book, book + 1));
        refuse(abi.encodeCall(BookLedgerHarness.proveBook, (book, 1, head2, 0, 2, 99)),
            abi.encodeWithSelector(BookLedger.ChainHeadMismatch.selector, 0, 0, 1));
        refuse(abi.encodeCall(BookLedgerHarness.proveBook, (book, 0, head1, 0, 2, 99)),
            abi.encodeWithSelector(BookLedger.ChainHeadMismatch.selector, 2, head2, head1));
        refuse(abi.encodeCall(BookLedgerHarness.proveBook, (book, 0, head2, 1, 2, 99)),
            abi.encodeWithSelector(BookLedger.FillRangeInvalid.selector, 1, 2, 0, 2));
        refuse(abi.encodeCall(BookLedgerHarness.proveBook, (book, 0, 0, 0, 3, 99)),
            abi.encodeWithSelector(BookLedger.FillRangeInvalid.selector, 0, 3, 0, 2));
        ledger.proveBook(book, 0, head1, 0, 1, 99); // a proof may stop at any recorded fill
        vm.assertEq(ledger.bookCommitment(), 99, "book after");
        vm.assertEq(uint256(ledger.counters().provenFills), 1, "proven fills");
        refuse(abi.encodeCall(BookLedgerHarness.proveBook, (99, head1, head2, 1, 0, 100)),
            abi.encodeWithSelector(BookLedger.FillRangeInvalid.selector, 1, 0, 1, 2));
    }
}
