import Foundation

/// Where a PostgreSQL state database is and how the connection to it is protected:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=MODE[&sslrootcert=PATH]]`.
///
/// The password, when there is one, comes from the URL or from `PGPASSWORD` (as libpq reads it); it is kept
/// out of ``description`` and out of every error, so the location can be logged. `sslmode` and `sslrootcert`
/// mean what they mean to libpq.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    /// How the connection is protected (libpq's `sslmode`; `prefer` when the URL does not say).
    public var tls: TLSMode
    /// The PEM file of the certificate authorities the server's certificate must chain to (libpq's
    /// `sslrootcert`), for `verify-ca` and `verify-full`; the system's trust store when `nil`.
    public var rootCertificate: String?

    /// libpq's `sslmode`s that Sovereign offers.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP: the password and every row cross the network readable.
        case disable
        /// TLS when the server offers it, plain otherwise; the server's certificate is not checked.
        case prefer
        /// TLS or no connection; the server's certificate is not checked (a man in the middle is not stopped).
        case require
        /// TLS, and the server's certificate must chain to a trusted authority.
        case verifyCA = "verify-ca"
        /// TLS, the certificate must chain to a trusted authority and name the host: the only mode that stops a
        /// man in the middle.
        case verifyFull = "verify-full"

        /// Whether the server's certificate is checked at all.
        public var verifies: Bool { self == .verifyCA || self == .verifyFull }
    }

    /// Makes a location.
    public init(
        user: String,
        password: String? = nil,
        host: String,
        port: Int = 5432,
        database: String,
        tls: TLSMode = .prefer,
        rootCertificate: String? = nil
    ) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls
        self.rootCertificate = rootCertificate
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
        guard url.fragment == nil else { throw refuse("a fragment (#...) in \"\(shown)\"") }
        let (tls, rootCertificate) = try protection(url.queryItems ?? [], shown: shown)
        return PostgresLocation(
            user: user,
            password: url.password ?? environment["PGPASSWORD"],
            host: host,
            port: port,
            database: path,
            tls: tls,
            rootCertificate: rootCertificate
        )
    }

    /// The `sslmode` and `sslrootcert` parameters, each at most once, and no other.
    static func protection(
        _ items: [URLQueryItem],
        shown: String
    ) throws(PostgresLocationError) -> (TLSMode, String?) {
        let modes = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
        var tls: TLSMode?
        var rootCertificate: String?
        for item in items {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode" where tls == nil:
                guard let mode = TLSMode(rawValue: value) else {
                    throw PostgresLocationError(
                        "expected sslmode to be one of \(modes), found \"\(value)\" in \"\(shown)\""
                    )
                }
                tls = mode
            case "sslrootcert" where rootCertificate == nil && !value.isEmpty:
                rootCertificate = value
            case "sslmode", "sslrootcert":
                throw PostgresLocationError(
                    "expected \(item.name) once and not empty, found it again or empty in \"\(shown)\""
                )
            default:
                throw PostgresLocationError(
                    "expected only sslmode and sslrootcert after the database name, found \"\(item.name)\" in \"\(shown)\""
                )
            }
        }
        let mode = tls ?? .prefer
        if rootCertificate != nil, !mode.verifies {
            throw PostgresLocationError(
                "expected sslrootcert only with sslmode=verify-ca or verify-full (it is what they check against), found sslmode=\(mode.rawValue) in \"\(shown)\""
            )
        }
        return (mode, rootCertificate)
    }

    /// Whether `host` is this machine (a loopback name or address), where no network is crossed.
    public var isLoopback: Bool {
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        let loopbackIPv4 = octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
        return host == "localhost" || loopbackIPv4 || host == "::1" || host == "[::1]"
    }

    /// What `serve` should warn of before it connects: a connection to another machine whose server's identity
    /// is not verified (anything but `verify-full`), or `nil`.
    public var warning: String? {
        guard !isLoopback, tls != .verifyFull else { return nil }
        return "--db: the connection to \(host) uses sslmode=\(tls.rawValue): "
            + (tls == .disable
                ? "the password and every row cross the network unencrypted"
                : "the server's identity is not fully checked, so a man in the middle could read the state")
            + "; use sslmode=verify-full (and sslrootcert=CA.pem)"
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

    /// The URL without its password; the protection is spelled out unless it is the default (`prefer`).
    public var description: String {
        var parameters: [String] = []
        if tls != .prefer { parameters.append("sslmode=\(tls.rawValue)") }
        if let rootCertificate {
            let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "/-._~"))
            parameters.append(
                "sslrootcert=" + (rootCertificate.addingPercentEncoding(withAllowedCharacters: plain) ?? "")
            )
        }
        let query = parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&")
        return "postgres://\(user)@\(host):\(port)/\(database)" + query
    }
}

/// A `--db` value that is not a PostgreSQL URL: what was expected and what was found (the password masked).
public struct PostgresLocationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
