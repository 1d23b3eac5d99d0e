/// An RFC 9162 inclusion proof as the API answers it and `sovereign ledger prove inclusion` prints it: the entry's
/// index, the tree size, the leaf hash, the root and the audit path, hashes in lowercase hex.
public struct InclusionProof: Sendable, Hashable, Encodable {
    public let index: Int
    public let size: Int
    public let leafHash: TreeHash
    public let root: TreeHash
    public let proof: [TreeHash]

    /// The proof for entry `index` in the tree of its first `size` entries.
    public init(_ tree: MerkleTree, index: Int, size: Int) throws(LedgerError) {
        proof = try tree.inclusionProof(index: index, size: size)
        root = try tree.root(size: size)
        leafHash = tree.leafHash(at: index)
        self.index = index
        self.size = size
    }

    enum CodingKeys: String, CodingKey { case index, size, leafHash, root, proof }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(index, forKey: .index)
        try container.encode(size, forKey: .size)
        try container.encode(leafHash.hex, forKey: .leafHash)
        try container.encode(root.hex, forKey: .root)
        try container.encode(proof.map(\.hex), forKey: .proof)
    }
}

/// An RFC 9162 consistency proof as the API answers it and `sovereign ledger prove consistency` prints it: the two
/// sizes, their roots and the proof, hashes in lowercase hex.
public struct ConsistencyProof: Sendable, Hashable, Encodable {
    public let from: Int
    public let to: Int
    public let oldRoot: TreeHash
    public let newRoot: TreeHash
    public let proof: [TreeHash]

    /// The proof that the tree of the first `from` entries is a prefix of the tree of the first `to`.
    public init(_ tree: MerkleTree, from: Int, to: Int) throws(LedgerError) {
        proof = try tree.consistencyProof(from: from, to: to)
        oldRoot = try tree.root(size: from)
        newRoot = try tree.root(size: to)
        self.from = from
        self.to = to
    }

    enum CodingKeys: String, CodingKey { case from, to, oldRoot, newRoot, proof }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(oldRoot.hex, forKey: .oldRoot)
        try container.encode(newRoot.hex, forKey: .newRoot)
        try container.encode(proof.map(\.hex), forKey: .proof)
    }
}
