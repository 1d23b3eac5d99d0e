import Foundation
import SovereignLedger
import SovereignModel
import SovereignPlanner

/// An open attempt with what its executor sees of it now.
struct ObservedAttempt: Sendable {
    /// The attempt as stored.
    var attempt: AttemptRecord
    /// What the executor sees of it.
    var observation: AttemptObservation
}

/// Everything one control-loop pass decides from, read before it starts. A value: the pass is a function
/// of it, with no store, no clock and no executor to consult.
struct ReconcileSnapshot: Sendable {
    /// When the pass runs.
    var now: Date
    /// The fleet from the spec files.
    var fleet: Fleet
    /// Decoded specs of the managed workloads, by name.
    var specs: [String: Workload]
    /// Workloads that have not ended, as stored.
    var workloads: [WorkloadRecord]
    /// Attempts whose end has not been seen, with what the executor sees of each, in the store's order.
    var attempts: [ObservedAttempt]
    /// Attempts closed as lost with their site whose agent now reports that they completed.
    var lateCompletions: [ObservedAttempt] = []
    /// Bytes of each active workload's latest checkpoint.
    var checkpoints: [String: Int64]
    /// The number of each workload's latest attempt.
    var lastAttempts: [String: Int]
    /// The latest power signal of each site that sent one.
    var powerSignals: [String: PowerSignalRecord]
    /// Stopping attempts whose stop this server has sent again since it started.
    var resignalled: Set<Int64>
    /// The planning grid's step and horizon.
    var planStep: TimeSpan
    var horizon: TimeSpan
    /// Where the executor puts an attempt's output: `(workload, attempt number, site) -> path`.
    var logPath: @Sendable (String, Int, String) -> String
    /// Sites whose work runs through site agents (their checkpoints are on their own machines).
    var agentSites: Set<String> = []
    /// Sites whose agents have been silent past twice their lease, with the time each was last heard from:
    /// planned as having no power.
    var darkSites: [String: Double] = [:]
    /// When each agent-run site's agent last reported, seconds since 1970.
    var agentReports: [String: Double] = [:]
    /// The control plane's jurisdiction, which checkpoints relayed between agents pass through.
    var relayJurisdiction: String?
    /// The sites whose agents listen for peers, so a checkpoint may travel from them directly.
    var peerSites: Set<String> = []
    /// Accelerators held by work the control plane did not start (pods Kubernetes bound).
    var held: [HeldAccelerators] = []
    /// The ledger entry of each derived dataset's latest recorded anonymisation run; a derived dataset absent
    /// here has not been made, and work that reads it waits.
    var derivations: [String: Int] = [:]

    /// The derived datasets of the fleet that no recorded run has made yet.
    var awaitedDerivations: Set<String> {
        Set(fleet.datasets.filter { $0.derivedFrom != nil && derivations[$0.name] == nil }.map(\.name))
    }

    /// Seconds since 1970 of ``now``.
    var time: Double { now.timeIntervalSince1970 }

    /// The planning grid of a pass at ``now``: steps aligned to ``planStep``, step 0 holding now.
    var grid: TimeGrid {
        TimeGrid(
            start: Date(
                timeIntervalSince1970: (time / planStep.seconds).rounded(.down) * planStep.seconds
            ),
            horizon: horizon,
            step: planStep
        )
    }
}

/// Something a pass asks an executor to do once its change is committed.
enum ControlAction: Sendable {
    /// Send a signal to an open attempt.
    case signal(AttemptRecord, AttemptSignal)
    /// Start an attempt whose intent the change records (its id comes from the commit).
    case start(AttemptRecord, Workload.Run)
}

/// What one pass decided: the change to commit, the actions to perform after it (signals before starts),
/// and the plan it made.
struct ReconcileResult: Sendable {
    /// Records, history and ledger entries, committed at once.
    var change = StateChange()
    /// What the executor is asked to do, in order, once the change is committed.
    var actions: [ControlAction] = []
    /// The plan's view of each workload it planned, by name.
    var views: [String: LivePlan.WorkloadView] = [:]
    /// The grid and the site budgets the pass planned on.
    var grid: TimeGrid
    var budgets: [SiteBudget]
    /// Stopping attempts whose stop has been sent again, this pass's included.
    var resignalled: Set<Int64>
    /// Attempts this pass kills, and pauses it asks for.
    var kills = 0
    var pauses = 0
}

