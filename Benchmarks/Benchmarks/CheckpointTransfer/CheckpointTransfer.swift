import Benchmark
import Crypto
import Foundation
import SovereignBase
import SovereignCheckpoint
import SovereignServer

// A checkpoint moved through the relay as two site agents and the control plane move it, all on this machine
// and one after another: the source packs it (a manifest with every file's SHA-256), signs the offer and
// seals every 1 MiB chunk (AES-GCM for the destination's X25519 key); the relay checks the offer's signature
// and stores the offer and every sealed chunk on disk (each written, then renamed into place); the
// destination reads the offer back, checks its signature, then every chunk from the relay's disk, opens it,
// writes it into staging (synced every 64 MiB, with its state file), and commits: every file's size and
// SHA-256 checked, every staged file synced, the directory renamed into place. Against a plain copy of the same files through one 1 MiB buffer
// (what `cp` does), and the same copy synced at the end of each file (`cp` then `sync`), at 16 MiB, 256 MiB
// and 1 GiB: throughput is the ratio of the wall clocks, and peak resident memory should not grow with the
// checkpoint's size.
//
// Checkpoints are written once in `setup`, outside the measurement, under the temporary directory (kept for
// later runs); what a run writes is removed after each iteration, outside the measurement too.

let metrics: [BenchmarkMetric] = [
    .wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident, .peakMemoryResidentDelta, .throughput,
]

/// A checkpoint directory of `megabytes` MiB in four files of seeded bytes, under the temporary directory.
struct SourceCheckpoint: Sendable {
    let directory: String
    let megabytes: Int

    init(megabytes: Int) {
        self.megabytes = megabytes
        directory = Self.base + "/checkpoint-\(megabytes)"
    }

    static let base = FileManager.default.temporaryDirectory.path + "/sovereign-bench-checkpoints"

    /// Writes the files unless an earlier run finished writing them (it leaves a `.complete` marker outside
    /// the checkpoint directory).
    func write() throws {
        let marker = directory + ".complete"
        guard !FileManager.default.fileExists(atPath: marker) else { return }
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: UInt64(megabytes))
        for file in 0..<4 {
            let path = directory + "/shard-\(file).bin"
            FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            for _ in 0..<(megabytes / 4) {
                let block = (0..<(1 << 17)).map { _ in generator.next() }
                try handle.write(contentsOf: block.withUnsafeBytes { Data($0) })
            }
        }
        FileManager.default.createFile(atPath: marker, contents: Data())
    }
}

/// The two agents' keys: the source signs offers, the destination receives.
struct AgentKeyPair: Sendable {
    let signing = Curve25519.Signing.PrivateKey()
    let agreement = Curve25519.KeyAgreement.PrivateKey()

    /// The source's signing key as the relay holds it (from the source agent's report).
    func relaySigningKey() throws -> Curve25519SigningKey {
        guard let key = Curve25519SigningKey(base64: signing.publicKey.rawRepresentation.base64EncodedString()) else {
            throw BenchmarkFailure("expected a 32-byte Ed25519 public key in base64, found one the relay refuses")
        }
        return key
    }
}

/// Why a transfer in a benchmark did not complete.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let source = AgentKeyPair()
let destination = AgentKeyPair()

