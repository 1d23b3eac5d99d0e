import Foundation
import Logging
import SovereignKubernetes
import SovereignLedger
import SovereignModel
import SovereignPlanner

/// What the planner decided at the last reconcile, for `GET /v1/plan`.
public struct LivePlan: Sendable, Codable {
    /// When it was made (RFC 3339).
    public let at: String
    /// The planning grid's step and horizon, seconds.
    public let stepSeconds: Double
    public let horizonSeconds: Double
    /// Per site: what it may draw and what runs there.
    public let sites: [SiteView]
    /// Per managed workload that is not finished.
    public let workloads: [WorkloadView]

    /// A site's power now.
    public struct SiteView: Sendable, Codable {
        public let name: String
        public let country: String
        /// Power the site can draw now (W), and the IT power that leaves after PUE and cooling.
        public let supplyWatts: Double
        public let itLimitWatts: Double
        /// IT power of the attempts running there now (W).
        public let runningWatts: Double
        /// Accelerators in use, by pool.
        public let acceleratorsInUse: [String: Int]
        /// Whether the supply comes from a power signal (else the grid's nameplate capacity).
        public let signalled: Bool
    }

    /// A workload's place in the plan.
    public struct WorkloadView: Sendable, Codable {
        public let name: String
        public let state: String
        /// Where it runs now or will start, and when (RFC 3339), if the plan places it.
        public let site: String?
        public let pool: String?
        public let accelerators: Int?
        public let startsAt: String?
        /// The planner's status and its explanation (why it waits, where it was refused).
        public let status: String?
        public let explanation: String?
    }
}

extension ControlPlane {
    /// One pass of the control loop: observe every attempt, apply operator requests and the power budget,
    /// and start what the plan says should run now. Safe to call at any time, any number of times.
    ///
    /// - Complexity: O(A + W × (P + S × C)) for A open attempts and the planner's cost on the W waiting
    ///   workloads (see ``Planner``).
    public func reconcile() async throws {
        try await exclusively { try await pass() }
    }

