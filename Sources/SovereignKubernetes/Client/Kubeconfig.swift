import Foundation
import Yams

extension KubernetesAPIConfiguration {
    /// The configuration a kubeconfig file gives for one context, read as client-go's `clientcmd` reads it:
    /// the context's cluster (`server`, `certificate-authority(-data)`, `insecure-skip-tls-verify`) and user
    /// (`token`, `tokenFile`, `client-certificate(-data)`, `client-key(-data)`). Relative file paths are resolved
    /// against the kubeconfig's directory; `*-data` fields are base64.
    ///
    /// - Parameters:
    ///   - path: The kubeconfig file.
    ///   - context: The context to use; `nil` uses `current-context`.
    /// - Returns: The configuration.
    /// - Throws: ``KubernetesConfigurationError`` naming the field when the file cannot be read or parsed, the
    ///   context, cluster or user is missing, a file it names cannot be read, a PEM does not parse, or the user
    ///   authenticates in a way Sovereign does not support (`exec`, `auth-provider`, `username`/`password`).
    public static func kubeconfig(path: String, context: String? = nil) throws -> Self {
        let text = String(decoding: try readFile(path, source: path, field: "kubeconfig"), as: UTF8.self)
        let file: KubeconfigFile
        do {
            file = try YAMLDecoder().decode(KubeconfigFile.self, from: text)
        } catch {
            throw KubernetesConfigurationError(source: path, field: "kubeconfig", message: "not a kubeconfig: \(error)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let loader = KubeconfigLoader(path: path, directory: directory)

        guard let contextName = context ?? file.currentContext, !contextName.isEmpty else {
            throw KubernetesConfigurationError(
                source: path,
                field: "current-context",
                message: "no context given and current-context is not set"
            )
        }
        guard let namedContext = file.contexts?.first(where: { $0.name == contextName }) else {
            let known = (file.contexts ?? []).map(\.name).joined(separator: ", ")
            throw KubernetesConfigurationError(
                source: path,
                field: "contexts",
                message: "no context named \"\(contextName)\" (contexts: \(known.isEmpty ? "none" : known))"
            )
        }
        let contextField = "contexts[\(contextName)].context"
        guard let clusterName = namedContext.context?.cluster,
            let cluster = file.clusters?.first(where: { $0.name == clusterName })?.cluster
        else {
            throw KubernetesConfigurationError(
                source: path,
                field: "\(contextField).cluster",
                message: "names cluster \"\(namedContext.context?.cluster ?? "")\", which is not in clusters"
            )
        }
        let clusterField = "clusters[\(clusterName)].cluster"
        guard let server = cluster.server, !server.isEmpty else {
            throw KubernetesConfigurationError(source: path, field: "\(clusterField).server", message: "missing")
        }
        var configuration = Self(server: server, insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ?? false)
        configuration.certificateAuthorityPEM = try loader.bytes(
            data: cluster.certificateAuthorityData,
            file: cluster.certificateAuthority,
            field: "\(clusterField).certificate-authority"
        )

        if let userName = namedContext.context?.user, !userName.isEmpty {
            guard let user = file.users?.first(where: { $0.name == userName }) else {
                throw KubernetesConfigurationError(
                    source: path,
                    field: "\(contextField).user",
                    message: "names user \"\(userName)\", which is not in users"
                )
            }
            try loader.apply(user.user ?? KubeconfigUser(), field: "users[\(userName)].user", to: &configuration)
        }
        do {
            try configuration.validate(source: path)
        } catch let error as KubernetesConfigurationError {
            // Name the field by its place in the file: the server and CA belong to the context's cluster.
            throw KubernetesConfigurationError(
                source: path,
                field: "\(clusterField).\(error.field)",
                message: error.message
            )
        }
        return configuration
    }
}

private struct KubeconfigLoader {
    let path: String
    let directory: String

    func resolve(_ file: String) -> String {
        file.hasPrefix("/") ? file : URL(fileURLWithPath: directory).appendingPathComponent(file).path
    }

    /// The bytes of a `X-data` (base64) or `X` (file path) pair; data wins, as in client-go.
    func bytes(data: String?, file: String?, field: String) throws -> [UInt8]? {
        if let data, !data.isEmpty {
            let compact = data.filter { !$0.isWhitespace }
            guard let decoded = Data(base64Encoded: compact) else {
                throw KubernetesConfigurationError(source: path, field: field + "-data", message: "expected base64")
            }
            return [UInt8](decoded)
        }
        if let file, !file.isEmpty {
            return try KubernetesAPIConfiguration.readFile(resolve(file), source: path, field: field)
        }
        return nil
    }

    func apply(_ user: KubeconfigUser, field: String, to configuration: inout KubernetesAPIConfiguration) throws {
        let unsupported: [(present: Bool, key: String, hint: String)] = [
            (user.exec != nil, "exec", "exec credential plugins"),
            (user.authProvider != nil, "auth-provider", "auth-provider plugins"),
            (
                user.username != nil || user.password != nil, user.username != nil ? "username" : "password",
                "basic authentication"
            ),
        ]
        if let bad = unsupported.first(where: \.present) {
            throw KubernetesConfigurationError(
                source: path,
                field: "\(field).\(bad.key)",
                message: "\(bad.hint) are not supported; give this user a token, tokenFile or client certificate "
                    + "(for example a service-account token from `kubectl create token`)"
            )
        }
        if let token = user.token, !token.isEmpty {
            configuration.bearerToken = .literal(token)
        } else if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
            let resolved = resolve(tokenFile)
            guard FileManager.default.isReadableFile(atPath: resolved) else {
                throw KubernetesConfigurationError(
                    source: path,
                    field: "\(field).tokenFile",
                    message: "cannot read \(resolved)"
                )
            }
            configuration.bearerToken = .file(resolved)
        }
        configuration.clientCertificatePEM = try bytes(
            data: user.clientCertificateData,
            file: user.clientCertificate,
            field: "\(field).client-certificate"
        )
        configuration.clientKeyPEM = try bytes(
            data: user.clientKeyData,
            file: user.clientKey,
            field: "\(field).client-key"
        )
        if configuration.clientCertificatePEM != nil || configuration.clientKeyPEM != nil {
            do {
                _ = try configuration.makeTLSConfiguration(source: path)
            } catch let error as KubernetesConfigurationError {
                throw KubernetesConfigurationError(
                    source: path,
                    field: "\(field).\(error.field)",
                    message: error.message
                )
            }
        }
    }
}

/// The parts of a kubeconfig (`clientcmd/api/v1` `Config`) Sovereign reads; everything else is ignored.
private struct KubeconfigFile: Decodable {
    var currentContext: String?
    var clusters: [NamedCluster]?
    var contexts: [NamedContext]?
    var users: [NamedUser]?

