import AsyncHTTPClient
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import SovereignKubernetes
import SovereignModel
import SovereignPlanner
import SovereignServer
import SovereignTesting
import Testing

/// The extender's listener in process: kube-scheduler's verbs under the prefix, JSON replies, 400s that
/// say what was wrong, nothing else reachable.
struct ExtenderRoutesTests {
    /// A pass's snapshot of a fleet with nothing running, on its traces' budgets.
    static func snapshot(_ fleet: Fleet, grid: TimeGrid) -> ExtenderSnapshot {
        ExtenderSnapshot(
            fleet: fleet,
            workloads: [:],
            policy: .powerAware,
            grid: grid,
            budgets: fleet.sites.map { SiteBudget(site: $0, grid: grid) },
            running: fleet.sites.map { _ in 0 }
        )
    }

    /// The extender's routes over a constant fleet whose directory knows two nodes.
    func routes() throws -> ExtenderRoutes {
        let fleet = try Fixtures.load(Fixtures.constantFleet)
        let grid = TimeGrid(start: Date(timeIntervalSince1970: 1_772_409_600), horizon: .hours(24), step: .hours(1))
        let snapshot = Self.snapshot(fleet, grid: grid)
        let extender = Extender(snapshot: snapshot)
        extender.nodes.replace(with: [
            (name: "gpu-1", labels: ["sovereign.dev/site": "nairobi-1", "sovereign.dev/pool": "a100"]),
            (name: "gpu-2", labels: ["sovereign.dev/site": "kigali-1"]),
        ])
        return ExtenderRoutes(extender: extender, prefix: "/scheduler/")
    }

    static func post(_ path: String, _ body: String) -> ExtenderRoutes.Request {
        ExtenderRoutes.Request(method: .post, path: path, body: Array(body.utf8))
    }

    static func json(_ answer: ExtenderRoutes.Answer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
    }

    static let body =
        #"{"Pod":{"metadata":{"name":"p","annotations":{"sovereign.dev/datasets":"ke-health-records"}}},"Nodes":null,"NodeNames":["gpu-1","gpu-2"]}"#

