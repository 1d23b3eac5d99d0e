public import Foundation
public import SovereignLedger

/// Where a workload is in its lifecycle.
///
/// `pending → placed → running ⇄ pausing → paused → resuming → running → completed | failed | cancelled`.
public enum WorkloadState: String, Sendable, Codable, CaseIterable {
    case pending, placed, running, pausing, paused, resuming, completed, failed, cancelled

    /// Whether the workload is done for good.
    public var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }
    /// Whether a process of the workload may be alive in this state.
    public var mayHaveProcess: Bool { self == .running || self == .pausing || self == .resuming }
}

/// A workload as the control plane keeps it.
public struct WorkloadRecord: Sendable, Hashable, Codable {
    /// The workload's name (unique in the fleet).
    public var name: String
    /// `spec` for workloads declared in the fleet's files, `api` for submitted ones.
    public var source: String
    /// The submitted document as received (empty for spec workloads).
    public var document: String
    /// Lifecycle state.
    public var state: WorkloadState
    /// Site, pool and accelerator count of the current or last placement.
    public var site: String?
    public var pool: String?
    public var accelerators: Int?
    /// Site holding the workload's latest checkpoint, if any.
    public var checkpointSite: String?
    /// Another site holding a copy of its checkpoint (`checkpoint: {replicate: 1}`), and when the copy
    /// arrived there, seconds since 1970.
    public var replicaSite: String?
    public var replicaAt: Double?
    /// Failed attempts so far.
    public var failures: Int
    /// Not to be started again before this time (retry backoff), seconds since 1970.
    public var retryAt: Double?
    /// An operator asked for it to stay paused.
    public var held: Bool
    /// An operator asked for it to be cancelled.
    public var cancelRequested: Bool
    /// Seconds it has run in all attempts (its progress, as far as the server can tell).
    public var runSeconds: Double
    /// Why it is where it is (the planner's explanation, the exit status, ...).
    public var detail: String
    /// When it was submitted and last changed, seconds since 1970.
    public var submittedAt: Double
    public var updatedAt: Double

    /// Makes a record for a newly submitted workload.
    public init(name: String, source: String, document: String, at time: Double) {
        self.name = name
        self.source = source
        self.document = document
        self.state = .pending
        self.failures = 0
        self.held = false
        self.cancelRequested = false
        self.runSeconds = 0
        self.detail = "submitted"
        self.submittedAt = time
        self.updatedAt = time
    }
}

/// One start of a workload's process.
public struct AttemptRecord: Sendable, Hashable, Codable {
    /// Unique id, assigned by the store.
    public var id: Int64?
    public var workload: String
    /// 1 for the first start, counting up.
    public var number: Int
    public var site: String
    public var pool: String
    public var accelerators: Int
    /// Started with `SOVEREIGN_RESUME=1`.
    public var resume: Bool
    /// The executor's name for it, once started.
    public var handle: AttemptHandle?
    public var startedAt: Double
    /// When SIGTERM was sent (a pause or cancel), and when SIGKILL followed.
    public var termAt: Double?
    public var killAt: Double?
    /// When the server saw it end.
    public var endedAt: Double?
    /// `completed`, `paused`, `failed`, `killed`, `cancelled`, `lost`.
    public var outcome: String?
    /// Exit status, or the signal that ended it.
    public var exitStatus: Int32?
    public var exitSignal: Int32?
    /// The grace period ran out before it exited: its checkpoint may be older than its progress.
    public var checkpointStale: Bool
    /// Its output.
    public var logPath: String

    /// Makes a record for an attempt about to start.
    public init(
        workload: String,
        number: Int,
        site: String,
        pool: String,
        accelerators: Int,
        resume: Bool,
        startedAt: Double,
        logPath: String
    ) {
        self.workload = workload
        self.number = number
        self.site = site
        self.pool = pool
        self.accelerators = accelerators
        self.resume = resume
        self.startedAt = startedAt
        self.checkpointStale = false
        self.logPath = logPath
    }
}

/// A change of state with its reason, for a workload's history.
public struct TransitionRecord: Sendable, Hashable, Codable {
    public var workload: String
    public var at: Double
    public var from: WorkloadState?
    public var to: WorkloadState
    public var reason: String

    /// Makes a history line.
    public init(workload: String, at: Double, from: WorkloadState?, to: WorkloadState, reason: String) {
        self.workload = workload
        self.at = at
        self.from = from
        self.to = to
        self.reason = reason
    }
}

