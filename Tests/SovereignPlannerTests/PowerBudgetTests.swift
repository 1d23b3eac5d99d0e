import SovereignModel
import Testing

@testable import SovereignPlanner

struct PowerBudgetTests {
    let limit = PowerBudget()

    @Test func takesNoMoreAcceleratorsThanTheHeadroomRuns() throws {
        var f = try PluginFixture().state
        f.headroom[0, 3] = 1000
        #expect(limit.limit(site: 0, step: 3, wattsEach: 300, state: f) == 3)
        f.headroom[0, 3] = 899.9
        #expect(limit.limit(site: 0, step: 3, wattsEach: 300, state: f) == 2)
        f.headroom[0, 3] = -50
        #expect(limit.limit(site: 0, step: 3, wattsEach: 300, state: f) == 0)
        #expect(limit.shortage == .power)
    }

    @Test func onlyPowerAwarePoliciesApplyIt() {
        #expect(PlanningPolicy.greedy.respectsPower == false)
        #expect(PlanningPolicy.powerAware.respectsPower)
        #expect(PlanningPolicy.carbonAware.respectsPower)
    }
}