/// One pass of the control loop as a pure function, like a Kubernetes controller's reconcile: it
/// **observes** every open attempt (settling those that ended, killing those whose grace ran out), **sheds**
/// (stops what operators hold or cancel, and the least important work where a site's power no longer
/// carries what runs), and **places** what waits where the planner says it may start now.
///
/// The actor reads the ``ReconcileSnapshot``, commits ``ReconcileResult/change`` and then performs
/// ``ReconcileResult/actions``, so a crash never loses why something started or stopped.
struct Reconcile {
    let snapshot: ReconcileSnapshot
    let policy: PlanningPolicy
    /// The workloads as this pass leaves them, by name.
    var records: [String: WorkloadRecord]
    /// Attempts that keep running after the observation, by workload.
    var open: [String: AttemptRecord] = [:]
    var result: ReconcileResult

    /// Runs a pass over `snapshot`, planning with `policy`.
    ///
    /// - Complexity: O(A + W × (P + S × C)) for A open attempts and the planner's cost on the W waiting
    ///   workloads (see ``Planner``).
    static func run(_ snapshot: ReconcileSnapshot, policy: PlanningPolicy) -> ReconcileResult {
        var pass = Reconcile(snapshot: snapshot, policy: policy)
        pass.observe()
        pass.shed()
        pass.place()
        let stored = Dictionary(uniqueKeysWithValues: snapshot.workloads.map { ($0.name, $0) })
        for (name, record) in pass.records.sorted(by: { $0.key < $1.key }) where record != stored[name] {
            pass.result.change.workloads.append(record)
        }
        return pass.result
    }

    init(snapshot: ReconcileSnapshot, policy: PlanningPolicy) {
        self.snapshot = snapshot
        self.policy = policy
        records = Dictionary(uniqueKeysWithValues: snapshot.workloads.map { ($0.name, $0) })
        let grid = snapshot.grid
        result = ReconcileResult(
            grid: grid,
            budgets: LiveBudgets.make(
                fleet: snapshot.fleet,
                grid: grid,
                signals: snapshot.powerSignals,
                now: snapshot.time,
                dark: Set(snapshot.darkSites.keys)
            ),
            resignalled: snapshot.resignalled
        )
    }

    var fleet: Fleet { snapshot.fleet }
    var t: Double { snapshot.time }

    /// Moves a workload to a state, with a history line when the state changes.
    mutating func transition(_ name: String, to state: WorkloadState, _ reason: String) {
        ControlPlane.move(name, to: state, reason, at: t, records: &records, change: &result.change)
    }

    /// Records `event` in the ledger with the pass's change.
    mutating func ledger(_ event: LedgerEvent) {
        result.change.ledger.append(event)
    }

    /// IT power of a running attempt in `fleet`, W.
    static func power(of attempt: AttemptRecord, in fleet: Fleet) -> Double {
        guard let site = fleet.site(named: attempt.site),
            let pool = site.pools.first(where: { $0.name == attempt.pool }),
            let model = fleet.catalog[pool.accelerator]
        else { return 0 }
        return PhysicalModel.runningPower(model: model, count: attempt.accelerators)
    }
}

// MARK: Observe

extension Reconcile {
    /// Settles every attempt that ended; kills those whose grace period ran out; keeps the rest open.
    mutating func observe() {
        let completedLate = settleLateCompletions()
        for observed in snapshot.attempts {
            var attempt = observed.attempt
            // Its workload has ended (a late completion completed it, in this pass or an earlier one, while this
            // attempt ran it again).
            guard records[attempt.workload] != nil, !completedLate.contains(attempt.workload) else {
                settleOrphan(attempt, observed.observation)
                continue
            }
            switch observed.observation {
            case .running:
                keepRunning(attempt)
            case .ended(let status):
                if attempt.termAt == nil, let stopped = status.stoppedAt { attempt.termAt = min(t, stopped) }
                attempt.endedAt = min(t, status.at ?? t)
                attempt.exitStatus = status.exit
                attempt.exitSignal = status.signal
                settle(attempt, status: status, gone: false)
            case .gone:
                attempt.endedAt = t
                settle(
                    attempt,
                    status: ExitStatus(signal: attempt.killAt != nil ? 9 : nil, refused: nil),
                    gone: true,
                    darkSince: snapshot.darkSites[attempt.site]
                )
            }
        }
    }

