import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import SovereignBase

/// A small Kubernetes API client: only the calls Sovereign needs (list and watch any kind it reads; get and
/// patch the labels of nodes) and, for the Job executor, namespaced Jobs, pods, claims and pod logs
/// (`Client+Jobs.swift`).
///
/// It owns an `HTTPClient` on the process-wide event loop group; call ``shutdown()`` when done with it.
public final class KubernetesClient: Sendable {
    let httpClient: HTTPClient
    /// The server URL without a trailing slash; API paths are appended to it.
    let base: String
    let bearerToken: BearerToken?
    let logger: Logger

    /// Most a list page, node or patch response may hold. Real nodes run to tens of KB; 500 of them fit.
    static let maximumBodyBytes = 256 << 20
    /// How long a single non-watch request may take.
    static let requestTimeout = TimeAmount.seconds(60)
    /// Items per page when listing, as client-go's pager does.
    static let pageSize = 500

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - configuration: The server and credentials.
    ///   - logger: Where requests are logged (at debug) and failures (at warning).
    /// - Throws: ``KubernetesConfigurationError`` when the server URL is not http(s) or a PEM does not parse.
    public init(configuration: KubernetesAPIConfiguration, logger: Logger) throws {
        let source = "Kubernetes API configuration"
        try configuration.validate(source: source)
        let tls = try configuration.makeTLSConfiguration(source: source)
        var server = configuration.server
        while server.hasSuffix("/") { server.removeLast() }
        self.base = server
        self.bearerToken = configuration.bearerToken
        self.logger = logger
        self.httpClient = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: HTTPClient.Configuration(
                tlsConfiguration: tls,
                redirectConfiguration: .disallow,
                // No read timeout: a quiet watch can go minutes without a byte (bookmarks are not guaranteed).
                timeout: .init(connect: .seconds(10), read: nil)
            ),
            backgroundActivityLogger: logger
        )
    }

    /// Closes the client's connections. Call it once, after the last request.
    ///
    /// - Throws: What `HTTPClient.shutdown()` throws.
    public func shutdown() async throws {
        try await httpClient.shutdown()
    }

    /// Reads one node.
    ///
    /// - Parameter name: The node's name.
    /// - Returns: The node.
    /// - Throws: ``KubernetesAPIError`` (``KubernetesAPIError/isNotFound`` when there is no such node), or a
    ///   transport error.
    public func getNode(_ name: String) async throws -> KubernetesNode {
        let path = "\(KubernetesNode.collectionPath)/\(Self.percentEncode(name))"
        let body = try await call(.GET, path: path, expected: "200 with a Node")
        return try decode(KubernetesNode.self, body, request: "GET \(path)", expected: "a Node")
    }

    /// Lists the objects of a kind, following `continue` tokens in pages of 500.
    ///
    /// - Parameters:
    ///   - kind: The kind, like `KubernetesNode.self`.
    ///   - selector: Which objects (``ListSelector/everything`` by default).
    /// - Returns: The objects and the list's resource version, where a watch that continues it starts.
    /// - Throws: ``KubernetesAPIError`` or a transport error.
    /// - Complexity: One request per 500 objects.
    public func list<Object: KubernetesObject>(
        _ kind: Object.Type,
        selector: ListSelector = .everything
    ) async throws -> (items: [Object], resourceVersion: String) {
        var items: [Object] = []
        var continueToken: String?
        var resourceVersion = ""
        repeat {
            var query = [("limit", String(Self.pageSize))] + selector.query
            if let continueToken { query.append(("continue", continueToken)) }
            let path = Object.collectionPath + Self.queryString(query)
            let body = try await call(.GET, path: path, expected: "200 with a \(Object.kind)List")
            let list = try decode(
                WireList<Object>.self,
                body,
                request: "GET \(path)",
                expected: "a \(Object.kind)List"
            )
            items += list.items ?? []
            resourceVersion = list.metadata?.resourceVersion ?? resourceVersion
            continueToken = list.metadata?.continue.flatMap { $0.isEmpty ? nil : $0 }
        } while continueToken != nil
        return (items, resourceVersion)
    }

    /// Lists the nodes (see ``list(_:selector:)``).
    ///
    /// - Parameter labelSelector: A label selector (`sovereign.dev/site=nairobi-1`), or `nil` for every node.
    public func listNodes(
        labelSelector: String? = nil
    ) async throws -> (
        nodes: [KubernetesNode], resourceVersion: String
    ) {
        let (nodes, resourceVersion) = try await list(
            KubernetesNode.self,
            selector: ListSelector(labels: labelSelector)
        )
        return (nodes, resourceVersion)
    }

    /// Watches the objects of a kind from a resource version: the events are decoded as their bytes arrive.
    ///
    /// The server ends the watch after about `timeoutSeconds`; the sequence then finishes, and the caller
    /// watches again from the last event's ``WatchEvent/resourceVersion``. The request is sent when iteration
    /// starts; cancelling the iterating task closes it.
    ///
    /// - Parameters:
    ///   - kind: The kind, like `KubernetesNode.self`.
    ///   - selector: Which objects; an object that stops matching arrives as ``WatchEvent/deleted(_:)``.
    ///   - resourceVersion: Where to start, usually a list's resource version.
    ///   - timeoutSeconds: How long the server should keep the watch open.
    /// - Returns: The events. Iterating throws ``KubernetesAPIError`` (``KubernetesAPIError/isGone`` when the
    ///   version is too old: list again) or a transport error.
    public func watch<Object: KubernetesObject>(
        _ kind: Object.Type,
        selector: ListSelector = .everything,
        resourceVersion: String,
        timeoutSeconds: Int = 300
    ) -> WatchSequence<Object> {
        let query =
            [
                ("watch", "1"),
                ("resourceVersion", resourceVersion),
                ("allowWatchBookmarks", "true"),
                ("timeoutSeconds", String(timeoutSeconds)),
            ] + selector.query
        return WatchSequence(
            client: self,
            path: Object.collectionPath + Self.queryString(query),
            timeout: .seconds(Int64(timeoutSeconds) + 60)
        )
    }

    /// Watches the nodes (see ``watch(_:selector:resourceVersion:timeoutSeconds:)``).
    public func watchNodes(resourceVersion: String, timeoutSeconds: Int = 300) -> NodeWatchSequence {
        watch(KubernetesNode.self, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds)
    }

    /// Sets and removes labels of a node with a JSON merge patch, touching no other label.
    ///
    /// The body is `{"metadata":{"labels":{KEY:VALUE,...}}}` with keys sorted, `null` for a removal.
    ///
    /// - Parameters:
    ///   - name: The node's name.
    ///   - labels: The labels to set; a `nil` value removes the label.
    /// - Returns: The node after the patch.
    /// - Throws: ``KubernetesAPIError`` or a transport error.
    @discardableResult
    public func patchNodeLabels(_ name: String, _ labels: [String: String?]) async throws -> KubernetesNode {
        let path = "\(KubernetesNode.collectionPath)/\(Self.percentEncode(name))"
        let entries = labels.sorted { $0.key < $1.key }.map { key, value in
            "\(Self.jsonString(key)):\(value.map(Self.jsonString) ?? "null")"
        }
        let body = #"{"metadata":{"labels":{"# + entries.joined(separator: ",") + "}}}"
        let response = try await call(
            .PATCH,
            path: path,
            body: Array(body.utf8),
            contentType: "application/merge-patch+json",
            expected: "200 with the patched Node"
        )
        return try decode(KubernetesNode.self, response, request: "PATCH \(path)", expected: "the patched Node")
    }
}

