// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IVIndexOracle: one trusted poster's implied-volatility index and the time it was observed
/// @notice A DVOL-style feed: the market's annualised implied volatility of the underlying (Deribit's
///     DVOL is the 30-day one), as the engine's fixed-point integer vol · 2^48 (0.55 for 55%). The
///     vault reads it as it reads spot, to bound the smile the solver picks: each expiry's proven
///     ATM vol must lie within a governance band of this index (QuoteVault's ivBand). Timestamps are
///     Unix seconds, never in the future of the posting block and strictly increasing; readers
///     decide how old an observation they accept.
contract IVIndexOracle {
    /// @notice `caller` is not the owner, the only address that may post.
    error NotOwner(address caller);
    /// @notice An implied vol index must be positive.
    error VolZero();
    /// @notice `timestamp` is after the posting block's time `blockTime`.
    error TimestampInFuture(uint64 timestamp, uint256 blockTime);
    /// @notice `timestamp` is not after the latest posted one, `latestTimestamp`.
    error TimestampNotAfterLatest(uint64 timestamp, uint64 latestTimestamp);

    /// @notice A new observation: implied vol index `vol` (2^-48 fixed point, annualised) at `timestamp`.
    event VolPosted(uint256 vol, uint64 timestamp);

    address public immutable owner;

    // One storage slot, so that `latest` costs one SLOAD. 2^192 at 2^-48 is a vol of 2^144: far
    // above any index.
    uint192 private _vol;
    uint64 private _timestamp;

    constructor() {
        owner = msg.sender;
    }

    /// @notice Post the implied vol index `vol` (2^-48 fixed point) observed at `timestamp` (Unix seconds).
    function post(uint192 vol, uint64 timestamp) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (vol == 0) revert VolZero();
        // timestamp: a validator can shift block.timestamp by seconds; that only moves
        // which observations count as not in the future, never the index itself
        // slither-disable-next-line timestamp
        if (timestamp > block.timestamp) revert TimestampInFuture(timestamp, block.timestamp);
        if (timestamp <= _timestamp) revert TimestampNotAfterLatest(timestamp, _timestamp);
        _vol = vol;
        _timestamp = timestamp;
        emit VolPosted(vol, timestamp);
    }

    /// @notice The latest observation; (0, 0) before the first post.
    /// @return vol The implied vol index at 2^-48 fixed point.
    /// @return timestamp When it was observed (Unix seconds).
    function latest() external view returns (uint256 vol, uint64 timestamp) {
        return (_vol, _timestamp);
    }
}
