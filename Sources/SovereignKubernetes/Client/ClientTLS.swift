import NIOSSL

extension KubernetesAPIConfiguration {
    /// The TLS settings for this configuration: its trust roots, client certificate and verification mode.
    ///
    /// - Parameter source: Named in errors (a kubeconfig path, `in-cluster configuration`).
    /// - Throws: ``KubernetesConfigurationError`` naming the field whose PEM does not parse.
    func makeTLSConfiguration(source: String) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let pem = certificateAuthorityPEM {
            tls.trustRoots = .certificates(try Self.certificates(pem, source: source, field: "certificate-authority"))
        }
        switch (clientCertificatePEM, clientKeyPEM) {
        case (let certificatePEM?, let keyPEM?):
            let chain = try Self.certificates(certificatePEM, source: source, field: "client-certificate")
            tls.certificateChain = chain.map { .certificate($0) }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
            } catch {
                throw KubernetesConfigurationError(
                    source: source,
                    field: "client-key",
                    message:
                        "expected a PEM private key (\"-----BEGIN ... PRIVATE KEY-----\"), it does not parse: \(error)"
                )
            }
        case (nil, nil):
            break
        case (_?, nil):
            throw KubernetesConfigurationError(
                source: source,
                field: "client-key",
                message: "a client certificate needs its private key"
            )
        case (nil, _?):
            throw KubernetesConfigurationError(
                source: source,
                field: "client-certificate",
                message: "a client key needs its certificate"
            )
        }
        if insecureSkipTLSVerify {
            tls.certificateVerification = .none
        }
        return tls
    }

    private static func certificates(_ pem: [UInt8], source: String, field: String) throws -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(pem)
        } catch {
            throw KubernetesConfigurationError(
                source: source,
                field: field,
                message: "expected PEM certificates (\"-----BEGIN CERTIFICATE-----\"), they do not parse: \(error)"
            )
        }
        guard !certificates.isEmpty else {
            throw KubernetesConfigurationError(
                source: source,
                field: field,
                message: "expected PEM certificates (\"-----BEGIN CERTIFICATE-----\"), found none"
            )
        }
        return certificates
    }
}
