public import SovereignModel
public import SovereignPlanner
public import SovereignSimulator

/// What remains of the fleet after one set of cuts, against the uncut fleet.
public struct StressResult: Sendable {
    /// A workload that ran in the uncut fleet's plan and cannot be placed after the cuts.
    public struct Lost: Sendable, Hashable {
        /// The workload's name.
        public let workload: String
        /// The planner's explanation, kube-scheduler style.
        public let explanation: String
    }

    /// The cuts, together.
    public let cuts: [Cut]
    /// Set when the cuts take nothing away: why, naming what the fleet has instead.
    public let removesNothing: String?
    /// Sites gone entirely.
    public let sitesLost: [String]
    /// Pools gone, as `site/pool`.
    public let poolsLost: [String]
    /// Accelerators gone.
    public let acceleratorsLost: Int
    /// Accelerators in the uncut fleet.
    public let acceleratorsTotal: Int
    /// Dense PFLOPS gone.
    public let pflopsLost: Double
    /// Dense PFLOPS of the uncut fleet.
    public let pflopsTotal: Double
    /// Board power of the accelerators gone (count × TDP).
    public let powerLost: Power
    /// Board power of every accelerator of the uncut fleet.
    public let powerTotal: Power
    /// Datasets held at sites that are gone: the planner may still place their work elsewhere in their
    /// residency (a copy is assumed to exist), but the copy at the lost site is out of reach.
    public let datasetsAtLostSites: [String]
    /// Software whose updates come from what was cut (its updater is the vendor cut, or answers to the
    /// designing country cut): it keeps running but gets no more fixes.
    public let softwareWithoutUpdates: [String]
    /// Workloads placed in the uncut plan and unplaceable now, with the planner's explanations.
    public let newlyUnplaceable: [Lost]
    /// Workloads unplaceable in both.
    public let stillUnplaceable: Int
    /// Workloads completed (uncut, cut), out of ``workloads``.
    public let completed: (uncut: Int, cut: Int)
    /// Workloads in the fleet.
    public let workloads: Int
    /// Work done in EFLOP (uncut, cut), out of ``workRequired``.
    public let workDone: (uncut: Double, cut: Double)
    /// Work the fleet's workloads require, in EFLOP.
    public let workRequired: Double
    /// Inference service-steps short of capacity (uncut, cut).
    public let serviceShortSteps: (uncut: Int, cut: Int)

    /// `vendor=NVIDIA + site=kigali-1`.
    public var label: String { cuts.map(\.description).joined(separator: " + ") }
}

/// Runs stress tests: cuts the fleet, re-plans and re-simulates its workloads, and compares with the uncut
/// fleet under the same policy and seed.
public enum StressTest: Sendable {
    /// The scenarios a list of cuts asks for: the cut alone when there is one; each alone and then all
    /// together when there are several, so that the combination can be read against its parts.
    public static func scenarios(_ cuts: [Cut]) -> [[Cut]] {
        cuts.count <= 1 ? (cuts.isEmpty ? [] : [cuts]) : cuts.map { [$0] } + [cuts]
    }

    /// Runs the scenarios, the uncut simulation and each cut one concurrently (structured: a task group).
    ///
    /// - Parameters:
    ///   - fleet: the fleet, with a Scenario.
    ///   - scenarios: each a set of cuts applied together.
    ///   - policy: the planning policy.
    ///   - seed: the forecast-error seed; the same seed gives the same results.
    /// - Returns: the uncut simulation and one result per scenario, in order; `nil` when the fleet has no
    ///   Scenario.
    /// - Complexity: one simulation per scenario plus one, run at most as wide as the machine allows.
    public static func run(
        _ fleet: Fleet,
        scenarios: [[Cut]],
        policy: PlanningPolicy,
        seed: UInt64
    ) async -> (uncut: Simulation, results: [StressResult])? {
        guard fleet.scenario != nil else { return nil }
        let cutFleets = scenarios.map { cut(fleet, by: $0) }
        let simulations = await withTaskGroup(of: (Int, Simulation?).self) { group in
            group.addTask { (-1, Simulator(fleet: fleet).run(policy: policy, seed: seed)) }
            for (k, cutFleet) in cutFleets.enumerated() where cutFleet.removedAnything {
                group.addTask { (k, Simulator(fleet: cutFleet.fleet).run(policy: policy, seed: seed)) }
            }
            var byIndex: [Int: Simulation] = [:]
            for await (k, simulation) in group { if let simulation { byIndex[k] = simulation } }
            return byIndex
        }
        guard let uncut = simulations[-1] else { return nil }
        let results = scenarios.indices.map { k in
            compare(fleet, cutFleets[k], scenario: scenarios[k], uncut: uncut, cut: simulations[k])
        }
        return (uncut, results)
    }

