public import Foundation

/// Where a PostgreSQL state database is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
///
/// The password, when there is one, comes from the URL or from `PGPASSWORD` (as libpq reads it); it is kept
/// out of ``description`` and out of every error, so the location can be logged.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    /// Makes a location.
    public init(user: String, password: String? = nil, host: String, port: Int = 5432, database: String) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
    }

    /// What a `--db` value must look like to name a PostgreSQL database.
    public static let expected = "postgres://USER@HOST[:PORT]/DB"

    /// Whether `text` names a PostgreSQL database rather than an SQLite file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Reads a `postgres://` (or `postgresql://`) URL.
    ///
    /// - Parameters:
    ///   - text: the URL.
    ///   - environment: where `PGPASSWORD` is looked up when the URL has no password.
    /// - Throws: ``PostgresLocationError`` saying what was expected and what was found, the password masked.
    public static func parse(
        _ text: String,
        environment: [String: String] = [:]
    ) throws(PostgresLocationError)
        -> PostgresLocation
    {
        let shown = masked(text)
        func refuse(_ found: String) -> PostgresLocationError {
            PostgresLocationError("expected \(expected), found \(found)")
        }
        guard isPostgres(text), let url = URLComponents(string: text) else { throw refuse("\"\(shown)\"") }
        guard let user = url.user, !user.isEmpty else { throw refuse("no user in \"\(shown)\"") }
        guard let host = url.host, !host.isEmpty else { throw refuse("no host in \"\(shown)\"") }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw refuse("port \(port) in \"\(shown)\"") }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !path.isEmpty else { throw refuse("no database name in \"\(shown)\"") }
        guard !path.contains("/") else { throw refuse("the database name \"\(path)\" in \"\(shown)\"") }
        guard url.query == nil, url.fragment == nil else {
            throw refuse("parameters after the database name in \"\(shown)\" (none are supported)")
        }
        return PostgresLocation(
            user: user,
            password: url.password ?? environment["PGPASSWORD"],
            host: host,
            port: port,
            database: path
        )
    }

    /// `text` with whatever stands between the user and the host (`:PASSWORD`) replaced by `:***`.
    public static func masked(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") else {
            return text
        }
        let userInfo = text[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    /// The URL without its password.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

/// A `--db` value that is not a PostgreSQL URL: what was expected and what was found (the password masked).
public struct PostgresLocationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
