import Foundation
import Logging
import SovereignKubernetes
import Testing

struct KubeconfigTests {
    static let kubeconfig = APIFixtures.path("kubeconfig.yaml")

    @Test func currentContextReadsBase64DataFields() async throws {
        let configuration = try KubernetesAPIConfiguration.kubeconfig(path: Self.kubeconfig)
        let ca = try APIFixtures.bytes("serviceaccount/ca.crt")
        #expect(configuration.server == "https://192.168.49.2:6443")
        #expect(configuration.certificateAuthorityPEM == ca)
        let certificate = String(decoding: try #require(configuration.clientCertificatePEM), as: UTF8.self)
        let key = String(decoding: try #require(configuration.clientKeyPEM), as: UTF8.self)
        #expect(certificate.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(key.contains("PRIVATE KEY-----"))
        #expect(configuration.bearerToken == nil)
        #expect(configuration.insecureSkipTLSVerify == false)
        // The PEMs load: a client builds its TLS configuration from them.
        let client = try KubernetesClient(configuration: configuration, logger: quietLogger)
        try await client.shutdown()
    }

    @Test func namedContextResolvesRelativeFiles() throws {
        let configuration = try KubernetesAPIConfiguration.kubeconfig(path: Self.kubeconfig, context: "sovereign@prod")
        let ca = try APIFixtures.bytes("prod-ca.crt")
        #expect(configuration.server == "https://prod.example.org:443/")
        #expect(configuration.certificateAuthorityPEM == ca)
        #expect(configuration.bearerToken == .file(APIFixtures.path("prod-token")))
        #expect(configuration.clientCertificatePEM == nil)
    }

    @Test func insecureSkipTLSVerifyAndNoUser() throws {
        let configuration = try KubernetesAPIConfiguration.kubeconfig(path: Self.kubeconfig, context: "scratch")
        #expect(configuration.insecureSkipTLSVerify)
        #expect(configuration.certificateAuthorityPEM == nil)
        #expect(configuration.bearerToken == nil)
    }

    @Test(arguments: [
        ("cloud", "users[cloud-login].user.exec", "exec credential plugins are not supported"),
        ("basic", "users[basic-auth].user.username", "basic authentication are not supported"),
        ("dangling", "contexts[dangling].context.cluster", "names cluster \"nowhere\""),
        ("nope", "contexts", "no context named \"nope\""),
    ])
    func unusableContextsNameTheField(context: String, field: String, message: String) throws {
        let error = try #require(throws: KubernetesConfigurationError.self) {
            try KubernetesAPIConfiguration.kubeconfig(path: Self.kubeconfig, context: context)
        }
        #expect(error.field == field)
        #expect(error.message.contains(message))
        #expect(error.description.hasPrefix("\(Self.kubeconfig): error: \(field): "))
    }

    @Test(arguments: [
        (
            "certificate-authority-data: \(Data("not a certificate".utf8).base64EncodedString())",
            "clusters[c].cluster.certificate-authority", "expected PEM certificates"
        ),
        ("certificate-authority-data: '%%%'", "clusters[c].cluster.certificate-authority-data", "expected base64"),
        ("certificate-authority: missing-ca.crt", "clusters[c].cluster.certificate-authority", "cannot read"),
    ])
    func badCertificateAuthority(line: String, field: String, message: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("config").path
        let text = """
            apiVersion: v1
            kind: Config
            current-context: x
            clusters:
            - name: c
              cluster:
                server: https://10.0.0.1:6443
                \(line)
            contexts:
            - name: x
              context: {cluster: c, user: u}
            users:
            - name: u
              user: {token: abc}
            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: KubernetesConfigurationError.self) {
            try KubernetesAPIConfiguration.kubeconfig(path: path)
        }
        #expect(error.field == field)
        #expect(error.message.contains(message))
    }

    @Test func badClientKeyIsRefusedByTheClient() throws {
        let good = try KubernetesAPIConfiguration.kubeconfig(path: Self.kubeconfig)
        var configuration = good
        configuration.clientKeyPEM = Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8)
        let error = try #require(throws: KubernetesConfigurationError.self) {
            _ = try KubernetesClient(configuration: configuration, logger: quietLogger)
        }
        #expect(error.field == "client-key")
        #expect(error.message.contains("expected a PEM private key"))
        configuration = good
        configuration.clientKeyPEM = nil
        let missingKey = try #require(throws: KubernetesConfigurationError.self) {
            _ = try KubernetesClient(configuration: configuration, logger: quietLogger)
        }
        #expect(missingKey.message == "a client certificate needs its private key")
    }

    @Test(arguments: ["ftp://10.0.0.1", "10.0.0.1:6443", ""])
    func serverMustBeAnHTTPURL(server: String) {
        #expect(throws: KubernetesConfigurationError.self) {
            _ = try KubernetesClient(configuration: .init(server: server), logger: quietLogger)
        }
    }
}

struct InClusterConfigurationTests {
    static let directory = APIFixtures.path("serviceaccount")

    @Test(arguments: [("10.96.0.1", "https://10.96.0.1:443"), ("fd00:10:96::1", "https://[fd00:10:96::1]:443")])
    func serverTokenAndCA(host: String, server: String) throws {
        let configuration = try KubernetesAPIConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": "443"],
            serviceAccountDirectory: Self.directory
        )
        let ca = try APIFixtures.bytes("serviceaccount/ca.crt")
        #expect(configuration.server == server)
        #expect(configuration.bearerToken == .file(Self.directory + "/token"))
        #expect(configuration.certificateAuthorityPEM == ca)
    }

    @Test func outsideAPodSaysSo() throws {
        let error = try #require(throws: KubernetesConfigurationError.self) {
            try KubernetesAPIConfiguration.inCluster(environment: [:], serviceAccountDirectory: Self.directory)
        }
        #expect(error.field == "KUBERNETES_SERVICE_HOST")
        #expect(error.description.contains("not running in a Kubernetes pod"))
    }

    @Test func missingTokenNamesIt() throws {
        let error = try #require(throws: KubernetesConfigurationError.self) {
            try KubernetesAPIConfiguration.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                serviceAccountDirectory: "/nonexistent/serviceaccount"
            )
        }
        #expect(error.field == "token")
        #expect(error.message == "cannot read /nonexistent/serviceaccount/token")
    }
}
