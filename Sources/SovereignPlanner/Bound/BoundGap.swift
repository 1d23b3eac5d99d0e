import Foundation
public import SovereignModel

/// How far a plan is from its bound: completed work (in workloads' worth, by each deadline), then carbon.
public struct BoundGap: Sendable, Encodable {
    /// Work the plan completes by each deadline, in workloads' worth.
    public let planWork: Double
    /// The most work any plan completes (the LP relaxation).
    public let boundWork: Double
    /// Carbon of the plan's batch work, kg.
    public let planCarbonKg: Double
    /// The least carbon of the bound's work, kg.
    public let boundCarbonKg: Double
    /// Batch workloads counted.
    public let workloads: Int
    /// Length of the relaxation's blocks, seconds.
    public let blockSeconds: Double
    /// Columns of the relaxation.
    public let variables: Int

    /// The plan's work short of the bound, as a fraction of the bound (0 when it meets it).
    public var workGap: Double { boundWork > 0 ? max(0, 1 - planWork / boundWork) : 0 }
    /// The plan's carbon above the bound's, as a fraction of the bound's.
    public var carbonGap: Double { boundCarbonKg > 0 ? planCarbonKg / boundCarbonKg - 1 : 0 }

    /// Solves the bound for `policy` on the fleet's own budgets and measures `plan` against it.
    ///
    /// - Throws: when GLPK finds no optimum.
    public init(_ plan: Plan, fleet: Fleet, policy: PlanningPolicy) throws {
        let budgets = fleet.sites.map { SiteBudget(site: $0, grid: plan.grid) }
        let bound = try PlanBound.solve(fleet, grid: plan.grid, budgets: budgets, policy: policy)
        let measured = PlanBound.measure(plan, fleet: fleet, budgets: budgets)
        planWork = measured.work
        boundWork = bound.completedWork
        planCarbonKg = measured.carbonKg
        boundCarbonKg = bound.carbonKg
        workloads = bound.workloads
        blockSeconds = Double(bound.blockSteps) * plan.grid.step
        variables = bound.variables
    }

    private enum CodingKeys: String, CodingKey {
        case planWork, boundWork, workGap, planCarbonKg, boundCarbonKg, carbonGap, workloads, blockSeconds, variables
    }

    /// The JSON form: every field, and both gaps as fractions.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(planWork, forKey: .planWork)
        try c.encode(boundWork, forKey: .boundWork)
        try c.encode(workGap, forKey: .workGap)
        try c.encode(planCarbonKg, forKey: .planCarbonKg)
        try c.encode(boundCarbonKg, forKey: .boundCarbonKg)
        try c.encode(carbonGap, forKey: .carbonGap)
        try c.encode(workloads, forKey: .workloads)
        try c.encode(blockSeconds, forKey: .blockSeconds)
        try c.encode(variables, forKey: .variables)
    }

    /// The gap as `sovereign plan --bound` prints it, lines joined by `\n`.
    public var text: String {
        func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
        return [
            "bound: LP relaxation of the time-indexed problem (GLPK), \(variables) variables, "
                + "\(f(blockSeconds / 3600, 2)) h blocks, \(workloads) batch workloads",
            "  completed work (workloads' worth): plan \(f(planWork, 2)), bound \(f(boundWork, 2)): "
                + "\(f(workGap * 100)) % below the bound",
            "  carbon (kg): plan \(f(planCarbonKg)), bound \(f(boundCarbonKg)) for the bound's work: "
                + "\(f(carbonGap * 100)) % \(carbonGap >= 0 ? "above" : "below") it",
        ].joined(separator: "\n")
    }
}
