public import SovereignLedger

/// Everything the control plane records in the ledger: one case per kind of entry, each carrying its typed
/// values. ``entry`` is the one place an event becomes the entry's kind and fields, so every caller builds
/// an event and none writes a field name.
public enum LedgerEvent: Sendable, Hashable {
    /// `workload.submitted`: a workload accepted from the fleet spec or the API.
    case submitted(Submission)
    /// `workload.pause-requested`: an operator asks for a workload to be paused and kept paused.
    case pauseRequested(workload: String, by: String)
    /// `workload.resume-requested`: an operator releases a held workload.
    case resumeRequested(workload: String, by: String)
    /// `workload.cancel-requested`: an operator asks for a workload to be cancelled.
    case cancelRequested(workload: String, by: String)
    /// `power.signal`: the power a site can draw now, and ahead.
    case powerSignal(PowerReport)
    /// `dataset.accessed`: an attempt about to start reads a dataset at a site.
    case datasetAccessed(DatasetAccess)
    /// `dataset.derived`: an anonymisation run that made a derived dataset at its source's site.
    case derived(DerivationRun)
    /// `workload.placed`: a workload's first placement, with why the site was allowed.
    case placed(Placement, reasons: String)
    /// `workload.started`: a first attempt starting where it was placed.
    case started(Placement)
    /// `workload.migrated`: a resume at another site than the one holding the checkpoint (`from`).
    case migrated(Placement, checkpointBytes: Int64, from: String)
    /// `workload.resumed`: an attempt resuming from the workload's checkpoint.
    case resumed(Placement, checkpointBytes: Int64)
    /// `workload.pausing`: an attempt asked to checkpoint and stop because its site is short of power.
    case pausing(workload: String, site: String, attempt: Int, reason: String)
    /// `workload.killed`: an attempt killed because it did not exit within its grace period.
    case killed(workload: String, attempt: Int)
    /// `workload.completed`: an attempt that says the work is done.
    case completed(EndedAttempt)
    /// `workload.attempt-not-started`: an attempt recorded but never started (the server stopped between).
    case attemptNotStarted(EndedAttempt)
    /// `workload.lost`: an attempt at a site whose agent fell silent past twice its lease, with when the site
    /// was last heard from and the checkpoint the site holds.
    case lost(EndedAttempt, silentSince: String, checkpointBytes: Int64)
    /// `workload.completed` (`reportedLate`), or `workload.completed-late` when the work had already ended
    /// otherwise: an attempt taken as lost with its site whose agent, back in touch, reports that it
    /// completed before its lease ran out.
    case completedLate(EndedAttempt, LateCompletion)
    /// `checkpoint.moved`: a workload's checkpoint that arrived at another site and was put in place there.
    case checkpointMoved(CheckpointArrival)
    /// `workload.cancelled`: a workload cancelled, before it ran again or by stopping its attempt.
    case cancelled(Cancellation)
    /// `workload.paused`: an attempt that stopped, with the checkpoint it left.
    case paused(EndedAttempt, Checkpoint)
    /// `workload.failed`: an attempt that failed at the workload's attempt limit.
    case failed(EndedAttempt, Failure)
    /// `workload.attempt-failed`: an attempt that failed, retried after a backoff.
    case attemptFailed(EndedAttempt, Failure, retryInSeconds: Double)
    /// `federation.refused`: a federated workload the coordinator refuses to run.
    case federationRefused(workload: String, reason: String)
    /// `federation.started`: a federated workload the coordinator starts, with its initial model.
    case federationStarted(FederationStart)
    /// `federation.model-sent`: a round's global model going to a site.
    case modelSent(ModelTransfer)
    /// `federation.update`: a site's update arriving at the coordinator.
    case updateReceived(UpdateArrival)
    /// `federation.round`: a finished round.
    case roundClosed(RoundSummary)
    /// `federation.round-missed`: an attempt at a round that missed its quorum.
    case roundMissed(workload: String, round: Int, attempt: Int, reason: String)
    /// `federation.completed`: a federated workload whose rounds are all done.
    case federationCompleted(FederationCompletion)

