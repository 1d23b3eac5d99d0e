import AsyncHTTPClient
import Foundation
import NIOHTTP1
import SovereignTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sovereign serve` with TLS, and the clients' TLS options, through the real binary.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ServeTLSTests {
    @Test func unusableCertificatesStopTheServerBeforeItTouchesAnything() async throws {
        let dir = try Fixtures.temporaryDirectory()
        let ca = try TestCertificateAuthority()
        let server = try ca.issueServer().write(to: dir, name: "server")
        let other = try ca.issueServer().write(to: dir, name: "other")
        let db = dir.appendingPathComponent("state.sqlite").path
        let missing = dir.appendingPathComponent("missing.crt").path
        let cases: [([String], Int32, String)] = [
            (
                ["--tls-cert", missing, "--tls-key", server.key], 1,
                "\(missing): error: --tls-cert: expected a PEM certificate file (-----BEGIN CERTIFICATE-----), found no such file\n"
            ),
            (
                ["--tls-cert", server.certificate, "--tls-key", other.key], 1,
                "\(other.key): error: --tls-key: expected the private key of the certificate in \(server.certificate) (CN=sovereign test server), found the key of another certificate\n"
            ),
            (["--tls-cert", server.certificate], 64, "--tls-cert: expected --tls-key with it, found none\n"),
            (
                ["--client-ca", server.certificate], 64,
                "--client-ca: expected --tls-cert and --tls-key with it, found none\n"
            ),
        ]
        for (options, status, message) in cases {
            let run = try await CLITests.run(
                ["serve", "Examples/east-africa", "--db", db, "--listen", "127.0.0.1:0"] + options
            )
            #expect(run.status == status, "\(options)")
            #expect(run.stderr == message, "\(options)")
            #expect(!FileManager.default.fileExists(atPath: db), "\(options)")
        }
    }

    @Test func aSIGHUPServesTheRenewedCertificateWithoutARestart() async throws {
        let dir = try Fixtures.temporaryDirectory()
        let first = try TestCertificateAuthority(name: "first CA")
        let second = try TestCertificateAuthority(name: "second CA")
        let firstCA = try first.write(to: dir, name: "first")
        let secondCA = try second.write(to: dir, name: "second")
        let files = try first.issueServer().write(to: dir, name: "server")
        let db = dir.appendingPathComponent("state.sqlite").path
        let server = try ServeTests.Server(
            db: db,
            options: ["--tls-cert", files.certificate, "--tls-key", files.key],
            ca: firstCA
        )
        defer { server.stop() }
        #expect(server.url.hasPrefix("https://127.0.0.1:"))
        #expect(try await server.request(.GET, "/v1/workloads").0 == 200)
        let renewed = try second.issueServer()
        try renewed.privateKeyPEM.write(toFile: files.key, atomically: true, encoding: .utf8)
        try renewed.certificatePEM.write(toFile: files.certificate, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        try await server.wait("the renewed certificate to serve", seconds: 30) {
            let answer = try? await ServeTests.fetch(
                .GET,
                server.url + "/v1/workloads",
                token: server.token,
                ca: secondCA
            )
            return answer?.0 == 200
        }
        #expect(server.process.isRunning)
        // The first CA no longer vouches for what the server presents.
        do {
            let answer = try await server.request(.GET, "/v1/workloads")
            Issue.record("expected the old CA's client to refuse the renewed certificate, found \(answer.0)")
        } catch {
            #expect((error as? HTTPClientError) != .connectTimeout, "\(error)")
        }
    }

    @Test func clientsWarnOfPlainHTTPToAnotherMachineAndNameABadCA() async throws {
        let dir = try Fixtures.temporaryDirectory()
        let trace = dir.appendingPathComponent("trace.csv")
        try "time,power_kw\n2026-11-22T10:00:00Z,100\n".write(to: trace, atomically: true, encoding: .utf8)
        let tokens = dir.appendingPathComponent("tokens")
        try "op-0123456789abcdef0123 operator\n".write(to: tokens, atomically: true, encoding: .utf8)
        func replay(_ url: String, _ options: [String] = []) async throws -> CLITests.Run {
            // --limit 0 sends nothing: only what the command says before it would connect is seen.
            try await CLITests.run(
                ["power", "replay", "nairobi-1", trace.path, "--to", url, "--token-file", tokens.path, "--limit", "0"]
                    + options
            )
        }
        let remote = try await replay("http://sovereign.example:8080")
        #expect(remote.status == 0)
        #expect(
            remote.stderr.hasPrefix(
                "warning: http://sovereign.example:8080 is plain HTTP to another machine: the token and everything sent cross the network unencrypted; use https:// (and --ca)\n"
            ),
            "\(remote.stderr)"
        )
        let local = try await replay("http://127.0.0.1:8080")
        #expect(local.stderr == "sent 0 power signals to nairobi-1\n")
        let missing = dir.appendingPathComponent("missing-ca.pem").path
        let badCA = try await replay("https://sovereign.example:8443", ["--ca", missing])
        #expect(badCA.status == 1)
        #expect(
            badCA.stderr
                == "\(missing): error: --ca: expected a PEM certificate file (-----BEGIN CERTIFICATE-----), found no such file\n"
        )
    }
}
