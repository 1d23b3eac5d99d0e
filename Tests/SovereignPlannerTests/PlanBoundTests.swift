import Foundation
import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

/// The LP bound (GLPK) against plans: no plan completes more work, and none with the bound's work emits less.
struct PlanBoundTests {
    @Test func theSolverFindsAKnownOptimum() throws {
        // Two columns sharing one row of 10: x0 earns 1 per unit (at most 6), x1 earns 1 (at most 8);
        // the second objective prefers x1 (cost 1 against 3), so the optimum is x0 = 2, x1 = 8.
        var lp = LinearProgram()
        let row = lp.addRow(upper: 10)
        let x0 = lp.addColumn(upper: 6, primary: 1, secondary: 3)
        let x1 = lp.addColumn(upper: 8, primary: 1, secondary: 1)
        lp.entries = [.init(row: row, column: x0, value: 1), .init(row: row, column: x1, value: 1)]
        let solution = try GLPKSolver.solve(lp)
        #expect(abs(solution.primary - 10) < 1e-6)
        #expect(abs(solution.secondary - 14) < 1e-4)
    }

    @Test func theConstantFleetsFineTuningIsCompletedByPlanAndBound() throws {
        let fleet = try Fixtures.load(Fixtures.constantFleet)
        let plan = try #require(Planner(policy: .powerAware).plan(fleet))
        let gap = try BoundGap(plan, fleet: fleet, policy: .powerAware)
        #expect(gap.workloads == 1)
        #expect(abs(gap.boundWork - 1) < 1e-6 && abs(gap.planWork - 1) < 1e-6)
        #expect(gap.planCarbonKg >= gap.boundCarbonKg * (1 - 1e-4))
        #expect(gap.text.contains("0.0 % below the bound"))
    }

    @Test(arguments: 0..<2)
    func noPlanBeatsItsBound(block: UInt64) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for seed in (block * 10)..<(block * 10 + 10) {
            let fleet = try RandomFleet.make(seed: seed, in: dir)
            for policy in PlanningPolicy.all {
                let plan = try #require(Planner(policy: policy).plan(fleet))
                let gap = try BoundGap(plan, fleet: fleet, policy: policy)
                #expect(gap.planWork <= gap.boundWork + 1e-6, "seed \(seed) \(policy.name)")
                // Carbon priced at block means is exact only on blocks of one step.
                let budgets = fleet.sites.map { SiteBudget(site: $0, grid: plan.grid) }
                let exact = try PlanBound.solve(fleet, grid: plan.grid, budgets: budgets, policy: policy, blockSteps: 1)
                // Finer blocks relax less: their bound lies between the plan and the hourly one.
                #expect(exact.completedWork <= gap.boundWork + 1e-6, "seed \(seed) \(policy.name)")
                #expect(gap.planWork <= exact.completedWork + 1e-6, "seed \(seed) \(policy.name)")
                if gap.planWork >= exact.completedWork - 1e-6 {
                    #expect(gap.planCarbonKg >= exact.carbonKg * (1 - 1e-4), "seed \(seed) \(policy.name)")
                }
            }
        }
    }
}
