public import Crypto
public import Foundation
import SovereignBase

/// The source side of one transfer: it packs the checkpoint directory into a manifest once, makes an
/// ephemeral key, and seals chunk *i* on demand by reading its bytes at their offset, so a transfer
/// resumes from whatever chunk the receiver lacks. Only ciphertext leaves it.
///
/// Memory is one chunk per call, whatever the checkpoint's size.
public struct CheckpointSender: Sendable {
    /// What the destination needs to open the chunks (it holds no checkpoint byte).
    public let offer: CheckpointOffer
    /// The chunks of the transfer.
    public let layout: ChunkLayout
    private let directory: String
    private let stamps: [FileStamp]
    private let cipher: ChunkCipher

    /// Packs the checkpoint at `directory` for the holder of `destination`'s private key.
    ///
    /// - Parameters:
    ///   - directory: The checkpoint directory (it must not change until the transfer ends).
    ///   - workload: The workload whose checkpoint it is.
    ///   - transferID: The move's id.
    ///   - destination: The destination agent's X25519 public key.
    ///   - chunkSize: Plaintext bytes per chunk.
    /// - Throws: ``CheckpointError`` for a directory that cannot be packed or a malformed offer.
    /// - Complexity: reads every byte of the checkpoint once.
    public init(
        directory: String,
        workload: String,
        transferID: String,
        destination: Curve25519.KeyAgreement.PublicKey,
        chunkSize: Int = CheckpointOffer.defaultChunkSize
    ) throws(CheckpointError) {
        let (manifest, stamps) = try CheckpointManifest.packWithStamps(directory: directory)
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let offer = try CheckpointOffer(
            workload: workload,
            transferID: transferID,
            manifest: manifest,
            chunkSize: chunkSize,
            ephemeralPublicKey: ephemeral.publicKey.rawRepresentation
        )
        self.offer = offer
        self.layout = offer.layout
        self.directory = directory
        self.stamps = stamps
        cipher = try ChunkCipher(offer: offer, privateKey: ephemeral, peer: destination, destination: destination)
    }

    /// Chunk `index` sealed for the destination: ciphertext then the 16-byte tag.
    ///
    /// - Throws: ``CheckpointError``: an index outside the transfer, a file that changed since it was
    ///   packed (sealing other bytes under the same nonce would break AES-GCM), or a read that failed.
    public func chunk(_ index: Int) throws(CheckpointError) -> Data {
        let chunk = try layout.chunk(index)
        let file = offer.manifest.files[chunk.file]
        let path = directory + "/" + file.path
        let plaintext = try read(chunk, at: path, relative: file.path)
        let now = try FileStamp.of(path, relative: file.path)
        guard now == stamps[chunk.file] else {
            throw CheckpointError(
                .changedAtSource,
                file: file.path,
                chunk: index,
                expected: "the file as packed (\(file.size) bytes)",
                found: "it changed (now \(now.size) bytes)"
            )
        }
        do {
            return try cipher.seal(plaintext, chunk: chunk, path: file.path, count: layout.chunkCount)
        } catch {
            throw CheckpointError(.badChunk, chunk: index, expected: "a sealed chunk", found: "\(error)")
        }
    }

    /// The plaintext of `chunk`, read with one positioned read into a buffer of exactly its length.
    private func read(_ chunk: ChunkLayout.Chunk, at path: String, relative: String) throws(CheckpointError) -> [UInt8]
    {
        let bytes: [UInt8]
        do {
            let file = try POSIX.File(path, for: .reading)
            bytes = try [UInt8](unsafeUninitializedCapacity: chunk.length) { buffer, initialized in
                initialized = try file.read(into: UnsafeMutableRawBufferPointer(buffer), at: chunk.offset)
            }
        } catch {
            throw CheckpointError(
                .fileSystem,
                file: relative,
                chunk: chunk.index,
                expected: "a readable file",
                found: "\(error)"
            )
        }
        guard bytes.count == chunk.length else {
            throw CheckpointError(
                .changedAtSource,
                file: relative,
                chunk: chunk.index,
                expected: "\(chunk.length) bytes at offset \(chunk.offset)",
                found: "\(bytes.count)"
            )
        }
        return bytes
    }
}
