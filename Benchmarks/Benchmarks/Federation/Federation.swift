import Benchmark
import Foundation
import SovereignFederation

// FedAvg fold throughput: update bytes folded per second, next to a plain memory copy of the same bytes
// from the same memory-mapped files, measured in the same run. Two shapes: 10 sites × 25M float32
// parameters in 50 tensors (1 GB of updates) and 100 sites × 1M parameters in 50 tensors (400 MB).
//
// The update files are written once (seeded values) to $TMPDIR/sovereign-benchmarks/federation-*/ (override
// with SOVEREIGN_BENCH_DIR) and reused by later runs; they are opened (mmap) and every page is touched in
// `setup`, so both the fold and the copy read warm page-cache memory.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]

/// One benchmark shape: the files, opened and warm, and the round's global model.
final class FoldInput: Sendable {
    let files: [SafetensorsFile]
    let global: ModelWeights
    let bytes: Int

    init(sites: Int, parameters: Int, tensors: Int) {
        let perTensor = parameters / tensors
        let global = ModelWeights(
            (0..<tensors).map { ModelWeights.Tensor(zeros: "layers.\($0).weight", shape: [perTensor / 1000, 1000]) }
        )
        let root =
            ProcessInfo.processInfo.environment["SOVEREIGN_BENCH_DIR"]
            ?? (NSTemporaryDirectory() + "sovereign-benchmarks")
        let directory = "\(root)/federation-\(sites)x\(parameters)"
        let marker = directory + "/.complete"
        if !FileManager.default.fileExists(atPath: marker) {
            try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var state: UInt64 = 2026
            for site in 0..<sites {
                let delta = ModelWeights(
                    global.tensors.map { tensor in
                        let values = (0..<tensor.values.count).map { _ -> Float in
                            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                            return Float(Int32(truncatingIfNeeded: state >> 32)) * 0x1p-40
                        }
                        return .init(name: tensor.name, shape: tensor.shape, values: values)
                    }
                )
                try! Safetensors.write(
                    delta,
                    metadata: ["site": "\(site)"],
                    to: "\(directory)/site-\(site).safetensors"
                )
            }
            FileManager.default.createFile(atPath: marker, contents: Data())
        }
        files = (0..<sites).map { try! SafetensorsFile(path: "\(directory)/site-\($0).safetensors") }
        for file in files {
            file.withUnsafeBytes { bytes in
                var sum: UInt8 = 0
                for page in stride(from: 0, to: bytes.count, by: 4096) { sum &+= bytes[page] }
                blackHole(sum)
            }
        }
        self.global = global
        bytes = sites * perTensor * tensors * 4
    }
}

let large = FoldInput(sites: 10, parameters: 25_000_000, tensors: 50)
let many = FoldInput(sites: 100, parameters: 1_000_000, tensors: 50)

/// A destination as large as one update, for the copy baseline.
func copyDestination(_ input: FoldInput) -> UnsafeMutableRawPointer {
    let size = input.bytes / input.files.count
    let pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    memset(pointer, 0, size)
    return pointer
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: metrics,
        warmupIterations: 1,
        maxDuration: .seconds(30),
        maxIterations: 20
    )
    for (label, input) in [("10 sites × 25M params", large), ("100 sites × 1M params", many)] {
        Benchmark("copy \(label)", configuration: configuration) { benchmark in
            let destination = copyDestination(input)
            defer { destination.deallocate() }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for file in input.files {
                    var offset = 0
                    for info in file.tensors {
                        try file.withBytes(of: info.name) { bytes in
                            memcpy(destination + offset, bytes.baseAddress!, bytes.count)
                            offset += bytes.count
                        }
                    }
                }
            }
            benchmark.stopMeasurement()
            blackHole(destination.load(as: UInt8.self))
        }

        Benchmark("FedAvg fold \(label)", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations {
                var aggregator = try RoundAggregator(strategy: .fedAvg, global: input.global)
                // Zero the accumulator outside the measurement: fold only.
                try aggregator.foldSum([Float](repeating: 0, count: input.global.parameterCount), totalExamples: 0)
                benchmark.startMeasurement()
                for file in input.files { try aggregator.fold(file, examples: 100) }
                aggregator.foldPending()
                benchmark.stopMeasurement()
                blackHole(aggregator.updateCount)
            }
        }

        Benchmark("FedAvg round (allocate, fold, mean) \(label)", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations {
                var aggregator = try RoundAggregator(strategy: .fedAvg, global: input.global)
                for file in input.files { try aggregator.fold(file, examples: 100) }
                blackHole(try aggregator.aggregateDelta().parameterCount)
            }
        }
    }
}
