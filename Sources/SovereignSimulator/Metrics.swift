public import SovereignModel
public import SovereignPlanner

/// What happened in one simulated run; the JSON names are a contract that scripts read.
public struct SimulationResult: Sendable, Codable {
    public struct Workloads: Sendable, Codable {
        public var total = 0
        public var completed = 0
        public var deadlineMissed = 0
        public var unplaceable = 0
    }

    public struct Work: Sendable, Codable {
        public var requiredExaflop = 0.0
        public var doneExaflop = 0.0
        public var lostAcceleratorHours = 0.0
    }

    public struct EnergyUse: Sendable, Codable {
        public var itKWh = 0.0
        public var facilityKWh = 0.0
        public var gridKWh = 0.0
        public var solarKWh = 0.0
        public var batteryKWh = 0.0
    }

    public struct Events: Sendable, Codable {
        public var pauses = 0
        public var resumes = 0
        public var migrations = 0
        public var interruptions = 0
    }

    public struct Transfers: Sendable, Codable {
        public var checkpointBytesAcrossSites = 0.0
        public var datasetBytesOutsideResidency = 0.0
    }

    public struct Violations: Sendable, Codable {
        public var residency = 0
        public var power = 0
        public var thermal = 0
    }

    /// Federated rounds: how many the fleet's federated workloads need, how many closed with their quorum,
    /// how many opened but could not close (a site shed mid-round left it short of its quorum, so it was
    /// replanned), and how many times a site dropped out of a round.
    public struct Rounds: Sendable, Codable {
        public var required = 0
        public var completed = 0
        public var failed = 0
        public var dropouts = 0
    }

    public var policy: String
    public var workloads = Workloads()
    public var work = Work()
    public var energy = EnergyUse()
    public var carbonKg = 0.0
    public var events = Events()
    public var transfers = Transfers()
    public var violations = Violations()
    /// Service-steps an inference service lacked capacity (planned short or shed).
    public var serviceShortSteps = 0
    public var replans = 0
    /// Federated rounds; left out (`nil`) when the fleet has no federated workload planned by rounds.
    public var rounds: Rounds? = nil
    /// How long the run took; measured by the caller, since the simulator never reads a clock.
    public var wallSeconds = 0.0

    public init(policy: String) { self.policy = policy }
}

/// One site's power over the run, for the report: what it could draw and what it drew, per step (as runs,
/// so a year at 5-second steps holds one run per change, not 6.3M values).
public struct SiteSeries: Sendable {
    public let site: String
    /// Facility power available (grid × availability + solar + battery discharge), watts.
    public var available: StepValues
    /// Facility power drawn, watts.
    public var used: StepValues
    /// Whether load was shed at the step.
    public var shed: [Bool]
}

/// A site's series while a run draws them, one step after another.
struct SiteSeriesBuilder {
    let site: String
    var available = StepValues.Builder()
    var used = StepValues.Builder()
    var shed: [Bool]

    /// Records step `t`'s draw; every step is drawn once, in order.
    mutating func draw(at t: Int, available limit: Double, used facility: Double) {
        precondition(available.count == t, "site \(site): step \(t) drawn after step \(available.count - 1)")
        available.append(limit)
        used.append(facility)
    }

    func build() -> SiteSeries {
        SiteSeries(site: site, available: available.build(), used: used.build(), shed: shed)
    }
}

/// What a workload did over consecutive steps on one pool at one width, for the Gantt chart and the
/// independent checker.
public struct ExecutedRun: Sendable, Hashable {
    /// What a run is kept apart by: its workload and, for a federated participant, its dataset.
    struct Key: Hashable {
        let workload: Int
        let dataset: String?
    }

    /// The first step it ran.
    public let start: Int
    /// The step after the last it ran.
    public internal(set) var end: Int
    /// The workload's index in the fleet.
    public let workload: Int
    /// The pool it ran on.
    public let pool: PoolReference
    public let accelerators: Int
    /// For one participant of a federated workload, the dataset it trained there (`nil` for other work).
    public var dataset: String? = nil

    /// Makes an executed run over the steps `start..<end`.
    public init(start: Int, end: Int, workload: Int, pool: PoolReference, accelerators: Int, dataset: String? = nil) {
        self.start = start
        self.end = end
        self.workload = workload
        self.pool = pool
        self.accelerators = accelerators
        self.dataset = dataset
    }

    /// The steps it ran.
    public var steps: Range<Int> { start..<end }

    /// The index of the site it ran at.
    public var site: Int { pool.site }
}
