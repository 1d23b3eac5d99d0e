import Foundation
import SovereignLedger
import SovereignModel
import SovereignPlanner
import Synchronization

extension ControlPlane {
    /// One pass of the control loop: observe every attempt, apply operator requests and the power budget,
    /// and start what the plan says should run now. Safe to call at any time, any number of times; passes
    /// run one at a time.
    ///
    /// The pass reads a ``ReconcileSnapshot`` (the store, then the executor's observations), decides with
    /// ``Reconcile`` (no store, no clock, no executor), commits the change, and only then performs its
    /// actions, so a crash never loses why something started or stopped. It reads the active workloads and open
    /// attempts once, as a ``PassView`` it carries through its steps with its own commits applied.
    ///
    /// Only the leader passes; on a follower this keeps the tree up to the stored ledger and returns.
    ///
    /// - Complexity: O(A + W × (P + S × C)) for A open attempts and the planner's cost on the W waiting
    ///   workloads (see ``Planner``).
    public func reconcile() async throws { try await reconcile(beginning: {}) }

    /// Runs a control-loop pass that begins after this call and returns when it ends, sharing it with every
    /// caller that asks before it begins: while one pass runs, the power signals and ended attempts of many
    /// sites wait for one pass after it, not for one pass each behind each other. Errors reach every caller
    /// that shares the pass.
    func reconcileAfterThis() async throws {
        if let sharedPass { return try await sharedPass.value }
        let pass = Task { try await self.reconcile(beginning: { self.sharedPass = nil }) }
        sharedPass = pass
        try await pass.value
    }

    /// A pass that calls `beginning` when it begins, before it reads anything.
    private func reconcile(beginning: () -> Void) async throws {
        guard leads else {
            beginning()
            return try follow()
        }
        try await exclusively {
            beginning()
            // A pass waiting its turn may find the lease lost meanwhile.
            guard leads else { return }
            counters.reconciles += 1
            let observed = try await observeAttempts()
            // Nothing awaits from here to the commit: the change is made from what is read here.
            var view = try current(observed.view)
            let snapshot = try snapshot(observed, view: view)
            let result = Reconcile.run(snapshot, policy: Self.planningPolicy)
            counters.kills += result.kills
            counters.pauses += result.pauses
            let committed = try commit(result.change, at: snapshot.now, carrying: &view)
            resignalled = result.resignalled
            try await perform(result.actions, ids: committed.attemptIDs, now: snapshot.time, view: &view)
            try signCheckpoint()
            view = try current(view)
            publish(result, of: snapshot, view: view)
            try await refreshMoves(view)
            let touched = Set((result.change.newAttempts + result.change.attempts).map(\.site))
            if !touched.isEmpty { await agents?.changed(touched) }
        }
    }

    /// The store as passes see it (``PassView``): the view kept from commit to commit while it matches the store,
    /// else read again (and kept).
    func readView() throws -> PassView {
        // Another replica's writes append to the ledger, which the tree catches up to.
        try catchUpTree()
        let commits = commitCount.load(ordering: .sequentiallyConsistent)
        if let kept, kept.matches(commits: commits, ledger: tree.size) { return kept }
        let view = try PassView.read(from: store, commits: commits, ledger: tree.size)
        kept = view
        return view
    }

    /// `view` while it matches the store (nothing but this replica's commits, each applied to it, since it was
    /// read), else the store read again.
    func current(_ view: PassView) throws -> PassView {
        view.matches(commits: commitCount.load(ordering: .sequentiallyConsistent), ledger: tree.size)
            ? view : try readView()
    }

    /// Commits a change of the pass and carries `view` past it: the kept view the commit applied it to, else
    /// marked to be read again.
    func commit(_ change: StateChange, at time: Date? = nil, carrying view: inout PassView) throws -> CommittedChange {
        let committed = try commit(change, at: time)
        if !change.isEmpty { view = kept ?? PassView(workloads: view.workloads, attempts: view.attempts, commits: nil) }
        return committed
    }

