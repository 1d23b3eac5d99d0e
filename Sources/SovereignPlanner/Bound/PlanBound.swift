public import SovereignModel

/// The LP relaxation of the time-indexed planning problem, solved with GLPK: an upper bound on the work any
/// plan completes and, holding that work, the least carbon it can be done with.
///
/// Variables: the mean accelerators of each batch workload on each pool its filters allow (residency is
/// which variables exist), in each block of steps between its arrival and its deadline (or the horizon).
/// Rows: each pool's accelerators and, for policies that plan against power, each site's IT budget, per
/// block; each workload's work at most what it needs. Objectives, one after the other: the work completed,
/// counted in workloads (each workload's share of its own work, so a small one weighs as much as a large
/// one), then carbon (`IT power × PUE × supply carbon`). Relaxed: counts are fractional, widths may fall
/// below a pool's minimum, work that may not pause may pause, checkpoints and moves are free, and services
/// are left out (their capacity is given to batch work), so no plan completes more.
///
/// Blocks are an hour of steps (or one step when steps are longer), doubled until the programme has at
/// most `maxVariables` columns. Means over a block bound the work exactly; carbon is priced at the block's
/// mean, which is exact only where carbon is constant within a block (hourly traces on hourly blocks).
public struct PlanBound: Sendable {
    /// The most work any plan completes, in workloads' worth.
    public let completedWork: Double
    /// The least carbon that work takes, kg.
    public let carbonKg: Double
    /// Batch workloads counted.
    public let workloads: Int
    /// Steps per block.
    public let blockSteps: Int
    /// Columns of the programme.
    public let variables: Int

    /// Columns the programme may have before blocks are doubled.
    public static let defaultMaxVariables = 200_000

    /// Builds and solves the relaxation for `policy`'s filters (and its power limits, if it has any).
    ///
    /// - Parameter blockSteps: steps per block; by default an hour's, doubled until `maxVariables` hold.
    /// - Throws: when GLPK finds no optimum.
    /// - Complexity: building is O(workloads × pools × blocks); solving is GLPK's simplex.
    public static func solve(
        _ fleet: Fleet,
        grid: TimeGrid,
        budgets: [SiteBudget],
        policy: PlanningPolicy,
        maxVariables: Int = defaultMaxVariables,
        blockSteps: Int? = nil
    ) throws -> PlanBound {
        let problem = TimeIndexedProblem(fleet: fleet, grid: grid, budgets: budgets, policy: policy)
        var block = blockSteps ?? max(1, Int((3600 / grid.step).rounded()))
        while blockSteps == nil, problem.columns(block: block) > maxVariables, block < grid.count { block *= 2 }
        let lp = problem.program(block: block)
        let solution = try GLPKSolver.solve(lp)
        return PlanBound(
            completedWork: solution.primary,
            carbonKg: solution.secondary,
            workloads: problem.batch.count,
            blockSteps: block,
            variables: lp.columnUpper.count
        )
    }

    /// What `plan` achieves in the bound's terms: work done by each deadline (in workloads' worth) and the
    /// carbon of the batch work, kg.
    public static func measure(_ plan: Plan, fleet: Fleet, budgets: [SiteBudget]) -> (work: Double, carbonKg: Double) {
        let problem = TimeIndexedProblem(fleet: fleet, grid: plan.grid, budgets: budgets, policy: .greedy)
        var work = 0.0
        var carbon = 0.0
        for item in problem.batch {
            let w = fleet.workloads[item.index]
            guard item.index < plan.workloads.count else { continue }
            var done = 0.0
            for s in plan.workloads[item.index].segments {
                let site = fleet.sites[s.reference.site]
                guard let model = fleet.catalog[site.pools[s.reference.pool].accelerator] else { continue }
                let watts = PhysicalModel.runningPower(model: model, count: s.accelerators)
                let rate = PhysicalModel.throughput(w, model: model, count: s.accelerators)
                for t in s.start..<s.end {
                    carbon +=
                        watts * plan.grid.step / 3.6e9 * budgets[s.reference.site].pue[t]
                        * budgets[s.reference.site].carbon[t]
                    if item.window.contains(t) { done += rate * plan.grid.step }
                }
            }
            work += min(1, done / item.required)
        }
        return (work, carbon)
    }
}
