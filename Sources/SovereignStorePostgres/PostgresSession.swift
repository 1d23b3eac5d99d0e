import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import SovereignServer
import Synchronization

/// One connection to the state database, used by one caller at a time and waited on synchronously, because
/// ``ControlStore`` is synchronous. The wait happens on the caller's thread, never on an event loop.
///
/// A dropped connection is opened again on the next use.
final class PostgresSession: Sendable {
    let location: PostgresLocation
    let logger: Logger
    private let connection = Mutex<PostgresConnection?>(nil)

    init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    deinit {
        if let open = connection.withLock({ $0 }) { Self.closeQuietly(open) }
    }

    /// Closes the connection, waiting; a later use opens a new one.
    func close() throws {
        let open = connection.withLock { current in
            defer { current = nil }
            return current
        }
        guard let open else { return }
        let closing: EventLoopFuture<Void> = open.close()
        do {
            try closing.wait()
        } catch {
            throw StoreError.database("\(location): \(Self.describe(error))")
        }
    }

    /// Closes `connection` and waits (postgres-nio asserts that a connection is closed before it is released),
    /// ignoring a failure: the connection is being given up either way.
    static func closeQuietly(_ connection: PostgresConnection) {
        let closing: EventLoopFuture<Void> = connection.close()
        _ = try? closing.wait()
    }

    /// A connection in use by one caller.
    struct Link {
        let connection: PostgresConnection
        let logger: Logger

        /// Runs one statement and returns its rows.
        @discardableResult
        func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
            try connection.query(query, logger: logger).wait().rows
        }

        /// Runs one statement that returns at most one row.
        func row(_ query: PostgresQuery) throws -> PostgresRandomAccessRow? {
            try rows(query).first.map { $0.makeRandomAccess() }
        }
    }

    /// Calls `body` with the connection, opening it first if there is none or it was closed.
    ///
    /// - Throws: ``StoreError`` naming the database and what it answered.
    func with<T>(_ body: (Link) throws -> T) throws -> T {
        try connection.withLock { current throws(StoreError) -> T in
            do {
                if current == nil || current?.isClosed == true {
                    current = nil
                    current = try open()
                }
                guard let open = current else { throw StoreError.database("\(location): not connected") }
                return try body(Link(connection: open, logger: logger))
            } catch let error as StoreError {
                throw error
            } catch {
                throw StoreError.database("\(location): \(Self.describe(error))")
            }
        }
    }

    /// Calls `body` inside `BEGIN`/`COMMIT`, rolling back when it throws.
    func transaction<T>(_ body: (Link) throws -> T) throws -> T {
        try with { link in
            try link.rows("BEGIN")
            do {
                let result = try body(link)
                try link.rows("COMMIT")
                return result
            } catch {
                // A rollback that fails leaves a connection in an unknown state: close it, the next use reopens.
                if (try? link.rows("ROLLBACK")) == nil { Self.closeQuietly(link.connection) }
                throw error
            }
        }
    }

    private func open() throws -> PostgresConnection {
        let configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: try tls()
        )
        return try PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(),
            configuration: configuration,
            id: 1,
            logger: logger
        ).wait()
    }

    /// The connection's TLS as the location's `sslmode` asks: the server's certificate checked against
    /// `sslrootcert` (or the system's trust store) for `verify-ca`, and its name too for `verify-full`.
    private func tls() throws -> PostgresConnection.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        switch location.tls {
        case .disable: return .disable
        case .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let path = location.rootCertificate {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw StoreError.database("\(location): cannot read sslrootcert \(path) as PEM certificates: \(error)")
            }
        }
        let context = try NIOSSLContext(configuration: configuration)
        return location.tls == .prefer ? .prefer(context) : .require(context)
    }

    /// Runs statements given as text, in one round trip each (for schema work and tests).
    func execute(_ statements: String...) throws {
        try with { link in for statement in statements { try link.rows(PostgresQuery(unsafeSQL: statement)) } }
    }

    /// What PostgreSQL answered (its message and SQLSTATE), or the connection's failure; postgres-nio's own
    /// description hides both.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo, let message = info[.message] {
            return "\(message) (SQLSTATE \(info[.sqlState] ?? "?"))"
        }
        if error.underlying is NIOSSLExtraError {
            return "the TLS handshake failed: expected a server certificate that names the host (verify-full); "
                + "found \(error.underlying.map { "\($0)" } ?? "")"
        }
        if let underlying = error.underlying as? NIOSSLError, case .handshakeFailed = underlying {
            return "the TLS handshake failed: expected a server certificate that chains to sslrootcert (or the "
                + "system's trust store) and, for verify-full, names the host; found \(underlying)"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    /// The SQLSTATE of a server's refusal, if `error` is one.
    static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
