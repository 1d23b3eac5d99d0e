import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import SovereignFederation
import SovereignServer
import SovereignTesting
import Testing
import X509

/// The API over TLS on 127.0.0.1, with a CA made by the test: HTTPS answers, clients verify the server,
/// site agents may authenticate with a client certificate instead of a token (for their own site only),
/// and a renewed certificate serves without a restart.
@Suite(.timeLimit(.minutes(5)))
struct TLSTests {
    typealias F = ControlFixtures

    static func token(_ site: String) -> String { FederationAPITests.token(site) }

    /// Serves the federation fleet's API over TLS from `tls` until `body` returns.
    static func serving(tls: ReloadingTLSContext, _ body: (String) async throws -> Void) async throws {
        let h = try F.harness(fleetText: FederationTests.fleet(rounds: 1, secure: false))
        var text = "\(F.operatorToken) operator\n\(F.readerToken) reader\n"
        for (site, _) in FederationTests.sites { text += "\(token(site)) site \(site)\n" }
        let tokens = try TokenStore(text: text, file: "tokens")
        let sites: Set<String>? = tls.files.clientCAFile == nil ? nil : Set(FederationTests.sites.map(\.0))
        let router = SovereignServer.router(
            plane: h.plane,
            federation: h.coordinator(),
            tokens: tokens,
            certificateSites: sites
        )
        try await TLSBench.serving(router, tls: tls) { port in try await body("https://127.0.0.1:\(port)") }
    }

    @Test func theAPIAnswersOverTLSAndAClientWithoutTheCARefusesTheServer() async throws {
        let bench = try TLSBench()
        try await Self.serving(tls: ReloadingTLSContext(files: bench.files())) { url in
            let health = try await TLSBench.call(TLSBench.client(ca: bench.caFile), url + "/healthz")
            #expect(health.status == 200)
            let workloads = try await TLSBench.call(
                TLSBench.client(ca: bench.caFile),
                url + "/v1/workloads",
                token: F.readerToken
            )
            #expect(workloads.status == 200)
            #expect(workloads.body.hasPrefix(#"{"workloads":"#))
            // The system's trust store does not know the test CA.
            await TLSBench.expectRefused {
                try await TLSBench.call(TLSBench.client(ca: nil), url + "/healthz")
            }
            // Plain HTTP is not served on a TLS listener.
            await TLSBench.expectRefused {
                try await TLSBench.call(
                    TLSBench.client(ca: nil),
                    url.replacingOccurrences(of: "https", with: "http") + "/healthz"
                )
            }
        }
    }

    @Test func aSiteCertificateActsForItsOwnSiteOnly() async throws {
        let bench = try TLSBench()
        let dar = try bench.ca.issueSite("dar-1").write(to: bench.directory, name: "dar-1")
        let stranger = try bench.ca.issueSite("lagos-1").write(to: bench.directory, name: "lagos-1")
        let tls = try ReloadingTLSContext(files: bench.files(.optional(caFile: bench.caFile)))
        try await Self.serving(tls: tls) { url in
            // The other two sites poll with their tokens, dar-1 with its certificate alone.
            for site in ["nairobi-1", "kampala-1"] {
                let polled = try await TLSBench.call(
                    TLSBench.client(ca: bench.caFile),
                    url + "/v1/federation/tasks",
                    token: Self.token(site)
                )
                #expect(polled.status == 200)
            }
            let tasks = try await TLSBench.call(
                TLSBench.client(ca: bench.caFile, certificate: dar),
                url + "/v1/federation/tasks"
            )
            #expect(tasks.status == 200, "\(tasks.body)")
            let list = try JSONDecoder().decode(FederationTaskList.self, from: Data(tasks.body.utf8))
            #expect(list.tasks.map(\.dataset) == ["tz-notes"], "dar-1's own dataset: \(tasks.body)")
            // Nowhere else: not the reader routes, not another site's power.
            for (method, path) in [(HTTPMethod.GET, "/v1/workloads"), (.PUT, "/v1/sites/nairobi-1/power")] {
                let refused = try await TLSBench.call(
                    TLSBench.client(ca: bench.caFile, certificate: dar),
                    url + path,
                    method: method,
                    body: method == .PUT ? #"{"available": 1000}"# : nil
                )
                #expect(refused.status == 403, "\(path): \(refused.body)")
                #expect(refused.body.contains("found the client certificate of site dar-1"), "\(refused.body)")
            }
            // A certificate naming a site outside the fleet is no credential.
            let unknown = try await TLSBench.call(
                TLSBench.client(ca: bench.caFile, certificate: stranger),
                url + "/v1/federation/tasks"
            )
            #expect(unknown.status == 401, "\(unknown.body)")
            // Tokens keep working without any client certificate.
            let reader = try await TLSBench.call(
                TLSBench.client(ca: bench.caFile),
                url + "/v1/workloads",
                token: F.readerToken
            )
            #expect(reader.status == 200)
        }
    }

