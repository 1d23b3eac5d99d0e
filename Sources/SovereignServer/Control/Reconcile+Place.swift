import Foundation
import SovereignLedger
import SovereignModel
import SovereignPlanner

// MARK: Place

extension Reconcile {
    /// Cancels what has no attempt left, plans what waits, and starts what the plan starts now.
    mutating func place() {
        let waiting = waitingWorkloads()
        guard !waiting.isEmpty else { return }
        let plan = planWaiting(waiting)
        for (record, planned) in zip(waiting, plan.workloads) { place(record, as: planned) }
    }

    /// Workloads with no open attempt that may start now, in submission order; a cancelled one ends here.
    mutating func waitingWorkloads() -> [WorkloadRecord] {
        var waiting: [WorkloadRecord] = []
        let ordered = records.sorted {
            $0.value.submittedAt < $1.value.submittedAt
                || ($0.value.submittedAt == $1.value.submittedAt && $0.key < $1.key)
        }
        for (name, record) in ordered where !record.state.isTerminal && open[name] == nil {
            if record.cancelRequested {
                transition(name, to: .cancelled, "cancelled before it ran again")
                ledger(.cancelled(.waiting(workload: name)))
                continue
            }
            guard let spec = snapshot.specs[name] else {
                transition(name, to: .failed, "its stored document no longer validates against the fleet")
                continue
            }
            // Federated rounds are driven by the federation coordinator, not started as processes.
            if ControlPlane.isCoordinated(spec) { continue }
            if record.held || (record.retryAt ?? 0) > t { continue }
            waiting.append(record)
        }
        return waiting
    }

    /// The planner's plan for the waiting workloads' remaining work, around what runs (which keeps its
    /// accelerators and power for the whole horizon).
    func planWaiting(_ waiting: [WorkloadRecord]) -> Plan {
        let grid = result.grid
        var occupied: [Occupation] = []
        for attempt in open.values {
            guard let site = fleet.siteIndex(named: attempt.site) else { continue }
            for step in 0..<grid.count {
                occupied.append(
                    Occupation(step: step, site: site, pool: attempt.pool, accelerators: attempt.accelerators)
                )
            }
        }
        // Accelerators held by work the control plane did not start stay held for the whole horizon.
        for hold in snapshot.held {
            for step in 0..<grid.count {
                occupied.append(
                    Occupation(step: step, site: hold.site, pool: hold.pool, accelerators: hold.accelerators)
                )
            }
        }
        var planned: [Workload] = []
        var origins: [Int: Int] = [:]
        for record in waiting {
            guard let spec = snapshot.specs[record.name] else { continue }
            if let holder = record.checkpointSite, let s = fleet.siteIndex(named: holder) {
                origins[planned.count] = s
            }
            planned.append(remainingWork(spec, record: record, at: grid.time(at: 0)))
        }
        return Planner(policy: policy).plan(
            fleet.replacingWorkloads(planned),
            grid: grid,
            budgets: result.budgets,
            occupied: occupied,
            origins: origins,
            awaiting: snapshot.awaitedDerivations
        )
    }

    /// Starts a workload the plan starts now, else records why it waits.
    mutating func place(_ record: WorkloadRecord, as planned: WorkloadPlan) {
        let grid = result.grid
        let first = planned.segments.first
        result.views[record.name] = LivePlan.WorkloadView(
            name: record.name,
            state: record.state.rawValue,
            site: first?.site,
            pool: first?.pool,
            accelerators: first?.accelerators,
            startsAt: first.map { LedgerEntry.formatTime(grid.time(at: $0.start)) },
            endsAt: planned.segments.last.map { LedgerEntry.formatTime(grid.time(at: $0.end)) },
            status: planned.status.rawValue,
            explanation: planned.explanation
        )
        guard let segment = first, segment.start == 0, let spec = snapshot.specs[record.name],
            let run = spec.run
        else {
            let why =
                (planned.explanation
                    ?? (first.map { "waits: the plan starts it at \(grid.label(at: $0.start))" } ?? "waits"))
                + darkSitesNote
            if records[record.name]?.detail != why, var r = records[record.name] {
                r.detail = why
                r.updatedAt = t
                records[record.name] = r
            }
            return
        }
        start(record.name, spec: spec, run: run, segment: segment)
    }

