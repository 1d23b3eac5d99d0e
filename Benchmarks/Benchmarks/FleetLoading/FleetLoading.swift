import Benchmark
import FleetGenerator
import SovereignModel

// Loading a whole fleet from disk: YAML parsing, decoding, cross-document checks, and reading,
// range-checking and resampling every trace onto the scenario's 8,760-step grid.
//
// The fleets are written once into a temporary directory (see FleetGenerator) and reused; generation
// happens in `setup`, outside the measurement.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]

/// The full-size fleet: 1,000 sites (each with its own year-long hourly trace), 10,000 workloads.
let large = FleetGenerator(sites: 1_000, workloads: 10_000, datasets: 200)
/// A tenth of it, to show how the cost grows.
let small = FleetGenerator(sites: 100, workloads: 1_000, datasets: 20)

func register(_ fleet: FleetGenerator, maxIterations: Int) {
    Benchmark(
        "load \(fleet.sites) sites \(fleet.workloads) workloads",
        configuration: .init(
            metrics: metrics,
            warmupIterations: 1,
            maxDuration: .seconds(120),
            maxIterations: maxIterations
        ),
        closure: { benchmark throws in
            let directory = fleet.directory.path
            for _ in benchmark.scaledIterations {
                blackHole(try FleetLoader().load(paths: [directory]))
            }
        },
        setup: { try fleet.ensureGenerated() }
    )
}

let benchmarks: @Sendable () -> Void = {
    register(small, maxIterations: 20)
    register(large, maxIterations: 5)
}
