import Crypto
import Foundation
import SovereignBase
public import X509

/// Mutual TLS for site agents: a client certificate signed by the server's `--client-ca` that carries
/// exactly one subject alternative name URI `sovereign://site/NAME` acts for site NAME, as a
/// `TOKEN site NAME` line does, on the federation routes and nowhere else. The subject's common name is
/// not read: it is free text, and a CA that signs for several purposes may reuse it.
public enum SiteCertificate: Sendable {
    /// The URI prefix that names a site.
    public static let uriPrefix = "sovereign://site/"

    /// The sites a certificate names (a usable one names exactly one).
    public static func sites(in certificate: Certificate) -> [String] {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            guard case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix(uriPrefix) else { return nil }
            return String(uri.dropFirst(uriPrefix.count))
        }
    }

    /// `cert:` and the first 12 hex digits of the certificate's SHA-256 (its usual fingerprint): who acted,
    /// for the ledger. A certificate is public, so there is nothing to hide by keying this hash.
    static func fingerprint(derEncoded bytes: [UInt8]) -> String {
        "cert:" + Hex.encode(SHA256.hash(data: bytes).prefix(6))
    }
}
