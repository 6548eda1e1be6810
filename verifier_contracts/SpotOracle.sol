// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title SpotOracle: one trusted poster's spot price and the time it was observed
/// @notice The owner posts (price, timestamp); readers get both from `latest`. The price is the
///     engine's fixed-point integer, price · 2^48 (engine/fixed.py, FRAC_BITS = 48), stored as
///     posted: no conversion, hence no rounding here. Timestamps are Unix seconds, never in the
///     future of the posting block and strictly increasing, so that "newer" is well defined.
///     Readers decide how old a price they accept (QuoteVault: maxOracleAge).
contract SpotOracle {
    /// @notice `caller` is not the owner, the only address that may post.
    error NotOwner(address caller);
    /// @notice A price must be positive.
    error PriceZero();
    /// @notice `timestamp` is after the posting block's time `blockTime`.
    error TimestampInFuture(uint64 timestamp, uint256 blockTime);
    /// @notice `timestamp` is not after the latest posted one, `latestTimestamp`.
    error TimestampNotAfterLatest(uint64 timestamp, uint64 latestTimestamp);

    /// @notice A new observation: spot `price` (2^-48 fixed point) at `timestamp`.
    event PricePosted(uint256 price, uint64 timestamp);

    address public immutable owner;

    // One storage slot, so that `latest` costs one SLOAD. 2^192 is far above any 2^-48 fixed-point
    // spot the engine admits (SPOT_MAX = 2^32 · 2^48 = 2^80).
    uint192 private _price;
    uint64 private _timestamp;

    constructor() {
        owner = msg.sender;
    }

    /// @notice Post spot `price` (2^-48 fixed point) observed at `timestamp` (Unix seconds).
    function post(uint192 price, uint64 timestamp) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (price == 0) revert PriceZero();
        // timestamp: a validator can shift block.timestamp by seconds; that only moves
        // which observations count as not in the future, never the price itself
        // slither-disable-next-line timestamp
        if (timestamp > block.timestamp) revert TimestampInFuture(timestamp, block.timestamp);
        if (timestamp <= _timestamp) revert TimestampNotAfterLatest(timestamp, _timestamp);
        _price = price;
        _timestamp = timestamp;
        emit PricePosted(price, timestamp);
    }

    /// @notice The latest observation; (0, 0) before the first post.
    /// @return price Spot at 2^-48 fixed point.
    /// @return timestamp When it was observed (Unix seconds).
    function latest() external view returns (uint256 price, uint64 timestamp) {
        return (_price, _timestamp);
    }
}
