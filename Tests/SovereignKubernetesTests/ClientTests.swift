import Foundation
import Logging
import SovereignKubernetes
import Testing

@Suite(.timeLimit(.minutes(5)))
struct ClientTests {
    static let continueToken = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDgyMTMsInN0YXJ0IjoiZ3B1LWEyXHUwMDAwIn0"

    /// Serves the two list pages: the first without `continue`, the second with the first page's token.
    static func listPages(_ request: RecordedRequest) throws -> FakeReply {
        if request.query["continue"] == continueToken { return try .fixture("nodes-page-2.json") }
        return try .fixture("nodes-page-1.json")
    }

    @Test func listFollowsContinueTokens() async throws {
        let server = FakeAPIServer(handler: { request, _ in try Self.listPages(request) })
        try await server.serve { client in
            let (nodes, resourceVersion) = try await client.listNodes(labelSelector: "sovereign.dev/site=nairobi-1")
            #expect(nodes.map(\.name) == ["gpu-a1", "gpu-a2", "cpu-b1"])
            #expect(resourceVersion == "48213")
            #expect(nodes[0].resourceVersion == "48102")
            #expect(nodes[0].labels["sovereign.dev/site"] == "nairobi-1")
            #expect(nodes[0].labels["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-80GB")
            #expect(nodes[1].labels["sovereign.dev/power-state"] == "ok")
            let requests = server.requests
            #expect(requests.map(\.method) == ["GET", "GET"])
            #expect(requests.map(\.path) == ["/api/v1/nodes", "/api/v1/nodes"])
            #expect(requests[0].query == ["limit": "500", "labelSelector": "sovereign.dev/site=nairobi-1"])
            #expect(
                requests[1].query
                    == [
                        "limit": "500", "labelSelector": "sovereign.dev/site=nairobi-1", "continue": Self.continueToken,
                    ]
            )
        }
    }

    @Test func getNodeDecodesAFullNode() async throws {
        let server = FakeAPIServer(handler: { _, _ in try .fixture("node-gpu-a1.json") })
        try await server.serve { client in
            let node = try await client.getNode("gpu-a1")
            #expect(node.name == "gpu-a1")
            #expect(node.resourceVersion == "48102")
            #expect(node.labels.count == 13)
            #expect(server.requests.map(\.path) == ["/api/v1/nodes/gpu-a1"])
        }
    }

    @Test func notFoundCarriesTheStatus() async throws {
        let server = FakeAPIServer(handler: { _, _ in try .fixture("status-404.json", status: 404) })
        try await server.serve { client in
            let error = try await #require(throws: KubernetesAPIError.self) { try await client.getNode("gpu-z9") }
            #expect(error.isNotFound)
            #expect(!error.isGone && !error.isConflict)
            #expect(error.reason == "NotFound")
            #expect(error.message == #"nodes "gpu-z9" not found"#)
            #expect(
                error.description
                    == #"GET /api/v1/nodes/gpu-z9: expected 200 with a Node, got 404 NotFound: nodes "gpu-z9" not found"#
            )
        }
    }

    @Test func errorWithoutAStatusBodyKeepsTheText() async throws {
        let server = FakeAPIServer(handler: { _, _ in .bytes(status: 502, Array("upstream connect error".utf8)) })
        try await server.serve { client in
            let error = try await #require(throws: KubernetesAPIError.self) { try await client.listNodes() }
            #expect(error.statusCode == 502)
            #expect(error.reason == nil)
            #expect(error.description.hasSuffix("expected 200 with a NodeList, got 502: upstream connect error"))
        }
    }

    @Test func malformedBodyIsAnAPIError() async throws {
        let server = FakeAPIServer(handler: { _, _ in .bytes(status: 200, Array(#"{"items": 7}"#.utf8)) })
        try await server.serve { client in
            let error = try await #require(throws: KubernetesAPIError.self) { try await client.listNodes() }
            #expect(error.statusCode == nil)
            #expect(
                error.description.hasPrefix(
                    "GET /api/v1/nodes?limit=500: expected a NodeList, got a body that does not decode"
                )
            )
        }
    }

    @Test func patchSendsAMergePatchOfTheLabelsOnly() async throws {
        let server = FakeAPIServer(handler: { _, _ in try .fixture("patch-node-gpu-a1.json") })
        try await server.serve { client in
            let node = try await client.patchNodeLabels(
                "gpu-a1",
                ["sovereign.dev/thermal-state": nil, "sovereign.dev/power-state": "constrained"]
            )
            #expect(node.labels["sovereign.dev/power-state"] == "constrained")
            #expect(node.resourceVersion == "48991")
            let request = try #require(server.requests.first)
            #expect(request.method == "PATCH")
            #expect(request.path == "/api/v1/nodes/gpu-a1")
            #expect(request.contentType == "application/merge-patch+json")
            #expect(
                request.body
                    == #"{"metadata":{"labels":{"sovereign.dev/power-state":"constrained","sovereign.dev/thermal-state":null}}}"#
            )
        }
    }

    @Test func forbiddenPatchExplainsRBAC() async throws {
        let server = FakeAPIServer(handler: { _, _ in try .fixture("status-403.json", status: 403) })
        try await server.serve { client in
            let error = try await #require(throws: KubernetesAPIError.self) {
                try await client.patchNodeLabels("gpu-a1", ["sovereign.dev/power-state": "ok"])
            }
            #expect(error.isForbidden)
            #expect(
                error.description.hasPrefix(
                    "PATCH /api/v1/nodes/gpu-a1: expected 200 with the patched Node, got 403 Forbidden: "
                )
            )
            #expect(error.message.contains(#"cannot patch resource "nodes""#))
        }
    }

    @Test func bearerTokenFileIsReReadWhenItChanges() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token")
        try Data("first-token\n".utf8).write(to: tokenFile)
        let server = FakeAPIServer(handler: { _, _ in try .fixture("node-gpu-a1.json") })
        try await server.serve(bearerToken: .file(tokenFile.path)) { client in
            _ = try await client.getNode("gpu-a1")
            try Data("rotated-token".utf8).write(to: tokenFile, options: .atomic)
            _ = try await client.getNode("gpu-a1")
            #expect(server.requests.map(\.authorization) == ["Bearer first-token", "Bearer rotated-token"])
        }
    }

    @Test func literalBearerTokenIsSent() async throws {
        let server = FakeAPIServer(handler: { _, _ in try .fixture("node-gpu-a1.json") })
        try await server.serve(bearerToken: .literal("abc.def")) { client in
            _ = try await client.getNode("gpu-a1")
            #expect(server.requests.first?.authorization == "Bearer abc.def")
        }
    }

    /// The watch body is written in chunks of every size from one byte up, so events split anywhere and several
    /// arrive in one chunk.
    @Test(arguments: [1, 2, 7, 100, 1000, 1 << 20])
    func watchDecodesEventsAsTheyArrive(chunkSize: Int) async throws {
        let server = FakeAPIServer(handler: { _, _ in try .fixture("watch-nodes.jsonl", chunkSize: chunkSize) })
        try await server.serve { client in
            var events: [NodeEvent] = []
            let error = try await #require(throws: KubernetesAPIError.self) {
                for try await event in client.watchNodes(resourceVersion: "48213", timeoutSeconds: 120) {
                    events.append(event)
                }
            }
            #expect(events.count == 4)
            guard events.count == 4 else { return }
            guard case .added(let added) = events[0], case .modified(let modified) = events[1],
                case .deleted(let deleted) = events[3]
            else {
                Issue.record("unexpected events \(events)")
                return
            }
            #expect(added.name == "gpu-c1" && added.labels["sovereign.dev/pool"] == "h100")
            #expect(modified.name == "gpu-a1" && modified.labels["sovereign.dev/thermal-state"] == "constrained")
            #expect(events[2] == .bookmark(resourceVersion: "48390"))
            #expect(deleted.name == "cpu-b1" && deleted.resourceVersion == "48402")
            #expect(error.isGone)
            #expect(error.statusCode == 410)
            #expect(
                error.description.contains("got an ERROR event 410 Expired: too old resource version: 48213 (48977)")
            )
            let request = try #require(server.requests.first)
            #expect(
                request.query
                    == [
                        "watch": "1", "resourceVersion": "48213", "allowWatchBookmarks": "true",
                        "timeoutSeconds": "120",
                    ]
            )
        }
    }

    @Test func watchEndingInsideAnEventIsAnError() async throws {
        let partial = Array(try APIFixtures.bytes("watch-nodes.jsonl").prefix(6000))
        let server = FakeAPIServer(handler: { _, _ in .bytes(status: 200, partial, chunkSize: 512) })
        try await server.serve { client in
            var events: [NodeEvent] = []
            let error = try await #require(throws: KubernetesAPIError.self) {
                for try await event in client.watchNodes(resourceVersion: "48213") { events.append(event) }
            }
            #expect(events.count == 1)
            #expect(error.message == "the connection closed inside an event")
        }
    }

    @Test func watchThatTimesOutFinishes() async throws {
        let lines = try APIFixtures.bytes("watch-nodes.jsonl").split(separator: UInt8(ascii: "\n"))
        let body = Array(lines[0...2].joined(separator: [UInt8(ascii: "\n")])) + [UInt8(ascii: "\n")]
        let server = FakeAPIServer(handler: { _, _ in .bytes(status: 200, body, chunkSize: 333) })
        try await server.serve { client in
            var versions: [String] = []
            for try await event in client.watchNodes(resourceVersion: "48213") {
                versions.append(event.resourceVersion)
            }
            #expect(versions == ["48301", "48355", "48390"])
        }
    }

    @Test func watchRefusedAtTheStartIsGone() async throws {
        let gone =
            #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old","reason":"Expired","code":410}"#
        let server = FakeAPIServer(handler: { _, _ in .bytes(status: 410, Array(gone.utf8)) })
        try await server.serve { client in
            let error = try await #require(throws: KubernetesAPIError.self) {
                for try await _ in client.watchNodes(resourceVersion: "1") {}
            }
            #expect(error.isGone)
            #expect(error.message == "too old")
        }
    }
}
