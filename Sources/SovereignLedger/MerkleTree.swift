/// An append-only Merkle tree over leaf hashes, as RFC 9162 §2.1 defines it, held in memory.
///
/// The tree keeps the hash of every complete (perfect) subtree, level by level: level 0 is the leaf
/// hashes, and entry *i* of level *k* is the hash of leaves `i·2ᵏ ..< (i+1)·2ᵏ`. Every subtree that
/// the RFC's recursions visit on their left side is such an aligned power-of-two range, so its hash
/// is a lookup; only the ragged right edge is hashed on demand. So the root of any prefix of the
/// tree, and any inclusion or consistency proof, costs O(log² *n*) hashes at worst instead of O(*n*),
/// and the whole store is under 2*n* hashes (64 bytes per leaf).
///
/// ```swift
/// var tree = MerkleTree()
/// tree.append(MerkleHash.leaf(entryBytes))
/// let proof = try tree.inclusionProof(index: 0, size: tree.size)
/// ```
public struct MerkleTree: Sendable {
    /// `levels[k][i]` is the hash of the perfect subtree over leaves `i << k ..< (i + 1) << k`.
    private var levels: [[TreeHash]]

    /// Makes an empty tree.
    public init() {
        levels = [[]]
    }

    /// Builds a tree over the given leaf hashes, in order.
    ///
    /// - Parameter leafHashes: The leaf hashes (``MerkleHash/leaf(_:)`` of each entry).
    /// - Complexity: O(*n*): *n* − 1 node hashes, once each.
    public init(leafHashes: [TreeHash]) {
        levels = [leafHashes]
        var below = leafHashes
        while below.count >= 2 {
            let pairs = below.count / 2
            let level = [TreeHash](unsafeUninitializedCapacity: pairs) { buffer, initialized in
                below.withUnsafeBufferPointer { children in
                    for index in 0..<pairs {
                        (buffer.baseAddress! + index).initialize(
                            to: MerkleHash.node(children[2 * index], children[2 * index + 1])
                        )
                    }
                }
                initialized = pairs
            }
            levels.append(level)
            below = level
        }
    }

    /// The number of leaves.
    public var size: Int { levels[0].count }

    /// Appends one leaf, and the hash of every perfect subtree it completes.
    ///
    /// - Parameter leafHash: The new leaf's hash (``MerkleHash/leaf(_:)`` of the entry).
    /// - Complexity: Amortised O(1): on average one node hash per append (at most log₂ *n*).
    public mutating func append(_ leafHash: TreeHash) {
        levels[0].append(leafHash)
        var level = 0
        while levels[level].count % 2 == 0 {
            let count = levels[level].count
            let parent = MerkleHash.node(levels[level][count - 2], levels[level][count - 1])
            if level + 1 == levels.count { levels.append([]) }
            levels[level + 1].append(parent)
            level += 1
        }
    }

    /// The hash of leaf `index`.
    ///
    /// - Parameter index: A leaf index in `0 ..< size`; anything else is a programming error and traps,
    ///   as an array subscript does.
    /// - Returns: The leaf hash as appended.
    /// - Complexity: O(1).
    public func leafHash(at index: Int) -> TreeHash {
        precondition(index >= 0 && index < size, "leaf index \(index) is outside a tree of size \(size)")
        return levels[0][index]
    }

    /// The root of the whole tree: ``MerkleHash/empty`` when there are no leaves.
    ///
    /// - Complexity: O(log *n*).
    public var root: TreeHash { hash(start: 0, count: size) }

