public import Crypto
public import Foundation
import SovereignBase

/// Bearer tokens and their roles, from a file of `token role` lines (`#` starts a comment); a federated
/// site's agent holds a `token site NAME` line, which lets it act for that site and nothing else.
///
/// Tokens are kept only as SHA-256 digests and compared in constant time against every known token, so
/// neither a timing difference nor a log line ever gives one away. The ledger names a token by its
/// fingerprint, an HMAC-SHA256 under the server's own secret (`DB.key.hmac`), so that a reader of the
/// ledger cannot test guessed tokens against it.
public struct TokenStore: Sendable {
    /// What a token may do.
    public enum Role: String, Sendable, Comparable {
        /// Reads everything, changes nothing.
        case reader
        /// Reads, and reports power: what a site's energy-management system or a metrics bridge needs, and
        /// no more (it cannot submit work, which would run a command on the server's machine).
        case power
        /// Reads and changes everything: submits, pauses, resumes, cancels, reports power.
        case `operator`
        /// A federated site's agent: it polls for its steps and sends its updates, for its own site only; it
        /// cannot read the rest of the API.
        case site

        var rank: Int {
            switch self {
            case .site: return -1
            case .reader: return 0
            case .power: return 1
            case .operator: return 2
            }
        }

        public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
    }

    struct Entry: Sendable {
        let digest: [UInt8]
        let role: Role
        let fingerprint: String
        /// The site a `site` token acts for.
        let site: String?
    }

    let entries: [Entry]

    /// Shortest token accepted: 128 bits of hex or base64 are at least this long.
    public static let minimumLength = 16

    /// Reads a tokens file.
    ///
    /// - Parameters:
    ///   - sites: the fleet's sites, which `site` tokens must name (nil: any name).
    ///   - fingerprintKey: the server's secret that keys fingerprints (default: a random one, so
    ///     fingerprints then hold for this process only).
    /// - Throws: ``TokenFileError`` naming `file:line:column`, what was expected and what was found.
    public init(
        contentsOf path: String,
        sites: Set<String>? = nil,
        fingerprintKey: SymmetricKey = SymmetricKey(size: .bits256)
    ) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenFileError(message: "\(path):1:1: error: expected a readable tokens file, found none")
        }
        try self.init(
            text: String(decoding: data, as: UTF8.self),
            file: path,
            sites: sites,
            fingerprintKey: fingerprintKey
        )
    }

    /// Parses `token role` and `token site NAME` lines.
    public init(
        text: String,
        file: String,
        sites: Set<String>? = nil,
        fingerprintKey: SymmetricKey = SymmetricKey(size: .bits256)
    ) throws {
        var entries: [Entry] = []
        var problems: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            let column =
                (content.firstIndex(where: { $0 != " " && $0 != "\t" }).map {
                    content.distance(from: content.startIndex, to: $0)
                } ?? 0) + 1
            let at = "\(file):\(index + 1):\(column)"
            let isSite = words.count >= 2 && words[1] == "site"
            guard words.count == (isSite ? 3 : 2) else {
                problems.append(
                    "\(at): error: expected \(isSite ? "\"TOKEN site SITE\"" : "\"TOKEN ROLE\"" ), found \(words.count) words"
                )
                continue
            }
            if isSite, let sites, !sites.contains(String(words[2])) {
                problems.append("\(at): error: expected a site of the fleet, found \"\(words[2])\"")
                continue
            }
            guard words[0].count >= Self.minimumLength else {
                problems.append(
                    "\(at): error: expected a token of at least \(Self.minimumLength) characters, found \(words[0].count)"
                )
                continue
            }
            guard let role = Role(rawValue: String(words[1])) else {
                problems.append("\(at): error: expected role reader, power, operator or site, found \"\(words[1])\"")
                continue
            }
            let digest = Array(SHA256.hash(data: Data(words[0].utf8)))
            if entries.contains(where: { $0.digest == digest }) {
                problems.append("\(at): error: expected each token once, found it again")
                continue
            }
            entries.append(
                Entry(
                    digest: digest,
                    role: role,
                    fingerprint: Self.fingerprint(of: words[0], key: fingerprintKey),
                    site: isSite ? String(words[2]) : nil
                )
            )
        }
        if !problems.isEmpty { throw TokenFileError(message: problems.joined(separator: "\n")) }
        if entries.isEmpty {
            throw TokenFileError(message: "\(file):1:1: error: expected at least one \"TOKEN ROLE\" line, found none")
        }
        self.entries = entries
    }

    /// `token:` and the first 12 hex digits of the token's HMAC-SHA256 under the server's secret: enough to
    /// tell tokens apart in the ledger, and, unlike a plain hash, no way to check a guessed token without
    /// the secret. (Ledgers written before kept a plain SHA-256 prefix; those entries stay as they are.)
    static func fingerprint(of token: some StringProtocol, key: SymmetricKey) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: key)
        return "token:" + Hex.encode(code.prefix(6))
    }

    /// The role and fingerprint of a presented token, if it is known.
    ///
    /// - Complexity: O(T) for T known tokens, always all of them.
    public func authenticate(_ token: some StringProtocol) -> (role: Role, fingerprint: String, site: String?)? {
        let digest = Array(SHA256.hash(data: Data(token.utf8)))
        var found: Entry?
        for entry in entries where ConstantTime.equal(digest, Array(entry.digest)) { found = entry }
        return found.map { ($0.role, $0.fingerprint, $0.site) }
    }

    /// Creates a tokens file with one new random operator token (mode 0600), for a first start without
    /// `--tokens`. An existing file is left alone.
    ///
    /// - Returns: whether the file was created.
    public static func createDefault(at path: String) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw TokenFileError(message: "\(path): cannot create the tokens file: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token = Hex.encode(bytes)
        let text =
            "# token role (reader, power or operator), or token site SITE; made by sovereign serve\n\(token) operator\n"
        let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count else {
            throw TokenFileError(message: "\(path): cannot write the tokens file")
        }
        return true
    }
}

/// A tokens file that cannot be used.
public struct TokenFileError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
