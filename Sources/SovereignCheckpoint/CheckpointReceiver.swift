public import Crypto
public import Foundation
import SovereignBase

/// The destination side of one transfer. Under its root (the workload's directory at the destination) it
/// writes each chunk that authenticates into a staging directory, remembers which chunks it has in a
/// state file (so a restarted receiver resumes), and on ``commit()`` checks every file's size and SHA-256
/// against the manifest before renaming the staging directory into place as `checkpoint`. Anything short
/// of that leaves the previous checkpoint untouched.
///
/// What is synced, when, and why:
/// - A chunk is written into staging without a sync of its own (a sync per 1 MiB chunk cost more than
///   everything else on the path). Once ``syncInterval`` bytes were written since the last sync, the staging
///   files written to are synced, and only then are their chunks recorded as synced in the state file.
/// - The state file is written atomically after every chunk, not synced: it names the chunks received,
///   those synced, and the machine's boot (``POSIX/bootID()``). A receiver resumed in the same boot trusts
///   every chunk received (a process that dies loses nothing it wrote: the bytes are in the page cache or on
///   the disk), and syncs them with the next batch; one resumed after the machine restarted trusts only the
///   chunks synced before the state was written, and fetches the others again. So a resumed transfer never
///   trusts a chunk whose bytes a crash may have lost.
/// - ``commit()`` reads every staged file back for its digest, syncs every staged file, renames staging into
///   place and syncs the directory: a checkpoint is never in place before all its bytes are on the disk.
///
/// Layout under the root: `checkpoint/` (the checkpoint in place), `.checkpoint-incoming-ID/` (staging),
/// `.checkpoint-incoming-ID.state` (the chunks received) and, only during a commit,
/// `.checkpoint-previous-ID/`. Memory is one chunk per call, whatever the checkpoint's size.
public struct CheckpointReceiver: Sendable {
    /// The name of the checkpoint directory under the root, as the executors give it to the workload.
    public static let directoryName = "checkpoint"

    /// The transfer being received.
    public let offer: CheckpointOffer
    /// The chunks of the transfer.
    public let layout: ChunkLayout
    /// The chunks received and written so far.
    public private(set) var received: ChunkSet
    /// The plaintext bytes written between two syncs of staging (the last batch is synced by the commit).
    public let syncInterval: Int64
    /// The received chunks whose staged bytes were synced.
    private var synced: ChunkSet
    /// The staging files written, and the bytes, since the last sync.
    private var unsynced = Unsynced()
    private let boot: String?
    private let paths: ReceiverPaths
    private let cipher: ChunkCipher

    /// The default ``syncInterval``: 64 MiB, so a machine crash costs at most that much fetched again, and a
    /// transfer makes a few large syncs instead of one per chunk.
    public static let defaultSyncInterval: Int64 = 64 << 20

