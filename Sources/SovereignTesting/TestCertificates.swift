public import Crypto
public import Foundation
import SwiftASN1
public import X509

/// A certificate authority made inside a test: a P-256 key and a self-signed CA certificate that issues
/// server certificates for 127.0.0.1 and localhost and site certificates in Sovereign's mutual-TLS
/// convention (a SAN URI `sovereign://site/NAME`). Nothing is read from or written to the system store.
public struct TestCertificateAuthority: Sendable {
    /// The CA's certificate (what a client passes as `--ca`, a server as `--client-ca`).
    public let certificate: Certificate
    let key: P256.Signing.PrivateKey

    /// Makes a new CA with a fresh key.
    ///
    /// - Parameter name: the CA's common name.
    /// - Throws: what swift-certificates throws when signing.
    public init(name: String = "Sovereign test CA") throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        self.key = key
        self.certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: Date().addingTimeInterval(86400 * 30),
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
    }

    /// The CA certificate as PEM.
    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    /// A server certificate for 127.0.0.1 and localhost (and `dnsNames`).
    public func issueServer(
        commonName: String = "sovereign test server",
        dnsNames: [String] = []
    ) throws
        -> TestCertificate
    {
        try issue(
            commonName: commonName,
            names: [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
                + dnsNames.map { .dnsName($0) },
            usage: .serverAuth
        )
    }

    /// A site agent's client certificate: SAN URI `sovereign://site/NAME`.
    public func issueSite(_ site: String) throws -> TestCertificate {
        try issue(commonName: "site \(site)", names: [.uniformResourceIdentifier("sovereign://site/\(site)")])
    }

    /// A client certificate with the given subject alternative names (e.g. none, or two sites).
    public func issueClient(commonName: String, names: [GeneralName]) throws -> TestCertificate {
        try issue(commonName: commonName, names: names)
    }

    func issue(
        commonName: String,
        names: [GeneralName],
        usage: ExtendedKeyUsage.Usage = .clientAuth
    ) throws -> TestCertificate {
        let leafKey = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(leafKey.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600),
            notValidAfter: Date().addingTimeInterval(86400 * 30),
            issuer: self.certificate.subject,
            subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([usage])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        return TestCertificate(certificate: certificate, key: leafKey)
    }

    /// Writes the CA certificate as `NAME.pem` in `directory`.
    ///
    /// - Returns: the file's path.
    @discardableResult
    public func write(to directory: URL, name: String = "ca") throws -> String {
        let path = directory.appendingPathComponent("\(name).pem").path
        try certificatePEM.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// A certificate issued by a ``TestCertificateAuthority``, with its private key.
public struct TestCertificate: Sendable {
    /// The certificate.
    public let certificate: Certificate
    let key: P256.Signing.PrivateKey

    /// The certificate as PEM.
    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    /// The private key as PEM (PKCS#8).
    public var privateKeyPEM: String { key.pemRepresentation }

    /// Writes `NAME.crt` and `NAME.key` (mode 0600) in `directory`.
    ///
    /// - Returns: the two paths.
    @discardableResult
    public func write(to directory: URL, name: String) throws -> (certificate: String, key: String) {
        let certificatePath = directory.appendingPathComponent("\(name).crt").path
        let keyPath = directory.appendingPathComponent("\(name).key").path
        try certificatePEM.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        try privateKeyPEM.write(toFile: keyPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyPath)
        return (certificatePath, keyPath)
    }
}
