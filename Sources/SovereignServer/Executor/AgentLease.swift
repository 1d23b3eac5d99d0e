public import Foundation
import SovereignBase

/// A site agent's lease on its work, as a file beside its work that the agent renews at every answer from the
/// control plane: the dead man's switch of the attempts it started.
///
/// The agent itself stops its work once a lease passes without an answer and kills it by one and a half
/// (``SiteAgentState/killOverdue(now:)``); the control plane starts the work elsewhere after two. An agent that
/// has died does neither, so every supervisor it started reads this file and acts on its own, a little later
/// than a live agent would: it asks its command to stop at 1.25 leases and kills it at 1.75 (or when its
/// grace period after the stop ran out, if sooner), always before the control plane reassigns the work.
///
/// Times are ``POSIX/bootSeconds()``, which the agent and its supervisors share and no clock correction moves.
public struct AgentLease: Codable, Sendable, Hashable {
    /// When the control plane last answered.
    public var renewedAt: Double
    /// The lease it gave, in seconds.
    public var leaseSeconds: Double

    /// What a supervisor does about its command under this lease.
    public enum Verdict: Sendable, Hashable {
        /// The lease holds: keep running.
        case holds
        /// The lease ran out: ask the command to checkpoint and stop.
        case stop
        /// The command must be dead now: the control plane may soon start the work elsewhere.
        case kill
    }

    /// Makes a lease renewed at `renewedAt`.
    public init(renewedAt: Double, leaseSeconds: Double) {
        self.renewedAt = renewedAt
        self.leaseSeconds = leaseSeconds
    }

    /// What to do at `now`, for a command asked to stop at `stoppedAt` (if it was) with `graceSeconds` to go.
    public func verdict(now: Double, stoppedAt: Double?, graceSeconds: Double) -> Verdict {
        let silent = now - renewedAt
        if silent >= 1.75 * leaseSeconds { return .kill }
        if let stoppedAt, now - stoppedAt >= graceSeconds { return .kill }
        return stoppedAt != nil || silent >= 1.25 * leaseSeconds ? .stop : .holds
    }

    /// The lease in `path`, or nil when there is none or it cannot be read.
    public static func read(_ path: String) -> AgentLease? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(AgentLease.self, from: data)
    }

    /// Writes the lease so that a supervisor reads all of it or none (not synced to disk: after the machine
    /// restarts, no supervisor is left to read it).
    ///
    /// - Throws: ``FileWriteError`` naming the path and the system's reason.
    public func write(to path: String) throws {
        try POSIX.writeAtomically(try JSONEncoder().encode(self), to: path, mode: 0o600, durable: false)
    }
}
