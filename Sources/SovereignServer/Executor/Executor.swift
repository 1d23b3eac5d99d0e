public import Foundation
import SovereignBase
public import SovereignModel

/// What an executor sees of one attempt.
public enum AttemptObservation: Sendable, Hashable {
    /// It runs (for a local attempt: its process, or one of its process group, is alive).
    case running
    /// It ended, as its executor recorded.
    case ended(ExitStatus)
    /// Nothing of it runs and nothing recorded how it ended (killed with its supervisor, or never started).
    case gone
}

/// How the control plane asks an attempt to stop.
public enum AttemptSignal: Sendable, Hashable {
    /// Checkpoint and stop (SIGTERM for a process); the attempt has its grace period to do so.
    case stop
    /// Stop at once (SIGKILL for a process), losing what was not checkpointed.
    case kill
}

/// An executor's own name for an attempt it started: a process group id, a Slurm job id, a pod's name.
/// The control plane stores it and hands it back, never reading it.
public struct AttemptHandle: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The executor's text for it.
    public let rawValue: String

    /// Wraps an executor's name for an attempt.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
}

/// Runs attempts of workloads somewhere: local processes (``LocalProcessExecutor``, the embedded default),
/// and in later executors site agents, Slurm jobs or Kubernetes Jobs.
///
/// The control plane decides and records first, then calls an executor, so every method is idempotent and
/// safe to call again after a server restart: an executor keeps no state that the store and the place it
/// runs attempts do not. Attempts are named by the store's record and the executor's ``AttemptHandle``,
/// never by a process id, and the methods are asynchronous because an attempt may run on another machine.
public protocol Executor: Sendable {
    /// Starts an attempt whose intent is committed.
    ///
    /// - Returns: the executor's handle for it.
    /// - Throws: when the attempt cannot be started (the control plane records it as a failed attempt).
    func start(_ attempt: AttemptRecord, run: Workload.Run) async throws -> AttemptHandle
    /// How each attempt is doing now, in the order given.
    func observe(_ attempts: [AttemptRecord]) async -> [AttemptObservation]
    /// Takes over the attempts a previous server left open (at a server's first pass), and says how each is
    /// doing, in the order given.
    func adopt(_ attempts: [AttemptRecord]) async -> [AttemptObservation]
    /// Asks an attempt to stop, with or without its grace period.
    func signal(_ attempt: AttemptRecord, _ signal: AttemptSignal) async
    /// Bytes of each workload's latest checkpoint at the site named with it (0 when it has none there).
    ///
    /// - Parameter workloads: workload names, each with the site to look at (an executor whose sites share
    ///   one directory, as the local one does, may ignore the site).
    func checkpointBytes(of workloads: [String: String]) async -> [String: Int64]
    /// Where an attempt's output goes (recorded with the attempt's intent, before it starts), for an attempt
    /// at `site`.
    func logPath(workload: String, attempt number: Int, site: String) -> String
}