    @Test func aClientCertificateFromAnotherCAIsRefused() async throws {
        let bench = try TLSBench()
        let other = try TestCertificateAuthority(name: "someone else's CA")
        let forged = try other.issueSite("dar-1").write(to: bench.directory, name: "forged")
        let tls = try ReloadingTLSContext(files: bench.files(.optional(caFile: bench.caFile)))
        try await Self.serving(tls: tls) { url in
            await TLSBench.expectRefused {
                try await TLSBench.call(
                    TLSBench.client(ca: bench.caFile, certificate: forged),
                    url + "/v1/federation/tasks"
                )
            }
        }
        // Without a client CA on the listener, a certificate means nothing: a site still needs its token.
        let own = try bench.ca.issueSite("dar-1").write(to: bench.directory, name: "dar-1")
        try await Self.serving(tls: ReloadingTLSContext(files: bench.files())) { url in
            let ignored = try await TLSBench.call(
                TLSBench.client(ca: bench.caFile, certificate: own),
                url + "/v1/federation/tasks"
            )
            #expect(ignored.status == 401)
        }
    }

    @Test func aRenewedCertificateServesFromTheNextHandshakeAndABadRenewalIsRefused() async throws {
        let bench = try TLSBench()
        let tls = try ReloadingTLSContext(files: bench.files())
        let renewedCA = try TestCertificateAuthority(name: "renewed CA")
        let renewedCAFile = try renewedCA.write(to: bench.directory, name: "renewed-ca")
        try await Self.serving(tls: tls) { url in
            await TLSBench.expectRefused {
                try await TLSBench.call(TLSBench.client(ca: renewedCAFile), url + "/healthz")
            }
            #expect(try tls.reloadIfChanged() == false)
            // A key written before its certificate: refused, and the certificate in use stays.
            let renewed = try renewedCA.issueServer()
            try renewed.privateKeyPEM.write(toFile: bench.server.key, atomically: true, encoding: .utf8)
            #expect(throws: TLSFileError.self) { try tls.reloadIfChanged() }
            #expect(try await TLSBench.call(TLSBench.client(ca: bench.caFile), url + "/healthz").status == 200)
            // Then the certificate: the renewal serves from the next handshake.
            try renewed.certificatePEM.write(toFile: bench.server.certificate, atomically: true, encoding: .utf8)
            #expect(try tls.reloadIfChanged() == true)
            #expect(try await TLSBench.call(TLSBench.client(ca: renewedCAFile), url + "/healthz").status == 200)
            await TLSBench.expectRefused {
                try await TLSBench.call(TLSBench.client(ca: bench.caFile), url + "/healthz")
            }
        }
    }

