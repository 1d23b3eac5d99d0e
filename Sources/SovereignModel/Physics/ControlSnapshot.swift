public import Foundation

/// The control plane's state at one pass, for what reads it without asking the control plane (the
/// Kubernetes scheduler extender and node labeller): the fleet, the workloads it knows, the planning grid,
/// each site's budget over that grid, and the IT power that runs at each site now. It names no consumer:
/// each builds its own view from it (``ExtenderSnapshot/init(_:policy:)`` for Kubernetes).
public struct ControlSnapshot: Sendable {
    /// When the pass ran.
    public let at: Date
    /// The fleet from the spec files.
    public let fleet: Fleet
    /// The workloads pods and jobs may name: the fleet's own and those submitted to the control plane.
    public let workloads: [String: Workload]
    /// The planning grid; step 0 holds ``at``.
    public let grid: TimeGrid
    /// IT budget of each site over ``grid``, by site index.
    public let budgets: [SiteBudget]
    /// IT power of what runs at each site now, watts, by site index.
    public let running: [Double]

    /// Freezes the state of one pass.
    ///
    /// - Parameters:
    ///   - at: When the pass ran.
    ///   - fleet: The fleet.
    ///   - workloads: Workloads that may be named, by name.
    ///   - grid: The planning grid.
    ///   - budgets: Site budgets on `grid`, by site index.
    ///   - running: IT power running at each site now, watts, by site index.
    public init(
        at: Date,
        fleet: Fleet,
        workloads: [String: Workload],
        grid: TimeGrid,
        budgets: [SiteBudget],
        running: [Double]
    ) {
        self.at = at
        self.fleet = fleet
        self.workloads = workloads
        self.grid = grid
        self.budgets = budgets
        self.running = running
    }
}
