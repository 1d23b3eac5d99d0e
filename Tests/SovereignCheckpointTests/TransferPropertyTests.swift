import Crypto
import Foundation
import SovereignBase
import SovereignTesting
import Testing

@testable import SovereignCheckpoint

/// Seeded random checkpoint trees and chunk sizes, sent through a relay that drops the connection at
/// random and a receiver that restarts at random: the tree received is byte-identical, and no 16-byte
/// window of any plaintext file appears in anything the relay saw.
@Suite struct TransferPropertyTests {
    @Test(arguments: 0..<24)
    func randomTreesSurviveDropsAndRestartsAndTheRelaySeesNoPlaintext(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let source = scratch + "/source"
        try Self.randomTree(at: source, &generator)
        let key = Curve25519.KeyAgreement.PrivateKey()
        let chunkSize = 1 + generator.nextInt(below: 3_000)
        var sender = try CheckpointSender(
            directory: source,
            workload: "w",
            transferID: "t-\(seed)",
            destination: key.publicKey,
            chunkSize: chunkSize
        )
        let root = scratch + "/dest"
        var relayed: [Data] = [try JSONEncoder().encode(sender.offer)]
        var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
        var rounds = 0
        while let next = receiver.firstMissingChunk {
            rounds += 1
            #expect(rounds < 1_000)
            // One connection: chunks from the first missing one until a random drop.
            let drop = next + 1 + generator.nextInt(below: 8)
            for index in next..<min(drop, sender.layout.chunkCount) {
                let sealed = try sender.chunk(index)
                relayed.append(sealed)
                try receiver.receive(index, sealed: sealed)
            }
            switch generator.nextInt(below: 4) {
            case 0: receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
            case 1:
                sender = try CheckpointSender(
                    directory: source,
                    workload: "w",
                    transferID: "t-\(seed)",
                    destination: key.publicKey,
                    chunkSize: chunkSize
                )
                relayed.append(try JSONEncoder().encode(sender.offer))
                receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: key)
            default: break
            }
        }
        let placed = try receiver.commit()
        let expected = try CheckpointFiles.tree(source)
        #expect(try CheckpointFiles.tree(placed) == expected)
        #expect(Self.plaintextWindowsSeen(in: relayed, of: Array(expected.values)) == 0)
    }

    /// A tree of up to 8 files, some empty, some in subdirectories, of random bytes.
    static func randomTree(at root: String, _ generator: inout SeededGenerator) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for file in 0..<(1 + generator.nextInt(below: 8)) {
            let depth = generator.nextInt(below: 3)
            let path = (0..<depth).map { "d\(generator.nextInt(below: 3))-\($0)" } + ["f\(file).bin"]
            let size = generator.nextInt(below: 6) == 0 ? 0 : generator.nextInt(below: 12_000)
            try CheckpointFiles.write(CheckpointFiles.bytes(size, &generator), path.joined(separator: "/"), under: root)
        }
    }

    /// How many 16-byte windows of the plaintexts occur anywhere in what the relay saw.
    static func plaintextWindowsSeen(in relayed: [Data], of plaintexts: [Data]) -> Int {
        var seen = Set<SIMD2<UInt64>>()
        for message in relayed where message.count >= 16 {
            let bytes = [UInt8](message)
            for start in 0...(bytes.count - 16) { seen.insert(window(bytes, at: start)) }
        }
        var hits = 0
        for plaintext in plaintexts where plaintext.count >= 16 {
            let bytes = [UInt8](plaintext)
            for start in 0...(bytes.count - 16) where seen.contains(window(bytes, at: start)) { hits += 1 }
        }
        return hits
    }

    /// The 16 bytes at `start` as two words.
    static func window(_ bytes: [UInt8], at start: Int) -> SIMD2<UInt64> {
        var words = SIMD2<UInt64>(0, 0)
        for offset in 0..<8 {
            words[0] = words[0] << 8 | UInt64(bytes[start + offset])
            words[1] = words[1] << 8 | UInt64(bytes[start + 8 + offset])
        }
        return words
    }
}