    /// Over HTTP as kube-scheduler calls it: one client, its connection kept alive across the calls.
    @Test(.timeLimit(.minutes(5))) func filterAndPrioritizeAnswerJSONOverOneConnection() async throws {
        let routes = try routes()
        let serve = { (onPort: @escaping @Sendable (Int) -> Void, logger: Logger) in
            routes.service(host: "127.0.0.1", port: 0, tls: nil, logger: logger, onListening: onPort)
        }
        try await TLSBench.serving(serve) { port in
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            // Closed before the listener stops, so its graceful shutdown never waits on this client's connection.
            do {
                try await Self.callEverything(client, port)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    /// Each verb twice over the client's one connection: filter, prioritize, refusals, the health probe.
    static func callEverything(_ client: HTTPClient, _ port: Int) async throws {
        for _ in 0..<2 {
            let filter = try await Self.call(client, port, "/scheduler/filter", body: Self.body)
            #expect(filter.status == 200)
            #expect(filter.contentType == "application/json")
            let reply = try JSONSerialization.jsonObject(with: Data(filter.body.utf8)) as! [String: Any]
            #expect(reply["NodeNames"] as? [String] == ["gpu-1"])
            #expect(
                (reply["FailedAndUnresolvableNodes"] as? [String: String])?["gpu-2"]
                    == "sovereign residency: outside residency KE (dataset ke-health-records)"
            )
            let prioritize = try await Self.call(client, port, "/scheduler/prioritize", body: Self.body)
            #expect(prioritize.status == 200)
            #expect(prioritize.body.hasPrefix(#"[{"Host":"gpu-1","Score":"#))
            let refused = try await Self.call(client, port, "/scheduler/filter", body: "{")
            #expect(refused.status == 400)
            #expect(try await Self.call(client, port, "/healthz?probe=1", method: .GET).body == "ok\n")
            let put = try await Self.call(client, port, "/scheduler/filter", method: .PUT, body: Self.body)
            #expect(put.status == 405 && put.body.contains("expected POST /scheduler/filter, found PUT"))
            #expect(put.server == "sovereign-extender")
            // A method HTTP/1.1's parser does not know is refused before any route sees it.
            let brewed = try await Self.call(client, port, "/scheduler/filter", method: .RAW(value: "BREW"))
            #expect(brewed.status == 400)
        }
    }

    static func call(
        _ client: HTTPClient,
        _ port: Int,
        _ path: String,
        method: HTTPMethod = .POST,
        body: String? = nil
    ) async throws -> (status: Int, contentType: String?, body: String, server: String?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (
            Int(response.status.code), response.headers.first(name: "Content-Type"), String(buffer: bytes),
            response.headers.first(name: "Server")
        )
    }

    /// The README's demo: the derived body against the East-African example answers as the README shows.
    @Test func theReadmeDemoAnswersAsShown() throws {
        let root = Fixtures.repositoryRoot
        let (fleet, _) = try SovereignServer.loadFleet([root.appendingPathComponent("Examples/east-africa").path])
        let grid = try #require(fleet.scenario?.grid)
        let routes = ExtenderRoutes(
            extender: Extender(snapshot: Self.snapshot(fleet, grid: grid)),
            prefix: "/scheduler"
        )
        let body = try Data(
            contentsOf: root.appendingPathComponent("Examples/data/kubernetes/demo.filter.ke-clinical-notes.json")
        )
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let answer = routes.answer(.init(method: .post, path: "/scheduler/filter", body: [UInt8](body)))
        #expect(answer.status == .ok)
        let reply = try Self.json(answer)
        let kept = ((reply["Nodes"] as? [String: Any])?["items"] as? [[String: Any]])?.compactMap {
            ($0["metadata"] as? [String: Any])?["name"] as? String
        }
        #expect(kept == ["nairobi-a100-01", "mombasa-l4-01"])
        let refused = try #require(reply["FailedAndUnresolvableNodes"] as? [String: String])
        #expect(refused.count == 2)
        for (node, reason) in refused {
            #expect(readme.contains("  \"\(node)\": \"\(reason)\""), "README lacks \(node): \(reason)")
        }
    }

    @Test func malformedBodiesAre400sNamingTheField() throws {
        let answer = try routes().answer(
            Self.post("/scheduler/filter", #"{"Pod":{"spec":{"priority":"high"}},"NodeNames":[]}"#)
        )
        #expect(answer.status == .badRequest)
        #expect(answer.contentType == "application/json")
        let object = try Self.json(answer)["error"] as? [String: Any]
        #expect(object?["field"] as? String == "Pod.spec.priority")
        #expect((object?["message"] as? String)?.contains("expected an integer priority") == true)
    }

    /// A body the listener stopped keeping (longer than the limit) is refused, naming the limit.
    @Test func bodiesOverTheLimitAre413s() throws {
        let answer = try routes().answer(.init(method: .post, path: "/scheduler/prioritize", body: nil))
        #expect(answer.status == .contentTooLarge)
        let message = (try Self.json(answer)["error"] as? [String: Any])?["message"] as? String
        #expect(message?.contains("at most \(ExtenderRoutes.bodyLimit) bytes") == true)
    }

    @Test func onlyTheExtenderVerbsAreServed() throws {
        let routes = try routes()
        for (path, method) in [
            ("/scheduler/bind", HTTPRequest.Method.post), ("/scheduler/filter", .get), ("/v1/workloads", .get),
            ("/healthz", .post),
        ] {
            let answer = routes.answer(.init(method: method, path: path, body: Array(Self.body.utf8)))
            #expect(answer.status == .notFound || answer.status == .methodNotAllowed, "\(method) \(path)")
        }
        #expect(routes.answer(.init(method: .get, path: "/healthz", body: [])).status == .ok)
    }
}
