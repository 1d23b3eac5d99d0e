public import Crypto
public import Foundation
import SovereignBase
public import SovereignCheckpoint

/// How a site agent reaches the control plane's checkpoint relay: upload a signed offer and sealed chunks
/// (as the source), download them (as the destination; `nil` while the source has not sent them).
public struct RelayTransport: Sendable {
    public var putOffer: @Sendable (_ transfer: String, _ offer: SignedOffer) async throws -> Void
    public var putChunk: @Sendable (_ transfer: String, _ index: Int, _ sealed: Data) async throws -> Void
    public var offer: @Sendable (_ transfer: String) async throws -> SignedOffer?
    public var chunk: @Sendable (_ transfer: String, _ index: Int) async throws -> Data?

    /// Makes one from its four calls.
    public init(
        putOffer: @escaping @Sendable (String, SignedOffer) async throws -> Void,
        putChunk: @escaping @Sendable (String, Int, Data) async throws -> Void,
        offer: @escaping @Sendable (String) async throws -> SignedOffer?,
        chunk: @escaping @Sendable (String, Int) async throws -> Data?
    ) {
        self.putOffer = putOffer
        self.putChunk = putChunk
        self.offer = offer
        self.chunk = chunk
    }
}

/// How a checkpoint transfer at this site is doing.
public enum TransferProgress: Sendable, Hashable {
    /// Under way (or waiting for the other side).
    case moving
    /// Sent in full (as the source), or received, checked and put in place (as the destination).
    case done(ReceivedCheckpoint)
    /// Given up, with why.
    case failed(String)
}

