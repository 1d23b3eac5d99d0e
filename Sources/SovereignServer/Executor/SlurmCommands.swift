public import Foundation

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
    /// --export=ALL` would hand it to every job). Each runs as a ``BoundedCommand`` on a thread of its own:
    /// a hung one never holds up anything else, and its output is read whole or the command is an error
    /// (an empty `squeue` answer that was only late would make running jobs look gone).
    public static func system(slurmConf: String?, timeout: Double = 15) -> SlurmCommands {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "SOVEREIGN_TOKEN")
        if let slurmConf { environment["SLURM_CONF"] = slurmConf }
        return SlurmCommands { [environment] arguments in
            let outcome: BoundedCommand.Outcome
            do throws(BoundedCommand.Failure) {
                outcome = try await BoundedCommand(arguments, environment: environment, timeout: timeout).run()
            } catch {
                throw SlurmCommandError(
                    command: arguments,
                    problem: error.problem,
                    printed: String(decoding: error.errors, as: UTF8.self)
                )
            }
            guard outcome.succeeded else {
                throw SlurmCommandError(
                    command: arguments,
                    problem: outcome.ending,
                    printed: String(decoding: outcome.errors + outcome.output, as: UTF8.self)
                )
            }
            return String(decoding: outcome.output, as: UTF8.self)
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
