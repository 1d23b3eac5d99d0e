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
}

extension ControlPlane {
    /// The mark the test left on the queue this runs on (nil on any other).
    func queueMark() -> String? { DispatchQueue.getSpecific(key: ControlPlaneQueueTests.key) }
}
