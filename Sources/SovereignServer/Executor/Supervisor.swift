public import Foundation
import SovereignBase

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How an attempt's process ended, as its supervisor writes it to the status file.
public struct ExitStatus: Sendable, Hashable, Codable {
    /// The exit status, when it exited.
    public var exit: Int32?
    /// The signal that ended it, when one did.
    public var signal: Int32?
    /// Why it never ran (another instance holds the workload's lock, or the program could not start).
    public var refused: String?
    /// When it ended, seconds since 1970, as the supervisor saw it.
    public var at: Double?
    /// Why the place it ran ended it, in that place's words (a Kubernetes pod's `OOMKilled`, `Evicted: ...`).
    public var reason: String?
    /// When the place it ran asked it to stop on its own (a site agent whose lease ran out), seconds since
    /// 1970: the control plane settles it as a stop it asked for, paused with its checkpoint.
    public var stoppedAt: Double?
    /// Whether it never ran because the site holding its checkpoint fell silent before sending it: not the
    /// workload's failure, so it is placed again without counting against its attempts.
    public var sourceSilent: Bool?

    /// Makes a status.
    public init(exit: Int32? = nil, signal: Int32? = nil, refused: String? = nil) {
        self.exit = exit
        self.signal = signal
        self.refused = refused
    }

    /// Whether the workload says its work is complete.
    public var completed: Bool { exit == 0 && refused == nil }
}

/// The small process that runs one attempt of a workload: it holds the workload's lock (so that no two
/// attempts of a workload ever run at once, whatever the server's state says), starts the command in its
/// process group, ignores the SIGTERM meant for the command, waits, and writes how the command ended to a
/// status file. Because the server is not the workload's parent, a server that crashes and restarts
/// still learns how every attempt ended.
public enum Supervisor: Sendable {
    /// The lease a supervisor started by a site agent watches (``AgentLease``), and the command's grace period.
    public struct LeaseWatch: Sendable, Hashable {
        /// The agent's lease file.
        public var path: String
        /// Seconds between asking the command to stop and killing it.
        public var graceSeconds: Double

        /// Watches the lease in `path`.
        public init(path: String, graceSeconds: Double) {
            self.path = path
            self.graceSeconds = graceSeconds
        }
    }

    /// Runs `command` under supervision and returns the supervisor's own exit status.
    ///
    /// - Parameters:
    ///   - lock: the workload's lock file; held (with `flock`) by the supervisor and the command.
    ///   - status: where the outcome is written (atomically, as JSON) when the command ends.
    ///   - pidFile: where the supervisor writes its process id at start.
    ///   - log: the attempt's output file.
    ///   - lease: the site agent's lease, when an agent started it: the supervisor stops and kills its command
    ///     itself once the agent stops renewing it (``AgentLease``).
    public static func run(
        command: [String],
        lock: String,
        status: String,
        pidFile: String,
        log: String,
        lease: LeaseWatch? = nil
    ) -> Int32 {
        let lockFD = open(lock, O_RDWR | O_CREAT, 0o600)
        guard lockFD >= 0 else {
            write(status, ExitStatus(refused: "cannot open the lock \(lock): \(String(cString: strerror(errno)))"))
            return 1
        }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            write(status, ExitStatus(refused: "another attempt of this workload holds \(lock)"))
            return 1
        }
        // The command inherits the descriptor, so the lock lasts as long as either process lives.
        try? POSIX.writeAtomically(Data("\(getpid())\n".utf8), to: pidFile)
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        let child: pid_t
        do {
            child = try Spawn.start(
                command,
                environment: ProcessInfo.processInfo.environment,
                output: .appended(to: log),
                detachment: .none,
                defaultSignals: [SIGTERM, SIGINT, SIGHUP]
            )
        } catch {
            write(status, ExitStatus(refused: "\(error)"))
            return 1
        }
        let ended = lease.map { wait(for: child, under: $0, status: status) } ?? wait(for: child)
        guard let ended else {
            write(status, ExitStatus(refused: "lost the command: \(String(cString: strerror(errno)))"))
            return 1
        }
        write(status, ended)
        return 0
    }

    /// Waits for the command to end; nil when it cannot be waited for.
    static func wait(for child: pid_t) -> ExitStatus? {
        var raw: Int32 = 0
        while waitpid(child, &raw, 0) < 0 {
            if errno != EINTR { return nil }
        }
        return exitStatus(raw)
    }

    /// Waits for the command to end, reading the agent's lease four times a second and acting on its verdict:
    /// SIGTERM to the command's process group once the lease ran out, SIGKILL to the group (this supervisor
    /// with it, after writing the status) once the command must be dead. A lease file that is missing or
    /// unreadable counts as renewed when the supervisor started, so it runs out unless the agent renews it.
    static func wait(for child: pid_t, under watch: LeaseWatch, status: String) -> ExitStatus? {
        let started = AgentLease(renewedAt: POSIX.bootSeconds(), leaseSeconds: Double.infinity)
        var stoppedAt: (boot: Double, wall: Double)?
        var raw: Int32 = 0
        while true {
            let reaped = waitpid(child, &raw, WNOHANG)
            if reaped == child {
                var outcome = exitStatus(raw)
                outcome.stoppedAt = stoppedAt?.wall
                return outcome
            }
            if reaped < 0, errno != EINTR { return nil }
            let now = POSIX.bootSeconds()
            let lease = AgentLease.read(watch.path) ?? started
            switch lease.verdict(now: now, stoppedAt: stoppedAt?.boot, graceSeconds: watch.graceSeconds) {
            case .holds:
                break
            case .stop where stoppedAt == nil:
                stoppedAt = (now, Date().timeIntervalSince1970)
                signalCommand(SIGTERM, child: child)
            case .stop:
                break
            case .kill:
                var killed = ExitStatus(signal: SIGKILL)
                killed.stoppedAt = stoppedAt?.wall ?? Date().timeIntervalSince1970
                write(status, killed)
                signalCommand(SIGKILL, child: child)
            }
            usleep(250_000)
        }
    }

    /// Signals the command's whole process group when this supervisor leads it (as every executor starts it),
    /// else the command alone. SIGTERM is ignored here; SIGKILL ends this supervisor with its command.
    static func signalCommand(_ signal: Int32, child: pid_t) {
        _ = POSIX.sendSignal(signal, to: getpgrp() == getpid() ? -getpid() : child)
    }

    /// How a command ended, from `waitpid`'s status.
    static func exitStatus(_ raw: Int32) -> ExitStatus {
        let low = raw & 0x7f
        return low == 0 ? ExitStatus(exit: (raw >> 8) & 0xff) : ExitStatus(signal: low)
    }

    /// Reads a status file; nil while the attempt has not ended.
    public static func readStatus(_ path: String) -> ExitStatus? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(ExitStatus.self, from: data)
    }

    static func write(_ path: String, _ status: ExitStatus) {
        var status = status
        status.at = Date().timeIntervalSince1970
        if let data = try? JSONEncoder().encode(status) { try? POSIX.writeAtomically(data, to: path) }
    }
}
