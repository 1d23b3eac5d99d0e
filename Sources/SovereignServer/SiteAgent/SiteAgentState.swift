public import Foundation
public import SovereignModel

/// One attempt a site agent was given, as the agent remembers it.
public struct LocalAttempt: Codable, Sendable, Hashable {
    /// The attempt, with the handle its executor returned and the log path at this site.
    public var record: AttemptRecord
    /// Seconds between asking it to stop and killing it.
    public var graceSeconds: Double
    /// When the agent asked it to stop, and why: the control plane asked, or the lease ran out.
    public var stopAt: Double?
    public var stoppedOnOwn = false
    /// When the agent killed it.
    public var killAt: Double?
    /// How it ended, once it has.
    public var ended: ExitStatus?
    /// Whether nothing of it was found and nothing recorded how it ended.
    public var gone = false
    /// Where its checkpoint comes from, when another site holds it, and what arrived: it starts only then.
    public var fetch: CheckpointFetch?
    public var received: ReceivedCheckpoint?

    /// Whether it waits for its checkpoint to arrive from another site (nothing of it runs yet).
    var awaitingCheckpoint: Bool { fetch != nil && received == nil && record.handle == nil && ended == nil && !gone }

    /// What the agent reports of it (an attempt waiting for its checkpoint is reported as running: it holds
    /// its place at the site). Every attempt the agent holds came with its store id (``SiteAgent/loadState()``
    /// refuses a state file with one that has none).
    var reported: ReportedAttempt {
        let id = record.id ?? 0
        if gone { return ReportedAttempt(id: id, workload: record.workload, running: false, status: nil) }
        guard var status = ended else { return .running(id: id, workload: record.workload) }
        if stoppedOnOwn, let stopAt { status.stoppedAt = stopAt }
        return .ended(id: id, workload: record.workload, status: status)
    }
}

/// What a site agent does to an attempt once it has decided.
public enum AgentAction: Sendable, Hashable {
    /// Start an assigned attempt.
    case start(AttemptRecord, Workload.Run)
    /// Ask an attempt to checkpoint and stop, or kill it.
    case signal(AttemptRecord, AttemptSignal)
    /// Fetch an attempt's checkpoint from another site (it starts once the checkpoint is in place).
    case fetch(CheckpointFetch, workload: String)
    /// Stop fetching a checkpoint no attempt waits for any more.
    case cancelFetch(transfer: String)
}

/// A site agent's memory (kept in its work directory, so a restarted agent adopts what it left running) and
/// its decisions, as values: what to start, stop and kill given the control plane's assignments, or given
/// that the lease ran out. The agent's loop (``SiteAgent``) performs them.
public struct SiteAgentState: Codable, Sendable, Hashable {
    /// The highest attempt id of any assignment received.
    public var seenThrough: Int64 = 0
    /// When the control plane last answered (seconds since 1970), and the lease it gave: kept, so a
    /// restarted agent does not give itself a new lease.
    public var lastAnswer: Double?
    public var leaseSeconds = 30.0
    /// The version of the last answer the agent acted on, which lets the control plane hold its next poll.
    public var answered: String?
    /// Attempts whose log's end the control plane asked for in its last answer.
    public var logRequests: [LogRequest] = []
    /// The attempts the agent holds, in id order.
    public var attempts: [LocalAttempt] = []

    /// An empty memory.
    public init() {}

    /// The report for the control plane.
    func report(
        agent: String,
        checkpoints: [String: Int64],
        power: PowerSignalBody?,
        logs: [ReportedLog] = []
    ) -> AgentReport {
        AgentReport(
            agent: agent,
            seenThrough: seenThrough,
            attempts: attempts.map(\.reported),
            checkpoints: checkpoints.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map {
                ReportedCheckpoint(workload: $0.key, bytes: $0.value)
            },
            power: power,
            logs: logs.isEmpty ? nil : logs,
            received: received.isEmpty ? nil : received
        )
    }

    /// The checkpoints that arrived for the attempts the agent holds.
    var received: [ReceivedCheckpoint] { attempts.compactMap(\.received) }

