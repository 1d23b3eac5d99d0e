public import Hummingbird
public import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// The API's request context: Hummingbird's basic one, plus the connection, so that a route can ask for
/// the client certificate the TLS handshake verified (mutual TLS for site agents).
public struct APIRequestContext: RequestContext {
    /// Hummingbird's storage.
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    let channel: any Channel

    /// Makes the context of one request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The client's certificate, if the connection is TLS and the client presented one (verified during
    /// the handshake against the client CA: only meaningful when the listener has one).
    func peerCertificate() async -> (certificate: Certificate, der: [UInt8])? {
        guard let presented = try? await channel.nioSSL_peerCertificate().get(),
            let der = try? presented.toDERBytes(),
            let certificate = try? Certificate(derEncoded: der)
        else { return nil }
        return (certificate, der)
    }
}
