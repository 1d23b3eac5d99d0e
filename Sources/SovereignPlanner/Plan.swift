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
    /// It waits for a step before it: the anonymisation that makes a derived dataset it reads has not
    /// produced it yet.
    case waiting
}

/// Where work runs: indices into the fleet, so consumers need not look the pool up again, and the names
/// for output.
public struct PoolReference: Sendable, Hashable {
    /// Index of the site in `Fleet.sites`.
    public let site: Int
    /// Index of the pool in its site's `pools`.
    public let pool: Int
    /// The site's name.
    public let siteName: String
    /// The pool's name within its site.
    public let poolName: String

    /// Makes a reference.
    public init(site: Int, pool: Int, siteName: String, poolName: String) {
        self.site = site
        self.pool = pool
        self.siteName = siteName
        self.poolName = poolName
    }
}

/// A stretch of steps on one pool with a fixed number of accelerators.
public struct Segment: Sendable, Hashable {
    /// The pool it runs on.
    public let reference: PoolReference
    public let accelerators: Int
    /// First step (inclusive).
    public let start: Int
    /// Last step (exclusive).
    public let end: Int
    /// For one participant of a federated workload, the dataset it trains on there (`nil` for other work).
    public var participant: String? = nil

    /// Makes a segment.
    public init(reference: PoolReference, accelerators: Int, start: Int, end: Int, participant: String? = nil) {
        self.reference = reference
        self.accelerators = accelerators
        self.start = start
        self.end = end
        self.participant = participant
    }

    /// The site's name.
    public var site: String { reference.siteName }
    /// The pool's name within its site.
    public var pool: String { reference.poolName }
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
    /// The anonymisations that make the derived datasets it reads: they run first, at their sources' sites.
    public var after: [DerivationStep] = []
    /// For a federated workload planned by rounds, each round in order (empty for other work).
    public var rounds: [PlannedRound] = []
}

/// One round of a federated workload, in the live coordinator's terms: it opens with a roster of the sites
/// that can train in time (at least the quorum), each trains its share at home and sends its update to the
/// coordinator over their link, and the round closes when the last rostered update has arrived and the
/// coordinator has aggregated them.
public struct PlannedRound: Sendable, Hashable {
    /// One site's part in the round.
    public struct Member: Sendable, Hashable {
        /// The dataset it trains on (it never leaves the site).
        public let dataset: String
        public let site: String
        /// The FLOPs of its share of the round.
        public let flops: Double
        /// Seconds its update takes to reach the coordinator (0 at the coordinator's own site).
        public let uploadSeconds: Double
    }

    /// The round's number, from 1.
    public let number: Int
    /// The step the round opens at (the global model is sent out then).
    public let open: Int
    /// The step at whose beginning the aggregate is ready: the round's last update has arrived by then.
    public let close: Int
    /// Seconds after the grid's start at which the last rostered update reaches the coordinator.
    public let closeSeconds: Double
    /// The sites that train in the round, in the workload's dataset order.
    public let roster: [Member]
    /// The sites that sit the round out (no pool free in time), with why.
    public let absent: [String]
    /// The size of one model update.
    public let update: DataSize
}