    /// Records what the executor sees of each attempt that was started and has not ended (in the order of
    /// ``unsettled``).
    mutating func observe(_ observations: [AttemptObservation]) {
        for (i, observation) in zip(startedIndices, observations) {
            switch observation {
            case .running: continue
            case .ended(let status): attempts[i].ended = status
            case .gone: attempts[i].gone = true
            }
        }
    }

    var unsettledIndices: [Int] { attempts.indices.filter { attempts[$0].ended == nil && !attempts[$0].gone } }

    /// Attempts that were started and whose end has not been seen.
    var startedIndices: [Int] { unsettledIndices.filter { !attempts[$0].awaitingCheckpoint } }

    /// The started attempts whose end has not been seen, for the executor to observe.
    var unsettled: [AttemptRecord] { startedIndices.map { attempts[$0].record } }

    /// Follows the control plane's assignments at time `now` (seconds since 1970): starts what is new, stops
    /// and kills what it asks, stops what it no longer lists (closed or reassigned; never started again),
    /// kills what outlived its grace period, and forgets what ended and is no longer listed.
    mutating func follow(
        _ answer: AgentAssignments,
        site: String,
        now: Double,
        transfers: [String: TransferProgress] = [:],
        logPath: (String, Int) -> String
    )
        -> [AgentAction]
    {
        var actions: [AgentAction] = []
        let listed = Dictionary(answer.attempts.map { ($0.id, $0) }) { first, _ in first }
        for assignment in answer.attempts.sorted(by: { $0.id < $1.id }) where assignment.id > seenThrough {
            let record = Self.record(assignment, site: site, now: now, logPath: logPath)
            var held = LocalAttempt(record: record, graceSeconds: assignment.gracePeriodSeconds)
            // The name becomes a directory under the work directory: only a DNS-1123 name may.
            guard SpecNames.isObjectName(assignment.workload) else {
                held.ended = ExitStatus(
                    refused: "expected a DNS-1123 workload name, found \"\(assignment.workload.prefix(80))\""
                )
                attempts.append(held)
                continue
            }
            held.fetch = assignment.fetch
            attempts.append(held)
            // One that waits for its checkpoint starts in ``arrivals``.
            if !assignment.stop && !assignment.kill && assignment.fetch == nil {
                actions.append(.start(record, Self.run(assignment)))
            }
        }
        seenThrough = max(seenThrough, answer.attempts.map(\.id).max() ?? 0)
        lastAnswer = now
        leaseSeconds = answer.leaseSeconds
        answered = answer.version
        logRequests = answer.logRequests
        for i in unsettledIndices {
            let assignment = attempts[i].record.id.flatMap { listed[$0] }
            if assignment?.kill == true { actions += kill(i, now: now) }
            if assignment == nil || assignment?.stop == true { actions += stop(i, now: now, onOwn: false) }
        }
        actions += killOverdue(now: now)
        actions += arrivals(listed, transfers: transfers, now: now)
        attempts.removeAll { ($0.ended != nil || $0.gone) && $0.record.id.flatMap { listed[$0] } == nil }
        return actions
    }

    /// What becomes of each attempt waiting for its checkpoint: it starts once the checkpoint is in place
    /// (or once the control plane no longer names a fetch: the checkpoint is here), ends when the transfer
    /// failed or the source fell silent, and otherwise keeps fetching (or, after a restart, resumes; or,
    /// while the source's key is unknown, waits).
    mutating func arrivals(
        _ listed: [Int64: Assignment],
        transfers: [String: TransferProgress],
        now: Double
    ) -> [AgentAction] {
        var actions: [AgentAction] = []
        for i in attempts.indices where attempts[i].awaitingCheckpoint {
            guard let fetch = attempts[i].fetch, let assignment = attempts[i].record.id.flatMap({ listed[$0] }),
                !assignment.stop, !assignment.kill
            else { continue }
            guard let wanted = assignment.fetch else {
                actions.append(.start(attempts[i].record, Self.run(assignment)))
                continue
            }
            if wanted.sourceSilent {
                var status = ExitStatus(refused: "its checkpoint's site \(fetch.from) fell silent before sending it")
                status.sourceSilent = true
                attempts[i].ended = status
                actions.append(.cancelFetch(transfer: fetch.transfer))
                continue
            }
            switch transfers[fetch.transfer] {
            case .done(let received):
                attempts[i].received = received
                actions.append(.start(attempts[i].record, Self.run(assignment)))
            case .failed(let why):
                attempts[i].ended = ExitStatus(refused: "its checkpoint did not arrive from \(fetch.from): \(why)")
            case .moving: continue
            case nil:
                if wanted.senderKey != nil { actions.append(.fetch(wanted, workload: assignment.workload)) }
            }
        }
        return actions
    }

