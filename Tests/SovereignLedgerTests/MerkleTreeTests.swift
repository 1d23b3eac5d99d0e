import SovereignLedger
import Testing

/// Every tree size from 1 to 300: every inclusion proof, consistency proofs for all pairs up to 100 and
/// a sample beyond, checked by `MerkleVerifier` and by the independent Python verifier, plus tampered
/// proofs that both must reject, and roots against a naive recursive MTH.
struct MerkleTreeTests {
    static let maximumSize = 300
    static let leaves: [TreeHash] = (0..<maximumSize).map { MerkleHash.leaf(Array("leaf \($0)".utf8)) }
    static let tree = MerkleTree(leafHashes: leaves)

    /// MTH(D[n]) straight from RFC 9162 §2.1.1, recursively, over the leaf hashes.
    static func naiveRoot(_ leaves: ArraySlice<TreeHash>) -> TreeHash {
        switch leaves.count {
        case 0: return MerkleHash.empty
        case 1: return leaves.first!
        default:
            var split = 1
            while split * 2 < leaves.count { split *= 2 }
            let start = leaves.startIndex
            return MerkleHash.node(
                naiveRoot(leaves[start..<start + split]),
                naiveRoot(leaves[(start + split)...])
            )
        }
    }

    /// The frontier's root equals the tree's at every size it passes, including the empty tree.
    @Test func frontierRootsEqualTheTreesAtEverySize() throws {
        var frontier = MerkleFrontier()
        #expect(frontier.root == MerkleHash.empty)
        for (index, leaf) in Self.leaves.enumerated() {
            frontier.append(leaf)
            #expect(frontier.size == index + 1)
            #expect(frontier.root == (try Self.tree.root(size: index + 1)), "size \(index + 1)")
        }
        #expect(frontier.root == Self.naiveRoot(Self.leaves[...]))
    }

    /// The consistency pairs checked: all with `to` ≤ 100, then a fixed sample of `from` for each larger `to`.
    static let consistencyPairs: [(from: Int, to: Int)] = {
        var pairs: [(Int, Int)] = []
        for to in 0...100 {
            for from in 0...to { pairs.append((from, to)) }
        }
        for to in 101...maximumSize {
            var power = 1
            while power * 2 < to { power *= 2 }
            let sample: Set = [
                0, 1, 2, 3, 7, 64, power - 1, power, power + 1, to / 3, to / 2, to - 2, to - 1, to, (to * 7919) % to,
            ]
            for from in sample.sorted() where from >= 0 && from <= to { pairs.append((from, to)) }
        }
        return pairs
    }()

    @Test func rootMatchesNaiveMTHForEverySize() throws {
        var batch = IndependentVerifier.Batch()
        for size in 0...Self.maximumSize {
            let root = try Self.tree.root(size: size)
            #expect(root == Self.naiveRoot(Self.leaves[..<size]), "size \(size)")
            batch.roots.append(.init(leaves: Self.leaves[..<size].map(\.hex), root: root.hex))
        }
        #expect(Self.tree.root == Self.naiveRoot(Self.leaves[...]))
        // And against the Python MTH, written from the RFC.
        let verdicts = try IndependentVerifier.run(batch)
        let wrong = zip(0...Self.maximumSize, verdicts.roots).filter { !$1 }.map(\.0)
        #expect(wrong.count == 0, "\(wrong.count) cases; Python computes other roots for sizes \(wrong.prefix(10))")
    }