    /// The fleet after cuts, and what went.
    struct CutFleet: Sendable {
        let fleet: Fleet
        let sitesLost: [String]
        let poolsLost: [(site: Site, pool: AcceleratorPool)]
        var removedAnything: Bool { !poolsLost.isEmpty }
    }

    static func cut(_ fleet: Fleet, by cuts: [Cut]) -> CutFleet {
        var sitesLost: [String] = []
        var poolsLost: [(Site, AcceleratorPool)] = []
        for site in fleet.sites {
            let whole = cuts.contains { $0.removes(site, in: fleet) }
            let pools = site.pools.filter { pool in whole || cuts.contains { $0.removes(pool, in: fleet) } }
            poolsLost += pools.map { (site, $0) }
            if pools.count == site.pools.count { sitesLost.append(site.name) }
        }
        let lostSites = Set(sitesLost)
        let cutFleet = fleet.removing(
            sitesWhere: { lostSites.contains($0.name) },
            poolsWhere: { site, pool in cuts.contains { $0.removes(pool, in: fleet) } }
        )
        return CutFleet(fleet: cutFleet, sitesLost: sitesLost, poolsLost: poolsLost)
    }

    static func compare(
        _ fleet: Fleet,
        _ cutFleet: CutFleet,
        scenario cuts: [Cut],
        uncut: Simulation,
        cut: Simulation?
    ) -> StressResult {
        func pflops(_ pool: AcceleratorPool) -> Double {
            Double(pool.count) * (fleet.catalog[pool.accelerator]?.tflops ?? 0) / 1000
        }
        func watts(_ pool: AcceleratorPool) -> Double {
            Double(pool.count) * (fleet.catalog[pool.accelerator]?.power.watts ?? 0)
        }
        let allPools = fleet.sites.flatMap(\.pools)
        let lost = cutFleet.poolsLost.map(\.pool)
        let lostSites = Set(cutFleet.sitesLost)
        let nothing =
            cutFleet.removedAnything
            ? nil : cuts.map { "\($0): \($0.namesNothing(in: fleet))" }.joined(separator: "; ")
        // Every cut of several that removes nothing on its own is still worth saying.
        let result = cut ?? uncut
        var newly: [StressResult.Lost] = []
        var still = 0
        for (w, entry) in result.initialPlan.workloads.enumerated() where entry.status == .unplaceable {
            if uncut.initialPlan.workloads[w].status == .unplaceable {
                still += 1
            } else {
                newly.append(
                    .init(workload: entry.name, explanation: entry.explanation ?? "\(entry.name): no pool fits")
                )
            }
        }
        let software = fleet.software.filter { component in
            cuts.contains { c in
                switch c.kind {
                case .vendor: return component.updatedBy?.lowercased() == c.value.lowercased()
                case .designer: return component.updatesFrom == c.value
                // Losing operators or sites in a country does not stop that country's updates.
                case .fabricator, .operatorJurisdiction, .site, .jurisdiction: return false
                }
            }
        }.map(\.name)
        return StressResult(
            cuts: cuts,
            removesNothing: nothing,
            sitesLost: cutFleet.sitesLost,
            poolsLost: cutFleet.poolsLost.map { "\($0.site.name)/\($0.pool.name)" },
            acceleratorsLost: lost.reduce(0) { $0 + $1.count },
            acceleratorsTotal: allPools.reduce(0) { $0 + $1.count },
            pflopsLost: lost.reduce(0) { $0 + pflops($1) },
            pflopsTotal: allPools.reduce(0) { $0 + pflops($1) },
            powerLost: .watts(lost.reduce(0) { $0 + watts($1) }),
            powerTotal: .watts(allPools.reduce(0) { $0 + watts($1) }),
            datasetsAtLostSites: fleet.datasets.filter { lostSites.contains($0.site) }.map(\.name),
            softwareWithoutUpdates: software,
            newlyUnplaceable: newly,
            stillUnplaceable: still,
            completed: (uncut.result.workloads.completed, result.result.workloads.completed),
            workloads: uncut.result.workloads.total,
            workDone: (uncut.result.work.doneExaflop, result.result.work.doneExaflop),
            workRequired: uncut.result.work.requiredExaflop,
            serviceShortSteps: (uncut.result.serviceShortSteps, result.result.serviceShortSteps)
        )
    }
}
