import Foundation
import Logging
import SovereignServer
import Testing

@testable import SovereignStorePostgres

/// Control planes as replicas on one PostgreSQL database: one leads on the lease, the others serve reads and
/// take submissions, and the store is the only channel between them.
struct ReplicaTests {
    typealias F = ControlFixtures

    /// A replica of the harness's plane: its own connection to the database, the harness's executor (the
    /// replicas share a machine, as the leader must reach the processes it adopts) and clock.
    static func replica(_ h: F.Harness, holder: String) throws -> (ControlPlane, PostgresControlStore) {
        let location = try #require(h.store as? PostgresControlStore).location
        let store = try PostgresControlStore(location: location, logger: StoreBackend.quiet)
        let (fleet, declared) = try SovereignServer.loadFleet([h.directory.appendingPathComponent("fleet.yaml").path])
        let plane = try ControlPlane(
            fleet: fleet,
            declared: declared,
            store: store,
            executor: h.executor,
            signer: h.signer,
            origin: "test",
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            lease: LeaderLease(holder: holder, duration: .seconds(600)),
            clock: h.clock.read
        )
        return (plane, store)
    }

    /// A follower takes a submission and starts nothing; the leader's pass finds it in the store and starts
    /// it; the follower's tree follows the stored ledger, and it signs no checkpoint.
    @Test func aFollowersSubmissionIsRunByTheLeader() async throws {
        let h = try F.harness(backend: .postgres)
        let (leader, _) = try Self.replica(h, holder: "a")
        let (follower, _) = try Self.replica(h, holder: "b")
        #expect(await leader.leads)
        #expect(await !follower.leads)
        #expect(try await follower.holdLease() == false)

        _ = try await follower.submit(document: F.workload("train"), by: F.requester)
        try await follower.reconcile()
        #expect(h.executor.live.isEmpty)
        #expect(try h.store.workload(named: "train")?.state == .pending)

        try await leader.reconcile()
        #expect(h.executor.live.map(\.workload) == ["train"])
        #expect(try h.store.workload(named: "train")?.state == .running)

        // The leader's pass signed its checkpoint; the follower signs none, even asked to.
        #expect(try h.store.checkpoints().count == 1)
        try await follower.follow()
        let (size, root) = try await leader.ledgerHead()
        let followed = try await follower.ledgerHead()
        #expect(followed.size == size && followed.root == root)
        #expect(try await follower.signCheckpoint(force: true) == nil)
        #expect(try h.store.checkpoints().count == 1)
    }

    /// The leader stalls past its lease; a follower takes over, adopts the running attempt (starting nothing
    /// twice) and runs what is new; the old leader's next pass is refused at its commit, lands nothing, and it
    /// steps down.
    @Test func aTakeoverAdoptsWhatRunsAndTheDeposedLeaderWritesNothing() async throws {
        let h = try F.harness(backend: .postgres)
        let (leader, leaderStore) = try Self.replica(h, holder: "a")
        let (follower, _) = try Self.replica(h, holder: "b")
        _ = try await leader.submit(document: F.workload("train"), by: F.requester)
        try await leader.reconcile()
        try #require(h.executor.live.count == 1)

        // The leader's lease runs out unrenewed (what a stalled leader's does), and the follower takes it.
        // (Epoch 1 was the harness's own plane's, whose lease expired as it was taken.)
        #expect(try leaderStore.lead(as: "a", renewing: 2, for: .zero) == 2)
        #expect(try await follower.holdLease())
        _ = try await follower.submit(document: F.workload("late", priority: 5), by: F.requester)
        let ledgerBefore = try h.store.ledgerEntries(from: 0, limit: 10_000).count

        await #expect {
            try await leader.reconcile()
        } throws: { error in
            (error as? StoreError)?.isDeposed == true
                && "\(error)"
                    == "refused a leader's write: expected the leader lease at epoch 2, found epoch 3 held by \"b\""
        }
        #expect(await !leader.leads)
        #expect(try h.store.attempts(of: "late").isEmpty)
        #expect(try h.store.ledgerEntries(from: 0, limit: 10_000).count == ledgerBefore)
        try await leader.reconcile()
        #expect(try h.store.attempts(of: "late").isEmpty)

        let checkpoints = try h.store.checkpoints().count
        try await follower.reconcile()
        #expect(try h.store.checkpoints().count == checkpoints + 1)
        #expect(try h.store.attempts(of: "train").count == 1)
        #expect(try h.store.attempts(of: "late").count == 1)
        #expect(Set(h.executor.live.map(\.workload)) == ["train", "late"])
    }
}
