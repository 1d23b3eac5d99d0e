/// The part of a `v1.Node` Sovereign reads: its name, labels and the version they were read at.
public struct KubernetesNode: Sendable, Hashable {
    /// `metadata.name`.
    public let name: String
    /// `metadata.labels` (empty when the node has none).
    public let labels: [String: String]
    /// `metadata.resourceVersion`: opaque, compare only for equality.
    public let resourceVersion: String

    /// Creates a node.
    ///
    /// - Parameters:
    ///   - name: The node's name.
    ///   - labels: Its labels.
    ///   - resourceVersion: The version they were read at.
    public init(name: String, labels: [String: String], resourceVersion: String) {
        self.name = name
        self.labels = labels
        self.resourceVersion = resourceVersion
    }
}

/// One event of a node watch.
public enum NodeEvent: Sendable, Hashable {
    /// A node appeared (or, at the start of a watch from an old version, already existed).
    case added(KubernetesNode)
    /// A node changed; this is its new state.
    case modified(KubernetesNode)
    /// A node was deleted; this is its last state.
    case deleted(KubernetesNode)
    /// The server's progress marker: the watch has seen everything up to this version.
    case bookmark(resourceVersion: String)

    /// The resource version the event leaves the watch at.
    public var resourceVersion: String {
        switch self {
        case .added(let node), .modified(let node), .deleted(let node): node.resourceVersion
        case .bookmark(let version): version
        }
    }
}

// MARK: - Wire shapes (only the fields Sovereign reads; the decoder skips the rest)

struct WireObjectMeta: Decodable {
    var name: String?
    var labels: [String: String]?
    var resourceVersion: String?
}

struct WireNode: Decodable {
    var metadata: WireObjectMeta?

    func node() throws -> KubernetesNode {
        guard let name = metadata?.name, !name.isEmpty else {
            throw WireShapeError(message: "a Node without metadata.name")
        }
        return KubernetesNode(
            name: name,
            labels: metadata?.labels ?? [:],
            resourceVersion: metadata?.resourceVersion ?? ""
        )
    }
}

struct WireListMeta: Decodable {
    var resourceVersion: String?
    var `continue`: String?
}

struct WireNodeList: Decodable {
    var metadata: WireListMeta?
    var items: [WireNode]?
}

/// A `metav1.Status`: what the API server sends for an error, and inside a watch's `ERROR` event.
struct WireStatus: Decodable {
    var kind: String?
    var status: String?
    var message: String?
    var reason: String?
    var code: Int?
}

/// A `metav1.WatchEvent` whose object is a Node, a bookmark's partial Node, or a Status.
struct WireWatchEvent: Decodable {
    var type: String
    var object: WireWatchObject?
}

struct WireWatchObject: Decodable {
    var kind: String?
    var metadata: WireObjectMeta?
    var message: String?
    var reason: String?
    var code: Int?
}

struct WireShapeError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
