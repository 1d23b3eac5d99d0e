import AsyncHTTPClient
import Foundation
import NIOHTTP1
import SovereignTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sovereign serve --site-agents` with real `sovereign site-agent` processes on loopback, each with its own
/// work directory standing for a site: the example training workload runs at the site, pauses on the power
/// the site's agent reads, survives the agent's SIGKILL, and survives a network partition without ever
/// running twice.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SiteAgentServeTests {
    typealias Server = ServeTests.Server

    /// A running `sovereign site-agent`.
    final class Agent: Sendable {
        let process: Process
        let site: String
        let directory: URL
        let output = FederationServeTests.Buffer()

        init(site: String, controlPlane: String, directory: URL, powerFile: URL?, options: [String] = []) throws {
            self.site = site
            self.directory = directory
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLITests.binary)
            process.arguments =
                [
                    "site-agent", "--site", site, "--control-plane", controlPlane, "--work-dir", directory.path,
                    "--poll", "200 ms",
                ] + (powerFile.map { ["--power-file", $0.path] } ?? []) + options
            var environment = ProcessInfo.processInfo.environment
            environment["SOVEREIGN_TOKEN"] = SiteAgentServeTests.token(site)
            process.environment = environment
            process.currentDirectoryURL = Fixtures.repositoryRoot
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            let output = self.output
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                output.data.withLock { $0.append(data) }
            }
            try process.run()
            self.process = process
        }

        var text: String { output.data.withLock { String(decoding: $0, as: UTF8.self) } }

        func log(_ workload: String, attempt: Int) -> String {
            let path = directory.appendingPathComponent("workloads/\(workload)/attempts/\(attempt)/log").path
            return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }

        /// When the attempt's supervisor saw it end (its status file), seconds since 1970.
        func endedAt(_ workload: String, attempt: Int) -> Double? {
            let path = directory.appendingPathComponent("workloads/\(workload)/attempts/\(attempt)/status.json")
            guard let data = FileManager.default.contents(atPath: path.path),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return nil }
            return object["at"] as? Double
        }

        func stop(signal: Int32 = SIGTERM) {
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }
    }

    /// The TCP proxy that stands for the network between an agent and the control plane.
    final class Link: Sendable {
        let process: Process
        let port: Int

        init(to url: String) throws {
            let address = url.replacingOccurrences(of: "http://", with: "").split(separator: ":")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", "Scripts/testing/partition_proxy.py", String(address[0]), String(address[1]),
            ]
            process.currentDirectoryURL = Fixtures.repositoryRoot
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            self.process = process
            var line = Data()
            while true {
                let byte = pipe.fileHandleForReading.readData(ofLength: 1)
                if byte.isEmpty || byte == Data("\n".utf8) { break }
                line.append(byte)
            }
            port = Int(String(decoding: line, as: UTF8.self)) ?? 0
        }

        var url: String { "http://127.0.0.1:\(port)" }
        func cut() { kill(process.processIdentifier, SIGUSR1) }
        func restore() { kill(process.processIdentifier, SIGUSR2) }
        func stop() {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }

    static func token(_ site: String) -> String { "site-\(site)-0123456789abcdef" }

    /// The site's power from `--power-command`: what the command prints is the site's power signal; a command
    /// that fails is reported with how it ended and what it said, and the agent goes on polling.
    @Test func anAgentReadsItsSitesPowerFromACommandAndSaysWhenItFails() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try Self.server(in: dir, sites: ["dar-1"])
        defer { server.stop() }
        let meter = dir.appendingPathComponent("meter")
        try "37 kW".write(to: meter, atomically: true, encoding: .utf8)
        let command = """
            reading=$(cat '\(meter.path)'); [ "$reading" = offline ] && { echo "meter offline" >&2; exit 3; }; \
            printf '{"available": "%s"}' "$reading"
            """
        let agent = try Agent(
            site: "dar-1",
            controlPlane: server.url,
            directory: dir.appendingPathComponent("dar-1"),
            powerFile: nil,
            options: ["--power-command", command]
        )
        defer { agent.stop() }
        try await server.wait("the agent to report the meter's 37 kW") {
            let (_, body) = try await server.request(.GET, "/v1/sites/dar-1")
            return body.contains("\"supplyWatts\":37000")
        }
        try "offline".write(to: meter, atomically: true, encoding: .utf8)
        try await server.wait("the agent to say the power command failed") {
            agent.text.contains(
                "--power-command: expected exit status 0, found that it exited with status 3: meter offline"
            )
        }
        try "12 kW".write(to: meter, atomically: true, encoding: .utf8)
        try await server.wait("the agent to report the meter's 12 kW") {
            let (_, body) = try await server.request(.GET, "/v1/sites/dar-1")
            return body.contains("\"supplyWatts\":12000")
        }
    }

    /// A server whose `sites` run through agents with a lease of `lease`, and a tokens file for them.
    static func server(in dir: URL, sites: [String], lease: String = "30 s", specs: [String] = []) throws -> Server {
        let tokens = dir.appendingPathComponent("tokens")
        let lines = ["op-0123456789abcdef0123 operator"] + sites.map { "\(token($0)) site \($0)" }
        try (lines.joined(separator: "\n") + "\n").write(to: tokens, atomically: true, encoding: .utf8)
        return try Server(
            db: dir.appendingPathComponent("state.sqlite").path,
            specs: ["Examples/east-africa"] + specs,
            tokens: tokens.path,
            options: ["--site-agents", sites.joined(separator: ","), "--agent-lease", lease]
        )
    }

    static func power(_ text: String, in dir: URL, site: String) throws -> URL {
        let file = dir.appendingPathComponent("\(site).power")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A time as the API writes it (RFC 3339 with milliseconds), in seconds since 1970.
    static func seconds(_ value: Any?) -> Double? {
        if let number = value as? Double { return number }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return (value as? String).flatMap { formatter.date(from: $0) }?.timeIntervalSince1970
    }

    static func attempts(_ server: Server, _ name: String) async throws -> [[String: Any]] {
        try await server.workload(name)["attempts"] as? [[String: Any]] ?? []
    }

    /// Three sites, each with its agent: the workload (Tanzanian data) runs at dar-1, pauses when dar-1's
    /// agent reads no power, stays paused while the Kenyan sites have power to spare (its residency excludes
    /// them), and resumes at dar-1 from its checkpoint when the power returns.
    @Test func theAgentRunsTheWorkAndItsPowerReadingPausesAndResumesIt() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sites = ["dar-1", "nairobi-1", "mombasa-1"]
        let server = try Self.server(in: dir, sites: sites)
        defer { server.stop() }
        var agents: [String: Agent] = [:]
        for site in sites {
            agents[site] = try Agent(
                site: site,
                controlPlane: server.url,
                directory: dir.appendingPathComponent(site),
                powerFile: try Self.power(site == "dar-1" ? "96 kW" : "200 kW", in: dir, site: site)
            )
        }
        defer { for agent in agents.values { agent.stop() } }
        let agent = try #require(agents["dar-1"])
        let (status, _) = try await server.request(
            .POST,
            "/v1/workloads",
            body: try ServeTests.workloadDocument(epochs: 100)
        )
        #expect(status == 201)
        try await server.wait("it to train a few epochs at the site") {
            agent.log("digits-dar", attempt: 1).contains("epoch 3/")
        }
        #expect(
            !FileManager.default.fileExists(atPath: server.db + ".workloads/digits-dar"),
            "nothing ran at the server"
        )
        _ = try Self.power("0 kW", in: dir, site: "dar-1")
        try await server.wait("it to pause") { try await server.state("digits-dar") == "paused" }
        #expect(agent.log("digits-dar", attempt: 1).contains("checkpointed at epoch"))
        // Ten polls of every agent later it still waits at dar-1: Kenya is outside its residency.
        try await Task.sleep(for: .seconds(2))
        #expect(try await server.state("digits-dar") == "paused")
        #expect(try await Self.attempts(server, "digits-dar").count == 1)
        for site in ["nairobi-1", "mombasa-1"] {
            let path = dir.appendingPathComponent("\(site)/workloads/digits-dar").path
            #expect(!FileManager.default.fileExists(atPath: path), "nothing of it reached \(site)")
        }
        _ = try Self.power("96 kW", in: dir, site: "dar-1")
        try await server.wait("it to complete", seconds: 120) { try await server.state("digits-dar") == "completed" }
        let resumed = try #require(
            agent.log("digits-dar", attempt: 2).split(separator: "\n").first { $0.hasPrefix("resumed from epoch") }
        )
        #expect((Int(resumed.split(separator: " ")[3].filter(\.isNumber)) ?? 0) > 0, "\(resumed)")
        let attempts = try await Self.attempts(server, "digits-dar")
        #expect(attempts.map { $0["outcome"] as? String } == ["paused", "completed"])
        #expect(attempts.map { $0["site"] as? String } == ["dar-1", "dar-1"])
        // The logs stay at the site; the API asks the agent for their ends.
        #expect(try await server.log("digits-dar", attempt: 2).contains("done: test accuracy"))
        #expect(try await server.log("digits-dar", attempt: 1).contains("checkpointed at epoch"))
        server.stop()
        let verified = try await CLITests.run(["ledger", "verify", "--db", server.db])
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    @Test func aKilledAgentAdoptsItsRunningWorkWhenItRestarts() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try Self.server(in: dir, sites: ["dar-1"])
        defer { server.stop() }
        let power = try Self.power("96 kW", in: dir, site: "dar-1")
        let work = dir.appendingPathComponent("dar-1")
        let first = try Agent(site: "dar-1", controlPlane: server.url, directory: work, powerFile: power)
        let gate = dir.appendingPathComponent("gate")
        _ = try await server.request(.POST, "/v1/workloads", body: try ServeTests.gatedDocument(gate, epochs: 20))
        try await server.wait("it to train a few epochs at the site") {
            first.log("digits-dar", attempt: 1).contains("epoch 3/")
        }
        // The site's token stays with the agent: the work it starts does not inherit it.
        let pidFile = work.appendingPathComponent("workloads/digits-dar/attempts/1/pid").path
        let pid = try #require(
            Int32(
                (try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
            )
        )
        let environment = try #require(FileManager.default.contents(atPath: "/proc/\(pid)/environ"))
        #expect(!environment.split(separator: 0).contains { $0.starts(with: Data("SOVEREIGN_TOKEN=".utf8)) })
        #expect(environment.split(separator: 0).contains { $0.starts(with: Data("SOVEREIGN_WORKLOAD=".utf8)) })
        first.stop(signal: SIGKILL)
        let second = try Agent(site: "dar-1", controlPlane: server.url, directory: work, powerFile: power)
        defer { second.stop() }
        try await server.wait("the new agent to adopt the work") { second.text.contains("1 attempts adopted") }
        _ = FileManager.default.createFile(atPath: gate.path, contents: nil)
        try await server.wait("it to complete", seconds: 120) { try await server.state("digits-dar") == "completed" }
        #expect(second.text.contains("1 attempts adopted"), "\(second.text)")
        #expect(!second.text.contains("started digits-dar"), "the restarted agent started nothing: \(second.text)")
        let attempts = try await Self.attempts(server, "digits-dar")
        #expect(attempts.map { $0["outcome"] as? String } == ["completed"])
    }

    /// The agent at the workload's site loses the control plane: it checkpoints and stops the work within its
    /// lease; after twice the lease the work starts at the other site of its residency; when the link comes
    /// back the first agent starts nothing again, and the two attempts never overlap in time.
    @Test func aPartitionedAgentStopsItsWorkAndTheWorkMovesOnlyAfterTwiceTheLease() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sites = ["nairobi-1", "mombasa-1"]
        let server = try Self.server(in: dir, sites: sites, lease: "3 s")
        defer { server.stop() }
        var links: [String: Link] = [:]
        var agents: [String: Agent] = [:]
        for site in sites {
            let link = try Link(to: server.url)
            links[site] = link
            agents[site] = try Agent(
                site: site,
                controlPlane: link.url,
                directory: dir.appendingPathComponent(site),
                powerFile: try Self.power("200 kW", in: dir, site: site)
            )
        }
        defer {
            for agent in agents.values { agent.stop() }
            for link in links.values { link.stop() }
        }
        let document = try ServeTests.workloadDocument(name: "digits-ke", epochs: 100)
            .replacingOccurrences(of: "tz-government-correspondence", with: "ke-clinical-notes")
        #expect(try await server.request(.POST, "/v1/workloads", body: document).0 == 201)
        var first = ""
        try await server.wait("it to train a few epochs at one site") {
            first = sites.first { agents[$0]?.log("digits-ke", attempt: 1).contains("epoch 3/") == true } ?? ""
            return !first.isEmpty
        }
        let second = sites.first { $0 != first }!
        links[first]?.cut()
        try await server.wait("the cut-off agent to checkpoint and stop its work", seconds: 30) {
            agents[first]?.log("digits-ke", attempt: 1).contains("checkpointed at epoch") == true
        }
        try await server.wait("the work to start at the other site", seconds: 60) {
            agents[second]?.log("digits-ke", attempt: 2).contains("epoch") == true
        }
        links[first]?.restore()
        try await server.wait("it to complete", seconds: 120) { try await server.state("digits-ke") == "completed" }
        let attempts = try await Self.attempts(server, "digits-ke")
        #expect(attempts.map { $0["site"] as? String } == [first, second])
        #expect(attempts.map { $0["outcome"] as? String } == ["lost", "completed"])
        let ended = try #require(agents[first]?.endedAt("digits-ke", attempt: 1))
        let secondAgent = try #require(agents[second])
        #expect(secondAgent.text.contains("started digits-ke attempt 2"))
        let startedAt = try #require(Self.seconds(attempts[1]["startedAt"]))
        #expect(ended <= startedAt, "attempt 1 ended at \(ended), attempt 2 started at \(startedAt)")
        let firstText = agents[first]?.text ?? ""
        #expect(firstText.components(separatedBy: "started digits-ke").count == 2, "\(firstText)")
    }

    /// The agent at the workload's site is killed and stays down: nothing renews its lease file, so the
    /// attempt's supervisor checkpoints and stops the work itself, and it is dead before the control plane
    /// starts the work at the other site after twice the lease. The two attempts never overlap, and the dead
    /// agent's successor, started after the work completed elsewhere, starts nothing.
    @Test func aDeadAgentsSupervisorStopsItsWorkBeforeTheWorkMoves() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sites = ["nairobi-1", "mombasa-1"]
        let server = try Self.server(in: dir, sites: sites, lease: "3 s")
        defer { server.stop() }
        var agents: [String: Agent] = [:]
        for site in sites {
            agents[site] = try Agent(
                site: site,
                controlPlane: server.url,
                directory: dir.appendingPathComponent(site),
                powerFile: try Self.power("200 kW", in: dir, site: site),
                options: ["--long-poll", "20 s"]
            )
        }
        defer { for agent in agents.values { agent.stop() } }
        let document = try ServeTests.workloadDocument(name: "digits-ke", epochs: 100)
            .replacingOccurrences(of: "tz-government-correspondence", with: "ke-clinical-notes")
        #expect(try await server.request(.POST, "/v1/workloads", body: document).0 == 201)
        var first = ""
        try await server.wait("it to train a few epochs at one site") {
            first = sites.first { agents[$0]?.log("digits-ke", attempt: 1).contains("epoch 3/") == true } ?? ""
            return !first.isEmpty
        }
        let second = sites.first { $0 != first }!
        agents[first]?.stop(signal: SIGKILL)
        try await server.wait("the dead agent's supervisor to checkpoint and stop the work", seconds: 30) {
            agents[first]?.log("digits-ke", attempt: 1).contains("checkpointed at epoch") == true
        }
        try await server.wait("it to complete at the other site", seconds: 120) {
            try await server.state("digits-ke") == "completed"
        }
        let attempts = try await Self.attempts(server, "digits-ke")
        #expect(attempts.map { $0["site"] as? String } == [first, second])
        let ended = try #require(agents[first]?.endedAt("digits-ke", attempt: 1))
        let startedAt = try #require(Self.seconds(attempts[1]["startedAt"]))
        #expect(ended <= startedAt, "attempt 1 ended at \(ended), attempt 2 started at \(startedAt)")
        let successor = try Agent(
            site: first,
            controlPlane: server.url,
            directory: dir.appendingPathComponent(first),
            powerFile: dir.appendingPathComponent("\(first).power")
        )
        agents[first] = successor
        try await server.wait("the successor to report the ended attempt") {
            guard successor.text.contains("1 attempts adopted") else { return false }
            return try await Self.attempts(server, "digits-ke").allSatisfy { $0["outcome"] != nil }
        }
        #expect(!successor.text.contains("started digits-ke"), "\(successor.text)")
    }

    /// The power at the workload's site drops to nothing: its agent checkpoints and stops the work, the
    /// control plane places it at the other Kenyan site, and the checkpoint travels there (sealed for the
    /// destination, signed by the source): through the relay, or, under a policy that keeps even ciphertext
    /// out of the relay, straight from the source agent's peer listener. The work resumes where it stopped,
    /// and the ledger records the move once, with its route and the one jurisdiction it crossed.
    @Test(arguments: ["relay", "direct"])
    func aCheckpointMovesBetweenTwoAgentsAndTheWorkResumesFromIt(route: String) async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sites = ["nairobi-1", "mombasa-1"]
        var specs: [String] = []
        if route == "direct" {
            let policy = dir.appendingPathComponent("strict.yaml")
            try """
            apiVersion: sovereign.dev/v1
            kind: Policy
            metadata: {name: strict}
            spec: {checkpointTransit: direct}
            """.write(to: policy, atomically: true, encoding: .utf8)
            specs = [policy.path]
        }
        let server = try Self.server(in: dir, sites: sites, lease: "5 s", specs: specs)
        defer { server.stop() }
        var agents: [String: Agent] = [:]
        for site in sites {
            let port = try Fixtures.freePort()
            agents[site] = try Agent(
                site: site,
                controlPlane: server.url,
                directory: dir.appendingPathComponent(site),
                powerFile: try Self.power("200 kW", in: dir, site: site),
                options: route == "direct" ? ["--peer-listen", "127.0.0.1:\(port)"] : []
            )
        }
        defer { for agent in agents.values { agent.stop() } }
        let document = try ServeTests.workloadDocument(name: "digits-ke", epochs: 100)
            .replacingOccurrences(of: "tz-government-correspondence", with: "ke-clinical-notes")
        #expect(try await server.request(.POST, "/v1/workloads", body: document).0 == 201)
        var first = ""
        do {
            try await server.wait("it to train a few epochs at one site") {
                first = sites.first { agents[$0]?.log("digits-ke", attempt: 1).contains("epoch 3/") == true } ?? ""
                return !first.isEmpty
            }
        } catch {
            Issue.record("\(sites.map { "\($0): \(agents[$0]?.text ?? "")" }.joined(separator: "\n"))")
            throw error
        }
        let second = try #require(sites.first { $0 != first })
        _ = try Self.power("0 kW", in: dir, site: first)
        try await server.wait("it to complete at the other site", seconds: 150) {
            try await server.state("digits-ke") == "completed"
        }
        // The attempts first: when the move went wrong, they say how (and the agents' output says why).
        let attempts = try await Self.attempts(server, "digits-ke")
        let said = sites.map { "\($0): \(agents[$0]?.text ?? "")" }.joined(separator: "\n")
        #expect(attempts.map { $0["site"] as? String } == [first, second], "\(attempts)\n\(said)")
        #expect(attempts.map { $0["outcome"] as? String } == ["paused", "completed"], "\(attempts)\n\(said)")
        let log = agents[second]?.log("digits-ke", attempt: 2) ?? ""
        let resumed = try #require(log.split(separator: "\n").first { $0.hasPrefix("resumed from epoch") }, "\(log)")
        #expect((Int(resumed.split(separator: " ")[3].filter(\.isNumber)) ?? 0) > 0, "\(resumed)")
        #expect(agents[second]?.text.contains("fetching the checkpoint of digits-ke from \(first)") == true)
        let (_, ledger) = try await server.request(.GET, "/v1/ledger/entries?limit=1000")
        #expect(ledger.components(separatedBy: "checkpoint.moved").count == 2, "one move recorded")
        #expect(ledger.contains(#""route":"\#(route)""#) || ledger.contains(#""route" : "\#(route)""#))
        let relay = (try? FileManager.default.contentsOfDirectory(atPath: server.db + ".relay")) ?? []
        #expect(relay.isEmpty, "the relay keeps nothing: \(relay)")
        server.stop()
        let verified = try await CLITests.run(["ledger", "verify", "--db", server.db])
        #expect(verified.status == 0, "\(verified.stderr)")
    }
}
