import Crypto
public import Foundation

/// What a sender announces for one transfer, in the clear (the relay may read it; it holds no checkpoint
/// byte): the workload, the transfer's id, the manifest, the chunk size and the sender's ephemeral public
/// key. The destination derives the transfer's key from it and its own private key.
public struct CheckpointOffer: Sendable, Hashable, Codable {
    /// The workload whose checkpoint this is.
    public let workload: String
    /// The transfer's id, unique per move (it becomes part of a directory name at the receiver).
    public let transferID: String
    /// The files and their digests.
    public let manifest: CheckpointManifest
    /// Plaintext bytes per chunk.
    public let chunkSize: Int
    /// The sender's ephemeral X25519 public key, raw (32 bytes).
    public let ephemeralPublicKey: Data

    /// The default chunk size: 1 MiB of plaintext.
    public static let defaultChunkSize = 1 << 20

    /// The largest chunk size accepted, so a hostile offer cannot make a receiver allocate without bound.
    public static let maximumChunkSize = 64 << 20

    /// Makes an offer, checking the transfer id and the chunk size.
    ///
    /// - Throws: ``CheckpointError`` of kind `invalidOffer`.
    public init(
        workload: String,
        transferID: String,
        manifest: CheckpointManifest,
        chunkSize: Int,
        ephemeralPublicKey: Data
    ) throws(CheckpointError) {
        self.workload = workload
        self.transferID = transferID
        self.manifest = manifest
        self.chunkSize = chunkSize
        self.ephemeralPublicKey = ephemeralPublicKey
        try check()
    }

    /// Decodes an offer and checks it as the initializer does.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            workload: container.decode(String.self, forKey: .workload),
            transferID: container.decode(String.self, forKey: .transferID),
            manifest: container.decode(CheckpointManifest.self, forKey: .manifest),
            chunkSize: container.decode(Int.self, forKey: .chunkSize),
            ephemeralPublicKey: container.decode(Data.self, forKey: .ephemeralPublicKey)
        )
    }

    private enum CodingKeys: String, CodingKey {
        case workload, transferID, manifest, chunkSize, ephemeralPublicKey
    }

    /// The chunks of this transfer.
    public var layout: ChunkLayout { ChunkLayout(manifest, chunkSize: chunkSize) }

    private func check() throws(CheckpointError) {
        guard CheckpointPath.isSafeName(transferID) else {
            throw CheckpointError(
                .invalidOffer,
                expected: "a transfer id of letters, digits, \".\", \"_\" or \"-\" (not starting with \".\")",
                found: "\"\(transferID)\""
            )
        }
        guard !workload.isEmpty else {
            throw CheckpointError(.invalidOffer, expected: "a workload name", found: "an empty one")
        }
        guard (1...Self.maximumChunkSize).contains(chunkSize) else {
            throw CheckpointError(
                .invalidOffer,
                expected: "a chunk size in 1...\(Self.maximumChunkSize)",
                found: String(chunkSize)
            )
        }
        guard (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: ephemeralPublicKey)) != nil else {
            throw CheckpointError(
                .invalidOffer,
                expected: "a 32-byte X25519 public key",
                found: "\(ephemeralPublicKey.count) bytes"
            )
        }
    }
}