    @Test func appendingBuildsTheSameTree() throws {
        var tree = MerkleTree()
        for (index, leaf) in Self.leaves.enumerated() {
            tree.append(leaf)
            #expect(tree.size == index + 1)
            #expect(tree.leafHash(at: index) == leaf)
            #expect(tree.root == (try Self.tree.root(size: index + 1)), "size \(index + 1)")
        }
        for size in stride(from: 1, through: Self.maximumSize, by: 37) {
            for index in 0..<size {
                #expect(
                    try tree.inclusionProof(index: index, size: size)
                        == Self.tree.inclusionProof(index: index, size: size)
                )
            }
            for from in 0...size {
                #expect(
                    try tree.consistencyProof(from: from, to: size) == Self.tree.consistencyProof(from: from, to: size)
                )
            }
        }
    }

    @Test func everyInclusionProofVerifies() throws {
        var batch = IndependentVerifier.Batch()
        var failures: [String] = []
        for size in 1...Self.maximumSize {
            let root = try Self.tree.root(size: size)
            for index in 0..<size {
                let proof = try Self.tree.inclusionProof(index: index, size: size)
                // An audit path has one hash per level below the root, ⌈log₂ size⌉ at most.
                if proof.count > (size - 1).bitWidth - (size - 1).leadingZeroBitCount {
                    failures.append("leaf \(index) of \(size): \(proof.count) hashes")
                }
                let leaf = Self.leaves[index]
                if !MerkleVerifier.verifyInclusion(leafHash: leaf, index: index, size: size, proof: proof, root: root) {
                    failures.append("leaf \(index) of \(size)")
                }
                batch.inclusion.append(.init(leaf: leaf, index: index, size: size, proof: proof, root: root))
            }
        }
        #expect(batch.inclusion.count == Self.maximumSize * (Self.maximumSize + 1) / 2)
        #expect(failures.count == 0, "\(failures.count) cases; MerkleVerifier rejected: \(failures.prefix(10))")
        let verdicts = try IndependentVerifier.run(batch)
        let rejected = zip(batch.inclusion, verdicts.inclusion).filter { !$1 }.map {
            "leaf \($0.0.index) of \($0.0.size)"
        }
        #expect(rejected.count == 0, "\(rejected.count) cases; Python rejected: \(rejected.prefix(10))")
    }

    @Test func consistencyProofsVerify() throws {
        var batch = IndependentVerifier.Batch()
        var failures: [String] = []
        for (from, to) in Self.consistencyPairs {
            let proof = try Self.tree.consistencyProof(from: from, to: to)
            if from == 0 || from == to {
                #expect(proof.isEmpty, "\(from) → \(to)")
            }
            let old = try Self.tree.root(size: from)
            let new = try Self.tree.root(size: to)
            let verified = MerkleVerifier.verifyConsistency(
                from: from,
                to: to,
                proof: proof,
                oldRoot: old,
                newRoot: new
            )
            if from == 0 {
                // A proof from the empty tree checks nothing, so both verifiers refuse it.
                #expect(!verified, "\(from) → \(to)")
                continue
            }
            if !verified { failures.append("\(from) → \(to)") }
            batch.consistency.append(.init(from: from, to: to, proof: proof, oldRoot: old, newRoot: new))
        }
        #expect(batch.consistency.count > 7_400)
        #expect(failures.count == 0, "\(failures.count) cases; MerkleVerifier rejected: \(failures.prefix(10))")
        let verdicts = try IndependentVerifier.run(batch)
        let rejected = zip(batch.consistency, verdicts.consistency).filter { !$1 }.map {
            "\($0.0.first) → \($0.0.second)"
        }
        #expect(rejected.count == 0, "\(rejected.count) cases; Python rejected: \(rejected.prefix(10))")
    }

    /// A proof altered in any way, or checked against another leaf position or tree size, must fail.
    ///
    /// The wrong-size cases pair the proof with that other size's real root: the RFC's walk does not
    /// by itself bind the size (the root does), and claiming another tree's root is the realistic attack.
    @Test func tamperedInclusionProofsAreRejected() throws {
        var batch = IndependentVerifier.Batch()
        var labels: [String] = []
        func add(_ label: String, leaf: TreeHash, index: Int, size: Int, proof: [TreeHash], root: TreeHash) {
            labels.append(label)
            batch.inclusion.append(.init(leaf: leaf, index: index, size: size, proof: proof, root: root))
            #expect(
                !MerkleVerifier.verifyInclusion(leafHash: leaf, index: index, size: size, proof: proof, root: root),
                "MerkleVerifier accepted \(label)"
            )
        }
        for size in 1...70 {
            let root = try Self.tree.root(size: size)
            for index in 0..<size {
                let proof = try Self.tree.inclusionProof(index: index, size: size)
                let leaf = Self.leaves[index]
                let name = "leaf \(index) of \(size)"
                for position in proof.indices {
                    for byte in [0, 31] {
                        var bytes = proof[position].bytes
                        bytes[byte] ^= 0x01
                        var flipped = proof
                        flipped[position] = TreeHash(bytes: bytes)!
                        add(
                            "\(name), proof[\(position)] byte \(byte) flipped",
                            leaf: leaf,
                            index: index,
                            size: size,
                            proof: flipped,
                            root: root
                        )
                    }
                }
                if !proof.isEmpty {
                    add(
                        "\(name), truncated",
                        leaf: leaf,
                        index: index,
                        size: size,
                        proof: Array(proof.dropLast()),
                        root: root
                    )
                    add(
                        "\(name), first hash dropped",
                        leaf: leaf,
                        index: index,
                        size: size,
                        proof: Array(proof.dropFirst()),
                        root: root
                    )
                }
                add("\(name), extended", leaf: leaf, index: index, size: size, proof: proof + [root], root: root)
                add("\(name), preceded", leaf: leaf, index: index, size: size, proof: [leaf] + proof, root: root)
                if index + 1 < size {
                    add(
                        "\(name), claimed as leaf \(index + 1)",
                        leaf: leaf,
                        index: index + 1,
                        size: size,
                        proof: proof,
                        root: root
                    )
                }
                if index > 0 {
                    add(
                        "\(name), claimed as leaf \(index - 1)",
                        leaf: leaf,
                        index: index - 1,
                        size: size,
                        proof: proof,
                        root: root
                    )
                }
                add("\(name), claimed past the end", leaf: leaf, index: size, size: size, proof: proof, root: root)
                add(
                    "\(name), claimed in size \(size + 1)",
                    leaf: leaf,
                    index: index,
                    size: size + 1,
                    proof: proof,
                    root: try Self.tree.root(size: size + 1)
                )
                if index < size - 1 {
                    add(
                        "\(name), claimed in size \(size - 1)",
                        leaf: leaf,
                        index: index,
                        size: size - 1,
                        proof: proof,
                        root: try Self.tree.root(size: size - 1)
                    )
                }
                add("\(name), size doubled", leaf: leaf, index: index, size: size * 2, proof: proof, root: root)
                add(
                    "\(name), another leaf",
                    leaf: Self.leaves[(index + 1) % Self.maximumSize],
                    index: index,
                    size: size,
                    proof: proof,
                    root: root
                )
                add(
                    "\(name), root of the empty tree",
                    leaf: leaf,
                    index: index,
                    size: size,
                    proof: proof,
                    root: MerkleHash.empty
                )
            }
        }
        let verdicts = try IndependentVerifier.run(batch)
        let accepted = zip(labels, verdicts.inclusion).filter { $1 }.map(\.0)
        #expect(accepted.count == 0, "\(accepted.count) cases; Python accepted: \(accepted.prefix(10))")
    }

    @Test func tamperedConsistencyProofsAreRejected() throws {
        var batch = IndependentVerifier.Batch()
        var labels: [String] = []
        func add(_ label: String, from: Int, to: Int, proof: [TreeHash], old: TreeHash, new: TreeHash) {
            labels.append(label)
            batch.consistency.append(.init(from: from, to: to, proof: proof, oldRoot: old, newRoot: new))
            #expect(
                !MerkleVerifier.verifyConsistency(from: from, to: to, proof: proof, oldRoot: old, newRoot: new),
                "MerkleVerifier accepted \(label)"
            )
        }
        for to in 2...70 {
            let new = try Self.tree.root(size: to)
            for from in 1..<to {
                let old = try Self.tree.root(size: from)
                let proof = try Self.tree.consistencyProof(from: from, to: to)
                let name = "\(from) → \(to)"
                for position in proof.indices {
                    var bytes = proof[position].bytes
                    bytes[position % 32] ^= 0x10
                    var flipped = proof
                    flipped[position] = TreeHash(bytes: bytes)!
                    add("\(name), proof[\(position)] flipped", from: from, to: to, proof: flipped, old: old, new: new)
                }
                add("\(name), empty proof", from: from, to: to, proof: [], old: old, new: new)
                add("\(name), truncated", from: from, to: to, proof: Array(proof.dropLast()), old: old, new: new)
                add("\(name), extended", from: from, to: to, proof: proof + [new], old: old, new: new)
                add("\(name), preceded", from: from, to: to, proof: [old] + proof, old: old, new: new)
                add("\(name), swapped roots", from: from, to: to, proof: proof, old: new, new: old)
                add(
                    "\(name), wrong old root",
                    from: from,
                    to: to,
                    proof: proof,
                    old: MerkleHash.leaf(Array("wrong".utf8)),
                    new: new
                )
                add(
                    "\(name), wrong new root",
                    from: from,
                    to: to,
                    proof: proof,
                    old: old,
                    new: MerkleHash.leaf(Array("wrong".utf8))
                )
                if proof.count > 1 {
                    add("\(name), reversed", from: from, to: to, proof: Array(proof.reversed()), old: old, new: new)
                }
                if from > 1 {
                    add(
                        "\(name), claimed from \(from - 1)",
                        from: from - 1,
                        to: to,
                        proof: proof,
                        old: try Self.tree.root(size: from - 1),
                        new: new
                    )
                }
                if from + 1 < to {
                    add(
                        "\(name), claimed from \(from + 1)",
                        from: from + 1,
                        to: to,
                        proof: proof,
                        old: try Self.tree.root(size: from + 1),
                        new: new
                    )
                }
                add(
                    "\(name), claimed to \(to + 1)",
                    from: from,
                    to: to + 1,
                    proof: proof,
                    old: old,
                    new: try Self.tree.root(size: to + 1)
                )
                if to - 1 > from {
                    add(
                        "\(name), claimed to \(to - 1)",
                        from: from,
                        to: to - 1,
                        proof: proof,
                        old: old,
                        new: try Self.tree.root(size: to - 1)
                    )
                }
                add("\(name), sizes swapped", from: to, to: from, proof: proof, old: new, new: old)
            }
        }
        let verdicts = try IndependentVerifier.run(batch)
        let accepted = zip(labels, verdicts.consistency).filter { $1 }.map(\.0)
        #expect(accepted.count == 0, "\(accepted.count) cases; Python accepted: \(accepted.prefix(10))")
    }

    @Test func argumentsOutsideTheTreeThrow() {
        let tree = MerkleTree(leafHashes: Array(Self.leaves.prefix(10)))
        #expect(throws: LedgerError.self) { try tree.root(size: 11) }
        #expect(throws: LedgerError.self) { try tree.root(size: -1) }
        do {
            _ = try tree.inclusionProof(index: 12, size: 10)
            Issue.record("an inclusion proof for leaf 12 of 10 was made")
        } catch {
            #expect(error.code == .outOfRange)
            #expect(error.description == "index 12 is outside a tree of size 10")
        }
        do {
            _ = try tree.inclusionProof(index: 0, size: 11)
            Issue.record("an inclusion proof in a tree larger than the tree was made")
        } catch {
            #expect(error.description == "tree size 11 is outside a tree of size 10")
        }
        do {
            _ = try tree.consistencyProof(from: 5, to: 4)
            Issue.record("a consistency proof from 5 to 4 was made")
        } catch {
            #expect(error.description == "a consistency proof needs 0 ≤ from ≤ to, found from 5 and to 4")
        }
        #expect(throws: LedgerError.self) { try tree.consistencyProof(from: 1, to: 11) }
        #expect(throws: LedgerError.self) { try tree.inclusionProof(index: -1, size: 5) }
    }
}
