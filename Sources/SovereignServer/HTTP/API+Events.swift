import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension API {
    /// How often an idle event stream carries a comment, so that proxies and browsers keep it open.
    static let heartbeatInterval: Duration = .seconds(15)

    /// The live events (`text/event-stream`), resumable with `Last-Event-ID`.
    ///
    /// Every event is something a reader may already read through the other routes (workload states,
    /// sites and their power, the ledger): the route needs the reader role, so a `reader`, `power` or
    /// `operator` token sees every event, and a `site` token, which may read nothing else, sees none.
    static let eventRoutes: [APIRoute] = [
        APIRoute(method: .get, path: "/v1/events", role: .reader) { request, _, api in
            let follow = try optionalBool(request, "follow") ?? true
            let last = HTTPField.Name("Last-Event-ID").flatMap { request.headers[$0] }
            let hub = api.plane.events
            do {
                let subscription = try hub.subscribe(after: last, follow: follow, owner: api.caller.identity)
                return eventStream(subscription, hub: hub, request: request)
            } catch EventHub.Refusal.full {
                throw APIError(
                    .serviceUnavailable,
                    "expected fewer than \(hub.maxSubscribers) open event streams, found that many; retry later"
                )
            } catch EventHub.Refusal.ownerFull {
                throw APIError(
                    .tooManyRequests,
                    "expected at most \(hub.maxPerOwner) open event streams per token, found that many open with this one; close one first"
                )
            }
        }
    ]

    /// The query parameter `name` as `true` or `false`, or `nil` when the query leaves it out.
    static func optionalBool(_ request: Request, _ name: String) throws -> Bool? {
        guard let raw = request.uri.queryParameters.get(name) else { return nil }
        switch raw {
        case "true": return true
        case "false": return false
        default:
            throw APIError(
                .badRequest,
                "expected \(name) to be true or false, found \"\(raw.prefix(40))\"",
                field: name
            )
        }
    }

    /// The stream: what the client missed, then (when it follows) each event as it is published and a
    /// heartbeat comment when none is, until the client leaves, the hub drops it, or the server stops.
    static func eventStream(_ subscription: EventHub.Subscription, hub: EventHub, request: Request) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: ServerSentEvents.opening(subscription, hub: hub)))
            if let items = subscription.items {
                defer { subscription.cancel() }
                // A client that closes its connection ends the stream at once: a browser holds few connections
                // to one server, and one left open after the page is gone would keep the next page waiting.
                try await request.body.consumeWithInboundCloseHandler { _ in
                    try await follow(items, subscription: subscription, hub: hub, writer: &writer)
                } onInboundClosed: {
                    subscription.cancel()
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Writes each item of a following stream, with a heartbeat every ``heartbeatInterval``.
    static func follow(
        _ items: AsyncStream<EventHub.Item>,
        subscription: EventHub.Subscription,
        hub: EventHub,
        writer: inout any ResponseBodyWriter
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    try await Task.sleep(for: heartbeatInterval)
                    subscription.heartbeat()
                }
            }
            for await item in items {
                try await writer.write(ByteBuffer(string: ServerSentEvents.text(item, hub: hub)))
            }
            group.cancelAll()
        }
    }
}