    @Test func unusableFilesAreNamedWithWhatWasExpected() throws {
        let bench = try TLSBench()
        let other = try bench.ca.issueServer().write(to: bench.directory, name: "other")
        let garbage = bench.directory.appendingPathComponent("garbage.pem").path
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let missing = bench.directory.appendingPathComponent("missing.pem").path
        let cases: [(TLSFiles, String, String)] = [
            (
                TLSFiles(certificate: missing, key: bench.server.key), missing,
                "--tls-cert: expected a PEM certificate file (-----BEGIN CERTIFICATE-----), found no such file"
            ),
            (
                TLSFiles(certificate: garbage, key: bench.server.key), garbage,
                "--tls-cert: expected a PEM certificate file (-----BEGIN CERTIFICATE-----), found"
            ),
            (
                TLSFiles(certificate: bench.server.certificate, key: missing), missing,
                "--tls-key: expected a PEM private key (PKCS#8, EC or RSA), found no such file"
            ),
            (
                TLSFiles(certificate: bench.server.certificate, key: garbage), garbage,
                "--tls-key: expected a PEM private key (PKCS#8, EC or RSA), found text that is not one"
            ),
            (
                TLSFiles(certificate: bench.server.certificate, key: other.key), other.key,
                "--tls-key: expected the private key of the certificate in \(bench.server.certificate)"
            ),
            (
                bench.files(.optional(caFile: missing)), missing,
                "--client-ca: expected a PEM certificate file (-----BEGIN CERTIFICATE-----), found no such file"
            ),
        ]
        for (files, file, message) in cases {
            let error = try #require(throws: TLSFileError.self) { try ReloadingTLSContext(files: files) }
            #expect(error.file == file)
            #expect(error.description.hasPrefix("\(file): error: \(message)"), "\(error)")
        }
    }

    @Test func tokenFingerprintsAreKeyedAndStablePerServerSecret() throws {
        let secret = SymmetricKey(size: .bits256)
        let text = "\(F.operatorToken) operator\n"
        let one = try TokenStore(text: text, file: "tokens", fingerprintKey: secret)
        let again = try TokenStore(text: text, file: "tokens", fingerprintKey: secret)
        let otherServer = try TokenStore(text: text, file: "tokens", fingerprintKey: SymmetricKey(size: .bits256))
        let fingerprint = try #require(one.authenticate(F.operatorToken)?.fingerprint)
        #expect(fingerprint.hasPrefix("token:") && fingerprint.count == "token:".count + 12)
        #expect(again.authenticate(F.operatorToken)?.fingerprint == fingerprint)
        #expect(otherServer.authenticate(F.operatorToken)?.fingerprint != fingerprint)
        // A reader of the ledger cannot test a guess by hashing it.
        let plain =
            "token:"
            + SHA256.hash(data: Data(F.operatorToken.utf8)).prefix(6)
            .map { String(format: "%02x", $0) }.joined()
        #expect(fingerprint != plain)
    }

    @Test func theExtenderServesHTTPSAndCanRequireTheSchedulersCertificate() async throws {
        let bench = try TLSBench()
        let scheduler = try bench.ca.issueClient(commonName: "kube-scheduler", names: [])
            .write(to: bench.directory, name: "scheduler")
        let routes = try ExtenderRoutesTests().routes()
        let tls = try ReloadingTLSContext(files: bench.files(.required(caFile: bench.caFile)))
        let serve = { (onPort: @escaping @Sendable (Int) -> Void, logger: Logger) in
            routes.service(host: "127.0.0.1", port: 0, tls: tls, logger: logger, onListening: onPort)
        }
        try await TLSBench.serving(serve) { port in
            let url = "https://127.0.0.1:\(port)/scheduler/filter"
            let reply = try await TLSBench.call(
                TLSBench.client(ca: bench.caFile, certificate: scheduler),
                url,
                method: .POST,
                body: ExtenderRoutesTests.body
            )
            #expect(reply.status == 200)
            #expect(reply.body.contains(#""NodeNames":["gpu-1"]"#), "\(reply.body)")
            // kube-scheduler without its tlsConfig certFile/keyFile is refused at the handshake.
            await TLSBench.expectRefused {
                try await TLSBench.call(
                    TLSBench.client(ca: bench.caFile),
                    url,
                    method: .POST,
                    body: ExtenderRoutesTests.body
                )
            }
        }
    }
}