    enum CodingKeys: String, CodingKey {
        case currentContext = "current-context"
        case clusters, contexts, users
    }
}

private struct NamedCluster: Decodable {
    var name: String
    var cluster: KubeconfigCluster?
}

private struct KubeconfigCluster: Decodable {
    var server: String?
    var certificateAuthority: String?
    var certificateAuthorityData: String?
    var insecureSkipTLSVerify: Bool?

    enum CodingKeys: String, CodingKey {
        case server
        case certificateAuthority = "certificate-authority"
        case certificateAuthorityData = "certificate-authority-data"
        case insecureSkipTLSVerify = "insecure-skip-tls-verify"
    }
}

private struct NamedContext: Decodable {
    var name: String
    var context: KubeconfigContext?
}

private struct KubeconfigContext: Decodable {
    var cluster: String?
    var user: String?
}

private struct NamedUser: Decodable {
    var name: String
    var user: KubeconfigUser?
}

private struct KubeconfigUser: Decodable {
    var token: String?
    var tokenFile: String?
    var clientCertificate: String?
    var clientCertificateData: String?
    var clientKey: String?
    var clientKeyData: String?
    var username: String?
    var password: String?
    var exec: Present?
    var authProvider: Present?

    enum CodingKeys: String, CodingKey {
        case token, tokenFile, username, password, exec
        case clientCertificate = "client-certificate"
        case clientCertificateData = "client-certificate-data"
        case clientKey = "client-key"
        case clientKeyData = "client-key-data"
        case authProvider = "auth-provider"
    }

    init() {}
}

/// Any value at all: only its presence matters.
private struct Present: Decodable {
    init(from decoder: any Decoder) throws {}
}
