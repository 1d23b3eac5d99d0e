import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import SovereignServer
import SovereignTesting
import Testing

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

    /// Serves `router` over TLS from `tls` on 127.0.0.1 until `body` returns; `body` gets the port.
    static func serving<Routes: HTTPResponderBuilder>(
        _ router: Routes,
        tls: ReloadingTLSContext,
        _ body: (Int) async throws -> Void
    ) async throws where Routes.Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        try await serving(
            { onPort, logger in
                Application(
                    router: router,
                    server: .http1(tls: tls),
                    configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { channel in onPort(channel.localAddress?.port ?? 0) },
                    logger: logger
                )
            },
            body
        )
    }

    /// Runs the service `make` returns until `body` returns; `body` gets the port it reported.
    static func serving(
        _ make: (_ onPort: @escaping @Sendable (Int) -> Void, _ logger: Logger) -> any Service,
        _ body: (Int) async throws -> Void
    ) async throws {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let logger = Logger(label: "tls-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let service = make({ continuation.yield($0) }, logger)
        // Stopped gracefully (the listener closes first), never cancelled under a connection being accepted.
        let services = ServiceGroup(configuration: .init(services: [service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            let outcome: Result<Void, any Error>
            do {
                try await body(port)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            try outcome.get()
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
            configuration: configuration(tls)
        )
    }

    /// No retry of a failed connection: a refused handshake fails the request at once with TLS's own error
    /// (instead of a connect timeout after retries), so a test can tell a refusal from a slow machine.
    static func configuration(_ tls: TLSConfiguration) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(30))
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// Expects `call` to be refused during the connection (a TLS or connection error), not to time out.
    static func expectRefused(
        _ call: () async throws -> (status: Int, body: String),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        do {
            let answer = try await call()
            Issue.record(
                "expected a refused connection, found \(answer.status) \(answer.body)",
                sourceLocation: sourceLocation
            )
        } catch {
            #expect((error as? HTTPClientError) != .connectTimeout, "\(error)", sourceLocation: sourceLocation)
            #expect((error as? HTTPClientError) != .deadlineExceeded, "\(error)", sourceLocation: sourceLocation)
        }
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
            // A deadline for a hung server, not a speed test: on 2 cores shared with builds, a fresh
            // handshake and its request have taken over 20 s in the full suite.
            let response = try await client.execute(request, timeout: .seconds(90))
            let answer = try await response.body.collect(upTo: 1 << 20)
            try await client.shutdown()
            return (Int(response.status.code), String(buffer: answer))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
