// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchLayout, BATCH_ELEMENT_COUNT, BATCH_QUOTE_FIELD_COUNT, BATCH_SLOT_COUNT} from "generated/BatchLayout.sol";

/// @title BatchLayoutReader: the generated layout's decoding as an external view
/// @notice Kept out of QuoteVault so that the vault stays under the 24,576-byte code limit
///     (EIP-170); clients and tests read packed public inputs on-chain through it.
contract BatchLayoutReader {
    /// @notice Every field of packed batch elements, in layout order, read with the layout's shifts and masks.
    function decodePacked(uint256[BATCH_ELEMENT_COUNT] calldata packed)
        external
        pure
        returns (int256[BATCH_SLOT_COUNT] memory)
    {
        return BatchLayout.decode(packed);
    }

    /// @notice Every field of one quote element (not a public input: a leaf of quotes_root), in layout order.
    function decodeQuote(uint256 element) external pure returns (int256[BATCH_QUOTE_FIELD_COUNT] memory) {
        return BatchLayout.decodeQuote(element);
    }
}