    /// The root of the tree made of the first `size` leaves: MTH(D[0:size]) in RFC 9162 §2.1.1.
    ///
    /// - Parameter size: How many leaves, from the first; any value in `0 ... self.size`.
    /// - Returns: The root hash; ``MerkleHash/empty`` for size 0.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/outOfRange``) when `size` is negative or larger
    ///   than the tree.
    /// - Complexity: O(log *n*): one lookup per set bit of `size`, one node hash between each.
    public func root(size: Int) throws(LedgerError) -> TreeHash {
        try checkSize(size)
        return hash(start: 0, count: size)
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves: PATH(index, D[0:size])
    /// in RFC 9162 §2.1.3.1, siblings ordered from the leaf up.
    ///
    /// - Parameters:
    ///   - index: The leaf, in `0 ..< size`.
    ///   - size: The tree size the proof is for, in `1 ... self.size`.
    /// - Returns: The audit path; empty for a tree of one leaf.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/outOfRange``) when `size` is outside the tree or
    ///   `index` is not below `size`.
    /// - Complexity: O(log² *n*) hashes at worst; most siblings are perfect subtrees, which are lookups.
    public func inclusionProof(index: Int, size: Int) throws(LedgerError) -> [TreeHash] {
        try checkSize(size)
        guard index >= 0, index < size else {
            throw LedgerError(.outOfRange, "index \(index) is outside a tree of size \(size)")
        }
        // Walk down from the root; the RFC lists siblings from the leaf up, so reverse at the end.
        var path: [TreeHash] = []
        path.reserveCapacity(Int.bitWidth - size.leadingZeroBitCount)
        var start = 0
        var count = size
        var leaf = index
        while count > 1 {
            let split = Self.largestPowerOfTwo(below: count)
            if leaf < split {
                path.append(hash(start: start + split, count: count - split))
                count = split
            } else {
                path.append(hash(start: start, count: split))
                start += split
                count -= split
                leaf -= split
            }
        }
        path.reverse()
        return path
    }

    /// The consistency proof between the tree of the first `from` leaves and the tree of the first `to`
    /// leaves: PROOF(from, D[0:to]) = SUBPROOF(from, D[0:to], true) in RFC 9162 §2.1.4.1.
    ///
    /// - Parameters:
    ///   - from: The older tree size, in `0 ... to`.
    ///   - to: The newer tree size, in `0 ... self.size`.
    /// - Returns: The proof; empty when `from` is 0 or equals `to`, as the RFC defines.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/outOfRange``) when `to` is outside the tree or
    ///   `from` is negative or larger than `to`.
    /// - Complexity: O(log² *n*) hashes at worst.
    public func consistencyProof(from: Int, to: Int) throws(LedgerError) -> [TreeHash] {
        try checkSize(to)
        guard from >= 0, from <= to else {
            throw LedgerError(
                .outOfRange,
                "a consistency proof needs 0 ≤ from ≤ to, found from \(from) and to \(to)"
            )
        }
        guard from > 0, from < to else { return [] }
        var proof: [TreeHash] = []
        proof.reserveCapacity(Int.bitWidth - to.leadingZeroBitCount + 1)
        var start = 0
        var count = to
        var old = from
        var wholeOldTree = true
        while old != count {
            let split = Self.largestPowerOfTwo(below: count)
            if old <= split {
                proof.append(hash(start: start + split, count: count - split))
                count = split
            } else {
                proof.append(hash(start: start, count: split))
                start += split
                count -= split
                old -= split
                wholeOldTree = false
            }
        }
        // SUBPROOF(m, D[m], b) adds MTH(D[m]) unless this is the old tree itself, which the
        // verifier already holds.
        if !wholeOldTree { proof.append(hash(start: start, count: count)) }
        proof.reverse()
        return proof
    }

    /// ``root(size:)`` for a size already known to be in range.
    func rootUnchecked(size: Int) -> TreeHash {
        precondition(size >= 0 && size <= self.size)
        return hash(start: 0, count: size)
    }

    /// ``consistencyProof(from:to:)`` for sizes already known to be in range.
    func consistencyProofUnchecked(from: Int, to: Int) -> [TreeHash] {
        do {
            return try consistencyProof(from: from, to: to)
        } catch {
            preconditionFailure(error.message)
        }
    }

    /// MTH(D[start ..< start + count]) for the ranges the RFC recursions produce: `start` is a multiple
    /// of the largest power of two below `count`, so the left part is always a stored perfect subtree.
    private func hash(start: Int, count: Int) -> TreeHash {
        if count == 0 { return MerkleHash.empty }
        // Ranges of a power-of-two length at an aligned start are stored.
        if count & (count - 1) == 0 {
            let level = count.trailingZeroBitCount
            return levels[level][start >> level]
        }
        // The largest perfect subtree on the left is stored; the ragged rest recurses (depth ≤ log₂ n,
        // and no allocation, unlike collecting the pieces in an array).
        let level = Int.bitWidth - 1 - count.leadingZeroBitCount
        let left = levels[level][start >> level]
        return MerkleHash.node(left, hash(start: start + (1 << level), count: count - (1 << level)))
    }

    private func checkSize(_ size: Int) throws(LedgerError) {
        guard size >= 0, size <= self.size else {
            throw LedgerError(.outOfRange, "tree size \(size) is outside a tree of size \(self.size)")
        }
    }

    /// The largest power of two strictly below `count` (the RFC's *k*, for `count` ≥ 2).
    private static func largestPowerOfTwo(below count: Int) -> Int {
        1 << (Int.bitWidth - 1 - (count - 1).leadingZeroBitCount)
    }
}
