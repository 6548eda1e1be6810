// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BookLedger} from "../../BookLedger.sol";
import {PoseidonT3} from "../../PoseidonT3.sol";

/// @title BookLedgerHarness: BookLedger's internal functions as external ones, for tests only
/// @notice Deployed by tests/verifier_contracts/test_book_ledger.py and benchmarks/bench_book_gas.py;
///     never outside tests and benchmarks.
contract BookLedgerHarness {
    using BookLedger for BookLedger.Book;

    BookLedger.Book private _book;
    PoseidonT3 public immutable poseidon;

    constructor(PoseidonT3 poseidon_, uint256 capacity, uint256 fillCapacity) {
        poseidon = poseidon_;
        _book.initialize(poseidon_, capacity, fillCapacity);
    }

    function recordFill(uint64 expiry, uint256 strike, bool isCall, int256 dq)
        external
        returns (uint256 slotIndex, uint256 newHead)
    {
        return _book.recordFill(poseidon, BookLedger.Series(expiry, strike, isCall), dq);
    }

    /// @notice requireProvenTransition then acceptProvenBook, as submitBatch does around the verifier.
    function proveBook(
        uint256 bookBefore,
        uint256 chainFrom,
        uint256 chainTo,
        uint256 fillsFrom,
        uint256 fillsTo,
        uint256 bookAfter
    ) external {
        _book.requireProvenTransition(bookBefore, chainFrom, chainTo, fillsFrom, fillsTo);
        _book.acceptProvenBook(fillsTo, bookAfter);
    }

    function requireProvenTransition(
        uint256 bookBefore,
        uint256 chainFrom,
        uint256 chainTo,
        uint256 fillsFrom,
        uint256 fillsTo
    ) external view {
        _book.requireProvenTransition(bookBefore, chainFrom, chainTo, fillsFrom, fillsTo);
    }

    function packFill(uint256 slotIndex, bool isCall, uint256 strike, uint64 expiry, int256 dq)
        external
        pure
        returns (uint256)
    {
        return BookLedger.packFill(slotIndex, isCall, strike, expiry, dq);
    }

    function bookCommitment() external view returns (uint256) {
        return _book.bookCommitment;
    }

    function counters() external view returns (BookLedger.Counters memory) {
        return _book.counters;
    }

    function headAt(uint256 k) external view returns (uint256) {
        return _book.head[k];
    }

    function slotAt(uint256 index) external view returns (BookLedger.Slot memory) {
        return _book.slots[index];
    }

    function slotOf(uint64 expiry, uint256 strike, bool isCall) external view returns (uint256) {
        return _book.slotOf(expiry, strike, isCall);
    }

    function liveExpiries() external view returns (uint64[] memory) {
        return _book.liveExpiries();
    }
}
