import SovereignLedger

/// The store as control-loop passes see it: the active workloads, the open attempts, the latest power signal of
/// each site, the last attempt number of each workload and the derived datasets' latest runs. Read from the
/// store once, then kept by the control plane from pass to pass with every commit of this replica applied, so a
/// pass after a power signal or an ended attempt reads none of the store's large sets again.
///
/// A view is exact while everything committed since it was read went through this replica's
/// ``ControlPlane/commit(_:at:fenced:)`` (``commits`` matches the control plane's count of its commits) and no
/// other replica has appended to the ledger (``ledger`` matches the stored ledger's size). Every write another
/// replica may make while this one leads (a submission, a power signal, an operator's request) appends to the
/// ledger, so a view that matches both is the store as it is; one that does not is read again.
struct PassView: Sendable, Equatable {
    /// Workloads that have not ended, in submission order.
    var workloads: [WorkloadRecord]
    /// Attempts whose end has not been seen, by id.
    var attempts: [AttemptRecord]
    /// The latest power signal of each site that sent one.
    var powerSignals: [String: PowerSignalRecord] = [:]
    /// The number of each active workload's latest attempt (a workload that ended may stay listed).
    var lastAttempts: [String: Int] = [:]
    /// The ledger entry of each derived dataset's latest recorded run.
    var derivations: [String: Int] = [:]
    /// The control plane's count of commits the view matches; nil once it no longer matches any.
    var commits: Int?
    /// The stored ledger's size the view matches.
    var ledger = 0

    /// Reads the view from `store`, stamped with the commit count and ledger size read before it.
    static func read(from store: any ControlStore, commits: Int, ledger: Int) throws -> PassView {
        PassView(
            workloads: try store.activeWorkloads(),
            attempts: try store.openAttempts(),
            powerSignals: try store.latestPowerSignals(),
            lastAttempts: try store.lastAttemptNumbers(),
            derivations: try store.derivationRuns(),
            commits: commits,
            ledger: ledger
        )
    }

    /// Whether the view is the store as it is when the control plane has counted `commits` and the stored
    /// ledger holds `ledger` entries.
    func matches(commits: Int, ledger: Int) -> Bool { self.commits == commits && self.ledger == ledger }

    /// The view after `change` was committed (as `committed` says: its new attempts' ids, its ledger entries), as
    /// the store now holds it.
    ///
    /// - Complexity: O(C) for C records in the change, plus O(W + A) for W workloads and A attempts in the view
    ///   when the change updates workloads or attempts.
    func applying(_ change: StateChange, committed: CommittedChange, commits: Int, ledger: Int) -> PassView {
        var view = self
        for signal in change.powerSignals { view.powerSignals[signal.site] = signal }
        for attempt in change.newAttempts {
            view.lastAttempts[attempt.workload] = max(view.lastAttempts[attempt.workload] ?? 0, attempt.number)
        }
        if !change.workloads.isEmpty || !change.requests.isEmpty || !change.newWorkloads.isEmpty {
            view.workloads = Self.applying(change, to: workloads)
            // As the store reads them: the numbers of active workloads only.
            let active = Set(view.workloads.map(\.name))
            view.lastAttempts = view.lastAttempts.filter { active.contains($0.key) }
        }
        if !change.attempts.isEmpty || !change.newAttempts.isEmpty {
            view.attempts = Self.applying(change, ids: committed.attemptIDs, to: attempts)
        }
        for (event, entry) in zip(change.ledger, committed.entries) {
            guard let dataset = event.derivedDataset else { continue }
            view.derivations[dataset] = max(view.derivations[dataset] ?? 0, entry.sequence)
        }
        view.commits = commits
        view.ledger = ledger
        return view
    }

    /// The active workloads after `change`: records updated (as the store does: only requests write the
    /// operator's fields), requests applied, new workloads appended, those that ended dropped.
    static func applying(_ change: StateChange, to active: [WorkloadRecord]) -> [WorkloadRecord] {
        var workloads = active
        let position = Dictionary(workloads.indices.map { (workloads[$0].name, $0) }) { first, _ in first }
        for record in change.workloads {
            guard let i = position[record.name] else { continue }
            var updated = record
            updated.held = workloads[i].held
            updated.cancelRequested = workloads[i].cancelRequested
            workloads[i] = updated
        }
        for request in change.requests {
            guard let i = position[request.workload] else { continue }
            workloads[i].held = request.held
            workloads[i].cancelRequested = request.cancelRequested
            workloads[i].updatedAt = request.at
        }
        workloads += change.newWorkloads
        return workloads.filter { !$0.state.isTerminal }
    }

    /// The open attempts after `change`: attempts updated, new ones appended with their ids, those that ended
    /// dropped.
    static func applying(_ change: StateChange, ids: [Int64], to open: [AttemptRecord]) -> [AttemptRecord] {
        var attempts = open
        let slot = Dictionary(attempts.indices.compactMap { i in attempts[i].id.map { ($0, i) } }) { first, _ in first }
        for attempt in change.attempts {
            guard let id = attempt.id, let i = slot[id] else { continue }
            attempts[i] = attempt
        }
        for (attempt, id) in zip(change.newAttempts, ids) {
            var numbered = attempt
            numbered.id = id
            attempts.append(numbered)
        }
        return attempts.filter { $0.endedAt == nil }
    }
}