    /// Carries the kept view (``PassView``) past a commit of this replica: applied when the view matched the store
    /// just before it (`before`) and nothing else committed meanwhile, else dropped (the next pass reads the store).
    func keep(_ change: StateChange, _ committed: CommittedChange, before: (commits: Int, ledger: Int)) {
        let after = (commits: commitCount.load(ordering: .sequentiallyConsistent), ledger: tree.size)
        guard let view = kept, view.matches(commits: before.commits, ledger: before.ledger),
            after.commits == before.commits + 1, after.ledger == before.ledger + committed.entries.count
        else {
            kept = nil
            return
        }
        kept = view.applying(change, committed: committed, commits: after.commits, ledger: after.ledger)
    }

    /// What the executor sees of every open attempt (at a server's first pass, the attempts are adopted),
    /// and of every active workload's checkpoint.
    func observeAttempts() async throws -> Observed {
        let view = try readView()
        let (attempts, active) = (view.attempts, view.workloads)
        let observations = adopted ? await executor.observe(attempts) : await executor.adopt(attempts)
        adopted = true
        let checkpoints = await executor.checkpointBytes(of: Self.checkpointSites(active, open: attempts))
        return Observed(
            view: view,
            attempts: zip(attempts, observations).map(ObservedAttempt.init),
            late: try await lateCompletions(open: attempts),
            checkpoints: checkpoints,
            darkSites: await agents?.darkSites() ?? [:],
            peerSites: await agents?.peerSites() ?? [],
            agentReports: await agents?.lastReports() ?? [:]
        )
    }

    /// The attempts taken as lost with their site whose agent, back in touch, reports that they completed.
    /// Fenced: the report names the attempt's own id (its epoch), comes from its own site's agent (whose
    /// token acts for that site only), and the attempt is closed as lost, so nothing else is ever reopened.
    func lateCompletions(open: [AttemptRecord]) async throws -> [ObservedAttempt] {
        guard let agents else { return [] }
        let open = Set(open.compactMap(\.id))
        var late: [ObservedAttempt] = []
        for (site, reported) in await agents.reportedCompletions() where !open.contains(reported.id) {
            guard let status = reported.status,
                let attempt = try store.attempts(of: reported.workload).first(where: { $0.id == reported.id }),
                attempt.site == site, attempt.outcome == "lost"
            else { continue }
            late.append(ObservedAttempt(attempt: attempt, observation: .ended(status)))
        }
        return late
    }

    /// Where to look for each active workload's checkpoint: at its open attempt's site (a settling attempt
    /// leaves its checkpoint there), else where its checkpoint was last recorded, else where it last ran.
    static func checkpointSites(_ active: [WorkloadRecord], open: [AttemptRecord]) -> [String: String] {
        let running = Dictionary(open.map { ($0.workload, $0.site) }) { _, later in later }
        var sites: [String: String] = [:]
        for record in active {
            sites[record.name] = running[record.name] ?? record.checkpointSite ?? record.site ?? ""
        }
        return sites
    }

    /// What a pass sees before it reads the store: the executor's view of attempts and checkpoints, and the
    /// sites whose agents fell silent.
    struct Observed {
        /// The store as the observation read it.
        var view: PassView
        var attempts: [ObservedAttempt]
        /// Attempts taken as lost whose agent reports them completed (``lateCompletions(open:)``).
        var late: [ObservedAttempt] = []
        var checkpoints: [String: Int64]
        var darkSites: [String: Double]
        var peerSites: Set<String> = []
        var agentReports: [String: Double] = [:]
    }