/// Moves a site agent's checkpoints: it sends the ones the control plane names (packed, encrypted for the
/// destination's key, the offer signed with this agent's identity) and fetches the ones its attempts wait
/// for (the offer checked against the source's key, every chunk authenticated, every file's digest
/// checked before the checkpoint is put in place).
///
/// Each transfer runs in a task of its own, so polls (and the lease they renew) go on while bytes move.
/// Within a transfer up to ``window`` chunks are in flight at once on each side (sealed and sent, or
/// fetched), so neither side waits a round trip per chunk; the destination takes them in whatever order
/// they arrive. Memory is at most ``window`` chunks per transfer, whatever the checkpoint's size. A fetch
/// interrupted by a restart resumes from the chunks already in staging.
public actor CheckpointCourier {
    /// Where the site's workloads keep their directories (`NAME/checkpoint`).
    public nonisolated let directory: URL
    /// This agent's identity.
    public nonisolated let identity: AgentIdentity
    let relay: RelayTransport
    /// How to reach another agent's peer listener (its URL and the transfer's secret), for checkpoints that
    /// travel directly; `nil` when this agent cannot.
    let peerTransport: (@Sendable (_ url: String, _ secret: String) -> RelayTransport)?
    /// The checkpoints this agent serves to its peers, by transfer: packed, sealed on demand.
    var served: [String: Served] = [:]

    /// A checkpoint ready for the destination that holds its secret.
    struct Served {
        let secret: String
        let offer: SignedOffer
        let sender: CheckpointSender
    }
    /// How long to wait before asking again for an offer or a chunk the other side has not sent yet.
    let patience: Duration
    /// Plaintext bytes per chunk of the checkpoints it sends.
    let chunkSize: Int
    /// The most chunks of one transfer in flight at once, on each side.
    let window: Int
    /// The default ``window``: enough requests in flight to hide a round trip on a fast link.
    public static let defaultWindow = 8
    let say: @Sendable (String) -> Void

    var tasks: [String: Task<Void, Never>] = [:]
    /// When each transfer under way started, so its end can say how long it took.
    var started: [String: ContinuousClock.Instant] = [:]
    var progress: [String: TransferProgress] = [:]
    /// The transfers this site sends (the rest it fetches), and those of them that failed once.
    var sending: Set<String> = []
    var failedSends: Set<String> = []
    /// The fetches started, with the workload each is for.
    var fetching: [String: String] = [:]

    /// A courier for the workloads under `directory`.
    public init(
        directory: URL,
        identity: AgentIdentity,
        relay: RelayTransport,
        patience: Duration = .milliseconds(250),
        chunkSize: Int = CheckpointOffer.defaultChunkSize,
        window: Int = CheckpointCourier.defaultWindow,
        peerTransport: (@Sendable (_ url: String, _ secret: String) -> RelayTransport)? = nil,
        say: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.chunkSize = chunkSize
        self.window = max(1, window)
        self.peerTransport = peerTransport
        self.directory = directory
        self.identity = identity
        self.relay = relay
        self.patience = patience
        self.say = say
    }

    /// How each transfer this courier knows of is doing, by transfer id.
    public func transfers() -> [String: TransferProgress] { progress }

    /// Starts sending each of `sends` not already sent or under way, and stops sending any transfer no
    /// longer in the list (delivered, or no longer wanted).
    public func send(_ sends: [CheckpointSend]) {
        let wanted = Set(sends.map(\.transfer))
        for transfer in sending where !wanted.contains(transfer) { cancel(transfer) }
        for send in sends where tasks[send.transfer] == nil && progress[send.transfer] == nil {
            sending.insert(send.transfer)
            if let secret = send.secret {
                start(send.transfer) { courier in try await courier.serve(send, secret: secret) }
            } else {
                start(send.transfer) { courier in try await courier.upload(send) }
            }
        }
    }

    func isSend(_ transfer: String) -> Bool { sending.contains(transfer) }

    /// Starts fetching `fetch` into `workload`'s directory, unless it is under way or done.
    public func fetch(_ fetch: CheckpointFetch, workload: String) {
        guard tasks[fetch.transfer] == nil, progress[fetch.transfer] == nil else { return }
        fetching[fetch.transfer] = workload
        start(fetch.transfer) { courier in try await courier.download(fetch, workload: workload) }
    }

    /// The checkpoints fetched and put in place, by transfer.
    public func fetched() -> [String: ReceivedCheckpoint] {
        progress.compactMapValues { if case .done(let received) = $0 { received } else { nil } }
            .filter { !sending.contains($0.key) }
    }

    /// Stops and forgets every fetch not in `wanted` (a replica the control plane has recorded, or no longer
    /// wants); sends are left alone.
    public func keepFetching(_ wanted: Set<String>) {
        for transfer in Set(progress.keys).subtracting(sending).subtracting(wanted) { cancel(transfer) }
    }

    /// Stops a transfer and forgets it; what a fetch staged is removed (a transfer no longer wanted never
    /// resumes: a later one has another id). A fetch interrupted by a restart, not cancelled, resumes.
    public func cancel(_ transfer: String) {
        tasks[transfer]?.cancel()
        tasks[transfer] = nil
        started[transfer] = nil
        if let workload = fetching.removeValue(forKey: transfer) {
            try? CheckpointReceiver.abandon(root: directory.appendingPathComponent(workload).path, transferID: transfer)
        }
        progress[transfer] = nil
        sending.remove(transfer)
        failedSends.remove(transfer)
        served[transfer] = nil
    }

    /// The offer and sender of `transfer`, for a peer that presents its secret (else `nil`, whether the
    /// transfer is unknown or the secret wrong).
    public func served(_ transfer: String, secret: String) -> (SignedOffer, CheckpointSender)? {
        guard let entry = served[transfer],
            ConstantTime.equal(Self.digest(entry.secret), Self.digest(secret))
        else { return nil }
        return (entry.offer, entry.sender)
    }

    static func digest(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Data(text.utf8))) }

    /// Packs a checkpoint and keeps it ready for the destination's fetch, instead of uploading it.
    func serve(_ send: CheckpointSend, secret: String) async throws -> ReceivedCheckpoint {
        let sender = try packed(send)
        let offer = try SignedOffer(sender.offer, key: identity.signing)
        served[send.transfer] = Served(secret: secret, offer: offer, sender: sender)
        let manifest = sender.offer.manifest
        return ReceivedCheckpoint(transfer: send.transfer, manifest: manifest.digest, bytes: manifest.totalSize)
    }

    /// The sender of `send`'s checkpoint, sealed for its recipient.
    nonisolated func packed(_ send: CheckpointSend) throws -> CheckpointSender {
        guard let raw = Data(base64Encoded: send.recipientKey),
            let recipient = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw)
        else { throw CourierError("recipientKey: expected base64 of a 32-byte X25519 key") }
        return try CheckpointSender(
            directory: checkpointDirectory(send.workload).path,
            workload: send.workload,
            transferID: send.transfer,
            destination: recipient,
            chunkSize: chunkSize
        )
    }

    func start(_ transfer: String, _ body: @escaping @Sendable (CheckpointCourier) async throws -> ReceivedCheckpoint) {
        progress[transfer] = .moving
        started[transfer] = .now
        tasks[transfer] = Task { [weak self] in
            guard let self else { return }
            let outcome: TransferProgress
            do {
                outcome = .done(try await body(self))
            } catch is CancellationError {
                return
            } catch {
                outcome = .failed("\(error)")
            }
            await self.finished(transfer, outcome)
        }
    }

    /// Records how a transfer ended. A send that failed (its checkpoint missing, or changed while it was
    /// packed) is forgotten, so the next poll that still names it tries again; it is said once.
    func finished(_ transfer: String, _ outcome: TransferProgress) {
        guard tasks[transfer] != nil else { return }
        tasks[transfer] = nil
        progress[transfer] = outcome
        let took = started.removeValue(forKey: transfer).map { $0.duration(to: .now) }
        switch outcome {
        case .done(let received):
            let verb = sending.contains(transfer) ? "sent" : "received"
            say("checkpoint transfer \(transfer): \(verb) \(received.bytes) bytes\(Self.pace(received.bytes, took))")
        case .failed(let why):
            if !failedSends.contains(transfer) { say("checkpoint transfer \(transfer) failed: \(why)") }
            if sending.contains(transfer) {
                progress[transfer] = nil
                failedSends.insert(transfer)
            }
        case .moving: break
        }
    }

    /// How long `bytes` took and at what rate: " in 2.41 s (425 MiB/s)", or nothing when that is unknown.
    static func pace(_ bytes: Int64, _ took: Duration?) -> String {
        guard let took else { return "" }
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(bytes) / Double(1 << 20) / seconds : 0
        return " in " + String(format: "%.2f s (%.0f MiB/s)", seconds, rate)
    }

    /// Packs, seals and uploads one checkpoint, up to ``window`` chunks sealed and in flight at once.
    nonisolated func upload(_ send: CheckpointSend) async throws -> ReceivedCheckpoint {
        let sender = try packed(send)
        let signed = try SignedOffer(sender.offer, key: identity.signing)
        let relay = relay
        try await persistently("sending the offer of \(send.transfer)") {
            try await relay.putOffer(send.transfer, signed)
        }
        try await Self.windowed(0..<sender.layout.chunkCount, window: window) { index in
            let sealed = try sender.chunk(index)
            try await self.persistently("sending chunk \(index) of \(send.transfer)") {
                try await relay.putChunk(send.transfer, index, sealed)
            }
        }
        let manifest = sender.offer.manifest
        return ReceivedCheckpoint(transfer: send.transfer, manifest: manifest.digest, bytes: manifest.totalSize)
    }

    /// Runs `work` for every index of `indices`, at most `window` at once, started in order, and hands each
    /// result to `each` as it finishes (in the order they finish). The first error cancels the rest.
    static func windowed<T: Sendable>(
        _ indices: some Sequence<Int>,
        window: Int,
        _ work: @escaping @Sendable (Int) async throws -> T,
        each: (Int, T) throws -> Void = { _, _ in }
    ) async throws {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var running = 0
            for index in indices {
                if running == window, let (done, result) = try await group.next() {
                    running -= 1
                    try each(done, result)
                }
                group.addTask { (index, try await work(index)) }
                running += 1
            }
            while let (done, result) = try await group.next() { try each(done, result) }
        }
    }

    /// Downloads, checks and puts in place one checkpoint. An offer that changes under it (the source
    /// restarted and sealed again with a new key) is read again; chunks already received stay.
    func download(_ fetch: CheckpointFetch, workload: String) async throws -> ReceivedCheckpoint {
        guard let text = fetch.senderKey, let raw = Data(base64Encoded: text),
            let sender = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else { throw CourierError("senderKey: expected base64 of the source agent's 32-byte Ed25519 key") }
        let relay = try source(of: fetch)
        var refusals = 0
        while true {
            let offer = try await waitForOffer(fetch.transfer, from: relay).verified(by: sender)
            guard offer.workload == workload, offer.transferID == fetch.transfer else {
                throw CourierError(
                    "offer: expected transfer \(fetch.transfer) of \(workload), found \(offer.transferID) of \(offer.workload)"
                )
            }
            do {
                try await receive(offer, into: workload, from: relay)
                return ReceivedCheckpoint(
                    transfer: fetch.transfer,
                    manifest: offer.manifest.digest,
                    bytes: offer.manifest.totalSize
                )
            } catch let error as CheckpointError where [.unauthentic, .digestMismatch].contains(error.kind) {
                refusals += 1
                guard refusals < 3 else { throw error }
                say("checkpoint transfer \(fetch.transfer): \(error); reading the offer again")
            }
        }
    }

    /// Fetches every chunk of `offer` not yet staged, up to ``window`` at once, stages each as it arrives
    /// (in any order), and commits the checkpoint once all are in and every file's digest matches.
    nonisolated func receive(_ offer: CheckpointOffer, into workload: String, from relay: RelayTransport) async throws {
        var receiver = try CheckpointReceiver(
            root: directory.appendingPathComponent(workload).path,
            offer: offer,
            privateKey: identity.agreement
        )
        let staged = receiver.received
        let missing = (0..<receiver.layout.chunkCount).lazy.filter { !staged.contains($0) }
        let transfer = offer.transferID
        try await Self.windowed(missing, window: window) { index in
            try await self.waitForChunk(transfer, index, from: relay)
        } each: { index, sealed in
            try receiver.receive(index, sealed: sealed)
        }
        _ = try receiver.commit()
    }

    /// Where a fetch reads from: the source's peer listener for a direct transfer, else the relay.
    func source(of fetch: CheckpointFetch) throws -> RelayTransport {
        guard let peer = fetch.peer else { return relay }
        guard let peerTransport, let secret = fetch.secret else {
            throw CourierError("fetch: expected a way to reach the peer \(peer) and the transfer's secret, found none")
        }
        return peerTransport(peer, secret)
    }

    nonisolated func waitForOffer(_ transfer: String, from relay: RelayTransport) async throws -> SignedOffer {
        try await waitFor("the offer of \(transfer)") { try await relay.offer(transfer) }
    }

    nonisolated func waitForChunk(_ transfer: String, _ index: Int, from relay: RelayTransport) async throws -> Data {
        try await waitFor("chunk \(index) of \(transfer)") { try await relay.chunk(transfer, index) }
    }

    /// Asks for `what` until the other side has sent it: the pause between two asks starts short (a
    /// destination close behind its source is only a chunk behind) and doubles up to ``patience``.
    nonisolated func waitFor<T: Sendable>(_ what: String, _ ask: () async throws -> T?) async throws -> T {
        var pause = min(patience, .milliseconds(5))
        while true {
            if let found = try await persistently("fetching \(what)", ask) { return found }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, patience)
        }
    }

    /// Calls the relay until it answers: a network error or a refusal is said once and retried after a pause
    /// that doubles up to 5 s. A transfer nobody wants any more ends by cancellation (the control plane no
    /// longer names it), not by giving up.
    nonisolated func persistently<T: Sendable>(_ what: String, _ call: () async throws -> T) async throws -> T {
        var pause = patience
        var said = false
        while true {
            try Task.checkCancellation()
            do {
                return try await call()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if !said { say("checkpoint relay: \(what): \(error); retrying") }
                said = true
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }

    nonisolated func checkpointDirectory(_ workload: String) -> URL {
        directory.appendingPathComponent(workload, isDirectory: true)
            .appendingPathComponent(CheckpointReceiver.directoryName, isDirectory: true)
    }
}

/// A site agent's two keys: X25519 (checkpoints sent to it are encrypted for it) and Ed25519 (it signs the
/// offers it sends). Kept in `WORKDIR/agent-keys.json` (mode 0600); only the public halves leave the site.
public struct AgentIdentity: Sendable {
    public let agreement: Curve25519.KeyAgreement.PrivateKey
    public let signing: Curve25519.Signing.PrivateKey

    /// Fresh keys.
    public init() {
        agreement = Curve25519.KeyAgreement.PrivateKey()
        signing = Curve25519.Signing.PrivateKey()
    }

    /// The public halves, as reports carry them.
    public var publicKeys: AgentKeys {
        AgentKeys(
            agreement: agreement.publicKey.rawRepresentation.base64EncodedString(),
            signing: signing.publicKey.rawRepresentation.base64EncodedString()
        )
    }

    struct Stored: Codable {
        let agreement: Data
        let signing: Data
    }

    /// The keys kept at `path`, made and kept there (mode 0600) when there are none.
    ///
    /// - Throws: ``SiteAgentError`` naming the file when it exists but does not hold two keys.
    public static func loadOrCreate(at path: String) throws -> AgentIdentity {
        guard let data = FileManager.default.contents(atPath: path) else {
            let identity = AgentIdentity()
            let stored = Stored(
                agreement: identity.agreement.rawRepresentation,
                signing: identity.signing.rawRepresentation
            )
            try POSIX.writeAtomically(try JSONEncoder().encode(stored), to: path, mode: 0o600)
            return identity
        }
        do {
            let stored = try JSONDecoder().decode(Stored.self, from: data)
            return AgentIdentity(
                agreement: try .init(rawRepresentation: stored.agreement),
                signing: try .init(rawRepresentation: stored.signing)
            )
        } catch {
            throw SiteAgentError(
                "\(path): expected a site agent's keys (JSON with agreement and signing), found something else"
            )
        }
    }

    init(agreement: Curve25519.KeyAgreement.PrivateKey, signing: Curve25519.Signing.PrivateKey) {
        self.agreement = agreement
        self.signing = signing
    }
}

/// A transfer the courier cannot make: which field, what it expected.
struct CourierError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
