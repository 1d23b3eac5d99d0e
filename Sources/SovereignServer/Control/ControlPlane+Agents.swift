public import Foundation
public import SovereignCheckpoint
import SovereignModel
import SovereignPlanner

extension ControlPlane {
    /// A site agent's poll: records its report (and its site's power, when it sends it), looks at once when
    /// the report says something ended, and answers with what should run at the site now.
    ///
    /// - Throws: ``ControlError`` (`unknownSite`, `noSiteAgent`) for a site that is not in the fleet or
    ///   whose work the server runs itself.
    public func agentPoll(site: String, report: AgentReport, by actor: Requester) async throws -> AgentAssignments {
        guard fleet.site(named: site) != nil else { throw ControlError.unknownSite(site) }
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
            try await reconcile()
        }
        var answer = try await assignments(for: site, agents: agents)
        answer.logRequests = await agents.logRequests(for: site)
        answer.sends = await agents.sends(from: site)
        return answer
    }

    /// Every open attempt at `site`, as its agent should run it (with where its checkpoint comes from when
    /// another site holds it).
    func assignments(for site: String, agents: SiteAgentExecutor) async throws -> AgentAssignments {
        let attempts = try store.openAttempts(at: site)
        var fetches: [Int64: CheckpointFetch] = [:]
        for id in attempts.compactMap(\.id) { fetches[id] = await agents.fetch(forAttempt: id) }
        return AgentAssignments(
            site: site,
            leaseSeconds: agents.lease.seconds,
            attempts: attempts.compactMap { attempt in
                guard let id = attempt.id, let run = specs[attempt.workload]?.run else { return nil }
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
                    fetch: fetches[id]
                )
            }
        )
    }
}

extension ControlPlane {
    /// Records the checkpoints `site`'s agent put in place: the workload's checkpoint is now at `site`, and
    /// the ledger says what moved (manifest digest, bytes), how and through which jurisdictions. A transfer
    /// that is not one of the site's moves is ignored; one reported again after it was recorded is too.
    func receiveCheckpoints(_ received: [ReceivedCheckpoint], at site: String, agents: SiteAgentExecutor) async throws {
        for arrival in received {
            guard let pending = await agents.move(arrival.transfer), pending.move.to == site else { continue }
            guard var record = try store.workload(named: pending.workload), record.checkpointSite != site else {
                await agents.finish(arrival.transfer)
                continue
            }
            record.checkpointSite = site
            record.updatedAt = clock().timeIntervalSince1970
            var change = StateChange()
            change.workloads.append(record)
            change.ledger.append(
                .checkpointMoved(
                    LedgerEvent.CheckpointArrival(
                        workload: pending.workload,
                        transfer: pending.transfer,
                        from: pending.move.from,
                        to: site,
                        route: pending.move.route.rawValue,
                        jurisdictions: pending.move.jurisdictionsCrossed,
                        manifest: arrival.manifest,
                        bytes: arrival.bytes
                    )
                )
            )
            try commit(change)
            await agents.finish(arrival.transfer)
        }
    }

    /// Recomputes the checkpoint moves under way from the store: every open attempt at an agent's site that
    /// resumes from a checkpoint another agent's site holds, where residency lets it travel by the relay.
    ///
    /// - Complexity: O(A + W) for A open attempts and W active workloads, once per pass.
    func refreshMoves() async throws {
        guard let agents else { return }
        let holders = Dictionary(try store.activeWorkloads().compactMap { r in r.checkpointSite.map { (r.name, $0) } })
        {
            first,
            _ in first
        }
        var pending: [PendingMove] = []
        for attempt in try store.openAttempts() where attempt.resume {
            guard let id = attempt.id, let from = holders[attempt.workload], from != attempt.site,
                agents.sites.contains(from), agents.sites.contains(attempt.site),
                let spec = specs[attempt.workload], let source = fleet.site(named: from),
                let destination = fleet.site(named: attempt.site),
                case .success(let move) = CheckpointResidency.move(
                    spec,
                    from: source,
                    to: destination,
                    relayJurisdiction: agents.jurisdiction,
                    in: fleet
                ),
                move.route == .relay
            else { continue }
            pending.append(PendingMove(attempt: id, move: move))
        }
        await agents.setMoves(pending)
    }

    // MARK: The relay

    /// The move `transfer`, when `site` takes part in it as `side`.
    ///
    /// - Throws: ``ControlError``: `unknownTransfer` (404) for no such move, `wrongSite` (403) for a site that
    ///   is not its source (to send) or destination (to fetch).
    func relayMove(_ transfer: String, site: String, sending: Bool) async throws -> (PendingMove, SiteAgentExecutor) {
        guard let agents, let pending = await agents.move(transfer) else {
            throw ControlError(
                .unknownTransfer,
                "expected a checkpoint transfer the control plane ordered, found none named \"\(transfer.prefix(80))\"",
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
    public func relayOffer(_ transfer: String, _ signed: SignedOffer, from site: String) async throws {
        let (_, agents) = try await relayMove(transfer, site: site, sending: true)
        guard let text = await agents.signingKey(of: site), let key = Curve25519SigningKey(base64: text) else {
            throw ControlError(
                .invalidCheckpoint,
                "expected a report with the agent's keys before its offer, found none from \(site)",
                field: "keys"
            )
        }
        do {
            try agents.relay.storeOffer(signed, transfer: transfer, sender: key)
        } catch let error as RelayError {
            throw ControlError(.invalidCheckpoint, error.description, field: error.field)
        }
    }

    /// Stores sealed chunk `index` of `transfer` from its source.
    public func relayChunk(_ transfer: String, index: Int, sealed: Data, from site: String) async throws {
        let (_, agents) = try await relayMove(transfer, site: site, sending: true)
        do {
            try agents.relay.storeChunk(transfer, index: index, sealed: sealed)
        } catch let error as RelayError {
            throw ControlError(.invalidCheckpoint, error.description, field: error.field)
        }
    }

    /// The bytes a chunk of `transfer` must have when it is sent (a source may send at most this many).
    public func relayChunkLimit(_ transfer: String, index: Int, from site: String) async throws -> Int {
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
    public func relayedOffer(_ transfer: String, to site: String) async throws -> SignedOffer {
        let (_, agents) = try await relayMove(transfer, site: site, sending: false)
        guard let offer = try agents.relay.offer(transfer) else {
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
    public func relayedChunk(_ transfer: String, index: Int, to site: String) async throws -> Data {
        let (_, agents) = try await relayMove(transfer, site: site, sending: false)
        guard let chunk = try agents.relay.chunk(transfer, index: index) else {
            throw ControlError(
                .unknownTransfer,
                "chunk \(index) of transfer \(transfer) has not been sent yet",
                field: "chunk"
            )
        }
        return chunk
    }
}
