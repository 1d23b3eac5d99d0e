import Foundation
import SovereignBase
import SovereignLedger
import SovereignModel

/// A workload with its attempts and history, for `GET /v1/workloads/{name}`.
public struct WorkloadDetail: Sendable, Encodable {
    let workload: WorkloadView
    let attempts: [AttemptView]
    let history: [TransitionView]

    struct AttemptView: Sendable, Encodable {
        let number: Int
        let site: String
        let pool: String
        let accelerators: Int
        let resume: Bool
        /// The local executor's handle: its supervisor's process id.
        let pid: Int32?
        let startedAt: String
        let terminatedAt: String?
        let killedAt: String?
        let endedAt: String?
        let outcome: String?
        let exitStatus: Int32?
        let exitSignal: Int32?
        let checkpointStale: Bool
    }

    struct TransitionView: Sendable, Encodable {
        let at: String
        let from: String?
        let to: String
        let reason: String
    }
}

extension WorkloadView: @unchecked Sendable {}

/// A ledger entry as the API shows it: the canonical JSON as an object, and its leaf hash.
public struct LedgerEntryView: Sendable, Encodable {
    let sequence: Int
    let leafHash: String
    let entry: JSONValue

    init(_ stored: StoredEntry) {
        sequence = stored.sequence
        leafHash = stored.leafHash.hex
        entry = (try? JSONDecoder().decode(JSONValue.self, from: Data(stored.canonicalJSON))) ?? .null
    }
}

extension ControlPlane {
    nonisolated func time(_ seconds: Double?) -> String? {
        seconds.map { LedgerEntry.formatTime(Date(timeIntervalSince1970: $0)) }
    }

    /// Every workload the control plane manages.
    public nonisolated func workloadRecords() async throws -> [WorkloadRecord] {
        try await reads.run { [store] in try store.workloads() }
    }

    /// A page of the workloads in submission order: those after position `after`, at most `limit` (nil: all),
    /// and the position the next page starts after when there are more.
    /// - Complexity: O(log W + limit): the store seeks by position.
    public nonisolated func workloadPage(
        after: Int64,
        limit: Int?
    ) async throws -> (records: [WorkloadRecord], next: Int64?) {
        let rows = try await reads.run { [store] in try store.workloads(after: after, limit: limit.map { $0 + 1 }) }
        guard let limit, rows.count > limit else { return (rows.map(\.record), nil) }
        return (rows.prefix(limit).map(\.record), rows[limit - 1].position)
    }

    /// The named workloads as stored now, in the order given (names without a workload are left out).
    public nonisolated func workloadRecords(named names: [String]) async throws -> [WorkloadRecord] {
        try await reads.run { [store] in try names.compactMap { try store.workload(named: $0) } }
    }

    /// What the API shows of each workload: its record, with its spec's priority and deadline and its progress
    /// against the planner's estimate of its run time (counting the open attempt of one that runs).
    nonisolated func views(_ records: [WorkloadRecord]) async throws -> [WorkloadView] {
        try await reads.run { try self.viewsNow(records) }
    }

    /// ``views(_:)`` on the calling thread.
    nonisolated func viewsNow(_ records: [WorkloadRecord]) throws -> [WorkloadView] {
        let running = records.contains { $0.state.mayHaveProcess } ? try store.openAttempts() : []
        let started = Dictionary(running.map { ($0.workload, $0.startedAt) }) { _, later in later }
        let now = clock().timeIntervalSince1970
        let kept = specs
        return records.map { record in
            let spec = kept[record.name]
            let ran = record.runSeconds + (record.state == .running ? started[record.name].map { now - $0 } ?? 0 : 0)
            return WorkloadView(
                record,
                spec: spec,
                estimatedSeconds: spec.flatMap { estimate($0, record) },
                ranSeconds: max(0, ran)
            )
        }
    }

