import Foundation
import GRDB
import Logging
import Testing

@testable import SovereignServer
@testable import SovereignStorePostgres

/// The two implementations of ``ControlStore`` the store's tests run against.
///
/// PostgreSQL is the server named by `SOVEREIGN_TEST_POSTGRES` (`postgres://USER@HOST:PORT/DB?sslmode=...`), which `.ci/run`
/// starts on loopback; each test gets a database of its own on it. Without the variable, PostgreSQL cases are
/// cancelled with that reason, so they show as skipped, never as passed.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// The server the PostgreSQL cases use, if any.
    static let postgresServer: PostgresLocation? = ProcessInfo.processInfo.environment["SOVEREIGN_TEST_POSTGRES"]
        .flatMap { try? PostgresLocation.parse($0, environment: ProcessInfo.processInfo.environment) }

    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A new, empty store: an SQLite file in `directory`, or a new database on the PostgreSQL server.
    func makeStore(in directory: URL) throws -> any ControlStore {
        switch self {
        case .sqlite: return try SQLiteControlStore(path: directory.appendingPathComponent("state.sqlite").path)
        case .postgres: return try Self.postgresStore(try Self.newDatabase())
        }
    }

    /// The PostgreSQL store of the database at `location`.
    static func postgresStore(_ location: PostgresLocation) throws -> any ControlStore {
        try PostgresControlStore(location: location, logger: quiet)
    }

    /// Creates a database of its own for one test on the PostgreSQL server, or cancels the test case.
    static func newDatabase() throws -> PostgresLocation {
        guard let server = postgresServer else {
            try Test.cancel(
                "SOVEREIGN_TEST_POSTGRES is not set (postgres://USER@HOST:PORT/DB): .ci/run starts a PostgreSQL 15 and sets it"
            )
        }
        var location = server
        location.database = "sovereign_test_" + UUID().uuidString.prefix(12).lowercased().replacing("-", with: "")
        let admin = PostgresSession(location: server, logger: quiet)
        try admin.execute("CREATE DATABASE \(location.database)")
        return location
    }

    /// Runs SQL on the store's database around the store (what an intruder with the database's password does).
    static func executeBehind(_ store: any ControlStore, _ sql: String) throws {
        if let store = store as? SQLiteControlStore {
            try store.pool.write { db in try db.execute(sql: sql) }
        } else if let store = store as? PostgresControlStore {
            try store.session.execute(sql)
        } else {
            Issue.record("no raw access to \(type(of: store))")
        }
    }
}
