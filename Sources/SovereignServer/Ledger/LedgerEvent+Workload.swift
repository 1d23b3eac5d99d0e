public import SovereignLedger
public import SovereignModel

// The values of the control loop's and the operators' events, and their fields.
extension LedgerEvent {
    /// A workload accepted: who sent it and what the planner will weigh.
    public struct Submission: Sendable, Hashable {
        /// The workload's name.
        public let workload: String
        /// Training, fine-tuning, inference, ...
        public let type: WorkloadType
        /// Its priority.
        public let priority: Int
        /// Whether it may be paused to shed power.
        public let preemptible: Bool
        /// The datasets it reads.
        public let datasets: [String]
        /// Who submitted it: a token's fingerprint, or `fleet spec`.
        public let by: String

        var fields: [String: JSONValue] {
            [
                "workload": .string(workload), "type": .string(type.rawValue), "priority": .integer(priority),
                "preemptible": .bool(preemptible), "datasets": .strings(datasets), "by": .string(by),
            ]
        }
    }

    /// The power a site reported.
    public struct PowerReport: Sendable, Hashable {
        /// The site.
        public let site: String
        /// What it may draw now, W.
        public let availableWatts: Double
        /// How many forecast points came with it.
        public let forecastPoints: Int
        /// The ambient temperature, °C, when reported.
        public let ambientCelsius: Double?
        /// Who reported it.
        public let by: String

        var fields: [String: JSONValue] {
            var fields: [String: JSONValue] = [
                "site": .string(site), "availableWatts": .number(availableWatts),
                "forecastPoints": .integer(forecastPoints), "by": .string(by),
            ]
            if let ambientCelsius { fields["ambientCelsius"] = .number(ambientCelsius) }
            return fields
        }
    }

    /// A dataset read at a site by a workload's attempt.
    public struct DatasetAccess: Sendable, Hashable {
        /// The dataset.
        public let dataset: String
        /// The workload that reads it.
        public let workload: String
        /// Where.
        public let site: String
        /// The site's jurisdiction.
        public let jurisdiction: String
        /// For a derived dataset, the ledger entry of the anonymisation run that made it.
        public var derivation: Int? = nil

        var fields: [String: JSONValue] {
            var fields: [String: JSONValue] = [
                "dataset": .string(dataset), "workload": .string(workload), "site": .string(site),
                "jurisdiction": .string(jurisdiction),
            ]
            if let derivation { fields["derivationEntry"] = .integer(derivation) }
            return fields
        }
    }

    /// Where an attempt runs.
    public struct Placement: Sendable, Hashable {
        /// The workload.
        public let workload: String
        /// The site.
        public let site: String
        /// The accelerator pool at the site.
        public let pool: String
        /// How many accelerators of the pool.
        public let accelerators: Int
        /// The attempt's number, from 1.
        public let attempt: Int

        var fields: [String: JSONValue] {
            [
                "workload": .string(workload), "site": .string(site), "pool": .string(pool),
                "accelerators": .integer(accelerators), "attempt": .integer(attempt),
            ]
        }

        func placed(reasons: String) -> [String: JSONValue] {
            fields.merging(["reasons": .string(reasons)]) { $1 }
        }

        func resumed(checkpointBytes: Int64) -> [String: JSONValue] {
            fields.merging(["checkpointBytes": .integer(checkpointBytes)]) { $1 }
        }

        func migrated(checkpointBytes: Int64, from: String) -> [String: JSONValue] {
            resumed(checkpointBytes: checkpointBytes).merging(["from": .string(from), "to": .string(site)]) { $1 }
        }
    }

    /// An attempt that ended: where, how long it ran and how it ended.
    public struct EndedAttempt: Sendable, Hashable {
        /// The workload.
        public let workload: String
        /// The attempt's number, from 1.
        public let attempt: Int
        /// Where it ran.
        public let site: String
        /// How long it ran, s (recorded to the millisecond).
        public let ranSeconds: Double
        /// Its exit status, when it exited.
        public let exitStatus: Int32?
        /// The signal that ended it, when one did.
        public let signal: Int32?

        var fields: [String: JSONValue] {
            var fields: [String: JSONValue] = [
                "workload": .string(workload), "attempt": .integer(attempt), "site": .string(site),
                "ranSeconds": .number((ranSeconds * 1000).rounded() / 1000),
            ]
            if let exitStatus { fields["exitStatus"] = .integer(exitStatus) }
            if let signal { fields["signal"] = .integer(signal) }
            return fields
        }

        var notStarted: [String: JSONValue] {
            fields.merging(
                ["reason": .string("the server stopped between recording the start and starting the process")]
            ) { $1 }
        }

        func lost(silentSince: String, checkpointBytes: Int64) -> [String: JSONValue] {
            fields.merging(
                [
                    "reason": .string("site \(site) silent since \(silentSince)"),
                    "checkpointBytes": .integer(checkpointBytes),
                ]
            ) { $1 }
        }

        func late(_ late: LateCompletion) -> [String: JSONValue] {
            var fields = fields
            fields["reportedLate"] = .bool(true)
            fields["lostAt"] = .string(late.lostAt)
            if let superseded = late.superseded { fields["supersededAttempt"] = .integer(superseded) }
            if let overlapped = late.overlapped { fields["overlappedAttempt"] = .integer(overlapped) }
            if !late.counted { fields["reason"] = .string("the workload had already ended: not counted again") }
            return fields
        }

