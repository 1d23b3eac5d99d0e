import Benchmark
import Foundation
import Logging
import SovereignModel
import SovereignServer

// Site agents polling one control plane: `ControlPlane.agentPoll(site:report:by:)`, what
// `POST /v1/sites/{site}/agent` calls after it has decoded the report (the HTTP layer and the JSON codec are
// not timed), for every site in turn, at 100, 1,000 and 10,000 sites with three running workloads each.
//
// - "agent poll": one poll per iteration, the report saying all is well (its attempts running, a checkpoint
//   each): the latency's distribution. Polls per second on one core is 1 / wall clock.
// - "round of polls": every site polls once per iteration: what the control plane spends (CPU, wall clock)
//   for one second of the whole fleet polling once a second.
// - "agent poll with power": the report carries the site's power, as an agent sends it when it changed or a
//   minute after it last did; the poll records the signal and runs a control-loop pass (`reconcile()`).
// - "agent poll, an attempt ended": the report says one attempt completed; the poll runs a pass, which
//   settles it. Each iteration ends an attempt at the next site, so no site's attempt ends twice.
// - "agent poll with power ... 97000 ended workloads": the same at issue 22's size, 100,000 workloads submitted,
//   of which 97,000 ran and completed before (their records and attempts are in the store).
// - "17 agent polls with power at once": a second of 1,000 agents sending their power once a minute, arriving
//   together: the polls wait for one pass after their signals, together, not for 17 passes one after another.
//
// - "federation round of polls": every site's federation agent polls `GET /v1/federation/tasks` once
//   (`FederationCoordinator.tasks(for:)`) with no workload changed since the last poll: no store read.
// - "federation poll that reads the store": the first poll of a fresh coordinator, which reads the active
//   workloads from the store and matches its runs to them: what every poll cost before polls read the store
//   only after a workload changed, and what a poll costs now right after one did.
//
// Each benchmark builds its fleet in `setup` and removes it in `teardown`, outside the measurement.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident, .throughput]
let workloadsPerSite = 3

/// The fleet of the benchmark that runs now (one at a time, each built in its own `setup`).
nonisolated(unsafe) var fleet: PollingFleet?

func prepare(sites: Int, ended: Int = 0) -> @Sendable () async throws -> Void {
    {
        fleet = nil
        fleet = try PollingFleet(siteCount: sites, workloadsPerSite: workloadsPerSite, ended: ended)
    }
}

/// Removes the fleet `prepare` built, with its files.
let removeFleet: @Sendable () async throws -> Void = {
    if let built = fleet { try? FileManager.default.removeItem(at: built.directory) }
    fleet = nil
}

func currentFleet() throws -> PollingFleet {
    guard let fleet else { throw BenchmarkFixtureMissing() }
    return fleet
}

/// A benchmark ran without the fleet its `setup` builds.
struct BenchmarkFixtureMissing: Error, CustomStringConvertible {
    var description: String { "expected the benchmark's setup to have built its fleet, found none" }
}

/// One poll of the next site, with `change` applied to its steady report.
func poll(
    _ fleet: PollingFleet,
    change: (inout AgentReport, [(id: Int64, workload: String)]) -> Void = { _, _ in }
)
    async throws
{
    let index = fleet.polls.withLock { count in
        defer { count += 1 }
        return count % fleet.sites.count
    }
    var report = fleet.steadyReport(index)
    change(&report, fleet.attempts[index])
    let site = fleet.sites[index]
    blackHole(
        try await fleet.plane.agentPoll(site: site, report: report, by: .init(identity: "token:bench", site: site))
    )
}

/// A federation coordinator over the fleet's control plane.
func coordinator(_ fleet: PollingFleet) -> FederationCoordinator {
    FederationCoordinator(
        plane: fleet.plane,
        directory: fleet.directory.appendingPathComponent("federation"),
        logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }),
        clock: { PollingFleet.now }
    )
}

/// The site's power as its agent reads it: the grid's full 500 kW at 25 °C.
let sitePower = PowerSignalBody(available: .kilowatts(500), ambient: .celsius(25))

