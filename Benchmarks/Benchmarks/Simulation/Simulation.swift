import Benchmark
import FleetGenerator
import SovereignModel
import SovereignPlanner
import SovereignSimulator

// Planning and simulating end to end (forecasts, the power-aware plan, every step of execution with
// shedding and replans), on fleets of growing size. The fleet is loaded in `setup`, outside the measurement.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]

/// A loaded fleet, shared between setup and the measured closure.
final class Loaded: @unchecked Sendable {
    var fleet: Fleet?
}

func register(_ generator: FleetGenerator, label: String, maxIterations: Int) {
    let loaded = Loaded()
    Benchmark(
        "simulate power-aware \(generator.sites) sites \(generator.workloads) workloads \(label)",
        configuration: .init(
            metrics: metrics,
            warmupIterations: 0,
            maxDuration: .seconds(180),
            maxIterations: maxIterations
        ),
        closure: { benchmark in
            guard let fleet = loaded.fleet else { return }
            for _ in benchmark.scaledIterations {
                blackHole(Simulator(fleet: fleet).run(policy: .powerAware, seed: 1))
            }
        },
        setup: {
            let directory = try generator.ensureGenerated()
            loaded.fleet = try FleetLoader().load(paths: [directory.path])
        }
    )
}

let benchmarks: @Sendable () -> Void = {
    let week = (horizon: "7 d", step: "15 min")
    register(
        FleetGenerator(sites: 10, workloads: 100, datasets: 5, horizon: week.horizon, step: week.step),
        label: "week@15min",
        maxIterations: 10
    )
    register(
        FleetGenerator(sites: 50, workloads: 1_000, datasets: 20, horizon: week.horizon, step: week.step),
        label: "week@15min",
        maxIterations: 5
    )
    register(
        FleetGenerator(sites: 200, workloads: 10_000, datasets: 100, horizon: week.horizon, step: week.step),
        label: "week@15min",
        maxIterations: 3
    )
    register(
        FleetGenerator(sites: 1_000, workloads: 20_000, datasets: 200, horizon: week.horizon, step: week.step),
        label: "week@15min",
        maxIterations: 2
    )
    register(FleetGenerator(sites: 100, workloads: 1_000, datasets: 20), label: "year@1h", maxIterations: 3)
}
