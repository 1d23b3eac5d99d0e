import Dispatch

/// A dispatch queue for calls that block (file and process probes, `posix_spawn`, the relay's chunk files):
/// the work blocks one of Dispatch's own threads, never a thread of Swift's cooperative pool, and the caller
/// awaits it. Serial unless made concurrent (for calls that touch different files).
struct BlockingQueue: Sendable {
    let queue: DispatchQueue

    /// Makes a queue named `label` (seen in debuggers and crash reports), serial unless `concurrent`.
    init(label: String, concurrent: Bool = false) {
        queue = DispatchQueue(label: label, attributes: concurrent ? .concurrent : [])
    }

    /// Runs `body` on the queue and returns what it returns.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }

    /// Runs `body` on the queue and returns what it returns or throws what it throws.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