let benchmarks: @Sendable () -> Void = {
    for sites in [1_000] {
        let fleetName = "\(sites) sites, \(sites * workloadsPerSite) running workloads"
        Benchmark(
            "federation round of polls, every site once, nothing changed: \(fleetName)",
            configuration: .init(
                metrics: metrics,
                warmupIterations: 1,
                maxDuration: .seconds(30),
                maxIterations: 10,
                setup: prepare(sites: sites),
                teardown: removeFleet
            )
        ) { benchmark in
            let fleet = try currentFleet()
            let polled = coordinator(fleet)
            _ = await polled.tasks(for: fleet.sites[0])
            benchmark.startMeasurement()
            for site in fleet.sites { blackHole(await polled.tasks(for: site)) }
            benchmark.stopMeasurement()
        }
        Benchmark(
            "federation poll that reads the store: \(fleetName)",
            configuration: .init(
                metrics: metrics,
                warmupIterations: 5,
                maxDuration: .seconds(20),
                maxIterations: 200,
                setup: prepare(sites: sites),
                teardown: removeFleet
            )
        ) { benchmark in
            let fleet = try currentFleet()
            let fresh = coordinator(fleet)
            benchmark.startMeasurement()
            blackHole(await fresh.tasks(for: fleet.sites[0]))
            benchmark.stopMeasurement()
        }
    }
    for sites in [100, 1_000, 10_000] {
        let fleetName = "\(sites) sites, \(sites * workloadsPerSite) running attempts"
        Benchmark(
            "agent poll: \(fleetName)",
            configuration: .init(
                metrics: metrics,
                warmupIterations: sites,
                maxDuration: .seconds(20),
                maxIterations: 3 * sites,
                setup: prepare(sites: sites),
                teardown: removeFleet
            )
        ) { _ in
            try await poll(try currentFleet())
        }
        Benchmark(
            "round of polls, every site once: \(fleetName)",
            configuration: .init(
                metrics: metrics,
                warmupIterations: 1,
                maxDuration: .seconds(30),
                maxIterations: 5,
                setup: prepare(sites: sites),
                teardown: removeFleet
            )
        ) { _ in
            let fleet = try currentFleet()
            for _ in 0..<fleet.sites.count { try await poll(fleet) }
        }
        Benchmark(
            "agent poll with power (reconcile runs): \(fleetName)",
            configuration: .init(
                metrics: metrics,
                warmupIterations: 1,
                maxDuration: .seconds(20),
                maxIterations: min(sites, 200),
                setup: prepare(sites: sites),
                teardown: removeFleet
            )
        ) { _ in
            try await poll(try currentFleet()) { report, _ in report.power = sitePower }
        }
        Benchmark(
            "agent poll, an attempt ended (reconcile runs): \(fleetName)",
            configuration: .init(
                metrics: metrics,
                warmupIterations: 1,
                maxDuration: .seconds(20),
                maxIterations: min(sites - 1, 200),
                setup: prepare(sites: sites),
                teardown: removeFleet
            )
        ) { _ in
            try await poll(try currentFleet()) { report, held in
                guard let first = held.first else { return }
                report.attempts[0] = .ended(id: first.id, workload: first.workload, status: ExitStatus(exit: 0))
            }
        }
    }
    // Issue 22's size: 100,000 workloads submitted, of which 97,000 ran and completed before.
    Benchmark(
        "agent poll with power (reconcile runs): 1000 sites, 3000 running attempts, 97000 ended workloads",
        configuration: .init(
            metrics: metrics,
            warmupIterations: 1,
            maxDuration: .seconds(20),
            maxIterations: 200,
            setup: prepare(sites: 1_000, ended: 97_000),
            teardown: removeFleet
        )
    ) { _ in
        try await poll(try currentFleet()) { report, _ in report.power = sitePower }
    }
    Benchmark(
        "17 agent polls with power at once (reconcile runs): 1000 sites, 3000 running attempts",
        configuration: .init(
            metrics: metrics,
            warmupIterations: 1,
            maxDuration: .seconds(20),
            maxIterations: 50,
            setup: prepare(sites: 1_000),
            teardown: removeFleet
        )
    ) { _ in
        let fleet = try currentFleet()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<17 { group.addTask { try await poll(fleet) { report, _ in report.power = sitePower } } }
            try await group.waitForAll()
        }
    }
}
