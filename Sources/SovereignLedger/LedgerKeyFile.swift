public import Crypto
import SovereignBase

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The ledger's signing key on disk, in the note library's private key format
/// (`PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ 32-byte seed)>`, one line), and verifier keys
/// (`<name>+<key ID>+<base64(0x01 ‖ public key)>`) read back for `ledger verify --key`.
public enum LedgerKeyFile: Sendable {
    /// Loads the signing key at `path`, or creates one there on first use.
    ///
    /// A new key file is created atomically with mode 0600 (`open` with `O_CREAT | O_EXCL`, so an
    /// existing file is never overwritten and the key is never readable by others, not even briefly).
    /// An existing file is refused when group or others have any permission on it, when it is not a
    /// regular file, when it is malformed, or when it holds a key of another name.
    ///
    /// - Parameters:
    ///   - path: The key file's path; its directory must exist.
    ///   - name: The key's name, usually the log's origin, like `sovereign.example/ledger`: non-empty,
    ///     without white space or '+'.
    /// - Returns: The signer.
    /// - Throws: ``LedgerError``: ``LedgerError/Code/insecureKeyFile`` naming the path and the mode found,
    ///   ``LedgerError/Code/malformedKey`` for a bad name or key text, and ``LedgerError/Code/keyFileIO``
    ///   when the file cannot be created or read.
    public static func loadOrCreate(at path: String, name: String) throws(LedgerError) -> NoteSigner {
        guard NoteSigner.isValidKeyName(name) else {
            throw LedgerError(
                .malformedKey,
                "key name: expected no spaces or '+' and at least one character, found \(Checkpoint.quote(name))"
            )
        }
        if let text = try readPrivateKeyFile(at: path) {
            return try loadedSigner(from: text, path: path, name: name)
        }
        let signer = NoteSigner(name: name, privateKey: Curve25519.Signing.PrivateKey())
        if try createExclusively(at: path, contents: signer.privateKeyText + "\n") {
            return signer
        }
        // Another process created the file between our look and our create: use its key.
        guard let text = try readPrivateKeyFile(at: path) else {
            throw LedgerError(
                .keyFileIO,
                "\(path): exists but cannot be opened (a dangling symbolic link?); expected a private key file"
            )
        }
        return try loadedSigner(from: text, path: path, name: name)
    }

    /// Loads the 32-byte secret at `path` (one line of base64), or creates a random one there on first use,
    /// with the same care as the signing key: created with mode 0600 and `O_EXCL`, refused when group or
    /// others may read it. The server keys token fingerprints with it, so that a reader of the ledger
    /// cannot test guessed tokens against them.
    ///
    /// - Parameter path: The secret's file; its directory must exist.
    /// - Returns: The secret's 32 bytes.
    /// - Throws: ``LedgerError``: ``LedgerError/Code/insecureKeyFile``, ``LedgerError/Code/malformedKey``
    ///   (the message never quotes the file's content), or ``LedgerError/Code/keyFileIO``.
    public static func loadOrCreateSecret(at path: String) throws(LedgerError) -> [UInt8] {
        if let text = try readPrivateKeyFile(at: path) { return try decodedSecret(text, path: path) }
        var generator = SystemRandomNumberGenerator()
        let fresh = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        if try createExclusively(at: path, contents: Base64.encode(fresh) + "\n") { return fresh }
        guard let text = try readPrivateKeyFile(at: path) else {
            throw LedgerError(.keyFileIO, "\(path): exists but cannot be opened; expected a secret key file")
        }
        return try decodedSecret(text, path: path)
    }

    private static func decodedSecret(_ text: String, path: String) throws(LedgerError) -> [UInt8] {
        guard let bytes = Base64.decode(trimmed(text)), bytes.count == 32 else {
            throw LedgerError(.malformedKey, "\(path): expected one line of base64 holding 32 bytes, found other text")
        }
        return bytes
    }

