import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SovereignLedger
import SovereignModel
import SovereignServer
import SovereignTesting
import Testing
import Yams

/// The HTTP API in process: authentication, validation of every input, and the OpenAPI document.
struct APITests {
    typealias F = ControlFixtures

    static func app() throws -> (some ApplicationProtocol, F.Harness) {
        let h = try F.harness()
        let tokens = try TokenStore(
            text: "\(F.operatorToken) operator\n\(F.readerToken) reader\n\(F.powerToken) power\n",
            file: "tokens"
        )
        let app = Application(
            router: SovereignServer.router(plane: h.plane, federation: h.coordinator(), tokens: tokens)
        )
        return (app, h)
    }

    static func headers(_ token: String?, json: Bool = false) -> HTTPFields {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        if json { fields[.contentType] = "application/json" }
        return fields
    }

    struct NotAnObject: Error {}

    static func object(_ body: ByteBuffer) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw NotAnObject()
        }
        return object
    }

    /// The error's message and field, or empty when the body is not an error.
    static func errorField(_ body: ByteBuffer) -> (message: String, field: String?) {
        let error = (try? object(body))?["error"] as? [String: Any]
        return (error?["message"] as? String ?? "", error?["field"] as? String)
    }

    @Test func healthNeedsNoTokenButEverythingElseDoes() async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            for route in API.routes where route.role != nil {
                let uri = route.path.replacingOccurrences(of: "{name}", with: "x").replacingOccurrences(
                    of: "{site}",
                    with: "nairobi-1"
                ).replacingOccurrences(of: "{dataset}", with: "ke-records")
                try await client.execute(uri: uri, method: route.method) { response in
                    #expect(response.status == .unauthorized, "\(route.method) \(route.path)")
                    #expect(Self.errorField(response.body).field == "Authorization")
                }
                try await client.execute(
                    uri: uri,
                    method: route.method,
                    headers: Self.headers("not-a-known-token-at-all")
                ) {
                    #expect($0.status == .unauthorized, "\(route.method) \(route.path)")
                }
                if let role = route.role, role > .reader {
                    try await client.execute(uri: uri, method: route.method, headers: Self.headers(F.readerToken)) {
                        #expect($0.status == .forbidden, "\(route.method) \(route.path)")
                    }
                }
                if route.role == .operator {
                    try await client.execute(uri: uri, method: route.method, headers: Self.headers(F.powerToken)) {
                        #expect($0.status == .forbidden, "\(route.method) \(route.path)")
                    }
                }
            }
        }
    }

    /// `limit` and `continue` page through the workloads in submission order, as Kubernetes lists do; the last
    /// page has no token, and a token or limit the server never gave is a 400 naming its parameter.
    @Test func workloadListsPaginateWithAContinueToken() async throws {
        let (app, _) = try Self.app()
        let names = ["w-e", "w-a", "w-d", "w-b", "w-c"]
        try await app.test(.router) { client in
            for name in names {
                try await client.execute(
                    uri: "/v1/workloads",
                    method: .post,
                    headers: Self.headers(F.operatorToken),
                    body: ByteBuffer(string: F.workload(name))
                ) { #expect($0.status == .created) }
            }
            var pages: [[String]] = []
            var uri = "/v1/workloads?limit=2"
            while pages.count < 10 {
                let next: String? = try await client.execute(
                    uri: uri,
                    method: .get,
                    headers: Self.headers(F.readerToken)
                ) { response in
                    #expect(response.status == .ok)
                    let body = try Self.object(response.body)
                    let workloads = try #require(body["workloads"] as? [[String: Any]])
                    pages.append(workloads.compactMap { $0["name"] as? String })
                    return body["continue"] as? String
                }
                guard let next else { break }
                uri = "/v1/workloads?limit=2&continue=\(next)"
            }
            #expect(pages == [["w-e", "w-a"], ["w-d", "w-b"], ["w-c"]])
            for bad in [
                "limit=0", "limit=1001", "continue=w-a", "continue=after--1", "continue=after-+5",
                "limit=2&continue=after-x",
            ] {
                try await client.execute(
                    uri: "/v1/workloads?\(bad)",
                    method: .get,
                    headers: Self.headers(F.readerToken)
                ) {
                    #expect($0.status == .badRequest, "\(bad)")
                    #expect(
                        Self.errorField($0.body).field == (bad.contains("continue") ? "continue" : "limit"),
                        "\(bad)"
                    )
                }
            }
        }
    }

    @Test func submitListGetAndControlAWorkload() async throws {
        let (app, h) = try Self.app()
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/workloads",
                method: .post,
                headers: Self.headers(F.operatorToken),
                body: ByteBuffer(string: F.workload("train"))
            ) { response in
                #expect(response.status == .created)
                let workloads = try #require(try Self.object(response.body)["workloads"] as? [[String: Any]])
                #expect(workloads.first?["name"] as? String == "train")
                // The answer shows the workload as committed; the control loop's pass runs after it.
                #expect(workloads.first?["state"] as? String == "pending")
            }
            // The pass the submission asked for starts it at once.
            await h.plane.askedPassesDone()
            try await client.execute(uri: "/v1/workloads/train", method: .get, headers: Self.headers(F.readerToken)) {
                response in
                #expect(response.status == .ok)
                let detail = try Self.object(response.body)
                let workload = try #require(detail["workload"] as? [String: Any])
                #expect(workload["state"] as? String == "running")
                #expect((detail["attempts"] as? [Any])?.count == 1)
                #expect(
                    ((detail["history"] as? [[String: Any]])?.map { $0["to"] as? String }) == [
                        "pending", "placed", "running",
                    ]
                )
            }
            try await client.execute(
                uri: "/v1/workloads/train/pause",
                method: .post,
                headers: Self.headers(F.operatorToken)
            ) {
                #expect($0.status == .ok)
                #expect((try? Self.object($0.body))?["state"] as? String == "pausing")
            }
            h.executor.honourTerminations()
            try await client.execute(uri: "/v1/workloads", method: .get, headers: Self.headers(F.readerToken)) {
                response in
                #expect(response.status == .ok)
            }
            try await client.execute(
                uri: "/v1/workloads/missing/pause",
                method: .post,
                headers: Self.headers(F.operatorToken)
            ) {
                #expect($0.status == .notFound)
                #expect(Self.errorField($0.body).field == "name")
            }
            try await client.execute(uri: "/v1/workloads/missing", method: .get, headers: Self.headers(F.readerToken)) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test func invalidSubmissionsAnswer4xxWithWhereAndWhat() async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            let cases: [(String, HTTPResponse.Status, String?)] = [
                ("", .badRequest, "body"),
                ("{not yaml: [", .unprocessableContent, ""),
                (F.workload("x", datasets: ["nowhere"]), .unprocessableContent, "spec.datasets[0]"),
                (
                    F.workload("x").replacingOccurrences(of: "priority: 0", with: "priority: 0\n  color: red"),
                    .unprocessableContent, "spec.color"
                ),
                ("{\"apiVersion\": \"sovereign.dev/v1\", \"kind\": \"Workload\"}", .unprocessableContent, "metadata"),
            ]
            for (body, status, field) in cases {
                try await client.execute(
                    uri: "/v1/workloads",
                    method: .post,
                    headers: Self.headers(F.operatorToken),
                    body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == status, "\(body)")
                    let error = Self.errorField(response.body)
                    #expect(!error.message.isEmpty)
                    if let field { #expect(error.field == field, "\(body): \(error)") }
                }
            }
            let huge = String(repeating: "#", count: API.bodyLimit + 1)
            try await client.execute(
                uri: "/v1/workloads",
                method: .post,
                headers: Self.headers(F.operatorToken),
                body: ByteBuffer(string: huge)
            ) {
                #expect($0.status == .contentTooLarge)
            }
            try await client.execute(
                uri: "/v1/workloads",
                method: .post,
                headers: Self.headers(F.operatorToken),
                body: ByteBuffer(string: F.workload("dup"))
            ) {
                #expect($0.status == .created)
            }
            try await client.execute(
                uri: "/v1/workloads",
                method: .post,
                headers: Self.headers(F.operatorToken),
                body: ByteBuffer(string: F.workload("dup"))
            ) {
                #expect($0.status == .conflict)
                #expect(Self.errorField($0.body).field == "metadata.name")
            }
        }
    }

    @Test(arguments: [
        ("{", "body"),
        ("[1, 2]", "body"),
        ("{}", "available"),
        ("{\"available\": \"lots\"}", "available"),
        ("{\"available\": -5}", "available"),
        ("{\"available\": true}", "available"),
        ("{\"available\": \"10 kW\", \"colour\": 1}", "colour"),
        ("{\"available\": \"10 kW\", \"forecast\": 3}", "forecast"),
        ("{\"available\": \"10 kW\", \"forecast\": [{\"at\": \"yesterday\", \"available\": 1}]}", "forecast[0].at"),
        ("{\"available\": \"10 kW\", \"forecast\": [{\"at\": \"2026-11-22T10:00:00Z\"}]}", "forecast[0].available"),
        ("{\"available\": \"\"}", "available"),
        ("{\"available\": \"10 kW\", \"ambient\": \"hot\"}", "ambient"),
        ("{\"available\": \"10 kW\", \"ambient\": 500}", "ambient"),
    ])
    func malformedPowerSignalsAre400(body: String, field: String) async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/sites/nairobi-1/power",
                method: .put,
                headers: Self.headers(F.operatorToken),
                body: ByteBuffer(string: body)
            ) {
                #expect($0.status == .badRequest)
                #expect(Self.errorField($0.body).field == field)
            }
        }
    }

    @Test func powerSignalsAreStoredAndShownPerSite() async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            let body =
                "{\"available\": \"12 kW\", \"ambient\": \"35 C\", \"forecast\": [{\"at\": \"2099-01-01T00:00:00Z\", \"available\": 9000}]}"
            try await client.execute(
                uri: "/v1/sites/nairobi-1/power",
                method: .put,
                headers: Self.headers(F.powerToken),
                body: ByteBuffer(string: body)
            ) {
                #expect($0.status == .ok)
                let stored = try Self.object($0.body)
                #expect(stored["available"] as? Double == 12_000)
                #expect((stored["forecast"] as? [Any])?.count == 1)
            }
            try await client.execute(
                uri: "/v1/sites/atlantis/power",
                method: .put,
                headers: Self.headers(F.operatorToken),
                body: ByteBuffer(string: "{\"available\": 1}")
            ) {
                #expect($0.status == .notFound)
                #expect(Self.errorField($0.body).field == "site")
            }
            try await client.execute(uri: "/v1/sites/nairobi-1", method: .get, headers: Self.headers(F.readerToken)) {
                #expect($0.status == .ok)
                let site = try Self.object($0.body)
                #expect(site["supplyWatts"] as? Double == 12_000)
                #expect(site["signalled"] as? Bool == true)
            }
            try await client.execute(uri: "/v1/plan", method: .get, headers: Self.headers(F.readerToken)) {
                #expect($0.status == .ok)
                #expect(((try? Self.object($0.body))?["sites"] as? [Any])?.count == 3)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: Self.headers(F.readerToken)) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains("sovereign_site_supply_watts{site=\"nairobi-1\"} 12000"))
                #expect(text.contains("sovereign_ledger_entries"))
            }
        }
    }

    @Test func ledgerProofsVerify() async throws {
        let (app, h) = try Self.app()
        for i in 0..<5 { _ = try await h.plane.submit(document: F.workload("w\(i)"), by: F.requester) }
        try await app.test(.router) { client in
            let head = try await client.execute(uri: "/v1/ledger", method: .get, headers: Self.headers(F.readerToken)) {
                try Self.object($0.body)
            }
            let size = try #require(head["size"] as? Int)
            #expect(size >= 5)
            let root = try #require(TreeHash(hex: head["root"] as? String ?? ""))
            let note = try #require(head["checkpoint"] as? String)
            let checkpoint = try NoteVerifier(verifierKey: head["verifierKey"] as? String ?? "").verify(note)
            #expect(checkpoint.size == size)
            #expect(checkpoint.root == root)
            for index in 0..<size {
                let proof = try await client.execute(
                    uri: "/v1/ledger/proof/inclusion?index=\(index)&size=\(size)",
                    method: .get,
                    headers: Self.headers(F.readerToken)
                ) {
                    try Self.object($0.body)
                }
                let path = try #require(proof["proof"] as? [String]).compactMap(TreeHash.init(hex:))
                let leaf = try #require(TreeHash(hex: proof["leafHash"] as? String ?? ""))
                #expect(
                    MerkleVerifier.verifyInclusion(leafHash: leaf, index: index, size: size, proof: path, root: root)
                )
            }
            let consistency = try await client.execute(
                uri: "/v1/ledger/proof/consistency?from=2&to=\(size)",
                method: .get,
                headers: Self.headers(F.readerToken)
            ) {
                try Self.object($0.body)
            }
            let old = try #require(TreeHash(hex: consistency["oldRoot"] as? String ?? ""))
            let path = try #require(consistency["proof"] as? [String]).compactMap(TreeHash.init(hex:))
            #expect(MerkleVerifier.verifyConsistency(from: 2, to: size, proof: path, oldRoot: old, newRoot: root))
            // Malformed queries are 400; well-formed ones naming a tree or an entry that does not exist, 404.
            for (bad, status) in [
                ("index=0", HTTPResponse.Status.badRequest), ("index=0&size=0", .badRequest),
                ("index=\(size)&size=\(size)", .notFound), ("index=0&size=\(size + 1)", .notFound),
                ("index=x&size=1", .badRequest),
            ] {
                try await client.execute(
                    uri: "/v1/ledger/proof/inclusion?\(bad)",
                    method: .get,
                    headers: Self.headers(F.readerToken)
                ) {
                    #expect($0.status == status, "\(bad)")
                }
            }
            for (bad, status) in [
                ("from=0&to=\(size)", HTTPResponse.Status.badRequest), ("from=3&to=2", .notFound),
                ("from=1&to=\(size + 1)", .notFound),
            ] {
                try await client.execute(
                    uri: "/v1/ledger/proof/consistency?\(bad)",
                    method: .get,
                    headers: Self.headers(F.readerToken)
                ) {
                    #expect($0.status == status, "\(bad)")
                }
            }
            try await client.execute(
                uri: "/v1/ledger/entries?limit=2",
                method: .get,
                headers: Self.headers(F.readerToken)
            ) {
                let entries = try #require(try Self.object($0.body)["entries"] as? [[String: Any]])
                #expect(entries.count == 2)
                #expect(entries.first?["sequence"] as? Int == 0)
            }
        }
    }

    @Test func tokenFilesAreCheckedLineByLine() throws {
        let text =
            "# comment\nshort operator\n\(F.operatorToken) admin\n\(F.readerToken)\n\(F.powerToken) power  # ok\n"
            + "site-0123456789abcdef site\nsite-0123456789abcdef site atlantis-1\nsite-0123456789abcdef site nairobi-1\n"
        let error = try #require(throws: TokenFileError.self) {
            try TokenStore(text: text, file: "tokens", sites: ["nairobi-1"])
        }
        #expect(
            error.message == """
                tokens:2:1: error: expected a token of at least 16 characters, found 5
                tokens:3:1: error: expected role reader, power, operator or site, found "admin"
                tokens:4:1: error: expected "TOKEN ROLE", found 1 words
                tokens:6:1: error: expected "TOKEN site SITE", found 2 words
                tokens:7:1: error: expected a site of the fleet, found "atlantis-1"
                """
        )
        let sites = try TokenStore(text: "site-0123456789abcdef site nairobi-1\n", file: "tokens", sites: ["nairobi-1"])
        #expect(sites.authenticate("site-0123456789abcdef")?.role == .site)
        #expect(sites.authenticate("site-0123456789abcdef")?.site == "nairobi-1")
        let store = try TokenStore(text: "\(F.powerToken) power\n", file: "tokens")
        #expect(store.authenticate(F.powerToken)?.role == .power)
        #expect(store.authenticate(F.powerToken + "x") == nil)
        #expect(store.authenticate(F.powerToken)?.fingerprint.hasPrefix("token:") == true)
        #expect(store.authenticate(F.powerToken)?.fingerprint.contains(F.powerToken) == false)
    }

    @Test func theOpenAPIDocumentListsExactlyTheServedRoutes() throws {
        let document = SovereignServer.openAPIDocument
        #expect(!document.isEmpty)
        let repository = try String(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Sources/SovereignServer/openapi.yaml"),
            encoding: .utf8
        )
        #expect(document == repository)
        let root = try #require(try Yams.load(yaml: document) as? [String: Any])
        #expect(root["openapi"] as? String == "3.1.0")
        let paths = try #require(root["paths"] as? [String: Any])
        var documented = Set<String>()
        for (path, item) in paths {
            for method in (item as? [String: Any])?.keys ?? [:].keys
            where ["get", "put", "post", "delete", "patch"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let served = Set(API.routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(
            documented == served,
            "only documented: \(documented.subtracting(served)); only served: \(served.subtracting(documented))"
        )
        // Security: a route without a role is documented with `security: []`, and only those.
        for route in API.routes {
            let operation = (paths[route.path] as? [String: Any])?[route.method.rawValue.lowercased()] as? [String: Any]
            let open = (operation?["security"] as? [Any])?.isEmpty == true
            #expect(open == (route.role == nil), "\(route.method) \(route.path)")
        }
    }
}
