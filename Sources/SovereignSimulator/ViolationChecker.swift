public import SovereignModel
public import SovereignPlanner

/// Replays what ran against the constraints, apart from the simulator's own bookkeeping: residency of every
/// executed step, facility power against supply plus what the battery could give, IT heat against cooling.
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
    public func check(_ executed: [ExecutedStep]) -> SimulationResult.Violations {
        var violations = SimulationResult.Violations()
        var it = [[Double]](repeating: [Double](repeating: 0, count: grid.count), count: fleet.sites.count)
        for e in executed {
            let site = fleet.sites[e.site]
            let w = fleet.workloads[e.workload]
            for name in w.datasets where fleet.dataset(named: name)?.mayBeProcessed(in: site.jurisdiction) != true {
                violations.residency += 1
            }
            guard let model = fleet.catalog[site.pools[e.pool.pool].accelerator] else { continue }
            it[e.site][e.step] += Double(e.accelerators) * model.power.watts * PhysicalModel.trainingUtilisation
        }
        for (s, site) in fleet.sites.enumerated() {
            // The battery as the checker sees it: charged by surplus solar, drained by the shortfall.
            var charge = site.power.battery.map { $0.capacity.baseValue * $0.initialCharge } ?? 0
            for t in 0..<grid.count {
                let budget = actual[s]
                let facility = it[s][t] * budget.pue[t]
                let solar = budget.solar[t]
                let discharge = site.power.battery.map { min($0.power.watts, charge / grid.step) } ?? 0
                if facility > budget.supply[t] + discharge + 1e-6 { violations.power += 1 }
                if it[s][t] > budget.cooling[t] + 1e-6 { violations.thermal += 1 }
                if let battery = site.power.battery {
                    let shortfall = max(0, facility - budget.supply[t])
                    charge -= min(shortfall, discharge) * grid.step
                    let surplus = max(0, solar - facility)
                    charge = min(
                        battery.capacity.baseValue,
                        charge + min(surplus, battery.power.watts) * grid.step * battery.roundTripEfficiency
                    )
                }
            }
        }
        return violations
    }
}
