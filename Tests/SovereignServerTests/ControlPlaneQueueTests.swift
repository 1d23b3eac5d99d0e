import Dispatch
import Foundation
import Testing

@testable import SovereignServer

/// The control plane's SQLite transactions block: its work runs on its own dispatch queue, never on a thread
/// of Swift's cooperative pool, before and after it awaits its executor.
struct ControlPlaneQueueTests {
    static let key = DispatchSpecificKey<String>()

    @Test func theControlPlaneRunsOnItsOwnQueue() async throws {
        let h = try ControlFixtures.harness()
        h.plane.queue.queue.setSpecific(key: Self.key, value: "control plane")
        #expect(await h.plane.queueMark() == "control plane")
        _ = try await h.plane.submit(document: ControlFixtures.workload("train"), by: ControlFixtures.requester)
        try await h.plane.reconcile()
        #expect(h.executor.live.count == 1)
        #expect(await h.plane.queueMark() == "control plane")
        #expect(DispatchQueue.getSpecific(key: Self.key) == nil)
    }

    /// A submission needs nothing of the control plane's queue: it is decoded and committed beside it (and asks
    /// for a pass without waiting), so it is answered, durable, while a pass holds the queue. The ledger's head
    /// then counts its entry.
    @Test(.timeLimit(.minutes(5))) func aSubmissionIsCommittedWhileThePassHoldsTheQueue() async throws {
        let h = try ControlFixtures.harness()
        let release = DispatchSemaphore(value: 0)
        h.plane.queue.queue.async { release.wait() }
        let submitted = try await h.plane.submit(
            document: ControlFixtures.workload("train"),
            by: ControlFixtures.requester
        )
        h.plane.askForPass()
        #expect(submitted.map(\.name) == ["train"])
        #expect(try h.store.workload(named: "train")?.state == .pending)
        #expect(h.executor.live.isEmpty)
        release.signal()
        await h.plane.askedPassesDone()
        #expect(h.executor.live.map(\.workload) == ["train"])
        let stored = try h.store.ledgerEntries(from: 0, limit: 1000).count
        #expect(try await h.plane.ledgerHead().size == stored)
    }
}

extension ControlPlane {
    /// The mark the test left on the queue this runs on (nil on any other).
    func queueMark() -> String? { DispatchQueue.getSpecific(key: ControlPlaneQueueTests.key) }
}
