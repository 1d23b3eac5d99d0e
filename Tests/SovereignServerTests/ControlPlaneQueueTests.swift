import Dispatch
import Foundation
import SovereignModel
import Synchronization
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

    /// Power signals that arrive while a pass runs wait for one pass after it, together: eight signals cost one
    /// more pass, not eight one after the other, and each returns only once a pass that began after its signal
    /// was stored has ended.
    @Test(.timeLimit(.minutes(5))) func powerSignalsArrivingDuringAPassShareTheNextPass() async throws {
        let h = try ControlFixtures.harness()
        _ = try await h.plane.submit(document: ControlFixtures.workload("train"), by: ControlFixtures.requester)
        h.executor.holdStarts()
        let first = Task { try await h.plane.reconcile() }
        while h.executor.heldStartCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let signals = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        _ = try await h.plane.receivePower(
                            site: "nairobi-1",
                            available: .kilowatts(400),
                            forecast: [],
                            ambient: nil,
                            by: ControlFixtures.requester
                        )
                    }
                }
                try await group.waitForAll()
            }
        }
        while await h.plane.counters.powerSignals < 8 { try await Task.sleep(for: .milliseconds(1)) }
        let passes = await h.plane.counters.reconciles
        h.executor.releaseStarts()
        try await first.value
        try await signals.value
        #expect(await h.plane.counters.reconciles == passes + 1)
        #expect(h.executor.live.map(\.workload) == ["train"])
    }

    /// A replica that stepped down while a pass or a federation tick was under way (its lease lapsed while the
    /// pass awaited its executor) writes nothing more as leader: without an epoch the store could not fence the
    /// write, and the new leader's kept view would never learn of it. A pass under way sees its view dropped;
    /// what any replica may write (a submission) is still taken.
    @Test func aReplicaThatSteppedDownWritesNothingAsLeader() async throws {
        let h = try ControlFixtures.harness()
        _ = try await h.plane.submit(document: ControlFixtures.workload("train"), by: ControlFixtures.requester)
        let stored = try h.store.ledgerEntries(from: 0, limit: 1000).count
        let (refusal, viewDropped) = await h.plane.stepDownThenCommit()
        #expect(refusal?.code == .notLeader)
        #expect(viewDropped)
        #expect(try h.store.ledgerEntries(from: 0, limit: 1000).count == stored)
        _ = try await h.plane.submit(document: ControlFixtures.workload("infer"), by: ControlFixtures.requester)
        #expect(try h.store.workload(named: "infer")?.state == .pending)
    }
}

extension ControlPlane {
    /// The mark the test left on the queue this runs on (nil on any other).
    func queueMark() -> String? { DispatchQueue.getSpecific(key: ControlPlaneQueueTests.key) }

    /// Steps down, then commits a leader's change: what refused it, and whether a pass's view would be read again.
    func stepDownThenCommit() -> (refusal: ControlError?, viewDropped: Bool) {
        let before = commitCount.load(ordering: .sequentiallyConsistent)
        stepDown("the test took the lease away")
        var change = StateChange()
        change.ledger.append(.cancelRequested(workload: "train", by: "token:test"))
        let dropped = commitCount.load(ordering: .sequentiallyConsistent) != before
        do {
            try commit(change)
            return (nil, dropped)
        } catch {
            return (error as? ControlError, dropped)
        }
    }
}
