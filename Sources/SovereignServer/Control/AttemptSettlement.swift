import Foundation
import SovereignLedger
import SovereignModel

/// How an ended attempt is settled: completed, paused, cancelled, not started, or failed (and then retried
/// with backoff, or given up). A value with everything the decision needs, so the pass and the actor's
/// failed launches settle attempts the same way.
struct AttemptSettlement {
    /// How it ended.
    var status: ExitStatus
    /// The workload's `run:`, for its attempt limit.
    var run: Workload.Run?
    /// Bytes of the workload's checkpoint now.
    var checkpointBytes: Int64
    /// When the end was seen, seconds since 1970.
    var now: Double
    /// Whether nothing of it was found and nothing recorded how it ended.
    var gone: Bool
    /// When it is gone because its site went dark (its agent silent past twice its lease): the time the site
    /// was last heard from. Not the workload's failure: it is placed again, elsewhere if it must.
    var darkSince: Double? = nil
    /// A copy of the workload's checkpoint at a site that still reports, and when it arrived there: where a
    /// lost attempt's work resumes from.
    var replica: (site: String, at: Double)? = nil

    /// Settles `attempt` and its workload's `record`, appending the attempt, the history and the ledger
    /// entry to `change`.
    func apply(
        to attempt: inout AttemptRecord,
        record: inout WorkloadRecord,
        change: inout StateChange
    ) {
        let ran = attempt.handle == nil ? 0 : max(0, (attempt.endedAt ?? now) - attempt.startedAt)
        record.runSeconds += ran
        let ended = LedgerEvent.EndedAttempt(
            workload: record.name,
            attempt: attempt.number,
            site: attempt.site,
            ranSeconds: ran,
            exitStatus: status.exit,
            signal: status.signal
        )
        var outcome = Outcome(record: record, from: record.state, now: now, ended: ended)
        if gone, let darkSince {
            lostWithSite(&attempt, &outcome, since: darkSince)
        } else if gone && attempt.handle == nil && attempt.killAt == nil {
            notStarted(&attempt, &outcome)
        } else if status.completed {
            attempt.outcome = "completed"
            outcome.move(to: .completed, "completed: \(how)", ledger: .completed(outcome.ended))
        } else if attempt.termAt != nil && status.refused == nil {
            stopped(&attempt, &outcome)
        } else {
            failed(&attempt, &outcome)
        }
        record = outcome.record
        change.transitions += outcome.transitions
        change.ledger += outcome.ledger
        change.attempts.append(attempt)
    }

    /// How the attempt ended, in words.
    var how: String {
        let what =
            status.refused.map { "did not run: \($0)" } ?? status.exit.map { "exited with status \($0)" }
            ?? status.signal.map { "ended by signal \($0)" } ?? "vanished without a status"
        return status.reason.map { "\(what) (\($0))" } ?? what
    }

    /// Its intent was committed but the server stopped before starting it: nothing ran. The ledger already
    /// holds the start (and the datasets' access) the intent recorded, so it is closed here.
    func notStarted(_ attempt: inout AttemptRecord, _ outcome: inout Outcome) {
        attempt.outcome = "not-started"
        outcome.move(
            to: outcome.record.checkpointSite == nil ? .pending : .paused,
            "its start was interrupted; it will be started again",
            ledger: .attemptNotStarted(outcome.ended)
        )
    }

    /// Its site went dark: nothing is known of it since the site was last heard from. Its agent stopped it
    /// when its lease ran out, if the agent still runs; the work is placed again wherever it may run, from
    /// a checkpoint it can reach or from scratch.
    func lostWithSite(_ attempt: inout AttemptRecord, _ outcome: inout Outcome, since: Double) {
        attempt.outcome = "lost"
        if checkpointBytes > 0 { outcome.record.checkpointSite = attempt.site }
        var from = "; no copy of its checkpoint reached another site"
        if let replica, replica.site != attempt.site {
            outcome.record.checkpointSite = replica.site
            from =
                "; it resumes from the copy of its checkpoint at \(replica.site), as of "
                + LedgerEntry.formatTime(Date(timeIntervalSince1970: replica.at))
        }
        let heard = LedgerEntry.formatTime(Date(timeIntervalSince1970: since))
        outcome.move(
            to: outcome.record.checkpointSite == nil ? .pending : .paused,
            "lost with site \(attempt.site), whose agent has been silent since \(heard); it will be placed again\(from)",
            ledger: .lost(outcome.ended, silentSince: heard, checkpointBytes: checkpointBytes)
        )
    }

    /// It was asked to stop and did (or was killed): paused with its checkpoint, or cancelled.
    func stopped(_ attempt: inout AttemptRecord, _ outcome: inout Outcome) {
        let checkpoint = LedgerEvent.Checkpoint(bytes: checkpointBytes, stale: attempt.killAt != nil)
        if checkpointBytes > 0 { outcome.record.checkpointSite = attempt.site }
        if outcome.record.cancelRequested {
            attempt.outcome = "cancelled"
            outcome.move(
                to: .cancelled,
                "cancelled: \(how)",
                ledger: .cancelled(.stopped(outcome.ended, checkpoint))
            )
        } else {
            attempt.outcome = attempt.killAt != nil ? "killed" : "paused"
            attempt.checkpointStale = attempt.killAt != nil
            let note = attempt.killAt != nil ? " after SIGKILL (its checkpoint may be stale)" : ""
            outcome.move(
                to: .paused,
                "paused at \(attempt.site): \(how)\(note)",
                ledger: .paused(outcome.ended, checkpoint)
            )
        }
    }

    /// It failed, or was lost: retried after a backoff, or given up at the attempt limit.
    func failed(_ attempt: inout AttemptRecord, _ outcome: inout Outcome) {
        attempt.outcome = gone ? "lost" : "failed"
        outcome.record.failures += 1
        let failures = outcome.record.failures
        let limit = run?.maxAttempts ?? Workload.Run.defaultMaxAttempts
        let failure = LedgerEvent.Failure(reason: how, failures: failures)
        if checkpointBytes > 0 { outcome.record.checkpointSite = attempt.site }
        if failures >= limit {
            outcome.move(
                to: .failed,
                "failed \(failures) times (limit \(limit)); last: \(how)",
                ledger: .failed(outcome.ended, failure)
            )
        } else {
            let backoff = min(300, 2 * pow(2, Double(failures - 1)))
            outcome.record.retryAt = now + backoff
            outcome.move(
                to: .pending,
                "attempt \(attempt.number) \(how); retrying in \(Int(backoff)) s",
                ledger: .attemptFailed(outcome.ended, failure, retryInSeconds: backoff)
            )
        }
    }

    /// The workload's record as the settlement leaves it, with its history line and ledger entry.
    struct Outcome {
        var record: WorkloadRecord
        /// The state before the attempt was settled.
        let from: WorkloadState
        let now: Double
        /// The attempt as the ledger records it.
        let ended: LedgerEvent.EndedAttempt
        var transitions: [TransitionRecord] = []
        var ledger: [LedgerEvent] = []

        /// Moves the workload to `state` and records `event`.
        mutating func move(to state: WorkloadState, _ reason: String, ledger event: LedgerEvent) {
            transitions.append(
                TransitionRecord(workload: record.name, at: now, from: from, to: state, reason: reason)
            )
            record.state = state
            record.detail = reason
            record.updatedAt = now
            ledger.append(event)
        }
    }
}
