import Foundation
public import SovereignModel

/// How a site's Slurm is asked for jobs: where they run and what they ask for.
public struct SlurmOptions: Sendable, Hashable {
    /// `--partition`, when the site names one.
    public var partition: String?
    /// `--account`, when the site names one.
    public var account: String?
    /// The generic resource an attempt's accelerators are asked as (`gpu`, or a typed one like `gpu:h100`):
    /// `--gres=GRES:N`.
    public var gres: String
    /// The directory jobs start in (`--chdir`), where a workload's relative paths are read: the agent's own,
    /// on the filesystem the login node shares with the compute nodes.
    public var workingDirectory: String

    /// Options for a site's Slurm.
    public init(partition: String? = nil, account: String? = nil, gres: String = "gpu", workingDirectory: String) {
        self.partition = partition
        self.account = account
        self.gres = gres
        self.workingDirectory = workingDirectory
    }
}

/// The command lines the Slurm executor runs, as values: what `sbatch`, `squeue`, `sacct` and `scancel` are
/// given for an attempt, and the batch script that runs its command.
package enum SlurmCommandLines {
    /// The `sbatch` command that submits `attempt`, whose batch script is at `script`.
    ///
    /// Its `SOVEREIGN_*` environment goes through `--export` (on top of the agent's own); its accelerators are
    /// asked as a generic resource (only when there are some); Slurm itself warns it with SIGTERM its grace
    /// period before its time limit; its output is appended to the attempt's log; Slurm never requeues it
    /// (retries are the control plane's).
    ///
    /// - Throws: ``SlurmCommandError`` when a `SOVEREIGN_*` value holds a comma (`--export` cannot carry it).
    package static func submit(
        _ attempt: AttemptRecord,
        grace: TimeSpan,
        checkpoint: String,
        script: String,
        options: SlurmOptions
    ) throws -> [String] {
        var exported = [
            ("SOVEREIGN_WORKLOAD", attempt.workload), ("SOVEREIGN_CHECKPOINT_DIR", checkpoint),
            ("SOVEREIGN_ATTEMPT", String(attempt.number)), ("SOVEREIGN_SITE", attempt.site),
            ("SOVEREIGN_ACCELERATORS", String(attempt.accelerators)),
        ]
        if attempt.resume { exported.append(("SOVEREIGN_RESUME", "1")) }
        if let bad = exported.first(where: { $0.1.contains(",") }) {
            throw SlurmCommandError(
                command: ["sbatch"],
                problem:
                    "\(bad.0): expected a value without a comma (sbatch --export splits on commas), found \"\(bad.1)\"",
                printed: ""
            )
        }
        var arguments = [
            "sbatch", "--parsable", "--job-name=\(jobName(attempt))", "--output=\(attempt.logPath)",
            "--open-mode=append", "--chdir=\(options.workingDirectory)", "--no-requeue",
            "--export=" + (["ALL"] + exported.map { "\($0.0)=\($0.1)" }).joined(separator: ","),
            "--signal=B:TERM@\(min(65_535, max(1, Int(grace.seconds.rounded(.up)))))",
        ]
        if attempt.accelerators > 0 { arguments.append("--gres=\(options.gres):\(attempt.accelerators)") }
        if let partition = options.partition { arguments.append("--partition=\(partition)") }
        if let account = options.account { arguments.append("--account=\(account)") }
        return arguments + [script]
    }

    /// The name of the job of an attempt, for people reading `squeue`.
    package static func jobName(_ attempt: AttemptRecord) -> String {
        "sovereign-\(attempt.workload)-\(attempt.number)"
    }

    /// The batch script that runs `run`'s command with its environment: the command replaces the shell
    /// (`exec`), so the SIGTERM Slurm sends the batch step reaches it; `SOVEREIGN_RESUME` is unset unless the
    /// attempt resumes (the agent's own environment must not say so).
    package static func script(_ attempt: AttemptRecord, run: Workload.Run) -> String {
        var lines = ["#!/bin/sh", "# \(jobName(attempt)), submitted by a Sovereign site agent"]
        for (key, value) in run.environment.sorted(by: { $0.key < $1.key }) {
            lines.append("export \(key)=\(quoted(value))")
        }
        if !attempt.resume { lines.append("unset SOVEREIGN_RESUME") }
        lines.append("exec " + run.command.map(quoted).joined(separator: " "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` as one word of a POSIX shell, in single quotes.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The `squeue` that reports `jobs` (and the ones that ended within `MinJobAge`), for ``SlurmOutput/queue(_:)``.
    package static func queue(_ jobs: [String]) -> [String] {
        [
            "squeue", "--noheader", "--states=all", "--jobs=\(jobs.joined(separator: ","))",
            "--Format=JobID:|,State:|,exit_code:|,Reason:",
        ]
    }

    /// The `sacct` that reports `jobs` from accounting, for ``SlurmOutput/accounting(_:)``.
    package static func accounting(_ jobs: [String]) -> [String] {
        [
            "sacct", "--noheader", "--parsable2", "--allocations", "--jobs=\(jobs.joined(separator: ","))",
            "--format=JobIDRaw,State,ExitCode,Reason",
        ]
    }

    /// The `squeue` that finds jobs by their names, for ``SlurmOutput/named(_:)``: the job of an attempt whose
    /// id was never recorded (its agent stopped between `sbatch` and saving its state) is found by the name
    /// ``jobName(_:)`` gave it.
    package static func queue(named names: [String]) -> [String] {
        [
            "squeue", "--noheader", "--states=all", "--name=\(names.joined(separator: ","))",
            "--Format=Name:|,JobID:|,State:|,exit_code:|,Reason:",
        ]
    }

    /// The `scancel`s that ask a job to stop: `job` is its id, or `--name=NAME` for a job whose id was never
    /// recorded. A stop cancels it while it waits (it has nothing to checkpoint) and sends SIGTERM to all its
    /// processes once it runs (`--full`: the batch script, which `exec`s the command, and every step); a
    /// kill sends SIGKILL to all of them and cancels the job.
    package static func signal(_ job: String, _ signal: AttemptSignal) -> [[String]] {
        switch signal {
        case .stop:
            [["scancel", "--state=PENDING", job], ["scancel", "--signal=TERM", "--full", "--state=RUNNING", job]]
        case .kill:
            [["scancel", "--signal=KILL", "--full", job], ["scancel", job]]
        }
    }
}