/// Power a site reports it can draw, now and (optionally) ahead.
public struct PowerSignalRecord: Sendable, Hashable, Codable {
    public var site: String
    /// When the server received it, seconds since 1970.
    public var at: Double
    /// Watts available now.
    public var available: Double
    /// Watts expected from given times on: `(seconds since 1970, watts)`, increasing in time.
    public var forecast: [ForecastPoint]
    /// Outside air temperature, °C, when reported (sets PUE and cooling).
    public var ambient: Double?

    /// One point of a power forecast.
    public struct ForecastPoint: Sendable, Hashable, Codable {
        public var at: Double
        public var available: Double

        /// Makes a point.
        public init(at: Double, available: Double) {
            self.at = at
            self.available = available
        }
    }

    /// Makes a signal.
    public init(site: String, at: Double, available: Double, forecast: [ForecastPoint], ambient: Double?) {
        self.site = site
        self.at = at
        self.available = available
        self.forecast = forecast
        self.ambient = ambient
    }
}

/// A site's power over a stretch of time (`GET /v1/sites/{site}/power`).
public struct PowerHistoryPoint: Sendable, Hashable, Codable {
    /// When it starts, seconds since 1970.
    public var at: Double
    /// The lowest power available reported in the stretch, watts.
    public var available: Double
    /// The highest ambient temperature reported in it, °C.
    public var ambient: Double?

    /// Makes a point.
    public init(at: Double, available: Double, ambient: Double?) {
        self.at = at
        self.available = available
        self.ambient = ambient
    }
}

/// An operator's request about a workload (hold it paused, cancel it): the only fields of a workload record that
/// requests write and the control loop never does, so a request made on any replica and the leader's pass never
/// overwrite each other.
public struct WorkloadRequest: Sendable, Hashable {
    public var workload: String
    public var held: Bool
    public var cancelRequested: Bool
    /// When it was made, seconds since 1970 (the record's `updatedAt`).
    public var at: Double

    /// The request a record carries.
    public init(_ record: WorkloadRecord) {
        workload = record.name
        held = record.held
        cancelRequested = record.cancelRequested
        at = record.updatedAt
    }
}

/// What one control-loop decision changes, written atomically with the ledger entries that record it.
public struct StateChange: Sendable {
    /// Changed workload records: every field but the operator's requests (`held`, `cancelRequested`), which
    /// only ``requests`` write.
    public var workloads: [WorkloadRecord] = []
    public var requests: [WorkloadRequest] = []
    public var newWorkloads: [WorkloadRecord] = []
    public var newAttempts: [AttemptRecord] = []
    public var attempts: [AttemptRecord] = []
    public var transitions: [TransitionRecord] = []
    public var powerSignals: [PowerSignalRecord] = []
    /// Events to append to the ledger, in order; the store numbers and times their entries.
    public var ledger: [LedgerEvent] = []
    /// The leader's fencing epoch (see ``ControlStore/lead(as:renewing:for:)``): the commit is refused, and
    /// nothing of it lands, when the lease has passed to a later epoch. `nil` for a change any replica may make
    /// (a submission, a power signal).
    public var epoch: Int64?

    /// An empty change.
    public init() {}

    /// Whether nothing changes.
    public var isEmpty: Bool {
        workloads.isEmpty && requests.isEmpty && newWorkloads.isEmpty && newAttempts.isEmpty && attempts.isEmpty
            && transitions.isEmpty && powerSignals.isEmpty && ledger.isEmpty
    }
}

/// What a committed change produced: the ledger entries as stored and the ids of new attempts.
public struct CommittedChange: Sendable {
    public let entries: [StoredEntry]
    public let attemptIDs: [Int64]

    /// Makes the result of a commit (for a store's implementation).
    public init(entries: [StoredEntry], attemptIDs: [Int64]) {
        self.entries = entries
        self.attemptIDs = attemptIDs
    }
}

