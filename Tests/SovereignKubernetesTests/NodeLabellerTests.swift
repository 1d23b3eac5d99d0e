import Foundation
import Logging
import SovereignKubernetes
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(5)))
struct NodeLabellerTests {
    static let power = KubernetesLabels.powerState
    static let thermal = KubernetesLabels.thermalState
    static let fast = KubernetesRetryPolicy(initial: .milliseconds(10), maximum: .milliseconds(40))

    /// The three listed nodes: gpu-a1 without Sovereign's labels, gpu-a2 with both `ok`, cpu-b1 without.
    static func listedNodes() throws -> [KubernetesNode] {
        [
            KubernetesNode(name: "gpu-a1", labels: ["sovereign.dev/site": "nairobi-1"], resourceVersion: "48102"),
            KubernetesNode(
                name: "gpu-a2",
                labels: ["sovereign.dev/site": "nairobi-1", power: "ok", thermal: "ok"],
                resourceVersion: "48147"
            ),
            KubernetesNode(name: "cpu-b1", labels: ["sovereign.dev/site": "mombasa-1"], resourceVersion: "47990"),
        ]
    }

    /// Answers a patch with the node it names carrying the patched labels (merged as a merge patch would).
    static func patchReply(_ request: RecordedRequest, nodes: Locked<[String: [String: String]]>) throws -> FakeReply {
        let name = String(request.path.split(separator: "/").last ?? "")
        let patch = try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any]
        let labels = (patch?["metadata"] as? [String: Any])?["labels"] as? [String: Any] ?? [:]
        let merged = nodes.withLock { all in
            var current = all[name] ?? [:]
            for (key, value) in labels {
                if let value = value as? String { current[key] = value } else { current[key] = nil }
            }
            all[name] = current
            return current
        }
        let object: [String: Any] = [
            "kind": "Node", "apiVersion": "v1",
            "metadata": ["name": name, "labels": merged, "resourceVersion": "5\(request.body.count)"],
        ]
        return .bytes(status: 200, [UInt8](try JSONSerialization.data(withJSONObject: object)))
    }

    @Test func patchesOnlyDifferingManagedKeys() async throws {
        let serverNodes = Locked<[String: [String: String]]>(
            Dictionary(uniqueKeysWithValues: try Self.listedNodes().map { ($0.name, $0.labels) })
        )
        let states = Locked<[String: [String: String]]>([
            "gpu-a1": [Self.power: "constrained", Self.thermal: "ok", "kubernetes.io/hostname": "elsewhere"],
            "gpu-a2": [Self.power: "ok", Self.thermal: "ok"],
        ])
        let asked = Locked(0)
        let logs = LogRecorder()
        let server = FakeAPIServer(handler: { request, _ in try Self.patchReply(request, nodes: serverNodes) })
        try await server.serve { client in
            let watcher = NodeWatcher(client: client, logger: quietLogger)
            watcher.replace(with: try Self.listedNodes())
            let labeller = NodeLabeller(client: client, watcher: watcher, logger: logs.logger, retry: Self.fast) {
                node in
                asked.withLock { $0 += 1 }
                return states.withLock { $0[node.name] }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await labeller.run() }
                try await eventually {
                    server.requests.count == 1 && watcher.node(named: "gpu-a1")?.labels[Self.power] != nil
                }
                let first = server.requests[0]
                #expect(first.method == "PATCH")
                #expect(first.path == "/api/v1/nodes/gpu-a1")
                #expect(first.contentType == "application/merge-patch+json")
                #expect(
                    first.body
                        == #"{"metadata":{"labels":{"sovereign.dev/power-state":"constrained","sovereign.dev/thermal-state":"ok"}}}"#
                )
                // The patched node went into the watcher's cache; other labels untouched.
                #expect(
                    watcher.node(named: "gpu-a1")?.labels == [
                        "sovereign.dev/site": "nairobi-1", Self.power: "constrained", Self.thermal: "ok",
                    ]
                )

                // A site starts shedding; gpu-a2 loses its thermal label.
                states.withLock { $0["gpu-a2"] = [Self.power: "shedding"] }
                labeller.refresh()
                try await eventually {
                    server.requests.count == 2 && watcher.node(named: "gpu-a2")?.labels[Self.power] == "shedding"
                }
                #expect(server.requests[1].path == "/api/v1/nodes/gpu-a2")
                #expect(
                    server.requests[1].body
                        == #"{"metadata":{"labels":{"sovereign.dev/power-state":"shedding","sovereign.dev/thermal-state":null}}}"#
                )
                #expect(
                    watcher.node(named: "gpu-a2")?.labels == [
                        "sovereign.dev/site": "nairobi-1", Self.power: "shedding",
                    ]
                )

                // Nothing differs now: a refresh asks again but patches nothing.
                let before = asked.withLock { $0 }
                labeller.refresh()
                try await eventually { asked.withLock { $0 } >= before + 3 }
                group.cancelAll()
            }
            #expect(server.requests.count == 2)
            #expect(labeller.patchesSent == 2)
            #expect(labeller.patchesFailed == 0)
            let changes = logs.all.filter { $0.message == "set node label" || $0.message == "removed node label" }
            #expect(
                changes.map {
                    "\($0.metadata["node.name"] ?? "") \($0.metadata["label.key"] ?? "")=\($0.metadata["label.value"] ?? "")"
                } == [
                    "gpu-a1 sovereign.dev/power-state=constrained",
                    "gpu-a1 sovereign.dev/thermal-state=ok",
                    "gpu-a2 sovereign.dev/power-state=shedding",
                    "gpu-a2 sovereign.dev/thermal-state=",
                ]
            )
            #expect(changes.last?.message == "removed node label")
        }
    }

    @Test func retriesAFailedPatch() async throws {
        let logs = LogRecorder()
        let server = FakeAPIServer(handler: { _, index in
            index == 0 ? try .fixture("status-403.json", status: 403) : try .fixture("patch-node-gpu-a1.json")
        })
        try await server.serve { client in
            let watcher = NodeWatcher(client: client, logger: quietLogger)
            watcher.replace(with: [KubernetesNode(name: "gpu-a1", labels: [:], resourceVersion: "48102")])
            let labeller = NodeLabeller(client: client, watcher: watcher, logger: logs.logger, retry: Self.fast) { _ in
                [Self.power: "constrained", Self.thermal: "ok"]
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await labeller.run() }
                try await eventually {
                    labeller.patchesSent == 2 && watcher.node(named: "gpu-a1")?.labels[Self.power] == "constrained"
                }
                group.cancelAll()
            }
            #expect(labeller.patchesFailed == 1)
            #expect(server.requests.count == 2)
            #expect(server.requests[0].body == server.requests[1].body)
            let failure = try #require(logs.all.first { $0.level == .warning })
            #expect(failure.metadata["node.name"] == "gpu-a1")
            #expect(failure.metadata["error"]?.contains(#"cannot patch resource "nodes""#) == true)
        }
    }

    @Test func leavesNodesAloneWhenDesiredIsNil() async throws {
        let serverNodes = Locked<[String: [String: String]]>(
            Dictionary(uniqueKeysWithValues: try Self.listedNodes().map { ($0.name, $0.labels) })
        )
        let server = FakeAPIServer(handler: { request, _ in try Self.patchReply(request, nodes: serverNodes) })
        try await server.serve { client in
            let watcher = NodeWatcher(client: client, logger: quietLogger)
            let asked = Locked<[String]>([])
            let labeller = NodeLabeller(client: client, watcher: watcher, logger: quietLogger) { node in
                asked.withLock { $0.append(node.name) }
                return node.name == "gpu-a1" ? [Self.power: "ok"] : nil
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await labeller.run() }
                // A change in the watcher's cache triggers a pass.
                watcher.replace(with: try Self.listedNodes())
                try await eventually { server.requests.count == 1 }
                group.cancelAll()
            }
            #expect(server.requests.map(\.path) == ["/api/v1/nodes/gpu-a1"])
            #expect(server.requests.first?.body == #"{"metadata":{"labels":{"sovereign.dev/power-state":"ok"}}}"#)
            #expect(Set(asked.withLock { $0 }).isSuperset(of: ["gpu-a1", "gpu-a2", "cpu-b1"]))
        }
    }
}
