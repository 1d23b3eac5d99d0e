import Foundation

/// What Slurm says of one job: its state, how it exited and why, read from `squeue` or `sacct`.
package struct SlurmJob: Sendable, Hashable {
    /// The job id, like "42".
    package var id: String
    /// Slurm's state, like `RUNNING` or `NODE_FAIL` (sacct's "CANCELLED by 0" is read as `CANCELLED`).
    package var state: String
    /// The exit status of the job's batch script, when it exited.
    package var exit: Int32?
    /// The signal that ended the batch script, when one did.
    package var signal: Int32?
    /// Slurm's reason, like `NonZeroExitCode` or `Resources` (`None` when it gives none).
    package var reason: String

    /// The states in which the job still holds or waits for its place; everything else has ended.
    static let unsettled: Set<String> = [
        "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
        "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD",
    ]

    /// What an executor makes of the job: running while Slurm holds it, exit 0 when it completed, and for
    /// every other end (FAILED, CANCELLED, NODE_FAIL, TIMEOUT, PREEMPTED, OUT_OF_MEMORY, ...) a failure
    /// that carries Slurm's state, reason and exit code. A failed job never reads as completed, even when
    /// its script exited 0.
    package var observation: AttemptObservation {
        if Self.unsettled.contains(state) { return .running }
        if state == "COMPLETED" { return .ended(ExitStatus(exit: 0)) }
        var status = ExitStatus(exit: exit == 0 ? nil : exit, signal: signal == 0 ? nil : signal)
        status.reason = "Slurm job \(id): \(state) (\(reason)), exit code \(exit ?? 0):\(signal ?? 0)"
        return .ended(status)
    }

}

/// The jobs a Slurm executor looked for and did not find, and when each was first missed: a job is taken
/// as gone (purged, or never accepted) only when two looks at least ``confirmAfter`` seconds apart both
/// missed it, in `squeue` and in `sacct`. One miss is not enough: a job between `squeue`'s view and
/// accounting's, or a line that does not parse, would read as gone while it runs, and its attempt would run
/// twice.
package struct SlurmMisses: Sendable, Hashable {
    /// Seconds between the first miss and the one that confirms it.
    package var confirmAfter: Double
    /// When each job (its id, or its name for an attempt without one) was first missed, in a row.
    package var since: [String: Double] = [:]

    /// No job missed yet.
    package init(confirmAfter: Double) { self.confirmAfter = confirmAfter }

    /// What becomes of the jobs `keys` at `now` (seconds on a clock that only goes forward), given the ones
    /// `squeue` or `sacct` reported in `found`: each found job's observation; a missed one runs until a later
    /// look, at least ``confirmAfter`` after the first miss in a row, misses it too: then it is gone. Jobs no longer asked about are forgotten.
    package mutating func observe(_ keys: [String], found: [String: SlurmJob], now: Double) -> [AttemptObservation] {
        since = since.filter { keys.contains($0.key) }
        return keys.map { key in
            if let job = found[key] {
                since[key] = nil
                return job.observation
            }
            guard let first = since[key] else {
                since[key] = now
                return .running
            }
            return now - first >= confirmAfter ? .gone : .running
        }
    }
}

/// Readers of what Slurm's commands print, in the formats ``SlurmCommandLines`` asks for. Lines that do not
/// parse are skipped (another job's odd reason never hides ours); a job id must be digits.
package enum SlurmOutput {
    /// The job id `sbatch --parsable` printed ("42", or "42;cluster" on a federation).
    ///
    /// - Throws: ``SlurmCommandError`` when it printed something else.
    package static func submittedJob(_ text: String, command: [String]) throws -> String {
        let line = text.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        let id = String(line.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces)
        guard isJobID(id) else {
            throw SlurmCommandError(
                command: command,
                problem: "expected a job id (digits) from --parsable, found \"\(text.prefix(200))\"",
                printed: ""
            )
        }
        return id
    }

    /// The jobs in `squeue --noheader --states=all -O JobID:|,State:|,exit_code:|,Reason:` output: one line
    /// per job, `ID|STATE|WAITSTATUS|REASON`, where the exit code is the raw wait status (768 for exit 3, 9
    /// for SIGKILL) and the reason, last, may hold spaces and commas.
    package static func queue(_ text: String) -> [String: SlurmJob] {
        var jobs: [String: SlurmJob] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4 else { continue }
            let id = fields[0].trimmingCharacters(in: .whitespaces)
            guard isJobID(id), let raw = Int32(fields[2].trimmingCharacters(in: .whitespaces)) else { continue }
            let signal = raw & 0x7f
            jobs[id] = SlurmJob(
                id: id,
                state: fields[1].trimmingCharacters(in: .whitespaces),
                exit: signal == 0 ? (raw >> 8) & 0xff : nil,
                signal: signal == 0 ? nil : signal,
                reason: fields[3].trimmingCharacters(in: .whitespaces)
            )
        }
        return jobs
    }

    /// The jobs in ``SlurmCommandLines/queue(named:)``'s output by name: `NAME|ID|STATE|WAITSTATUS|REASON`
    /// per line (a name never holds `|`: Sovereign's are DNS-1123 names). Of two jobs with one name, the
    /// later submitted (the greater id) is the one.
    package static func named(_ text: String) -> [String: SlurmJob] {
        var jobs: [String: SlurmJob] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            guard fields.count == 2, let job = queue(String(fields[1])).values.first else { continue }
            let name = fields[0].trimmingCharacters(in: .whitespaces)
            if let other = jobs[name], let id = UInt64(job.id), let otherID = UInt64(other.id), otherID > id {
                continue
            }
            jobs[name] = job
        }
        return jobs
    }

    /// The jobs in `sacct --noheader --parsable2 -X -o JobIDRaw,State,ExitCode,Reason` output: one line
    /// per job, `ID|STATE|EXIT:SIGNAL|REASON` (a state like "CANCELLED by 0" is read as `CANCELLED`).
    package static func accounting(_ text: String) -> [String: SlurmJob] {
        var jobs: [String: SlurmJob] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, isJobID(String(fields[0])) else { continue }
            let code = fields[2].split(separator: ":").map { Int32($0) }
            guard code.count == 2, let exit = code[0], let signal = code[1] else { continue }
            jobs[String(fields[0])] = SlurmJob(
                id: String(fields[0]),
                state: String(fields[1].split(separator: " ").first ?? ""),
                exit: exit,
                signal: signal == 0 ? nil : signal,
                reason: String(fields[3])
            )
        }
        return jobs
    }

    /// Whether `text` is a job id Sovereign submits (digits, not an array task or a step).
    package static func isJobID(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 20 && text.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