/// Durable state of the control plane.
///
/// SQLite (``SQLiteControlStore``) is the embedded default; PostgreSQL (`PostgresControlStore`, in its own module)
/// implements it for `serve --db postgres://...`. The interface is what a PostgreSQL
/// implementation must provide for several replicas: every method is one transaction, and ``commit(_:)``
/// numbers ledger entries inside the transaction that writes the state they record, so the ledger and
/// the state never disagree.
public protocol ControlStore: Sendable {
    /// Applies a change and appends its ledger entries, atomically.
    ///
    /// - Throws: ``StoreError`` when a new workload's name is taken, or the database fails.
    func commit(_ change: StateChange, at time: Date) throws -> CommittedChange
    /// The workloads after position `position` in submission order (0: from the first), at most `limit` of
    /// them (nil: all), each with its position, which a next page starts after.
    func workloads(after position: Int64, limit: Int?) throws -> [(position: Int64, record: WorkloadRecord)]
    /// Workloads that have not ended (not completed, failed or cancelled), in submission order.
    func activeWorkloads() throws -> [WorkloadRecord]
    /// How many workloads are in each state.
    func workloadCounts() throws -> [WorkloadState: Int]
    /// One workload.
    func workload(named name: String) throws -> WorkloadRecord?
    /// A workload's attempts, oldest first.
    func attempts(of workload: String) throws -> [AttemptRecord]
    /// Attempts whose end the server has not yet seen.
    func openAttempts() throws -> [AttemptRecord]
    /// The attempts at `site` that have not ended, oldest first (a site agent's poll).
    func openAttempts(at site: String) throws -> [AttemptRecord]
    /// The number of each workload's latest attempt, by workload (workloads never started are absent).
    func lastAttemptNumbers() throws -> [String: Int]
    /// A workload's history, oldest first.
    func transitions(of workload: String) throws -> [TransitionRecord]
    /// The latest power signal of each site.
    func latestPowerSignals() throws -> [String: PowerSignalRecord]
    /// A site's power signals over `window` (seconds since 1970), summarised in `buckets` equal buckets: per
    /// bucket that holds a signal, the time of its first, the lowest power available and the highest
    /// ambient; before them the signal in force when the window opens, when there is one.
    ///
    /// - Complexity: reads the site's signals in the window through an index; holds at most `buckets` + 1.
    func powerHistory(of site: String, in window: ClosedRange<Double>, buckets: Int) throws -> [PowerHistoryPoint]
    /// Ledger entries from `start`, at most `limit` of them.
    func ledgerEntries(from start: Int, limit: Int) throws -> [StoredEntry]
    /// Calls `body` with every ledger entry in order, streaming (for verification of large ledgers).
    func forEachLedgerEntry(_ body: (StoredEntry) throws -> Void) throws
    /// Leaf hashes of every ledger entry, in order (to rebuild the Merkle tree at start).
    func ledgerLeafHashes() throws -> [TreeHash]
    /// Stores a signed checkpoint (kept for good; a size is stored once).
    ///
    /// - Parameter epoch: the signing leader's fencing epoch: refused when the lease has passed to a later one.
    func addCheckpoint(size: Int, note: String, at time: Date, epoch: Int64?) throws
    /// Takes the leader lease for `holder` when it is free or has expired (moving it to the next epoch), or
    /// renews it for `lease` more when `holder` holds it at `epoch`; expiry is judged by the database's clock,
    /// so replicas need not agree on the time.
    ///
    /// - Parameters:
    ///   - holder: the replica asking, unique to its process.
    ///   - epoch: the epoch the replica holds the lease at, `nil` when it holds none.
    ///   - lease: how long the lease lasts from now.
    /// - Returns: the epoch `holder` now leads at, or `nil` while another replica holds an unexpired lease.
    /// - Throws: ``StoreError`` when the database fails.
    func lead(as holder: String, renewing epoch: Int64?, for lease: Duration) throws -> Int64?
    /// Every stored checkpoint's signed note, oldest first.
    func checkpoints() throws -> [String]
    /// The latest recorded anonymisation run of each derived dataset: the sequence of its `dataset.derived`
    /// ledger entry, by dataset (datasets never made are absent).
    func derivationRuns() throws -> [String: Int]
}

extension ControlStore {
    /// Every workload, in submission order.
    public func workloads() throws -> [WorkloadRecord] { try workloads(after: 0, limit: nil).map(\.record) }

    /// Stores a signed checkpoint without a fencing epoch.
    public func addCheckpoint(size: Int, note: String, at time: Date) throws {
        try addCheckpoint(size: size, note: note, at: time, epoch: nil)
    }
}

/// A storage failure a caller can act on.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    enum Code: Sendable { case nameTaken, database, deposed }
    let code: Code
    /// What went wrong.
    public let message: String

    /// The name of a new workload is already used.
    public static func nameTaken(_ name: String) -> StoreError {
        StoreError(code: .nameTaken, message: "a workload named \"\(name)\" already exists")
    }
    /// The database failed or refused; `message` says which database and what it answered (never a password).
    public static func database(_ message: String) -> StoreError { StoreError(code: .database, message: message) }
    /// A write by a leader whose lease has passed to a later epoch, refused with everything it would have written.
    public static func deposed(holding epoch: Int64, found current: Int64, holder: String) -> StoreError {
        StoreError(
            code: .deposed,
            message:
                "refused a leader's write: expected the leader lease at epoch \(epoch), found epoch \(current) held by \"\(holder)\""
        )
    }
    /// Whether the name of a new workload is already used.
    public var isNameTaken: Bool { code == .nameTaken }
    /// Whether the write was refused because its leader was deposed.
    public var isDeposed: Bool { code == .deposed }

    public var description: String { message }
}