    /// The pass's snapshot: the observations, and the store as it is now.
    func snapshot(_ observed: Observed, view: PassView) throws -> ReconcileSnapshot {
        let executor = self.executor
        let workloads = view.workloads
        // Workloads submitted on other replicas reach this one through the store only.
        learnSpecs(of: workloads)
        return ReconcileSnapshot(
            now: clock(),
            fleet: fleet,
            specs: specs,
            workloads: workloads,
            attempts: observed.attempts,
            lateCompletions: observed.late,
            checkpoints: observed.checkpoints,
            lastAttempts: view.lastAttempts,
            powerSignals: view.powerSignals,
            resignalled: resignalled,
            planStep: planStep,
            horizon: horizon,
            logPath: { workload, number, site in executor.logPath(workload: workload, attempt: number, site: site) },
            agentSites: agents?.sites ?? [],
            darkSites: observed.darkSites,
            agentReports: observed.agentReports,
            relayJurisdiction: agents?.jurisdiction,
            peerSites: observed.peerSites,
            held: held,
            derivations: view.derivations
        )
    }

    /// Sends the pass's signals, then starts its attempts (whose intents the commit numbered `ids`).
    func perform(_ actions: [ControlAction], ids: [Int64], now t: Double, view: inout PassView) async throws {
        var ids = ids[...]
        var launches: [(AttemptRecord, Workload.Run)] = []
        for action in actions {
            switch action {
            case .signal(let attempt, let signal):
                await executor.signal(attempt, signal)
            case .start(var attempt, let run):
                attempt.id = ids.popFirst()
                launches.append((attempt, run))
            }
        }
        try await launch(launches, now: t, view: &view)
    }

    /// Starts attempts whose intent is committed, and records their handles (or, for one that cannot start,
    /// a failed attempt), carrying `view` past that record.
    func launch(_ attempts: [(AttemptRecord, Workload.Run)], now t: Double, view: inout PassView) async throws {
        var change = StateChange()
        for (attempt, run) in attempts {
            var attempt = attempt
            do {
                attempt.handle = try await executor.start(attempt, run: run)
                counters.starts += 1
                change.attempts.append(attempt)
            } catch {
                let bytes =
                    await executor.checkpointBytes(of: [attempt.workload: attempt.site])[attempt.workload] ?? 0
                guard var record = try store.workload(named: attempt.workload) else { continue }
                attempt.endedAt = t
                var status = ExitStatus()
                status.refused = "\(error)"
                AttemptSettlement(status: status, run: run, checkpointBytes: bytes, now: t, gone: false)
                    .apply(to: &attempt, record: &record, change: &change)
                change.workloads.append(record)
            }
        }
        _ = try commit(change, carrying: &view)
    }

    /// Builds the API's view of the pass, and tells the observers (the extender, the node labeller).
    func publish(_ result: ReconcileResult, of snapshot: ReconcileSnapshot, view: PassView) {
        let use = SiteUse(fleet: fleet, attempts: view.attempts)
        lastPlan = LivePlan(
            at: snapshot.now,
            fleet: fleet,
            grid: result.grid,
            horizon: horizon,
            budgets: result.budgets,
            signals: snapshot.powerSignals,
            agents: (snapshot.agentSites, snapshot.darkSites, snapshot.agentReports),
            use: use,
            planned: result.views,
            workloads: view.workloads
        )
        if let sites = lastPlan?.sites, let event = siteEncodings.event(sites) { events.publish([event]) }
        guard publishesSnapshots else { return }
        var workloads = Dictionary(fleet.workloads.map { ($0.name, $0) }) { first, _ in first }
        workloads.merge(specs) { _, managed in managed }
        let published = ControlSnapshot(
            at: snapshot.now,
            fleet: fleet,
            workloads: workloads,
            grid: result.grid,
            budgets: result.budgets,
            running: use.running
        )
        lastSnapshot = published
        for observer in planObservers { observer(published) }
    }

    /// Moves a workload to a state, with a history line when the state changes.
    static func move(
        _ name: String,
        to state: WorkloadState,
        _ reason: String,
        at t: Double,
        records: inout [String: WorkloadRecord],
        change: inout StateChange
    ) {
        guard var r = records[name] else { return }
        if r.state != state {
            change.transitions.append(
                TransitionRecord(workload: name, at: t, from: r.state, to: state, reason: reason)
            )
        }
        r.state = state
        r.detail = reason
        r.updatedAt = t
        records[name] = r
    }
}
