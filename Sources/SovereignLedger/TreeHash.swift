import SovereignBase

/// A SHA-256 hash in a Merkle tree: a leaf hash, an interior node, or a tree root (RFC 9162 §2.1.1).
///
/// Thirty-two bytes held inline (no heap allocation), so trees of millions of hashes stay compact and
/// comparisons are four word compares. `description` is the lowercase hex form.
public struct TreeHash: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes in order, as four words loaded from memory (not numbers: only the bytes matter).
    var words: (UInt64, UInt64, UInt64, UInt64)

    /// The number of bytes in a hash.
    public static let byteCount = 32

    init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.words = words
    }

    /// Copies a hash from exactly 32 bytes of raw memory.
    init(unsafeBytes source: UnsafeRawBufferPointer) {
        precondition(source.count == Self.byteCount)
        words = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: source) }
    }

    /// Makes a hash from its 32 bytes.
    ///
    /// - Parameter bytes: Exactly 32 bytes.
    /// - Returns: `nil` when `bytes` does not hold exactly 32 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        words = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { target in
            for (offset, byte) in bytes.enumerated() { target[offset] = byte }
        }
    }

    /// Reads a hash from 64 hex digits (either case).
    ///
    /// - Parameter hex: The hex form, like `6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d`.
    /// - Returns: `nil` unless `hex` is exactly 64 hex digits.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), let hash = TreeHash(bytes: bytes) else { return nil }
        self = hash
    }

    /// Reads a hash from standard, padded base64 (RFC 4648 §4), as checkpoints carry it.
    ///
    /// - Parameter base64: The base64 form: 44 characters ending in `=`.
    /// - Returns: `nil` unless `base64` is canonical base64 of exactly 32 bytes.
    public init?(base64: String) {
        guard let bytes = Base64.decode(base64), let hash = TreeHash(bytes: bytes) else { return nil }
        self = hash
    }

    /// The 32 bytes.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// The lowercase hex form, 64 digits.
    public var hex: String { Hex.encode(bytes) }

    /// The standard, padded base64 form (44 characters), as checkpoints carry it.
    public var base64: String { Base64.encode(bytes) }

    /// The lowercase hex form.
    public var description: String { hex }

    /// Calls `body` with the 32 bytes, without copying them.
    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: words, body)
    }

    /// Whether two hashes have the same 32 bytes.
    public static func == (lhs: TreeHash, rhs: TreeHash) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    /// Feeds the 32 bytes to `hasher`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
