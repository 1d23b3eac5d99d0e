import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `posix_spawn` with the few options the executor needs: a new session (so the child leads its own
/// process group and outlives the server) or a new process group (so a timeout can end the child and what
/// it started), default dispositions for the signals a supervisor ignores, and standard input from
/// /dev/null with output appended to a file or written to pipes.
enum Spawn {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Where the child's standard output and standard error go.
    enum Output {
        /// Both appended to the file at this path (created with mode 0600).
        case appended(to: String)
        /// To the write ends of two pipes (descriptors of the caller, duplicated onto 1 and 2).
        case piped(output: Int32, errors: Int32)
    }

    /// What the child leads of its own.
    enum Detachment {
        /// Nothing: it stays in the caller's session and process group.
        case none
        /// A process group, so that signalling `-pid` reaches it and every process it started.
        case processGroup
        /// A session (and its process group), so it outlives the caller's terminal and process group, and
        /// it inherits no descriptor of the caller's above 2.
        case session
    }

    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does not export.
    nonisolated(unsafe) static let closeFrom: CloseFrom? = {
        guard let handle = dlopen(nil, RTLD_NOW),
            let symbol = dlsym(handle, "posix_spawn_file_actions_addclosefrom_np")
        else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    /// glibc's `POSIX_SPAWN_SETSID` (2.26+), not exported to Swift.
    static let setSession: Int16 = 0x80

    /// Starts `arguments[0]` (looked up in PATH when it has no slash).
    ///
    /// - Returns: the child's process id.
    static func start(
        _ arguments: [String],
        environment: [String: String],
        output: Output,
        detachment: Detachment,
        defaultSignals: [Int32]
    ) throws -> pid_t {
        precondition(!arguments.isEmpty)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        switch output {
        case .appended(let path):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .piped(let out, let errors):
            posix_spawn_file_actions_adddup2(&actions, out, 1)
            posix_spawn_file_actions_adddup2(&actions, errors, 2)
        }
        // After the output is in place: the pipes' descriptors are above 2.
        if detachment != .none {
            // Nothing of the server's (its listening socket, connections, the database) leaks into a workload.
            guard let closeFrom = closeFrom, closeFrom(&actions, 3) == 0 else {
                throw Failure(
                    description: "cannot start \(arguments[0]): posix_spawn cannot close inherited descriptors"
                )
            }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        switch detachment {
        case .none: break
        case .processGroup:
            flags |= Int16(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        case .session: flags |= setSession
        }
        posix_spawnattr_setflags(&attributes, flags)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in defaultSignals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = argv.withUnsafeBufferPointer { a in
            envp.withUnsafeBufferPointer { e in
                posix_spawnp(&pid, arguments[0], &actions, &attributes, a.baseAddress!, e.baseAddress!)
            }
        }
        guard status == 0 else {
            throw Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// The executable of the running process (to start `sovereign supervise` with the same binary).
    static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
