/// An error from the ledger: a bad index or size, a malformed or forged signed note, an unusable key
/// file, or a ledger row that is not what it claims to be.
///
/// The `description` says what was expected and what was found, like
/// `index 12 is outside a tree of size 10`. Compare ``code`` to tell kinds apart:
///
/// ```swift
/// catch let error as LedgerError where error.code == .invalidSignature { ... }
/// ```
public struct LedgerError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem this is; stable, for callers and tests.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Kind: String, Hashable, Sendable {
            case outOfRange = "out-of-range"
            case malformedNote = "malformed-note"
            case malformedCheckpoint = "malformed-checkpoint"
            case unknownKey = "unknown-key"
            case invalidSignature = "invalid-signature"
            case malformedKey = "malformed-key"
            case insecureKeyFile = "insecure-key-file"
            case keyFileIO = "key-file-io"
            case malformedJSON = "malformed-json"
            case nonCanonicalJSON = "non-canonical-json"
            case malformedEntry = "malformed-entry"
        }

        fileprivate let kind: Kind

        /// An index or tree size outside the tree, or sizes in the wrong order.
        public static let outOfRange = Code(kind: .outOfRange)
        /// Signed-note text that breaks the note grammar (c2sp.org/signed-note).
        public static let malformedNote = Code(kind: .malformedNote)
        /// A note body that is not a checkpoint (c2sp.org/tlog-checkpoint).
        public static let malformedCheckpoint = Code(kind: .malformedCheckpoint)
        /// The note carries no signature by the expected key (name and key ID).
        public static let unknownKey = Code(kind: .unknownKey)
        /// A signature by the expected key that does not verify.
        public static let invalidSignature = Code(kind: .invalidSignature)
        /// A private or verifier key text that is not in the note key format, or whose key ID is wrong.
        public static let malformedKey = Code(kind: .malformedKey)
        /// A private key file that group or others may read or write.
        public static let insecureKeyFile = Code(kind: .insecureKeyFile)
        /// A key file that could not be created, opened or read.
        public static let keyFileIO = Code(kind: .keyFileIO)
        /// Bytes that are not JSON.
        public static let malformedJSON = Code(kind: .malformedJSON)
        /// JSON that is valid but not in canonical (RFC 8785) form.
        public static let nonCanonicalJSON = Code(kind: .nonCanonicalJSON)
        /// Canonical JSON that is not a ledger entry (missing or mistyped fields).
        public static let malformedEntry = Code(kind: .malformedEntry)

        /// The code's stable name, like `invalid-signature`.
        public var description: String { kind.rawValue }
    }

    /// What kind of problem this is.
    public let code: Code
    /// The human message: what was expected and what was found.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The human message.
    public var description: String { message }
}
