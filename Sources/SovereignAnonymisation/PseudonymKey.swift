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

    /// The fewest key bytes accepted: 256 bits (a key file of hex text has twice as many digits).
    public static let minimumByteCount = 32

    /// Makes a key from its bytes.
    ///
    /// - Throws: `AnonymisationError` `.configuration` when there are fewer than 32 bytes.
    public init(bytes: some Collection<UInt8>, source: String = "the key") throws(AnonymisationError) {
        guard bytes.count >= Self.minimumByteCount else {
            throw AnonymisationError(
                .configuration,
                "\(source): expected a key of at least \(Self.minimumByteCount) bytes, found \(bytes.count)"
            )
        }
        key = SymmetricKey(data: Array(bytes))
    }

    /// Reads a key file that only its owner may read (mode 0600 or 0400): its bytes as they are, or 64+ hex
    /// digits when the file is hex text (a trailing newline is ignored).
    ///
    /// - Throws: `AnonymisationError` `.io` when the file cannot be read, `.configuration` when group or others
    ///   may read it, it is not a regular file, or the key is too short.
    public init(contentsOf path: String) throws(AnonymisationError) {
        let read: [UInt8]?
        do throws(POSIX.KeyFileError) {
            read = try POSIX.readKeyFile(at: path, ownerOnly: true)
        } catch {
            throw Self.refusal(error, path)
        }
        guard let data = read else { throw AnonymisationError(.io, "\(path): cannot read the key file: no such file") }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count >= 2 * Self.minimumByteCount, let decoded = Hex.decode(text) {
            try self.init(bytes: decoded, source: path)
        } else {
            try self.init(bytes: data, source: path)
        }
    }

    private static func refusal(_ error: POSIX.KeyFileError, _ path: String) -> AnonymisationError {
        switch error {
        case .io(let what, let reason): return AnonymisationError(.io, "\(path): \(what): \(reason)")
        case .notRegular:
            return AnonymisationError(
                .configuration,
                "\(path): expected a regular key file, found another kind of file"
            )
        case .exposed(let permissions):
            return AnonymisationError(
                .configuration,
                "\(path): expected a key file only its owner may read (mode 0600 or 0400), found mode "
                    + "\(String(permissions, radix: 8)). Fix with: chmod 600 \(path)"
            )
        case .tooLarge(let limit):
            return AnonymisationError(.configuration, "\(path): expected a key file, found over \(limit) bytes")
        }
    }

    /// The key's public name: `hmac-sha256:` and the first 8 bytes of SHA-256 over a domain tag and the key,
    /// in hex. It names the key in reports and the ledger without revealing it.
    public var id: String {
        let tagged = key.withUnsafeBytes { Array("sovereign-pseudonym-key-id\u{0}".utf8) + Array($0) }
        return "hmac-sha256:" + Hex.encode(SHA256.hash(data: tagged).prefix(8))
    }

    /// The seed of a run's numeric noise: the first 8 bytes of HMAC-SHA-256(key, a domain tag ∥ `seed`), so the
    /// same key and seed give the same noise (a run can be repeated), while the seed alone, which the report
    /// names, does not let anyone replay the draws and subtract them.
    public func noiseSeed(_ seed: UInt64) -> UInt64 {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Array("sovereign-anonymisation-noise\u{0}".utf8))
        withUnsafeBytes(of: seed.littleEndian) { mac.update(data: Array($0)) }
        return Array(mac.finalize()).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
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
