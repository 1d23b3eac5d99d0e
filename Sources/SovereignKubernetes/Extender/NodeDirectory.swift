import Synchronization

/// Where each node of the cluster sits in the fleet, by node name: what a `nodeCacheCapable` request's
/// names are resolved against. Kept current from the node watch; a node's place is computed once when its
/// labels change (node heartbeats, which change only status, cost one comparison).
public final class NodeDirectory: Sendable {
    private struct Entry {
        var labels: [String: String]
        var placement: NodePlacement
    }

    private let locator: NodeLocator
    private let entries = Mutex<[String: Entry]>([:])

    /// An empty directory placing nodes with `locator`.
    public init(locator: NodeLocator) {
        self.locator = locator
    }

    /// Adds or updates a node.
    public func update(name: String, labels: [String: String]) {
        entries.withLock { entries in
            if entries[name]?.labels == labels { return }
            entries[name] = Entry(labels: labels, placement: locator.locate(labels: labels))
        }
    }

    /// Forgets a node.
    public func remove(name: String) {
        _ = entries.withLock { $0.removeValue(forKey: name) }
    }

    /// Makes the directory hold exactly these nodes.
    ///
    /// - Complexity: O(nodes); placements are recomputed only for nodes whose labels changed.
    public func replace(with nodes: [(name: String, labels: [String: String])]) {
        entries.withLock { entries in
            var next: [String: Entry] = [:]
            next.reserveCapacity(nodes.count)
            for (name, labels) in nodes {
                if let old = entries[name], old.labels == labels {
                    next[name] = old
                } else {
                    next[name] = Entry(labels: labels, placement: locator.locate(labels: labels))
                }
            }
            entries = next
        }
    }

    /// The nodes' places, in order (`nil`: a node the directory has not seen).
    ///
    /// - Complexity: O(names), under one lock.
    public func placements(of names: [String]) -> [NodePlacement?] {
        entries.withLock { entries in names.map { entries[$0]?.placement } }
    }

    /// How many nodes the directory holds.
    public var count: Int { entries.withLock { $0.count } }
}
