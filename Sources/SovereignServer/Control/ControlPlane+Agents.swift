public import Foundation
public import SovereignCheckpoint
import SovereignModel
import SovereignPlanner

extension ControlPlane {
    /// A site agent's poll: records its report (and its site's power, when it sends it), looks at once when
    /// the report says something ended, and answers with what should run at the site now.
    ///
    /// - Throws: ``ControlError`` (`unknownSite`, `noSiteAgent`) for a site that is not in the fleet or
    ///   whose work the server runs itself; (`notLeader`) on a replica that follows, which knows no agent's work.
    public func agentPoll(site: String, report: AgentReport, by actor: Requester) async throws -> AgentAssignments {
        guard fleet.site(named: site) != nil else { throw ControlError.unknownSite(site) }
        guard leads else { throw ControlError.notLeader("a site agent's poll") }
        guard let agents, agents.sites.contains(site) else {
            throw ControlError(
                .noSiteAgent,
                "expected a site whose work runs through a site agent (serve --site-agents), found \"\(site)\", whose work the server runs itself",
                field: "site"
            )
        }
        let ended = await agents.receive(report, from: site)
        try await receiveCheckpoints(report.received ?? [], at: site, agents: agents)
        if let power = report.power {
            _ = try await receivePower(
                site: site,
                available: power.available,
                forecast: power.forecast.map { (at: $0.at, available: $0.available) },
                ambient: power.ambient,
                by: actor
            )
        } else if ended {
            try await reconcileAfterThis()
        }
        var seen = await agents.generation(of: site)
        var answer = try await answer(for: site, agents: agents)
        guard let wait = report.wait, wait > 0, report.answered == answer.version else { return answer }
        // The agent acted on this very answer: hold the poll until what it should do changes, for at most a
        // quarter of the lease (so the lease it renews still covers the hold with room to spare).
        let start = ContinuousClock.now
        let deadline = start + .seconds(min(wait, agents.lease.seconds / 4))
        while ContinuousClock.now < deadline && answer.version == report.answered {
            await agents.waitForChange(at: site, after: seen, until: deadline)
            seen = await agents.generation(of: site)
            answer = try await self.answer(for: site, agents: agents)
        }
        await agents.heardFrom(site)
        let held = ContinuousClock.now - start
        answer.heldSeconds = Double(held.components.seconds) + Double(held.components.attoseconds) / 1e18
        return answer
    }

    /// What `site`'s agent should do now, with its version.
    func answer(for site: String, agents: SiteAgentExecutor) async throws -> AgentAssignments {
        var answer = try await assignments(for: site, agents: agents)
        answer.logRequests = await agents.logRequests(for: site)
        answer.sends = await agents.sends(from: site)
        answer.receives = await agents.receives(at: site)
        answer.version = answer.digest
        return answer
    }

    /// Every open attempt at `site`, as its agent should run it (with where its checkpoint comes from when
    /// another site holds it).
    func assignments(for site: String, agents: SiteAgentExecutor) async throws -> AgentAssignments {
        let attempts = try store.openAttempts(at: site)
        var fetches: [Int64: CheckpointFetch] = [:]
        for id in attempts.compactMap(\.id) { fetches[id] = await agents.fetch(forAttempt: id) }
        let unmoved = try await fetchesNotYetOrdered(attempts, at: site, known: fetches, agents: agents)
        fetches.merge(unmoved.fetches) { known, _ in known }
        return AgentAssignments(
            site: site,
            leaseSeconds: agents.lease.seconds,
            attempts: attempts.compactMap { attempt in
                guard let id = attempt.id, !unmoved.withheld.contains(id), let run = specs[attempt.workload]?.run
                else { return nil }
                return Assignment(
                    id: id,
                    workload: attempt.workload,
                    number: attempt.number,
                    pool: attempt.pool,
                    accelerators: attempt.accelerators,
                    resume: attempt.resume,
                    command: run.command,
                    environment: run.environment,
                    gracePeriodSeconds: run.gracePeriod.seconds,
                    stop: attempt.termAt != nil,
                    kill: attempt.killAt != nil,
                    fetch: fetches[id],
                    image: run.image
                )
            }
        )
    }
}

extension ControlPlane {
    /// The fetches of attempts at `site` that resume from a checkpoint at another agent's site but whose
    /// move the pass that committed them has not ordered yet (a poll can come between the commit and the
    /// moves): worked out now, as the pass will order them, so that no such attempt is ever listed without
    /// its fetch (its agent would start it without its checkpoint). One whose move residency no longer
    /// allows is withheld: it is never started without its checkpoint, and the next pass settles it.
    func fetchesNotYetOrdered(
        _ attempts: [AttemptRecord],
        at site: String,
        known: [Int64: CheckpointFetch],
        agents: SiteAgentExecutor
    ) async throws -> (fetches: [Int64: CheckpointFetch], withheld: Set<Int64>) {
        var fetches: [Int64: CheckpointFetch] = [:]
        var withheld: Set<Int64> = []
        for attempt in attempts where attempt.resume {
            guard let id = attempt.id, known[id] == nil,
                let holder = try store.workload(named: attempt.workload)?.checkpointSite,
                holder != site, agents.sites.contains(holder)
            else { continue }
            let peers = await agents.peerSites()
            if let move = allowedMove(attempt.workload, from: holder, to: site, agents: agents, peers: peers) {
                fetches[id] = await agents.fetch(PendingMove(attempt: id, move: move))
            } else {
                withheld.insert(id)
            }
        }
        return (fetches, withheld)
    }

