import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import SovereignServer
import SovereignTesting

/// Live TLS listeners on 127.0.0.1 for the TLS tests: a test CA, its server certificate on disk, and
/// clients that trust what a test says they trust.
struct TLSBench {
    let directory: URL
    let ca: TestCertificateAuthority
    let caFile: String
    let server: (certificate: String, key: String)

    init() throws {
        directory = try Fixtures.temporaryDirectory()
        ca = try TestCertificateAuthority()
        caFile = try ca.write(to: directory)
        server = try ca.issueServer().write(to: directory, name: "server")
    }

    /// The server's TLS files, with the test CA as client CA when `clientCertificates` says so.
    func files(_ clientCertificates: TLSFiles.ClientCertificates = .ignored) -> TLSFiles {
        TLSFiles(certificate: server.certificate, key: server.key, clientCertificates: clientCertificates)
    }

    /// Runs `app` until `body` returns; `body` gets the port it listens on.
    static func serving<App: ApplicationProtocol>(
        _ make: (@escaping @Sendable (any Channel) async -> Void) -> App,
        _ body: (Int) async throws -> Void
    ) async throws {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = make { channel in continuation.yield(channel.localAddress?.port ?? 0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            do {
                try await body(port)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    /// A client that verifies the server against `ca` (nil: the system's trust store) and presents
    /// `certificate` when given.
    static func client(ca: String?, certificate: (certificate: String, key: String)? = nil) throws -> HTTPClient {
        let tls = try TLSContextLoader.clientConfiguration(
            ca: ca,
            certificate: certificate?.certificate,
            key: certificate?.key
        )
        return HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            // A refused handshake is retried until the connect timeout: keep it short so refusals are quick.
            configuration: HTTPClient.Configuration(
                tlsConfiguration: tls,
                redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(2))
            )
        )
    }

    /// One request's status and body; the client is shut down after it (so every call is a new handshake).
    static func call(
        _ client: HTTPClient,
        _ url: String,
        method: HTTPMethod = .GET,
        token: String? = nil,
        body: String? = nil
    ) async throws -> (status: Int, body: String) {
        do {
            var request = HTTPClientRequest(url: url)
            request.method = method
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await client.execute(request, timeout: .seconds(20))
            let answer = try await response.body.collect(upTo: 1 << 20)
            try await client.shutdown()
            return (Int(response.status.code), String(buffer: answer))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
