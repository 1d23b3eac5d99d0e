import Crypto
import Foundation

/// The AES-256-GCM sealing of one transfer's chunks. The key comes from X25519 between the sender's
/// ephemeral key and the destination's key, through HKDF-SHA256 bound to the workload, the transfer id,
/// the manifest digest and the chunk size, so a chunk of another transfer never opens. The nonce is the
/// chunk's index and the associated data binds the index, the chunk count, the file and whether the chunk
/// is the last, so a reordered, truncated, replayed or altered stream is refused.
struct ChunkCipher: Sendable {
    private let key: SymmetricKey

    /// The HKDF label, versioned with the layout.
    static let label = Array("sovereign checkpoint transfer v1".utf8)

    /// The cipher of the transfer `offer` from the side holding `privateKey`, with the other side's public key.
    init(
        offer: CheckpointOffer,
        privateKey: Curve25519.KeyAgreement.PrivateKey,
        peer: Curve25519.KeyAgreement.PublicKey,
        destination: Curve25519.KeyAgreement.PublicKey
    ) throws(CheckpointError) {
        let shared: SharedSecret
        do {
            shared = try privateKey.sharedSecretFromKeyAgreement(with: peer)
        } catch {
            throw CheckpointError(.invalidOffer, expected: "a usable X25519 public key", found: "\(error)")
        }
        var info = Self.label
        for field in [offer.workload, offer.transferID, offer.manifest.digest, String(offer.chunkSize)] {
            Self.appendLengthPrefixed(Array(field.utf8), to: &info)
        }
        key = shared.hkdfDerivedSymmetricKey(
            using: SHA256.self,
            salt: offer.ephemeralPublicKey + destination.rawRepresentation,
            sharedInfo: info,
            outputByteCount: 32
        )
    }

    /// `plaintext` sealed as `chunk` of a transfer of `count` chunks: ciphertext then the 16-byte tag.
    func seal(_ plaintext: [UInt8], chunk: ChunkLayout.Chunk, path: String, count: Int) throws -> Data {
        let box = try AES.GCM.seal(
            plaintext,
            using: key,
            nonce: Self.nonce(chunk.index),
            authenticating: Self.associatedData(chunk, path: path, count: count)
        )
        return box.ciphertext + box.tag
    }

    /// The plaintext of `sealed` as `chunk`, or `nil` when it does not authenticate.
    func open(_ sealed: Data, chunk: ChunkLayout.Chunk, path: String, count: Int) -> Data? {
        guard sealed.count >= 16 else { return nil }
        guard
            let box = try? AES.GCM.SealedBox(
                nonce: Self.nonce(chunk.index),
                ciphertext: sealed.prefix(sealed.count - 16),
                tag: sealed.suffix(16)
            )
        else { return nil }
        return try? AES.GCM.open(box, using: key, authenticating: Self.associatedData(chunk, path: path, count: count))
    }

    /// Four zero bytes, then the chunk index big-endian: unique per chunk under a key used for one transfer.
    static func nonce(_ index: Int) throws -> AES.GCM.Nonce {
        var bytes = [UInt8](repeating: 0, count: 4)
        appendBigEndian(UInt64(index), to: &bytes)
        return try AES.GCM.Nonce(data: bytes)
    }

    /// The label, the index, the chunk count, the file's path, the offset and the last-chunk flag.
    static func associatedData(_ chunk: ChunkLayout.Chunk, path: String, count: Int) -> [UInt8] {
        var data = Array("sovereign checkpoint chunk v1".utf8)
        appendBigEndian(UInt64(chunk.index), to: &data)
        appendBigEndian(UInt64(count), to: &data)
        appendLengthPrefixed(Array(path.utf8), to: &data)
        appendBigEndian(UInt64(chunk.offset), to: &data)
        data.append(chunk.isLast ? 1 : 0)
        return data
    }

    private static func appendLengthPrefixed(_ bytes: [UInt8], to output: inout [UInt8]) {
        appendBigEndian(UInt64(bytes.count), to: &output)
        output.append(contentsOf: bytes)
    }

    private static func appendBigEndian(_ value: UInt64, to output: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }
}
