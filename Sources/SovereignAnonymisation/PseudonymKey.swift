public import Crypto
import Foundation
import SovereignBase

/// The secret behind keyed pseudonyms: HMAC-SHA-256 of a value under this key. The same key gives the same
/// pseudonym for the same value (so records still join), another key gives unrelated ones; without the key
/// nobody can recompute a pseudonym from a guessed value.
///
/// The key stays where the source's keys are held; reports and the ledger carry only its ``id``.
public struct PseudonymKey: Sendable {
    private let key: SymmetricKey

    /// The fewest key bytes accepted: 128 bits.
    public static let minimumByteCount = 16

    /// Makes a key from its bytes.
    ///
    /// - Throws: `AnonymisationError` `.configuration` when there are fewer than 16 bytes.
    public init(bytes: some Collection<UInt8>, source: String = "the key") throws(AnonymisationError) {
        guard bytes.count >= Self.minimumByteCount else {
            throw AnonymisationError(
                .configuration,
                "\(source): expected a key of at least \(Self.minimumByteCount) bytes, found \(bytes.count)"
            )
        }
        key = SymmetricKey(data: Array(bytes))
    }

    /// Reads a key file: its bytes as they are, or 64+ hex digits when the file is hex text (a trailing newline
    /// is ignored).
    ///
    /// - Throws: `AnonymisationError` `.io` when the file cannot be read, `.configuration` when it is too short.
    public init(contentsOf path: String) throws(AnonymisationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AnonymisationError(.io, "\(path): cannot read the key file")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count >= 2 * Self.minimumByteCount, let decoded = Hex.decode(text) {
            try self.init(bytes: decoded, source: path)
        } else {
            try self.init(bytes: [UInt8](data), source: path)
        }
    }

    /// The key's public name: `hmac-sha256:` and the first 8 bytes of SHA-256 over a domain tag and the key,
    /// in hex. It names the key in reports and the ledger without revealing it.
    public var id: String {
        let tagged = key.withUnsafeBytes { Array("sovereign-pseudonym-key-id\u{0}".utf8) + Array($0) }
        return "hmac-sha256:" + Hex.encode(SHA256.hash(data: tagged).prefix(8))
    }

    /// The pseudonym of `value`: `p` and the first 16 bytes of HMAC-SHA-256(key, column ∥ 0 ∥ value) in hex.
    /// The column name is mixed in, so one value in two columns gives two pseudonyms that do not join.
    ///
    /// - Complexity: O(`value.count`).
    public func pseudonym(of value: some Collection<UInt8>, column: String) -> String {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Array(column.utf8) + [0])
        mac.update(data: Array(value))
        return "p" + Hex.encode(Array(mac.finalize()).prefix(16))
    }
}
