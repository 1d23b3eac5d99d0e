public import Logging
import Synchronization

/// Keeps a cache of the cluster's nodes current: lists them, then watches from the list's resource version;
/// when the version is too old (410 Gone) or the connection drops, lists again. Failures wait with exponential
/// backoff (``KubernetesRetryPolicy``), reset once the watch delivers events again.
///
/// The cache is behind a lock, so ``node(named:)`` and ``nodes`` can be read from any thread without awaiting.
/// `run()` suits a swift-service-lifecycle `Service` as is: it returns when its task is cancelled.
public final class NodeWatcher: Sendable {
    private struct State {
        var nodes: [String: KubernetesNode] = [:]
        var observers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private let client: KubernetesClient
    private let logger: Logger
    private let retry: KubernetesRetryPolicy
    private let watchTimeoutSeconds: Int
    private let onChange: @Sendable ([KubernetesNode]) -> Void

    /// Creates a watcher with an empty cache; ``run()`` fills it.
    ///
    /// - Parameters:
    ///   - client: The API client.
    ///   - logger: Where lists, relists and failures are logged.
    ///   - retry: How long to wait after failures.
    ///   - watchTimeoutSeconds: How long each watch request asks the server to stay open.
    ///   - onChange: Told the whole cache, sorted by name, whenever a node appears, goes or changes its labels
    ///     (not when only its resource version moves). Called on the watcher's task: keep it quick.
    public init(
        client: KubernetesClient,
        logger: Logger,
        retry: KubernetesRetryPolicy = .standard,
        watchTimeoutSeconds: Int = 300,
        onChange: @escaping @Sendable ([KubernetesNode]) -> Void = { _ in }
    ) {
        self.client = client
        self.logger = logger
        self.retry = retry
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.onChange = onChange
    }

    /// The cached node with this name.
    ///
    /// - Parameter name: The node's name.
    /// - Returns: The node, or `nil` if the cache does not hold it.
    /// - Complexity: O(1).
    public func node(named name: String) -> KubernetesNode? {
        state.withLock { $0.nodes[name] }
    }

    /// Every cached node, sorted by name.
    ///
    /// - Complexity: O(*n* log *n*) in the number of nodes.
    public var nodes: [KubernetesNode] {
        state.withLock { Self.sorted($0.nodes) }
    }

    /// Replaces the whole cache (for tests, and for the extender's node-cache mode without an API server).
    ///
    /// - Parameter nodes: The new cache; a later node with a repeated name wins.
    public func replace(with nodes: [KubernetesNode]) {
        var byName: [String: KubernetesNode] = [:]
        for node in nodes { byName[node.name] = node }
        let changed = state.withLock { state in
            let changed = state.nodes.mapValues(\.labels) != byName.mapValues(\.labels)
            state.nodes = byName
            return changed
        }
        if changed { notify() }
    }

    /// Lists and watches until the task is cancelled, then returns.
    ///
    /// - Throws: Nothing today; failures are logged and retried. Declared `throws` for `Service`.
    public func run() async throws {
        var failures = 0
        var resourceVersion: String?
        while !Task.isCancelled {
            do {
                let from: String
                if let resourceVersion {
                    from = resourceVersion
                } else {
                    let list = try await client.listNodes()
                    logger.info(
                        "listed nodes",
                        metadata: ["node.count": "\(list.nodes.count)", "resource.version": "\(list.resourceVersion)"]
                    )
                    replace(with: list.nodes)
                    from = list.resourceVersion
                }
                resourceVersion = from
                var sawEvent = false
                for try await event in client.watchNodes(resourceVersion: from, timeoutSeconds: watchTimeoutSeconds) {
                    apply(event)
                    if !event.resourceVersion.isEmpty { resourceVersion = event.resourceVersion }
                    failures = 0
                    sawEvent = true
                }
                // The server closed the watch at its timeout: watch again from the last version seen. A watch that
                // ends without a single event (a proxy cutting it short) waits first, so it cannot spin.
                if !sawEvent {
                    failures += 1
                    try await Task.sleep(for: retry.delay(afterFailures: failures))
                }
            } catch {
                if Task.isCancelled { return }
                resourceVersion = nil
                failures += 1
                if let apiError = error as? KubernetesAPIError, apiError.isGone {
                    logger.info("node watch expired; listing again", metadata: ["error": "\(apiError)"])
                    // The first 410 in a row relists at once; repeated ones back off like any failure.
                    if failures == 1 { continue }
                } else {
                    logger.warning("node watch failed; listing again", metadata: ["error": "\(error)"])
                }
                do {
                    try await Task.sleep(for: retry.delay(afterFailures: failures))
                } catch {
                    return
                }
            }
        }
    }

    /// Applies one watch event to the cache.
    func apply(_ event: NodeEvent) {
        let changed: Bool = state.withLock { state in
            switch event {
            case .added(let node), .modified(let node):
                let previous = state.nodes.updateValue(node, forKey: node.name)
                return previous?.labels != node.labels
            case .deleted(let node):
                return state.nodes.removeValue(forKey: node.name) != nil
            case .bookmark:
                return false
            }
        }
        if changed { notify() }
    }

    /// Puts a node the API server just returned (after a patch) into the cache, if the cache holds that node.
    func update(_ node: KubernetesNode) {
        let changed: Bool = state.withLock { state in
            guard let previous = state.nodes[node.name] else { return false }
            state.nodes[node.name] = node
            return previous.labels != node.labels
        }
        if changed { notify() }
    }

    /// Registers a callback run after every change, after `onChange`.
    func addObserver(_ observer: @escaping @Sendable () -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    private func notify() {
        let (snapshot, observers) = state.withLock { (Self.sorted($0.nodes), $0.observers) }
        onChange(snapshot)
        for observer in observers { observer() }
    }

    private static func sorted(_ nodes: [String: KubernetesNode]) -> [KubernetesNode] {
        nodes.values.sorted { $0.name < $1.name }
    }
}
