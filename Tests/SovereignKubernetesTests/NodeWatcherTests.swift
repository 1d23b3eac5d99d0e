import Foundation
import Logging
import SovereignKubernetes
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(5)))
struct NodeWatcherTests {
    static let fast = KubernetesRetryPolicy(initial: .milliseconds(10), maximum: .milliseconds(40))

    /// Lists (two pages), watches once with `firstWatch`, then every later watch stays open and quiet.
    static func handler(firstWatch: FakeReply) -> @Sendable (RecordedRequest, Int) throws -> FakeReply {
        let watches = Locked(0)
        return { request, _ in
            guard request.query["watch"] == "1" else { return try ClientTests.listPages(request) }
            let number = watches.withLock { count in
                count += 1
                return count
            }
            return number == 1 ? firstWatch : .hang
        }
    }

    @Test func listsWatchesAndRelistsAfterGone() async throws {
        let changes = Locked<[[String]]>([])
        let handler = Self.handler(firstWatch: try .fixture("watch-nodes.jsonl", chunkSize: 97))
        let server = FakeAPIServer(handler: handler)
        try await server.serve { client in
            let watcher = NodeWatcher(client: client, logger: quietLogger, retry: Self.fast) { nodes in
                changes.withLock { $0.append(nodes.map(\.name)) }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watcher.run() }
                try await eventually { server.requests.filter { $0.query["watch"] == "1" }.count == 2 }
                group.cancelAll()
            }
            let calls = server.requests.map { request in
                request.query["watch"] != nil
                    ? "watch from \(request.query["resourceVersion"] ?? "?")"
                    : request.query["continue"] == nil ? "list" : "list page 2"
            }
            #expect(calls == ["list", "list page 2", "watch from 48213", "list", "list page 2", "watch from 48213"])
            #expect(
                changes.withLock { $0 } == [
                    ["cpu-b1", "gpu-a1", "gpu-a2"],  // the list
                    ["cpu-b1", "gpu-a1", "gpu-a2", "gpu-c1"],  // ADDED
                    ["cpu-b1", "gpu-a1", "gpu-a2", "gpu-c1"],  // MODIFIED labels of gpu-a1
                    ["gpu-a1", "gpu-a2", "gpu-c1"],  // DELETED
                    ["cpu-b1", "gpu-a1", "gpu-a2"],  // the relist after 410 replaces the cache
                ]
            )
            #expect(watcher.nodes.map(\.name) == ["cpu-b1", "gpu-a1", "gpu-a2"])
            #expect(watcher.node(named: "gpu-a1")?.labels["sovereign.dev/thermal-state"] == nil)
            #expect(watcher.node(named: "gpu-c1") == nil)
        }
    }

    @Test func relistsAfterADroppedConnection() async throws {
        let partial = Array(try APIFixtures.bytes("watch-nodes.jsonl").prefix(7000))
        let handler = Self.handler(firstWatch: .bytes(status: 200, partial, chunkSize: 1000))
        let server = FakeAPIServer(handler: handler)
        try await server.serve { client in
            let watcher = NodeWatcher(client: client, logger: quietLogger, retry: Self.fast)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watcher.run() }
                try await eventually { server.requests.filter { $0.query["watch"] == "1" }.count == 2 }
                // The ADDED event before the drop was applied; the relist then replaced the cache.
                group.cancelAll()
            }
            #expect(server.requests.filter { $0.query["watch"] == nil }.count == 4)
            #expect(watcher.nodes.map(\.name) == ["cpu-b1", "gpu-a1", "gpu-a2"])
        }
    }

    @Test func backsOffWhileTheServerFails() async throws {
        let server = FakeAPIServer(handler: { _, _ in try .fixture("status-403.json", status: 403) })
        try await server.serve { client in
            let watcher = NodeWatcher(client: client, logger: quietLogger, retry: Self.fast)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watcher.run() }
                try await eventually { server.requests.count >= 3 }
                group.cancelAll()
            }
            #expect(server.requests.allSatisfy { $0.query["watch"] == nil })
            #expect(watcher.nodes.isEmpty)
        }
    }

    @Test func replaceReportsOnlyLabelChanges() async throws {
        let changes = Locked(0)
        // Never used for a request.
        let client = try KubernetesClient(
            configuration: .init(server: "http://127.0.0.1:9"),
            logger: quietLogger
        )
        let watcher = NodeWatcher(client: client, logger: quietLogger) { _ in
            changes.withLock { $0 += 1 }
        }
        let a = KubernetesNode(name: "a", labels: ["x": "1"], resourceVersion: "1")
        watcher.replace(with: [a])
        watcher.replace(with: [KubernetesNode(name: "a", labels: ["x": "1"], resourceVersion: "2")])
        #expect(changes.withLock { $0 } == 1)
        #expect(watcher.node(named: "a")?.resourceVersion == "2")
        watcher.replace(with: [KubernetesNode(name: "a", labels: ["x": "2"], resourceVersion: "3")])
        #expect(changes.withLock { $0 } == 2)
        watcher.replace(with: [])
        #expect(watcher.nodes.isEmpty)
        #expect(changes.withLock { $0 } == 3)
        try await client.shutdown()
    }

    @Test(arguments: [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (50, 100)])
    func backoffDoublesUpToTheCap(failures: Int, milliseconds: Int) {
        let policy = KubernetesRetryPolicy(initial: .milliseconds(10), maximum: .milliseconds(100))
        #expect(policy.delay(afterFailures: failures) == .milliseconds(milliseconds))
    }
}
