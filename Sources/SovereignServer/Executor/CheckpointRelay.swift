import Crypto
public import Foundation
import SovereignBase
public import SovereignCheckpoint
import Synchronization

/// Where checkpoints wait between two site agents that only pull: the source agent uploads a signed offer
/// and its ciphertext chunks, the destination agent downloads them. The relay holds no key, so it stores
/// ciphertext only (and the offer's manifest: file names, sizes and digests).
///
/// Layout under its root: `TRANSFER/offer.json` and `TRANSFER/chunk-N`. A transfer's id becomes a directory
/// name only after the control plane has matched it to a move it ordered (so a request never names a path)
/// and ``CheckpointPath``'s rule for names has accepted it.
///
/// The relay is a transit buffer, not a store of record: the checkpoint stays at its source until the move is
/// recorded, and every chunk is authenticated by its destination. So chunks are written atomically but not
/// synced (a per-chunk `fsync` cost more than everything else on the path): a machine crash that leaves a
/// chunk damaged costs that transfer, whose fetch fails and whose move is ordered again, never a checkpoint.
/// The offer is synced. Each transfer's chunk layout is kept in memory once its offer is read, so a chunk
/// is checked without decoding the offer again.
public struct CheckpointRelay: Sendable {
    /// The relay's directory.
    public let root: URL
    /// The chunk layout of each transfer whose offer was stored or read, by transfer.
    private let layouts = LayoutCache()

    /// A relay keeping its files under `root` (created on first use).
    public init(root: URL) {
        self.root = root
    }

    /// Stores the source's signed offer for `transfer`, after checking it is signed by `sender` and names
    /// `transfer`. Chunks of an earlier offer of the same transfer are dropped: a source that restarted
    /// seals with a new ephemeral key.
    ///
    /// - Throws: ``RelayError`` naming the field at fault.
    public func storeOffer(_ signed: SignedOffer, transfer: String, sender: Curve25519SigningKey) throws {
        let offer: CheckpointOffer
        do {
            offer = try signed.verified(by: sender.key)
        } catch {
            throw RelayError(field: "offer", "\(error)")
        }
        guard offer.transferID == transfer else {
            throw RelayError(field: "offer", "expected an offer for transfer \(transfer), found \(offer.transferID)")
        }
        let directory = try self.directory(transfer)
        layouts.forget(transfer)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try POSIX.writeAtomically(
            try JSONEncoder().encode(signed),
            to: directory.appendingPathComponent("offer.json").path
        )
        layouts.keep(offer.layout, for: transfer)
    }

    /// The stored signed offer of `transfer`, or `nil` when the source has not sent it yet.
    public func offer(_ transfer: String) throws -> SignedOffer? {
        let path = try directory(transfer).appendingPathComponent("offer.json").path
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONDecoder().decode(SignedOffer.self, from: data)
    }

    /// The sealed length chunk `index` of `transfer` must have, from its stored offer.
    ///
    /// - Throws: ``RelayError``: no offer yet, or an index outside the transfer.
    public func sealedLength(_ transfer: String, chunk index: Int) throws -> Int {
        do {
            return try layout(transfer).chunk(index).length + 16
        } catch let error as CheckpointError {
            throw RelayError(field: "chunk", "\(error)")
        }
    }

    /// The chunk layout of `transfer`, from memory or else from its stored offer.
    ///
    /// - Throws: ``RelayError`` when no offer has been stored, or the stored one does not decode.
    func layout(_ transfer: String) throws -> ChunkLayout {
        if let known = layouts.layout(of: transfer) { return known }
        guard let signed = try offer(transfer) else {
            throw RelayError(field: "transfer", "expected an offer before chunks, found none for \(transfer)")
        }
        let layout: ChunkLayout
        do {
            layout = try signed.unverified().layout
        } catch {
            throw RelayError(field: "offer", "the stored offer of \(transfer) does not decode: \(error)")
        }
        layouts.keep(layout, for: transfer)
        return layout
    }

    /// Stores sealed chunk `index` of `transfer` after checking its length against the offer.
    ///
    /// - Throws: ``RelayError`` naming the field at fault.
    public func storeChunk(_ transfer: String, index: Int, sealed: Data) throws {
        let length = try sealedLength(transfer, chunk: index)
        guard sealed.count == length else {
            throw RelayError(field: "body", "expected \(length) sealed bytes for chunk \(index), found \(sealed.count)")
        }
        try POSIX.writeAtomically(sealed, to: try chunkPath(transfer, index), durable: false)
    }

    /// Sealed chunk `index` of `transfer`, or `nil` when it has not arrived yet.
    public func chunk(_ transfer: String, index: Int) throws -> Data? {
        FileManager.default.contents(atPath: try chunkPath(transfer, index))
    }

    /// Forgets every transfer not in `pending` (delivered, or no longer wanted).
    ///
    /// - Returns: the transfers removed.
    @discardableResult
    public func prune(keeping pending: Set<String>) -> [String] {
        let present = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let stale = present.filter { !pending.contains($0) }.sorted()
        for transfer in stale {
            layouts.forget(transfer)
            try? FileManager.default.removeItem(at: root.appendingPathComponent(transfer))
        }
        return stale
    }

    func chunkPath(_ transfer: String, _ index: Int) throws -> String {
        guard index >= 0 else {
            throw RelayError(field: "chunk", "expected a chunk index of 0 or more, found \(index)")
        }
        return try directory(transfer).appendingPathComponent("chunk-\(index)").path
    }

    func directory(_ transfer: String) throws -> URL {
        guard CheckpointPath.isSafeName(transfer) else {
            throw RelayError(field: "transfer", "expected a transfer id of letters, digits, \".\", \"_\" or \"-\"")
        }
        return root.appendingPathComponent(transfer, isDirectory: true)
    }
}

/// The chunk layouts a relay has read, shared by its copies (the relay is a value the control plane copies).
final class LayoutCache: Sendable {
    private let layouts = Mutex<[String: ChunkLayout]>([:])

    func layout(of transfer: String) -> ChunkLayout? { layouts.withLock { $0[transfer] } }
    func keep(_ layout: ChunkLayout, for transfer: String) { layouts.withLock { $0[transfer] = layout } }
    func forget(_ transfer: String) { _ = layouts.withLock { $0.removeValue(forKey: transfer) } }
}

/// An agent's Ed25519 public key, read from its base64 text.
public struct Curve25519SigningKey: Sendable {
    let key: Curve25519.Signing.PublicKey

    /// The key `text` (base64 of 32 raw bytes) encodes, or `nil`.
    public init?(base64 text: String) {
        guard let raw = Data(base64Encoded: text),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else { return nil }
        self.key = key
    }
}

/// A relay request the relay refuses: which field, and what was expected and found.
public struct RelayError: Error, CustomStringConvertible, Sendable {
    /// The request field at fault.
    public let field: String
    public let description: String

    init(field: String, _ description: String) {
        self.field = field
        self.description = description
    }
}