    /// Starts (or resumes, or migrates) a workload where the plan puts it now. The attempt's intent is part
    /// of the change, committed before the executor is asked, so a crash in between leaves a record the next
    /// pass resolves.
    mutating func start(_ name: String, spec: Workload, run: Workload.Run, segment: Segment) {
        guard records[name] != nil else { return }
        let number = (snapshot.lastAttempts[name] ?? 0) + 1
        let checkpointBytes = snapshot.checkpoints[name] ?? 0
        let holder = records[name]?.checkpointSite
        let stays = holder.flatMap { checkpointStays(spec, from: $0, to: segment.site) }
        let reachable = stays == nil
        let resume = reachable && (checkpointBytes > 0 || holder != nil)
        let attempt = AttemptRecord(
            workload: name,
            number: number,
            site: segment.site,
            pool: segment.pool,
            accelerators: segment.accelerators,
            resume: resume,
            startedAt: t,
            logPath: snapshot.logPath(name, number, segment.site)
        )
        let leftBehind = holder.flatMap { site in stays.map { "its checkpoint stays at \(site): \($0)" } }
        recordStart(attempt, spec: spec, checkpointBytes: checkpointBytes, leftBehind: leftBehind)
        for dataset in spec.datasets {
            let access = LedgerEvent.DatasetAccess(
                dataset: dataset,
                workload: name,
                site: segment.site,
                jurisdiction: fleet.site(named: segment.site)?.jurisdiction ?? "",
                derivation: snapshot.derivations[dataset]
            )
            ledger(.datasetAccessed(access))
        }
        if var record = records[name] {
            if !reachable { record.runSeconds = 0 }
            record.site = segment.site
            record.pool = segment.pool
            record.accelerators = segment.accelerators
            record.retryAt = nil
            records[name] = record
        }
        result.change.newAttempts.append(attempt)
        result.actions.append(.start(attempt, run))
    }

    /// What a waiting workload's explanation adds while sites are dark: which, and since when.
    var darkSitesNote: String {
        guard !snapshot.darkSites.isEmpty else { return "" }
        let sites = snapshot.darkSites.sorted { $0.key < $1.key }.map {
            "\($0.key) since \(LedgerEntry.formatTime(Date(timeIntervalSince1970: $0.value)))"
        }
        return "; planned with no power, their site agents silent: \(sites.joined(separator: ", "))"
    }

    /// Why a checkpoint at site `from` cannot be resumed at site `to`, or `nil` when it can: at the same site,
    /// at two sites whose work runs on the server's own machine (they share its work directory), or at two
    /// agents' sites when residency lets the checkpoint travel (through the relay, or directly from a source
    /// agent that listens for peers) and its source's agent still reports (the destination's agent then
    /// fetches it before it starts).
    func checkpointStays(_ spec: Workload, from: String, to: String) -> String? {
        let agents = (snapshot.agentSites.contains(from), snapshot.agentSites.contains(to))
        if from == to || agents == (false, false) { return nil }
        guard agents == (true, true), let source = fleet.site(named: from), let destination = fleet.site(named: to)
        else { return "the server's own machine and a site agent's do not share checkpoints" }
        if snapshot.darkSites[from] != nil { return "its site agent is silent" }
        let decision = CheckpointResidency.move(
            spec,
            from: source,
            to: destination,
            relayJurisdiction: snapshot.relayJurisdiction,
            in: fleet
        )
        switch decision {
        case .failure(let refusal): return "residency keeps it there (\(refusal))"
        case .success(let move) where move.route == .direct && !snapshot.peerSites.contains(from):
            return "\(move.reason), and the agent at \(from) does not listen for peers (site-agent --peer-listen)"
        case .success: return nil
        }
    }

    /// The ledger entries and transitions of a start: a resume (after a migration when the checkpoint is
    /// elsewhere) or a first placement (from scratch when `leftBehind` says where the checkpoint stays and why
    /// cannot come from).
    mutating func recordStart(
        _ attempt: AttemptRecord,
        spec: Workload,
        checkpointBytes: Int64,
        leftBehind: String? = nil
    ) {
        let name = attempt.workload
        let placement = LedgerEvent.Placement(attempt)
        guard attempt.resume else {
            ledger(.placed(placement, reasons: placementReason(spec, site: attempt.site)))
            transition(
                name,
                to: .placed,
                "placed at \(attempt.site)/\(attempt.pool) × \(attempt.accelerators)"
            )
            ledger(.started(placement))
            let scratch = leftBehind.map { "; from scratch: \($0)" } ?? ""
            transition(name, to: .running, "started at \(attempt.site) (attempt \(attempt.number))\(scratch)")
            return
        }
        if let from = records[name]?.checkpointSite, from != attempt.site {
            ledger(.migrated(placement, checkpointBytes: checkpointBytes, from: from))
        }
        ledger(.resumed(placement, checkpointBytes: checkpointBytes))
        transition(
            name,
            to: .resuming,
            "resuming at \(attempt.site) from its checkpoint (attempt \(attempt.number))"
        )
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
            done =
                record.runSeconds
                * PhysicalModel.throughput(w, model: model, count: record.accelerators ?? 1)
        }
        return w.remaining(flops: max(required - done, required * 0.01), arrival: arrival)
    }

    func placementReason(_ w: Workload, site name: String) -> String {
        let site = fleet.site(named: name)
        var parts = ["policy power-aware", "site \(name) in \(site?.jurisdiction ?? "?")"]
        let residency = w.datasets.compactMap { fleet.dataset(named: $0) }.map { dataset in
            let made = snapshot.derivations[dataset.name].map { " (made by the run in ledger entry \($0))" } ?? ""
            return "\(dataset.name) may be processed in \(dataset.residencyCountries.sorted().joined(separator: ","))"
                + made
        }
        parts += residency
        return parts.joined(separator: "; ")
    }
}
