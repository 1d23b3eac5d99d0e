public import Logging
import Synchronization

/// Keeps a cache of one kind of the cluster's objects current (nodes, the pods bound to them): lists them,
/// then watches from the list's resource version; when the version is too old (410 Gone) or the connection
/// drops, lists again. Failures wait with exponential backoff (``KubernetesRetryPolicy``), reset once the
/// watch delivers events again.
///
/// The cache is behind a lock, so ``object(forKey:)`` and ``objects`` can be read from any thread without
/// awaiting. `run()` suits a swift-service-lifecycle `Service` as is: it returns when its task is cancelled.
public final class ResourceWatcher<Object: KubernetesObject>: Sendable {
    private struct State {
        var objects: [String: Object] = [:]
        var observers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private let client: KubernetesClient
    private let selector: ListSelector
    private let logger: Logger
    private let retry: KubernetesRetryPolicy
    private let watchTimeoutSeconds: Int
    private let onChange: @Sendable ([Object]) -> Void

    /// Creates a watcher with an empty cache; ``run()`` fills it.
    ///
    /// - Parameters:
    ///   - client: The API client.
    ///   - selector: Which objects of the kind to keep (all by default).
    ///   - logger: Where lists, relists and failures are logged.
    ///   - retry: How long to wait after failures.
    ///   - watchTimeoutSeconds: How long each watch request asks the server to stay open.
    ///   - onChange: Told the whole cache, sorted by key, whenever an object appears, goes or changes what
    ///     ``KubernetesObject/differs(from:)`` looks at (not when only its resource version moves). Called on
    ///     the watcher's task: keep it quick.
    public init(
        client: KubernetesClient,
        selector: ListSelector = .everything,
        logger: Logger,
        retry: KubernetesRetryPolicy = .standard,
        watchTimeoutSeconds: Int = 300,
        onChange: @escaping @Sendable ([Object]) -> Void = { _ in }
    ) {
        self.client = client
        self.selector = selector
        self.logger = logger
        self.retry = retry
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.onChange = onChange
    }

    /// The cached object with this key (a name, or `namespace/name`).
    ///
    /// - Complexity: O(1).
    public func object(forKey key: String) -> Object? {
        state.withLock { $0.objects[key] }
    }

    /// Every cached object, sorted by key.
    ///
    /// - Complexity: O(*n* log *n*) in the number of objects.
    public var objects: [Object] {
        state.withLock { Self.sorted($0.objects) }
    }

    /// Replaces the whole cache (after a list; for tests, and for the extender's node-cache mode without an
    /// API server).
    ///
    /// - Parameter objects: The new cache; a later object with a repeated key wins.
    public func replace(with objects: [Object]) {
        var byKey: [String: Object] = [:]
        for object in objects { byKey[object.key] = object }
        let changed = state.withLock { state in
            let changed =
                state.objects.count != byKey.count
                || byKey.contains { key, object in state.objects[key].map(object.differs(from:)) ?? true }
            state.objects = byKey
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
                    let list = try await client.list(Object.self, selector: selector)
                    logger.info(
                        "listed objects",
                        metadata: [
                            "object.kind": "\(Object.kind)", "object.count": "\(list.items.count)",
                            "resource.version": "\(list.resourceVersion)",
                        ]
                    )
                    replace(with: list.items)
                    from = list.resourceVersion
                }
                resourceVersion = from
                var sawEvent = false
                let events = client.watch(
                    Object.self,
                    selector: selector,
                    resourceVersion: from,
                    timeoutSeconds: watchTimeoutSeconds
                )
                for try await event in events {
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
                    logger.info(
                        "watch expired; listing again",
                        metadata: ["object.kind": "\(Object.kind)", "error": "\(apiError)"]
                    )
                    // The first 410 in a row relists at once; repeated ones back off like any failure.
                    if failures == 1 { continue }
                } else {
                    logger.warning(
                        "watch failed; listing again",
                        metadata: ["object.kind": "\(Object.kind)", "error": "\(error)"]
                    )
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
    func apply(_ event: WatchEvent<Object>) {
        let changed: Bool = state.withLock { state in
            switch event {
            case .added(let object), .modified(let object):
                let previous = state.objects.updateValue(object, forKey: object.key)
                return previous.map(object.differs(from:)) ?? true
            case .deleted(let object):
                return state.objects.removeValue(forKey: object.key) != nil
            case .bookmark:
                return false
            }
        }
        if changed { notify() }
    }

    /// Puts an object the API server just returned (after a patch) into the cache, if the cache holds it.
    func update(_ object: Object) {
        let changed: Bool = state.withLock { state in
            guard let previous = state.objects[object.key] else { return false }
            state.objects[object.key] = object
            return object.differs(from: previous)
        }
        if changed { notify() }
    }

    /// Registers a callback run after every change, after `onChange`.
    func addObserver(_ observer: @escaping @Sendable () -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    private func notify() {
        let (snapshot, observers) = state.withLock { (Self.sorted($0.objects), $0.observers) }
        onChange(snapshot)
        for observer in observers { observer() }
    }

    private static func sorted(_ objects: [String: Object]) -> [Object] {
        objects.values.sorted { $0.key < $1.key }
    }
}

/// The watcher of the cluster's nodes, whose labels place them in the fleet.
public typealias NodeWatcher = ResourceWatcher<KubernetesNode>

extension ResourceWatcher where Object == KubernetesNode {
    /// The cached node with this name, or `nil`.
    ///
    /// - Complexity: O(1).
    public func node(named name: String) -> KubernetesNode? { object(forKey: name) }

    /// Every cached node, sorted by name.
    public var nodes: [KubernetesNode] { objects }
}
