public import Foundation
public import SovereignModel
import Synchronization

#if canImport(Glibc)
import SovereignBase
import Glibc
#endif

/// Runs each attempt as a local process under a ``Supervisor``, in its own session and process group. Its
/// ``AttemptHandle`` is the supervisor's process id (the group's leader), in decimal.
///
/// Layout under `directory`: `NAME/checkpoint/` (kept across attempts, `SOVEREIGN_CHECKPOINT_DIR`),
/// `NAME/lock`, and `NAME/attempts/N/{log,status.json,pid}`. Processes, files and locks are probed on a
/// queue of its own, so an awaiting caller never blocks Swift's cooperative pool.
public struct LocalProcessExecutor: Executor {
    /// Where workloads keep their checkpoints, locks and attempt files.
    public let directory: URL
    /// The `sovereign` binary that runs `sovereign supervise`.
    public let supervisorExecutable: String
    /// The site agent's lease file (``AgentLease``), when an agent runs this executor: each supervisor stops
    /// its command on its own once the agent stops renewing it.
    public let leaseFile: String?
    let probes = BlockingQueue(label: "sovereign.local-executor")
    /// The supervisors this process started and has not reaped yet.
    let children = Children()

    /// Makes an executor keeping its files under `directory`, its supervisors watching `leaseFile` if given.
    public init(directory: URL, supervisorExecutable: String? = nil, leaseFile: String? = nil) {
        self.directory = directory
        self.supervisorExecutable = supervisorExecutable ?? Spawn.currentExecutable
        self.leaseFile = leaseFile
    }

    func workloadDirectory(_ name: String) -> URL { directory.appendingPathComponent(name, isDirectory: true) }
    func checkpointDirectory(_ name: String) -> URL { workloadDirectory(name).appendingPathComponent("checkpoint") }
    func attemptDirectory(_ a: AttemptRecord) -> URL {
        workloadDirectory(a.workload).appendingPathComponent("attempts/\(a.number)", isDirectory: true)
    }
    func statusPath(_ a: AttemptRecord) -> String { attemptDirectory(a).appendingPathComponent("status.json").path }
    func pidPath(_ a: AttemptRecord) -> String { attemptDirectory(a).appendingPathComponent("pid").path }
    func lockPath(_ name: String) -> String { workloadDirectory(name).appendingPathComponent("lock").path }

    public func logPath(workload: String, attempt number: Int, site: String) -> String {
        workloadDirectory(workload).appendingPathComponent("attempts/\(number)/log").path
    }

    public func start(_ attempt: AttemptRecord, run: Workload.Run) async throws -> AttemptHandle {
        guard !run.command.isEmpty else {
            throw Spawn.Failure(
                description: "\(attempt.workload): expected a run.command to run as a process, found only "
                    + "run.image \(run.image ?? "?") (an image-only workload runs on a Kubernetes site)"
            )
        }
        return try await probes.run {
            let pid = try spawn(attempt, run: run)
            children.started(pid)
            return AttemptHandle(String(pid))
        }
    }

    public func observe(_ attempts: [AttemptRecord]) async -> [AttemptObservation] {
        await probes.run {
            children.reapExited()
            return attempts.map(probe)
        }
    }

    /// Supervisors live in sessions of their own and outlive the server that started them, and everything
    /// about them is in files: adopting them is observing them.
    public func adopt(_ attempts: [AttemptRecord]) async -> [AttemptObservation] { await observe(attempts) }

    public func signal(_ attempt: AttemptRecord, _ signal: AttemptSignal) async {
        await probes.run { send(signal == .kill ? SIGKILL : SIGTERM, to: attempt) }
    }

    /// Every site of this executor shares its directory, so the site is not read.
    public func checkpointBytes(of workloads: [String: String]) async -> [String: Int64] {
        await probes.run { Dictionary(uniqueKeysWithValues: workloads.keys.map { ($0, checkpointSize(of: $0)) }) }
    }

