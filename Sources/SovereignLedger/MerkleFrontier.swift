/// The right edge of an append-only Merkle tree (RFC 9162 §2.1): the roots of the perfect subtrees that the
/// tree's size decomposes into, one per set bit of the size, largest first.
///
/// It is all a reader needs to know the root of every prefix it passes while streaming the leaves once, in
/// O(log *n*) memory: ``MerkleTree`` keeps every level for proofs, this keeps only what the next append and
/// the root need.
public struct MerkleFrontier: Sendable {
    /// The perfect subtrees' roots, largest (leftmost) first; subtree *i*'s size is the *i*-th highest set bit.
    private var subtrees: [TreeHash] = []
    /// The number of leaves appended.
    public private(set) var size = 0

    /// An empty tree.
    public init() {}

    /// Appends one leaf, merging the perfect subtrees it completes.
    /// - Complexity: Amortised O(1) node hashes (at most log₂ *n*).
    public mutating func append(_ leafHash: TreeHash) {
        var hash = leafHash
        var carry = size
        while carry & 1 == 1 {
            hash = MerkleHash.node(subtrees.removeLast(), hash)
            carry >>= 1
        }
        subtrees.append(hash)
        size += 1
    }

    /// MTH of the leaves so far: the subtrees folded from the right, as the RFC's split at the largest power
    /// of two below the size gives; ``MerkleHash/empty`` with no leaves.
    /// - Complexity: O(log *n*) node hashes.
    public var root: TreeHash {
        guard var hash = subtrees.last else { return MerkleHash.empty }
        for subtree in subtrees.dropLast().reversed() { hash = MerkleHash.node(subtree, hash) }
        return hash
    }
}
