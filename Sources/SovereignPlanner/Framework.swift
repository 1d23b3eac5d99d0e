public import SovereignModel

/// One accelerator pool a workload might run on, with what the hardware-fit check decided.
public struct Candidate: Sendable {
    /// Index of the site in the fleet.
    public let siteIndex: Int
    /// Index of the pool among all the fleet's pools.
    public let poolIndex: Int
    public let site: Site
    public let pool: AcceleratorPool
    public let model: AcceleratorModel
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
}
