public import Foundation
import Synchronization

/// Runs Slurm's commands (`sbatch`, `squeue`, `sacct`, `scancel`): the edge of the Slurm executor, which
/// tests replace with a fake that answers from captured output.
public struct SlurmCommands: Sendable {
    /// Runs a command line and returns what it printed on standard output.
    ///
    /// - Throws: ``SlurmCommandError`` when it cannot start, exits with another status than 0, or does not
    ///   finish in time.
    public let run: @Sendable (_ arguments: [String]) async throws -> String

    /// Commands answered by `run`.
    public init(run: @escaping @Sendable (_ arguments: [String]) async throws -> String) { self.run = run }

    /// The installed Slurm clients (found in `PATH`), each given at most `timeout` seconds, with `SLURM_CONF`
    /// set to `slurmConf` when one is given, and without the agent's `SOVEREIGN_TOKEN` (`sbatch
    /// --export=ALL` would hand it to every job). A command runs on a thread of its own, so a hung one never
    /// holds up Swift's cooperative pool, and is killed when its time is up.
    public static func system(slurmConf: String?, timeout: Double = 15) -> SlurmCommands {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "SOVEREIGN_TOKEN")
        if let slurmConf { environment["SLURM_CONF"] = slurmConf }
        return SlurmCommands { [environment] arguments in
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(
                        with: Result { try execute(arguments, environment: environment, timeout: timeout) }
                    )
                }
            }
        }
    }

    /// Runs `arguments` and waits for it, at most `timeout` seconds.
    static func execute(_ arguments: [String], environment: [String: String], timeout: Double) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        do {
            try process.run()
        } catch {
            throw SlurmCommandError(command: arguments, problem: "cannot start: \(error)", printed: "")
        }
        let printed = [Drain(output.fileHandleForReading), Drain(errors.fileHandleForReading)]
        guard ended.wait(timeout: .now() + timeout) == .success else {
            process.terminate()
            if ended.wait(timeout: .now() + 1) == .timedOut { kill(process.processIdentifier, SIGKILL) }
            throw SlurmCommandError(
                command: arguments,
                problem: "did not finish within \(timeout) s",
                printed: printed[1].text(within: 0.5)
            )
        }
        let (stdout, stderr) = (printed[0].text(within: 2), printed[1].text(within: 2))
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how =
                process.terminationReason == .exit
                ? "exited with status \(process.terminationStatus)" : "was ended by signal \(process.terminationStatus)"
            throw SlurmCommandError(command: arguments, problem: how, printed: stderr + stdout)
        }
        return stdout
    }

    /// Reads a pipe to its end on a thread of Dispatch's, so a command that prints a lot never blocks on a
    /// full pipe.
    final class Drain: Sendable {
        let data = Mutex(Data())
        let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            DispatchQueue.global().async { [self] in
                let all = handle.readDataToEndOfFile()
                data.withLock { $0 = all }
                done.signal()
            }
        }

        /// What was read, once the pipe closed (or what there is after `seconds`: nothing, if it did not).
        func text(within seconds: Double) -> String {
            _ = done.wait(timeout: .now() + seconds)
            return data.withLock { String(decoding: $0, as: UTF8.self) }
        }
    }
}

/// A Slurm command that did not do what the executor asked: the command line, what went wrong (its exit
/// status, or that it timed out) and what it printed.
public struct SlurmCommandError: Error, CustomStringConvertible, Sendable {
    /// The command line.
    public let command: [String]
    /// What went wrong.
    public let problem: String
    /// What it printed (standard error first), trimmed.
    public let printed: String

    /// An error of `command`.
    public init(command: [String], problem: String, printed: String) {
        self.command = command
        self.problem = problem
        self.printed = printed.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public var description: String {
        let said = printed.isEmpty ? "" : ": \(printed.prefix(500))"
        return "`\(command.joined(separator: " "))` \(problem)\(said)"
    }
}
