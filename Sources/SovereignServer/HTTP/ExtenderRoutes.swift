import Foundation
public import Hummingbird
import Logging
import NIOCore
public import SovereignKubernetes

/// kube-scheduler's extender on its own listener: `POST <prefix>/filter`, `POST <prefix>/prioritize` and
/// `GET /healthz`.
///
/// It listens apart from the API because kube-scheduler calls extenders without a bearer token (it can
/// only present TLS client certificates), so these routes cannot sit behind the API's tokens. Bind it to
/// an address only the scheduler reaches (a ClusterIP Service, or 127.0.0.1 in a sidecar); it can reveal
/// where a pod may run and why, and nothing else: it changes no state.
public enum ExtenderRoutes: Sendable {
    /// Largest request body accepted: full-mode requests carry every candidate node object (about 5–10 KB
    /// each), so 5,000 nodes need tens of megabytes.
    public static let bodyLimit = 128 << 20

    /// The extender's router.
    ///
    /// - Parameters:
    ///   - extender: Answers the calls.
    ///   - prefix: The `urlPrefix` path kube-scheduler is configured with, e.g. `/scheduler`.
    ///   - metrics: Counts calls by verb and status, for the API's `/metrics`.
    public static func router(extender: Extender, prefix: String) -> Router<BasicRequestContext> {
        router(extender: extender, prefix: prefix, metrics: nil)
    }

    static func router(extender: Extender, prefix: String, metrics: ServerMetrics?) -> Router<BasicRequestContext> {
        let router = Router()
        let base = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        for verb in ["filter", "prioritize"] {
            let path = "\(base)/\(verb)"
            router.post(RouterPath(path)) { request, context -> Response in
                let buffer: ByteBuffer
                do {
                    buffer = try await request.body.collect(upTo: bodyLimit)
                } catch is NIOTooManyBytesError {
                    metrics?.request(method: .post, path: path, status: 413)
                    throw APIError(
                        .contentTooLarge,
                        "expected an ExtenderArgs body of at most \(bodyLimit) bytes, found more",
                        field: "body"
                    )
                }
                do {
                    let body = Array(buffer.readableBytesView)
                    let reply = verb == "filter" ? try extender.filter(body) : try extender.prioritize(body)
                    metrics?.request(method: .post, path: path, status: 200)
                    return Response(
                        status: .ok,
                        headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply))
                    )
                } catch let error as ExtenderRequestError {
                    metrics?.request(method: .post, path: path, status: 400)
                    context.logger.warning(
                        "scheduler extender request refused",
                        metadata: ["extender.verb": "\(verb)", "error": "\(error)"]
                    )
                    throw APIError(.badRequest, error.description, field: error.field.isEmpty ? "body" : error.field)
                }
            }
        }
        router.get("/healthz") { _, _ in "ok\n" }
        return router
    }
}
