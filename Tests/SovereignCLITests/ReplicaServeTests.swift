import Foundation
import Logging
import NIOHTTP1
import SovereignTesting
import Testing

@testable import SovereignStorePostgres

#if canImport(Glibc)
import Glibc
#endif

/// Two `sovereign serve` replicas on one PostgreSQL database (the one `SOVEREIGN_TEST_POSTGRES` names a
/// server for), the leader killed with SIGKILL while its work runs and power changes: the follower takes over
/// and no workload is lost or runs twice.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ReplicaServeTests {
    typealias Server = ServeTests.Server

    /// A new database of its own on the test server, as a `--db` URL; the test is cancelled without a server.
    static func newDatabase() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["SOVEREIGN_TEST_POSTGRES"] else {
            try Test.cancel("SOVEREIGN_TEST_POSTGRES is not set (postgres://USER@HOST:PORT/DB): .ci/run sets it")
        }
        let server = try PostgresLocation.parse(url, environment: environment)
        let name = "sovereign_replicas_" + UUID().uuidString.prefix(12).lowercased().replacing("-", with: "")
        let admin = PostgresSession(
            location: server,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try admin.execute("CREATE DATABASE \(name)")
        try admin.close()
        return "postgres://\(server.user)@\(server.host):\(server.port)/\(name)"
    }

    /// A replica: the shared key, tokens and work directory, a short lease, its log under `dir` by `name`.
    static func replica(_ name: String, db: String, in dir: URL) throws -> Server {
        try Server(
            db: db,
            tokens: dir.appendingPathComponent("tokens").path,
            options: [
                "--key", dir.appendingPathComponent("key").path,
                "--work-dir", dir.appendingPathComponent("work").path,
                "--leader-lease", "3 s",
            ],
            files: dir.appendingPathComponent(name).path
        )
    }

    /// Whether the replica's /metrics says it leads.
    static func leads(_ server: Server) async throws -> Bool {
        let (status, text) = try await server.request(.GET, "/metrics")
        guard status == 200 else { throw ServeTests.ServeError(message: "GET /metrics: \(status) \(text)") }
        return text.split(separator: "\n").contains("sovereign_leader 1.0")
            || text.split(separator: "\n").contains("sovereign_leader 1")
    }

    @Test func aKilledLeadersFollowerTakesOverAndNothingIsLostOrRunsTwice() async throws {
        let db = try Self.newDatabase()
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "op-0123456789abcdef0123 operator\n"
            .write(to: dir.appendingPathComponent("tokens"), atomically: true, encoding: .utf8)
        var leader = try Self.replica("a", db: db, in: dir)
        let follower = try Self.replica("b", db: db, in: dir)
        defer { follower.stop() }
        #expect(try await Self.leads(leader))
        #expect(try await !Self.leads(follower))

        let names = ["digits-a", "digits-b", "digits-c"]
        let documents = try names.enumerated().map { i, name in
            try ServeTests.workloadDocument(name: name, priority: 10 + i, epochs: 100, pace: 0.15)
        }
        // Submitted to the follower: the leader finds them in the store.
        let (status, body) = try await follower.request(
            .POST,
            "/v1/workloads",
            body: documents.joined(separator: "---\n")
        )
        #expect(status == 201, "\(body)")
        try await leader.wait("all to run") {
            var all = true
            for name in names where try await leader.state(name) != "running" { all = false }
            return all
        }
        // Room for one: two pause; the power signal goes to the follower, and the leader dies as they pause.
        let power = try ServeTests.replay(follower, site: "dar-1", kilowatts: [4.5], in: dir)
        #expect(power.status == 0, "\(power.stderr)")
        leader.stop(signal: SIGKILL)
        let killed = Date()
        try await follower.wait("the follower to lead", seconds: 60) { try await Self.leads(follower) }
        let takeover = Date().timeIntervalSince(killed)
        print("takeover after the leader's SIGKILL: \(Int(takeover * 1000)) ms (lease 3 s, tick 200 ms)")

        // The deposed leader's successor leads on when the old one comes back (as a new holder, it follows).
        leader = try Self.replica("a2", db: db, in: dir)
        defer { leader.stop() }
        #expect(try await !Self.leads(leader))
        let back = try ServeTests.replay(leader, site: "dar-1", kilowatts: [96], in: dir)
        #expect(back.status == 0)
        try await follower.wait("all to complete", seconds: 180) {
            var all = true
            for name in names where try await follower.state(name) != "completed" { all = false }
            return all
        }
        try await ServeTests.expectNothingFailedOrRanTwice(names, on: follower)
    }
}
