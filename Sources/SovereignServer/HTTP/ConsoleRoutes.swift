import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console: a web page, served at `/console/`, that reads the same `/v1` API as every other client (with
/// the token the user gives it) and follows `GET /v1/events`.
///
/// Its files are read once, from the server's own resources, into a table by name; a request only ever
/// looks a name up in that table, so nothing a client sends becomes a path the server opens.
enum ConsoleRoutes {
    /// One file of the console, held in memory.
    struct Asset: Sendable {
        let bytes: ByteBuffer
        let type: String
    }

    /// Every response under `/console` carries these: no script but the console's own files, no framing.
    static let securityHeaders: [(HTTPField.Name, String)] = [
        (
            .contentSecurityPolicy,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
        (.cacheControl, "no-cache"),
    ]

    /// The console's files, by name (`index.html`, `app.js`, ...).
    static let assets: [String: Asset] = load()

    static let types = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
    ]

    /// Reads the resource directory `console` (flat: a file's name is its URL).
    static func load() -> [String: Asset] {
        guard let directory = Bundle.module.url(forResource: "console", withExtension: nil),
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else { return [:] }
        var assets: [String: Asset] = [:]
        for name in names {
            let url = directory.appendingPathComponent(name)
            guard let type = types[url.pathExtension], let data = FileManager.default.contents(atPath: url.path)
            else { continue }
            assets[name] = Asset(bytes: ByteBuffer(bytes: data), type: type)
        }
        return assets
    }

    /// `/console` and `/console/` (the page; the router takes them for one path) and `/console/NAME` (its
    /// files, which the page names by absolute path so that it works at either).
    static func register(on router: Router<some RequestContext>) {
        router.get("/console") { _, _ in asset(named: "index.html") }
        router.get("/console/{asset}") { _, context in
            asset(named: context.parameters.get("asset") ?? "")
        }
    }

    /// The named file, or a 404 that names nothing of the server's.
    static func asset(named name: String) -> Response {
        guard let asset = assets[name] else {
            let body = ByteBuffer(string: "no console file named \"\(name.prefix(80))\"\n")
            return answer(.notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
        }
        return answer(.ok, headers: [.contentType: asset.type], body: asset.bytes)
    }

    static func answer(_ status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) -> Response {
        var fields = headers
        for (name, value) in securityHeaders { fields[name] = value }
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }
}