    /// An attempt that runs: it has resumed, or it is past its grace period and is killed, or its stop is
    /// sent again once (an earlier server may have crashed between recording the stop and sending it).
    mutating func keepRunning(_ observed: AttemptRecord) {
        var attempt = observed
        let name = attempt.workload
        if records[name]?.state == .resuming {
            transition(name, to: .running, "resumed from its checkpoint at \(attempt.site)")
        }
        let grace = snapshot.specs[name]?.run?.gracePeriod ?? Workload.Run.defaultGracePeriod
        if let term = attempt.termAt, attempt.killAt == nil, t - term >= grace.seconds {
            result.actions.append(.signal(attempt, .kill))
            attempt.killAt = t
            attempt.checkpointStale = true
            result.change.attempts.append(attempt)
            result.kills += 1
            ledger(.killed(workload: name, attempt: attempt.number))
        }
        if attempt.termAt != nil, attempt.killAt == nil, let id = attempt.id,
            !result.resignalled.contains(id)
        {
            // A workload treats a second stop as the first.
            result.resignalled.insert(id)
            result.actions.append(.signal(attempt, .stop))
        }
        open[name] = attempt
    }

    /// Settles an attempt that ended, with its workload's checkpoint as the executor sees it now.
    mutating func settle(_ ended: AttemptRecord, status: ExitStatus, gone: Bool, darkSince: Double? = nil) {
        guard var record = records[ended.workload] else { return }
        var attempt = ended
        AttemptSettlement(
            status: status,
            run: snapshot.specs[ended.workload]?.run,
            checkpointBytes: snapshot.checkpoints[ended.workload] ?? 0,
            now: t,
            gone: gone,
            darkSince: darkSince,
            replica: liveReplica(record)
        ).apply(to: &attempt, record: &record, change: &result.change)
        records[record.name] = record
    }

    /// The workload's copy of its checkpoint at another site, when that site's agent still reports.
    func liveReplica(_ record: WorkloadRecord) -> (site: String, at: Double)? {
        guard let site = record.replicaSite, let at = record.replicaAt, snapshot.darkSites[site] == nil else {
            return nil
        }
        return (site, at)
    }
}

// MARK: Shed

extension Reconcile {
    /// An attempt that may be paused to bring a site back under its power.
    struct Victim {
        var record: WorkloadRecord
        var attempt: AttemptRecord
        var watts: Double
    }

    /// Stops what operators hold or cancel, then at every site whose IT limit is below what runs, the least
    /// important preemptible work until the rest fits.
    mutating func shed() {
        // What the control plane did not start draws first: it cannot be paused, so only Sovereign's own
        // work is shed to make room for it.
        var load = [Double](repeating: 0, count: fleet.sites.count)
        for hold in snapshot.held where load.indices.contains(hold.site) { load[hold.site] += hold.watts(in: fleet) }
        var victims = [[Victim]](repeating: [], count: fleet.sites.count)
        for (name, attempt) in open.sorted(by: { $0.key < $1.key }) {
            guard let record = records[name], let site = fleet.siteIndex(named: attempt.site) else {
                continue
            }
            if attempt.termAt != nil { continue }  // already stopping: its power is being given back
            if record.cancelRequested || record.held {
                stop(attempt, reason: record.cancelRequested ? "cancel requested" : "pause requested")
                continue
            }
            let watts = Self.power(of: attempt, in: fleet)
            load[site] += watts
            if snapshot.specs[name]?.preemptible ?? true {
                victims[site].append(Victim(record: record, attempt: attempt, watts: watts))
            }
        }
        for s in fleet.sites.indices where load[s] > result.budgets[s].itLimit(at: 0) + 1e-6 {
            shed(site: s, load: load[s], victims: victims[s])
        }
    }

    /// Asks an attempt to checkpoint and stop.
    mutating func stop(_ running: AttemptRecord, reason: String) {
        result.actions.append(.signal(running, .stop))
        var attempt = running
        attempt.termAt = t
        result.change.attempts.append(attempt)
        open[attempt.workload] = attempt
        transition(attempt.workload, to: .pausing, reason)
        result.pauses += 1
    }

    /// Pauses work at site `s`, lowest priority first and among equals the latest started (it has the least
    /// unsaved work), until what runs fits the site's IT limit.
    mutating func shed(site s: Int, load: Double, victims: [Victim]) {
        let site = fleet.sites[s]
        let limit = result.budgets[s].itLimit(at: 0)
        let ordered = victims.sorted { a, b in
            let pa = snapshot.specs[a.record.name]?.priority ?? 0
            let pb = snapshot.specs[b.record.name]?.priority ?? 0
            return pa != pb ? pa < pb : a.attempt.startedAt > b.attempt.startedAt
        }
        var load = load
        for victim in ordered where load > limit + 1e-6 {
            load -= victim.watts
            let reason =
                "power at \(site.name): \(Power.watts(limit)) for IT, \(Power.watts(load + victim.watts)) running"
            stop(victim.attempt, reason: reason)
            ledger(
                .pausing(workload: victim.record.name, site: site.name, attempt: victim.attempt.number, reason: reason)
            )
        }
    }
}