    /// Seconds the workload's work takes on the accelerators of its current or last placement, as the
    /// planner reckons it (required FLOPs over their throughput); nil when unplaced or without an end.
    nonisolated func estimate(_ workload: Workload, _ record: WorkloadRecord) -> Double? {
        guard let site = record.site.flatMap(fleet.siteIndex(named:)), let count = record.accelerators,
            let pool = fleet.sites[site].pools.first(where: { $0.name == record.pool }),
            let model = fleet.catalog[pool.accelerator],
            let flops = PhysicalModel.requiredFLOPs(workload, catalog: fleet.catalog)
        else { return nil }
        let rate = PhysicalModel.throughput(workload, model: model, count: count)
        return rate > 0 ? flops / rate : nil
    }

    /// A workload with its attempts and history.
    public nonisolated func workloadDetail(_ name: String) async throws -> WorkloadDetail? {
        try await reads.run { try self.workloadDetailNow(name) }
    }

    /// ``workloadDetail(_:)`` on the calling thread.
    nonisolated func workloadDetailNow(_ name: String) throws -> WorkloadDetail? {
        guard let record = try store.workload(named: name) else { return nil }
        return WorkloadDetail(
            workload: try viewsNow([record])[0],
            attempts: try store.attempts(of: name).map { a in
                WorkloadDetail.AttemptView(
                    number: a.number,
                    site: a.site,
                    pool: a.pool,
                    accelerators: a.accelerators,
                    resume: a.resume,
                    pid: a.handle.flatMap { Int32($0.rawValue) },
                    startedAt: time(a.startedAt)!,
                    terminatedAt: time(a.termAt),
                    killedAt: time(a.killAt),
                    endedAt: time(a.endedAt),
                    outcome: a.outcome,
                    exitStatus: a.exitStatus,
                    exitSignal: a.exitSignal,
                    checkpointStale: a.checkpointStale
                )
            },
            history: try store.transitions(of: name).map {
                WorkloadDetail.TransitionView(
                    at: time($0.at)!,
                    from: $0.from?.rawValue,
                    to: $0.to.rawValue,
                    reason: $0.reason
                )
            }
        )
    }

    /// The end of an attempt's output (the latest attempt when `attempt` is nil), at most `limit` bytes; for
    /// an attempt at a site agent's site, what the agent sends when asked (within a few seconds).
    public func log(of name: String, attempt: Int?, limit: Int) async throws -> String? {
        let attempts = try store.attempts(of: name)
        guard let chosen = attempt.map({ n in attempts.first { $0.number == n } }) ?? attempts.last else { return nil }
        if let agents, agents.sites.contains(chosen.site) {
            // The log is at the site: its agent sends the end when asked, at its next poll.
            let tail = await agents.tail(of: chosen, wait: .seconds(5)) ?? ""
            return String(decoding: Array(tail.utf8.suffix(limit)), as: UTF8.self)
        }
        return String(decoding: FileTail.read(chosen.logPath, limit: limit) ?? Data(), as: UTF8.self)
    }

    /// Sites with their power and usage now.
    public func siteViews() async throws -> [LivePlan.SiteView] {
        if lastPlan == nil { try await reconcile() }
        return lastPlan?.sites ?? []
    }

    /// A site's power signals over `window` (seconds since 1970), in at most `buckets` points (see
    /// ``ControlStore/powerHistory(of:in:buckets:)``).
    func powerHistory(of site: String, in window: ClosedRange<Double>, buckets: Int) throws -> [PowerHistoryPoint] {
        try store.powerHistory(of: site, in: window, buckets: buckets)
    }

    /// The latest signed checkpoint, signing one first if the ledger has grown since.
    public func latestCheckpoint() throws -> String? {
        try signCheckpoint(force: true)
        return try store.checkpoints().last
    }

    /// Every stored checkpoint, oldest first.
    public func storedCheckpoints() throws -> [String] { try store.checkpoints() }

    /// A page of ledger entries.
    public func ledgerEntries(from start: Int, limit: Int) throws -> [LedgerEntryView] {
        try store.ledgerEntries(from: start, limit: limit).map(LedgerEntryView.init)
    }

    /// Numbers for /metrics.
    func metricsSnapshot() throws -> (
        states: [WorkloadState: Int], sites: [LivePlan.SiteView], ledger: Int, counters: Counters
    ) {
        try catchUpSubmissions()
        return (try store.workloadCounts(), lastPlan?.sites ?? [], tree.size, counters)
    }
}