    /// An event as the ledger stores it: its kind and its fields.
    public struct Entry: Sendable, Hashable {
        /// The entry's kind, dotted, like `workload.submitted`.
        public let kind: String
        /// The entry's fields.
        public let fields: [String: JSONValue]
    }

    /// The event's kind and fields, exactly as the ledger stores them.
    public var entry: Entry {
        switch self {
        case .submitted(let s): Entry(kind: "workload.submitted", fields: s.fields)
        case .pauseRequested(let w, let by): Entry(kind: "workload.pause-requested", fields: Self.request(w, by))
        case .resumeRequested(let w, let by): Entry(kind: "workload.resume-requested", fields: Self.request(w, by))
        case .cancelRequested(let w, let by): Entry(kind: "workload.cancel-requested", fields: Self.request(w, by))
        case .powerSignal(let p): Entry(kind: "power.signal", fields: p.fields)
        case .datasetAccessed(let a): Entry(kind: "dataset.accessed", fields: a.fields)
        case .derived(let run): Entry(kind: "dataset.derived", fields: run.fields)
        case .placed(let p, let reasons): Entry(kind: "workload.placed", fields: p.placed(reasons: reasons))
        case .started(let p): Entry(kind: "workload.started", fields: p.fields)
        case .migrated(let p, let bytes, let from):
            Entry(kind: "workload.migrated", fields: p.migrated(checkpointBytes: bytes, from: from))
        case .resumed(let p, let bytes): Entry(kind: "workload.resumed", fields: p.resumed(checkpointBytes: bytes))
        case .pausing(let w, let site, let attempt, let reason):
            Entry(kind: "workload.pausing", fields: Self.pausing(w, site: site, attempt: attempt, reason: reason))
        case .killed(let w, let attempt): Entry(kind: "workload.killed", fields: Self.killed(w, attempt: attempt))
        case .completed(let a): Entry(kind: "workload.completed", fields: a.fields)
        case .attemptNotStarted(let a): Entry(kind: "workload.attempt-not-started", fields: a.notStarted)
        case .lost(let a, let since, let bytes):
            Entry(kind: "workload.lost", fields: a.lost(silentSince: since, checkpointBytes: bytes))
        case .completedLate(let a, let late):
            Entry(kind: late.counted ? "workload.completed" : "workload.completed-late", fields: a.late(late))
        case .checkpointMoved(let a): Entry(kind: "checkpoint.moved", fields: a.fields)
        case .cancelled(let c): Entry(kind: "workload.cancelled", fields: c.fields)
        case .paused(let a, let c): Entry(kind: "workload.paused", fields: a.stopped(c))
        case .failed(let a, let f): Entry(kind: "workload.failed", fields: a.failed(f, retryInSeconds: nil))
        case .attemptFailed(let a, let f, let retry):
            Entry(kind: "workload.attempt-failed", fields: a.failed(f, retryInSeconds: retry))
        case .federationRefused(let w, let reason):
            Entry(kind: "federation.refused", fields: ["workload": .string(w), "reason": .string(reason)])
        case .federationStarted(let s): Entry(kind: "federation.started", fields: s.fields)
        case .modelSent(let m): Entry(kind: "federation.model-sent", fields: m.fields)
        case .updateReceived(let u): Entry(kind: "federation.update", fields: u.fields)
        case .roundClosed(let r): Entry(kind: "federation.round", fields: r.fields)
        case .roundMissed(let w, let round, let attempt, let reason):
            Entry(kind: "federation.round-missed", fields: Self.missed(w, round, attempt, reason))
        case .federationCompleted(let c): Entry(kind: "federation.completed", fields: c.fields)
        }
    }

    /// The event's kind, like `workload.submitted`.
    public var kind: String { entry.kind }
}

extension JSONValue {
    /// A whole number as a ledger field (JSON numbers are doubles).
    static func integer(_ value: some BinaryInteger) -> JSONValue { .number(Double(value)) }

    /// A list of names as a ledger field.
    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
}
