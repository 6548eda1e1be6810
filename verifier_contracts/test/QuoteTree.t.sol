// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PoseidonT3} from "../PoseidonT3.sol";
import {QuoteTree} from "../QuoteTree.sol";
import {QuoteTreeHarness} from "./utils/QuoteTreeHarness.sol";
import {bound, vm} from "./utils/Vm.sol";

/// @title QuoteTree: a quote element and its path against a batch's quotes_root
/// @notice The pinned roots and paths are circuits/merkle.py's (merkle_root, merkle_path); the fuzz
///     test builds whole trees level by level here, the other way round from rootFromPath's walk up
///     one path. Each refusal is a typed error and leaves the harness's count of accepted paths as it was.
contract QuoteTreeTest {
    uint256 private constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    // circuits.merkle.merkle_root([11, 22, 33], 2) and merkle_path(.., 2) / (.., 1)
    uint256 private constant ROOT3 = 8792274498673300690479958056678978752202785132290421867887143978551410623258;
    uint256 private constant H_11_22 = 1827964288545250284843299140819229108810328753457865284098308150451142241746;
    uint256 private constant H_33_0 = 16626418611698668768430538620899182463716133495512882582696903579878855459716;
    // merkle_root([101, 202, 303, 404, 505], 3) and merkle_path(.., 4): 0, Poseidon(0, 0), the left half
    uint256 private constant ROOT5 = 743037266671787939408708075483242860137963000635937898018892071829606308236;
    uint256 private constant H_0_0 = 14744269619966411208579211824598458697587494354926760081771325075741142829156;
    uint256 private constant LEFT5 = 20097766867413582545561325041092778290654626220178883735673734029859308445526;

    PoseidonT3 private poseidon;
    QuoteTreeHarness private tree;

    function setUp() public {
        poseidon = new PoseidonT3();
        tree = new QuoteTreeHarness(poseidon);
    }

    function path2(uint256 a, uint256 b) private pure returns (uint256[] memory p) {
        p = new uint256[](2);
        (p[0], p[1]) = (a, b);
    }

    function refuse(uint256 root, uint256 depth, uint256 element, uint256 index, uint256[] memory path, bytes memory err)
        private
    {
        uint256 before = tree.accepted();
        (bool ok, bytes memory returned) =
            address(tree).call(abi.encodeCall(QuoteTreeHarness.accept, (root, depth, element, index, path)));
        vm.assertFalse(ok, "refused");
        vm.assertEq(keccak256(returned), keccak256(err), "the expected error");
        vm.assertEq(tree.accepted(), before, "nothing accepted");
    }

    function test_pinnedPathsOfPythonsTreeAreAccepted() public {
        tree.accept(ROOT3, 2, 33, 2, path2(0, H_11_22));
        tree.accept(ROOT3, 2, 22, 1, path2(11, H_33_0));
        uint256[] memory p = new uint256[](3);
        (p[0], p[1], p[2]) = (0, H_0_0, LEFT5);
        tree.accept(ROOT5, 3, 505, 4, p);
        vm.assertEq(tree.accepted(), 3, "three members");
        // depth 0: the root is the one element, shown with no sibling
        tree.accept(77, 0, 77, 0, new uint256[](0));
    }

    function test_aWrongSiblingIsRefused() public {
        uint256 computed = tree.rootFromPath(33, 2, path2(1, H_11_22));
        vm.assertTrue(computed != ROOT3, "another root");
        refuse(ROOT3, 2, 33, 2, path2(1, H_11_22),
            abi.encodeWithSelector(QuoteTree.QuoteNotInBatch.selector, 2, ROOT3, computed));
        computed = tree.rootFromPath(33, 2, path2(0, H_11_22 + 1));
        refuse(ROOT3, 2, 33, 2, path2(0, H_11_22 + 1),
            abi.encodeWithSelector(QuoteTree.QuoteNotInBatch.selector, 2, ROOT3, computed));
    }

    function test_aWrongIndexIsRefused() public {
        // leaf 2's element and path shown as leaf 3 (the padding leaf's place) or leaf 0
        uint256[2] memory wrong = [uint256(3), 0];
        for (uint256 i = 0; i < wrong.length; ++i) {
            uint256 computed = tree.rootFromPath(33, wrong[i], path2(0, H_11_22));
            refuse(ROOT3, 2, 33, wrong[i], path2(0, H_11_22),
                abi.encodeWithSelector(QuoteTree.QuoteNotInBatch.selector, wrong[i], ROOT3, computed));
        }
        // an index beyond the tree: its high bits would be read by no level
        refuse(ROOT3, 2, 33, 6, path2(0, H_11_22), abi.encodeWithSelector(QuoteTree.QuoteLeafOutOfRange.selector, 6, 2));
    }

    function test_aWrongElementIsRefused() public {
        uint256 computed = tree.rootFromPath(34, 2, path2(0, H_11_22));
        refuse(ROOT3, 2, 34, 2, path2(0, H_11_22),
            abi.encodeWithSelector(QuoteTree.QuoteNotInBatch.selector, 2, ROOT3, computed));
        // 33 + r hashes as 33 does, but decodes to another quote: refused before hashing
        refuse(ROOT3, 2, 33 + R, 2, path2(0, H_11_22),
            abi.encodeWithSelector(QuoteTree.QuoteElementNotInField.selector, 33 + R));
    }

    function test_aPathOfAnotherLengthIsRefused() public {
        uint256[] memory short_ = new uint256[](1);
        short_[0] = 0;
        refuse(ROOT3, 2, 33, 2, short_, abi.encodeWithSelector(QuoteTree.QuotePathLengthMismatch.selector, 1, 2));
        uint256[] memory long_ = new uint256[](3);
        (long_[0], long_[1]) = (0, H_11_22);
        refuse(ROOT3, 2, 33, 2, long_, abi.encodeWithSelector(QuoteTree.QuotePathLengthMismatch.selector, 3, 2));
    }

    /// @notice Any tree of up to 8 leaves, built level by level: every leaf's own path is accepted,
    ///     and the path of its neighbour is refused.
    function testFuzz_everyLeafOfABuiltTreeIsAMember(uint256[8] memory seeds, uint8 count) public {
        uint256 n = bound(count, 1, 8);
        uint256 depth = 0;
        while ((uint256(1) << depth) < n) ++depth;
        uint256 width = uint256(1) << depth;
        uint256[][] memory levels = new uint256[][](depth + 1);
        levels[0] = new uint256[](width); // padding leaves stay 0
        for (uint256 i = 0; i < n; ++i) {
            levels[0][i] = seeds[i] % R;
        }
        for (uint256 l = 1; l <= depth; ++l) {
            levels[l] = new uint256[](width >> l);
            for (uint256 i = 0; i < levels[l].length; ++i) {
                levels[l][i] = poseidon.hash(levels[l - 1][2 * i], levels[l - 1][2 * i + 1]);
            }
        }
        uint256 root = levels[depth][0];
        for (uint256 i = 0; i < n; ++i) {
            uint256[] memory p = new uint256[](depth);
            for (uint256 l = 0; l < depth; ++l) {
                p[l] = levels[l][(i >> l) ^ 1];
            }
            tree.accept(root, depth, levels[0][i], i, p);
            if (depth > 0 && levels[0][i] != levels[0][i ^ 1]) {
                uint256 computed = tree.rootFromPath(levels[0][i], i ^ 1, p);
                refuse(root, depth, levels[0][i], i ^ 1, p,
                    abi.encodeWithSelector(QuoteTree.QuoteNotInBatch.selector, i ^ 1, root, computed));
            }
        }
        vm.assertEq(tree.accepted(), n, "every leaf accepted once");
    }
}
