import Dispatch

/// A serial executor on a dispatch queue of its own, for an actor whose work blocks: the control plane's
/// SQLite transactions. Its jobs run one at a time on a Dispatch thread, so a blocking call holds that
/// thread and never one of the few threads of Swift's cooperative pool (GRDB's own asynchronous access
/// does the same with its writer queue).
final class DispatchSerialExecutor: SerialExecutor {
    let queue: DispatchQueue

    /// Makes an executor on a new serial queue named `label`.
    init(label: String) { queue = DispatchQueue(label: label) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }
}
