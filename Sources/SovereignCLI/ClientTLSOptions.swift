import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import SovereignServer

/// How a client of `sovereign serve` (an agent, a power replay) verifies the server and proves who it is.
struct ClientTLSOptions: ParsableArguments {
    @Option(
        name: .customLong("ca"),
        help: ArgumentHelp(
            "Verify an https server against this CA (PEM) instead of the system's trust store.",
            valueName: "file"
        )
    )
    var ca: String?

    @Option(
        name: .customLong("client-cert"),
        help: ArgumentHelp("Present this client certificate (mutual TLS; PEM).", valueName: "file")
    )
    var certificate: String?

    @Option(
        name: .customLong("client-key"),
        help: ArgumentHelp("The client certificate's key (PEM).", valueName: "file")
    )
    var key: String?

    /// Whether a client certificate is given (it may then stand in for a token).
    var presentsCertificate: Bool { certificate != nil }

    /// Runs `body` with a client for `url` (see ``makeClient(for:failFast:)``), and shuts the client down
    /// after it.
    func withClient<T>(
        for url: String,
        failFast: Bool = false,
        _ body: (HTTPClient) async throws -> T
    ) async throws -> T {
        let client = try makeClient(for: url, failFast: failFast)
        let result: T
        do {
            result = try await body(client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return result
    }

    /// An HTTP client with these settings, for requests to `url`; warns on stderr when `url` is plain HTTP
    /// to another machine. Shut it down after the last request.
    ///
    /// With `failFast`, a connection that cannot be made fails at once instead of being retried until the
    /// request's deadline (a site agent must notice a partition within its lease).
    ///
    /// - Throws: an exit code after printing which file or option is wrong.
    func makeClient(for url: String, failFast: Bool = false) throws -> HTTPClient {
        if let warning = Self.plainTextWarning(for: url) { printError(warning) }
        if (certificate == nil) != (key == nil) {
            printError(
                certificate == nil
                    ? "--client-key: expected --client-cert with it, found none"
                    : "--client-cert: expected --client-key with it, found none"
            )
            throw ExitCode.validationFailure
        }
        let tls: TLSConfiguration
        do {
            tls = try TLSContextLoader.clientConfiguration(ca: ca, certificate: certificate, key: key)
        } catch let error as TLSFileError {
            printError(error.description)
            throw ExitCode.failure
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        if failFast {
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.timeout.connect = .seconds(5)
        }
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// A warning for `http://` to a host that is not this machine: tokens and data would cross the network
    /// in the clear.
    static func plainTextWarning(for url: String) -> String? {
        guard let parsed = URL(string: url), parsed.scheme?.lowercased() == "http", let host = parsed.host else {
            return nil
        }
        let loopback = host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
        guard !loopback else { return nil }
        return
            "warning: \(url) is plain HTTP to another machine: the token and everything sent cross the network unencrypted; use https:// (and --ca)"
    }
}
