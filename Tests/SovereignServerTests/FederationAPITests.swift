import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SovereignFederation
import SovereignServer
import SovereignTesting
import Testing

/// The federation routes over HTTP: who may call them, and every malformed, stale, oversized or hostile
/// request answered with a 4xx that names the field.
struct FederationAPITests {
    typealias F = ControlFixtures

    static func token(_ site: String) -> String { "site-\(site)-0123456789" }

    static func app(fleet: String = FederationTests.fleet(rounds: 1, secure: false)) throws -> some ApplicationProtocol
    {
        let h = try F.harness(fleetText: fleet)
        var text = "\(F.operatorToken) operator\n\(F.readerToken) reader\n"
        for (site, _) in FederationTests.sites { text += "\(token(site)) site \(site)\n" }
        let tokens = try TokenStore(text: text, file: "tokens", sites: Set(FederationTests.sites.map(\.0)))
        return Application(router: SovereignServer.router(plane: h.plane, federation: h.coordinator(), tokens: tokens))
    }

    static func headers(_ token: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[.authorization] = "Bearer \(token)"
        return fields
    }

    static func error(_ response: TestResponse) -> (message: String, field: String?) {
        APITests.errorField(response.body)
    }

    /// Every site polls once, so the round opens with all three.
    static func openRound(_ client: some TestClientProtocol) async throws -> FederationTask {
        var task: FederationTask?
        for (site, _) in FederationTests.sites {
            try await client.execute(uri: "/v1/federation/tasks", method: .get, headers: headers(token(site))) { r in
                #expect(r.status == .ok)
                let list = try JSONDecoder().decode(FederationTaskList.self, from: Data(r.body.readableBytesView))
                if site == "dar-1" { task = list.tasks.first }
            }
        }
        return try #require(task)
    }

    static let base = "/v1/federation/workloads/digits/rounds/1/attempts/1"

