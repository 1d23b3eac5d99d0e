/// A kind of API object the client lists and watches (``KubernetesClient/list(_:selector:)``,
/// ``KubernetesClient/watch(_:selector:resourceVersion:timeoutSeconds:)``, ``ResourceWatcher``): decoded
/// from the API's JSON, reading only the fields Sovereign needs.
public protocol KubernetesObject: Sendable, Hashable, Decodable {
    /// The collection's path, like `/api/v1/nodes`.
    static var collectionPath: String { get }
    /// The kind, as the API names it (`Node`), for messages and logs.
    static var kind: String { get }
    /// What a cache keys the object by: its name, or `namespace/name` for a namespaced kind.
    var key: String { get }
    /// `metadata.resourceVersion`: opaque, compare only for equality.
    var resourceVersion: String { get }
    /// Whether a watcher's observers need telling when the object turns from `old` into `self`
    /// (a node's heartbeat moves its resource version and nothing Sovereign reads).
    func differs(from old: Self) -> Bool
}

/// Which objects of a collection a list or watch returns (`labelSelector`, `fieldSelector`).
public struct ListSelector: Sendable, Hashable {
    /// A label selector like `sovereign.dev/site=nairobi-1`, or `nil`.
    public var labels: String?
    /// A field selector like `spec.nodeName!=`, or `nil`.
    public var fields: String?

    /// Every object of the collection.
    public static let everything = ListSelector()

    /// A selector by labels, fields, or both.
    public init(labels: String? = nil, fields: String? = nil) {
        self.labels = labels
        self.fields = fields
    }

    /// The query items the API server reads.
    var query: [(String, String)] {
        var items: [(String, String)] = []
        if let labels { items.append(("labelSelector", labels)) }
        if let fields { items.append(("fieldSelector", fields)) }
        return items
    }
}

/// The part of a `v1.Node` Sovereign reads: its name, labels and the version they were read at.
public struct KubernetesNode: KubernetesObject {
    /// `metadata.name`.
    public let name: String
    /// `metadata.labels` (empty when the node has none).
    public let labels: [String: String]
    /// `metadata.resourceVersion`: opaque, compare only for equality.
    public let resourceVersion: String

    /// The cluster's nodes.
    public static let collectionPath = "/api/v1/nodes"
    /// The API's kind.
    public static let kind = "Node"

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

    /// Decodes a `v1.Node`.
    ///
    /// - Throws: `DecodingError` for a node without `metadata.name`.
    public init(from decoder: any Decoder) throws {
        let metadata = try WireObject(from: decoder).metadata
        self.init(
            name: try metadata.requiredName(decoder, kind: Self.kind),
            labels: metadata?.labels ?? [:],
            resourceVersion: metadata?.resourceVersion ?? ""
        )
    }

    /// Nodes are not namespaced: the name.
    public var key: String { name }

    /// Only a label change matters to the extender and the labeller.
    public func differs(from old: KubernetesNode) -> Bool { labels != old.labels }
}

/// One event of a watch.
public enum WatchEvent<Object: KubernetesObject>: Sendable, Hashable {
    /// An object appeared (or, at the start of a watch from an old version, already existed).
    case added(Object)
    /// An object changed; this is its new state.
    case modified(Object)
    /// An object was deleted (or left the selector); this is its last state.
    case deleted(Object)
    /// The server's progress marker: the watch has seen everything up to this version.
    case bookmark(resourceVersion: String)

    /// The resource version the event leaves the watch at.
    public var resourceVersion: String {
        switch self {
        case .added(let object), .modified(let object), .deleted(let object): object.resourceVersion
        case .bookmark(let version): version
        }
    }
}

/// One event of a node watch.
public typealias NodeEvent = WatchEvent<KubernetesNode>

// MARK: - Wire shapes (only the fields Sovereign reads; the decoder skips the rest)

struct WireObjectMeta: Decodable {
    var name: String?
    var namespace: String?
    var labels: [String: String]?
    var resourceVersion: String?
}

/// Any object's metadata, read first by each kind's decoder.
struct WireObject: Decodable {
    var metadata: WireObjectMeta?
}

extension WireObjectMeta? {
    /// `metadata.name`, or a decoding error naming the kind.
    func requiredName(_ decoder: any Decoder, kind: String) throws -> String {
        guard let name = self?.name, !name.isEmpty else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "a \(kind) without metadata.name")
            )
        }
        return name
    }
}

struct WireListMeta: Decodable {
    var resourceVersion: String?
    var `continue`: String?
}

/// A list of any kind (`NodeList`, `PodList`, `JobList`): its items and where the next page starts.
struct WireList<Item: Decodable>: Decodable {
    var metadata: WireListMeta?
    var items: [Item]?
}

/// A `metav1.Status`: what the API server sends for an error, and inside a watch's `ERROR` event.
struct WireStatus: Decodable {
    var kind: String?
    var status: String?
    var message: String?
    var reason: String?
    var code: Int?
}

/// A `metav1.WatchEvent` whose object is one of the watched kind, a bookmark's partial object, or a Status:
/// what every event is read as first.
struct WireWatchEvent: Decodable {
    var type: String
    var object: WireWatchObject?
}

/// A `metav1.WatchEvent` read again, for an `ADDED`, `MODIFIED` or `DELETED` event, as its kind.
struct WireWatchedObject<Object: KubernetesObject>: Decodable {
    var object: Object
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
