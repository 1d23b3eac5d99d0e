import Foundation
import PostgresNIO
import SovereignServer
import SovereignTesting
import Synchronization
import Testing

@testable import SovereignStorePostgres

/// What only the PostgreSQL store has: its URL, and the leader lease its replicas share.
struct PostgresControlStoreTests {
    @Test func aURLNamesUserHostPortAndDatabase() throws {
        let location = try PostgresLocation.parse("postgres://sov@db.example:6543/fleet")
        #expect(location == PostgresLocation(user: "sov", host: "db.example", port: 6543, database: "fleet"))
        let defaulted = try PostgresLocation.parse("postgresql://sov@10.0.0.5/fleet", environment: ["PGPASSWORD": "pw"])
        #expect(defaulted == PostgresLocation(user: "sov", password: "pw", host: "10.0.0.5", database: "fleet"))
        #expect("\(defaulted)" == "postgres://sov@10.0.0.5:5432/fleet")
    }

    @Test(arguments: [
        (
            "postgres://db.example/fleet",
            "expected postgres://USER@HOST[:PORT]/DB, found no user in \"postgres://db.example/fleet\""
        ),
        (
            "postgres://sov@db.example",
            "expected postgres://USER@HOST[:PORT]/DB, found no database name in \"postgres://sov@db.example\""
        ),
        (
            "postgres://sov:s3cret@db.example:0/fleet",
            "expected postgres://USER@HOST[:PORT]/DB, found port 0 in \"postgres://sov:***@db.example:0/fleet\""
        ),
        (
            "postgres://sov:s3cret@db.example/a/b",
            "expected postgres://USER@HOST[:PORT]/DB, found the database name \"a/b\" in \"postgres://sov:***@db.example/a/b\""
        ),
        (
            "postgres://sov:s3cret@db.example/fleet?sslmode=verify",
            "expected sslmode to be one of disable, prefer, require, verify-ca, verify-full, found \"verify\" in \"postgres://sov:***@db.example/fleet?sslmode=verify\""
        ),
        (
            "postgres://sov:s3cret@db.example/fleet?connect_timeout=5",
            "expected only sslmode and sslrootcert after the database name, found \"connect_timeout\" in \"postgres://sov:***@db.example/fleet?connect_timeout=5\""
        ),
        (
            "postgres://sov:s3cret@db.example/fleet?sslmode=require&sslmode=disable",
            "expected sslmode once and not empty, found it again or empty in \"postgres://sov:***@db.example/fleet?sslmode=require&sslmode=disable\""
        ),
        (
            "postgres://sov:s3cret@db.example/fleet?sslmode=require&sslrootcert=/ca.pem",
            "expected sslrootcert only with sslmode=verify-ca or verify-full (it is what they check against), found sslmode=require in \"postgres://sov:***@db.example/fleet?sslmode=require&sslrootcert=/ca.pem\""
        ),
    ])
    func aBadURLSaysWhatWasExpectedAndNeverShowsThePassword(text: String, message: String) {
        #expect {
            _ = try PostgresLocation.parse(text)
        } throws: { error in
            let description = "\(error)"
            return description == message && !description.contains("s3cret")
        }
    }

    @Test func theURLSaysHowTheConnectionIsProtected() throws {
        let verified = try PostgresLocation.parse(
            "postgres://sov@db.example/fleet?sslmode=verify-full&sslrootcert=/etc/ssl/our%20ca.pem"
        )
        #expect(verified.tls == .verifyFull)
        #expect(verified.rootCertificate == "/etc/ssl/our ca.pem")
        #expect(
            "\(verified)"
                == "postgres://sov@db.example:5432/fleet?sslmode=verify-full&sslrootcert=/etc/ssl/our%20ca.pem"
        )
        #expect(try PostgresLocation.parse("\(verified)") == verified)
        #expect(verified.warning == nil)
        // libpq's default, and what a replica on another machine is warned of.
        let defaulted = try PostgresLocation.parse("postgres://sov@db.example/fleet")
        #expect(defaulted.tls == .prefer)
        #expect(
            defaulted.warning
                == "--db: the connection to db.example uses sslmode=prefer: the server's identity is not fully checked, so a man in the middle could read the state; use sslmode=verify-full (and sslrootcert=CA.pem)"
        )
        let plain = try PostgresLocation.parse("postgres://sov@10.0.0.5/fleet?sslmode=disable")
        #expect(plain.warning?.contains("the password and every row cross the network unencrypted") == true)
        // Nothing crosses a network on loopback.
        #expect(try PostgresLocation.parse("postgres://sov@127.0.0.1/fleet?sslmode=disable").warning == nil)
        #expect(try PostgresLocation.parse("postgres://sov@localhost/fleet").warning == nil)
        // A name that merely starts like a loopback address is another machine.
        #expect(try PostgresLocation.parse("postgres://sov@127.db.example/fleet").warning != nil)
    }

    /// What the test server's session reports of its own connection: TLS or not.
    static func encrypted(_ location: PostgresLocation) throws -> Bool {
        let session = PostgresSession(location: location, logger: StoreBackend.quiet)
        defer { try? session.close() }
        let row = try session.with { link in
            try link.row("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        }
        return try #require(row)[0].decode(Bool.self)
    }

    /// The test server (started by `Scripts/postgres-cluster.sh` with TLS and a CA of its own) is reached
    /// verified; the same server with another CA is refused before anything is sent; `disable` is plain.
    @Test func theConnectionIsEncryptedAndTheServerVerifiedAsTheURLAsks() throws {
        guard let server = StoreBackend.postgresServer, server.tls == .verifyFull else {
            try Test.cancel(
                "SOVEREIGN_TEST_POSTGRES does not ask for sslmode=verify-full (Scripts/postgres-cluster.sh does)"
            )
        }
        #expect(try Self.encrypted(server))
        var byName = server
        byName.host = "localhost"
        #expect(try Self.encrypted(byName))
        var plain = server
        (plain.tls, plain.rootCertificate) = (.disable, nil)
        #expect(try !Self.encrypted(plain))

        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var stranger = server
        stranger.rootCertificate = try TestCertificateAuthority(name: "Not the server's CA").write(to: directory)
        #expect {
            _ = try Self.encrypted(stranger)
        } throws: { error in
            "\(error)".contains("\(stranger)") && "\(error)".lowercased().contains("certificate")
        }
        var missing = server
        missing.rootCertificate = directory.appendingPathComponent("no-such-ca.pem").path
        #expect {
            _ = try Self.encrypted(missing)
        } throws: { error in
            "\(error)".contains("cannot read sslrootcert \(missing.rootCertificate ?? "") as PEM certificates")
        }
    }

    @Test func aPasswordIsMaskedWhereverItStands() {
        #expect(PostgresLocation.masked("postgres://u:p@ss@h/db") == "postgres://u:***@h/db")
        #expect(PostgresLocation.masked("postgres://u@h/db") == "postgres://u@h/db")
        #expect(PostgresLocation.masked("not a url") == "not a url")
    }

    static let time = Date(timeIntervalSince1970: 1_800_000_000)

    /// A change that submits one workload, fenced by `epoch`.
    static func submitting(_ name: String, epoch: Int64?) -> StateChange {
        var change = StateChange()
        change.newWorkloads.append(WorkloadRecord(name: name, source: "api", document: "", at: 0))
        change.ledger.append(.cancelRequested(workload: name, by: "test"))
        change.epoch = epoch
        return change
    }

    /// Two replicas asking for a free lease at once: exactly one leads, at epoch 1, and keeps it on renewal;
    /// the other is refused while the lease lasts.
    @Test func twoStoresRacingForTheLeaseElectOneLeader() throws {
        let location = try StoreBackend.newDatabase()
        let stores = try ["a", "b"].map { _ in try PostgresControlStore(location: location, logger: StoreBackend.quiet)
        }
        let answers = Mutex<[String: Int64?]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let holder = ["a", "b"][index]
            let epoch = Result { try stores[index].lead(as: holder, renewing: nil, for: .seconds(600)) }
            answers.withLock { $0[holder] = try? epoch.get() }
        }
        let leaders = answers.withLock { $0 }.filter { $0.value != nil }
        try #require(leaders.count == 1)
        let leader = try #require(leaders.first)
        #expect(leader.value == 1)
        let (mine, other) = leader.key == "a" ? (stores[0], stores[1]) : (stores[1], stores[0])
        let follower = leader.key == "a" ? "b" : "a"
        #expect(try mine.lead(as: leader.key, renewing: 1, for: .seconds(600)) == 1)
        #expect(try other.lead(as: follower, renewing: nil, for: .seconds(600)) == nil)
        // A follower claiming an epoch it never held renews nothing.
        #expect(try other.lead(as: follower, renewing: 1, for: .seconds(600)) == nil)
    }

    /// A lease is taken over only once it has expired, and the takeover moves it to the next epoch; a leader
    /// whose lease expired with nobody taking it renews at its own epoch.
    @Test func aLeaseIsTakenOverOnlyAfterItExpires() throws {
        let location = try StoreBackend.newDatabase()
        let a = try PostgresControlStore(location: location, logger: StoreBackend.quiet)
        let b = try PostgresControlStore(location: location, logger: StoreBackend.quiet)
        #expect(try a.lead(as: "a", renewing: nil, for: .seconds(600)) == 1)
        #expect(try b.lead(as: "b", renewing: nil, for: .seconds(600)) == nil)
        // Renewed for no time at all: expired from the next statement on.
        #expect(try a.lead(as: "a", renewing: 1, for: .zero) == 1)
        #expect(try a.lead(as: "a", renewing: 1, for: .zero) == 1)
        #expect(try b.lead(as: "b", renewing: nil, for: .seconds(600)) == 2)
        #expect(try a.lead(as: "a", renewing: 1, for: .seconds(600)) == nil)
        #expect(try a.lead(as: "a", renewing: nil, for: .seconds(600)) == nil)
    }

    /// A deposed leader's late commit and checkpoint are refused inside their transactions: nothing of them
    /// lands, and the error says which epoch it held and which it found.
    @Test func aDeposedLeadersWritesAreRefusedAndNeverLand() throws {
        let location = try StoreBackend.newDatabase()
        let a = try PostgresControlStore(location: location, logger: StoreBackend.quiet)
        let b = try PostgresControlStore(location: location, logger: StoreBackend.quiet)
        #expect(try a.lead(as: "a", renewing: nil, for: .zero) == 1)
        _ = try a.commit(Self.submitting("early", epoch: 1), at: Self.time)
        #expect(try b.lead(as: "b", renewing: nil, for: .seconds(600)) == 2)
        let refusal = "refused a leader's write: expected the leader lease at epoch 1, found epoch 2 held by \"b\""
        #expect {
            _ = try a.commit(Self.submitting("late", epoch: 1), at: Self.time)
        } throws: { error in
            (error as? StoreError)?.isDeposed == true && "\(error)" == refusal
        }
        #expect {
            try a.addCheckpoint(size: 1, note: "late note", at: Self.time, epoch: 1)
        } throws: { error in "\(error)" == refusal }
        #expect(try b.workload(named: "late") == nil)
        #expect(try b.ledgerEntries(from: 0, limit: 10).count == 1)
        #expect(try b.checkpoints().isEmpty)
        // The new leader's writes, and any replica's unfenced inserts, land.
        _ = try b.commit(Self.submitting("by-leader", epoch: 2), at: Self.time)
        _ = try a.commit(Self.submitting("by-follower", epoch: nil), at: Self.time)
        try b.addCheckpoint(size: 3, note: "note", at: Self.time, epoch: 2)
        #expect(try b.workloads().map(\.name) == ["early", "by-leader", "by-follower"])
        #expect(try b.checkpoints() == ["note"])
    }
}
