public import Crypto
import SovereignBase

/// Signs checkpoints as signed notes (c2sp.org/signed-note) with an Ed25519 key, byte for byte as
/// golang.org/x/mod/sumdb/note's `Sign` does.
///
/// ```swift
/// let signer = try LedgerKeyFile.loadOrCreate(at: "/var/lib/sovereign/ledger.key", name: "sovereign.example/ledger")
/// let note = signer.sign(Checkpoint(origin: "sovereign.example/ledger", size: tree.size, root: tree.root))
/// ```
public struct NoteSigner: Sendable {
    /// The key's name, written on the signature line.
    public let name: String
    /// The Ed25519 private key.
    public let privateKey: Curve25519.Signing.PrivateKey
    /// The key ID: the first four bytes, big-endian, of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
    public let keyID: UInt32

    /// Makes a signer for a named key.
    ///
    /// - Parameters:
    ///   - name: The key's name: non-empty, without white space or '+' (``isValidKeyName(_:)``). Anything
    ///     else is a programming error and traps; ``LedgerKeyFile`` checks names before it gets here.
    ///   - privateKey: The Ed25519 private key.
    public init(name: String, privateKey: Curve25519.Signing.PrivateKey) {
        precondition(Self.isValidKeyName(name), "invalid note key name \(String(reflecting: name))")
        self.name = name
        self.privateKey = privateKey
        self.keyID = noteKeyID(name: name, publicKey: Array(privateKey.publicKey.rawRepresentation))
    }

    /// Reads a private key in the note format,
    /// `PRIVATE+KEY+<name>+<8 hex digits key ID>+<base64(0x01 ‖ 32-byte seed)>`.
    ///
    /// - Parameter privateKeyText: The key text, without surrounding white space.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/malformedKey``) when the text is not in that format, the
    ///   algorithm is not Ed25519, or the key ID does not match the name and the key derived from the seed.
    public init(privateKeyText: String) throws(LedgerError) {
        let parts = privateKeyText.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
            throw LedgerError(
                .malformedKey,
                "private key: expected PRIVATE+KEY+<name>+<key ID>+<key>, found something else"
            )
        }
        let name = String(parts[2])
        guard Self.isValidKeyName(name) else {
            throw LedgerError(
                .malformedKey,
                "private key: expected a key name without spaces, found \(Checkpoint.quote(name))"
            )
        }
        let keyID = try parseKeyID(parts[3], what: "private key")
        guard let raw = Base64.decode(parts[4]), !raw.isEmpty else {
            throw LedgerError(.malformedKey, "private key: expected the key in padded base64, found something else")
        }
        guard raw[0] == noteAlgorithmEd25519 else {
            throw LedgerError(
                .malformedKey,
                "private key: expected algorithm 0x01 (Ed25519), found 0x\(Hex.encode([raw[0]]))"
            )
        }
        guard raw.count == 33, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw[1...]) else {
            throw LedgerError(
                .malformedKey,
                "private key: expected a 32-byte Ed25519 seed, found \(raw.count - 1) bytes"
            )
        }
        self.init(name: name, privateKey: key)
        guard self.keyID == keyID else {
            throw LedgerError(
                .malformedKey,
                "private key: key ID \(Hex.keyID(keyID)) does not match name \(Checkpoint.quote(name)) and its key, which give \(Hex.keyID(self.keyID))"
            )
        }
    }

    /// Whether `name` can name a note key: non-empty, with no Unicode white space and no '+'.
    ///
    /// - Parameter name: A proposed key name.
    /// - Returns: `true` when the note formats can carry it.
    public static func isValidKeyName(_ name: String) -> Bool {
        SovereignLedger.isValidKeyName(name)
    }

    /// The verifier key in the note format, `<name>+<key ID>+<base64(0x01 ‖ public key)>`: what to
    /// publish so that others can check this signer's notes.
    public var verifierKey: String { verifier.verifierKey }

    /// A verifier for this signer's public key.
    public var verifier: NoteVerifier { NoteVerifier(name: name, publicKey: privateKey.publicKey) }

    /// The private key in the note format, for the key file. Secret.
    var privateKeyText: String {
        "PRIVATE+KEY+\(name)+\(Hex.keyID(keyID))+\(Base64.encode([noteAlgorithmEd25519] + Array(privateKey.rawRepresentation)))"
    }

    /// Signs a checkpoint.
    ///
    /// - Parameter checkpoint: The checkpoint to sign.
    /// - Returns: The signed note: the checkpoint's ``Checkpoint/body``, a blank line, and
    ///   `— <name> <base64(key ID ‖ Ed25519 signature over the body)>` with a final newline.
    public func sign(_ checkpoint: Checkpoint) -> String {
        signedNote(body: checkpoint.body)
    }

    /// Signs any note text.
    ///
    /// - Parameter text: The note body: one or more lines, each ending in a newline, with no control
    ///   characters other than newline.
    /// - Returns: The signed note, as ``sign(_:)`` writes it.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/malformedNote``) when `text` is empty, does not end in
    ///   a newline, or holds another control character.
    public func sign(text: String) throws(LedgerError) -> String {
        guard text.hasSuffix("\n") else {
            throw LedgerError(.malformedNote, "note text: expected it to end with a newline, found none")
        }
        if let control = text.unicodeScalars.first(where: { $0.value < 0x20 && $0 != "\n" }) {
            throw LedgerError(
                .malformedNote,
                "note text: expected no control characters other than newline, found U+\(Hex.encode([UInt8(control.value)]).uppercased())"
            )
        }
        return signedNote(body: text)
    }

    private func signedNote(body: String) -> String {
        let signature: [UInt8]
        do {
            signature = Array(try privateKey.signature(for: Array(body.utf8)))
        } catch {
            // BoringSSL's Ed25519 signing has no failure mode for a valid key; reaching this is a broken build.
            preconditionFailure("Ed25519 signing failed: \(error)")
        }
        let keyIDBytes = [
            UInt8(keyID >> 24), UInt8(truncatingIfNeeded: keyID >> 16), UInt8(truncatingIfNeeded: keyID >> 8),
            UInt8(truncatingIfNeeded: keyID),
        ]
        return "\(body)\n\u{2014} \(name) \(Base64.encode(keyIDBytes + signature))\n"
    }
}
