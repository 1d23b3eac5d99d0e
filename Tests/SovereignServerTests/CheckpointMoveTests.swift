import Crypto
import Foundation
import SovereignCheckpoint
import SovereignLedger
import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignServer

/// Checkpoints that move between two agents' sites: the control plane orders the move only where residency
/// lets it, relays only what the source signed, records the arrival in the ledger, and refuses every other
/// site and role.
struct CheckpointMoveTests {
    typealias F = ControlFixtures
    static let kenya: Set<String> = ["nairobi-1", "mombasa-1"]

    /// Two agents with keys of their own, and the harness they report to.
    struct Fixture {
        let h: F.Harness
        let identities: [String: AgentIdentity]
        var peers: [String: String] = [:]

        func poll(
            _ site: String,
            _ attempts: [ReportedAttempt] = [],
            seen: Int64 = 0,
            bytes: Int64 = 0,
            received: [ReceivedCheckpoint]? = nil
        ) async throws -> AgentAssignments {
            try await h.plane.agentPoll(
                site: site,
                report: AgentReport(
                    agent: "test",
                    seenThrough: seen,
                    attempts: attempts,
                    checkpoints: bytes > 0 ? [ReportedCheckpoint(workload: "train", bytes: bytes)] : [],
                    keys: identities[site]?.publicKeys,
                    received: received,
                    peer: peers[site]
                ),
                by: F.requester
            )
        }
    }

    /// `train` runs at nairobi-1, whose power is cut: its agent checkpoints and stops it, and the work is
    /// placed at mombasa-1, resuming from nairobi-1's checkpoint.
    static func migrated(fleet: String = F.fleet, peers: [String: String] = [:]) async throws -> (Fixture, Assignment) {
        let h = try F.harness(fleetText: fleet, agentSites: kenya)
        let f = Fixture(h: h, identities: ["nairobi-1": AgentIdentity(), "mombasa-1": AgentIdentity()], peers: peers)
        _ = try await f.poll("mombasa-1")
        _ = try await h.plane.submit(document: F.workload("train"), by: F.requester)
        try await h.plane.reconcile()
        let first = try #require(try await f.poll("nairobi-1").attempts.first)
        _ = try await h.plane.receivePower(
            site: "nairobi-1",
            available: .watts(0),
            forecast: [],
            ambient: nil,
            by: F.requester
        )
        let stopped = ReportedAttempt.ended(id: first.id, workload: "train", status: ExitStatus(exit: 143))
        _ = try await f.poll("nairobi-1", [stopped], seen: first.id, bytes: 4096)
        try await h.plane.reconcile()
        let answer = try await f.poll("mombasa-1")
        return (f, try #require(answer.attempts.first))
    }

    /// The fields of every ledger entry of `kind`.
    static func entries(_ h: F.Harness, _ kind: String) throws -> [[String: JSONValue]] {
        try h.store.ledgerEntries(from: 0, limit: 10_000).compactMap { entry in
            guard case .object(let all) = try JSONDecoder().decode(JSONValue.self, from: Data(entry.canonicalJSON)),
                all["kind"] == .string(kind), case .object(let fields) = all["fields"]
            else { return nil }
            return fields
        }
    }

    @Test func theDestinationWaitsForTheCheckpointTheSourceIsToldToSend() async throws {
        let (f, assignment) = try await Self.migrated()
        #expect(assignment.resume)
        let fetch = try #require(assignment.fetch)
        #expect(fetch.transfer == "train.\(assignment.id)" && fetch.from == "nairobi-1" && !fetch.sourceSilent)
        #expect(fetch.senderKey == f.identities["nairobi-1"]?.publicKeys.signing)
        let sends = try await f.poll("nairobi-1").sends
        #expect(
            sends == [
                CheckpointSend(
                    transfer: fetch.transfer,
                    workload: "train",
                    to: "mombasa-1",
                    recipientKey: try #require(f.identities["mombasa-1"]).publicKeys.agreement
                )
            ]
        )
        let history = try f.h.store.transitions(of: "train").map(\.reason)
        #expect(history.contains { $0.contains("resuming at mombasa-1 from its checkpoint") }, "\(history)")
        #expect(try await f.poll("mombasa-1").sends.isEmpty, "the destination sends nothing")
    }

