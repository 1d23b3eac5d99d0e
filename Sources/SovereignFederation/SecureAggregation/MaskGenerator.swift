import Crypto
import Foundation
import SovereignBase
import _CryptoExtras

/// The masks of secure aggregation: a 32-byte seed expanded into 32-bit words by AES-256 in counter mode.
///
/// Word k of the stream is bytes 4k…4k+3 (little-endian) of the AES-256-CTR keystream under the seed as
/// key with the 128-bit big-endian counter block starting at 0 — the same as encrypting zeros with
/// `AES-256-CTR(key: seed, iv: 16 zero bytes)` in any library, which is what fixes the format.
///
/// Every mask a party applies goes through one pass over the vector: the vector is walked in 64 KiB pieces,
/// and each mask's stream for a piece is made and added (or subtracted) while the piece is in cache, so n
/// masks read and write the vector once, not n times, and no mask-sized buffer is ever allocated. The
/// pieces are split across the cores (a piece's counter block follows from its offset).
public enum MaskGenerator: Sendable {
    /// Bytes of keystream made per AES-CTR call: large enough that the per-call cost vanishes, small
    /// enough to stay in the L2 cache while it is added in.
    static let pieceBytes = 64 * 1024
    static let wordsPerPiece = pieceBytes / 4

    /// One mask stream to apply: its seed, and whether it is added or subtracted.
    public struct Mask: Sendable {
        /// The 32-byte seed as an AES-256 key.
        let seed: SymmetricKey
        /// Whether the stream is subtracted instead of added.
        public let subtract: Bool

        /// A mask from a 32-byte seed.
        /// - Throws: ``FederationError`` `.invalidConfiguration` if the seed is not 32 bytes.
        public init(seed: [UInt8], subtract: Bool = false) throws {
            guard seed.count == 32 else {
                throw FederationError(
                    .invalidConfiguration,
                    "mask generator: seed: expected 32 bytes, found \(seed.count)"
                )
            }
            self.init(key: SymmetricKey(data: seed), subtract: subtract)
        }

        init(key: SymmetricKey, subtract: Bool) {
            precondition(key.bitCount == 256, "mask seeds are 32 bytes")
            seed = key
            self.subtract = subtract
        }
    }

    /// Adds (or subtracts) the mask stream of `seed` into `vector`, word by word mod 2^32.
    /// - Parameters:
    ///   - seed: The 32-byte mask seed.
    ///   - vector: The vector to mask or unmask.
    ///   - subtract: Whether to subtract the mask instead of adding it.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if the seed is not 32 bytes.
    /// - Complexity: O(vector.count).
    public static func apply(seed: [UInt8], to vector: inout [UInt32], subtract: Bool = false) throws {
        apply([try Mask(seed: seed, subtract: subtract)], to: &vector)
    }

    /// The first `count` words of the mask stream of `seed`.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if the seed is not 32 bytes.
    /// - Complexity: O(count).
    public static func words(seed: [UInt8], count: Int) throws -> [UInt32] {
        var vector = [UInt32](repeating: 0, count: max(0, count))
        try apply(seed: seed, to: &vector)
        return vector
    }

    /// Applies every mask to `vector` in one pass, word by word mod 2^32, on all cores.
    /// - Complexity: O(masks.count × vector.count) AES-CTR words; the vector is read and written once.
    public static func apply(_ masks: [Mask], to vector: inout [UInt32]) {
        guard !masks.isEmpty else { return }
        vector.withUnsafeMutableBufferPointer { buffer in
            // Each worker writes its own disjoint range of the buffer.
            nonisolated(unsafe) let words = buffer
            Parallel.forEachRange(count: words.count, grain: 16 * wordsPerPiece, alignment: wordsPerPiece) {
                apply(masks, to: words, in: $0)
            }
        }
    }

