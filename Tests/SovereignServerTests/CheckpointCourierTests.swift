import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import SovereignBase
import SovereignCheckpoint
import SovereignTesting
import Testing

@testable import SovereignServer

/// The control plane's relay (the real ``CheckpointRelay`` in a directory) behind a network that fails as a
/// seeded generator says, and that can hold chunk downloads back to let a test act between two chunks.
actor FlakyRelay {
    let relay: CheckpointRelay
    let senderKey: Curve25519SigningKey
    var generator: SeededGenerator
    let failureRate: Double
    /// Chunks handed to the destination so far, and how many it may have before they are held back.
    var chunksDelivered = 0
    var holdAfter = Int.max
    var failures = 0

    init(directory: URL, sender: AgentIdentity, seed: UInt64, failureRate: Double) throws {
        relay = CheckpointRelay(root: directory)
        senderKey = try #require(Curve25519SigningKey(base64: sender.publicKeys.signing))
        generator = SeededGenerator(seed: seed)
        self.failureRate = failureRate
    }

    struct Dropped: Error {}

    func network() throws {
        if Double.random(in: 0..<1, using: &generator) < failureRate {
            failures += 1
            throw Dropped()
        }
    }

    func hold(after count: Int) { holdAfter = count }

    func putOffer(_ transfer: String, _ offer: SignedOffer) throws {
        try network()
        try relay.storeOffer(offer, transfer: transfer, sender: senderKey)
    }

    func putChunk(_ transfer: String, _ index: Int, _ sealed: Data) throws {
        try network()
        try relay.storeChunk(transfer, index: index, sealed: sealed)
    }

    func offer(_ transfer: String) throws -> SignedOffer? {
        try network()
        return try relay.offer(transfer)
    }

    func chunk(_ transfer: String, _ index: Int) throws -> Data? {
        try network()
        guard chunksDelivered < holdAfter, let chunk = try relay.chunk(transfer, index: index) else { return nil }
        chunksDelivered += 1
        return chunk
    }

    nonisolated var transport: RelayTransport {
        RelayTransport(
            putOffer: { try await self.putOffer($0, $1) },
            putChunk: { try await self.putChunk($0, $1, $2) },
            offer: { try await self.offer($0) },
            chunk: { try await self.chunk($0, $1) }
        )
    }
}

/// Holds each even chunk's answer until the next chunk's has gone (when there is one), and records the order
/// in which answers went.
actor PairSwapper {
    let count: Int
    private(set) var answered: [Int] = []
    private var waiting: [Int: CheckedContinuation<Void, Never>] = [:]

    init(count: Int) { self.count = count }

    func before(_ index: Int) async {
        guard index % 2 == 0, index + 1 < count, !answered.contains(index + 1) else { return }
        await withCheckedContinuation { waiting[index + 1] = $0 }
    }

    func after(_ index: Int) {
        answered.append(index)
        waiting.removeValue(forKey: index)?.resume()
    }
}

/// Counts the calls in flight and the most at once; the first caller may wait until a second has come.
actor InFlight {
    private(set) var now = 0
    private(set) var most = 0
    private var first: CheckedContinuation<Void, Never>?

    func enter(waitingForOthers: Bool) async {
        now += 1
        most = max(most, now)
        if now > 1, let waiting = first {
            first = nil
            waiting.resume()
        }
        if waitingForOthers && now == 1 { await withCheckedContinuation { first = $0 } }
    }

    func leave() { now -= 1 }
}

struct CheckpointCourierTests {
    static let transfer = "train.7"

