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
    /// The most sealed bytes one source site may hold at the relay at once, over all its transfers.
    public let quota: Int64
    /// The free space the relay always leaves on its file system.
    public let reserve: Int64
    /// The chunk layout of each transfer whose offer was stored or read, by transfer.
    private let layouts = LayoutCache()

    /// The default ``quota``: 1 TB, a large model's checkpoint with its optimiser state.
    public static let defaultQuota: Int64 = 1_000_000_000_000

    /// A relay keeping its files under `root` (created on first use), holding at most `quota` sealed bytes
    /// from any one source site and leaving `reserve` bytes free on its file system.
    public init(root: URL, quota: Int64 = Self.defaultQuota, reserve: Int64 = 1 << 30) {
        self.root = root
        self.quota = quota
        self.reserve = reserve
    }

    /// Stores the source's signed offer for `transfer`, after checking it is signed by `sender`, names
    /// `transfer` and fits: with the site's `others` (its other transfers through the relay) within the
    /// ``quota``, and within the file system's free space less the ``reserve``. Chunks of an earlier offer of
    /// the same transfer are dropped: a source that restarted seals with a new ephemeral key.
    ///
    /// - Throws: ``RelayError`` naming the field at fault (a source refused for space tries again later, as
    ///   it does after any refusal, so the relay's space is back pressure, not a failure).
    public func storeOffer(
        _ signed: SignedOffer,
        transfer: String,
        sender: Curve25519SigningKey,
        alongside others: [String] = []
    ) throws {
        let offer: CheckpointOffer
        do {
            offer = try signed.verified(by: sender.key)
        } catch {
            throw RelayError(field: "offer", "\(error)")
        }
        guard offer.transferID == transfer else {
            throw RelayError(field: "offer", "expected an offer for transfer \(transfer), found \(offer.transferID)")
        }
        try checkSpace(for: offer, alongside: others.filter { $0 != transfer })
        let directory = try self.directory(transfer)
        layouts.forget(transfer)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try POSIX.writeAtomically(
            try JSONEncoder().encode(signed),
            to: directory.appendingPathComponent("offer.json").path
        )
        layouts.keep(offer, for: transfer)
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
            return try layout(transfer).layout.chunk(index).length + 16
        } catch let error as CheckpointError {
            throw RelayError(field: "chunk", "\(error)")
        }
    }

    /// Refuses an offer whose sealed bytes would take the site past its quota or the file system into its
    /// reserve.
    func checkSpace(for offer: CheckpointOffer, alongside others: [String]) throws {
        let needed = Self.sealedBytes(offer.layout, plaintext: offer.manifest.totalSize)
        let held = others.reduce(Int64(0)) { total, transfer in
            total + ((try? layout(transfer)).map { Self.sealedBytes($0.layout, plaintext: $0.bytes) } ?? 0)
        }
        guard held + needed <= quota else {
            throw RelayError(
                field: "offer",
                "expected at most \(quota) sealed bytes in transit from one site (serve --relay-quota), found \(held) held for its other transfers and \(needed) offered"
            )
        }
        let free = Self.freeBytes(under: root.deletingLastPathComponent().path)
        guard needed <= free - reserve else {
            throw RelayError(
                field: "offer",
                "expected room for \(needed) sealed bytes at the relay with \(reserve) bytes kept free, found \(max(0, free)) free"
            )
        }
    }

    /// A transfer's bytes once sealed: its plaintext and a 16-byte tag per chunk.
    static func sealedBytes(_ layout: ChunkLayout, plaintext: Int64) -> Int64 {
        plaintext + 16 * Int64(layout.chunkCount)
    }

    /// The bytes an unprivileged writer may still use on the file system holding `path`.
    static func freeBytes(under path: String) -> Int64 {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return Int64.max }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    /// The chunk layout of `transfer`, from memory or else from its stored offer.
    ///
    /// - Throws: ``RelayError`` when no offer has been stored, or the stored one does not decode.
    func layout(_ transfer: String) throws -> LayoutCache.Entry {
        if let known = layouts.entry(of: transfer) { return known }
        guard let signed = try offer(transfer) else {
            throw RelayError(field: "transfer", "expected an offer before chunks, found none for \(transfer)")
        }
        let offer: CheckpointOffer
        do {
            offer = try signed.unverified()
        } catch {
            throw RelayError(field: "offer", "the stored offer of \(transfer) does not decode: \(error)")
        }
        layouts.keep(offer, for: transfer)
        return LayoutCache.Entry(offer)
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
    /// A transfer's chunks and its plaintext bytes.
    struct Entry: Sendable {
        let layout: ChunkLayout
        let bytes: Int64

        init(_ offer: CheckpointOffer) {
            layout = offer.layout
            bytes = offer.manifest.totalSize
        }
    }

    private let entries = Mutex<[String: Entry]>([:])

    func entry(of transfer: String) -> Entry? { entries.withLock { $0[transfer] } }
    func keep(_ offer: CheckpointOffer, for transfer: String) { entries.withLock { $0[transfer] = Entry(offer) } }
    func forget(_ transfer: String) { _ = entries.withLock { $0.removeValue(forKey: transfer) } }
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
