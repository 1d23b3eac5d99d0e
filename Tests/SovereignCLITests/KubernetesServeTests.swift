import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SovereignTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sovereign serve --kubernetes KUBECONFIG --extender-listen ...` end to end: the real binary against an
/// API server on 127.0.0.1 that lists three nodes and records every PATCH. The node watch fills the
/// extender's directory (node-cache requests carry names only), and the labeller puts the sites' power state
/// on their nodes and changes it when a power signal drops a site's supply.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct KubernetesServeTests {
    /// An API server that knows three nodes and remembers the patches it was sent.
    final class FakeCluster: Sendable {
        let patches = Mutex<[(node: String, body: String)]>([])
        let labels = Mutex<[String: [String: String]]>([
            "gpu-ke-1": ["sovereign.dev/site": "nairobi-1", "sovereign.dev/pool": "a100"],
            "gpu-rw-1": ["sovereign.dev/site": "kigali-1"],
            "laptop": ["kubernetes.io/hostname": "laptop"],
        ])
        let stopping = Atomic<Bool>(false)

        func node(_ name: String, _ labels: [String: String], version: Int) -> String {
            let pairs = labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
            return """
                {"kind":"Node","apiVersion":"v1","metadata":{"name":"\(name)","uid":"u-\(name)","resourceVersion":"\(version)","labels":{\(pairs)}},"spec":{},"status":{"capacity":{"nvidia.com/gpu":"8"}}}
                """
        }

        func respond(_ request: Request) async throws -> Response {
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
            let path = request.uri.path
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            if request.method == .patch, path.hasPrefix("/api/v1/nodes/") {
                let name = String(path.dropFirst("/api/v1/nodes/".count))
                patches.withLock { $0.append((name, body)) }
                let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                let changes = (object?["metadata"] as? [String: Any])?["labels"] as? [String: Any] ?? [:]
                let merged = labels.withLock { all -> [String: String] in
                    for (key, value) in changes { all[name]?[key] = value as? String }
                    return all[name] ?? [:]
                }
                return Response(
                    status: .ok,
                    headers: headers,
                    body: ResponseBody(byteBuffer: ByteBuffer(string: node(name, merged, version: 200)))
                )
            }
            if request.method == .get, path == "/api/v1/nodes" {
                if request.uri.query?.contains("watch=") == true {
                    // A quiet watch: open until the cluster stops.
                    return Response(
                        status: .ok,
                        headers: headers,
                        body: ResponseBody { [self] writer in
                            while !stopping.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(20)) }
                            try await writer.finish(nil)
                        }
                    )
                }
                let items = labels.withLock { all in
                    all.keys.sorted().enumerated().map { node($1, all[$1]!, version: 100 + $0) }.joined(separator: ",")
                }
                let list =
                    #"{"kind":"NodeList","apiVersion":"v1","metadata":{"resourceVersion":"150"},"items":["#
                    + items + "]}"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: list)))
            }
            return Response(
                status: .notFound,
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: "{}"))
            )
        }

        /// Patches sent to `node` that set `sovereign.dev/power-state` to `state`.
        func powerStates(of node: String) -> [String] {
            patches.withLock { all in
                all.filter { $0.node == node }.compactMap { patch in
                    let object = try? JSONSerialization.jsonObject(with: Data(patch.body.utf8)) as? [String: Any]
                    let labels = (object?["metadata"] as? [String: Any])?["labels"] as? [String: Any]
                    return labels?["sovereign.dev/power-state"] as? String
                }
            }
        }
    }

    func post(
        _ url: String,
        _ body: String,
        token: String? = nil,
        method: NIOHTTP1.HTTPMethod = .POST
    ) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 24)))
    }

    func wait(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ServeTests.ServeError(message: "timed out waiting for \(what)")
    }

    @Test func theNodeWatchFeedsTheExtenderAndTheLabellerFollowsThePower() async throws {
        let cluster = FakeCluster()
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let api = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await cluster.respond(request) },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: Logger(label: "fake-cluster", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await api.runService() }
            var iterator = ports.makeAsyncIterator()
            let apiPort = await iterator.next() ?? 0
            let kubeconfig = dir.appendingPathComponent("kubeconfig").path
            try """
            apiVersion: v1
            kind: Config
            current-context: test
            clusters:
              - name: test
                cluster: {server: "http://127.0.0.1:\(apiPort)"}
            users:
              - name: sovereign
                user: {token: test-token}
            contexts:
              - name: test
                context: {cluster: test, user: sovereign}
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            try Fixtures.constantFleet.write(
                to: dir.appendingPathComponent("fleet.yaml"),
                atomically: true,
                encoding: .utf8
            )
            let tokens = dir.appendingPathComponent("tokens").path
            try "power-token-0123456789 power\n".write(toFile: tokens, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLITests.binary)
            process.arguments = [
                "serve", "fleet.yaml", "--db", "state.sqlite", "--listen", "127.0.0.1:0", "--tick", "200 ms",
                "--tokens", tokens, "--extender-listen", "127.0.0.1:0", "--kubernetes", kubeconfig,
            ]
            process.currentDirectoryURL = dir
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
            // Two lines, in either order: the API and the extender.
            var apiURL = ""
            var extenderURL = ""
            for _ in 0..<2 {
                var line = Data()
                while true {
                    let byte = out.fileHandleForReading.readData(ofLength: 1)
                    if byte.isEmpty || byte == Data("\n".utf8) { break }
                    line.append(byte)
                }
                let text = String(decoding: line, as: UTF8.self)
                if text.hasPrefix("scheduler extender listening on ") {
                    extenderURL = String(text.dropFirst("scheduler extender listening on ".count))
                } else if text.hasPrefix("listening on ") {
                    apiURL = String(text.dropFirst("listening on ".count))
                }
            }
            #expect(extenderURL.hasSuffix("/scheduler"))
            #expect(!apiURL.isEmpty)

            // The labeller marks the fleet's nodes (and leaves the laptop alone): both sites have power.
            try await wait("the first labels") {
                cluster.powerStates(of: "gpu-ke-1") == ["ok"] && cluster.powerStates(of: "gpu-rw-1") == ["ok"]
            }
            #expect(cluster.powerStates(of: "laptop").isEmpty)

            // Node-cache requests name nodes only: the watch told the extender where they are.
            let filter =
                #"{"Pod":{"metadata":{"name":"p","namespace":"ml","annotations":{"sovereign.dev/datasets":"ke-health-records"}},"spec":{"containers":[{"name":"c","resources":{"limits":{"nvidia.com/gpu":"8"}}}]}},"Nodes":null,"NodeNames":["gpu-ke-1","gpu-rw-1","laptop"]}"#
            let (status, reply) = try await post(extenderURL + "/filter", filter)
            #expect(status == 200)
            let result = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as! [String: Any]
            #expect(result["NodeNames"] as? [String] == ["gpu-ke-1"])
            let unresolvable = result["FailedAndUnresolvableNodes"] as? [String: String] ?? [:]
            #expect(unresolvable["gpu-rw-1"] == "sovereign residency: outside residency KE (dataset ke-health-records)")
            #expect(unresolvable["laptop"]?.hasPrefix("sovereign: node not in the fleet") == true)

            // nairobi-1 loses most of its power: its node is relabelled, and the pod's 8 A100 no longer fit.
            let (powerStatus, _) = try await post(
                apiURL + "/v1/sites/nairobi-1/power",
                #"{"available": "3 kW"}"#,
                token: "power-token-0123456789",
                method: .PUT
            )
            #expect(powerStatus == 200)
            try await wait("the power-state label to follow the drop") {
                cluster.powerStates(of: "gpu-ke-1") == ["ok", "constrained"]
            }
            #expect(cluster.powerStates(of: "gpu-rw-1") == ["ok"])
            let (_, after) = try await post(extenderURL + "/filter", filter)
            let failed = (try JSONSerialization.jsonObject(with: Data(after.utf8)) as! [String: Any])["FailedNodes"]
            #expect(
                (failed as? [String: String])?["gpu-ke-1"]?.hasPrefix("sovereign power: site nairobi-1 can supply")
                    == true
            )

            cluster.stopping.store(true, ordering: .relaxed)
            group.cancelAll()
        }
    }
}
