import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SovereignServer
import SovereignTesting
import Testing
import Yams

/// What an attacker and a schema fuzzer found (issue 13), each kept closed: submissions that would make the
/// server read its own files, kinds that slipped through, a finished model shown to non-participants, names
/// that walked out of their directory, refusals the metrics did not count, unknown methods answered 404.
struct SecurityTests {
    typealias F = ControlFixtures

    static func post(_ client: some TestClientProtocol, _ body: String) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(
            uri: "/v1/workloads",
            method: .post,
            headers: APITests.headers(F.operatorToken),
            body: ByteBuffer(string: body)
        ) { ($0.status, String(buffer: $0.body)) }
    }

    /// A Site beside a Workload names a trace file: whatever the file, the answer is the same 422 at the
    /// document's kind, so nothing of a file's contents, nor whether it exists, comes back.
    @Test func aSubmissionNeverMakesTheServerReadItsFiles() async throws {
        let (app, h) = try APITests.app()
        let secret = h.directory.appendingPathComponent("secret.csv")
        try "time,root:SECRET-LINE-4711\n2026-01-01T00:00:00Z,1\n".write(to: secret, atomically: true, encoding: .utf8)
        let paths = [secret.path, "/etc/shadow", "/proc/self/environ", "../../../../etc/hostname", "/no/such/file.csv"]
        try await app.test(.router) { client in
            var answers: Set<String> = []
            for path in paths {
                let (status, body) = try await Self.post(client, Fixtures.siteNamingTrace(path) + F.workload("probe"))
                #expect(status == .unprocessableContent, "\(path)")
                #expect(!body.contains("SECRET-LINE"), "\(path): \(body)")
                #expect(!body.contains("root:"), "\(path): \(body)")
                #expect(!body.contains("no file at"), "\(path): \(body)")
                #expect(body.contains("\"field\":\"kind\""), "\(path): \(body)")
                answers.insert(body)
            }
            // Identical answers: an existing file and a missing one cannot be told apart.
            #expect(answers.count == 1, "\(answers)")
            try await client.execute(uri: "/v1/workloads/probe", method: .get, headers: APITests.headers(F.readerToken))
            {
                #expect($0.status == .notFound)
            }
        }
    }

    static let otherKinds: [String] = [
        "kind: SoftwareComponent\nmetadata: {name: kubectl}\nspec: {role: orchestrator}",
        "kind: Model\nmetadata: {name: m}\nspec: {parameters: 7B}",
        "kind: Scenario\nmetadata: {name: s}\nspec: {start: 2026-03-02T00:00:00Z, horizon: 1 d, step: 1 h}",
        "kind: JurisdictionGroup\nmetadata: {name: XX}\nspec: {members: [KE]}",
        "kind: Policy\nmetadata: {name: p}\nspec: {domesticOperatorFor: [personal]}",
        "kind: Dataset\nmetadata: {name: d}\nspec: {size: 1 GB, site: nairobi-1, residency: [KE], classification: public}",
        "kind: AcceleratorModel\nmetadata: {name: x-1}\nspec: {vendor: X, memory: 80 GB, tflops: 100, bandwidth: 1 TB/s, power: 300 W, origin: US}",
        "kind: Nonsense\nmetadata: {name: n}\nspec: {}",
        "metadata: {name: n}\nspec: {}",
    ]

    /// Submissions take Workloads only: any other kind beside one is refused, and nothing is stored.
    @Test(arguments: otherKinds)
    func onlyWorkloadsAreAdmitted(_ document: String) async throws {
        let (app, _) = try APITests.app()
        try await app.test(.router) { client in
            let body = "apiVersion: sovereign.dev/v1\n" + document + "\n---\n" + F.workload("beside")
            let (status, text) = try await Self.post(client, body)
            #expect(status == .unprocessableContent, "\(text)")
            #expect(text.contains("a Workload document"), "\(text)")
            try await client.execute(
                uri: "/v1/workloads/beside",
                method: .get,
                headers: APITests.headers(F.readerToken)
            ) {
                #expect($0.status == .notFound)
            }
        }
    }

    /// A name that would leave its directory (`..`, an empty label, a slash once decoded) is a 400 before
    /// it is looked up or joined to a path; the file one level above the models is never served.
    @Test func namesThatWouldLeaveTheirDirectoryAre400() async throws {
        let (app, h) = try APITests.app()
        // What `DB.federation/..` holds if a name could reach it.
        try Data("SECRET-MODEL".utf8).write(to: h.directory.appendingPathComponent("global-1.safetensors"))
        try await app.test(.router) { client in
            for name in ["..", ".", "a..b", "-a", "a.", "A", "%2e%2e", "a%2Fb"] {
                for (suffix, token) in [("/model", F.readerToken), ("", F.readerToken), ("/log", F.readerToken)] {
                    try await client.execute(
                        uri: "/v1/workloads/\(name)\(suffix)",
                        method: .get,
                        headers: APITests.headers(token)
                    ) { response in
                        #expect(response.status == .badRequest, "\(name)\(suffix)")
                        #expect(!String(buffer: response.body).contains("SECRET-MODEL"))
                    }
                }
                try await client.execute(
                    uri: "/v1/sites/\(name)/power",
                    method: .put,
                    headers: APITests.headers(F.operatorToken),
                    body: ByteBuffer(string: "{\"available\": 1}")
                ) { #expect($0.status == .badRequest, "\(name)") }
            }
        }
    }

    /// Unknown methods on a served path are 405 with `Allow`, and refusals of every kind are counted by
    /// method, route and status.
    @Test func unknownMethodsAre405AndRefusalsAreCounted() async throws {
        let (app, _) = try APITests.app()
        try await app.test(.router) { client in
            for path in Set(API.routes.map(\.path)) {
                let served = Set(API.routes.filter { $0.path == path }.map(\.method))
                let uri = path.replacingOccurrences(of: "{name}", with: "x").replacingOccurrences(
                    of: "{site}",
                    with: "nairobi-1"
                ).replacingOccurrences(of: "{workload}", with: "w").replacingOccurrences(of: "{round}", with: "1")
                    .replacingOccurrences(of: "{attempt}", with: "1").replacingOccurrences(of: "{chunk}", with: "0")
                for method in [HTTPRequest.Method.get, .put, .post, .delete, .patch] where !served.contains(method) {
                    try await client.execute(uri: uri, method: method, headers: APITests.headers(F.operatorToken)) {
                        #expect($0.status == .methodNotAllowed, "\(method) \(path)")
                        let allow = Set(($0.headers[.allow] ?? "").split(separator: ",").map { $0.trimmed })
                        #expect(allow == Set(served.map(\.rawValue)), "\(method) \(path)")
                    }
                }
            }
            try await client.execute(uri: "/v1/workloads", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/workloads", method: .post, headers: APITests.headers(F.readerToken)) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: APITests.headers(F.readerToken)) {
                let lines = String(buffer: $0.body).split(separator: "\n").filter {
                    $0.hasPrefix("sovereign_http_requests_total{")
                }
                func counted(_ method: String, _ status: String) -> Bool {
                    lines.contains {
                        $0.contains("method=\"\(method)\"") && $0.contains("route=\"/v1/workloads\"")
                            && $0.contains("status=\"\(status)\"")
                    }
                }
                #expect(counted("GET", "401"), "\(lines)")
                #expect(counted("POST", "403"), "\(lines)")
                #expect(counted("DELETE", "405"), "\(lines)")
            }
        }
    }

    /// A finished federated model goes to readers and to the sites that trained it, never to another site.
    @Test func aFinishedModelIsNotShownToSitesThatTookNoPart() async throws {
        let outsider = """
            ---
            apiVersion: sovereign.dev/v1
            kind: Site
            metadata: {name: kigali-1}
            spec:
              jurisdiction: RW
              operator: {name: op-RW, jurisdiction: RW}
              power:
                grid: {capacity: 100 kW, carbonIntensity: 300 g/kWh}
              cooling: {capacity: 200 kW, designAmbient: 32 C, ambient: 24 C, pue: {base: 1.3}}
              pools:
                - {name: cpu, accelerator: nvidia-a100-80gb, count: 8, perNode: 8}
            """
        let f = try FederationTests.federation(FederationTests.fleet(rounds: 1, secure: false, extra: outsider))
        try await FederationTests.drive(f) { try FederationTests.state(f).state == .completed }
        let sites = FederationTests.sites.map(\.0) + ["kigali-1"]
        let tokens = try TokenStore(
            text: "\(F.readerToken) reader\n" + sites.map { "\(FederationAPITests.token($0)) site \($0)\n" }.joined(),
            file: "tokens",
            sites: Set(sites)
        )
        let app = Application(
            router: SovereignServer.router(plane: f.harness.plane, federation: f.coordinator, tokens: tokens)
        )
        try await app.test(.router) { client in
            let uri = "/v1/federation/workloads/digits/model"
            try await client.execute(
                uri: uri,
                method: .get,
                headers: APITests.headers(FederationAPITests.token("kigali-1"))
            ) {
                #expect($0.status == .forbidden)
                #expect($0.body.readableBytes < 200)
            }
            try await client.execute(
                uri: uri,
                method: .get,
                headers: APITests.headers(FederationAPITests.token("dar-1"))
            ) {
                #expect($0.status == .ok)
            }
            try await client.execute(
                uri: "/v1/workloads/digits/model",
                method: .get,
                headers: APITests.headers(F.readerToken)
            ) {
                #expect($0.status == .ok)
            }
        }
    }

    /// Every `$ref` in the document points at something it defines.
    @Test func everyReferenceInTheOpenAPIDocumentResolves() throws {
        let root = try #require(try Yams.load(yaml: SovereignServer.openAPIDocument) as? [String: Any])
        var references: [String] = []
        func collect(_ node: Any) {
            if let object = node as? [String: Any] {
                if let ref = object["$ref"] as? String { references.append(ref) }
                object.values.forEach(collect)
            } else if let array = node as? [Any] {
                array.forEach(collect)
            }
        }
        collect(root)
        #expect(references.count > 50)
        for reference in Set(references) {
            #expect(reference.hasPrefix("#/"), "\(reference)")
            var node: Any? = root
            for part in reference.dropFirst(2).split(separator: "/") {
                node = (node as? [String: Any])?[String(part)]
            }
            #expect(node != nil, "\(reference) resolves to nothing")
        }
    }
}

extension Substring {
    fileprivate var trimmed: String { String(self).trimmingCharacters(in: .whitespaces) }
}
