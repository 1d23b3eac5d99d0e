import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SovereignFederation
import SovereignTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Federated learning end to end: the real server coordinates three real `sovereign agent` processes on
/// 127.0.0.1, each holding one label-skewed share of the digits, with secure aggregation; one agent is
/// killed mid-round (SIGKILL right after it sent its key shares) and comes back later; the model reaches
/// 90 % on the held-back split and the ledger verifies. Everything runs over TLS with a CA the test makes:
/// the agents verify the server with `--ca`; kampala-1 holds no token, only its client certificate.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct FederationServeTests {
    static let sites = [("nairobi-1", "ke"), ("kampala-1", "ug"), ("dar-1", "tz")]

    /// A running agent; its output is collected.
    final class Buffer: Sendable {
        let data = Mutex(Data())
    }

    final class Agent: Sendable {
        let process: Process
        let output: Buffer

        init(
            site: String,
            share: String,
            coordinator: String,
            token: String?,
            record: String? = nil,
            options: [String] = []
        ) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLITests.binary)
            process.arguments =
                [
                    "agent", "--site", site, "--coordinator", coordinator, "--data",
                    "Examples/federated/data/\(share).csv", "--poll", "200 ms",
                ] + (record.map { ["--record-outgoing", $0] } ?? []) + options
            var environment = ProcessInfo.processInfo.environment
            environment["SOVEREIGN_TOKEN"] = token
            process.environment = environment
            process.currentDirectoryURL = Fixtures.repositoryRoot
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            let output = Buffer()
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                output.data.withLock { $0.append(data) }
            }
            try process.run()
            self.process = process
            self.output = output
        }

        var text: String { output.data.withLock { String(decoding: $0, as: UTF8.self) } }

        func stop(signal: Int32 = SIGTERM) {
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }
    }

    static func token(_ site: String) -> String { "site-\(site)-0123456789abcdef" }

    static func ledger(_ server: ServeTests.Server, kind: String) async throws -> [[String: Any]] {
        let (_, body) = try await server.request(.GET, "/v1/ledger/entries?limit=1000")
        let entries =
            (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["entries"] as? [[String: Any]]
            ?? []
        return entries.compactMap { $0["entry"] as? [String: Any] }.filter { $0["kind"] as? String == kind }
            .compactMap { $0["fields"] as? [String: Any] }
    }

    @Test func threeAgentsTrainOneModelSecurelyThroughADropout() async throws {
        let dir = try Fixtures.temporaryDirectory()
        let db = dir.appendingPathComponent("state.sqlite").path
        // Short deadlines so the dropout costs seconds, not the example's 30.
        let example = try String(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Examples/federated/digits-eac.yaml"),
            encoding: .utf8
        )
        let spec = dir.appendingPathComponent("digits-eac.yaml")
        try example.replacingOccurrences(of: "roundTimeout: 30 s", with: "roundTimeout: 4 s")
            .write(to: spec, atomically: true, encoding: .utf8)
        let tokens = dir.appendingPathComponent("tokens.txt")
        try (["op-0123456789abcdef0123 operator"] + Self.sites.map { "\(Self.token($0.0)) site \($0.0)" })
            .joined(separator: "\n").write(to: tokens, atomically: true, encoding: .utf8)
        let ca = try TestCertificateAuthority()
        let caFile = try ca.write(to: dir)
        let serverFiles = try ca.issueServer().write(to: dir, name: "server")
        let kampala = try ca.issueSite("kampala-1").write(to: dir, name: "kampala-1")
        let server = try ServeTests.Server(
            db: db,
            specs: ["Examples/east-africa", spec.path],
            tokens: tokens.path,
            options: [
                "--federation-poll", "200 ms", "--tls-cert", serverFiles.certificate, "--tls-key", serverFiles.key,
                "--client-ca", caFile,
            ],
            ca: caFile
        )
        defer { server.stop() }
        #expect(server.url.hasPrefix("https://127.0.0.1:"))
        func agentOptions(_ site: String) -> [String] {
            ["--ca", caFile]
                + (site == "kampala-1" ? ["--client-cert", kampala.certificate, "--client-key", kampala.key] : [])
        }
        let recorded = dir.appendingPathComponent("nairobi-sent.bin").path
        var agents: [String: Agent] = [:]
        for (site, share) in Self.sites {
            agents[site] = try Agent(
                site: site,
                share: share,
                coordinator: server.url,
                token: site == "kampala-1" ? nil : Self.token(site),
                record: site == "nairobi-1" ? recorded : nil,
                // dar-1 dies (SIGKILL) right after sending its key shares in round 3: it is in the round
                // and holds masks on the others' updates, but never sends its own.
                options: agentOptions(site) + (site == "dar-1" ? ["--kill-self-after", "share-keys:3"] : [])
            )
        }
        defer { for agent in agents.values { agent.stop() } }

        // A site token reaches the federation routes for its own site only.
        #expect(try await server.request(.GET, "/v1/workloads", token: Self.token("dar-1")).0 == 403)

        func diagnose() async -> String {
            let detail = (try? await server.workload("digits-eac")).map { "\($0)" } ?? "?"
            let outputs = agents.map { "\($0.key):\n\($0.value.text.suffix(1500))" }.joined(separator: "\n")
            return "\(detail)\n\(outputs)"
        }
        do {
            try await server.wait("dar-1's agent to die after sharing its keys in round 3", seconds: 240) {
                !agents["dar-1"]!.process.isRunning
            }
            #expect(agents["dar-1"]!.process.terminationReason == .uncaughtSignal)
            try await server.wait("round 3 to finish without dar-1", seconds: 120) {
                try await Self.ledger(server, kind: "federation.round").contains { $0["round"] as? Int == 3 }
            }
        } catch {
            Issue.record("\(await diagnose())")
            throw error
        }
        agents["dar-1"] = try Agent(
            site: "dar-1",
            share: "tz",
            coordinator: server.url,
            token: Self.token("dar-1"),
            options: agentOptions("dar-1")
        )
        do {
            try await server.wait("the federation to complete", seconds: 300) {
                try await server.state("digits-eac") == "completed"
            }
        } catch {
            Issue.record("\(await diagnose())")
            throw error
        }

        let rounds = try await Self.ledger(server, kind: "federation.round")
        #expect(rounds.count == 15)
        let third = try #require(rounds.first { $0["round"] as? Int == 3 })
        #expect(third["sites"] as? [String] == ["kampala-1", "nairobi-1"], "\(third)")
        #expect(third["dropped"] as? [String] == ["dar-1"], "\(third)")
        // The site that reconnected rejoined: the last round had all three.
        #expect(rounds.last?["sites"] as? [String] == ["dar-1", "kampala-1", "nairobi-1"])
        #expect(rounds.allSatisfy { $0["secureAggregation"] as? Bool == true })
        // Every update went from its dataset's country to the coordinator's, never elsewhere.
        let home = ["nairobi-1": "KE", "kampala-1": "UG", "dar-1": "TZ"]
        for update in try await Self.ledger(server, kind: "federation.update") {
            #expect(update["from"] as? String == home[update["site"] as? String ?? ""], "\(update)")
            #expect(update["to"] as? String == "KE")
            #expect((update["sha256"] as? String)?.count == 64)
        }

        // The final model, evaluated on the held-back split that no site trained on.
        let (status, body) = try await server.fetch(
            .GET,
            "/v1/workloads/digits-eac/model",
            token: "op-0123456789abcdef0123"
        )
        #expect(status == 200)
        let bytes = Array(body.readableBytesView)
        let model = try SafetensorsFile(bytes: bytes).modelWeights()
        let test = try TrainingData.load(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Examples/federated/data/test.csv")
        )
        let accuracy = try BuiltInModel.logisticRegression.evaluate(model, on: test, featureScaling: .divide(by: 16))
            .accuracy
        #expect(accuracy >= 0.9, "held-back accuracy \(accuracy)")

        // Nothing nairobi-1 sent holds a line of its data.
        let sent = String(decoding: try Data(contentsOf: URL(fileURLWithPath: recorded)), as: UTF8.self)
        let data = try String(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Examples/federated/data/ke.csv"),
            encoding: .utf8
        )
        #expect(!sent.isEmpty)
        #expect(data.split(separator: "\n").allSatisfy { !sent.contains($0) })

        server.stop()
        let verify = try await CLITests.run(["ledger", "verify", "--db", db])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.hasPrefix("ok"), "\(verify.stdout)")
    }
}
