import Benchmark
import Foundation
import SovereignLedger
import SovereignServer

// The control plane's durable state: ledger appends through the SQLite store (WAL, synchronous = FULL:
// every commit is on disk before it returns), and `sovereign ledger verify`'s work on a 1M-entry ledger.

func temporaryDatabase(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sovereign-bench-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

func powerSignal(_ i: Int) -> (kind: String, fields: [String: JSONValue]) {
    ("power.signal", ["site": "dar-1", "availableWatts": .number(Double(i % 96_000)), "by": "token:0123456789ab"])
}

/// Appends `count` entries in transactions of `batch`, signing a checkpoint every `checkpointEvery`.
func fill(_ store: SQLiteControlStore, count: Int, batch: Int, signer: NoteSigner?, checkpointEvery: Int = 0) throws {
    var tree = MerkleFrontier()
    var written = 0
    while written < count {
        var change = StateChange()
        for i in written..<min(count, written + batch) { change.ledger.append(powerSignal(i)) }
        for entry in try store.commit(change, at: Date()).entries { tree.append(entry.leafHash) }
        written = tree.size
        if let signer, checkpointEvery > 0, written % checkpointEvery == 0 || written == count {
            let note = signer.sign(Checkpoint(origin: "bench", size: written, root: tree.root))
            try store.addCheckpoint(size: written, note: note, at: Date())
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident],
        maxDuration: .seconds(120),
        maxIterations: 3
    )

    for (count, batch) in [(1_000, 1), (10_000, 100), (100_000, 1_000), (100_000, 10_000)] {
        Benchmark("ledger append, durable: \(count) entries, \(batch) per transaction") { benchmark in
            let store = try SQLiteControlStore(path: temporaryDatabase("append.sqlite"))
            benchmark.startMeasurement()
            try fill(store, count: count, batch: batch, signer: nil)
            benchmark.stopMeasurement()
        }
    }

    // One ledger of 1M entries with a signed checkpoint every 100,000, made once.
    let signer = NoteSigner(name: "bench", privateKey: .init())
    nonisolated(unsafe) var million: SQLiteControlStore?
    func ledgerOfAMillion() throws -> SQLiteControlStore {
        if let million { return million }
        let store = try SQLiteControlStore(path: temporaryDatabase("million.sqlite"))
        try fill(store, count: 1_000_000, batch: 10_000, signer: signer, checkpointEvery: 100_000)
        million = store
        return store
    }

    Benchmark("ledger verify: 1M entries read from SQLite, recomputed, 10 checkpoints checked") { benchmark in
        let store = try ledgerOfAMillion()
        let verifier = try NoteVerifier(verifierKey: signer.verifierKey)
        benchmark.startMeasurement()
        // As `sovereign ledger verify` does: the rows stream from the cursor through the audit.
        var audit = LedgerAudit(checkpoints: try store.checkpoints(), verifier: verifier)
        try store.forEachLedgerEntry { audit.add($0) }
        let report = audit.finish()
        benchmark.stopMeasurement()
        precondition(report.ok && report.entries == 1_000_000, "\(report)")
    }

    Benchmark("server start: Merkle tree rebuilt from 1M stored leaf hashes") { benchmark in
        let store = try ledgerOfAMillion()
        benchmark.startMeasurement()
        let tree = MerkleTree(leafHashes: try store.ledgerLeafHashes())
        benchmark.stopMeasurement()
        blackHole(tree.size)
    }
}