    func pass() async throws {
        counters.reconciles += 1
        let openAttempts = try store.openAttempts()
        let observations =
            adopted ? await executor.observe(openAttempts) : await executor.adopt(openAttempts)
        adopted = true
        let checkpoints = await executor.checkpointBytes(of: try store.activeWorkloads().map(\.name))
        // Nothing below awaits until the commit: what is read here is what the change is made from.
        let now = clock()
        let t = now.timeIntervalSince1970
        var records = Dictionary(uniqueKeysWithValues: try store.activeWorkloads().map { ($0.name, $0) })
        let stored = records
        var change = StateChange()
        var open: [String: AttemptRecord] = [:]
        // Signals go out only after the commit that records them, so a crash never loses why a process stopped.
        var signals: [(AttemptRecord, AttemptSignal)] = []

        func transition(_ name: String, to state: WorkloadState, _ reason: String) {
            Self.move(name, to: state, reason, at: t, records: &records, change: &change)
        }

        // 1. Observe every attempt whose end has not been seen.
        for (var attempt, observation) in zip(openAttempts, observations) {
            guard var record = records[attempt.workload] else { continue }
            let run = specs[attempt.workload]?.run
            let bytes = checkpoints[attempt.workload] ?? 0
            switch observation {
            case .running:
                if record.state == .resuming {
                    transition(record.name, to: .running, "resumed from its checkpoint at \(attempt.site)")
                    record = records[record.name]!
                }
                if let term = attempt.termAt, attempt.killAt == nil,
                    t - term >= (run?.gracePeriod.seconds ?? Workload.Run.defaultGracePeriod.seconds)
                {
                    signals.append((attempt, .kill))
                    attempt.killAt = t
                    attempt.checkpointStale = true
                    change.attempts.append(attempt)
                    counters.kills += 1
                    change.ledger.append(
                        (
                            "workload.killed",
                            [
                                "workload": .string(record.name), "attempt": .number(Double(attempt.number)),
                                "reason": .string("no exit within the grace period; its checkpoint may be stale"),
                            ]
                        )
                    )
                }
                if attempt.termAt != nil, attempt.killAt == nil, let id = attempt.id, !resignalled.contains(id) {
                    // A SIGTERM recorded by an earlier server may never have been sent (a crash between the
                    // commit and the signal): send it again, once; a workload treats a second one as the first.
                    resignalled.insert(id)
                    signals.append((attempt, .stop))
                }
                open[record.name] = attempt
            case .ended(let status):
                attempt.endedAt = min(t, status.at ?? t)
                attempt.exitStatus = status.exit
                attempt.exitSignal = status.signal
                finish(
                    &attempt,
                    status: status,
                    record: &record,
                    run: run,
                    checkpointBytes: bytes,
                    now: t,
                    change: &change
                )
                records[record.name] = record
            case .gone:
                attempt.endedAt = t
                let status = ExitStatus(signal: attempt.killAt != nil ? 9 : nil, refused: nil)
                finish(
                    &attempt,
                    status: status,
                    record: &record,
                    run: run,
                    checkpointBytes: bytes,
                    now: t,
                    change: &change,
                    gone: true
                )
                records[record.name] = record
            }
        }

        // 2. Operator requests on live attempts, and the power budget of every site.
        let grid = TimeGrid(
            start: Date(timeIntervalSince1970: (t / planStep.seconds).rounded(.down) * planStep.seconds),
            horizon: horizon,
            step: planStep
        )
        let powerSignals = try store.latestPowerSignals()
        let budgets = LiveBudgets.make(fleet: fleet, grid: grid, signals: powerSignals, now: t)
        var load = [Double](repeating: 0, count: fleet.sites.count)
        var victims: [[(record: WorkloadRecord, attempt: AttemptRecord, watts: Double)]] = Array(
            repeating: [],
            count: fleet.sites.count
        )
        for (name, attempt) in open.sorted(by: { $0.key < $1.key }) {
            guard var record = records[name], let site = fleet.siteIndex(named: attempt.site) else { continue }
            let watts = power(of: attempt)
            if attempt.termAt != nil { continue }  // already stopping: its power is being given back
            if record.cancelRequested || record.held {
                signals.append((attempt, .stop))
                var a = attempt
                a.termAt = t
                change.attempts.append(a)
                open[name] = a
                transition(name, to: .pausing, record.cancelRequested ? "cancel requested" : "pause requested")
                record = records[name]!
                counters.pauses += 1
                continue
            }
            load[site] += watts
            if specs[name]?.preemptible ?? true { victims[site].append((record, attempt, watts)) }
        }
        for (s, site) in fleet.sites.enumerated() where load[s] > budgets[s].itLimit(at: 0) + 1e-6 {
            let limit = budgets[s].itLimit(at: 0)
            // Lowest priority first; among equals, the latest started (it has the least unsaved work).
            let ordered = victims[s].sorted { a, b in
                let pa = specs[a.record.name]?.priority ?? 0
                let pb = specs[b.record.name]?.priority ?? 0
                return pa != pb ? pa < pb : a.attempt.startedAt > b.attempt.startedAt
            }
            for victim in ordered where load[s] > limit + 1e-6 {
                signals.append((victim.attempt, .stop))
                var a = victim.attempt
                a.termAt = t
                change.attempts.append(a)
                open[victim.record.name] = a
                load[s] -= victim.watts
                let reason =
                    "power at \(site.name): \(Power.watts(limit)) for IT, \(Power.watts(load[s] + victim.watts)) running"
                transition(victim.record.name, to: .pausing, reason)
                counters.pauses += 1
                change.ledger.append(
                    (
                        "workload.pausing",
                        [
                            "workload": .string(victim.record.name), "site": .string(site.name),
                            "attempt": .number(Double(a.number)), "reason": .string(reason),
                        ]
                    )
                )
            }
        }

        // 3. Cancel what has no process; plan and start what waits.
        var waiting: [WorkloadRecord] = []
        for (name, record) in records.sorted(by: {
            $0.value.submittedAt < $1.value.submittedAt
                || ($0.value.submittedAt == $1.value.submittedAt && $0.key < $1.key)
        })
        where !record.state.isTerminal && open[name] == nil {
            if record.cancelRequested {
                transition(name, to: .cancelled, "cancelled before it ran again")
                change.ledger.append(("workload.cancelled", ["workload": .string(name)]))
                continue
            }
            guard let spec = specs[name] else {
                transition(name, to: .failed, "its stored document no longer validates against the fleet")
                continue
            }
            // Federated rounds are driven by the federation coordinator, not started as processes.
            if Self.isCoordinated(spec) { continue }
            if record.held || (record.retryAt ?? 0) > t { continue }
            waiting.append(record)
        }
        var views: [String: LivePlan.WorkloadView] = [:]
        var launches: [(AttemptRecord, Workload.Run)] = []
        if !waiting.isEmpty {
            // Work that runs keeps its accelerators and power for the whole horizon.
            var occupied: [Occupation] = []
            for attempt in open.values {
                guard let site = fleet.siteIndex(named: attempt.site) else { continue }
                for step in 0..<grid.count {
                    occupied.append(
                        Occupation(step: step, site: site, pool: attempt.pool, accelerators: attempt.accelerators)
                    )
                }
            }
            var planned: [Workload] = []
            var origins: [Int: Int] = [:]
            for record in waiting {
                guard let spec = specs[record.name] else { continue }
                if let holder = record.checkpointSite, let s = fleet.siteIndex(named: holder) {
                    origins[planned.count] = s
                }
                planned.append(remainingWork(spec, record: record, at: grid.time(at: 0)))
            }
            let planningFleet = fleet.replacingWorkloads(planned)
            let plan = Planner(policy: Self.planningPolicy).plan(
                planningFleet,
                grid: grid,
                budgets: budgets,
                occupied: occupied,
                origins: origins
            )
            for (record, wp) in zip(waiting, plan.workloads) {
                let first = wp.segments.first
                views[record.name] = LivePlan.WorkloadView(
                    name: record.name,
                    state: record.state.rawValue,
                    site: first?.site,
                    pool: first?.pool,
                    accelerators: first?.accelerators,
                    startsAt: first.map { LedgerEntry.formatTime(grid.time(at: $0.start)) },
                    status: wp.status.rawValue,
                    explanation: wp.explanation
                )
                guard let segment = first, segment.start == 0, let spec = specs[record.name], let run = spec.run else {
                    let why =
                        wp.explanation
                        ?? (first.map { "waits: the plan starts it at \(grid.label(at: $0.start))" } ?? "waits")
                    if records[record.name]?.detail != why, var r = records[record.name] {
                        r.detail = why
                        r.updatedAt = t
                        records[record.name] = r
                    }
                    continue
                }
                try start(
                    record.name,
                    spec: spec,
                    run: run,
                    segment: segment,
                    checkpointBytes: checkpoints[record.name] ?? 0,
                    records: &records,
                    change: &change,
                    pending: &launches,
                    now: t
                )
            }
        }

        for record in records.values where record != stored[record.name] {
            change.workloads.append(record)
        }
        let committed = try store.commit(change, at: now)
        for entry in committed.entries { tree.append(entry.leafHash) }
        for (attempt, signal) in signals { await executor.signal(attempt, signal) }
        try await launch(launches, ids: committed.attemptIDs, now: t)
        try signCheckpoint()

        // The view of what runs where, for the API.
        var inUse = [[String: Int]](repeating: [:], count: fleet.sites.count)
        var running = [Double](repeating: 0, count: fleet.sites.count)
        for attempt in try store.openAttempts() {
            guard let s = fleet.siteIndex(named: attempt.site) else { continue }
            inUse[s][attempt.pool, default: 0] += attempt.accelerators
            running[s] += power(of: attempt)
        }
        for record in try store.activeWorkloads() where views[record.name] == nil {
            views[record.name] = LivePlan.WorkloadView(
                name: record.name,
                state: record.state.rawValue,
                site: record.site,
                pool: record.pool,
                accelerators: record.accelerators,
                startsAt: nil,
                status: nil,
                explanation: record.detail
            )
        }
        lastPlan = LivePlan(
            at: LedgerEntry.formatTime(now),
            stepSeconds: planStep.seconds,
            horizonSeconds: horizon.seconds,
            sites: fleet.sites.enumerated().map { s, site in
                LivePlan.SiteView(
                    name: site.name,
                    country: site.jurisdiction,
                    supplyWatts: budgets[s].supply[0],
                    itLimitWatts: budgets[s].itLimit(at: 0),
                    runningWatts: running[s],
                    acceleratorsInUse: inUse[s],
                    signalled: powerSignals[site.name] != nil
                )
            },
            workloads: views.values.sorted { $0.name < $1.name }
        )
        if publishesSnapshots {
            var workloads = Dictionary(fleet.workloads.map { ($0.name, $0) }) { first, _ in first }
            workloads.merge(specs) { _, managed in managed }
            let snapshot = ExtenderSnapshot(
                fleet: fleet,
                workloads: workloads,
                policy: Self.planningPolicy,
                grid: grid,
                budgets: budgets,
                running: running
            )
            lastSnapshot = snapshot
            for observer in planObservers { observer(snapshot) }
        }
    }

