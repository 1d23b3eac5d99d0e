public import SovereignModel

/// For every workload, where and when it runs, or why it cannot.
public struct Plan: Sendable {
    /// The policy that made the plan.
    public let policy: String
    /// The time grid the plan is on.
    public let grid: TimeGrid
    /// One entry per workload, in the fleet's declaration order.
    public let workloads: [WorkloadPlan]
}

/// How a workload fares in a plan.
public enum PlacementStatus: String, Sendable, Codable {
    /// Its work is done within the horizon (and by its deadline, if it has one).
    case completed
    /// Its work is done, but after its deadline.
    case deadlineMissed = "deadline-missed"
    /// It runs, but its work is not done by the end of the horizon.
    case unfinished
    /// An inference service with enough capacity at every step from its arrival.
    case serving
    /// An inference service that lacks capacity at some steps.
    case short
    /// No pool may run it at all.
    case unplaceable
    /// It arrives after the horizon ends.
    case notArrived = "not-arrived"
}

/// A stretch of steps on one pool with a fixed number of accelerators.
public struct Segment: Sendable, Hashable {
    public let site: String
    public let pool: String
    public let accelerators: Int
    /// First step (inclusive).
    public let start: Int
    /// Last step (exclusive).
    public let end: Int
}

/// Something that happens to a workload at a step boundary.
public struct PlanEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Codable {
        case start, checkpoint, pause, resume, migrate, finish
    }

    public let kind: Kind
    /// The step at whose beginning the event happens.
    public let step: Int
    /// The site where it happens (for a migration, the destination).
    public let site: String
    /// Details: the source site of a migration, the checkpoint's size and transfer time.
    public let detail: String
}

/// One workload's place in the plan.
public struct WorkloadPlan: Sendable {
    public let name: String
    public let status: PlacementStatus
    public let segments: [Segment]
    public let events: [PlanEvent]
    /// The precision an inference workload runs at.
    public let precision: Precision?
    /// FLOPs the workload needs (nil for a service).
    public let requiredFLOPs: Double?
    /// FLOPs the plan gets done.
    public let plannedFLOPs: Double
    /// Step at which the work is done.
    public let finishStep: Int?
    /// Why it could not be placed, or not in time, kube-scheduler style.
    public let explanation: String?
}
