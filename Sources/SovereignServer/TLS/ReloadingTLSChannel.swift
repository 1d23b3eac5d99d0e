public import HummingbirdCore
public import Logging
public import NIOCore
import NIOSSL

/// A child channel that puts TLS in front of `Base`, with the context current when the connection was
/// accepted (HummingbirdTLS's `TLSChannel` with a context that ``ReloadingTLSContext`` can replace).
public struct ReloadingTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    let base: Base
    let tls: ReloadingTLSContext

    /// Wraps `base` in TLS from `tls`.
    public init(_ base: Base, tls: ReloadingTLSContext) {
        self.base = base
        self.tls = tls
    }

    /// Adds the TLS handler, then the base channel's handlers.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let context = tls.current
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    /// Serves the connection as the base channel does.
    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS from a context that can be reloaded while the server runs.
    ///
    /// - Parameter tls: the context holder; new connections use its current context.
    /// - Returns: the builder to give `Application(server:)`.
    public static func http1(tls: ReloadingTLSContext) -> HTTPServerBuilder {
        .init { responder in ReloadingTLSChannel(HTTP1Channel(responder: responder), tls: tls) }
    }
}