    /// Starts (or resumes, or migrates) a workload where the plan puts it now. The attempt is written
    /// before the process starts, so a crash in between leaves a record the next reconcile resolves.
    func start(
        _ name: String,
        spec: Workload,
        run: Workload.Run,
        segment: Segment,
        checkpointBytes: Int64,
        records: inout [String: WorkloadRecord],
        change: inout StateChange,
        pending: inout [(AttemptRecord, Workload.Run)],
        now t: Double
    ) throws {
        func transition(_ name: String, _ state: WorkloadState, _ reason: String) {
            Self.move(name, to: state, reason, at: t, records: &records, change: &change)
        }
        guard var record = records[name] else { return }
        let previous = try store.attempts(of: name)
        let number = (previous.last?.number ?? 0) + 1
        let resume = checkpointBytes > 0 || record.checkpointSite != nil
        let attempt = AttemptRecord(
            workload: name,
            number: number,
            site: segment.site,
            pool: segment.pool,
            accelerators: segment.accelerators,
            resume: resume,
            startedAt: t,
            logPath: executor.logPath(workload: name, attempt: number)
        )
        let placement: [String: JSONValue] = [
            "workload": .string(name), "site": .string(segment.site), "pool": .string(segment.pool),
            "accelerators": .number(Double(segment.accelerators)), "attempt": .number(Double(number)),
        ]
        if resume {
            if let from = record.checkpointSite, from != segment.site {
                var fields = placement
                fields["from"] = .string(from)
                fields["to"] = .string(segment.site)
                fields["checkpointBytes"] = .number(Double(checkpointBytes))
                change.ledger.append(("workload.migrated", fields))
            }
            var fields = placement
            fields["checkpointBytes"] = .number(Double(checkpointBytes))
            change.ledger.append(("workload.resumed", fields))
            transition(name, .resuming, "resuming at \(segment.site) from its checkpoint (attempt \(number))")
        } else {
            var fields = placement
            fields["reasons"] = .string(placementReason(spec, segment: segment))
            change.ledger.append(("workload.placed", fields))
            transition(name, .placed, "placed at \(segment.site)/\(segment.pool) × \(segment.accelerators)")
            change.ledger.append(("workload.started", placement))
            transition(name, .running, "started at \(segment.site) (attempt \(number))")
        }
        for dataset in spec.datasets {
            change.ledger.append(
                (
                    "dataset.accessed",
                    [
                        "dataset": .string(dataset), "workload": .string(name), "site": .string(segment.site),
                        "jurisdiction": .string(fleet.site(named: segment.site)?.jurisdiction ?? ""),
                    ]
                )
            )
        }
        record = records[name]!
        record.site = segment.site
        record.pool = segment.pool
        record.accelerators = segment.accelerators
        record.retryAt = nil
        records[name] = record
        // The intent is committed (with everything else this pass decided) before the process exists.
        change.newAttempts.append(attempt)
        pending.append((attempt, run))
    }