    @Test func theRelayCarriesWhatTheSourceSignedAndTheArrivalIsInTheLedger() async throws {
        let (f, assignment) = try await Self.migrated()
        let transfer = try #require(assignment.fetch?.transfer)
        let source = try #require(f.identities["nairobi-1"])
        let destination = try #require(f.identities["mombasa-1"])
        let directory = try Fixtures.temporaryDirectory()
        try Data(repeating: 7, count: 3000).write(to: directory.appendingPathComponent("model.pt"))
        let sender = try CheckpointSender(
            directory: directory.path,
            workload: "train",
            transferID: transfer,
            destination: destination.agreement.publicKey,
            chunkSize: 1024
        )
        let plane = f.h.plane
        await #expect(throws: ControlError.self) {
            try await plane.relayOffer(
                transfer,
                try SignedOffer(sender.offer, key: destination.signing),
                from: "nairobi-1"
            )
        }
        await #expect(throws: ControlError.self) {
            try await plane.relayOffer(transfer, try SignedOffer(sender.offer, key: source.signing), from: "mombasa-1")
        }
        await #expect(throws: ControlError.self) { _ = try await plane.relayedOffer(transfer, to: "mombasa-1") }
        try await plane.relayOffer(transfer, try SignedOffer(sender.offer, key: source.signing), from: "nairobi-1")
        for index in 0..<sender.layout.chunkCount {
            try await plane.relayChunk(transfer, index: index, sealed: try sender.chunk(index), from: "nairobi-1")
        }
        await #expect(throws: ControlError.self) {
            try await plane.relayChunk(transfer, index: 0, sealed: Data(count: 10), from: "nairobi-1")
        }
        await #expect(throws: ControlError.self) {
            _ = try await plane.relayedChunk(transfer, index: 0, to: "kigali-1")
        }
        await #expect(throws: ControlError.self) {
            _ = try await plane.relayedChunk("other.1", index: 0, to: "mombasa-1")
        }
        let offer = try await plane.relayedOffer(transfer, to: "mombasa-1").verified(by: source.signing.publicKey)
        let root = try Fixtures.temporaryDirectory()
        var receiver = try CheckpointReceiver(root: root.path, offer: offer, privateKey: destination.agreement)
        while let index = receiver.firstMissingChunk {
            try receiver.receive(index, sealed: try await plane.relayedChunk(transfer, index: index, to: "mombasa-1"))
        }
        _ = try receiver.commit()
        let arrival = ReceivedCheckpoint(transfer: transfer, manifest: offer.manifest.digest, bytes: 3000)
        let running = ReportedAttempt.running(id: assignment.id, workload: "train")
        let after = try await f.poll("mombasa-1", [running], seen: assignment.id, received: [arrival])
        #expect(after.attempts.first?.fetch == nil, "the checkpoint is here now")
        #expect(try f.h.store.workload(named: "train")?.checkpointSite == "mombasa-1")
        let moved = try Self.entries(f.h, "checkpoint.moved")
        #expect(moved.count == 1)
        let fields = try #require(moved.first)
        #expect(fields["from"] == .string("nairobi-1") && fields["to"] == .string("mombasa-1"))
        #expect(fields["route"] == .string("relay") && fields["jurisdictions"] == .array([.string("KE")]))
        #expect(fields["manifestSHA256"] == .string(offer.manifest.digest) && fields["bytes"] == .number(3000))
        _ = try await f.poll("mombasa-1", [running], seen: assignment.id, received: [arrival])
        #expect(try Self.entries(f.h, "checkpoint.moved").count == 1, "an arrival reported again is recorded once")
        let relayed = try FileManager.default.contentsOfDirectory(
            atPath: f.h.directory.appendingPathComponent("relay").path
        )
        #expect(relayed.isEmpty, "the relay forgets a delivered transfer")
        await #expect(throws: ControlError.self) { _ = try await plane.relayedOffer(transfer, to: "mombasa-1") }
    }

    /// A policy that keeps even ciphertext out of a relay it cannot place (no `serve --jurisdiction`): the
    /// checkpoint does not move, the work starts from scratch and the history says why.
    @Test func aCheckpointThatMayNotPassTheRelayStaysAndTheHistorySaysWhy() async throws {
        let (f, assignment) = try await Self.migrated(fleet: F.fleet + Self.strict)
        #expect(!assignment.resume && assignment.fetch == nil)
        #expect(try await f.poll("nairobi-1").sends.isEmpty)
        let history = try f.h.store.transitions(of: "train").map(\.reason)
        let line = try #require(history.last { $0.contains("from scratch") })
        #expect(line.contains("its checkpoint stays at nairobi-1: policy strict says checkpointTransit: direct"))
        #expect(line.contains("the agent at nairobi-1 does not listen for peers (site-agent --peer-listen)"))
    }

    static let strict = """
        ---
        apiVersion: sovereign.dev/v1
        kind: Policy
        metadata: {name: strict}
        spec: {checkpointTransit: direct}

        """

    /// The same policy with a source that listens for peers: the checkpoint travels straight from agent to
    /// agent. Both ends get the transfer's secret; the relay refuses the transfer.
    @Test func aCheckpointThatMayNotPassTheRelayTravelsDirectlyFromAListeningAgent() async throws {
        let peers = ["nairobi-1": "http://10.0.0.1:9443", "mombasa-1": "http://10.0.0.2:9443"]
        let (f, assignment) = try await Self.migrated(fleet: F.fleet + Self.strict, peers: peers)
        let fetch = try #require(assignment.fetch)
        #expect(assignment.resume && fetch.peer == "http://10.0.0.1:9443")
        let secret = try #require(fetch.secret)
        #expect(secret.count == 64)
        let sends = try await f.poll("nairobi-1").sends
        #expect(sends.map(\.secret) == [secret] && sends.map(\.transfer) == [fetch.transfer])
        let source = try #require(f.identities["nairobi-1"])
        let offer = try SignedOffer(
            try CheckpointSender(
                directory: try Self.directory(with: Data(count: 10)).path,
                workload: "train",
                transferID: fetch.transfer,
                destination: try #require(f.identities["mombasa-1"]).agreement.publicKey
            ).offer,
            key: source.signing
        )
        let plane = f.h.plane
        await #expect(throws: ControlError.self) {
            try await plane.relayOffer(fetch.transfer, offer, from: "nairobi-1")
        }
    }

    static func directory(with bytes: Data) throws -> URL {
        let directory = try Fixtures.temporaryDirectory()
        try bytes.write(to: directory.appendingPathComponent("model.pt"))
        return directory
    }

    /// A poll that comes between the pass that commits a resuming attempt and the moves that pass orders
    /// (here: the moves cleared, as they are before the pass sets them) still gets the attempt with its
    /// fetch, the same one the pass orders: its agent never starts it without its checkpoint.
    @Test func aResumingAttemptIsNeverListedWithoutItsFetch() async throws {
        let (f, assignment) = try await Self.migrated()
        let ordered = try #require(assignment.fetch)
        let agents = try #require(await f.h.plane.agents)
        await agents.setMoves([])
        let early = try #require(try await f.poll("mombasa-1").attempts.first)
        #expect(early.id == assignment.id && early.resume)
        #expect(early.fetch == ordered)
    }

    /// The destination's agent reports it gave the attempt up when the source fell silent; an arrival
    /// from a site that is not the destination is ignored.
    @Test func aSilentSourceIsNamedAndArrivalsFromOtherSitesAreIgnored() async throws {
        let (f, assignment) = try await Self.migrated()
        let transfer = try #require(assignment.fetch?.transfer)
        let forged = ReceivedCheckpoint(transfer: transfer, manifest: String(repeating: "0", count: 64), bytes: 1)
        _ = try await f.poll("nairobi-1", received: [forged])
        #expect(try f.h.store.workload(named: "train")?.checkpointSite == "nairobi-1")
        f.h.clock.advance(25)
        let answer = try await f.poll(
            "mombasa-1",
            [.running(id: assignment.id, workload: "train")],
            seen: assignment.id
        )
        #expect(answer.attempts.first?.fetch?.sourceSilent == true)
        var gaveUp = ExitStatus(refused: "its checkpoint's site nairobi-1 fell silent before sending it")
        gaveUp.sourceSilent = true
        _ = try await f.poll(
            "mombasa-1",
            [.ended(id: assignment.id, workload: "train", status: gaveUp)],
            seen: assignment.id
        )
        let record = try #require(try f.h.store.workload(named: "train"))
        #expect(record.failures == 0, "a checkpoint that never came is not the workload's failure")
        #expect(try f.h.store.attempts(of: "train").first { $0.id == assignment.id }?.outcome == "not-started")
        #expect(record.checkpointSite == "nairobi-1")
    }

    /// A workload that asks for a replica keeps a copy of its checkpoint at the other Kenyan site, refreshed
    /// only after `every`; when its site goes dark, the work resumes from that copy, and the history says so.
    @Test func aReplicaIsKeptAndTheWorkResumesFromItWhenItsSiteGoesDark() async throws {
        let h = try F.harness(agentSites: Self.kenya)
        let f = Fixture(h: h, identities: ["nairobi-1": AgentIdentity(), "mombasa-1": AgentIdentity()])
        _ = try await f.poll("mombasa-1")
        let document = F.workload("train").replacingOccurrences(
            of: "  run:",
            with: "  checkpoint: {every: 1 h, replicate: 1}\n  run:"
        )
        _ = try await h.plane.submit(document: document, by: F.requester)
        try await h.plane.reconcile()
        let first = try #require(try await f.poll("nairobi-1").attempts.first)
        let running = [ReportedAttempt.running(id: first.id, workload: "train")]
        _ = try await f.poll("nairobi-1", running, seen: first.id, bytes: 4096)
        try await h.plane.reconcile()
        let receive = try #require(try await f.poll("mombasa-1").receives.first)
        #expect(receive.workload == "train" && receive.fetch.from == "nairobi-1")
        #expect(receive.fetch.transfer.hasPrefix("train.replica-"))
        let sends = try await f.poll("nairobi-1", running, seen: first.id, bytes: 4096).sends
        #expect(sends.map(\.transfer) == [receive.fetch.transfer] && sends.first?.to == "mombasa-1")
        let copy = ReceivedCheckpoint(
            transfer: receive.fetch.transfer,
            manifest: String(repeating: "c", count: 64),
            bytes: 4096
        )
        _ = try await f.poll("mombasa-1", received: [copy])
        let record = try #require(try h.store.workload(named: "train"))
        #expect(record.replicaSite == "mombasa-1" && record.checkpointSite == nil)
        let moved = try Self.entries(h, "checkpoint.moved")
        #expect(moved.map { $0["purpose"] } == [.string("replica")])
        h.clock.advance(5)
        _ = try await f.poll("nairobi-1", running, seen: first.id, bytes: 4096)
        try await h.plane.reconcile()
        #expect(try await f.poll("mombasa-1").receives.isEmpty, "the copy is fresh for an hour")
        h.clock.advance(21)
        _ = try await f.poll("mombasa-1")
        try await h.plane.reconcile()
        let history = try h.store.transitions(of: "train").map(\.reason)
        #expect(history.contains { $0.contains("it resumes from the copy of its checkpoint at mombasa-1, as of") })
        let resumed = try #require(try await f.poll("mombasa-1").attempts.first)
        #expect(resumed.resume && resumed.fetch == nil, "the copy is already there")
        #expect(try h.store.attempts(of: "train").map(\.outcome) == ["lost", nil])
    }
}
