import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SovereignKubernetes
import Synchronization

/// The recorded API responses under `Fixtures/api`.
enum APIFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/api").path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func bytes(_ name: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(name)) else {
            throw FixtureMissing(name: name)
        }
        return [UInt8](data)
    }

    struct FixtureMissing: Error { let name: String }
}

/// A request the fake API server received.
struct RecordedRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    var contentType: String?
    var authorization: String?
    var body: String
}

/// What the fake API server answers.
enum FakeReply: Sendable {
    /// A body written `chunkSize` bytes at a time (each chunk flushed as its own HTTP chunk).
    case bytes(status: Int, [UInt8], chunkSize: Int = 1 << 20)
    /// A 200 that sends nothing and stays open until the server stops (a quiet watch).
    case hang

    static func fixture(_ name: String, status: Int = 200, chunkSize: Int = 1 << 20) throws -> Self {
        .bytes(status: status, try APIFixtures.bytes(name), chunkSize: chunkSize)
    }
}

/// An API server on 127.0.0.1 that records every request and answers what the test's handler says.
final class FakeAPIServer: Sendable {
    private let recorded = Mutex<[RecordedRequest]>([])
    private let handler: @Sendable (RecordedRequest, Int) throws -> FakeReply
    let stopping = Atomic<Bool>(false)

    /// - Parameter handler: Given the request and how many requests came before it.
    init(handler: @escaping @Sendable (RecordedRequest, Int) throws -> FakeReply) {
        self.handler = handler
    }

    var requests: [RecordedRequest] { recorded.withLock { $0 } }

    func respond(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        var query: [String: String] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).removingPercentEncoding ?? String($0)
            }
            query[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        let record = RecordedRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            query: query,
            contentType: request.headers[.contentType],
            authorization: request.headers[.authorization],
            body: String(buffer: body)
        )
        let index = recorded.withLock { all in
            all.append(record)
            return all.count - 1
        }
        let reply = try handler(record, index)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        switch reply {
        case .bytes(let status, let bytes, let chunkSize):
            let chunks = stride(from: 0, to: bytes.count, by: max(1, chunkSize)).map {
                ByteBuffer(bytes: bytes[$0..<min($0 + chunkSize, bytes.count)])
            }
            return Response(
                status: .init(code: status),
                headers: headers,
                body: ResponseBody { writer in
                    for chunk in chunks { try await writer.write(chunk) }
                    try await writer.finish(nil)
                }
            )
        case .hang:
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { [self] writer in
                    while !stopping.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(20)) }
                    try await writer.finish(nil)
                }
            )
        }
    }
}

extension FakeAPIServer {
    /// Runs `body` with this server listening on 127.0.0.1 (a free port) and a client pointed at it.
    func serve(bearerToken: BearerToken? = nil, _ body: (KubernetesClient) async throws -> Void) async throws {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { [self] request, _ in try await respond(request) },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: Logger(label: "fake-api-server", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            let client = try KubernetesClient(
                configuration: KubernetesAPIConfiguration(server: "http://127.0.0.1:\(port)", bearerToken: bearerToken),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            let outcome: Result<Void, any Error>
            do {
                try await body(client)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            stopping.store(true, ordering: .relaxed)
            try await client.shutdown()
            group.cancelAll()
            try outcome.get()
        }
    }
}

/// Log records kept in memory, for assertions on what was logged.
final class LogRecorder: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    var all: [Record] { records.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(recorder: self) }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            recorder.records.withLock {
                $0.append(
                    Record(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" })
                )
            }
        }
    }
}

/// Polls until `condition` holds (the tests' only waiting: no timing assertions, the time limit bounds it).
func eventually(_ condition: () -> Bool) async throws {
    while !condition() {
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// A lock-protected value that closures can share (a `Mutex` itself cannot be captured: it is not copyable).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}

/// A logger that drops everything, for tests that assert nothing about logs.
let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