// MARK: - Requests

extension KubernetesClient {
    /// Sends a request and returns the response, its body not yet read.
    func send(
        _ method: HTTPMethod,
        path: String,
        body: [UInt8]? = nil,
        contentType: String? = nil,
        timeout: TimeAmount
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "sovereign")
        if let bearerToken {
            request.headers.add(name: "Authorization", value: "Bearer \(try bearerToken.read())")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        logger.debug("kubernetes request", metadata: ["http.method": "\(method.rawValue)", "http.path": "\(path)"])
        return try await httpClient.execute(request, timeout: timeout, logger: logger)
    }

    /// Sends a request, reads the whole body, and throws unless the status is one of `accepting` (200 alone
    /// unless told: a create answers 201, a delete may answer 202).
    func call(
        _ method: HTTPMethod,
        path: String,
        body: [UInt8]? = nil,
        contentType: String? = nil,
        accepting: Set<UInt> = [200],
        expected: String
    ) async throws -> [UInt8] {
        let response = try await send(
            method,
            path: path,
            body: body,
            contentType: contentType,
            timeout: Self.requestTimeout
        )
        let buffer = try await response.body.collect(upTo: Self.maximumBodyBytes)
        let bytes = Array(buffer.readableBytesView)
        guard accepting.contains(response.status.code) else {
            let error = KubernetesAPIError.unexpectedStatus(
                request: "\(method.rawValue) \(path)",
                expected: expected,
                status: Int(response.status.code),
                body: bytes,
                decode: { try? JSONDecoder().decode(WireStatus.self, from: Data($0)) }
            )
            logger.warning("kubernetes request failed", metadata: ["error": "\(error)"])
            throw error
        }
        return bytes
    }

    func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], request: String, expected: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw KubernetesAPIError.malformed(request: request, expected: expected, detail: "\(error)")
        }
    }

    // MARK: Encoding

    static func queryString(_ items: [(String, String)]) -> String {
        items.isEmpty ? "" : "?" + items.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + Hex.encode([byte]).uppercased()
            }
        }
        return out
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, `/` left alone.
    static func jsonString(_ text: String) -> String { JSONString.quoted(text, escapes: .whitespaceNamed) }
}
