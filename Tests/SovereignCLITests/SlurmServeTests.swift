import Foundation
import NIOHTTP1
import SovereignTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sovereign serve --site-agents` with `sovereign site-agent --executor slurm` processes, each driving its
/// own real Slurm cluster on loopback (`Scripts/slurm-cluster.sh`, stopped by process id): the example
/// training workload runs as a Slurm job, a power drop at its site pauses it with a checkpoint, it moves
/// to the other site's cluster with its checkpoint and completes there; a job cancelled from outside is
/// a failure the control plane retries. No job is left in either queue.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SlurmServeTests {
    typealias Agents = SiteAgentServeTests

    /// A site: its Slurm cluster and its agent driving it.
    struct Site {
        let cluster: SlurmCluster
        let agent: SiteAgentServeTests.Agent

        init(_ name: String, node: String, server: ServeTests.Server, in dir: URL, power: String) throws {
            cluster = try SlurmCluster(in: dir.appendingPathComponent("slurm-\(name)"), node: node)
            do {
                agent = try SiteAgentServeTests.Agent(
                    site: name,
                    controlPlane: server.url,
                    directory: dir.appendingPathComponent(name),
                    powerFile: try Agents.power(power, in: dir, site: name),
                    options: ["--executor", "slurm", "--slurm-conf", cluster.configuration]
                )
            } catch {
                cluster.stop()
                throw error
            }
        }

        /// A new agent in the same work directory, driving the same cluster (after this one was killed).
        func restarted(server: ServeTests.Server, in dir: URL) throws -> SiteAgentServeTests.Agent {
            try SiteAgentServeTests.Agent(
                site: agent.site,
                controlPlane: server.url,
                directory: agent.directory,
                powerFile: dir.appendingPathComponent("\(agent.site).power"),
                options: ["--executor", "slurm", "--slurm-conf", cluster.configuration]
            )
        }

        func stop() {
            agent.stop()
            cluster.stop()
        }
    }

    /// The power at the workload's site drops to nothing: its agent has Slurm send the job SIGTERM, the job
    /// checkpoints and exits, the control plane places the work at the other Kenyan site, the checkpoint
    /// travels through the relay, and the other site's Slurm runs it on from the checkpoint to the end.
    @Test func aPowerDropMovesASlurmJobToTheOtherSitesClusterWithItsCheckpoint() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = ["nairobi-1", "mombasa-1"]
        let server = try Agents.server(in: dir, sites: names, lease: "5 s")
        defer { server.stop() }
        var sites: [String: Site] = [:]
        defer { for site in sites.values { site.stop() } }
        for (i, name) in names.enumerated() {
            sites[name] = try Site(name, node: "n\(i)", server: server, in: dir, power: "200 kW")
        }
        let document = try ServeTests.workloadDocument(name: "digits-ke", epochs: 100)
            .replacingOccurrences(of: "tz-government-correspondence", with: "ke-clinical-notes")
        #expect(try await server.request(.POST, "/v1/workloads", body: document).0 == 201)
        var first = ""
        try await server.wait("it to train a few epochs as a Slurm job at one site") {
            first = names.first { sites[$0]?.agent.log("digits-ke", attempt: 1).contains("epoch 3/") == true } ?? ""
            return !first.isEmpty
        }
        let second = try #require(names.first { $0 != first })
        let job = try #require(sites[first]?.cluster.queuedJobs().first, "the attempt is a job in \(first)'s queue")
        _ = try Agents.power("0 kW", in: dir, site: first)
        try await server.wait("it to complete at the other site", seconds: 150) {
            try await server.state("digits-ke") == "completed"
        }
        #expect(sites[first]?.agent.log("digits-ke", attempt: 1).contains("checkpointed at epoch") == true)
        let log = sites[second]?.agent.log("digits-ke", attempt: 2) ?? ""
        let resumed = try #require(log.split(separator: "\n").first { $0.hasPrefix("resumed from epoch") }, "\(log)")
        #expect((Int(resumed.split(separator: " ")[3].filter(\.isNumber)) ?? 0) > 0, "\(resumed)")
        let attempts = try await Agents.attempts(server, "digits-ke")
        #expect(attempts.map { $0["site"] as? String } == [first, second])
        #expect(attempts.map { $0["outcome"] as? String } == ["paused", "completed"])
        let (_, history) = try await server.request(.GET, "/v1/workloads/digits-ke")
        #expect(history.contains("Slurm job \(job): FAILED (NonZeroExitCode), exit code 143:0"), "\(history)")
        for name in names { #expect(try sites[name]?.cluster.queuedJobs() == [], "nothing left in \(name)'s queue") }
        server.stop()
        let verified = try await CLITests.run(["ledger", "verify", "--db", server.db])
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    /// Someone cancels the workload's job with `scancel`: the agent reports a failed attempt with Slurm's
    /// reason, and the control plane retries it as a new job that runs to the end.
    @Test func aJobCancelledFromOutsideIsSeenAsFailedAndRetried() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try Agents.server(in: dir, sites: ["dar-1"])
        defer { server.stop() }
        let site = try Site("dar-1", node: "n0", server: server, in: dir, power: "96 kW")
        defer { site.stop() }
        let gate = dir.appendingPathComponent("gate")
        let job = try await Self.trainingAtItsGate(server, site, gate: gate)
        #expect(try site.cluster.run(["scancel", job]).status == 0)
        try await server.wait("the cancelled job to be seen as a failed attempt") {
            try await Agents.attempts(server, "digits-dar").first?["outcome"] as? String == "failed"
        }
        _ = FileManager.default.createFile(atPath: gate.path, contents: nil)
        try await server.wait("it to complete after a retry", seconds: 150) {
            try await server.state("digits-dar") == "completed"
        }
        let attempts = try await Agents.attempts(server, "digits-dar")
        #expect(attempts.map { $0["outcome"] as? String } == ["failed", "completed"])
        let (_, history) = try await server.request(.GET, "/v1/workloads/digits-dar")
        #expect(history.contains("Slurm job \(job): CANCELLED"), "\(history)")
        #expect(try site.cluster.queuedJobs() == [])
        server.stop()
        let verified = try await CLITests.run(["ledger", "verify", "--db", server.db])
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    /// The agent is killed while its job runs; a new agent in its work directory adopts the job by the id in
    /// its state file, submits nothing, and reports the job's completion.
    @Test func aKilledAgentAdoptsItsSlurmJobByIdWhenItRestarts() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try Agents.server(in: dir, sites: ["dar-1"])
        defer { server.stop() }
        let site = try Site("dar-1", node: "n0", server: server, in: dir, power: "96 kW")
        defer { site.stop() }
        let gate = dir.appendingPathComponent("gate")
        let job = try await Self.trainingAtItsGate(server, site, gate: gate)
        site.agent.stop(signal: SIGKILL)
        let state = try String(
            contentsOf: site.agent.directory.appendingPathComponent("agent-state.json"),
            encoding: .utf8
        )
        #expect(state.contains("\"rawValue\":\"\(job)\""), "the job id is the handle: \(state)")
        let second = try site.restarted(server: server, in: dir)
        defer { second.stop() }
        try await server.wait("the new agent to adopt the job") { second.text.contains("1 attempts adopted") }
        _ = FileManager.default.createFile(atPath: gate.path, contents: nil)
        try await server.wait("it to complete", seconds: 120) { try await server.state("digits-dar") == "completed" }
        #expect(second.text.contains("1 attempts adopted"), "\(second.text)")
        #expect(!second.text.contains("started digits-dar"), "the restarted agent submitted nothing: \(second.text)")
        let attempts = try await Agents.attempts(server, "digits-dar")
        #expect(attempts.map { $0["outcome"] as? String } == ["completed"])
        #expect(try site.cluster.queuedJobs() == [])
    }

    /// Submits the example training, held at `gate` after it trains (``ServeTests/gatedDocument(_:epochs:)``),
    /// waits until it trains as a Slurm job at `site`, and returns the job's id.
    static func trainingAtItsGate(_ server: ServeTests.Server, _ site: Site, gate: URL) async throws -> String {
        #expect(
            try await server.request(.POST, "/v1/workloads", body: ServeTests.gatedDocument(gate, epochs: 20)).0 == 201
        )
        try await server.wait("it to train a few epochs as a Slurm job") {
            site.agent.log("digits-dar", attempt: 1).contains("epoch 2/")
        }
        return try #require(try site.cluster.queuedJobs().first, "the job waits at its gate until the test opens it")
    }
}
