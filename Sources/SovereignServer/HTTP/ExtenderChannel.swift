import HTTPTypes
public import HummingbirdCore
public import Logging
public import NIOCore
import NIOHTTP1

/// The extender listener's connections: HTTP/1.1 (keep-alive, pipelining kept in order by NIO's
/// `HTTPServerPipelineHandler`) answered by ``ExtenderRoutes`` on the connection's event loop, with no hop
/// to Swift concurrency's pool and back per request.
public struct ExtenderChannel: ServerChildChannel {
    /// An accepted connection; it is served by its pipeline until it closes.
    public struct Value: ServerChildChannelValue {
        public let channel: any Channel
    }

    let routes: ExtenderRoutes

    /// Adds HTTP/1.1 and the extender's handler to the connection.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(ExtenderHTTPHandler(routes: routes, logger: logger))
            return Value(channel: channel)
        }
    }

    /// Waits until the connection closes (the pipeline answers).
    public func handle(value: Value, logger: Logger) async {
        try? await value.channel.closeFuture.get()
    }
}

/// Collects one request at a time (up to ``ExtenderRoutes/bodyLimit``) and writes its answer.
final class ExtenderHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: ExtenderRoutes
    private let logger: Logger
    private var head: HTTPRequestHead?
    /// The body so far; `nil` once it passed the limit (the rest is read and dropped).
    private var body: [UInt8]? = []

    init(routes: ExtenderRoutes, logger: Logger) {
        self.routes = routes
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
            body = []
        case .body(let chunk):
            if let count = body?.count, count + chunk.readableBytes <= ExtenderRoutes.bodyLimit {
                body?.append(contentsOf: chunk.readableBytesView)
            } else {
                body = nil
            }
        case .end:
            guard let request = head else { return }
            head = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = String(request.uri.prefix { $0 != "?" })
        let method = HTTPRequest.Method(rawValue: request.method.rawValue)
        let answer =
            method.map { routes.answer(.init(method: $0, path: path, body: body)) }
            ?? ExtenderRoutes.error(
                APIError(.methodNotAllowed, "expected GET or POST, found \"\(request.method.rawValue.prefix(40))\"")
            )
        body = []
        if answer.status.code == 400 {
            logger.warning(
                "scheduler extender request refused",
                metadata: ["extender.path": "\(path)", "error": "\(String(decoding: answer.body, as: UTF8.self))"]
            )
        }
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "sovereign-extender")
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(answer.body.count))
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: answer.status.code)
        let responseHead = HTTPResponseHead(version: request.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        let bytes = context.channel.allocator.buffer(bytes: answer.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        if !keepAlive {
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
