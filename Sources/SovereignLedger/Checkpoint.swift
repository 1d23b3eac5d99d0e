import SovereignBase

/// A transparency-log checkpoint (c2sp.org/tlog-checkpoint): the log's origin, its size and its root
/// hash at that size, as the body of a signed note.
///
/// The body is exactly three lines, each ending in a newline:
///
/// ```
/// sovereign.example/ledger
/// 1024
/// 3q2+7w4VzQ0hsDSHbmMRWUZ0PI9X2BeHgoJYKpdc8as=
/// ```
///
/// The C2SP format allows optional extension lines after the third; Sovereign never writes them and
/// ``init(parsing:)`` refuses them, so a checkpoint's ``body`` is always exactly the text that was signed.
public struct Checkpoint: Sendable, Hashable {
    /// The log's identity, conventionally a schema-less URL like `sovereign.example/ledger`.
    public let origin: String
    /// The number of entries the tree had when the checkpoint was made.
    public let size: Int
    /// The RFC 9162 root of the first ``size`` entries.
    public let root: TreeHash

    /// Makes a checkpoint.
    ///
    /// - Parameters:
    ///   - origin: The log's identity: non-empty, with no newline or other control character (it is
    ///     one line of the note). Anything else is a programming error and traps.
    ///   - size: The tree size, not negative.
    ///   - root: The root of the first `size` entries.
    public init(origin: String, size: Int, root: TreeHash) {
        precondition(Self.originProblem(origin) == nil, "invalid checkpoint origin \(String(reflecting: origin))")
        precondition(size >= 0, "a checkpoint's size cannot be negative (\(size))")
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The note body: `origin`, `size` in decimal, base64 `root`, each followed by a newline.
    public var body: String { "\(origin)\n\(size)\n\(root.base64)\n" }

    /// Reads a checkpoint from a note body (the text above the signature block).
    ///
    /// - Parameter body: Exactly three newline-terminated lines: a non-empty origin, the tree size in
    ///   decimal without leading zeros, and the root hash in standard padded base64.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/malformedCheckpoint``) naming the line that is wrong,
    ///   what it should be and what it is.
    public init(parsing body: String) throws(LedgerError) {
        guard body.hasSuffix("\n") else {
            throw LedgerError(
                .malformedCheckpoint,
                "checkpoint: expected the body to end with a newline, found \(Self.quote(body.suffix(20)))"
            )
        }
        let lines = body.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3 else {
            throw LedgerError(
                .malformedCheckpoint,
                "checkpoint: expected 3 lines (origin, size, root hash), found \(lines.count)"
            )
        }
        guard lines.count == 3 else {
            throw LedgerError(
                .malformedCheckpoint,
                "checkpoint: expected 3 lines (origin, size, root hash), found \(lines.count); "
                    + "extension lines such as \(Self.quote(lines[3])) are not used by Sovereign ledgers"
            )
        }
        let origin = String(lines[0])
        if let problem = Self.originProblem(origin) {
            throw LedgerError(.malformedCheckpoint, "checkpoint line 1: expected an origin, found \(problem)")
        }
        let sizeText = lines[1]
        guard let size = Self.parseSize(sizeText) else {
            throw LedgerError(
                .malformedCheckpoint,
                "checkpoint line 2: expected a tree size in decimal without leading zeros, found \(Self.quote(sizeText))"
            )
        }
        guard let root = TreeHash(base64: String(lines[2])) else {
            throw LedgerError(
                .malformedCheckpoint,
                "checkpoint line 3: expected a 32-byte root hash in padded base64 (44 characters), found \(Self.quote(lines[2]))"
            )
        }
        self.init(origin: origin, size: size, root: root)
    }

    /// Why `origin` cannot be a checkpoint origin, or `nil` when it can.
    static func originProblem(_ origin: String) -> String? {
        if origin.isEmpty { return "an empty line" }
        if let control = origin.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return "control character U+\(Hex.encode([UInt8(control.value)]).uppercased()) in \(quote(origin))"
        }
        return nil
    }

    private static func parseSize(_ text: Substring) -> Int? {
        let digits = text.utf8
        guard let first = digits.first, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        guard first != UInt8(ascii: "0") || digits.count == 1 else { return nil }
        return Int(text)
    }

    static func quote(_ text: some StringProtocol) -> String {
        String(reflecting: String(text))
    }
}
