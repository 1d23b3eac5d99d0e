import Foundation
public import HTTPTypes
import HummingbirdCore
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle
public import SovereignKubernetes

/// kube-scheduler's extender on its own listener: `POST <prefix>/filter`, `POST <prefix>/prioritize` and
/// `GET /healthz`.
///
/// It listens apart from the API because kube-scheduler calls extenders without a bearer token (it can
/// only present TLS client certificates), so these routes cannot sit behind the API's tokens. Bind it to
/// an address only the scheduler reaches (a ClusterIP Service, or 127.0.0.1 in a sidecar); it can reveal
/// where a pod may run and why, and nothing else: it changes no state.
///
/// kube-scheduler waits for the extender in every pod's scheduling cycle, so the listener answers on the
/// connection's event loop (``ExtenderChannel``): the answers are synchronous and take a fraction of a
/// millisecond, and handing each request to Swift concurrency's pool and the response back cost more than
/// that on a busy machine (Benchmarks/README.md, "Extender").
public struct ExtenderRoutes: Sendable {
    /// Largest request body accepted: full-mode requests carry every candidate node object (about 5–10 KB
    /// each), so 5,000 nodes need tens of megabytes.
    public static let bodyLimit = 128 << 20

    let extender: Extender
    /// The prefix without a trailing slash.
    let base: String
    let metrics: ServerMetrics?

    /// Routes under `prefix`.
    ///
    /// - Parameters:
    ///   - extender: Answers the calls.
    ///   - prefix: The `urlPrefix` path kube-scheduler is configured with, e.g. `/scheduler`.
    public init(extender: Extender, prefix: String) {
        self.init(extender: extender, prefix: prefix, metrics: nil)
    }

    init(extender: Extender, prefix: String, metrics: ServerMetrics?) {
        self.extender = extender
        self.base = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        self.metrics = metrics
    }

    /// A request as the listener reads it.
    public struct Request: Sendable {
        public var method: HTTPRequest.Method
        /// The path, without its query.
        public var path: String
        /// The body, or `nil` when it was longer than ``ExtenderRoutes/bodyLimit`` (not kept).
        public var body: [UInt8]?

        public init(method: HTTPRequest.Method, path: String, body: [UInt8]?) {
            self.method = method
            self.path = path
            self.body = body
        }
    }

    /// What the listener answers.
    public struct Answer: Sendable, Equatable {
        public var status: HTTPResponse.Status
        public var contentType: String
        public var body: [UInt8]
    }

    /// Answers one request: a pure decision over the extender's current state.
    ///
    /// - Complexity: that of ``Extender/filter(_:)`` or ``Extender/prioritize(_:)``.
    public func answer(_ request: Request) -> Answer {
        if request.path == "/healthz" {
            return request.method == .get
                ? Answer(status: .ok, contentType: "text/plain; charset=utf-8", body: Array("ok\n".utf8))
                : Self.error(APIError(.methodNotAllowed, "expected GET /healthz, found \(request.method)"))
        }
        guard let verb = ["filter", "prioritize"].first(where: { request.path == "\(base)/\($0)" }) else {
            return Self.error(
                APIError(.notFound, "expected \(base)/filter or \(base)/prioritize, found \(request.path)")
            )
        }
        guard request.method == .post else {
            return Self.error(APIError(.methodNotAllowed, "expected POST \(request.path), found \(request.method)"))
        }
        let answer = decide(verb: verb, body: request.body)
        metrics?.request(method: .post, path: request.path, status: answer.status.code)
        return answer
    }

    private func decide(verb: String, body: [UInt8]?) -> Answer {
        guard let body else {
            return Self.error(
                APIError(
                    .contentTooLarge,
                    "expected an ExtenderArgs body of at most \(Self.bodyLimit) bytes, found more",
                    field: "body"
                )
            )
        }
        do {
            let reply = verb == "filter" ? try extender.filter(body) : try extender.prioritize(body)
            return Answer(status: .ok, contentType: "application/json", body: reply)
        } catch {
            return Self.error(
                APIError(.badRequest, error.description, field: error.field.isEmpty ? "body" : error.field)
            )
        }
    }

    static func error(_ error: APIError) -> Answer {
        Answer(status: error.status, contentType: "application/json", body: error.jsonBody)
    }

    /// The listener's own event loop: answers run on it, so a long one (a full-mode body of thousands of
    /// nodes takes a while to read) never holds up the API's connections on the shared loops, and the API's
    /// never delay the scheduler's. One thread is enough: kube-scheduler has one call in flight.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// The listener as a service: HTTP/1.1 with keep-alive (over TLS with `tls`) on `host:port`.
    ///
    /// - Parameters:
    ///   - onListening: Told the bound port once the listener accepts connections.
    public func service(
        host: String,
        port: Int,
        tls: ReloadingTLSContext?,
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void
    ) -> any Service {
        let channel = ExtenderChannel(routes: self)
        let configuration = HummingbirdCore.ServerConfiguration(
            address: .hostname(host, port: port),
            serverName: "sovereign-extender"
        )
        let running: @Sendable (any Channel) async -> Void = { onListening($0.localAddress?.port ?? port) }
        guard let tls else {
            return channel.server(
                configuration: configuration,
                onServerRunning: running,
                eventLoopGroup: Self.eventLoops,
                logger: logger
            )
        }
        return ReloadingTLSChannel(channel, tls: tls).server(
            configuration: configuration,
            onServerRunning: running,
            eventLoopGroup: Self.eventLoops,
            logger: logger
        )
    }
}
