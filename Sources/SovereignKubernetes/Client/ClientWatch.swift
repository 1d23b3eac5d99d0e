import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The events of one watch of a kind, decoded as their bytes arrive. Made by
/// ``KubernetesClient/watch(_:selector:resourceVersion:timeoutSeconds:)``.
///
/// The request is sent when iteration starts, and lives as long as the iterator: each iteration is its own watch.
public struct WatchSequence<Object: KubernetesObject>: AsyncSequence, Sendable {
    /// Each element is one watch event.
    public typealias Element = WatchEvent<Object>

    let client: KubernetesClient
    let path: String
    let timeout: TimeAmount

    /// Starts iterating (the request goes out on the first `next()`).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(client: client, path: path, timeout: timeout)
    }

    /// Reads the watch response a chunk at a time and hands out each complete event.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: KubernetesClient
        let path: String
        let timeout: TimeAmount
        var body: HTTPClientResponse.Body.AsyncIterator?
        var framer = JSONValueFramer()
        var finished = false

        init(client: KubernetesClient, path: String, timeout: TimeAmount) {
            self.client = client
            self.path = path
            self.timeout = timeout
        }

        /// The next event, or `nil` when the server ended the watch (its timeout passed).
        ///
        /// - Returns: The event.
        /// - Throws: ``KubernetesAPIError`` for an error status or an `ERROR` event (a 410 one is
        ///   ``KubernetesAPIError/isGone``), a malformed body, or a connection dropped inside an event; or a
        ///   transport error.
        public mutating func next() async throws -> WatchEvent<Object>? {
            guard !finished else { return nil }
            do {
                return try await nextEvent()
            } catch {
                finished = true
                throw error
            }
        }

        private var request: String { "GET \(path)" }

        private mutating func nextEvent() async throws -> WatchEvent<Object>? {
            if body == nil {
                let response = try await client.send(.GET, path: path, timeout: timeout)
                guard response.status == .ok else {
                    let bytes = try await response.body.collect(upTo: KubernetesClient.maximumBodyBytes)
                    throw KubernetesAPIError.unexpectedStatus(
                        request: request,
                        expected: "200 with watch events",
                        status: Int(response.status.code),
                        body: Array(bytes.readableBytesView),
                        decode: { try? JSONDecoder().decode(WireStatus.self, from: Data($0)) }
                    )
                }
                body = response.body.makeAsyncIterator()
            }
            while true {
                let value: [UInt8]?
                do {
                    value = try framer.next()
                } catch let error as WireShapeError {
                    throw KubernetesAPIError.malformed(
                        request: request,
                        expected: "watch events",
                        detail: error.message
                    )
                }
                if let value {
                    if let event = try event(from: value) { return event }
                    continue
                }
                guard let chunk = try await body?.next() else {
                    finished = true
                    if framer.holdsPartialValue {
                        throw KubernetesAPIError.malformed(
                            request: request,
                            expected: "watch events",
                            detail: "the connection closed inside an event"
                        )
                    }
                    return nil
                }
                framer.append(chunk.readableBytesView)
            }
        }

        /// The event a JSON value holds; `nil` for a type this client does not know (skipped).
        private func event(from value: [UInt8]) throws -> WatchEvent<Object>? {
            let wire = try client.decode(WireWatchEvent.self, value, request: request, expected: "a WatchEvent")
            func object() throws -> Object {
                try client.decode(
                    WireWatchedObject<Object>.self,
                    value,
                    request: request,
                    expected: "a WatchEvent with a \(Object.kind)"
                ).object
            }
            switch wire.type {
            case "ADDED": return .added(try object())
            case "MODIFIED": return .modified(try object())
            case "DELETED": return .deleted(try object())
            case "BOOKMARK":
                return .bookmark(resourceVersion: wire.object?.metadata?.resourceVersion ?? "")
            case "ERROR":
                throw KubernetesAPIError.watchError(request: request, object: wire.object)
            default:
                client.logger.debug("skipping a watch event of unknown type", metadata: ["event.type": "\(wire.type)"])
                return nil
            }
        }
    }
}

/// Splits a byte stream into top-level JSON objects (or arrays), however the bytes are chunked: the API server
/// sends one compact event per line, but nothing here depends on the newlines.
struct JSONValueFramer {
    private var buffer: [UInt8] = []
    /// How far `buffer` has been scanned; scanning resumes here, so each byte is looked at once.
    private var scanned = 0
    private var start: Int?
    private var depth = 0
    private var inString = false
    private var escaped = false

    /// Whether the bytes so far end inside a value.
    var holdsPartialValue: Bool { start != nil }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete value, or `nil` if more bytes are needed.
    ///
    /// - Throws: `WireShapeError` when a byte outside any value is not whitespace.
    mutating func next() throws -> [UInt8]? {
        while scanned < buffer.count {
            let byte = buffer[scanned]
            defer { scanned += 1 }
            guard start != nil else {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    start = scanned
                    depth = 1
                    continue
                default:
                    throw WireShapeError(message: "expected a JSON object, found byte \(byte) outside one")
                }
            }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0, let first = start {
                    let value = Array(buffer[first...scanned])
                    buffer.removeSubrange(0...scanned)
                    scanned = -1  // the deferred increment makes it 0
                    start = nil
                    return value
                }
            default:
                break
            }
        }
        return nil
    }
}

/// A watch of the cluster's nodes.
public typealias NodeWatchSequence = WatchSequence<KubernetesNode>

/// An iterator belongs to the task that iterates it.
@available(*, unavailable)
extension WatchSequence.AsyncIterator: Sendable {}
