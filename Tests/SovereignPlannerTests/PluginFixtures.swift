import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

/// The constant fleet of `Fixtures` as plug-ins see it: its candidates, its context and its workloads.
struct PluginFixture {
    let fleet: Fleet
    let state: PlanningState

    /// Loads `yaml` (the constant fleet by default) with budgets from its traces.
    init(_ yaml: String = Fixtures.constantFleet) throws {
        fleet = try Fixtures.load(yaml)
        let grid = try #require(fleet.scenario?.grid)
        state = PlanningState(fleet: fleet, grid: grid, budgets: fleet.sites.map { SiteBudget(site: $0, grid: grid) })
    }

    /// The candidate for `site/pool`.
    func candidate(_ name: String) throws -> Candidate {
        try #require(state.candidates.first { "\($0.site.name)/\($0.pool.name)" == name })
    }

    /// The declared workload called `name`.
    func workload(_ name: String) throws -> Workload {
        try #require(fleet.workloads.first { $0.name == name })
    }

    /// Every candidate, each with `workload`'s hardware fit on it.
    func fitted(_ workload: Workload) -> [FittedCandidate] {
        HardwareFitFilter().fitted(workload, state.candidates, in: fleet)
    }
}
