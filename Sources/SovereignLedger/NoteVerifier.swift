public import Crypto
import SovereignBase

/// Checks signed notes (c2sp.org/signed-note) against one Ed25519 key, as golang.org/x/mod/sumdb/note
/// does, and reads the checkpoint inside.
///
/// ```swift
/// let verifier = try NoteVerifier(verifierKey: "sovereign.example/ledger+1a2b3c4d+AR...")
/// let checkpoint = try verifier.verify(noteText)
/// ```
public struct NoteVerifier: Sendable {
    /// The key's name, as it appears on signature lines.
    public let name: String
    /// The key ID: the first four bytes, big-endian, of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
    public let keyID: UInt32
    /// The Ed25519 public key.
    public let publicKey: Curve25519.Signing.PublicKey

    /// Makes a verifier for a named public key.
    ///
    /// - Parameters:
    ///   - name: The key's name. A name with spaces or '+' can never appear on a signature line, so a
    ///     verifier made with one rejects every note.
    ///   - publicKey: The Ed25519 public key.
    public init(name: String, publicKey: Curve25519.Signing.PublicKey) {
        self.name = name
        self.publicKey = publicKey
        self.keyID = noteKeyID(name: name, publicKey: Array(publicKey.rawRepresentation))
    }

    /// Reads a verifier key in the note format, `<name>+<8 hex digits key ID>+<base64(0x01 ‖ 32-byte key)>`,
    /// like `PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW`.
    ///
    /// - Parameter verifierKey: The key text, without surrounding white space.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/malformedKey``) when the text is not in that format,
    ///   the algorithm is not Ed25519, or the key ID does not match the name and key.
    public init(verifierKey: String) throws(LedgerError) {
        let parts = verifierKey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw LedgerError(
                .malformedKey,
                "verifier key: expected <name>+<key ID>+<key>, found \(parts.count) part\(parts.count == 1 ? "" : "s") in \(Checkpoint.quote(verifierKey))"
            )
        }
        let name = String(parts[0])
        guard isValidKeyName(name) else {
            throw LedgerError(
                .malformedKey,
                "verifier key: expected a key name without spaces, found \(Checkpoint.quote(name))"
            )
        }
        let keyID = try parseKeyID(parts[1], what: "verifier key")
        guard let raw = Base64.decode(parts[2]), !raw.isEmpty else {
            throw LedgerError(
                .malformedKey,
                "verifier key: expected the key in padded base64, found \(Checkpoint.quote(parts[2]))"
            )
        }
        guard raw[0] == noteAlgorithmEd25519 else {
            throw LedgerError(
                .malformedKey,
                "verifier key: expected algorithm 0x01 (Ed25519), found 0x\(Hex.encode([raw[0]]))"
            )
        }
        guard raw.count == 33, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw[1...]) else {
            throw LedgerError(
                .malformedKey,
                "verifier key: expected a 32-byte Ed25519 public key, found \(raw.count - 1) bytes"
            )
        }
        self.init(name: name, publicKey: publicKey)
        guard self.keyID == keyID else {
            throw LedgerError(
                .malformedKey,
                "verifier key: key ID \(Hex.keyID(keyID)) does not match name \(Checkpoint.quote(name)) and its key, which give \(Hex.keyID(self.keyID))"
            )
        }
    }

    /// The verifier key in the note format: `<name>+<key ID>+<base64(0x01 ‖ public key)>`.
    public var verifierKey: String {
        "\(name)+\(Hex.keyID(keyID))+\(Base64.encode([noteAlgorithmEd25519] + Array(publicKey.rawRepresentation)))"
    }

    /// Checks a signed checkpoint and reads it.
    ///
    /// - Parameter note: The full note text: checkpoint body, blank line, signature lines.
    /// - Returns: The checkpoint in the note's body.
    /// - Throws: ``LedgerError``: ``LedgerError/Code/malformedNote`` when the text breaks the note grammar,
    ///   ``LedgerError/Code/unknownKey`` when no signature line has this key's name and key ID,
    ///   ``LedgerError/Code/invalidSignature`` when such a line's signature does not verify, and
    ///   ``LedgerError/Code/malformedCheckpoint`` when the signed body is not a checkpoint.
    public func verify(_ note: String) throws(LedgerError) -> Checkpoint {
        try Checkpoint(parsing: verifiedBody(of: note))
    }

    /// Checks a signed note of any content and returns its signed body.
    ///
    /// - Parameter note: The full note text.
    /// - Returns: The body (the text before the blank line, ending in a newline) once this key's
    ///   signature over it has verified.
    /// - Throws: ``LedgerError`` as ``verify(_:)`` does, except for the checkpoint format.
    public func verifiedBody(of note: String) throws(LedgerError) -> String {
        let parsed = try SignedNote(parsing: note)
        // Go's Open verifies the first line for a known key and skips repeats of the same key.
        guard let signature = parsed.signatures.first(where: { $0.name == name && $0.keyID == keyID }) else {
            let found = parsed.signatures.map { "\($0.name)+\(Hex.keyID($0.keyID))" }
            throw LedgerError(
                .unknownKey,
                "note: expected a signature by \(name)+\(Hex.keyID(keyID)), found signatures by \(found.joined(separator: ", "))"
            )
        }
        guard signature.signature.count == 64,
            publicKey.isValidSignature(signature.signature, for: Array(parsed.body.utf8))
        else {
            throw LedgerError(
                .invalidSignature,
                "note: the signature by \(name)+\(Hex.keyID(keyID)) does not verify over the note body"
            )
        }
        return parsed.body
    }
}

/// Reads an 8-digit hex key ID, as the note key formats write it.
func parseKeyID(_ text: Substring, what: String) throws(LedgerError) -> UInt32 {
    guard text.utf8.count == 8, let bytes = Hex.decode(String(text)) else {
        throw LedgerError(.malformedKey, "\(what): expected an 8-digit hex key ID, found \(Checkpoint.quote(text))")
    }
    return bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
}
