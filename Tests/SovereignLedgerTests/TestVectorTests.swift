import SovereignLedger
import Testing

/// The RFC 6962 test vectors published with Certificate Transparency: google/certificate-transparency's
/// `merkle_tree_test.cc`, carried on in transparency-dev/merkle as `testonly/constants.go` (leaves, node
/// hashes and roots for every size) and `proof/verify_test.go` (inclusion and consistency proofs).
struct TestVectorTests {
    /// The eight leaf inputs (hex), `testonly.LeafInputs()`.
    static let leafInputs = [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ]

    /// Roots by tree size 0 ... 8, `testonly.RootHashes()`.
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    /// Leaf hashes, level 0 of `testonly.NodeHashes()`.
    static let leafHashes = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ]

    struct InclusionVector: Sendable, CustomTestStringConvertible {
        /// 0-based here; the Go file lists leaves 1-based.
        var index: Int
        var size: Int
        var proof: [String]
        var testDescription: String { "leaf \(index) of \(size)" }
    }

    struct ConsistencyVector: Sendable, CustomTestStringConvertible {
        var from: Int
        var to: Int
        var proof: [String]
        var testDescription: String { "\(from) → \(to)" }
    }

    /// `inclusionProofs` in `proof/verify_test.go` (its {0, 0} entry is an invalid path, tested below).
    static let inclusionVectors = [
        InclusionVector(index: 0, size: 1, proof: []),
        InclusionVector(
            index: 0,
            size: 8,
            proof: [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        ),
        InclusionVector(
            index: 5,
            size: 8,
            proof: [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        ),
        InclusionVector(
            index: 2,
            size: 3,
            proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]
        ),
        InclusionVector(
            index: 1,
            size: 5,
            proof: [
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        ),
    ]

    /// `consistencyProofs` in `proof/verify_test.go`.
    static let consistencyVectors = [
        ConsistencyVector(from: 1, to: 1, proof: []),
        ConsistencyVector(
            from: 1,
            to: 8,
            proof: [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        ),
        ConsistencyVector(
            from: 6,
            to: 8,
            proof: [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        ),
        ConsistencyVector(
            from: 2,
            to: 5,
            proof: [
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        ),
        ConsistencyVector(
            from: 6,
            to: 7,
            proof: [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        ),
    ]

    static func hash(_ hex: String) -> TreeHash { TreeHash(hex: hex)! }

    static func tree() -> MerkleTree {
        MerkleTree(leafHashes: leafInputs.map { MerkleHash.leaf(hexBytes($0)) })
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    @Test func leafHashesMatch() {
        for (input, expected) in zip(Self.leafInputs, Self.leafHashes) {
            #expect(MerkleHash.leaf(Self.hexBytes(input)).hex == expected, "leaf \(input)")
        }
        #expect(MerkleHash.empty.hex == Self.roots[0])
    }

    @Test func rootForEverySize() throws {
        let tree = Self.tree()
        for size in 0...8 {
            #expect(try tree.root(size: size).hex == Self.roots[size], "size \(size)")
        }
        var appended = MerkleTree()
        #expect(appended.root == MerkleHash.empty)
        for (size, input) in Self.leafInputs.enumerated() {
            appended.append(MerkleHash.leaf(Self.hexBytes(input)))
            #expect(appended.root.hex == Self.roots[size + 1], "after appending leaf \(size)")
        }
    }

    @Test(arguments: inclusionVectors)
    func inclusionProof(_ vector: InclusionVector) throws {
        let tree = Self.tree()
        let proof = try tree.inclusionProof(index: vector.index, size: vector.size)
        #expect(proof.map(\.hex) == vector.proof)
        #expect(
            MerkleVerifier.verifyInclusion(
                leafHash: Self.hash(Self.leafHashes[vector.index]),
                index: vector.index,
                size: vector.size,
                proof: vector.proof.map(Self.hash),
                root: Self.hash(Self.roots[vector.size])
            )
        )
    }

    @Test(arguments: consistencyVectors)
    func consistencyProof(_ vector: ConsistencyVector) throws {
        let tree = Self.tree()
        let proof = try tree.consistencyProof(from: vector.from, to: vector.to)
        #expect(proof.map(\.hex) == vector.proof)
        #expect(
            MerkleVerifier.verifyConsistency(
                from: vector.from,
                to: vector.to,
                proof: vector.proof.map(Self.hash),
                oldRoot: Self.hash(Self.roots[vector.from]),
                newRoot: Self.hash(Self.roots[vector.to])
            )
        )
    }

    /// `TestVerifyInclusion`'s probes: nothing is included in an empty tree or past its end.
    @Test func inclusionOutsideTheTreeFails() {
        let some = Self.hash("abacaba000000000000000000000000000000000000000000060061e00123456")
        for (index, size) in [(0, 0), (0, 1), (1, 0), (2, 1)] {
            #expect(
                !MerkleVerifier.verifyInclusion(
                    leafHash: some,
                    index: index,
                    size: size,
                    proof: [],
                    root: MerkleHash.empty
                )
            )
        }
    }

    /// `TestVerifyConsistency`'s table of edge cases.
    @Test func consistencyEdgeCases() {
        let root1 = MerkleHash.leaf([1])
        let root2 = MerkleHash.leaf([2])
        let empty = MerkleHash.empty
        // (from, to, old, new, proof, holds)
        let cases: [(Int, Int, TreeHash, TreeHash, [TreeHash], Bool)] = [
            (0, 0, root1, root2, [], false),
            (1, 1, root1, root2, [], false),
            (0, 0, empty, empty, [], false),
            (0, 1, empty, root2, [], false),
            (1, 1, root2, root2, [], true),
            (1, 0, root1, root2, [], false),
            (2, 1, root1, root2, [], false),
            (1, 2, root1, root2, [], false),
            (0, 0, empty, root2, [], false),
            (1, 1, empty, root2, [], false),
            (0, 0, empty, empty, [empty], false),
            (0, 1, empty, empty, [empty], false),
            (1, 1, empty, empty, [empty], false),
        ]
        for (from, to, old, new, proof, holds) in cases {
            #expect(
                MerkleVerifier.verifyConsistency(from: from, to: to, proof: proof, oldRoot: old, newRoot: new) == holds,
                "\(from) → \(to)"
            )
        }
    }

    /// The two published cases that a verifier accepting proofs from the empty tree gets wrong: from size 0
    /// an empty proof "proves" any new root, and 0 → 0 two equal roots of a non-empty tree. The reference
    /// verifier refuses every proof from size 0, and so do both of ours.
    @Test func consistencyFromTheEmptyTreeIsRefused() throws {
        let anyRoot = Self.hash(Self.roots[7])
        let cases: [(Int, Int, TreeHash, TreeHash)] = [
            (0, 7, MerkleHash.empty, Self.hash("ff" + String(Self.roots[7].dropFirst(2)))),
            (0, 0, anyRoot, anyRoot),
        ]
        var batch = IndependentVerifier.Batch()
        for (from, to, old, new) in cases {
            #expect(!MerkleVerifier.verifyConsistency(from: from, to: to, proof: [], oldRoot: old, newRoot: new))
            batch.consistency.append(.init(from: from, to: to, proof: [], oldRoot: old, newRoot: new))
        }
        #expect(try IndependentVerifier.run(batch).consistency == [false, false])
    }

    /// The same vectors through the independent Python verifier.
    @Test func independentVerifierAgrees() throws {
        var batch = IndependentVerifier.Batch()
        for vector in Self.inclusionVectors {
            batch.inclusion.append(
                .init(
                    leaf: Self.hash(Self.leafHashes[vector.index]),
                    index: vector.index,
                    size: vector.size,
                    proof: vector.proof.map(Self.hash),
                    root: Self.hash(Self.roots[vector.size])
                )
            )
        }
        for vector in Self.consistencyVectors {
            batch.consistency.append(
                .init(
                    from: vector.from,
                    to: vector.to,
                    proof: vector.proof.map(Self.hash),
                    oldRoot: Self.hash(Self.roots[vector.from]),
                    newRoot: Self.hash(Self.roots[vector.to])
                )
            )
        }
        for size in 0...8 {
            batch.roots.append(.init(leaves: Array(Self.leafHashes.prefix(size)), root: Self.roots[size]))
        }
        let verdicts = try IndependentVerifier.run(batch)
        #expect(verdicts.inclusion == Array(repeating: true, count: batch.inclusion.count))
        #expect(verdicts.consistency == Array(repeating: true, count: batch.consistency.count))
        #expect(verdicts.roots == Array(repeating: true, count: batch.roots.count))
    }
}
