import Foundation
import SovereignLedger
import SovereignModel

// MARK: Completions reported late

extension Reconcile {
    /// Settles the completions that agents reported after their attempts were taken as lost with their site.
    ///
    /// The work completed at the dark site before its lease ran out (the agent's supervisor stops its work by
    /// 1.75 leases, and the control plane reassigns it only after two), so it completed before any rerun
    /// started: the workload is completed by that attempt, and a rerun still open is cancelled as superseded.
    /// A workload that had already ended (a rerun completed it first) keeps its end: the late report is
    /// recorded, not counted again.
    ///
    /// - Returns: the workloads a late completion completed in this pass.
    mutating func settleLateCompletions() -> Set<String> {
        var completed: Set<String> = []
        for late in snapshot.lateCompletions {
            guard case .ended(let status) = late.observation else { continue }
            let name = late.attempt.workload
            let counted = records[name].map { !$0.state.isTerminal } ?? false
            let rerun = counted ? snapshot.attempts.first { $0.attempt.workload == name }?.attempt : nil
            settleLate(late.attempt, status: status, counted: counted, rerun: rerun)
            if counted { completed.insert(name) }
        }
        return completed
    }

    /// Records `lost`'s completion (ended when its agent says, not when the control plane gave up on it) and,
    /// when it is `counted`, completes its workload.
    ///
    /// The agent's time is bounded by the attempt's start and now. An end after `rerun` started means the work
    /// ran twice at once (its supervisor did not stop it within its lease): it still completed the workload, and
    /// the history and the ledger say which attempt it overlapped rather than hiding it.
    mutating func settleLate(_ lost: AttemptRecord, status: ExitStatus, counted: Bool, rerun: AttemptRecord?) {
        var attempt = lost
        let lostAt = attempt.endedAt ?? t
        let end = max(attempt.startedAt, min(t, status.at ?? lostAt))
        let overlapped = rerun.flatMap { $0.startedAt < end ? $0 : nil }
        attempt.endedAt = end
        attempt.exitStatus = status.exit
        attempt.exitSignal = status.signal
        attempt.outcome = counted ? "completed" : "completed-late"
        result.change.attempts.append(attempt)
        // What taking it as lost counted of its run (nothing when it never had a handle) becomes what it ran.
        let counting = attempt.handle != nil
        let ran = counting ? end - attempt.startedAt : 0
        let lostTime = LedgerEntry.formatTime(Date(timeIntervalSince1970: lostAt))
        ledger(
            .completedLate(
                LedgerEvent.EndedAttempt(
                    workload: attempt.workload,
                    attempt: attempt.number,
                    site: attempt.site,
                    ranSeconds: ran,
                    exitStatus: status.exit,
                    signal: status.signal
                ),
                LedgerEvent.LateCompletion(
                    lostAt: lostTime,
                    superseded: rerun?.number,
                    counted: counted,
                    overlapped: overlapped?.number
                )
            )
        )
        guard counted, var record = records[attempt.workload] else { return }
        if counting { record.runSeconds = max(0, record.runSeconds + ran - max(0, lostAt - attempt.startedAt)) }
        records[attempt.workload] = record
        transition(attempt.workload, to: .completed, Self.lateWords(attempt, lostAt: lostTime, rerun, overlapped))
    }

    /// The history's words for a late completion.
    static func lateWords(
        _ attempt: AttemptRecord,
        lostAt: String,
        _ rerun: AttemptRecord?,
        _ overlapped: AttemptRecord?
    ) -> String {
        let superseded = rerun.map { "; attempt \($0.number) at \($0.site), which ran it again, is cancelled" } ?? ""
        let overlap =
            overlapped.map {
                "; it ran past its lease, at once with attempt \($0.number) at \($0.site) (its supervisor did not stop it)"
            } ?? ""
        return "completed at \(attempt.site) by attempt \(attempt.number), reported late (taken as lost with its site "
            + "at \(lostAt))\(superseded)\(overlap)"
    }

    /// An open attempt of a workload that has ended (a late completion completed it, in this pass or before):
    /// its work is done, so it is killed (nothing of it is worth a checkpoint) and closed as superseded once
    /// it is seen to end. While it runs it stays open and keeps its accelerators, so a kill that is lost (a
    /// crash before it is sent) never lets other work onto accelerators it still uses; the kill is sent again
    /// once it has had a grace period to take effect.
    mutating func settleOrphan(_ orphan: AttemptRecord, _ observation: AttemptObservation) {
        var attempt = orphan
        switch observation {
        case .running:
            if let kill = attempt.killAt, t - kill >= Workload.Run.defaultGracePeriod.seconds {
                attempt.killAt = t
                result.actions.append(.signal(orphan, .kill))
                result.change.attempts.append(attempt)
            } else if attempt.killAt == nil {
                attempt.termAt = attempt.termAt ?? t
                attempt.killAt = t
                result.actions.append(.signal(orphan, .kill))
                result.change.attempts.append(attempt)
            }
            open[attempt.workload] = attempt
        case .ended(let status):
            attempt.outcome = "superseded"
            attempt.endedAt = min(t, max(attempt.startedAt, status.at ?? t))
            attempt.exitStatus = status.exit
            attempt.exitSignal = status.signal
            result.change.attempts.append(attempt)
        case .gone:
            attempt.outcome = "superseded"
            attempt.endedAt = t
            result.change.attempts.append(attempt)
        }
    }
}
