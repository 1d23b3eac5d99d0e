public import Foundation
import SovereignBase
public import SovereignModel

#if canImport(Glibc)
import Glibc
#endif

/// What an executor sees of one attempt.
public enum AttemptObservation: Sendable, Hashable {
    /// Its process (or one of its process group) is alive.
    case running
    /// It ended, as its supervisor recorded.
    case ended(ExitStatus)
    /// Nothing of it is alive and nothing recorded how it ended (killed with the supervisor, or never started).
    case gone
}

/// Runs attempts of workloads somewhere: local processes by default, Kubernetes pods in another executor.
///
/// Every method is idempotent and safe to call again after a server restart: the executor keeps no state
/// that the store and the filesystem do not.
public protocol Executor: Sendable {
    /// Starts an attempt; returns the id of the process (group) that runs it.
    func start(_ attempt: AttemptRecord, run: Workload.Run) throws -> Int32
    /// How the attempt is doing now.
    func observe(_ attempt: AttemptRecord) -> AttemptObservation
    /// Asks the attempt to checkpoint and stop (SIGTERM for a process).
    func terminate(_ attempt: AttemptRecord)
    /// Stops the attempt at once (SIGKILL for a process).
    func kill(_ attempt: AttemptRecord)
    /// Bytes of the workload's checkpoint.
    func checkpointBytes(of workload: String) -> Int64
    /// The file holding an attempt's output.
    func logPath(workload: String, attempt number: Int) -> String
}

/// Runs each attempt as a local process under a ``Supervisor``, in its own session and process group.
///
/// Layout under `directory`: `NAME/checkpoint/` (kept across attempts, `SOVEREIGN_CHECKPOINT_DIR`),
/// `NAME/lock`, and `NAME/attempts/N/{log,status.json,pid}`.
public struct LocalProcessExecutor: Executor {
    /// Where workloads keep their checkpoints, locks and attempt files.
    public let directory: URL
    /// The `sovereign` binary that runs `sovereign supervise`.
    public let supervisorExecutable: String

    /// Makes an executor keeping its files under `directory`.
    public init(directory: URL, supervisorExecutable: String? = nil) {
        self.directory = directory
        self.supervisorExecutable = supervisorExecutable ?? Spawn.currentExecutable
    }

    func workloadDirectory(_ name: String) -> URL { directory.appendingPathComponent(name, isDirectory: true) }
    func checkpointDirectory(_ name: String) -> URL { workloadDirectory(name).appendingPathComponent("checkpoint") }
    func attemptDirectory(_ a: AttemptRecord) -> URL {
        workloadDirectory(a.workload).appendingPathComponent("attempts/\(a.number)", isDirectory: true)
    }
    func statusPath(_ a: AttemptRecord) -> String { attemptDirectory(a).appendingPathComponent("status.json").path }
    func pidPath(_ a: AttemptRecord) -> String { attemptDirectory(a).appendingPathComponent("pid").path }
    func lockPath(_ name: String) -> String { workloadDirectory(name).appendingPathComponent("lock").path }

    public func logPath(workload: String, attempt number: Int) -> String {
        workloadDirectory(workload).appendingPathComponent("attempts/\(number)/log").path
    }

    public func start(_ attempt: AttemptRecord, run: Workload.Run) throws -> Int32 {
        let manager = FileManager.default
        try manager.createDirectory(at: checkpointDirectory(attempt.workload), withIntermediateDirectories: true)
        try manager.createDirectory(at: attemptDirectory(attempt), withIntermediateDirectories: true)
        // Files of an attempt with this number from another database must not speak for this one.
        for stale in [statusPath(attempt), pidPath(attempt)] where manager.fileExists(atPath: stale) {
            try manager.removeItem(atPath: stale)
        }
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in run.environment { environment[key] = value }
        environment["SOVEREIGN_WORKLOAD"] = attempt.workload
        environment["SOVEREIGN_CHECKPOINT_DIR"] = checkpointDirectory(attempt.workload).path
        environment["SOVEREIGN_ATTEMPT"] = String(attempt.number)
        environment["SOVEREIGN_SITE"] = attempt.site
        environment["SOVEREIGN_ACCELERATORS"] = String(attempt.accelerators)
        if attempt.resume {
            environment["SOVEREIGN_RESUME"] = "1"
        } else {
            environment.removeValue(forKey: "SOVEREIGN_RESUME")
        }
        let arguments =
            [
                supervisorExecutable, "supervise",
                "--lock", lockPath(attempt.workload),
                "--status", statusPath(attempt),
                "--pid-file", pidPath(attempt),
                "--log", attempt.logPath,
                "--",
            ] + run.command
        return try Spawn.start(
            arguments,
            environment: environment,
            output: attempt.logPath,
            newSession: true,
            defaultSignals: [SIGTERM, SIGINT, SIGHUP]
        )
    }

    public func observe(_ attempt: AttemptRecord) -> AttemptObservation {
        // Reap every supervisor this server started that has exited, so none lingers as a zombie.
        var raw: Int32 = 0
        while waitpid(-1, &raw, WNOHANG) > 0 {}
        if let status = Supervisor.readStatus(statusPath(attempt)) { return .ended(status) }
        if let pid = supervisorPID(attempt), isSupervisor(pid, of: attempt) { return .running }
        if lockIsHeld(attempt.workload) { return .running }
        // The status may have landed between the two reads above.
        if let status = Supervisor.readStatus(statusPath(attempt)) { return .ended(status) }
        return .gone
    }

    public func terminate(_ attempt: AttemptRecord) { signal(attempt, SIGTERM) }

    public func kill(_ attempt: AttemptRecord) { signal(attempt, SIGKILL) }

    /// Signals the attempt's whole process group, but only after checking that the group is still this
    /// attempt's (a recycled process id must never be signalled).
    func signal(_ attempt: AttemptRecord, _ signal: Int32) {
        guard let pid = supervisorPID(attempt) ?? attempt.pid, pid > 1 else { return }
        guard isSupervisor(pid, of: attempt) || lockIsHeld(attempt.workload) else { return }
        _ = POSIX.sendSignal(signal, to: -pid)
    }

    func supervisorPID(_ attempt: AttemptRecord) -> Int32? {
        guard let text = try? String(contentsOfFile: pidPath(attempt), encoding: .utf8) else { return attempt.pid }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? attempt.pid
    }

    /// Whether `pid` is alive and is this attempt's supervisor (its command line names the attempt's status file).
    func isSupervisor(_ pid: Int32, of attempt: AttemptRecord) -> Bool {
        guard POSIX.sendSignal(0, to: pid) == 0 || POSIX.errorNumber == EPERM else { return false }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        // A zombie has an empty command line: it has ended.
        return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == statusPath(attempt) }
    }

    /// Whether some process holds the workload's lock. Probed only when no supervisor of ours is alive, so
    /// the probe never races a supervisor that is about to take the lock.
    func lockIsHeld(_ workload: String) -> Bool {
        let fd = open(lockPath(workload), O_RDWR)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }

    public func checkpointBytes(of workload: String) -> Int64 {
        let root = checkpointDirectory(workload)
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey])
        else { return 0 }
        var total: Int64 = 0
        for case let url as URL in enumerator {
            total += Int64((try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
        }
        return total
    }
}
