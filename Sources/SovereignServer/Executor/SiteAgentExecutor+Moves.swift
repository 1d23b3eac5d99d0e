import Foundation
import SovereignModel
public import SovereignPlanner

/// A checkpoint the control plane has ordered moved from one agent's site to another's: an open attempt at
/// `to` resumes from the checkpoint `from` holds.
public struct PendingMove: Sendable, Hashable {
    /// The transfer's id: the workload's name and the attempt's id, like `train.42`.
    public let transfer: String
    /// The workload whose checkpoint moves.
    public let workload: String
    /// The attempt that waits for it.
    public let attempt: Int64
    /// The move residency allows: sites, route and jurisdictions crossed.
    public let move: CheckpointMove

    /// The move for attempt `attempt`, named after it.
    public init(attempt: Int64, move: CheckpointMove) {
        self.transfer = "\(move.workload).\(attempt)"
        self.workload = move.workload
        self.attempt = attempt
        self.move = move
    }
}

extension SiteAgentExecutor {
    /// Replaces the moves under way with `pending` and drops from the relay every transfer no longer in it.
    func setMoves(_ pending: [PendingMove]) {
        moves = Dictionary(pending.map { ($0.transfer, $0) }) { first, _ in first }
        relay.prune(keeping: Set(moves.keys))
    }

    /// The move named `transfer`, or `nil`.
    func move(_ transfer: String) -> PendingMove? { moves[transfer] }

    /// Forgets a move that is done.
    func finish(_ transfer: String) {
        moves[transfer] = nil
        relay.prune(keeping: Set(moves.keys))
    }

    /// Where attempt `id` at `site` gets its checkpoint, when it comes from another site; the source's
    /// signing key is `nil` until its agent has reported one.
    func fetch(forAttempt id: Int64) -> CheckpointFetch? {
        guard let pending = moves.values.first(where: { $0.attempt == id }) else { return nil }
        let from = pending.move.from
        let silent = contacts[from].map { clock().timeIntervalSince1970 - $0.at > 2 * lease.seconds } ?? true
        return CheckpointFetch(
            transfer: pending.transfer,
            from: from,
            senderKey: keys[from]?.signing,
            sourceSilent: silent
        )
    }

    /// The checkpoints `site` should send now: those of its moves whose destination's key is known.
    func sends(from site: String) -> [CheckpointSend] {
        moves.values.filter { $0.move.from == site }.sorted { $0.transfer < $1.transfer }.compactMap { pending in
            guard let key = keys[pending.move.to]?.agreement else { return nil }
            return CheckpointSend(
                transfer: pending.transfer,
                workload: pending.workload,
                to: pending.move.to,
                recipientKey: key
            )
        }
    }

    /// The reported signing key of `site`'s agent.
    func signingKey(of site: String) -> String? { keys[site]?.signing }
}
