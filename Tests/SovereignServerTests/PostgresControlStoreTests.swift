import Foundation
import SovereignServer
import Testing

@testable import SovereignStorePostgres

/// What only the PostgreSQL store has: its URL, and one server per database.
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
            "postgres://sov:s3cret@db.example/fleet?sslmode=require",
            "expected postgres://USER@HOST[:PORT]/DB, found parameters after the database name in \"postgres://sov:***@db.example/fleet?sslmode=require\" (none are supported)"
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

    @Test func aPasswordIsMaskedWhereverItStands() {
        #expect(PostgresLocation.masked("postgres://u:p@ss@h/db") == "postgres://u:***@h/db")
        #expect(PostgresLocation.masked("postgres://u@h/db") == "postgres://u@h/db")
        #expect(PostgresLocation.masked("not a url") == "not a url")
    }

    /// Two servers on one database would each keep their own Merkle tree: the second is refused while the
    /// first holds the database, and admitted once it is gone.
    @Test func aSecondServerOnOneDatabaseIsRefused() throws {
        let location = try StoreBackend.newDatabase()
        let first = try PostgresControlStore(location: location, logger: StoreBackend.quiet)
        #expect {
            _ = try PostgresControlStore(location: location, logger: StoreBackend.quiet)
        } throws: { error in
            "\(error)" == "\(location): expected no other server on this database, found one holding its server lock"
        }
        #expect(try first.workloads().isEmpty)
        try first.close()
        let second = try PostgresControlStore(location: location, logger: StoreBackend.quiet)
        #expect(try second.workloads().isEmpty)
    }
}
