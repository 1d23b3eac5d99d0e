import Crypto
import Foundation
import SovereignBase
import SovereignTesting
import Testing

@testable import SovereignCheckpoint

@Suite struct TransferTests {
    /// A source checkpoint of three files (one spanning several chunks, one empty) under the directory `scratch`.
    static func source(in scratch: String) throws -> String {
        let source = scratch + "/source"
        var generator = SeededGenerator(seed: 7)
        try CheckpointFiles.write(CheckpointFiles.bytes(2_500, &generator), "model/weights.bin", under: source)
        try CheckpointFiles.write(Array("step=41\n".utf8), "state.txt", under: source)
        try CheckpointFiles.write([], "model/empty", under: source)
        return source
    }

    static func sender(
        _ source: String,
        to key: Curve25519.KeyAgreement.PrivateKey,
        id: String = "move-1"
    ) throws
        -> CheckpointSender
    {
        try CheckpointSender(
            directory: source,
            workload: "train-llm",
            transferID: id,
            destination: key.publicKey,
            chunkSize: 1_000
        )
    }

    @Test func aWholeTransferPutsAByteIdenticalCheckpointInPlace() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let source = try Self.source(in: scratch)
        let key = Curve25519.KeyAgreement.PrivateKey()
        let sender = try Self.sender(source, to: key)
        // model/empty: chunk 0; model/weights.bin: chunks 1–3; state.txt: chunk 4.
        #expect(sender.layout.chunkCount == 5)
        var receiver = try CheckpointReceiver(root: scratch + "/dest", offer: sender.offer, privateKey: key)
        for index in 0..<sender.layout.chunkCount { try receiver.receive(index, sealed: sender.chunk(index)) }
        let placed = try receiver.commit()
        #expect(placed == scratch + "/dest/checkpoint")
        #expect(try CheckpointFiles.tree(placed) == CheckpointFiles.tree(source))
        // Staging and state are gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch + "/dest") == ["checkpoint"])
    }

    @Test func aFlippedBitIsRefusedNamingTheFileAndChunk() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let sender = try Self.sender(Self.source(in: scratch), to: key)
        var receiver = try CheckpointReceiver(root: scratch + "/dest", offer: sender.offer, privateKey: key)
        var sealed = try sender.chunk(1)
        sealed[sealed.startIndex + 17] ^= 0x04
        let error = try #require(throws: CheckpointError.self) { try receiver.receive(1, sealed: sealed) }
        #expect(error.kind == .unauthentic)
        #expect(error.file == "model/weights.bin")
        #expect(error.chunk == 1)
        #expect(receiver.firstMissingChunk == 0)
        #expect(!receiver.received.contains(1))
    }

    @Test func swappedChunksAreRefused() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let sender = try Self.sender(Self.source(in: scratch), to: key)
        var receiver = try CheckpointReceiver(root: scratch + "/dest", offer: sender.offer, privateKey: key)
        // Chunks 1 and 2 have the same length, so only the cipher can tell them apart.
        #expect(throws: CheckpointError.self) { try receiver.receive(1, sealed: sender.chunk(2)) }
        #expect(throws: CheckpointError.self) { try receiver.receive(2, sealed: sender.chunk(1)) }
        #expect(receiver.received.count == 0)
    }

    @Test func aTruncatedStreamNeverCommitsAndThePreviousCheckpointStays() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let sender = try Self.sender(Self.source(in: scratch), to: key)
        let root = scratch + "/dest"
        try CheckpointFiles.write(Array("old".utf8), "checkpoint/state.txt", under: root)
        var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
        for index in 0..<(sender.layout.chunkCount - 1) { try receiver.receive(index, sealed: sender.chunk(index)) }
        let error = try #require(throws: CheckpointError.self) { try receiver.commit() }
        #expect(error.description == "checkpoint chunk 4: expected all 5 chunks, found 4 received")
        #expect(try CheckpointFiles.tree(root + "/checkpoint") == ["state.txt": Data("old".utf8)])
        // A last chunk cut short is refused by its length before it is opened.
        let last = try sender.chunk(4)
        #expect(throws: CheckpointError.self) { try receiver.receive(4, sealed: last.prefix(last.count - 1)) }
        #expect(throws: CheckpointError.self) { try receiver.receive(5, sealed: last) }
    }

    @Test func aChunkFromAnotherTransferOfTheSameCheckpointIsRefused() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let source = try Self.source(in: scratch)
        let first = try Self.sender(source, to: key, id: "move-1")
        let second = try Self.sender(source, to: key, id: "move-2")
        var receiver = try CheckpointReceiver(root: scratch + "/dest", offer: second.offer, privateKey: key)
        let error = try #require(throws: CheckpointError.self) { try receiver.receive(2, sealed: first.chunk(2)) }
        #expect(error.kind == .unauthentic)
    }

    @Test func theWrongKeyOpensNothing() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let sender = try Self.sender(Self.source(in: scratch), to: key)
        let thief = Curve25519.KeyAgreement.PrivateKey()
        var receiver = try CheckpointReceiver(root: scratch + "/dest", offer: sender.offer, privateKey: thief)
        for index in 0..<sender.layout.chunkCount {
            #expect(throws: CheckpointError.self) { try receiver.receive(index, sealed: sender.chunk(index)) }
        }
    }

    @Test func aDropMidFileResumesFromTheFirstMissingChunkEvenAfterTheReceiverRestarts() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let source = try Self.source(in: scratch)
        let root = scratch + "/dest"
        do {
            let sender = try Self.sender(source, to: key)
            var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
            // The connection drops after chunk 1, in the middle of weights.bin.
            for index in 0...1 { try receiver.receive(index, sealed: sender.chunk(index)) }
        }
        // Both sides restart: the sender with a new ephemeral key, the receiver from its state file.
        let sender = try Self.sender(source, to: key)
        var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
        #expect(receiver.firstMissingChunk == 2)
        while let next = receiver.firstMissingChunk { try receiver.receive(next, sealed: sender.chunk(next)) }
        #expect(try CheckpointFiles.tree(receiver.commit()) == CheckpointFiles.tree(source))
    }

    @Test(arguments: [(sameBoot: true, firstMissing: 4), (sameBoot: false, firstMissing: 3)])
    func aReceiverResumedAfterTheMachineRestartedTrustsOnlySyncedChunks(sameBoot: Bool, firstMissing: Int) throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let source = try Self.source(in: scratch)
        let root = scratch + "/dest"
        let sender = try Self.sender(source, to: key)
        do {
            // Chunks 1 and 2 (1,000 bytes each) each reach the interval, so 0–2 are synced; 3 (500 bytes) is not.
            var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key, syncInterval: 1_000)
            for index in 0...3 { try receiver.receive(index, sealed: sender.chunk(index)) }
        }
        if !sameBoot {
            let state = root + "/.checkpoint-incoming-move-1.state"
            var fields = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state))) as? [String: Any]
            )
            fields["boot"] = "a boot before the machine restarted"
            try JSONSerialization.data(withJSONObject: fields).write(to: URL(fileURLWithPath: state))
        }
        var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
        #expect(receiver.firstMissingChunk == firstMissing)
        while let next = receiver.firstMissingChunk { try receiver.receive(next, sealed: sender.chunk(next)) }
        #expect(try CheckpointFiles.tree(receiver.commit()) == CheckpointFiles.tree(source))
    }

    @Test func anOfferForAnotherCheckpointDiscardsWhatStagingHeld() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let source = try Self.source(in: scratch)
        let root = scratch + "/dest"
        do {
            let sender = try Self.sender(source, to: key)
            var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
            for index in 0...2 { try receiver.receive(index, sealed: sender.chunk(index)) }
        }
        try CheckpointFiles.write(Array("step=42\n".utf8), "state.txt", under: source)
        let sender = try Self.sender(source, to: key)
        let receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
        #expect(receiver.firstMissingChunk == 0)
    }

    @Test func aStagedFileThatNoLongerMatchesIsNamedAndFetchedAgain() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let source = try Self.source(in: scratch)
        let root = scratch + "/dest"
        try CheckpointFiles.write(Array("old".utf8), "checkpoint/state.txt", under: root)
        let sender = try Self.sender(source, to: key)
        var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
        for index in 0..<sender.layout.chunkCount { try receiver.receive(index, sealed: sender.chunk(index)) }
        // The disk loses a write after the chunk was recorded.
        try CheckpointFiles.write(Array("step=4X\n".utf8), "state.txt", under: root + "/.checkpoint-incoming-move-1")
        let error = try #require(throws: CheckpointError.self) { try receiver.commit() }
        #expect(error.kind == .digestMismatch)
        #expect(error.file == "state.txt")
        #expect(error.expected.hasPrefix("8 bytes with SHA-256 "))
        #expect(error.found.hasPrefix("8 bytes with SHA-256 "))
        #expect(error.expected != error.found)
        #expect(try CheckpointFiles.tree(root + "/checkpoint") == ["state.txt": Data("old".utf8)])
        #expect(receiver.firstMissingChunk == 4)
        try receiver.receive(4, sealed: sender.chunk(4))
        #expect(try CheckpointFiles.tree(receiver.commit()) == CheckpointFiles.tree(source))
    }

    @Test func aCommitInterruptedBetweenItsRenamesRollsBackToThePreviousCheckpoint() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let source = try Self.source(in: scratch)
        let root = scratch + "/dest"
        let sender = try Self.sender(source, to: key)
        do {
            var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
            for index in 0..<sender.layout.chunkCount { try receiver.receive(index, sealed: sender.chunk(index)) }
        }
        // The crash left the old checkpoint aside and nothing in place.
        try CheckpointFiles.write(Array("old".utf8), ".checkpoint-previous-move-1/state.txt", under: root)
        var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
        #expect(try CheckpointFiles.tree(root + "/checkpoint") == ["state.txt": Data("old".utf8)])
        #expect(receiver.isComplete)
        #expect(try CheckpointFiles.tree(receiver.commit()) == CheckpointFiles.tree(source))
    }

    @Test func aSymbolicLinkPlantedInStagingIsNeverFollowed() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let sender = try Self.sender(Self.source(in: scratch), to: key)
        let root = scratch + "/dest"
        let outside = scratch + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
        try FileManager.default.createSymbolicLink(
            atPath: root + "/.checkpoint-incoming-move-1/model",
            withDestinationPath: outside
        )
        let error = try #require(throws: CheckpointError.self) { try receiver.receive(1, sealed: sender.chunk(1)) }
        #expect(error.kind == .invalidPath)
        #expect(error.found == "a symbolic link")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test func aFileChangedAtTheSourceIsNeverSealedAgain() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = Curve25519.KeyAgreement.PrivateKey()
        let source = try Self.source(in: scratch)
        let sender = try Self.sender(source, to: key)
        try CheckpointFiles.write(Array("step=99\n".utf8) + [0], "state.txt", under: source)
        let error = try #require(throws: CheckpointError.self) { try sender.chunk(4) }
        #expect(error.kind == .changedAtSource)
        #expect(error.file == "state.txt")
    }

    @Test func anOfferWithAnUnsafeTransferIDIsRefused() throws {
        let manifest = try CheckpointManifest(files: [])
        let key = Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation
        for id in ["../x", ".hidden", "", "a/b"] {
            #expect(throws: CheckpointError.self) {
                try CheckpointOffer(
                    workload: "w",
                    transferID: id,
                    manifest: manifest,
                    chunkSize: 1,
                    ephemeralPublicKey: key
                )
            }
        }
        #expect(throws: CheckpointError.self) {
            try CheckpointOffer(
                workload: "w",
                transferID: "t",
                manifest: manifest,
                chunkSize: 0,
                ephemeralPublicKey: key
            )
        }
    }
}
