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
    /// When the place it ran asked it to stop on its own (a site agent whose lease ran out), seconds since
    /// 1970: the control plane settles it as a stop it asked for, paused with its checkpoint.
    public var stoppedAt: Double?
    /// What the scheduler it ran under says of its end, when it says more than the status (a Slurm job's
    /// state, reason and exit code, like "Slurm job 12: NODE_FAIL (None), exit code 0:0").
    public var reason: String?

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
    /// Runs `command` under supervision and returns the supervisor's own exit status.
    ///
    /// - Parameters:
    ///   - lock: the workload's lock file; held (with `flock`) by the supervisor and the command.
    ///   - status: where the outcome is written (atomically, as JSON) when the command ends.
    ///   - pidFile: where the supervisor writes its process id at start.
    ///   - log: the attempt's output file.
    public static func run(command: [String], lock: String, status: String, pidFile: String, log: String) -> Int32 {
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
                output: log,
                newSession: false,
                defaultSignals: [SIGTERM, SIGINT, SIGHUP]
            )
        } catch {
            write(status, ExitStatus(refused: "\(error)"))
            return 1
        }
        var raw: Int32 = 0
        while waitpid(child, &raw, 0) < 0 {
            if errno != EINTR {
                write(status, ExitStatus(refused: "lost the command: \(String(cString: strerror(errno)))"))
                return 1
            }
        }
        let low = raw & 0x7f
        if low == 0 {
            write(status, ExitStatus(exit: (raw >> 8) & 0xff))
        } else {
            write(status, ExitStatus(signal: low))
        }
        return 0
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
