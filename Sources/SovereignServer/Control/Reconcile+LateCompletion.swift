import Foundation
import SovereignLedger

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
    mutating func settleLate(_ lost: AttemptRecord, status: ExitStatus, counted: Bool, rerun: AttemptRecord?) {
        var attempt = lost
        let lostAt = attempt.endedAt ?? t
        let end = min(lostAt, status.at ?? lostAt)
        attempt.endedAt = end
        attempt.exitStatus = status.exit
        attempt.exitSignal = status.signal
        attempt.outcome = counted ? "completed" : "completed-late"
        result.change.attempts.append(attempt)
        let lostTime = LedgerEntry.formatTime(Date(timeIntervalSince1970: lostAt))
        ledger(
            .completedLate(
                LedgerEvent.EndedAttempt(
                    workload: attempt.workload,
                    attempt: attempt.number,
                    site: attempt.site,
                    ranSeconds: max(0, end - attempt.startedAt),
                    exitStatus: status.exit,
                    signal: status.signal
                ),
                LedgerEvent.LateCompletion(lostAt: lostTime, superseded: rerun?.number, counted: counted)
            )
        )
        guard counted, var record = records[attempt.workload] else { return }
        // The lost attempt's run was counted up to when it was taken as lost.
        record.runSeconds = max(0, record.runSeconds - (lostAt - end))
        records[attempt.workload] = record
        let superseded = rerun.map { "; attempt \($0.number) at \($0.site), which ran it again, is cancelled" } ?? ""
        transition(
            attempt.workload,
            to: .completed,
            "completed at \(attempt.site) by attempt \(attempt.number), reported late (taken as lost with its site "
                + "at \(lostTime))\(superseded)"
        )
    }

    /// Cancels the open attempt of a workload a late completion completed: its work is done. It is killed
    /// (nothing of it is worth a checkpoint) and closed now, so its accelerators are free; a site agent
    /// stops an attempt its answers no longer list.
    mutating func supersede(_ open: AttemptRecord, _ observation: AttemptObservation) {
        var attempt = open
        attempt.outcome = "superseded"
        attempt.endedAt = t
        attempt.termAt = attempt.termAt ?? t
        if case .ended(let status) = observation {
            attempt.endedAt = min(t, status.at ?? t)
            attempt.exitStatus = status.exit
            attempt.exitSignal = status.signal
        } else {
            attempt.killAt = attempt.killAt ?? t
            result.actions.append(.signal(open, .kill))
        }
        result.change.attempts.append(attempt)
    }
}
