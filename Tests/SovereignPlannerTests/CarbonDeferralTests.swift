import SovereignModel
import Testing

@testable import SovereignPlanner

struct CarbonDeferralTests {
    let deferral = CarbonDeferral()

    /// The constant fleet with Nairobi's supply dirty for the first half of the week and clean after.
    func state(_ f: PluginFixture) -> PlanningState {
        let grid = f.state.grid
        var budgets = f.state.context.budgets
        let b = budgets[0]
        let carbon = (0..<grid.count).map { $0 < grid.count / 2 ? 600.0 : 50.0 }
        budgets[0] = SiteBudget(
            supply: b.supply,
            pue: b.pue,
            cooling: b.cooling,
            carbon: carbon,
            solar: b.solar,
            gridCarbon: carbon
        )
        return PlanningState(fleet: f.fleet, grid: grid, budgets: budgets)
    }

    func walk(_ f: PluginFixture, deadline: Int?) throws -> Walk {
        let a100 = try f.candidate("nairobi-1/a100")
        return Walk(
            workload: try f.workload("finetune"),
            ranked: [Planner.Ranked(candidate: a100, fit: Fit(precision: nil, min: 4, max: 32))],
            policy: .carbonAware,
            arrival: 0,
            deadline: deadline,
            required: 6 * 7e9 * 2e9
        )
    }

    @Test func waitsForCleanStepsWhileTheDeadlineAllows() throws {
        let f = try PluginFixture()
        let state = state(f)
        let walk = try walk(f, deadline: state.grid.count)
        let rule = try #require(deferral.rule(for: walk, state: state))
        #expect(try #require(deferral.threshold(walk, state: state)) == 50)
        #expect(rule.waits(walk, 0, state))
        #expect(!rule.waits(walk, state.grid.count / 2, state))
    }

    @Test func workWithoutADeadlineNeverWaits() throws {
        let f = try PluginFixture()
        #expect(deferral.rule(for: try walk(f, deadline: nil), state: state(f)) == nil)
    }

    @Test func waitsOnlyInCarbonAwarePolicies() {
        #expect(PlanningPolicy.carbonAware.deferrals.contains { $0 is CarbonDeferral })
        #expect(PlanningPolicy.powerAware.deferrals.isEmpty)
        #expect(PlanningPolicy.greedy.deferrals.isEmpty)
    }
}
