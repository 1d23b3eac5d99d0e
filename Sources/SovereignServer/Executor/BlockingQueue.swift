import Dispatch

/// A serial dispatch queue for calls that block (file and process probes, `posix_spawn`): the work blocks
/// one of Dispatch's own threads, never a thread of Swift's cooperative pool, and the caller awaits it.
struct BlockingQueue: Sendable {
    let queue: DispatchQueue

    /// Makes a queue named `label` (seen in debuggers and crash reports).
    init(label: String) { queue = DispatchQueue(label: label) }

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
