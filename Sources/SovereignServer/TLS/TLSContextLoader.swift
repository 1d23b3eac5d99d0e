import Foundation
public import NIOSSL
import SwiftASN1
import X509

/// Reads certificates, keys and CAs, checks that they belong together, and makes the TLS settings of a
/// listener or of a client (`sovereign agent`, `sovereign power replay`). Every refusal names the file,
/// the option that named it and what was expected.
public enum TLSContextLoader: Sendable {
    /// A client's TLS settings: the server is verified against `ca` (else the system's trust store), and
    /// with `certificate` and `key` the client presents that certificate (mutual TLS).
    ///
    /// - Parameter options: the command-line options that named the files.
    /// - Throws: ``TLSFileError`` naming the file at fault.
    public static func clientConfiguration(
        ca: String?,
        certificate: String?,
        key: String?,
        options: (ca: String, certificate: String, key: String) = ("--ca", "--client-cert", "--client-key")
    ) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let ca {
            configuration.trustRoots = .certificates(try certificates(in: ca, option: options.ca).map(\.nio))
        }
        if let certificate, let key {
            let files = TLSFiles(certificate: certificate, key: key, options: (options.certificate, options.key, ""))
            let chain = try certificates(in: certificate, option: options.certificate)
            let privateKey = try privateKey(in: key, option: options.key)
            try checkPair(chain: chain, key: privateKey.checked, files: files)
            configuration.certificateChain = chain.map { .certificate($0.nio) }
            configuration.privateKey = .privateKey(privateKey.nio)
        }
        return configuration
    }

    /// The server's TLS context for `files`.
    ///
    /// - Throws: ``TLSFileError`` naming the file at fault.
    static func context(for files: TLSFiles) throws -> NIOSSLContext {
        let chain = try certificates(in: files.certificate, option: files.options.certificate)
        let key = try privateKey(in: files.key, option: files.options.key)
        try checkPair(chain: chain, key: key.checked, files: files)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0.nio) },
            privateKey: .privateKey(key.nio)
        )
        configuration.minimumTLSVersion = .tlsv12
        switch files.clientCertificates {
        case .ignored:
            configuration.certificateVerification = .none
        case .optional(let caFile):
            configuration.trustRoots = .certificates(
                try certificates(in: caFile, option: files.options.clientCA).map(\.nio)
            )
            configuration.certificateVerification = .optionalVerification
        case .required(let caFile):
            configuration.trustRoots = .certificates(
                try certificates(in: caFile, option: files.options.clientCA).map(\.nio)
            )
            configuration.certificateVerification = .noHostnameVerification
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(
                .context,
                file: files.certificate,
                "\(files.options.certificate): expected a certificate and key TLS can serve, found them refused: \(error)"
            )
        }
    }

    /// The file's bytes, or an error saying whether it is missing or unreadable.
    static func contents(of path: String, option: String, expected: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let found = FileManager.default.fileExists(atPath: path) ? "a file that cannot be read" : "no such file"
            throw TLSFileError(.unreadable, file: path, "\(option): expected \(expected), found \(found)")
        }
        return Array(data)
    }

    /// Every certificate in a PEM file, in order, as NIOSSL and swift-certificates see them.
    static func certificates(in path: String, option: String) throws -> [(nio: NIOSSLCertificate, checked: Certificate)]
    {
        let expected = "a PEM certificate file (-----BEGIN CERTIFICATE-----)"
        let bytes = try contents(of: path, option: option, expected: expected)
        let parsed: [NIOSSLCertificate]
        do {
            parsed = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw TLSFileError(.certificate, file: path, "\(option): expected \(expected), found text that is not one")
        }
        guard !parsed.isEmpty else {
            throw TLSFileError(.certificate, file: path, "\(option): expected \(expected), found no certificate")
        }
        return try parsed.map { certificate -> (nio: NIOSSLCertificate, checked: Certificate) in
            do {
                return (nio: certificate, checked: try Certificate(derEncoded: certificate.toDERBytes()))
            } catch {
                throw TLSFileError(.certificate, file: path, "\(option): expected X.509 certificates, found \(error)")
            }
        }
    }

    /// The private key in a PEM file.
    static func privateKey(
        in path: String,
        option: String
    ) throws -> (nio: NIOSSLPrivateKey, checked: Certificate.PrivateKey) {
        let expected = "a PEM private key (PKCS#8, EC or RSA)"
        let bytes = try contents(of: path, option: option, expected: expected)
        do {
            let checked = try Certificate.PrivateKey(pemEncoded: String(decoding: bytes, as: UTF8.self))
            return (nio: try NIOSSLPrivateKey(bytes: bytes, format: .pem), checked: checked)
        } catch {
            throw TLSFileError(.privateKey, file: path, "\(option): expected \(expected), found text that is not one")
        }
    }

    /// Refuses a key that is not the first certificate's.
    static func checkPair(
        chain: [(nio: NIOSSLCertificate, checked: Certificate)],
        key: Certificate.PrivateKey,
        files: TLSFiles
    ) throws {
        guard let leaf = chain.first?.checked, leaf.publicKey != key.publicKey else { return }
        throw TLSFileError(
            .mismatch,
            file: files.key,
            "\(files.options.key): expected the private key of the certificate in \(files.certificate) (\(leaf.subject)), found the key of another certificate"
        )
    }
}
