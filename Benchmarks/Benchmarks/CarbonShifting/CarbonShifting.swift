import Benchmark
import Foundation
import SovereignModel
import SovereignPlanner
import SovereignSimulator
import SovereignTesting

// Carbon shifting on Examples/carbon-shifting: the first 1,000 and 10,000 real jobs on one German site
// (January–February 2020, 41 days at 5-minute steps), and every job of the trace (99,988 over 2020, 369 days,
// 106,272 steps), simulated under each policy with free and with priced pauses; and the first 1,000, 10,000 and
// every job over the whole year at 5-second steps (6,376,320 steps, issue 18's scale), free pauses. The fleet is
// written and loaded in `setup`, outside the measurement.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]

/// A loaded fleet, shared between setup and the measured closure.
final class Loaded: @unchecked Sendable {
    var fleet: Fleet?
}

func register(jobs: Int, policy: PlanningPolicy, pricedPauses: Bool, fiveSecondYear: Bool = false) {
    let loaded = Loaded()
    let pauses = pricedPauses ? "priced pauses" : "free pauses"
    Benchmark(
        "simulate \(policy.name) \(jobs) jobs \(pauses)\(fiveSecondYear ? ", a year at 5 s" : "")",
        configuration: .init(metrics: metrics, warmupIterations: 0, maxDuration: .seconds(120), maxIterations: 3),
        closure: { benchmark in
            guard let fleet = loaded.fleet else { return }
            for _ in benchmark.scaledIterations {
                blackHole(Simulator(fleet: fleet).run(policy: policy, seed: 1))
            }
        },
        setup: {
            let scratch = FileManager.default.temporaryDirectory
                .appendingPathComponent(
                    "sovereign-benchmarks/carbon-shifting-\(jobs)-\(pricedPauses)-\(fiveSecondYear)"
                )
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            loaded.fleet = try CarbonShiftingExample.fleet(
                jobs: jobs,
                pricedPauses: pricedPauses,
                fiveSecondYear: fiveSecondYear,
                in: scratch
            )
        }
    )
}

let benchmarks: @Sendable () -> Void = {
    for jobs in [1_000, 10_000, 100_000] {
        for policy in PlanningPolicy.all {
            register(jobs: jobs, policy: policy, pricedPauses: false)
        }
        register(jobs: jobs, policy: .carbonAware, pricedPauses: true)
    }
    for jobs in [1_000, 10_000, 100_000] {
        for policy in PlanningPolicy.all {
            register(jobs: jobs, policy: policy, pricedPauses: false, fiveSecondYear: true)
        }
    }
}
