import Benchmark
import FleetGenerator
import Foundation
import SovereignAssessment
import SovereignModel
import SovereignPlanner

// `sovereign assess` end to end minus loading: the power-aware plan, the five-layer matrix for every site and
// the fleet, and stress tests (two cuts: each alone and both together, so three cut simulations plus the uncut
// one, run concurrently). The fleet and an inventory of software and models are loaded in `setup`.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]

/// A loaded fleet, shared between setup and the measured closure.
final class Loaded: @unchecked Sendable {
    var fleet: Fleet?
}

/// Software and models for the generated fleets, which carry none: a fleet-wide open stack, NVIDIA's closed
/// firmware and runtime, and a few models (the generated workloads name none, so the model layer reads
/// their provenance as unknown, the most expensive path).
let inventory = """
    apiVersion: sovereign.dev/v1
    kind: SoftwareComponent
    metadata: {name: kubernetes}
    spec: {role: orchestrator, licence: Apache-2.0, origin: US, updates: {by: CNCF, jurisdiction: US}}
    ---
    apiVersion: sovereign.dev/v1
    kind: SoftwareComponent
    metadata: {name: pytorch}
    spec: {role: framework, licence: BSD-3-Clause, origin: US, updates: {by: PyTorch Foundation, jurisdiction: US}}
    ---
    apiVersion: sovereign.dev/v1
    kind: SoftwareComponent
    metadata: {name: nvidia-gsp-firmware}
    spec: {role: firmware, licence: proprietary, origin: US, updates: {by: NVIDIA, jurisdiction: US}}
    ---
    apiVersion: sovereign.dev/v1
    kind: SoftwareComponent
    metadata: {name: cuda-toolkit}
    spec: {role: runtime, licence: proprietary, origin: US, updates: {by: NVIDIA, jurisdiction: US}}
    ---
    apiVersion: sovereign.dev/v1
    kind: Model
    metadata: {name: llama-3.1-8b}
    spec: {parameters: 8B, licence: llama3.1, weights: open, publisher: {name: Meta, jurisdiction: US}, trainedIn: US}

    """

func inventoryFile() throws -> URL {
    let url = FleetGenerator.workRoot.appendingPathComponent("assessment-inventory.yaml")
    try FileManager.default.createDirectory(at: FleetGenerator.workRoot, withIntermediateDirectories: true)
    try inventory.write(to: url, atomically: true, encoding: .utf8)
    return url
}

func assess(_ fleet: Fleet, cuts: [Cut]) async -> Int {
    let assessment = await SovereignAssessment.Assessment.run(fleet, policy: .powerAware, cuts: cuts, seed: 1)
    return assessment.matrix.sites.count + (assessment.stress?.results.count ?? 0)
}

func register(_ generator: FleetGenerator, label: String, cuts: [Cut], maxIterations: Int) {
    let loaded = Loaded()
    let what = cuts.isEmpty ? "matrix only" : "matrix + \(cuts.count) cuts"
    Benchmark(
        "assess \(what) \(generator.sites) sites \(generator.workloads) workloads \(label)",
        configuration: .init(
            metrics: metrics,
            warmupIterations: 0,
            maxDuration: .seconds(120),
            maxIterations: maxIterations
        ),
        closure: { benchmark in
            guard let fleet = loaded.fleet else { return }
            for _ in benchmark.scaledIterations {
                blackHole(await assess(fleet, cuts: cuts))
            }
        },
        setup: {
            let directory = try generator.ensureGenerated()
            loaded.fleet = try FleetLoader().load(paths: [directory.path, try inventoryFile().path])
        }
    )
}

let benchmarks: @Sendable () -> Void = {
    let cuts = [Cut(.operatorJurisdiction, "US"), Cut(.jurisdiction, "EAC")]
    let week = (horizon: "7 d", step: "1 h")
    register(
        FleetGenerator(sites: 1_000, workloads: 2_000, datasets: 200, horizon: week.horizon, step: week.step),
        label: "week@1h",
        cuts: [],
        maxIterations: 5
    )
    for (sites, workloads) in [(100, 200), (300, 600), (1_000, 2_000), (1_000, 4_000)] {
        register(
            FleetGenerator(
                sites: sites,
                workloads: workloads,
                datasets: max(20, sites / 5),
                horizon: week.horizon,
                step: week.step
            ),
            label: "week@1h",
            cuts: cuts,
            maxIterations: 3
        )
    }
    register(
        FleetGenerator(sites: 1_000, workloads: 2_000, datasets: 200, horizon: "28 d", step: "1 h"),
        label: "4weeks@1h",
        cuts: cuts,
        maxIterations: 2
    )
}
