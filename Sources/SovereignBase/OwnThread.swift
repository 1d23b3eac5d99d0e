import Foundation

/// Work that blocks (a child process waited for, its pipes read to their end) run on a thread of its own: never
/// one of Swift's cooperative pool, whose few threads (one per core) every `async` task shares, so blocking one
/// stalls unrelated tasks, and never one of Dispatch's, which a busy machine may not schedule in time.
public enum OwnThread: Sendable {
    /// Runs `body` on a new thread named `name` (seen in debuggers and crash reports) and returns what it
    /// returns, or throws what it throws, to the awaiting caller.
    public static func run<T: Sendable, Failure: Error>(
        named name: String,
        _ body: @escaping @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Failure>, Never>) in
            let thread = Thread { continuation.resume(returning: Result { () throws(Failure) in try body() }) }
            thread.name = name
            thread.start()
        }
        return try result.get()
    }
}