    /// Applies every mask to the words of `range`, piece by piece; `range` starts on a piece boundary.
    static func apply(_ masks: [Mask], to vector: UnsafeMutableBufferPointer<UInt32>, in range: Range<Int>) {
        let zeros = [UInt8](repeating: 0, count: pieceBytes)
        var start = range.lowerBound
        while start < range.upperBound {
            let count = min(wordsPerPiece, range.upperBound - start)
            let piece = UnsafeMutableBufferPointer(rebasing: vector[start..<(start + count)])
            // Word `start` is keystream byte 4 × start, in 16-byte block start / 4.
            let firstBlock = UInt64(start / 4)
            for mask in masks {
                let stream = keystream(seed: mask.seed, firstBlock: firstBlock, zeros: zeros[0..<(count * 4)])
                stream.withUnsafeBytes { add($0, into: piece, subtract: mask.subtract) }
            }
            start += count
        }
    }

    /// `piece[k] ± word k of stream`, mod 2^32.
    @inline(__always)
    static func add(_ stream: UnsafeRawBufferPointer, into piece: UnsafeMutableBufferPointer<UInt32>, subtract: Bool) {
        if subtract {
            for k in 0..<piece.count {
                piece[k] &-= UInt32(littleEndian: stream.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self))
            }
        } else {
            for k in 0..<piece.count {
                piece[k] &+= UInt32(littleEndian: stream.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self))
            }
        }
    }
}

extension MaskGenerator {
    /// AES-256-CTR keystream bytes from 16-byte block number `firstBlock` (a 128-bit big-endian counter).
    static func keystream(seed: SymmetricKey, firstBlock: UInt64, zeros: ArraySlice<UInt8>) -> Data {
        var block = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { block[8 + i] = UInt8(truncatingIfNeeded: firstBlock >> (56 - 8 * UInt64(i))) }
        // A 16-byte counter block and a 256-bit key are always accepted, so these cannot throw.
        let nonce = try! AES._CTR.Nonce(nonceBytes: block)
        return try! AES._CTR.encrypt(zeros, using: seed, nonce: nonce)
    }
}

/// Key derivations of secure aggregation, each bound to the round's session so nothing carries over.
enum SecureAggregationKeys {
    static let pairwiseMaskInfo = Data("sovereign secure aggregation v1: pairwise mask".utf8)
    static let shareEncryptionInfo = Data("sovereign secure aggregation v1: share encryption".utf8)

    /// s_uv: HKDF-SHA256 of X25519(s_u, s_v) with the session as salt.
    static func pairwiseSeed(
        _ privateKey: Curve25519.KeyAgreement.PrivateKey,
        _ publicKey: Curve25519.KeyAgreement.PublicKey,
        session: String
    ) throws -> SymmetricKey {
        let secret = try privateKey.sharedSecretFromKeyAgreement(with: publicKey)
        return secret.hkdfDerivedSymmetricKey(
            using: SHA256.self,
            salt: Data(session.utf8),
            sharedInfo: pairwiseMaskInfo,
            outputByteCount: 32
        )
    }

    /// The AES-GCM key for shares between two sites: HKDF-SHA256 of X25519(c_u, c_v), session as salt.
    static func shareKey(
        _ privateKey: Curve25519.KeyAgreement.PrivateKey,
        _ publicKey: Curve25519.KeyAgreement.PublicKey,
        session: String
    ) throws -> SymmetricKey {
        let secret = try privateKey.sharedSecretFromKeyAgreement(with: publicKey)
        return secret.hkdfDerivedSymmetricKey(
            using: SHA256.self,
            salt: Data(session.utf8),
            sharedInfo: shareEncryptionInfo,
            outputByteCount: 32
        )
    }

    /// The associated data of an encrypted share: who sent it to whom in which session.
    static func shareAssociatedData(session: String, from: String, to: String) -> Data {
        var data = Data("sovereign secure aggregation v1 share".utf8)
        for part in [session, from, to] {
            let bytes = Data(part.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { data.append(contentsOf: $0) }
            data.append(bytes)
        }
        return data
    }
}