    /// Reads a verifier key file (one line in the note verifier key format), as written for
    /// `ledger verify --key PUB`.
    ///
    /// - Parameter path: The file's path.
    /// - Returns: The verifier.
    /// - Throws: ``LedgerError``: ``LedgerError/Code/keyFileIO`` when the file cannot be read and
    ///   ``LedgerError/Code/malformedKey`` when it does not hold a verifier key.
    public static func verifier(fromFile path: String) throws(LedgerError) -> NoteVerifier {
        guard let bytes = try readFile(at: path, privateKey: false) else {
            throw LedgerError(.keyFileIO, "\(path): no such file")
        }
        do {
            return try verifier(from: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw LedgerError(error.code, "\(path): \(error.message)")
        }
    }

    /// Reads a verifier key text, ignoring white space around it (a file's final newline).
    ///
    /// - Parameter text: `<name>+<key ID>+<base64(0x01 ‖ public key)>`.
    /// - Returns: The verifier.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/malformedKey``) when the text is not a verifier key.
    public static func verifier(from text: String) throws(LedgerError) -> NoteVerifier {
        try NoteVerifier(verifierKey: trimmed(text))
    }

    /// Reads the Ed25519 public key out of a verifier key text.
    ///
    /// - Parameter text: `<name>+<key ID>+<base64(0x01 ‖ public key)>`, white space around it ignored.
    /// - Returns: The public key, once the key ID has been checked against the name and key.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/malformedKey``) when the text is not a verifier key.
    public static func publicKey(from text: String) throws(LedgerError) -> Curve25519.Signing.PublicKey {
        try verifier(from: text).publicKey
    }

    /// Writes the verifier key of `signer` to `path` (mode 0644, replacing any file there), so that the
    /// key can be handed to auditors.
    ///
    /// - Parameters:
    ///   - signer: The signer whose public half to write.
    ///   - path: Where to write it.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/keyFileIO``) when the file cannot be written.
    public static func writeVerifierKey(of signer: NoteSigner, to path: String) throws(LedgerError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ioError(path, "cannot create the file") }
        defer { close(descriptor) }
        try writeAll(descriptor, Array((signer.verifierKey + "\n").utf8), path: path)
    }

    /// The signer in a key file's text, which must be named `name`.
    private static func loadedSigner(from text: String, path: String, name: String) throws(LedgerError) -> NoteSigner {
        let signer: NoteSigner
        do {
            signer = try NoteSigner(privateKeyText: text)
        } catch {
            throw LedgerError(.malformedKey, "\(path): \(error.message)")
        }
        guard signer.name == name else {
            throw LedgerError(
                .malformedKey,
                "\(path): expected a key named \(Checkpoint.quote(name)), found one named \(Checkpoint.quote(signer.name))"
            )
        }
        return signer
    }

    private static func trimmed(_ text: String) -> String {
        String(
            text.unicodeScalars.drop(while: { $0.properties.isWhitespace }).reversed()
                .drop(while: { $0.properties.isWhitespace }).reversed().map(Character.init)
        )
    }

    /// The private key text in the file at `path`, or `nil` when there is no file.
    private static func readPrivateKeyFile(at path: String) throws(LedgerError) -> String? {
        guard let bytes = try readFile(at: path, privateKey: true) else { return nil }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// The bytes of the file at `path`, or `nil` when it does not exist. For a private key, refuses a
    /// file that is not regular or that group or others have any permission on (``POSIX/readKeyFile(at:ownerOnly:limit:)``).
    private static func readFile(at path: String, privateKey: Bool) throws(LedgerError) -> [UInt8]? {
        do throws(POSIX.KeyFileError) {
            return try POSIX.readKeyFile(at: path, ownerOnly: privateKey)
        } catch {
            switch error {
            case .io(let what, let reason):
                throw LedgerError(.keyFileIO, "\(path): \(what): \(reason)")
            case .notRegular:
                throw LedgerError(
                    .insecureKeyFile,
                    "\(path): expected a regular file for the private key, found another kind of file"
                )
            case .exposed(let permissions):
                throw LedgerError(
                    .insecureKeyFile,
                    "\(path): private key file has mode \(octal(permissions)); expected 0600 (no access for group or others). Fix with: chmod 600 \(path)"
                )
            case .tooLarge:
                throw LedgerError(.malformedKey, "\(path): expected a one-line key file, found over 64 KiB")
            }
        }
    }

    /// Creates `path` with mode 0600 and writes `contents`; `false` when the file already exists.
    private static func createExclusively(at path: String, contents: String) throws(LedgerError) -> Bool {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            if errno == EEXIST { return false }
            throw ioError(path, "cannot create the private key file")
        }
        do throws(LedgerError) {
            try writeAll(descriptor, Array(contents.utf8), path: path)
            guard fsync(descriptor) == 0 else { throw ioError(path, "cannot flush the private key file") }
        } catch {
            close(descriptor)
            unlink(path)
            throw error
        }
        close(descriptor)
        return true
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws(LedgerError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError(path, "cannot write the file")
            }
            written += count
        }
    }

    private static func ioError(_ path: String, _ what: String) -> LedgerError {
        let reason = String(cString: strerror(errno))
        return LedgerError(.keyFileIO, "\(path): \(what): \(reason)")
    }

    private static func octal(_ permissions: UInt32) -> String {
        let digits = String(permissions, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