    /// Starts the processes of attempts whose intent is committed, and records their process ids.
    func launch(_ attempts: [(AttemptRecord, Workload.Run)], ids: [Int64], now t: Double) async throws {
        var change = StateChange()
        for ((attempt, run), id) in zip(attempts, ids) {
            var attempt = attempt
            attempt.id = id
            do {
                attempt.handle = try await executor.start(attempt, run: run)
                counters.starts += 1
                change.attempts.append(attempt)
            } catch {
                let bytes = await executor.checkpointBytes(of: [attempt.workload])[attempt.workload] ?? 0
                guard var record = try store.workload(named: attempt.workload) else { continue }
                attempt.endedAt = t
                var status = ExitStatus()
                status.refused = "\(error)"
                finish(
                    &attempt,
                    status: status,
                    record: &record,
                    run: run,
                    checkpointBytes: bytes,
                    now: t,
                    change: &change
                )
                change.workloads.append(record)
            }
        }
        try commit(change)
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
            change.transitions.append(TransitionRecord(workload: name, at: t, from: r.state, to: state, reason: reason))
        }
        r.state = state
        r.detail = reason
        r.updatedAt = t
        records[name] = r
    }

    /// Settles an attempt that has ended: completed, paused, cancelled, or failed (retried with backoff).
    func finish(
        _ attempt: inout AttemptRecord,
        status: ExitStatus,
        record: inout WorkloadRecord,
        run: Workload.Run?,
        checkpointBytes bytes: Int64,
        now t: Double,
        change: inout StateChange,
        gone: Bool = false
    ) {
        let ran = attempt.handle == nil ? 0 : max(0, (attempt.endedAt ?? t) - attempt.startedAt)
        record.runSeconds += ran
        let from = record.state
        func to(_ state: WorkloadState, _ reason: String) {
            change.transitions.append(
                TransitionRecord(workload: record.name, at: t, from: from, to: state, reason: reason)
            )
            record.state = state
            record.detail = reason
            record.updatedAt = t
        }
        let how =
            status.refused.map { "did not run: \($0)" } ?? status.exit.map { "exited with status \($0)" }
            ?? status.signal.map { "ended by signal \($0)" } ?? "vanished without a status"
        var fields: [String: JSONValue] = [
            "workload": .string(record.name), "attempt": .number(Double(attempt.number)),
            "site": .string(attempt.site), "ranSeconds": .number((ran * 1000).rounded() / 1000),
        ]
        if let e = status.exit { fields["exitStatus"] = .number(Double(e)) }
        if let s = status.signal { fields["signal"] = .number(Double(s)) }
        if gone && attempt.handle == nil && attempt.killAt == nil {
            // Its intent was committed but the server stopped before starting it: nothing ran. The ledger
            // already holds the start (and the datasets' access) the intent recorded, so it is closed here.
            attempt.outcome = "not-started"
            to(record.checkpointSite == nil ? .pending : .paused, "its start was interrupted; it will be started again")
            fields["reason"] = .string("the server stopped between recording the start and starting the process")
            change.ledger.append(("workload.attempt-not-started", fields))
        } else if status.completed {
            attempt.outcome = "completed"
            to(.completed, "completed: \(how)")
            change.ledger.append(("workload.completed", fields))
        } else if attempt.termAt != nil && status.refused == nil {
            fields["checkpointBytes"] = .number(Double(bytes))
            fields["checkpointStale"] = .bool(attempt.killAt != nil)
            record.checkpointSite = bytes > 0 ? attempt.site : record.checkpointSite
            if record.cancelRequested {
                attempt.outcome = "cancelled"
                to(.cancelled, "cancelled: \(how)")
                change.ledger.append(("workload.cancelled", fields))
            } else {
                attempt.outcome = attempt.killAt != nil ? "killed" : "paused"
                attempt.checkpointStale = attempt.killAt != nil
                let note = attempt.killAt != nil ? " after SIGKILL (its checkpoint may be stale)" : ""
                to(.paused, "paused at \(attempt.site): \(how)\(note)")
                change.ledger.append(("workload.paused", fields))
            }
        } else {
            attempt.outcome = gone ? "lost" : "failed"
            record.failures += 1
            let limit = run?.maxAttempts ?? Workload.Run.defaultMaxAttempts
            fields["reason"] = .string(how)
            fields["failures"] = .number(Double(record.failures))
            if bytes > 0 { record.checkpointSite = attempt.site }
            if record.failures >= limit {
                to(.failed, "failed \(record.failures) times (limit \(limit)); last: \(how)")
                change.ledger.append(("workload.failed", fields))
            } else {
                let backoff = min(300, 2 * pow(2, Double(record.failures - 1)))
                record.retryAt = t + backoff
                fields["retryInSeconds"] = .number(backoff)
                to(.pending, "attempt \(attempt.number) \(how); retrying in \(Int(backoff)) s")
                change.ledger.append(("workload.attempt-failed", fields))
            }
        }
        change.attempts.append(attempt)
    }

    /// IT power of a running attempt, W.
    func power(of attempt: AttemptRecord) -> Double {
        guard let site = fleet.site(named: attempt.site),
            let pool = site.pools.first(where: { $0.name == attempt.pool }),
            let model = fleet.catalog[pool.accelerator]
        else { return 0 }
        return PhysicalModel.runningPower(model: model, count: attempt.accelerators)
    }

    /// The workload with only the work the server believes is left (never none: the process says when
    /// it is done), arriving at the planning grid's first step at the earliest (so that it may start now).
    func remainingWork(_ w: Workload, record: WorkloadRecord, at now: Date) -> Workload {
        let arrival = max(now, w.arrival ?? now)
        guard let required = PhysicalModel.requiredFLOPs(w, catalog: fleet.catalog) else { return w }
        var done = 0.0
        if let site = record.site.flatMap({ fleet.site(named: $0) }),
            let pool = site.pools.first(where: { $0.name == record.pool }),
            let model = fleet.catalog[pool.accelerator]
        {
            done = record.runSeconds * PhysicalModel.throughput(w, model: model, count: record.accelerators ?? 1)
        }
        return w.remaining(flops: max(required - done, required * 0.01), arrival: arrival)
    }

    func placementReason(_ w: Workload, segment: Segment) -> String {
        let site = fleet.site(named: segment.site)
        var parts = ["policy power-aware", "site \(segment.site) in \(site?.jurisdiction ?? "?")"]
        let residency = w.datasets.compactMap { fleet.dataset(named: $0) }.map {
            "\($0.name) may be processed in \($0.residencyCountries.sorted().joined(separator: ","))"
        }
        parts += residency
        return parts.joined(separator: "; ")
    }
}
