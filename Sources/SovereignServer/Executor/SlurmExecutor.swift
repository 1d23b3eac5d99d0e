public import Foundation
import SovereignBase
public import SovereignModel
import Synchronization

/// Runs each attempt as a Slurm batch job, for a site agent on a Slurm login node. Its ``AttemptHandle`` is
/// the job id, so an agent that restarts adopts its jobs from its state file.
///
/// Layout under `directory` (on the filesystem the compute nodes share): `NAME/checkpoint/` (kept across
/// attempts, `SOVEREIGN_CHECKPOINT_DIR`) and `NAME/attempts/N/{job.sh,log}`. What Slurm answers is read by
/// ``SlurmOutput`` and decided by ``SlurmJob``; the commands (``SlurmCommands``) are the only edge, each
/// with a timeout: one that fails is reported through `say` with its command line, status and output, and
/// an attempt whose state cannot be read is taken as still running (never as gone, which would start it
/// twice); a job neither `squeue` nor `sacct` shows is gone only once a second look confirms it
/// (``SlurmMisses``). An agent stopped between `sbatch` and saving the job id holds an attempt without a handle: its
/// job is found, observed and signalled by its name (``SlurmCommandLines/jobName(_:)``), so it is neither
/// left running unseen nor started a second time beside it.
public struct SlurmExecutor: Executor {
    /// Where workloads keep their checkpoints, batch scripts and logs.
    public let directory: URL
    /// Where and how jobs are submitted.
    public let options: SlurmOptions
    let commands: SlurmCommands
    let say: @Sendable (String) -> Void
    let files = BlockingQueue(label: "sovereign.slurm-executor")
    /// The jobs missed so far, shared by every copy of this executor.
    let misses: MissedJobs
    /// Seconds on a clock that only goes forward (``POSIX/bootSeconds()``), for confirming misses.
    let now: @Sendable () -> Double

    /// An executor keeping its files under `directory`, submitting with `options` through `commands`; a job
    /// Slurm does not show is gone once two looks `confirmMissAfter` seconds apart missed it, timed by `now`
    /// (by default the machine's boot clock).
    public init(
        directory: URL,
        options: SlurmOptions,
        commands: SlurmCommands,
        confirmMissAfter: Double = 2,
        now: (@Sendable () -> Double)? = nil,
        say: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.directory = directory
        self.options = options
        self.commands = commands
        self.misses = MissedJobs(SlurmMisses(confirmAfter: confirmMissAfter))
        self.now = now ?? { POSIX.bootSeconds() }
        self.say = say
    }

    /// The executor's ``SlurmMisses``, behind a lock.
    final class MissedJobs: Sendable {
        let state: Mutex<SlurmMisses>
        init(_ misses: SlurmMisses) { state = Mutex(misses) }
    }

    func workloadDirectory(_ name: String) -> URL { directory.appendingPathComponent(name, isDirectory: true) }
    func checkpointDirectory(_ name: String) -> URL { workloadDirectory(name).appendingPathComponent("checkpoint") }
    func attemptDirectory(_ workload: String, _ number: Int) -> URL {
        workloadDirectory(workload).appendingPathComponent("attempts/\(number)", isDirectory: true)
    }

    public func logPath(workload: String, attempt number: Int, site: String) -> String {
        attemptDirectory(workload, number).appendingPathComponent("log").path
    }

    /// Writes the attempt's batch script and submits it.
    public func start(_ attempt: AttemptRecord, run: Workload.Run) async throws -> AttemptHandle {
        let script = try await files.run { try writeScript(attempt, run: run) }
        let arguments = try SlurmCommandLines.submit(
            attempt,
            grace: run.gracePeriod,
            checkpoint: checkpointDirectory(attempt.workload).path,
            script: script,
            options: options
        )
        return AttemptHandle(try SlurmOutput.submittedJob(try await commands.run(arguments), command: arguments))
    }

