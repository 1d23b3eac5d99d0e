public import SovereignModel

/// One accelerator pool a workload might run on. A class: the planner passes the same candidates to every
/// workload's filters and scorers, and copying a `Site` per look would cost more than the look.
public final class Candidate: Sendable {
    /// Index of the site in the fleet.
    public let siteIndex: Int
    /// Index of the pool among all the fleet's pools.
    public let poolIndex: Int
    public let site: Site
    public let pool: AcceleratorPool
    public let model: AcceleratorModel

    /// Makes a candidate.
    public init(siteIndex: Int, poolIndex: Int, site: Site, pool: AcceleratorPool, model: AcceleratorModel) {
        self.siteIndex = siteIndex
        self.poolIndex = poolIndex
        self.site = site
        self.pool = pool
        self.model = model
    }
}

/// Why a filter turned a candidate down; equal reasons are counted together in explanations.
public struct Rejection: Sendable, Hashable {
    /// The filter that rejected.
    public let filter: String
    /// What a person reads, e.g. `outside residency KE (dataset ke-health-records)`.
    public let reason: String
}

/// "May this workload run on this pool?" One small rule, as in the kube-scheduler framework.
public protocol Filter: Sendable {
    /// The filter's name.
    var name: String { get }
    /// `nil` when the candidate passes, or why it does not.
    func filter(_ workload: Workload, on candidate: Candidate, in fleet: Fleet) -> Rejection?
    /// Whether the candidate passes, without building a reason (the planner's hot path: workloads × pools).
    func allows(_ workload: Workload, on candidate: Candidate, in fleet: Fleet) -> Bool
    /// `allows` with the per-workload part done once: the planner calls the result for every pool.
    func prepare(_ workload: Workload, in fleet: Fleet) -> (Candidate) -> Bool
}

extension Filter {
    public func allows(_ workload: Workload, on candidate: Candidate, in fleet: Fleet) -> Bool {
        filter(workload, on: candidate, in: fleet) == nil
    }

    /// A check prepared once per workload and then asked of every candidate; filters whose work per
    /// workload can be hoisted (residency: one intersection of countries) override it.
    public func prepare(_ workload: Workload, in fleet: Fleet) -> (Candidate) -> Bool {
        { self.allows(workload, on: $0, in: fleet) }
    }
}

/// Ranks the candidates that passed every filter; higher is better, in 0...1.
public protocol Scorer: Sendable {
    /// The scorer's name.
    var name: String { get }
    /// Scores each candidate for the workload (all at once, so a scorer can normalise across them).
    func scores(_ workload: Workload, candidates: [Candidate], context: PlanningContext) -> [Double]
}

/// Everything filters and scorers may read: the fleet, the grid and each site's budget.
public struct PlanningContext: Sendable {
    public let fleet: Fleet
    public let grid: TimeGrid
    /// Budgets by site index.
    public let budgets: [SiteBudget]
    /// Mean PUE over the horizon, by site index (computed once: scorers read it for every candidate).
    public let meanPUE: [Double]
    /// Mean supply carbon intensity over the horizon, g/kWh, by site index.
    public let meanCarbon: [Double]

    /// Makes a context, averaging each budget once.
    ///
    /// - Complexity: O(sites × steps).
    public init(fleet: Fleet, grid: TimeGrid, budgets: [SiteBudget]) {
        self.fleet = fleet
        self.grid = grid
        self.budgets = budgets
        meanPUE = budgets.map { mean($0.pue, 0..<$0.pue.count) }
        meanCarbon = budgets.map { mean($0.carbon, 0..<$0.carbon.count) }
    }
}
