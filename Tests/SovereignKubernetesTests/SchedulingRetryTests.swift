import Foundation
import SovereignKubernetes
import SovereignModel
import Testing

/// Parked pods retry soon after Sovereign restarts or a site gains room (issue 17, point 5): the labeller
/// changes `sovereign.dev/retry` on the fleet's nodes, which kube-scheduler sees as a node update.
@Suite(.timeLimit(.minutes(5)))
struct SchedulingRetryTests {
    static let retry = KubernetesLabels.retry

    @Test func aSiteImprovesWhenItsConditionGetsBetterOrItGainsRoomForAnAccelerator() throws {
        let fleet = try F.fleet()
        let a = try #require(fleet.siteIndex(named: "a"))
        let extender = F.extender(F.snapshot(fleet), nodes: try F.recordedNodeLabels())
        let nudge = SchedulingRetry(start: "s1")
        #expect(nudge.observe(extender.current).isEmpty)  // the first look only records
        #expect(nudge.value(site: a) == "s1-0")
        // Two H100s bound at site a take room; nothing improved.
        let two = [
            BoundPod(namespace: "ml", name: "p1", nodeName: "node-a1", accelerators: ["nvidia.com/gpu": 1]),
            BoundPod(namespace: "ml", name: "p2", nodeName: "node-a1", accelerators: ["nvidia.com/gpu": 1]),
        ]
        extender.updateBoundPods(two)
        #expect(nudge.observe(extender.current).isEmpty)
        // One finishes: room for one more H100 at site a, and only there.
        extender.updateBoundPods(Array(two.prefix(1)))
        #expect(nudge.observe(extender.current) == [a])
        #expect(nudge.value(site: a) == "s1-1")
        #expect(nudge.value(site: try #require(fleet.siteIndex(named: "b"))) == "s1-0")
        // The same state again is no improvement.
        #expect(nudge.observe(extender.current).isEmpty)
    }

    /// The nodes carry the retry value of the server's previous run; the new run's first pass changes it on
    /// every node of the fleet, and a site that gains room gets a new one again.
    @Test func theLabellerTouchesTheFleetsNodesAfterStartAndWhenASiteGainsRoom() async throws {
        let fleet = try F.fleet()
        let recorded = try F.recordedNodeLabels()
        let extender = F.extender(F.snapshot(fleet), nodes: recorded)
        let pod = BoundPod(namespace: "ml", name: "p1", nodeName: "node-a1", accelerators: ["nvidia.com/gpu": 1])
        extender.updateBoundPods([pod])
        let previous = Dictionary(
            uniqueKeysWithValues: recorded.map { name, labels in
                (name, labels.merging(extender.current.labels(forSite: 0)) { $1 }.merging([Self.retry: "old-3"]) { $1 })
            }
        )
        let serverNodes = Locked<[String: [String: String]]>(previous)
        let server = FakeAPIServer(handler: { request, _ in
            try NodeLabellerTests.patchReply(request, nodes: serverNodes)
        })
        let nudge = SchedulingRetry(start: "new")
        nudge.observe(extender.current)
        try await server.serve { client in
            let watcher = NodeWatcher(client: client, logger: quietLogger)
            watcher.replace(with: previous.map { KubernetesNode(name: $0.key, labels: $0.value, resourceVersion: "1") })
            let labeller = NodeLabeller(client: client, watcher: watcher, logger: quietLogger) { node in
                nudge.labels(forNode: node.labels, in: extender.current)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                let started = ContinuousClock.now
                group.addTask { try await labeller.run() }
                try await eventually { server.requests.count == 4 }
                let touched = ContinuousClock.now - started
                print("retry label on all 4 nodes \(touched) after the labeller started")
                // Only the retry label changed: the conditions were already right.
                #expect(
                    Set(server.requests.map(\.body)) == [#"{"metadata":{"labels":{"sovereign.dev/retry":"new-0"}}}"#]
                )
                #expect(Set(server.requests.map(\.path)) == Set(recorded.keys.map { "/api/v1/nodes/\($0)" }))

                // The pod at site a finishes: site a's nodes get a new value, site b's stay.
                extender.updateBoundPods([])
                nudge.observe(extender.current)
                labeller.refresh()
                try await eventually { server.requests.count == 6 }
                group.cancelAll()
            }
            let later = server.requests.dropFirst(4)
            #expect(Set(later.map(\.path)) == ["/api/v1/nodes/node-a1", "/api/v1/nodes/node-a2"])
            #expect(Set(later.map(\.body)) == [#"{"metadata":{"labels":{"sovereign.dev/retry":"new-1"}}}"#])
        }
        #expect(serverNodes.withLock { $0["node-b1"]?[Self.retry] } == "new-0")
    }
}
