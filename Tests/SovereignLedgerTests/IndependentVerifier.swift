import Foundation
import SovereignLedger
import Testing

/// Runs `Verifier/rfc9162.py`, the Python checker written from RFC 9162 and c2sp.org/signed-note alone,
/// on one batch of cases, and returns its verdicts in the same order.
struct IndependentVerifier {
    struct InclusionCase: Encodable {
        var leaf: String
        var index: Int
        var size: Int
        var proof: [String]
        var root: String

        init(leaf: TreeHash, index: Int, size: Int, proof: [TreeHash], root: TreeHash) {
            self.leaf = leaf.hex
            self.index = index
            self.size = size
            self.proof = proof.map(\.hex)
            self.root = root.hex
        }
    }

    struct ConsistencyCase: Encodable {
        var first: Int
        var second: Int
        var proof: [String]
        var firstHash: String
        var secondHash: String

        init(from: Int, to: Int, proof: [TreeHash], oldRoot: TreeHash, newRoot: TreeHash) {
            first = from
            second = to
            self.proof = proof.map(\.hex)
            firstHash = oldRoot.hex
            secondHash = newRoot.hex
        }

        enum CodingKeys: String, CodingKey {
            case first, second, proof
            case firstHash = "first_hash"
            case secondHash = "second_hash"
        }
    }

    struct RootCase: Encodable {
        var leaves: [String]
        var root: String
    }

    struct NoteCase: Encodable {
        var vkey: String
        var note: String
    }

    struct Batch: Encodable {
        var inclusion: [InclusionCase] = []
        var consistency: [ConsistencyCase] = []
        var roots: [RootCase] = []
        var notes: [NoteCase] = []

        var count: Int { inclusion.count + consistency.count + roots.count + notes.count }
    }

    struct Verdicts: Decodable {
        var inclusion: [Bool]
        var consistency: [Bool]
        var roots: [Bool]
        var notes: [Bool]
        var ran: Int
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Verifier/rfc9162.py")

    /// Runs python3 once on `batch`. Fails the test (through `#require`) unless python3 ran, exited 0 and
    /// answered every case.
    static func run(_ batch: Batch) throws -> Verdicts {
        let input = FileManager.default.temporaryDirectory
            .appendingPathComponent("sovereign-ledger-batch-\(UUID().uuidString).json")
        try JSONEncoder().encode(batch).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        process.standardInput = try FileHandle(forReadingFrom: input)
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read before waiting, so a large answer cannot fill the pipe and stall the child.
        let answer = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(
            process.terminationStatus == 0,
            "python3 rfc9162.py failed: \(String(decoding: complaint, as: UTF8.self))"
        )
        let verdicts = try JSONDecoder().decode(Verdicts.self, from: answer)
        try #require(verdicts.ran == batch.count, "python3 answered \(verdicts.ran) of \(batch.count) cases")
        return verdicts
    }
}