    /// Records the checkpoints `site`'s agent put in place: an attempt's checkpoint is now at `site`, a
    /// replica is the workload's copy there; the ledger says what moved (manifest digest, bytes), how, why
    /// and through which jurisdictions. A transfer that is not one of the site's moves is ignored; one
    /// reported again after it was recorded is too.
    func receiveCheckpoints(_ received: [ReceivedCheckpoint], at site: String, agents: SiteAgentExecutor) async throws {
        for arrival in received {
            guard let pending = await agents.move(arrival.transfer), pending.move.to == site,
                var record = try store.workload(named: pending.workload)
            else { continue }
            let now = clock().timeIntervalSince1970
            if pending.attempt == nil {
                record.replicaSite = site
                record.replicaAt = now
            } else {
                record.checkpointSite = site
            }
            record.updatedAt = now
            var change = StateChange()
            change.workloads.append(record)
            change.ledger.append(.checkpointMoved(Self.arrival(pending, arrival)))
            try commit(change)
            await agents.finish(arrival.transfer)
        }
    }

    static func arrival(_ pending: PendingMove, _ arrival: ReceivedCheckpoint) -> LedgerEvent.CheckpointArrival {
        LedgerEvent.CheckpointArrival(
            workload: pending.workload,
            transfer: pending.transfer,
            from: pending.move.from,
            to: pending.move.to,
            route: pending.move.route.rawValue,
            jurisdictions: pending.move.jurisdictionsCrossed,
            manifest: arrival.manifest,
            bytes: arrival.bytes,
            replica: pending.attempt == nil
        )
    }

    /// Recomputes the checkpoint moves under way from the pass's view of the store: every open attempt at an agent's site that
    /// resumes from a checkpoint another agent's site holds, and every replica due, where residency lets the
    /// checkpoint travel by the relay.
    ///
    /// - Complexity: O(A + W × S) for A open attempts, W active workloads and S agent sites, once per pass.
    func refreshMoves(_ view: PassView) async throws {
        guard let agents else { return }
        let (active, open) = (view.workloads, view.attempts)
        let holders = Dictionary(active.compactMap { r in r.checkpointSite.map { (r.name, $0) } }) { a, _ in a }
        let peers = await agents.peerSites()
        var pending: [PendingMove] = []
        for attempt in open where attempt.resume {
            guard let id = attempt.id, let from = holders[attempt.workload], from != attempt.site,
                let move = allowedMove(attempt.workload, from: from, to: attempt.site, agents: agents, peers: peers)
            else { continue }
            pending.append(PendingMove(attempt: id, move: move))
        }
        pending += try await replicaMoves(active, open: open, agents: agents, peers: peers)
        await agents.setMoves(pending)
    }

    /// The move of `workload`'s checkpoint between two agents' sites, when residency allows it: by the
    /// relay, or directly when a policy asks for it and the source's agent listens for peers.
    func allowedMove(
        _ workload: String,
        from: String,
        to: String,
        agents: SiteAgentExecutor,
        peers: Set<String>
    ) -> CheckpointMove? {
        guard agents.sites.contains(from), agents.sites.contains(to), let spec = specs[workload],
            let source = fleet.site(named: from), let destination = fleet.site(named: to),
            case .success(let move) = CheckpointResidency.move(
                spec,
                from: source,
                to: destination,
                relayJurisdiction: agents.jurisdiction,
                in: fleet
            ),
            move.route == .relay || peers.contains(from)
        else { return nil }
        return move
    }

    /// The replicas to keep: for each workload that asks for one (`checkpoint: {replicate: 1}`) and whose
    /// checkpoint is at an agent's site, a copy at another agent's site its residency allows, ordered when
    /// the last copy is older than `checkpoint.every` (a replica under way is kept while its sites report).
    func replicaMoves(
        _ active: [WorkloadRecord],
        open: [AttemptRecord],
        agents: SiteAgentExecutor,
        peers: Set<String>
    ) async throws -> [PendingMove] {
        let running = Dictionary(open.map { ($0.workload, $0.site) }) { _, later in later }
        let dark = await agents.darkSites()
        let underWay = await agents.pendingReplicas()
        let now = clock().timeIntervalSince1970
        var moves: [PendingMove] = []
        for record in active {
            guard let every = specs[record.name]?.checkpoint.flatMap({ $0.replicate > 0 ? $0.every : nil }),
                let from = running[record.name] ?? record.checkpointSite, dark[from] == nil,
                await agents.checkpointBytes(of: record.name, at: from) > 0
            else { continue }
            if let current = underWay[record.name], current.move.from == from, dark[current.move.to] == nil {
                moves.append(current)
                continue
            }
            let fresh = record.replicaSite.map { $0 != from && dark[$0] == nil } ?? false
            guard !fresh || now - (record.replicaAt ?? 0) >= every.seconds else { continue }
            for to in agents.sites.sorted() where to != from && dark[to] == nil {
                guard await agents.hasKeys(to),
                    let move = allowedMove(record.name, from: from, to: to, agents: agents, peers: peers)
                else { continue }
                moves.append(PendingMove(replicaAt: now, move: move))
                break
            }
        }
        return moves
    }

