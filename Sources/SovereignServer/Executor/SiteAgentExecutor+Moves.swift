import Crypto
import Foundation
import SovereignBase
import SovereignModel
public import SovereignPlanner

/// A checkpoint the control plane has ordered moved from one agent's site to another's: for an open attempt
/// at `to` that resumes from the checkpoint `from` holds, or for a copy kept at `to` (a replica).
public struct PendingMove: Sendable, Hashable {
    /// The transfer's id: the workload's name and the attempt's id, like `train.42`, or for a replica the
    /// time it was ordered, like `train.replica-1796371200`.
    public let transfer: String
    /// The workload whose checkpoint moves.
    public let workload: String
    /// The attempt that waits for it; `nil` for a replica.
    public let attempt: Int64?
    /// The move residency allows: sites, route and jurisdictions crossed.
    public let move: CheckpointMove

    /// The move for attempt `attempt`, named after it.
    public init(attempt: Int64, move: CheckpointMove) {
        self.transfer = "\(move.workload).\(attempt)"
        self.workload = move.workload
        self.attempt = attempt
        self.move = move
    }

    /// A replica ordered at `time` (seconds since 1970).
    public init(replicaAt time: Double, move: CheckpointMove) {
        self.transfer = "\(move.workload).replica-\(Int(time))"
        self.workload = move.workload
        self.attempt = nil
        self.move = move
    }

    /// `resume` or `replica`, as the ledger records it.
    public var purpose: String { attempt == nil ? "replica" : "resume" }
}

extension SiteAgentExecutor {
    /// Replaces the moves under way with `pending` and drops from the relay every transfer no longer in it
    /// (the relay's directory is read only when the set of transfers changed, not at every pass).
    func setMoves(_ pending: [PendingMove]) {
        let before = moves
        moves = Dictionary(pending.map { ($0.transfer, $0) }) { first, _ in first }
        let moved = Set(
            before.values.filter { moves[$0.transfer] != $0 } + moves.values.filter { before[$0.transfer] != $0 }
        )
        if !moved.isEmpty { changed(Set(moved.flatMap { [$0.move.from, $0.move.to] })) }
        if Set(moves.keys) != Set(before.keys) || !prunedOnce {
            relay.prune(keeping: Set(moves.keys))
            prunedOnce = true
        }
    }

    /// The move named `transfer`, or `nil`.
    func move(_ transfer: String) -> PendingMove? { moves[transfer] }

    /// Forgets a move that is done.
    func finish(_ transfer: String) {
        if let done = moves.removeValue(forKey: transfer) { changed([done.move.from, done.move.to]) }
        relay.prune(keeping: Set(moves.keys))
    }

    /// Where attempt `id` at `site` gets its checkpoint, when it comes from another site; the source's
    /// signing key is `nil` until its agent has reported one.
    func fetch(forAttempt id: Int64) -> CheckpointFetch? {
        moves.values.first { $0.attempt == id }.map(fetch)
    }

    /// How the destination of `pending` gets it: through the relay, or from the source's peer listener
    /// with the transfer's secret.
    func fetch(_ pending: PendingMove) -> CheckpointFetch {
        let from = pending.move.from
        let silent = contacts[from].map { isDark($0, now: clock().timeIntervalSince1970) } ?? true
        let direct = pending.move.route == .direct
        return CheckpointFetch(
            transfer: pending.transfer,
            from: from,
            senderKey: keys[from]?.signing,
            sourceSilent: silent,
            peer: direct ? peers[from] : nil,
            secret: direct ? secret(pending.transfer) : nil
        )
    }

    /// The secret a peer listener asks of the destination of `transfer`: HMAC-SHA-256 under this server's
    /// key, hex.
    func secret(_ transfer: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(transfer.utf8), using: transferKey))
    }

    /// The sites whose agents listen for peers.
    public func peerSites() -> Set<String> { Set(peers.keys) }

    /// The transfers `site` sends through the relay.
    func relayTransfers(from site: String) -> [String] {
        moves.values.filter { $0.move.from == site && $0.move.route == .relay }.map(\.transfer).sorted()
    }

    /// The checkpoints `site` should send now: those of its moves whose destination's key is known.
    func sends(from site: String) -> [CheckpointSend] {
        moves.values.filter { $0.move.from == site }.sorted { $0.transfer < $1.transfer }.compactMap { pending in
            guard let key = keys[pending.move.to]?.agreement else { return nil }
            return CheckpointSend(
                transfer: pending.transfer,
                workload: pending.workload,
                to: pending.move.to,
                recipientKey: key,
                secret: pending.move.route == .direct ? secret(pending.transfer) : nil
            )
        }
    }

    /// The replicas `site` should receive, with the source's key (`nil` until known) and whether the source
    /// has fallen silent.
    func receives(at site: String) -> [CheckpointReceive] {
        moves.values.filter { $0.attempt == nil && $0.move.to == site }.sorted { $0.transfer < $1.transfer }.map {
            CheckpointReceive(workload: $0.workload, fetch: fetch($0))
        }
    }

    /// The replicas under way, by workload.
    func pendingReplicas() -> [String: PendingMove] {
        Dictionary(moves.values.filter { $0.attempt == nil }.map { ($0.workload, $0) }) { first, _ in first }
    }

    /// The bytes of `workload`'s checkpoint `site`'s agent last reported.
    func checkpointBytes(of workload: String, at site: String) -> Int64 { checkpoints[site]?[workload] ?? 0 }

    /// Whether `site`'s agent has reported keys (a checkpoint can be sealed for it).
    func hasKeys(_ site: String) -> Bool { keys[site] != nil }

    /// The reported signing key of `site`'s agent.
    func signingKey(of site: String) -> String? { keys[site]?.signing }
}