    /// Starts the attempt's supervisor; returns its process id.
    func spawn(_ attempt: AttemptRecord, run: Workload.Run) throws -> Int32 {
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
        let lease = leaseFile.map { ["--lease-file", $0, "--grace", String(run.gracePeriod.seconds)] } ?? []
        let arguments =
            [
                supervisorExecutable, "supervise",
                "--lock", lockPath(attempt.workload),
                "--status", statusPath(attempt),
                "--pid-file", pidPath(attempt),
                "--log", attempt.logPath,
            ] + lease + ["--"] + run.command
        return try Spawn.start(
            arguments,
            environment: environment,
            output: .appended(to: attempt.logPath),
            detachment: .session,
            defaultSignals: [SIGTERM, SIGINT, SIGHUP]
        )
    }

    /// How one attempt is doing, from its status file, its supervisor and its workload's lock.
    func probe(_ attempt: AttemptRecord) -> AttemptObservation {
        if let status = Supervisor.readStatus(statusPath(attempt)) { return .ended(status) }
        if let pid = supervisorPID(attempt), isSupervisor(pid, of: attempt) || isLiveChild(pid) { return .running }
        if lockIsHeld(attempt.workload) { return .running }
        // The status may have landed between the two reads above.
        if let status = Supervisor.readStatus(statusPath(attempt)) { return .ended(status) }
        return .gone
    }

    /// Signals the attempt's whole process group, but only after checking that the group is still this
    /// attempt's (a recycled process id must never be signalled).
    func send(_ signal: Int32, to attempt: AttemptRecord) {
        guard let pid = supervisorPID(attempt), pid > 1 else { return }
        guard isSupervisor(pid, of: attempt) || isLiveChild(pid) || lockIsHeld(attempt.workload) else { return }
        _ = POSIX.sendSignal(signal, to: -pid)
    }

    /// The supervisor's process id: from its pid file, else from the handle this executor returned.
    func supervisorPID(_ attempt: AttemptRecord) -> Int32? {
        let recorded = attempt.handle.flatMap { Int32($0.rawValue) }
        guard let text = try? String(contentsOfFile: pidPath(attempt), encoding: .utf8) else { return recorded }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? recorded
    }

    /// Whether `pid` is alive and is this attempt's supervisor (its command line names the attempt's status file).
    func isSupervisor(_ pid: Int32, of attempt: AttemptRecord) -> Bool {
        guard POSIX.sendSignal(0, to: pid) == 0 || POSIX.errorNumber == EPERM else { return false }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        // A zombie has an empty command line: it has ended.
        return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == statusPath(attempt) }
    }

    /// Whether `pid` is a live (not zombie) child of this server: a supervisor it started moments ago may not
    /// show its command line or hold its lock yet (taken as gone, it was retried and the retry refused by the
    /// lock it then took), and a child's id cannot be recycled before this server reaps it.
    func isLiveChild(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return false }
        let text = String(decoding: data, as: UTF8.self)
        // `pid (command) state ppid ...`: the command may hold spaces and parentheses, so read after the last `)`.
        guard let close = text.lastIndex(of: ")") else { return false }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count >= 2 else { return false }
        return fields[0] != "Z" && Int32(fields[1]) == getpid()
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

    func checkpointSize(of workload: String) -> Int64 { Self.bytes(under: checkpointDirectory(workload)) }

    /// Bytes of the files under `root` (0 when it does not exist): a checkpoint's size.
    static func bytes(under root: URL) -> Int64 {
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey])
        else { return 0 }
        var total: Int64 = 0
        for case let url as URL in enumerator {
            total += Int64((try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
        }
        return total
    }
}

extension LocalProcessExecutor {
    /// The supervisors one process started, reaped once they exit so that none lingers as a zombie. Only
    /// these: a `waitpid(-1)` would also take the exit status of every other child of the process (a
    /// site's power command, a Slurm command), which their own waiters then never see.
    final class Children: Sendable {
        private let pids = Mutex<Set<Int32>>([])

        func started(_ pid: Int32) { _ = pids.withLock { $0.insert(pid) } }

        /// Reaps each that has exited (its status is in its status file, not in `waitpid`'s answer).
        func reapExited() {
            pids.withLock { pids in
                for pid in pids {
                    var raw: Int32 = 0
                    let reaped = waitpid(pid, &raw, WNOHANG)
                    if reaped == pid || (reaped < 0 && errno == ECHILD) { pids.remove(pid) }
                }
            }
        }
    }
}
