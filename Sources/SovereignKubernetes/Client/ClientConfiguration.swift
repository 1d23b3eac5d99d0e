import Foundation

/// Where and how to reach the Kubernetes API server.
///
/// Build one with ``inCluster(environment:serviceAccountDirectory:)`` when Sovereign runs in a pod, or with
/// ``kubeconfig(path:context:)`` from an operator's kubeconfig file.
public struct KubernetesAPIConfiguration: Sendable {
    /// The API server's base URL, e.g. `https://10.0.0.1:443`. A path after the host (some proxies use one)
    /// is kept and every API path is appended to it.
    public var server: String
    /// PEM trust roots for the server's certificate; `nil` trusts the system roots.
    public var certificateAuthorityPEM: [UInt8]?
    /// The bearer token sent on every request, if any.
    public var bearerToken: BearerToken?
    /// PEM client certificate (chain) for mutual TLS; needs ``clientKeyPEM``.
    public var clientCertificatePEM: [UInt8]?
    /// PEM private key for ``clientCertificatePEM``.
    public var clientKeyPEM: [UInt8]?
    /// Skips verification of the server's certificate. For throwaway test clusters only.
    public var insecureSkipTLSVerify: Bool

    /// Creates a configuration from its parts.
    ///
    /// - Parameters:
    ///   - server: The API server's base URL (`https://host:port`, or `http://` for tests).
    ///   - certificateAuthorityPEM: PEM trust roots; `nil` trusts the system roots.
    ///   - bearerToken: The bearer token, literal or read from a file.
    ///   - clientCertificatePEM: PEM client certificate for mutual TLS.
    ///   - clientKeyPEM: PEM private key for the client certificate.
    ///   - insecureSkipTLSVerify: Whether to skip verifying the server's certificate.
    public init(
        server: String,
        certificateAuthorityPEM: [UInt8]? = nil,
        bearerToken: BearerToken? = nil,
        clientCertificatePEM: [UInt8]? = nil,
        clientKeyPEM: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false
    ) {
        self.server = server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.bearerToken = bearerToken
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
    }

    /// The directory where Kubernetes mounts a pod's service-account token, CA bundle and namespace.
    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The configuration of a pod talking to its own cluster, as client-go's `rest.InClusterConfig` builds it:
    /// the server from `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` (an IPv6 host is bracketed),
    /// the service account's `token` (re-read on every request, since projected tokens rotate) and `ca.crt`.
    ///
    /// - Parameters:
    ///   - environment: The process environment (`ProcessInfo.processInfo.environment`).
    ///   - serviceAccountDirectory: Where the token and CA bundle are mounted.
    /// - Returns: The configuration.
    /// - Throws: ``KubernetesConfigurationError`` when the variables are missing, or the token or CA bundle
    ///   cannot be read or is not PEM.
    public static func inCluster(
        environment: [String: String],
        serviceAccountDirectory: String = defaultServiceAccountDirectory
    ) throws -> Self {
        let source = "in-cluster configuration"
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw KubernetesConfigurationError(
                source: source,
                field: "KUBERNETES_SERVICE_HOST",
                message: "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                    + "must both be set"
            )
        }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let directory = serviceAccountDirectory.hasSuffix("/") ? serviceAccountDirectory : serviceAccountDirectory + "/"
        let tokenPath = directory + "token"
        let token = try readFile(tokenPath, source: source, field: "token")
        if String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw KubernetesConfigurationError(source: source, field: "token", message: "\(tokenPath) is empty")
        }
        let ca = try readFile(directory + "ca.crt", source: source, field: "ca.crt")
        let configuration = Self(
            server: "https://\(hostPart):\(port)",
            certificateAuthorityPEM: ca,
            bearerToken: .file(tokenPath)
        )
        try configuration.validate(source: source)
        return configuration
    }

    static func readFile(_ path: String, source: String, field: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubernetesConfigurationError(source: source, field: field, message: "cannot read \(path)")
        }
        return [UInt8](data)
    }

    /// Checks what can be checked before connecting: the URL's scheme and that every PEM parses.
    func validate(source: String) throws {
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http",
            url.host != nil
        else {
            throw KubernetesConfigurationError(
                source: source,
                field: "server",
                message: "expected a URL like \"https://10.0.0.1:6443\", found \"\(server)\""
            )
        }
        _ = try makeTLSConfiguration(source: source)
    }
}

/// A bearer token for the API server.
public enum BearerToken: Sendable, Hashable {
    /// A token given directly.
    case literal(String)
    /// A file holding the token, re-read on every request: projected service-account tokens rotate hourly.
    case file(String)

    /// The token's current value, surrounding whitespace removed.
    func read() throws -> String {
        switch self {
        case .literal(let token):
            return token
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KubernetesConfigurationError(
                    source: "bearer token",
                    field: "tokenFile",
                    message: "cannot read \(path)"
                )
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}

/// A configuration that cannot be used: a missing variable, an unreadable file, a field Sovereign does not
/// support. The description names the source and the field, like a compiler diagnostic.
public struct KubernetesConfigurationError: Error, Sendable, CustomStringConvertible {
    /// Where the configuration came from: a kubeconfig path, or `in-cluster configuration`.
    public let source: String
    /// The field at fault, as a path (`users[admin].user.exec`).
    public let field: String
    /// What is wrong and what was expected.
    public let message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - source: Where the configuration came from.
    ///   - field: The field at fault.
    ///   - message: What is wrong and what was expected.
    public init(source: String, field: String, message: String) {
        self.source = source
        self.field = field
        self.message = message
    }

    public var description: String { "\(source): error: \(field): \(message)" }
}