    /// A checkpoint of 1 to 4 files of 0 to 5,000 random bytes under `directory/train/checkpoint`.
    static func checkpoint(in directory: URL, seed: UInt64) throws -> [String: Data] {
        var generator = SeededGenerator(seed: seed)
        let root = directory.appendingPathComponent("train/checkpoint/shards", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var files: [String: Data] = [:]
        for i in 0..<Int.random(in: 1...4, using: &generator) {
            let bytes = Data(
                (0..<Int.random(in: 0...5000, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            )
            try bytes.write(to: root.appendingPathComponent("part-\(i)"))
            files["shards/part-\(i)"] = bytes
        }
        return files
    }

    /// The source's directory, the destination's and the relay's.
    static func scratch() throws -> (URL, URL, URL) {
        (try Fixtures.temporaryDirectory(), try Fixtures.temporaryDirectory(), try Fixtures.temporaryDirectory())
    }

    /// The send of ``transfer`` (workload `train`) sealed for `destination`, through the relay.
    static func send(to destination: AgentIdentity) -> CheckpointSend {
        CheckpointSend(transfer: transfer, workload: "train", to: "b", recipientKey: destination.publicKeys.agreement)
    }

    /// The fetch of ``transfer`` from the holder of `source`'s key, through the relay.
    static func fetch(from source: AgentIdentity) -> CheckpointFetch {
        CheckpointFetch(transfer: transfer, from: "a", senderKey: source.publicKeys.signing)
    }

    static func courier(
        _ directory: URL,
        _ identity: AgentIdentity,
        _ relay: FlakyRelay,
        transport: RelayTransport? = nil,
        window: Int = CheckpointCourier.defaultWindow
    ) -> CheckpointCourier {
        CheckpointCourier(
            directory: directory,
            identity: identity,
            relay: transport ?? relay.transport,
            patience: .milliseconds(1),
            chunkSize: 256,
            window: window
        )
    }

    /// A checkpoint of one file of 4,000 bytes (16 chunks of 256) under `directory/train/checkpoint`.
    static func sixteenChunks(in directory: URL) throws -> [String: Data] {
        let files = ["shards/part-0": Data((0..<4000).map { UInt8($0 % 251) })]
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("train/checkpoint/shards"),
            withIntermediateDirectories: true
        )
        try files["shards/part-0"]?.write(to: directory.appendingPathComponent("train/checkpoint/shards/part-0"))
        return files
    }

    /// Waits (at most about 20 s) until `courier` has finished `transfer`, and says how.
    static func outcome(_ courier: CheckpointCourier, _ transfer: String = transfer) async throws -> TransferProgress? {
        for _ in 0..<10_000 {
            let progress = await courier.transfers()[transfer]
            if progress != .moving && progress != nil { return progress }
            try await Task.sleep(for: .milliseconds(2))
        }
        return await courier.transfers()[transfer]
    }

    static func received(_ directory: URL, _ files: [String: Data]) -> [String: Data] {
        let root = directory.appendingPathComponent("train/checkpoint")
        return Dictionary(
            uniqueKeysWithValues: files.keys.map {
                ($0, FileManager.default.contents(atPath: root.appendingPathComponent($0).path) ?? Data())
            }
        )
    }

    /// Whatever the seed (file sizes, which calls the network drops), the destination ends with the
    /// source's files byte for byte, and reports the manifest digest and size the source packed.
    @Test(arguments: 0..<12)
    func aCheckpointArrivesWholeThroughAFlakyNetwork(seed: Int) async throws {
        let source = AgentIdentity()
        let destination = AgentIdentity()
        let (here, there, relayed) = try Self.scratch()
        let files = try Self.checkpoint(in: here, seed: UInt64(seed))
        let relay = try FlakyRelay(directory: relayed, sender: source, seed: UInt64(seed), failureRate: 0.2)
        let receiving = Self.courier(there, destination, relay)
        let fetch = Self.fetch(from: source)
        await receiving.fetch(fetch, workload: "train")
        let sending = Self.courier(here, source, relay)
        let send = Self.send(to: destination)
        await sending.send([send])
        let sent = try await Self.outcome(sending)
        guard case .done(let packed) = sent else {
            Issue.record("send: \(String(describing: sent))")
            return
        }
        let got = try await Self.outcome(receiving)
        #expect(got == .done(packed))
        #expect(Self.received(there, files) == files)
        #expect(packed.bytes == Int64(files.values.reduce(0) { $0 + $1.count }))
    }

    /// The source restarts between two chunks the destination downloads and seals everything again under
    /// a new key: the destination reads the new offer and finishes, keeping the chunks it had.
    @Test func aSourceThatRestartsMidTransferIsFollowed() async throws {
        let source = AgentIdentity()
        let destination = AgentIdentity()
        let (here, there, relayed) = try Self.scratch()
        let files = try Self.sixteenChunks(in: here)
        let relay = try FlakyRelay(directory: relayed, sender: source, seed: 1, failureRate: 0)
        await relay.hold(after: 3)
        let send = Self.send(to: destination)
        let first = Self.courier(here, source, relay)
        await first.send([send])
        _ = try await Self.outcome(first)
        let receiving = Self.courier(there, destination, relay)
        await receiving.fetch(
            Self.fetch(from: source),
            workload: "train"
        )
        for _ in 0..<5_000 where await relay.chunksDelivered < 3 { try await Task.sleep(for: .milliseconds(2)) }
        let restarted = Self.courier(here, source, relay)
        await restarted.send([send])
        _ = try await Self.outcome(restarted)
        await relay.hold(after: Int.max)
        guard case .done = try await Self.outcome(receiving) else {
            Issue.record("the destination did not finish")
            return
        }
        #expect(Self.received(there, files) == files)
        let window = CheckpointCourier.defaultWindow
        #expect(
            (16 + 1...16 + window).contains(await relay.chunksDelivered),
            "3 chunks under the first key, 1 to a window's worth refused (those in flight), 13 after"
        )
    }

    /// With several chunks in flight, a destination whose answers come back out of order (each even chunk's
    /// only after the next one's) still puts the source's files in place byte for byte.
    @Test(.timeLimit(.minutes(5))) func chunksArrivingOutOfOrderAreAssembledInPlace() async throws {
        let source = AgentIdentity()
        let destination = AgentIdentity()
        let (here, there, relayed) = try Self.scratch()
        let files = try Self.sixteenChunks(in: here)
        let relay = try FlakyRelay(directory: relayed, sender: source, seed: 2, failureRate: 0)
        let sending = Self.courier(here, source, relay)
        await sending.send([Self.send(to: destination)])
        _ = try await Self.outcome(sending)
        let swapper = PairSwapper(count: 16)
        let plain = relay.transport
        var swapped = plain
        swapped.chunk = { transfer, index in
            await swapper.before(index)
            let chunk = try await plain.chunk(transfer, index)
            if chunk != nil { await swapper.after(index) }
            return chunk
        }
        let receiving = Self.courier(there, destination, relay, transport: swapped, window: 4)
        await receiving.fetch(Self.fetch(from: source), workload: "train")
        guard case .done = try await Self.outcome(receiving) else {
            Issue.record("the destination did not finish")
            return
        }
        #expect(Self.received(there, files) == files)
        let order = await swapper.answered
        #expect(order.sorted() == Array(0..<16), "\(order)")
        #expect((order.firstIndex(of: 1) ?? 16) < (order.firstIndex(of: 0) ?? 0), "chunk 1 went before 0: \(order)")
    }

    /// The source keeps more than one chunk in flight, and never more than its window.
    @Test(.timeLimit(.minutes(5))) func theSourceSendsAWindowOfChunksAtOnce() async throws {
        let source = AgentIdentity()
        let destination = AgentIdentity()
        let (here, _, relayed) = try Self.scratch()
        _ = try Self.sixteenChunks(in: here)
        let relay = try FlakyRelay(directory: relayed, sender: source, seed: 4, failureRate: 0)
        let counter = InFlight()
        let plain = relay.transport
        var counted = plain
        counted.putChunk = { transfer, index, sealed in
            await counter.enter(waitingForOthers: index == 0)
            do {
                try await plain.putChunk(transfer, index, sealed)
            } catch {
                await counter.leave()
                throw error
            }
            await counter.leave()
        }
        let sending = Self.courier(here, source, relay, transport: counted, window: 3)
        await sending.send([Self.send(to: destination)])
        guard case .done = try await Self.outcome(sending) else {
            Issue.record("the source did not finish")
            return
        }
        let most = await counter.most
        #expect((2...3).contains(most), "\(most) chunks in flight at most")
    }

    /// A fetch that is cancelled (its attempt stopped, or the replica is no longer wanted) leaves nothing
    /// staged behind, and the checkpoint in place untouched.
    @Test func aCancelledFetchLeavesNothingStaged() async throws {
        let source = AgentIdentity()
        let destination = AgentIdentity()
        let (here, there, relayed) = try Self.scratch()
        _ = try Self.checkpoint(in: here, seed: 9)
        let relay = try FlakyRelay(directory: relayed, sender: source, seed: 9, failureRate: 0)
        await relay.hold(after: 2)
        let sending = Self.courier(here, source, relay)
        let send = Self.send(to: destination)
        await sending.send([send])
        _ = try await Self.outcome(sending)
        let receiving = Self.courier(there, destination, relay)
        await receiving.fetch(
            Self.fetch(from: source),
            workload: "train"
        )
        for _ in 0..<5_000 where await relay.chunksDelivered < 2 { try await Task.sleep(for: .milliseconds(2)) }
        let root = there.appendingPathComponent("train").path
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: root).contains { $0.hasPrefix(".checkpoint-incoming-") }
        )
        await receiving.cancel(Self.transfer)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty)
    }

    /// An offer signed by any key but the one the control plane vouches for is refused before a byte of it
    /// is read, and nothing is put in place.
    @Test func anOfferSignedByAnotherKeyIsRefused() async throws {
        let source = AgentIdentity()
        let impostor = AgentIdentity()
        let destination = AgentIdentity()
        let (here, there, relayed) = try Self.scratch()
        _ = try Self.checkpoint(in: here, seed: 3)
        // The relay itself checks against the impostor's key here, standing for a relay that lies.
        let relay = try FlakyRelay(directory: relayed, sender: impostor, seed: 3, failureRate: 0)
        let sending = Self.courier(here, impostor, relay)
        let send = Self.send(to: destination)
        await sending.send([send])
        _ = try await Self.outcome(sending)
        let receiving = Self.courier(there, destination, relay)
        await receiving.fetch(
            Self.fetch(from: source),
            workload: "train"
        )
        guard case .failed(let why) = try await Self.outcome(receiving) else {
            Issue.record("accepted a forged offer")
            return
        }
        #expect(why.contains("signature that does not verify"), "\(why)")
        #expect(!FileManager.default.fileExists(atPath: there.appendingPathComponent("train/checkpoint").path))
    }

    /// The relay holds at most its quota of sealed bytes from one site: a second offer that would pass it is
    /// refused, saying what is held and what was offered, until the first transfer is delivered and pruned;
    /// an offer larger than the file system's free space less the reserve is refused whatever the quota.
    @Test func theRelayHoldsAtMostItsQuotaFromOneSite() throws {
        let source = AgentIdentity()
        let destination = AgentIdentity()
        let (here, _, relayed) = try Self.scratch()
        let files = try Self.checkpoint(in: here, seed: 5)
        let plaintext = Int64(files.values.reduce(0) { $0 + $1.count })
        let key = try #require(Curve25519SigningKey(base64: source.publicKeys.signing))
        func offer(_ transfer: String) throws -> SignedOffer {
            let sender = try CheckpointSender(
                directory: here.appendingPathComponent("train/checkpoint").path,
                workload: "train",
                transferID: transfer,
                destination: destination.agreement.publicKey,
                chunkSize: 256
            )
            return try SignedOffer(sender.offer, key: source.signing)
        }
        let first = try offer("train.1")
        let sealed = plaintext + 16 * Int64(try first.unverified().layout.chunkCount)
        let relay = CheckpointRelay(root: relayed, quota: sealed + sealed / 2)
        try relay.storeOffer(first, transfer: "train.1", sender: key, alongside: ["train.1", "train.2"])
        #expect(throws: RelayError.self) {
            try relay.storeOffer(try offer("train.2"), transfer: "train.2", sender: key, alongside: ["train.1"])
        }
        do {
            try relay.storeOffer(try offer("train.2"), transfer: "train.2", sender: key, alongside: ["train.1"])
        } catch let error as RelayError {
            #expect(error.field == "offer")
            #expect(error.description.contains("found \(sealed) held for its other transfers and \(sealed) offered"))
        }
        relay.prune(keeping: ["train.2"])
        try relay.storeOffer(try offer("train.2"), transfer: "train.2", sender: key, alongside: ["train.1"])
        #expect(try relay.offer("train.2") != nil)
        let full = CheckpointRelay(root: relayed, reserve: Int64.max / 2)
        #expect(throws: RelayError.self) {
            try full.storeOffer(try offer("train.3"), transfer: "train.3", sender: key)
        }
    }

    /// A checkpoint that travels directly: the source's peer listener serves it only to the holder of the
    /// transfer's secret (404 otherwise, and for a transfer it does not serve), and the destination gets the
    /// source's files byte for byte through it.
    @Test func aPeerListenerServesACheckpointOnlyForItsSecret() async throws {
        let source = AgentIdentity()
        let destination = AgentIdentity()
        let (here, there) = (try Fixtures.temporaryDirectory(), try Fixtures.temporaryDirectory())
        let files = try Self.checkpoint(in: here, seed: 5)
        let unused = try FlakyRelay(
            directory: try Fixtures.temporaryDirectory(),
            sender: source,
            seed: 5,
            failureRate: 0
        )
        let sending = Self.courier(here, source, unused)
        let secret = String(repeating: "5", count: 64)
        let send = CheckpointSend(
            transfer: Self.transfer,
            workload: "train",
            to: "b",
            recipientKey: destination.publicKeys.agreement,
            secret: secret
        )
        await sending.send([send])
        guard case .done(let packed) = try await Self.outcome(sending) else {
            Issue.record("not served")
            return
        }
        let app = Application(router: PeerListener.router(sending))
        try await app.test(.router) { client in
            let offer = "/v1/transfers/\(Self.transfer)/offer"
            let wrong = try await client.execute(uri: offer, method: .get, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .notFound)
            let none = try await client.execute(uri: offer, method: .get)
            #expect(none.status == .notFound)
            let other = try await client.execute(
                uri: "/v1/transfers/other.1/offer",
                method: .get,
                headers: [.authorization: "Bearer \(secret)"]
            )
            #expect(other.status == .notFound)
            var fetched: [Int: Data] = [:]
            let signed = try await client.execute(
                uri: offer,
                method: .get,
                headers: [.authorization: "Bearer \(secret)"]
            )
            #expect(signed.status == .ok)
            let verified = try JSONDecoder().decode(SignedOffer.self, from: Data(signed.body.readableBytesView))
                .verified(by: source.signing.publicKey)
            for index in 0..<verified.layout.chunkCount {
                let chunk = try await client.execute(
                    uri: "/v1/transfers/\(Self.transfer)/chunks/\(index)",
                    method: .get,
                    headers: [.authorization: "Bearer \(secret)"]
                )
                #expect(chunk.status == .ok)
                fetched[index] = Data(chunk.body.readableBytesView)
            }
            var receiver = try CheckpointReceiver(
                root: there.appendingPathComponent("train").path,
                offer: verified,
                privateKey: destination.agreement
            )
            for (index, sealed) in fetched.sorted(by: { $0.key < $1.key }) {
                try receiver.receive(index, sealed: sealed)
            }
            _ = try receiver.commit()
            #expect(verified.manifest.digest == packed.manifest)
        }
        #expect(Self.received(there, files) == files)
    }
}