    /// Makes the workload's directories and writes the attempt's batch script; returns its path.
    func writeScript(_ attempt: AttemptRecord, run: Workload.Run) throws -> String {
        let manager = FileManager.default
        try manager.createDirectory(at: checkpointDirectory(attempt.workload), withIntermediateDirectories: true)
        let attempts = attemptDirectory(attempt.workload, attempt.number)
        try manager.createDirectory(at: attempts, withIntermediateDirectories: true)
        let script = attempts.appendingPathComponent("job.sh").path
        try Data(SlurmCommandLines.script(attempt, run: run).utf8).write(to: URL(fileURLWithPath: script))
        try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script)
        return script
    }

    /// One `squeue` for all the attempts (and one `sacct`, when accounting exists, for the jobs `squeue` no
    /// longer shows); the jobs of attempts without a recorded id are looked up by name. A job found nowhere is
    /// gone only when the look that first missed it is confirmed (``SlurmMisses``).
    public func observe(_ attempts: [AttemptRecord]) async -> [AttemptObservation] {
        let ids = attempts.compactMap(\.handle?.rawValue).filter(SlurmOutput.isJobID)
        let names = attempts.filter { $0.handle == nil }.map(SlurmCommandLines.jobName)
        var jobs: [String: SlurmJob] = [:]
        var named: [String: SlurmJob] = [:]
        do {
            if !ids.isEmpty { jobs = try await self.jobs(ids) }
            if !names.isEmpty {
                named = SlurmOutput.named(try await commands.run(SlurmCommandLines.queue(named: names)))
            }
        } catch {
            say("cannot read the state of Slurm jobs \((ids + names).joined(separator: ",")): \(error)")
            return attempts.map { _ in .running }
        }
        let keys = attempts.map { $0.handle?.rawValue ?? SlurmCommandLines.jobName($0) }
        // Ids are digits and names start with "sovereign-": one dictionary holds both.
        let found = jobs.merging(named) { id, _ in id }
        let now = now()
        return misses.state.withLock { $0.observe(keys, found: found, now: now) }
    }

    /// What Slurm knows of `ids`: from `squeue`, then from `sacct` for the rest (when it fails, as it does
    /// without accounting, the rest are unknown).
    func jobs(_ ids: [String]) async throws -> [String: SlurmJob] {
        var jobs = SlurmOutput.queue(try await commands.run(SlurmCommandLines.queue(ids)))
        let missing = ids.filter { jobs[$0] == nil }
        guard !missing.isEmpty else { return jobs }
        if let accounted = try? await commands.run(SlurmCommandLines.accounting(missing)) {
            jobs.merge(SlurmOutput.accounting(accounted).filter { missing.contains($0.key) }) { queued, _ in queued }
        }
        return jobs
    }

    /// Jobs outlive the agent that submitted them, and their ids are in its state file: adopting them is
    /// observing them.
    public func adopt(_ attempts: [AttemptRecord]) async -> [AttemptObservation] { await observe(attempts) }

    /// Signals the attempt's job by its id, or by its name when its id was never recorded.
    public func signal(_ attempt: AttemptRecord, _ signal: AttemptSignal) async {
        let job: String
        if let handle = attempt.handle {
            guard SlurmOutput.isJobID(handle.rawValue) else { return }
            job = handle.rawValue
        } else {
            job = "--name=\(SlurmCommandLines.jobName(attempt))"
        }
        for arguments in SlurmCommandLines.signal(job, signal) {
            do {
                _ = try await commands.run(arguments)
            } catch {
                say("cannot signal Slurm job \(job) of \(attempt.workload) attempt \(attempt.number): \(error)")
            }
        }
    }

    /// Checkpoints are files on the shared filesystem, under one directory for every site of this executor.
    public func checkpointBytes(of workloads: [String: String]) async -> [String: Int64] {
        await files.run {
            Dictionary(
                uniqueKeysWithValues: workloads.keys.map {
                    ($0, LocalProcessExecutor.bytes(under: checkpointDirectory($0)))
                }
            )
        }
    }
}
