public import Logging
import Synchronization

/// Keeps Sovereign's own node labels (``managedKeys``) equal to what `desired` says, so that kube-scheduler
/// requeues pending pods when a site's power or thermal state changes.
///
/// Each pass compares every cached node with `desired(node)` and patches only the managed keys whose values
/// differ (a managed key `desired` leaves out is removed); it never touches any other label. A pass runs when
/// the watcher's cache changes and when ``refresh()`` is called; failed patches are retried with backoff.
public final class NodeLabeller: Sendable {
    /// The labels the labeller writes. Keys `desired` returns outside this set are ignored.
    public static let managedKeys: Set<String> = [
        KubernetesLabels.powerState, KubernetesLabels.thermalState, KubernetesLabels.retry,
    ]

    private let client: KubernetesClient
    private let watcher: NodeWatcher
    private let logger: Logger
    private let retry: KubernetesRetryPolicy
    private let maximumConcurrentPatches: Int
    private let desired: @Sendable (KubernetesNode) -> [String: String]?
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let sent = Atomic<Int>(0)
    private let failed = Atomic<Int>(0)

    /// Creates a labeller over a watcher's cache.
    ///
    /// - Parameters:
    ///   - client: The API client the patches go through.
    ///   - watcher: The node cache; its changes trigger a pass.
    ///   - logger: Where every label change (`node.name`, `label.key`, `label.value`) and failure is logged.
    ///   - retry: How long to wait after a pass with failed patches.
    ///   - maximumConcurrentPatches: How many patches may be in flight at once.
    ///   - desired: The managed labels a node should carry, or `nil` to leave the node alone.
    public init(
        client: KubernetesClient,
        watcher: NodeWatcher,
        logger: Logger,
        retry: KubernetesRetryPolicy = .standard,
        maximumConcurrentPatches: Int = 8,
        desired: @escaping @Sendable (KubernetesNode) -> [String: String]?
    ) {
        self.client = client
        self.watcher = watcher
        self.logger = logger
        self.retry = retry
        self.maximumConcurrentPatches = max(1, maximumConcurrentPatches)
        self.desired = desired
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wakeups = wakeups
        self.wake = wake
        watcher.addObserver { wake.yield() }
    }

    /// Asks for a pass soon (e.g. after a reconcile changed a site's power or thermal state). Never blocks;
    /// requests made while a pass runs are merged into one more pass.
    public func refresh() {
        wake.yield()
    }

    /// PATCH requests sent so far.
    public var patchesSent: Int { sent.load(ordering: .relaxed) }
    /// PATCH requests that failed so far.
    public var patchesFailed: Int { failed.load(ordering: .relaxed) }

    /// Runs a pass at once, then one per change or ``refresh()``, until the task is cancelled. Run one at a time.
    ///
    /// - Throws: Nothing today; failures are logged and retried. Declared `throws` for `Service`.
    public func run() async throws {
        var failures = 0
        var iterator = wakeups.makeAsyncIterator()
        while !Task.isCancelled {
            if await pass() {
                failures = 0
                guard await iterator.next() != nil else { return }
            } else {
                failures += 1
                do {
                    try await Task.sleep(for: retry.delay(afterFailures: failures))
                } catch {
                    return
                }
            }
        }
    }

    /// The patch that brings a node's managed labels to `want`: differing keys only, `nil` to remove.
    static func patch(for node: KubernetesNode, want: [String: String]) -> [String: String?] {
        var patch: [String: String?] = [:]
        for key in managedKeys {
            let value = want[key]
            if node.labels[key] != value { patch.updateValue(value, forKey: key) }
        }
        return patch
    }

    /// One pass over the cache.
    ///
    /// - Returns: Whether every patch succeeded (a node deleted meanwhile counts as done).
    private func pass() async -> Bool {
        var work: [(node: KubernetesNode, patch: [String: String?])] = []
        for node in watcher.nodes {
            guard let want = desired(node) else { continue }
            let ignored = want.keys.filter { !Self.managedKeys.contains($0) }
            if !ignored.isEmpty {
                logger.debug(
                    "ignoring labels the labeller does not manage",
                    metadata: ["node.name": "\(node.name)", "label.keys": "\(ignored.sorted())"]
                )
            }
            let patch = Self.patch(for: node, want: want)
            if !patch.isEmpty { work.append((node, patch)) }
        }
        guard !work.isEmpty else { return true }
        return await withTaskGroup(of: Bool.self) { group in
            var allSucceeded = true
            var inFlight = 0
            for item in work {
                if inFlight == maximumConcurrentPatches, let succeeded = await group.next() {
                    allSucceeded = allSucceeded && succeeded
                    inFlight -= 1
                }
                group.addTask { await self.send(item.patch, to: item.node) }
                inFlight += 1
            }
            for await succeeded in group { allSucceeded = allSucceeded && succeeded }
            return allSucceeded
        }
    }

    private func send(_ patch: [String: String?], to node: KubernetesNode) async -> Bool {
        sent.add(1, ordering: .relaxed)
        do {
            let updated = try await client.patchNodeLabels(node.name, patch)
            for (key, value) in patch.sorted(by: { $0.key < $1.key }) {
                logger.info(
                    value == nil ? "removed node label" : "set node label",
                    metadata: [
                        "node.name": "\(node.name)",
                        "label.key": "\(key)",
                        "label.value": "\(value ?? "")",
                        "label.previous": "\(node.labels[key] ?? "")",
                    ]
                )
            }
            watcher.update(updated)
            return true
        } catch let error as KubernetesAPIError where error.isNotFound {
            failed.add(1, ordering: .relaxed)
            logger.info("node gone before its labels were patched", metadata: ["node.name": "\(node.name)"])
            return true
        } catch {
            // Shutting down is not a failed patch.
            if Task.isCancelled { return false }
            failed.add(1, ordering: .relaxed)
            logger.warning(
                "patching node labels failed",
                metadata: ["node.name": "\(node.name)", "error": "\(error)"]
            )
            return false
        }
    }
}
