import Benchmark
import Crypto
import Foundation
import SovereignBase
import SovereignCheckpoint

// A checkpoint moved through the relay (packed, every chunk sealed by the sender and opened, written and
// synced by the receiver, every digest checked, renamed into place) against a plain streaming copy of the
// same bytes through the same 1 MiB buffer, at two checkpoint sizes: throughput is the ratio of the wall
// clocks, and peak resident memory should not grow with the checkpoint's size.
//
// Checkpoints are written once, lazily, in `setup`, outside the measurement, under the temporary directory.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident, .throughput]

/// A checkpoint directory of `megabytes` MiB in four files of seeded bytes.
struct SourceCheckpoint: Sendable {
    let directory: String
    let bytes: Int

    init(megabytes: Int) {
        directory = FileManager.default.temporaryDirectory.path + "/sovereign-bench-checkpoint-\(megabytes)"
        bytes = megabytes << 20
        try? FileManager.default.removeItem(atPath: directory)
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: UInt64(megabytes))
        for file in 0..<4 {
            FileManager.default.createFile(atPath: directory + "/shard-\(file).bin", contents: nil)
            let handle = try! FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/shard-\(file).bin"))
            for _ in 0..<(megabytes / 4) {
                var block = [UInt64](repeating: 0, count: 1 << 17)
                for index in block.indices { block[index] = generator.next() }
                try! handle.write(contentsOf: block.withUnsafeBytes { Data($0) })
            }
            try! handle.close()
        }
    }
}

let small = SourceCheckpoint(megabytes: 16)
let large = SourceCheckpoint(megabytes: 256)
let destinationKey = Curve25519.KeyAgreement.PrivateKey()

/// Packs, seals, opens, verifies and renames `source` into a fresh root; returns the bytes moved.
func relay(_ source: SourceCheckpoint, transfer: Int) throws -> Int {
    let root = FileManager.default.temporaryDirectory.path + "/sovereign-bench-dest-\(transfer)"
    defer { try? FileManager.default.removeItem(atPath: root) }
    let sender = try CheckpointSender(
        directory: source.directory,
        workload: "bench",
        transferID: "t\(transfer)",
        destination: destinationKey.publicKey
    )
    var receiver = try CheckpointReceiver(root: root, offer: sender.offer, privateKey: destinationKey)
    for index in 0..<sender.layout.chunkCount { try receiver.receive(index, sealed: sender.chunk(index)) }
    _ = try receiver.commit()
    return Int(sender.offer.manifest.totalSize)
}

/// Copies every file of `source` through one 1 MiB buffer, synced at the end of each file.
func plainCopy(_ source: SourceCheckpoint, transfer: Int) throws -> Int {
    let root = FileManager.default.temporaryDirectory.path + "/sovereign-bench-copy-\(transfer)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    var copied = 0
    for name in try FileManager.default.contentsOfDirectory(atPath: source.directory) {
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: source.directory + "/" + name))
        FileManager.default.createFile(atPath: root + "/" + name, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/" + name))
        while let block = try input.read(upToCount: 1 << 20), !block.isEmpty {
            try output.write(contentsOf: block)
            copied += block.count
        }
        try output.synchronize()
        try input.close()
        try output.close()
    }
    return copied
}

let benchmarks: @Sendable () -> Void = {
    for (name, source) in [("16 MiB", small), ("256 MiB", large)] {
        Benchmark(
            "checkpoint relay \(name) (pack, seal, open, verify, rename)",
            configuration: .init(metrics: metrics, warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 10),
            closure: { benchmark in
                for iteration in benchmark.scaledIterations {
                    blackHole(try relay(source, transfer: iteration))
                }
            },
            setup: { blackHole(source.bytes) }
        )
        Benchmark(
            "plain copy \(name)",
            configuration: .init(metrics: metrics, warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 10),
            closure: { benchmark in
                for iteration in benchmark.scaledIterations {
                    blackHole(try plainCopy(source, transfer: iteration))
                }
            },
            setup: { blackHole(source.bytes) }
        )
    }
}
