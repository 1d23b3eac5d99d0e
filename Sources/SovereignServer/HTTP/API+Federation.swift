import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SovereignFederation

extension API {
    /// The routes federated sites' agents call (`site` tokens only), and the model route for readers.
    static let federationRoutes: [APIRoute] = [
        APIRoute(method: .get, path: "/v1/federation/tasks", role: .site) { _, _, api in
            try json(await api.federation.tasks(for: try site(api)))
        },
        APIRoute(method: .get, path: "/v1/federation/workloads/{workload}/model", role: .site) {
            _,
            context,
            api in
            let workload = try objectName(context, "workload")
            return binary(try await api.federation.model(workload, for: try site(api)))
        },
        APIRoute(
            method: .put,
            path: "/v1/federation/workloads/{workload}/rounds/{round}/attempts/{attempt}/update/{chunk}",
            role: .site
        ) { request, context, api in
            let (workload, round, attempt) = try roundParameters(context)
            let chunk = try int(context.parameters.require("chunk"), "chunk", in: 0...countLimit)
            let bytes = try await collect(request, limit: FederationCoordinator.chunkBytes)
            try await api.federation.receiveChunk(
                workload,
                site: try site(api),
                round: round,
                attempt: attempt,
                index: chunk,
                bytes: Array(bytes)
            )
            return try json(["received": chunk])
        },
        APIRoute(
            method: .post,
            path: "/v1/federation/workloads/{workload}/rounds/{round}/attempts/{attempt}/update",
            role: .site
        ) { request, context, api in
            let (workload, round, attempt) = try roundParameters(context)
            let commit = try strictDecode(UpdateCommit.self, from: try await collect(request))
            try await api.federation.commitUpdate(workload, site: try site(api), round: round, attempt: attempt, commit)
            return try json(["committed": commit.sha256])
        },
        APIRoute(
            method: .post,
            path: "/v1/federation/workloads/{workload}/rounds/{round}/attempts/{attempt}/secure",
            role: .site
        ) { request, context, api in
            let (workload, round, attempt) = try roundParameters(context)
            let message = try strictDecode(SecureMessage.self, from: try await collect(request))
            try await api.federation.receive(message, workload, site: try site(api), round: round, attempt: attempt)
            return try json(["received": message.phase.rawValue])
        },
        APIRoute(method: .get, path: "/v1/workloads/{name}/model", role: .reader) { _, context, api in
            let name = try objectName(context, "name")
            return binary(try await api.federation.model(name, for: nil))
        },
    ]

    static func site(_ api: APIContext) throws -> String {
        guard let site = api.caller.site else {
            throw APIError(.forbidden, "expected a site token, found another role", field: "Authorization")
        }
        return site
    }

    /// Largest round or attempt number a path may name (the document states it as `maximum`).
    static let roundLimit = 1_000_000

    static func roundParameters(_ context: APIRequestContext) throws -> (String, Int, Int) {
        (
            try objectName(context, "workload"),
            try int(context.parameters.require("round"), "round", in: 1...roundLimit),
            try int(context.parameters.require("attempt"), "attempt", in: 1...roundLimit)
        )
    }

    static func binary(_ bytes: some Sequence<UInt8>) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