    /// The lease ran out without a successful poll: checkpoint and stop everything (and kill what outlived
    /// its grace period); nothing starts until the control plane answers again.
    mutating func leaseLost(now: Double) -> [AgentAction] {
        var actions: [AgentAction] = []
        for i in unsettledIndices { actions += stop(i, now: now, onOwn: true) }
        return actions + killOverdue(now: now)
    }

    mutating func stop(_ i: Int, now: Double, onOwn: Bool) -> [AgentAction] {
        guard attempts[i].stopAt == nil else { return [] }
        attempts[i].stopAt = now
        attempts[i].stoppedOnOwn = onOwn
        if let cancelled = endBeforeStart(i, now: now) { return [cancelled] }
        return [.signal(attempts[i].record, .stop)]
    }

    mutating func kill(_ i: Int, now: Double) -> [AgentAction] {
        guard attempts[i].killAt == nil else { return [] }
        attempts[i].killAt = now
        if let cancelled = endBeforeStart(i, now: now) { return [cancelled] }
        return [.signal(attempts[i].record, .kill)]
    }

    /// An attempt still waiting for its checkpoint has nothing to signal: it ends as stopped (SIGTERM) at
    /// once, and its fetch stops.
    mutating func endBeforeStart(_ i: Int, now: Double) -> AgentAction? {
        guard attempts[i].awaitingCheckpoint, let fetch = attempts[i].fetch else { return nil }
        var status = ExitStatus(signal: 15)
        status.at = now
        attempts[i].ended = status
        return .cancelFetch(transfer: fetch.transfer)
    }

    /// Kills what is stopping and outlived its grace period, or, whatever its grace period, once one and a
    /// half leases passed without an answer: the control plane starts the work elsewhere after two, so it must
    /// be dead by then (the half lease left covers the time between two polls).
    mutating func killOverdue(now: Double) -> [AgentAction] {
        var actions: [AgentAction] = []
        let reassignable = lastAnswer.map { now - $0 >= 1.5 * leaseSeconds } ?? false
        for i in unsettledIndices {
            guard let stopAt = attempts[i].stopAt else { continue }
            if reassignable || now - stopAt >= attempts[i].graceSeconds { actions += kill(i, now: now) }
        }
        return actions
    }

    /// Marks an attempt whose start failed as ended with the reason.
    mutating func refused(_ record: AttemptRecord, reason: String) {
        guard let i = attempts.firstIndex(where: { $0.record.id == record.id }) else { return }
        attempts[i].ended = ExitStatus(refused: reason)
    }

    /// Records the executor's handle of a started attempt.
    mutating func started(_ record: AttemptRecord, handle: AttemptHandle) {
        guard let i = attempts.firstIndex(where: { $0.record.id == record.id }) else { return }
        attempts[i].record.handle = handle
    }

    static func record(_ a: Assignment, site: String, now: Double, logPath: (String, Int) -> String) -> AttemptRecord {
        var record = AttemptRecord(
            workload: a.workload,
            number: a.number,
            site: site,
            pool: a.pool,
            accelerators: a.accelerators,
            resume: a.resume,
            startedAt: now,
            logPath: logPath(a.workload, a.number)
        )
        record.id = a.id
        return record
    }

    static func run(_ a: Assignment) -> Workload.Run {
        Workload.Run(
            command: a.command,
            image: a.image,
            environment: a.environment,
            gracePeriod: .seconds(a.gracePeriodSeconds),
            maxAttempts: 1
        )
    }
}