    // MARK: The relay
    //
    // The relay's routes run off the control plane's queue: they read no state of its own (only the agents'
    // executor's moves and keys), and their chunk files are read and written on ``relayFiles``, several at
    // once, so neither a transfer's chunks nor the polls and passes on the queue wait for one another.

    /// The move `transfer`, when `site` takes part in it as `side`.
    ///
    /// - Throws: ``ControlError``: `unknownTransfer` (404) for no such move, `wrongSite` (403) for a site that
    ///   is not its source (to send) or destination (to fetch).
    nonisolated func relayMove(
        _ transfer: String,
        site: String,
        sending: Bool
    ) async throws -> (PendingMove, SiteAgentExecutor) {
        guard let agents, let pending = await agents.move(transfer) else {
            throw ControlError(
                .unknownTransfer,
                "expected a checkpoint transfer the control plane ordered, found none named \"\(transfer.prefix(80))\"",
                field: "transfer"
            )
        }
        guard pending.move.route == .relay else {
            throw ControlError(
                .unknownTransfer,
                "transfer \(transfer) travels directly between the agents (checkpointTransit: direct), not through the relay",
                field: "transfer"
            )
        }
        let side = sending ? pending.move.from : pending.move.to
        guard side == site else {
            throw ControlError(
                .wrongSite,
                "expected the \(sending ? "source" : "destination") site of transfer \(transfer) (\(side)), found \(site)",
                field: "transfer"
            )
        }
        return (pending, agents)
    }

    /// Stores the source agent's signed offer, checked against the key its site reported.
    public nonisolated func relayOffer(_ transfer: String, _ signed: SignedOffer, from site: String) async throws {
        let (_, agents) = try await relayMove(transfer, site: site, sending: true)
        guard let text = await agents.signingKey(of: site), let key = Curve25519SigningKey(base64: text) else {
            throw ControlError(
                .invalidCheckpoint,
                "expected a report with the agent's keys before its offer, found none from \(site)",
                field: "keys"
            )
        }
        do {
            let others = await agents.relayTransfers(from: site)
            try await relayFiles.run {
                try agents.relay.storeOffer(signed, transfer: transfer, sender: key, alongside: others)
            }
        } catch let error as RelayError {
            throw ControlError(.invalidCheckpoint, error.description, field: error.field)
        }
    }

    /// Stores sealed chunk `index` of `transfer` from its source.
    public nonisolated func relayChunk(_ transfer: String, index: Int, sealed: Data, from site: String) async throws {
        let (_, agents) = try await relayMove(transfer, site: site, sending: true)
        do {
            try await relayFiles.run { try agents.relay.storeChunk(transfer, index: index, sealed: sealed) }
        } catch let error as RelayError {
            throw ControlError(.invalidCheckpoint, error.description, field: error.field)
        }
    }

    /// The bytes a chunk of `transfer` must have when it is sent (a source may send at most this many).
    public nonisolated func relayChunkLimit(_ transfer: String, index: Int, from site: String) async throws -> Int {
        let (_, agents) = try await relayMove(transfer, site: site, sending: true)
        do {
            return try agents.relay.sealedLength(transfer, chunk: index)
        } catch let error as RelayError {
            throw ControlError(.invalidCheckpoint, error.description, field: error.field)
        }
    }

    /// The signed offer of `transfer`, for its destination.
    ///
    /// - Throws: `unknownTransfer` (404) while the source has not sent it.
    public nonisolated func relayedOffer(_ transfer: String, to site: String) async throws -> SignedOffer {
        let (_, agents) = try await relayMove(transfer, site: site, sending: false)
        guard let offer = try await relayFiles.run({ try agents.relay.offer(transfer) }) else {
            throw ControlError(
                .unknownTransfer,
                "the offer of transfer \(transfer) has not been sent yet",
                field: "transfer"
            )
        }
        return offer
    }

    /// Sealed chunk `index` of `transfer`, for its destination.
    ///
    /// - Throws: `unknownTransfer` (404) while the source has not sent it.
    public nonisolated func relayedChunk(_ transfer: String, index: Int, to site: String) async throws -> Data {
        let (_, agents) = try await relayMove(transfer, site: site, sending: false)
        guard let chunk = try await relayFiles.run({ try agents.relay.chunk(transfer, index: index) }) else {
            throw ControlError(
                .unknownTransfer,
                "chunk \(index) of transfer \(transfer) has not been sent yet",
                field: "chunk"
            )
        }
        return chunk
    }
}
