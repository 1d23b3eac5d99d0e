public import Foundation
import SovereignBase

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A program run to its end within a time limit, on the calling thread, with everything it printed: the
/// site agent's edge to the commands a site gives it (Slurm's clients, the power command).
///
/// Its own process group, so a timeout ends it and whatever it started (SIGTERM, then SIGKILL a second
/// later); standard input from /dev/null; both pipes read to their end by `poll` on the calling thread,
/// so what it printed is all there when it ends, however busy the machine is (no reader thread that may
/// not have been scheduled yet), and a command that prints a lot never blocks on a full pipe. Nothing but
/// the calling thread waits: call it from a thread that may block (``run(_:environment:timeout:)``'s
/// async form gives it one of its own).
public struct BoundedCommand: Sendable {
    /// The command line (`arguments[0]` is looked up in `PATH` when it has no slash).
    public let arguments: [String]
    /// Its whole environment.
    public let environment: [String: String]
    /// Seconds it may take, from its start to its end and the end of its output.
    public let timeout: Double

    /// What one keeps of each stream; the rest is read and dropped (the outcome says so).
    public static let limit = 16 << 20

    /// A command to run.
    public init(_ arguments: [String], environment: [String: String], timeout: Double) {
        precondition(!arguments.isEmpty, "a command needs a program")
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
    }

    /// How it ended and what it printed.
    public struct Outcome: Sendable, Equatable {
        /// Its exit status, when it exited.
        public var exit: Int32?
        /// The signal that ended it, when one did.
        public var signal: Int32?
        /// What it printed on standard output (at most ``BoundedCommand/limit`` bytes).
        public var output: Data
        /// What it printed on standard error (at most ``BoundedCommand/limit`` bytes).
        public var errors: Data

        /// Whether it exited with status 0.
        public var succeeded: Bool { exit == 0 }
        /// "exited with status N", "was ended by signal N", or that its status is unknown (neither is set).
        public var ending: String {
            if let exit { return "exited with status \(exit)" }
            if let signal { return "was ended by signal \(signal)" }
            return "ended, but its status was taken by another waiter"
        }
    }

    /// Why a command gave no outcome: it could not start, or it (or its output) did not end in time.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The command line.
        public let command: [String]
        /// What went wrong: "cannot start: ..." or "did not finish within N s".
        public let problem: String
        /// What it had printed on standard error before it was ended, when it was.
        public let errors: Data

        public var description: String { "`\(command.joined(separator: " "))` \(problem)" }
    }

    /// Runs it on the calling thread and waits for its end and the end of its output.
    ///
    /// - Throws: ``Failure`` when it cannot start, or when it has not exited and closed its output within
    ///   ``timeout`` seconds (it is then ended, with its process group).
    public func run() throws(Failure) -> Outcome {
        let deadline = POSIX.bootSeconds() + timeout
        var pipes: [Int32] = [-1, -1, -1, -1]
        guard systemPipe2(&pipes[0], O_CLOEXEC) == 0, systemPipe2(&pipes[2], O_CLOEXEC) == 0 else {
            for fd in pipes where fd >= 0 { close(fd) }
            throw Failure(command: arguments, problem: "cannot start: no pipe (\(Self.errnoText()))", errors: Data())
        }
        let pid: pid_t
        do {
            pid = try Spawn.start(
                arguments,
                environment: environment,
                output: .piped(output: pipes[1], errors: pipes[3]),
                detachment: .processGroup,
                defaultSignals: [SIGTERM, SIGINT, SIGHUP, SIGPIPE]
            )
        } catch {
            for fd in pipes { close(fd) }
            throw Failure(command: arguments, problem: "\(error)", errors: Data())
        }
        close(pipes[1])
        close(pipes[3])
        defer {
            close(pipes[0])
            close(pipes[2])
        }
        var streams = [Stream(fd: pipes[0]), Stream(fd: pipes[2])]
        let drained = Self.drain(&streams, until: deadline)
        if drained, let status = Self.reap(pid, until: deadline) {
            return Outcome(
                exit: status.exit,
                signal: status.signal,
                output: streams[0].data,
                errors: streams[1].data
            )
        }
        Self.end(group: pid)
        throw Failure(command: arguments, problem: "did not finish within \(timeout) s", errors: streams[1].data)
    }

    /// Runs it on a thread of its own (never one of Swift's cooperative pool, never one of Dispatch's,
    /// which a busy machine may not schedule in time) and returns its outcome.
    public func run() async throws(Failure) -> Outcome {
        try await OwnThread.run(named: "sovereign.command") { () throws(Failure) in try run() }
    }

    /// One stream of the command's: its pipe's read end and what was read of it.
    struct Stream {
        let fd: Int32
        var data = Data()
        var open = true
    }

    /// Reads both streams until both end; false when `deadline` comes first.
    static func drain(_ streams: inout [Stream], until deadline: Double) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while streams.contains(where: \.open) {
            let left = deadline - POSIX.bootSeconds()
            guard left > 0 else { return false }
            var polled = streams.filter(\.open).map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polled, nfds_t(polled.count), Int32(min(left * 1000, 1000).rounded(.up)))
            if ready < 0 && errno != EINTR { return false }
            for entry in polled where entry.revents != 0 {
                guard let index = streams.firstIndex(where: { $0.fd == entry.fd }) else { continue }
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    let room = max(0, limit - streams[index].data.count)
                    streams[index].data.append(contentsOf: buffer[0..<min(count, room)])
                } else if count == 0 || errno != EINTR && errno != EAGAIN {
                    streams[index].open = false
                }
            }
        }
        return true
    }

    /// Waits for `pid` to end (it closed its output, so it is ending); nil when `deadline` comes first.
    static func reap(_ pid: pid_t, until deadline: Double) -> (exit: Int32?, signal: Int32?)? {
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                let signal = status & 0x7f
                return signal == 0 ? ((status >> 8) & 0xff, nil) : (nil, signal)
            }
            if reaped < 0 && errno != EINTR { return (nil, nil) }
            if POSIX.bootSeconds() >= deadline { return nil }
            usleep(2_000)
        }
    }

    /// Ends a command's process group: SIGTERM, SIGKILL a second later if its leader still runs, and reaps
    /// the leader.
    static func end(group pid: pid_t) {
        kill(-pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// glibc's `pipe2`, which Swift's Glibc module does not export: a pipe whose ends are closed on exec from the
/// start, so no other child started meanwhile inherits them.
@_silgen_name("pipe2")
private func systemPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32