    @Test func siteTokensReachOnlyTheFederationRoutesAndOthersCannotActAsASite() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/v1/workloads", method: .get, headers: Self.headers(Self.token("dar-1"))) {
                #expect($0.status == .forbidden)
                #expect(Self.error($0).message == "expected a token with role reader, found role site")
            }
            for token in [F.readerToken, F.operatorToken] {
                try await client.execute(uri: "/v1/federation/tasks", method: .get, headers: Self.headers(token)) {
                    #expect($0.status == .forbidden)
                }
            }
            let task = try await Self.openRound(client)
            #expect(task.workload == "digits" && task.round == 1 && task.phase == .train)
            #expect(task.dataset == "tz-notes")
            #expect(task.secure == nil)
            // The round's model, checked against the task.
            try await client.execute(
                uri: "/v1/federation/workloads/digits/model",
                method: .get,
                headers: Self.headers(Self.token("dar-1"))
            ) { r in
                #expect(r.status == .ok)
                let bytes = Array(r.body.readableBytesView)
                #expect(bytes.count == task.modelBytes)
                #expect(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() == task.modelSHA256)
            }
        }
    }

    @Test func malformedStaleAndHostileUpdatesAreRefusedWithTheField() async throws {
        try await Self.app().test(.router) { client in
            _ = try await Self.openRound(client)
            let site = Self.headers(Self.token("dar-1"))
            // A chunk for another round, or out of order.
            try await client.execute(
                uri: "/v1/federation/workloads/digits/rounds/2/attempts/1/update/0",
                method: .put,
                headers: site,
                body: ByteBuffer(bytes: [1, 2, 3])
            ) {
                #expect($0.status == .conflict)
                #expect(Self.error($0).message == "expected round 1 attempt 1, found round 2 attempt 1")
                #expect(Self.error($0).field == "round")
            }
            try await client.execute(
                uri: "\(Self.base)/update/1",
                method: .put,
                headers: site,
                body: ByteBuffer(bytes: [1])
            ) {
                #expect($0.status == .conflict)
                #expect(Self.error($0).message == "expected chunk 0 first, found chunk 1")
            }
            try await client.execute(
                uri: "\(Self.base)/update/x",
                method: .put,
                headers: site,
                body: ByteBuffer(bytes: [1])
            ) {
                #expect($0.status == .badRequest)
                #expect(Self.error($0).field == "chunk")
            }
            // A chunk over 4 MiB.
            try await client.execute(
                uri: "\(Self.base)/update/0",
                method: .put,
                headers: site,
                body: ByteBuffer(repeating: 0, count: FederationCoordinator.chunkBytes + 1)
            ) {
                #expect($0.status == .contentTooLarge)
            }
            // Commits that are not JSON, miss a field, or carry one the message does not have.
            let cases: [(String, HTTPResponse.Status, String?)] = [
                ("{not json", .badRequest, "body"),
                ("{\"chunks\": 1, \"bytes\": 3, \"examples\": 5}", .badRequest, "sha256"),
                (
                    "{\"chunks\": 1, \"bytes\": 3, \"sha256\": \"00\", \"examples\": 5, \"colour\": \"red\"}",
                    .badRequest, "colour"
                ),
                ("{\"chunks\": \"one\", \"bytes\": 3, \"sha256\": \"00\", \"examples\": 5}", .badRequest, "chunks"),
            ]
            for (body, status, field) in cases {
                try await client.execute(
                    uri: "\(Self.base)/update",
                    method: .post,
                    headers: site,
                    body: ByteBuffer(string: body)
                ) {
                    #expect($0.status == status, "\(body)")
                    #expect(Self.error($0).field == field, "\(body): \(Self.error($0).message)")
                }
            }
            // A hostile update: a header that claims 2^60 bytes.
            var hostile: [UInt8] = []
            withUnsafeBytes(of: UInt64(1 << 60).littleEndian) { hostile += $0 }
            hostile += Array("{\"a\":{}}".utf8)
            try await client.execute(
                uri: "\(Self.base)/update/0",
                method: .put,
                headers: site,
                body: ByteBuffer(bytes: hostile)
            ) {
                #expect($0.status == .ok)
            }
            let digest = SHA256.hash(data: hostile).map { String(format: "%02x", $0) }.joined()
            let wrong = UpdateCommit(
                chunks: 1,
                bytes: hostile.count,
                sha256: String(repeating: "0", count: 64),
                examples: 5,
                preClipNorm: nil
            )
            try await client.execute(
                uri: "\(Self.base)/update",
                method: .post,
                headers: site,
                body: ByteBuffer(bytes: try JSONEncoder().encode(wrong))
            ) {
                #expect($0.status == .unprocessableContent)
                #expect(Self.error($0).field == "sha256")
                #expect(
                    Self.error($0).message
                        == "expected the update's SHA-256 to be \(String(repeating: "0", count: 64)), found \(digest)"
                )
            }
            // The upload was consumed by the failed commit: send it again, with the right digest this time.
            try await client.execute(
                uri: "\(Self.base)/update/0",
                method: .put,
                headers: site,
                body: ByteBuffer(bytes: hostile)
            ) {
                #expect($0.status == .ok)
            }
            let right = UpdateCommit(chunks: 1, bytes: hostile.count, sha256: digest, examples: 5, preClipNorm: nil)
            try await client.execute(
                uri: "\(Self.base)/update",
                method: .post,
                headers: site,
                body: ByteBuffer(bytes: try JSONEncoder().encode(right))
            ) {
                #expect($0.status == .unprocessableContent)
                #expect(Self.error($0).field == "body")
                #expect(
                    Self.error($0).message.hasPrefix("the update is not valid safetensors: "),
                    "\(Self.error($0).message)"
                )
            }
            // The coordinator still serves the round.
            try await client.execute(uri: "/v1/federation/tasks", method: .get, headers: site) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test func aSiteCannotSpeakForAnotherAndPlainRoundsTakeNoSecureMessages() async throws {
        try await Self.app().test(.router) { client in
            _ = try await Self.openRound(client)
            let keys = SecureMessage.keys(
                SecureAggregation.AdvertiseKeys(
                    session: "s",
                    site: "nairobi-1",
                    encryptionKey: Data(count: 32),
                    maskingKey: Data(count: 32)
                )
            )
            try await client.execute(
                uri: "\(Self.base)/secure",
                method: .post,
                headers: Self.headers(Self.token("dar-1")),
                body: ByteBuffer(bytes: try JSONEncoder().encode(keys))
            ) {
                #expect($0.status == .conflict)
                #expect(Self.error($0).field == "phase")
            }
            try await client.execute(
                uri: "\(Self.base)/secure",
                method: .post,
                headers: Self.headers(Self.token("dar-1")),
                body: ByteBuffer(string: "{\"kind\": \"gossip\", \"message\": {}}")
            ) {
                #expect($0.status == .badRequest)
                #expect(Self.error($0).message.contains("expected kind keys, shares or unmask, found \"gossip\""))
            }
        }
    }

    /// What `POST /v1/workloads` answers `document` with on a federation fleet that allows updates to cross
    /// `cross` (its declared workload renamed, so the submission is the only one of its kind): 422 with a field.
    static func refusal(of document: String, cross: String) async throws -> (message: String, field: String?) {
        let fleet = FederationTests.fleet(rounds: 1, secure: false, cross: cross)
            .replacingOccurrences(of: "metadata: {name: digits}", with: "metadata: {name: digits-declared}")
        return try await Self.app(fleet: fleet).test(.router) { client in
            try await client.execute(
                uri: "/v1/workloads",
                method: .post,
                headers: Self.headers(F.operatorToken),
                body: ByteBuffer(string: document)
            ) {
                #expect($0.status == .unprocessableContent)
                return Self.error($0)
            }
        }
    }

    @Test func aFederationThatWouldMoveUpdatesAcrossAClosedBorderIsRefusedAtSubmission() async throws {
        let document = """
            apiVersion: sovereign.dev/v1
            kind: Workload
            metadata: {name: digits-submitted}
            spec:
              type: federated
              model: {parameters: 650}
              datasets: [ke-notes, tz-notes]
              compute: {flops: 1e12}
              federation:
                coordinator: nairobi-1
                rounds: 1
                trainer: {model: logistic-regression, features: 64, classes: 10}
            """
        let refusal = try await Self.refusal(of: document, cross: "[KE, UG]")
        #expect(refusal.field == "spec.federation.coordinator")
        #expect(
            refusal.message
                == "digits-submitted is refused: updates from dar-1 (TZ) to the coordinator nairobi-1 (KE) would cross a border that a policy's updatesMayCross does not allow"
        )
    }

    /// A federated workload without a trainer can be planned and simulated, but there is nothing for its sites to
    /// run: the control plane refuses to coordinate it, saying which field is missing.
    @Test func aFederationWithoutATrainerIsRefusedAtSubmission() async throws {
        let document = """
            apiVersion: sovereign.dev/v1
            kind: Workload
            metadata: {name: digits-planned}
            spec:
              type: federated
              model: {parameters: 650}
              datasets: [ke-notes, tz-notes]
              compute: {flops: 1e12}
              federation: {coordinator: nairobi-1, rounds: 3}
            """
        let refusal = try await Self.refusal(of: document, cross: "[KE, UG, TZ]")
        #expect(refusal.field == "spec.federation.trainer")
        #expect(
            refusal.message
                == "digits-planned is refused: expected the model its sites train to coordinate its rounds, "
                + "found no trainer"
        )
    }
}
