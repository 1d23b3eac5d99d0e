import Foundation
import Hummingbird
import HummingbirdTesting
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

    func application() throws -> some ApplicationProtocol {
        Application(router: try router())
    }

    /// The extender's routes over a constant fleet whose directory knows two nodes.
    func router() throws -> Router<BasicRequestContext> {
        let fleet = try Fixtures.load(Fixtures.constantFleet)
        let grid = TimeGrid(start: Date(timeIntervalSince1970: 1_772_409_600), horizon: .hours(24), step: .hours(1))
        let snapshot = Self.snapshot(fleet, grid: grid)
        let extender = Extender(snapshot: snapshot)
        extender.nodes.replace(with: [
            (name: "gpu-1", labels: ["sovereign.dev/site": "nairobi-1", "sovereign.dev/pool": "a100"]),
            (name: "gpu-2", labels: ["sovereign.dev/site": "kigali-1"]),
        ])
        return ExtenderRoutes.router(extender: extender, prefix: "/scheduler/")
    }

    static let body =
        #"{"Pod":{"metadata":{"name":"p","annotations":{"sovereign.dev/datasets":"ke-health-records"}}},"Nodes":null,"NodeNames":["gpu-1","gpu-2"]}"#

    @Test func filterAndPrioritizeAnswerJSON() async throws {
        try await application().test(.router) { client in
            try await client.execute(uri: "/scheduler/filter", method: .post, body: ByteBuffer(string: Self.body)) {
                #expect($0.status == .ok)
                #expect($0.headers[.contentType] == "application/json")
                let reply = try JSONSerialization.jsonObject(with: Data(String(buffer: $0.body).utf8)) as! [String: Any]
                #expect(reply["NodeNames"] as? [String] == ["gpu-1"])
                #expect(
                    (reply["FailedAndUnresolvableNodes"] as? [String: String])?["gpu-2"]
                        == "sovereign residency: outside residency KE (dataset ke-health-records)"
                )
            }
            try await client.execute(uri: "/scheduler/prioritize", method: .post, body: ByteBuffer(string: Self.body)) {
                #expect($0.status == .ok)
                #expect(String(buffer: $0.body).hasPrefix(#"[{"Host":"gpu-1","Score":"#))
            }
            try await client.execute(uri: "/healthz", method: .get) {
                #expect($0.status == .ok)
            }
        }
    }

    /// The README's demo: the derived body against the East-African example answers as the README shows.
    @Test func theReadmeDemoAnswersAsShown() async throws {
        let root = Fixtures.repositoryRoot
        let (fleet, _) = try SovereignServer.loadFleet([root.appendingPathComponent("Examples/east-africa").path])
        let grid = try #require(fleet.scenario?.grid)
        let snapshot = Self.snapshot(fleet, grid: grid)
        let app = Application(
            router: ExtenderRoutes.router(extender: Extender(snapshot: snapshot), prefix: "/scheduler")
        )
        let body = try Data(
            contentsOf: root.appendingPathComponent("Examples/data/kubernetes/demo.filter.ke-clinical-notes.json")
        )
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        try await app.test(.router) { client in
            try await client.execute(uri: "/scheduler/filter", method: .post, body: ByteBuffer(bytes: body)) {
                #expect($0.status == .ok)
                let reply = try #require(
                    try JSONSerialization.jsonObject(with: Data(String(buffer: $0.body).utf8)) as? [String: Any]
                )
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
        }
    }

    @Test func malformedBodiesAre400sNamingTheField() async throws {
        try await application().test(.router) { client in
            try await client.execute(
                uri: "/scheduler/filter",
                method: .post,
                body: ByteBuffer(string: #"{"Pod":{"spec":{"priority":"high"}},"NodeNames":[]}"#)
            ) {
                #expect($0.status == .badRequest)
                let error =
                    (try JSONSerialization.jsonObject(with: Data(String(buffer: $0.body).utf8)) as! [String: Any])[
                        "error"
                    ]
                let object = error as? [String: Any]
                #expect(object?["field"] as? String == "Pod.spec.priority")
                #expect((object?["message"] as? String)?.contains("expected an integer priority") == true)
            }
        }
    }

    @Test func onlyTheExtenderVerbsAreServed() async throws {
        try await application().test(.router) { client in
            for (uri, method) in [
                ("/scheduler/bind", HTTPRequest.Method.post), ("/scheduler/filter", .get), ("/v1/workloads", .get),
            ] {
                try await client.execute(uri: uri, method: method, body: ByteBuffer(string: Self.body)) {
                    #expect($0.status == .notFound || $0.status == .methodNotAllowed, "\(method) \(uri)")
                }
            }
        }
    }
}
