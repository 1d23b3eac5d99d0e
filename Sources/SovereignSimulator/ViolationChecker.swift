public import SovereignModel
public import SovereignPlanner

/// Replays what ran against the constraints, apart from the simulator's own bookkeeping: residency of every
/// executed step, facility power against supply plus what the battery could give, IT heat against cooling.
/// A federated participant's step is held to its own dataset's residency (and must name a dataset of its
/// workload); any other step to every dataset of its workload.
public struct ViolationChecker: Sendable {
    public let fleet: Fleet
    public let grid: TimeGrid
    public let actual: [SiteBudget]

    public init(fleet: Fleet, grid: TimeGrid, actual: [SiteBudget]) {
        self.fleet = fleet
        self.grid = grid
        self.actual = actual
    }

    /// Counts violations: residency per executed step, power and thermal per site-step.
    public func check(_ executed: [ExecutedRun]) -> SimulationResult.Violations {
        var violations = SimulationResult.Violations()
        var it = [[Double]](repeating: [Double](repeating: 0, count: grid.count), count: fleet.sites.count)
        for e in executed {
            let site = fleet.sites[e.site]
            violations.residency += residencyViolations(e, at: site) * e.steps.count
            guard let model = fleet.catalog[site.pools[e.pool.pool].accelerator] else { continue }
            let watts = Double(e.accelerators) * model.power.watts * PhysicalModel.trainingUtilisation
            for t in e.steps { it[e.site][t] += watts }
        }
        for s in fleet.sites.indices { count(site: s, it: it[s], into: &violations) }
        return violations
    }

    /// Counts site `s`'s power and thermal violations under its IT load `it` by step, reading its budget a
    /// run at a time (every step of a run holds the same budget).
    private func count(site s: Int, it: [Double], into violations: inout SimulationResult.Violations) {
        let site = fleet.sites[s]
        let budget = actual[s]
        // The battery as the checker sees it: charged by surplus solar, drained by the shortfall.
        var charge = site.power.battery.map { $0.capacity.baseValue * $0.initialCharge } ?? 0
        var t = 0
        while t < grid.count {
            let here = budget.at(t)
            let end = min(grid.count, budget.runEnd(containing: t))
            for u in t..<end {
                let facility = it[u] * here.pue
                let discharge = site.power.battery.map { min($0.power.watts, charge / grid.step) } ?? 0
                if facility > here.supply + discharge + 1e-6 { violations.power += 1 }
                if it[u] > here.cooling + 1e-6 { violations.thermal += 1 }
                if let battery = site.power.battery {
                    let shortfall = max(0, facility - here.supply)
                    charge -= min(shortfall, discharge) * grid.step
                    let surplus = max(0, here.solar - facility)
                    charge = min(
                        battery.capacity.baseValue,
                        charge + min(surplus, battery.power.watts) * grid.step * battery.roundTripEfficiency
                    )
                }
            }
            t = end
        }
    }

    /// Counts the violations of a plan as planned: every segment's steps, each participant's at its dataset.
    public func check(_ plan: Plan) -> SimulationResult.Violations {
        let index = Dictionary(fleet.workloads.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var runs: [ExecutedRun] = []
        for w in plan.workloads {
            guard let i = index[w.name] else { continue }
            for s in w.segments where s.start < min(s.end, grid.count) {
                runs.append(
                    ExecutedRun(
                        start: s.start,
                        end: min(s.end, grid.count),
                        workload: i,
                        pool: s.reference,
                        accelerators: s.accelerators,
                        dataset: s.participant
                    )
                )
            }
        }
        return check(runs)
    }

    /// The datasets a run processes at each step that may not be processed where it ran: a participant's own dataset
    /// (one that is not its workload's counts too), or every dataset of other work.
    func residencyViolations(_ e: ExecutedRun, at site: Site) -> Int {
        let w = fleet.workloads[e.workload]
        if let dataset = e.dataset {
            guard w.datasets.contains(dataset) else { return 1 }
            return fleet.dataset(named: dataset)?.mayBeProcessed(in: site.jurisdiction) == true ? 0 : 1
        }
        var count = 0
        for name in w.datasets where fleet.dataset(named: name)?.mayBeProcessed(in: site.jurisdiction) != true {
            count += 1
        }
        return count
    }
}