        func stopped(_ checkpoint: Checkpoint) -> [String: JSONValue] {
            fields.merging(
                ["checkpointBytes": .integer(checkpoint.bytes), "checkpointStale": .bool(checkpoint.stale)]
            ) { $1 }
        }

        func failed(_ failure: Failure, retryInSeconds: Double?) -> [String: JSONValue] {
            var fields = fields
            fields["reason"] = .string(failure.reason)
            fields["failures"] = .integer(failure.failures)
            if let retryInSeconds { fields["retryInSeconds"] = .number(retryInSeconds) }
            return fields
        }
    }

    /// What a completion reported after its attempt was taken as lost changes.
    public struct LateCompletion: Sendable, Hashable {
        /// When the control plane took the attempt as lost.
        public let lostAt: String
        /// The number of the attempt that ran the work again and was cancelled as superseded, if one ran.
        public let superseded: Int?
        /// Whether it settles the workload as completed (false: the workload had already ended, by a later
        /// attempt's completion or otherwise, and one completion is all that counts).
        public let counted: Bool
        /// The attempt that had started elsewhere before this one's work ended, when its agent says it ended
        /// after that start: the work ran twice at once (its supervisor did not stop it within its lease).
        public var overlapped: Int? = nil
    }

    /// The checkpoint a stopped attempt left.
    public struct Checkpoint: Sendable, Hashable {
        /// Its size, bytes (0 when there is none).
        public let bytes: Int64
        /// Whether the attempt was killed, so that the checkpoint may be older than its last work.
        public let stale: Bool
    }

    /// Why an attempt failed, and how many times the workload has failed.
    public struct Failure: Sendable, Hashable {
        /// How it ended, in words.
        public let reason: String
        /// The workload's failures so far, this one included.
        public let failures: Int
    }

    /// How a workload was cancelled.
    public enum Cancellation: Sendable, Hashable {
        /// Before it ran again: it had no attempt.
        case waiting(workload: String)
        /// By stopping its attempt, which left `checkpoint`.
        case stopped(EndedAttempt, Checkpoint)

        var fields: [String: JSONValue] {
            switch self {
            case .waiting(let workload): ["workload": .string(workload)]
            case .stopped(let attempt, let checkpoint): attempt.stopped(checkpoint)
            }
        }
    }

    static func request(_ workload: String, _ by: String) -> [String: JSONValue] {
        ["workload": .string(workload), "by": .string(by)]
    }

    static func pausing(_ workload: String, site: String, attempt: Int, reason: String) -> [String: JSONValue] {
        ["workload": .string(workload), "site": .string(site), "attempt": .integer(attempt), "reason": .string(reason)]
    }

    static func killed(_ workload: String, attempt: Int) -> [String: JSONValue] {
        [
            "workload": .string(workload), "attempt": .integer(attempt),
            "reason": .string("no exit within the grace period; its checkpoint may be stale"),
        ]
    }
}

extension LedgerEvent.Submission {
    /// The submission of `workload` by `identity`.
    init(_ workload: Workload, by identity: String) {
        self.workload = workload.name
        self.type = workload.type
        self.priority = workload.priority
        self.preemptible = workload.preemptible
        self.datasets = workload.datasets
        self.by = identity
    }
}

extension LedgerEvent.PowerReport {
    /// The report of `signal` by `identity`.
    init(_ signal: PowerSignalRecord, by identity: String) {
        site = signal.site
        availableWatts = signal.available
        forecastPoints = signal.forecast.count
        ambientCelsius = signal.ambient
        by = identity
    }
}

extension LedgerEvent.Placement {
    /// The placement of `attempt`.
    init(_ attempt: AttemptRecord) {
        workload = attempt.workload
        site = attempt.site
        pool = attempt.pool
        accelerators = attempt.accelerators
        self.attempt = attempt.number
    }
}

extension LedgerEvent {
    /// A checkpoint that moved between two sites: what it was (its manifest's digest and size), how it
    /// travelled and through which jurisdictions, so an auditor can check it never left its residency.
    public struct CheckpointArrival: Sendable, Hashable {
        /// The workload whose checkpoint it is.
        public let workload: String
        /// The transfer's id.
        public let transfer: String
        /// The source and destination sites.
        public let from: String
        public let to: String
        /// `relay` or `direct`.
        public let route: String
        /// The jurisdictions its bytes passed through, in order.
        public let jurisdictions: [String]
        /// SHA-256 of the manifest's canonical JSON, hex.
        public let manifest: String
        /// Bytes of the checkpoint.
        public let bytes: Int64
        /// Whether it is a copy kept at another site (`checkpoint: {replicate: 1}`) rather than the
        /// checkpoint an attempt resumes from.
        public let replica: Bool

        /// Makes one.
        public init(
            workload: String,
            transfer: String,
            from: String,
            to: String,
            route: String,
            jurisdictions: [String],
            manifest: String,
            bytes: Int64,
            replica: Bool = false
        ) {
            self.workload = workload
            self.transfer = transfer
            self.from = from
            self.to = to
            self.route = route
            self.jurisdictions = jurisdictions
            self.manifest = manifest
            self.bytes = bytes
            self.replica = replica
        }

        var fields: [String: JSONValue] {
            [
                "workload": .string(workload), "transfer": .string(transfer), "from": .string(from),
                "to": .string(to), "route": .string(route), "jurisdictions": .strings(jurisdictions),
                "manifestSHA256": .string(manifest), "bytes": .integer(bytes),
                "purpose": .string(replica ? "replica" : "resume"),
            ]
        }
    }
}
