public import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import SovereignCheckpoint

/// What a site agent started with `--peer-listen` serves to other agents: the checkpoints the control plane
/// told it to send directly (`checkpointTransit: direct`), at the same paths as the relay's `GET`s, so the
/// destination reads them the same way. Only a destination presenting the transfer's secret (which the
/// control plane gives to both ends) gets anything; any other request is a 404, whether the transfer is
/// unknown or the secret wrong. What it serves is the signed offer and ciphertext sealed for the destination's
/// key, chunk by chunk, never the checkpoint's plaintext.
public enum PeerListener: Sendable {
    /// The listener's routes, over `courier`'s served checkpoints.
    public static func router(_ courier: CheckpointCourier) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1/transfers/:transfer/offer") { request, context -> Response in
            let (offer, _) = try await served(request, context, courier)
            let body = try JSONEncoder().encode(offer)
            return response(body, type: "application/json")
        }
        router.get("/v1/transfers/:transfer/chunks/:chunk") { request, context -> Response in
            let (_, sender) = try await served(request, context, courier)
            guard let raw = context.parameters.get("chunk"), let index = Int(raw), index >= 0 else {
                throw HTTPError(.badRequest, message: "expected chunk to be a whole number of 0 or more")
            }
            do {
                return response(try sender.chunk(index), type: "application/octet-stream")
            } catch {
                throw HTTPError(.notFound, message: "\(error)")
            }
        }
        return router
    }

    /// The transfer the request names, when it presents its secret.
    static func served(
        _ request: Request,
        _ context: BasicRequestContext,
        _ courier: CheckpointCourier
    ) async throws -> (SignedOffer, CheckpointSender) {
        let transfer = context.parameters.get("transfer") ?? ""
        let bearer = request.headers[.authorization].flatMap { value in
            value.hasPrefix("Bearer ") ? String(value.dropFirst(7)) : nil
        }
        guard let bearer, let served = await courier.served(transfer, secret: bearer) else {
            throw HTTPError(.notFound, message: "no checkpoint served here for this transfer and secret")
        }
        return served
    }

    static func response(_ body: Data, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Serves `courier`'s checkpoints on `host:port` until cancelled (or SIGTERM), telling `onListening`
    /// the port it bound.
    public static func run(
        _ courier: CheckpointCourier,
        host: String,
        port: Int,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws {
        let app = Application(
            router: router(courier),
            configuration: .init(address: .hostname(host, port: port), serverName: "sovereign-site-agent"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: Logger(label: "sovereign.peer-listener")
        )
        try await app.runService()
    }
}