    /// Opens (or resumes) the transfer `offer` under `root` with the destination's private key.
    ///
    /// A state file left by an earlier receiver of the same transfer (same id, manifest digest and chunk
    /// size) is resumed; anything else left in staging is discarded. A commit that a crash interrupted is
    /// rolled back to the previous checkpoint first.
    ///
    /// - Parameters:
    ///   - root: The workload's directory at the destination.
    ///   - offer: The transfer, its signature already checked.
    ///   - privateKey: The destination's X25519 key.
    ///   - syncInterval: The plaintext bytes written between two syncs of staging.
    /// - Throws: ``CheckpointError`` when the root cannot be prepared or the offer's key is unusable.
    public init(
        root: String,
        offer: CheckpointOffer,
        privateKey: Curve25519.KeyAgreement.PrivateKey,
        syncInterval: Int64 = Self.defaultSyncInterval
    )
        throws(CheckpointError)
    {
        let paths = ReceiverPaths(root: root, transferID: offer.transferID)
        try paths.recoverInterruptedCommit()
        let boot = POSIX.bootID()
        let state = paths.loadState().flatMap { $0.identity == ReceiverState.Identity(offer) ? $0 : nil }
        let resumed = state.flatMap { paths.exists(paths.staging) ? $0.trusted(inBoot: boot) : nil }
        if resumed == nil {
            try paths.removeIfPresent(paths.staging)
            try paths.createDirectory(paths.staging)
        }
        let peer: Curve25519.KeyAgreement.PublicKey
        do {
            peer = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: offer.ephemeralPublicKey)
        } catch {
            throw CheckpointError(.invalidOffer, expected: "a 32-byte X25519 public key", found: "\(error)")
        }
        self.offer = offer
        self.layout = offer.layout
        self.received = resumed?.received ?? ChunkSet()
        self.synced = resumed?.synced ?? ChunkSet()
        self.syncInterval = syncInterval
        self.boot = boot
        self.paths = paths
        cipher = try ChunkCipher(offer: offer, privateKey: privateKey, peer: peer, destination: privateKey.publicKey)
        // Chunks trusted but not synced (a receiver restarted in the same boot) go with the next sync.
        if received != synced {
            unsynced.files = Set(offer.manifest.files.indices.filter { received.overlaps(layout.chunks(ofFile: $0)) })
        }
        try persist()
    }

    /// The first chunk not yet received, where a resumed transfer starts; `nil` when all are in.
    public var firstMissingChunk: Int? { received.firstMissing(below: layout.chunkCount) }

    /// Whether every chunk has been received.
    public var isComplete: Bool { firstMissingChunk == nil }

    /// Opens chunk `index` and writes its plaintext into staging; a chunk already received is ignored.
    ///
    /// - Throws: ``CheckpointError``: `badChunk` for an index outside the transfer or a wrong length,
    ///   `unauthentic` for a chunk that does not open (altered, moved, from another transfer or for another
    ///   key), `fileSystem` for a write that failed. Nothing is recorded for a chunk that throws.
    public mutating func receive(_ index: Int, sealed: Data) throws(CheckpointError) {
        let chunk = try layout.chunk(index)
        guard !received.contains(index) else { return }
        let file = offer.manifest.files[chunk.file]
        guard sealed.count == chunk.length + 16 else {
            throw CheckpointError(
                .badChunk,
                file: file.path,
                chunk: index,
                expected: "\(chunk.length + 16) sealed bytes",
                found: "\(sealed.count)"
            )
        }
        guard let plaintext = cipher.open(sealed, chunk: chunk, path: file.path, count: layout.chunkCount) else {
            throw CheckpointError(
                .unauthentic,
                file: file.path,
                chunk: index,
                expected: "chunk \(index) of transfer \(offer.transferID) sealed for this destination's key",
                found: "bytes that do not authenticate (altered, reordered, from another transfer or another key)"
            )
        }
        try paths.write(plaintext, to: file.path, at: chunk.offset, chunk: index)
        unsynced.files.insert(chunk.file)
        unsynced.bytes += Int64(chunk.length)
        var now = received
        now.insert(index)
        if unsynced.bytes >= syncInterval { try syncStaging(received: now) }
        received = now
        try persist()
    }

    /// Syncs the staging files written since the last sync, after which all of `received` is synced.
    private mutating func syncStaging(received: ChunkSet) throws(CheckpointError) {
        try paths.syncStaged(unsynced.files.sorted().map { offer.manifest.files[$0].path })
        synced = received
        unsynced = Unsynced()
    }

    /// Checks every file against the manifest and, only if all match, puts the checkpoint in place.
    ///
    /// - Returns: The path of the checkpoint directory now in place.
    /// - Throws: ``CheckpointError``: `incomplete` naming the first missing chunk, or `digestMismatch`
    ///   naming the file, the size and digest expected and those found (that file's chunks are then
    ///   forgotten, so a resumed transfer fetches them again). The previous checkpoint stays in place.
    public mutating func commit() throws(CheckpointError) -> String {
        if let missing = firstMissingChunk {
            throw CheckpointError(
                .incomplete,
                chunk: missing,
                expected: "all \(layout.chunkCount) chunks",
                found: "\(received.count) received"
            )
        }
        for (index, file) in offer.manifest.files.enumerated() {
            let (size, digest) = try FileDigest.sha256(of: paths.staging + "/" + file.path, relative: file.path)
            guard size == file.size, digest == file.sha256 else {
                received.remove(layout.chunks(ofFile: index))
                synced.remove(layout.chunks(ofFile: index))
                try persist()
                throw CheckpointError(
                    .digestMismatch,
                    file: file.path,
                    expected: "\(file.size) bytes with SHA-256 \(file.sha256)",
                    found: "\(size) bytes with SHA-256 \(digest)"
                )
            }
        }
        try paths.syncStaged(offer.manifest.files.map(\.path))
        try paths.swapIntoPlace()
        return paths.checkpoint
    }

    /// Removes the staging directory and state file, leaving the previous checkpoint as it was.
    public func abandon() throws(CheckpointError) {
        try Self.abandon(root: paths.root, transferID: offer.transferID)
    }

    /// Removes what a receiver of transfer `transferID` staged under `root` (a transfer no longer wanted),
    /// without its offer; the checkpoint in place is left as it was.
    ///
    /// - Throws: ``CheckpointError``: `invalidOffer` for an id that is not a safe name, `fileSystem` for a
    ///   removal that failed.
    public static func abandon(root: String, transferID: String) throws(CheckpointError) {
        guard CheckpointPath.isSafeName(transferID) else {
            throw CheckpointError(.invalidOffer, expected: "a transfer id", found: "\"\(transferID.prefix(80))\"")
        }
        let paths = ReceiverPaths(root: root, transferID: transferID)
        try paths.removeIfPresent(paths.staging)
        try paths.removeIfPresent(paths.state)
    }

    private func persist() throws(CheckpointError) {
        try paths.saveState(
            ReceiverState(identity: ReceiverState.Identity(offer), received: received, synced: synced, boot: boot)
        )
    }

    /// The staging files written, and the plaintext bytes, since the last sync.
    private struct Unsynced: Sendable {
        var files: Set<Int> = []
        var bytes: Int64 = 0
    }
}

/// What a receiver persists: which transfer, which of its chunks are in staging, which of those were synced
/// to disk, and in which boot of the machine the state was written.
struct ReceiverState: Codable, Sendable {
    /// What makes two offers the same transfer (the sender's ephemeral key may change when it restarts:
    /// chunks already received were authenticated and their bytes are checked again at commit).
    struct Identity: Codable, Sendable, Hashable {
        let transferID: String
        let workload: String
        let manifestDigest: String
        let chunkSize: Int

        init(_ offer: CheckpointOffer) {
            transferID = offer.transferID
            workload = offer.workload
            manifestDigest = offer.manifest.digest
            chunkSize = offer.chunkSize
        }
    }

    let identity: Identity
    let received: ChunkSet
    let synced: ChunkSet
    let boot: String?

    /// The chunks a receiver resumed in `boot` may trust: all those received when the machine has not
    /// restarted since the state was written (nothing written was lost), else only those synced.
    func trusted(inBoot boot: String?) -> (received: ChunkSet, synced: ChunkSet) {
        if let boot, boot == self.boot { return (received, synced) }
        return (synced, synced)
    }
}