/// Moves `checkpoint` through a relay under `scratch` into a destination root under `scratch`, the destination
/// syncing its staging every `syncInterval` bytes (and at the commit).
///
/// - Returns: the bytes moved.
func moveThroughRelay(
    _ checkpoint: SourceCheckpoint,
    scratch: String,
    transfer: String,
    syncInterval: Int64 = CheckpointReceiver.defaultSyncInterval
) throws -> Int {
    let relay = CheckpointRelay(root: URL(fileURLWithPath: scratch + "/relay", isDirectory: true))
    // The source agent.
    let sender = try CheckpointSender(
        directory: checkpoint.directory,
        workload: "bench",
        transferID: transfer,
        destination: destination.agreement.publicKey
    )
    try relay.storeOffer(
        try SignedOffer(sender.offer, key: source.signing),
        transfer: transfer,
        sender: try source.relaySigningKey()
    )
    for index in 0..<sender.layout.chunkCount {
        try relay.storeChunk(transfer, index: index, sealed: sender.chunk(index))
    }
    // The destination agent.
    guard let signed = try relay.offer(transfer) else { throw BenchmarkFailure("expected an offer at the relay") }
    var receiver = try CheckpointReceiver(
        root: scratch + "/destination",
        offer: try signed.verified(by: source.signing.publicKey),
        privateKey: destination.agreement,
        syncInterval: syncInterval
    )
    for index in 0..<receiver.layout.chunkCount {
        guard let sealed = try relay.chunk(transfer, index: index) else {
            throw BenchmarkFailure("expected chunk \(index) at the relay, found none")
        }
        try receiver.receive(index, sealed: sealed)
    }
    _ = try receiver.commit()
    return Int(receiver.offer.manifest.totalSize)
}

/// Copies every file of `checkpoint` into `scratch/copy` through one 1 MiB buffer, syncing each file at its
/// end when `synced`.
///
/// - Returns: the bytes copied.
func plainCopy(_ checkpoint: SourceCheckpoint, scratch: String, synced: Bool) throws -> Int {
    let root = scratch + "/copy"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    var copied = 0
    for name in try FileManager.default.contentsOfDirectory(atPath: checkpoint.directory) {
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: checkpoint.directory + "/" + name))
        defer { try? input.close() }
        FileManager.default.createFile(atPath: root + "/" + name, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/" + name))
        defer { try? output.close() }
        while let block = try input.read(upToCount: 1 << 20), !block.isEmpty {
            try output.write(contentsOf: block)
            copied += block.count
        }
        if synced { try output.synchronize() }
    }
    return copied
}

/// Runs `move` once per iteration into a fresh scratch directory, timing only the move.
func measure(_ benchmark: Benchmark, _ move: (String, Int) throws -> Int) throws {
    for iteration in benchmark.scaledIterations {
        let scratch = SourceCheckpoint.base + "/scratch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        benchmark.startMeasurement()
        blackHole(try move(scratch, iteration))
        benchmark.stopMeasurement()
        try FileManager.default.removeItem(atPath: scratch)
    }
}

let benchmarks: @Sendable () -> Void = {
    for (name, megabytes, iterations) in [("16 MiB", 16, 20), ("256 MiB", 256, 10), ("1 GiB", 1_024, 4)] {
        let checkpoint = SourceCheckpoint(megabytes: megabytes)
        let configuration = Benchmark.Configuration(
            metrics: metrics,
            warmupIterations: 1,
            maxDuration: .seconds(60),
            maxIterations: iterations,
            setup: { try checkpoint.write() }
        )
        Benchmark(
            "checkpoint relay \(name) (pack, sign, seal, relay store, fetch, open, write, verify, rename)",
            configuration: configuration
        ) { benchmark in
            try measure(benchmark) { scratch, iteration in
                try moveThroughRelay(checkpoint, scratch: scratch, transfer: "t\(iteration)")
            }
        }
        // What the syncs every 64 MiB cost: the same move with staging synced only at the commit.
        Benchmark("checkpoint relay \(name), staging synced only at the commit", configuration: configuration) {
            benchmark in
            try measure(benchmark) { scratch, iteration in
                try moveThroughRelay(checkpoint, scratch: scratch, transfer: "t\(iteration)", syncInterval: .max)
            }
        }
        Benchmark("plain copy \(name)", configuration: configuration) { benchmark in
            try measure(benchmark) { scratch, _ in try plainCopy(checkpoint, scratch: scratch, synced: false) }
        }
        Benchmark("plain copy \(name), each file synced", configuration: configuration) { benchmark in
            try measure(benchmark) { scratch, _ in try plainCopy(checkpoint, scratch: scratch, synced: true) }
        }
    }
}
