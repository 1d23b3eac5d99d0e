import Benchmark
import Foundation
import SovereignBase
import SovereignCheckpoint
import SovereignServer

// A checkpoint moved through the relay as two site agents and the control plane move it, all on this machine
// and in this process, the two agents' couriers running at once as they do at two sites: the source courier
// packs it (a manifest with every file's SHA-256), signs the offer and seals every 1 MiB chunk (AES-GCM for
// the destination's X25519 key), up to 8 chunks in flight; the relay checks the offer's signature and the
// chunks' lengths and stores them on disk (each written, then renamed into place); the destination courier
// fetches the offer, checks its signature, fetches up to 8 chunks at once from the relay's disk, opens each,
// writes it into staging (synced every 64 MiB, with its state file), and commits: every file's size and
// SHA-256 checked, every staged file synced, the directory renamed into place. The HTTP hops between the
// agents and the relay are not in this benchmark: `Benchmarks/scripts/checkpoint-relay.sh` measures the
// same move between real agent processes through `sovereign serve`, against plain copies over HTTP.
//
// Against a plain copy of the same files through one 1 MiB buffer (what `cp` does), and the same copy synced
// at the end of each file (`cp` then `sync`), at 16 MiB, 256 MiB and 1 GiB: throughput is the ratio of the
// wall clocks, and peak resident memory should not grow with the checkpoint's size.
//
// Checkpoints are written once in `setup`, outside the measurement, under the temporary directory (kept for
// later runs); what a run writes is removed after each iteration, outside the measurement too.

let metrics: [BenchmarkMetric] = [
    .wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident, .peakMemoryResidentDelta, .throughput,
]

/// A checkpoint directory of `megabytes` MiB in four files of seeded bytes, under the temporary directory,
/// laid out as a source agent keeps it: `site-N/bench/checkpoint`.
struct SourceCheckpoint: Sendable {
    let site: String
    let directory: String
    let megabytes: Int

    init(megabytes: Int) {
        self.megabytes = megabytes
        site = Self.base + "/site-\(megabytes)"
        directory = site + "/bench/checkpoint"
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

/// Why a transfer in a benchmark did not complete.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let source = AgentIdentity()
let destination = AgentIdentity()

/// The relay under `root` as the control plane serves it to the two agents, without the HTTP between.
func transport(_ relay: CheckpointRelay) throws -> RelayTransport {
    guard let key = Curve25519SigningKey(base64: source.publicKeys.signing) else {
        throw BenchmarkFailure("expected a 32-byte Ed25519 public key in base64, found one the relay refuses")
    }
    return RelayTransport(
        putOffer: { transfer, offer in try relay.storeOffer(offer, transfer: transfer, sender: key) },
        putChunk: { transfer, index, sealed in try relay.storeChunk(transfer, index: index, sealed: sealed) },
        offer: { transfer in try relay.offer(transfer) },
        chunk: { transfer, index in try relay.chunk(transfer, index: index) }
    )
}

/// Moves `checkpoint` through a relay under `scratch` into a destination agent's directory under `scratch`,
/// the source's and the destination's couriers running at once.
///
/// - Returns: the bytes moved.
func moveThroughRelay(_ checkpoint: SourceCheckpoint, scratch: String, transfer: String) async throws -> Int {
    let relay = try transport(CheckpointRelay(root: URL(fileURLWithPath: scratch + "/relay", isDirectory: true)))
    let sending = CheckpointCourier(directory: URL(fileURLWithPath: checkpoint.site), identity: source, relay: relay)
    let receiving = CheckpointCourier(
        directory: URL(fileURLWithPath: scratch + "/destination"),
        identity: destination,
        relay: relay,
        patience: .milliseconds(20)
    )
    await sending.send(
        [CheckpointSend(transfer: transfer, workload: "bench", to: "b", recipientKey: destination.publicKeys.agreement)]
    )
    await receiving.fetch(
        CheckpointFetch(transfer: transfer, from: "a", senderKey: source.publicKeys.signing),
        workload: "bench"
    )
    while true {
        switch await receiving.transfers()[transfer] {
        case .done(let received): return Int(received.bytes)
        case .failed(let why): throw BenchmarkFailure("transfer \(transfer) failed: \(why)")
        case .moving, nil: try await Task.sleep(for: .milliseconds(1))
        }
    }
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
func measure(_ benchmark: Benchmark, _ move: (String, Int) async throws -> Int) async throws {
    for iteration in benchmark.scaledIterations {
        let scratch = SourceCheckpoint.base + "/scratch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        benchmark.startMeasurement()
        blackHole(try await move(scratch, iteration))
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
            "checkpoint relay \(name) (two couriers at once: pack, sign, seal, relay store, fetch, open, write, verify, rename)",
            configuration: configuration
        ) { benchmark in
            try await measure(benchmark) { scratch, iteration in
                try await moveThroughRelay(checkpoint, scratch: scratch, transfer: "t\(iteration)")
            }
        }
        Benchmark("plain copy \(name)", configuration: configuration) { benchmark in
            try await measure(benchmark) { scratch, _ in try plainCopy(checkpoint, scratch: scratch, synced: false) }
        }
        Benchmark("plain copy \(name), each file synced", configuration: configuration) { benchmark in
            try await measure(benchmark) { scratch, _ in try plainCopy(checkpoint, scratch: scratch, synced: true) }
        }
    }
}
