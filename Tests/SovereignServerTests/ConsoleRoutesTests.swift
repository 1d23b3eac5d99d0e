import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SovereignServer
import Testing

/// The console's files: served from the server's own table with strict headers, and nothing else, whatever
/// the path and whoever asks.
struct ConsoleRoutesTests {
    typealias F = ControlFixtures

    static let files = [
        ("/console", "text/html; charset=utf-8"),
        ("/console/", "text/html; charset=utf-8"),
        ("/console/index.html", "text/html; charset=utf-8"),
        ("/console/app.js", "text/javascript; charset=utf-8"),
        ("/console/verify.js", "text/javascript; charset=utf-8"),
        ("/console/console.css", "text/css; charset=utf-8"),
    ]

    static let unknownNames: Set = [
        "/console/openapi.yaml", "/console/ConsoleRoutes.swift", "/console/index.html%00.js",
    ]

    static let tokens: [String?] = [nil, F.readerToken, F.powerToken, F.operatorToken, EventsTests.siteToken]

    static func expectStrictHeaders(_ response: TestResponse, _ uri: String) {
        let policy = response.headers[.contentSecurityPolicy] ?? ""
        #expect(policy.contains("default-src 'self'"), "\(uri)")
        #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "\(uri)")
        #expect(policy.contains("frame-ancestors 'none'"), "\(uri)")
        #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(uri)")
        #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(uri)")
    }

    @Test func theConsoleFilesAreServedWithAStrictPolicy() async throws {
        let (app, _) = try EventsTests.app()
        try await app.test(.router) { client in
            for (uri, type) in Self.files {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri)")
                    #expect(response.headers[.contentType] == type, "\(uri)")
                    #expect(response.body.readableBytes > 0, "\(uri)")
                    Self.expectStrictHeaders(response, uri)
                }
            }
            // The page loads no script of its own inline: every script is a file of the console.
            try await client.execute(uri: "/console/index.html", method: .get) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("<script type=\"module\" src=\"/console/app.js\"></script>"))
                #expect(!page.contains("<script>") && !page.contains("http://") && !page.contains("https://"))
            }
        }
    }

    @Test(arguments: [
        "/console/../openapi.yaml", "/console/%2e%2e/openapi.yaml", "/console/%2e%2e%2fopenapi.yaml",
        "/console/..%2F..%2FPackage.swift", "/console/%2F%2Fetc%2Fpasswd", "/console/..%5c..%5cPackage.swift",
        "/console/index.html%00.js", "/console/.%2fapp.js", "/console/openapi.yaml",
        "/console/../../../../etc/passwd", "/console/%252e%252e%252fetc%252fpasswd", "/console/ConsoleRoutes.swift",
    ])
    func noPathReachesAFileOutsideTheConsole(_ uri: String) async throws {
        let (app, _) = try EventsTests.app()
        try await app.test(.router) { client in
            for token in Self.tokens {
                var headers = HTTPFields()
                if let token { headers[.authorization] = "Bearer \(token)" }
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == .notFound, "\(uri) with \(token ?? "no token")")
                    let body = String(buffer: response.body)
                    #expect(
                        !body.contains("openapi:") && !body.contains("root:") && !body.contains("import "),
                        "\(uri)"
                    )
                    // A name the console's route takes and does not have: its 404 carries the policy too.
                    if Self.unknownNames.contains(uri) { Self.expectStrictHeaders(response, uri) }
                }
            }
        }
    }
}
