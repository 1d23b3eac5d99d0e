/// Verifies Merkle proofs exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 describe, step by step, with the
/// RFC's bit-shifting walk. It shares nothing with ``MerkleTree``'s proof generation except the two
/// hash functions, so each checks the other.
public enum MerkleVerifier: Sendable {
    /// Checks that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`
    /// (RFC 9162 §2.1.3.2).
    ///
    /// - Parameters:
    ///   - leafHash: The leaf's hash, ``MerkleHash/leaf(_:)`` of its entry.
    ///   - index: The leaf's index.
    ///   - size: The tree size the proof is for.
    ///   - proof: The inclusion path, from the leaf up.
    ///   - root: The root hash the proof must reach.
    /// - Returns: `true` only when the proof leads exactly to `root` and is neither too short nor too long.
    /// - Complexity: O(*p*) hashes for a proof of *p* hashes.
    public static func verifyInclusion(
        leafHash: TreeHash,
        index: Int,
        size: Int,
        proof: [TreeHash],
        root: TreeHash
    ) -> Bool {
        // 1. leaf_index must be below tree_size.
        guard index >= 0, size > 0, index < size else { return false }
        // 2. fn = leaf_index, sn = tree_size - 1.
        var fn = UInt64(index)
        var sn = UInt64(size - 1)
        // 3. r = hash.
        var r = leafHash
        // 4. For each p in the inclusion path:
        for p in proof {
            // a. If sn is 0, stop and fail.
            if sn == 0 { return false }
            // b. If LSB(fn) is set, or fn equals sn:
            if fn & 1 == 1 || fn == sn {
                // i. r = HASH(0x01 || p || r).
                r = MerkleHash.node(p, r)
                // ii. If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                // Otherwise r = HASH(0x01 || r || p).
                r = MerkleHash.node(r, p)
            }
            // c. Right-shift fn and sn once.
            fn >>= 1
            sn >>= 1
        }
        // 5. sn must be 0 and r must equal the root.
        return sn == 0 && r == root
    }

    /// Checks that the tree of `from` leaves with root `oldRoot` is a prefix of the tree of `to` leaves
    /// with root `newRoot` (RFC 9162 §2.1.4.2).
    ///
    /// The RFC's algorithm is for 0 < `from` < `to`; `from` == `to` holds when the proof is empty and the
    /// roots are equal. A proof from the empty tree (`from` == 0) is always refused, as transparency-dev's
    /// reference verifier refuses it: it would accept any new root whatever, so it checks nothing, and a
    /// caller who holds only the empty tree has nothing to check and should not ask.
    ///
    /// - Parameters:
    ///   - from: The older tree size.
    ///   - to: The newer tree size.
    ///   - proof: The consistency proof.
    ///   - oldRoot: The older tree's root.
    ///   - newRoot: The newer tree's root.
    /// - Returns: `true` only when the proof reproduces both roots and is neither too short nor too long.
    /// - Complexity: O(*p*) hashes for a proof of *p* hashes.
    public static func verifyConsistency(
        from: Int,
        to: Int,
        proof: [TreeHash],
        oldRoot: TreeHash,
        newRoot: TreeHash
    ) -> Bool {
        guard from > 0, from <= to else { return false }
        if from == to { return proof.isEmpty && oldRoot == newRoot }

        // 1. An empty consistency path fails.
        guard !proof.isEmpty else { return false }
        var path = proof[...]
        // 2. If first is an exact power of 2, prepend first_hash to the path.
        let first = from & (from - 1) == 0 ? oldRoot : path.removeFirst()
        // 3. fn = first - 1, sn = second - 1.
        var fn = UInt64(from - 1)
        var sn = UInt64(to - 1)
        // 4. If LSB(fn) is set, right-shift fn and sn until it is not.
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        // 5. fr and sr both start as the first value of the path.
        var fr = first
        var sr = first
        // 6. For each subsequent value c:
        for c in path {
            // a. If sn is 0, stop and fail.
            if sn == 0 { return false }
            // b. If LSB(fn) is set, or fn equals sn:
            if fn & 1 == 1 || fn == sn {
                // i. fr = HASH(0x01 || c || fr), sr = HASH(0x01 || c || sr).
                fr = MerkleHash.node(c, fr)
                sr = MerkleHash.node(c, sr)
                // ii. If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                // Otherwise sr = HASH(0x01 || sr || c).
                sr = MerkleHash.node(sr, c)
            }
            // c. Right-shift fn and sn once.
            fn >>= 1
            sn >>= 1
        }
        // 7. fr must equal first_hash, sr must equal second_hash, and sn must be 0.
        return fr == oldRoot && sr == newRoot && sn == 0
    }
}
