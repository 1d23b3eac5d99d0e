/// The part of a `v1.Pod` bound to a node that Sovereign reads: where it runs, whether it has finished,
/// and the accelerators (device-plugin resources) it holds there.
///
/// Sovereign watches these to count the power of what Kubernetes placed without it (pods of the default
/// scheduler, pods bound before Sovereign started) against the sites' budgets; see ``BoundLoad``.
public struct BoundPod: KubernetesObject {
    /// `status.phase`.
    public enum Phase: String, Sendable, Hashable {
        // The API's own spelling, so that the raw values are what `status.phase` holds.
        case Pending, Running, Succeeded, Failed, Unknown

        /// Whether the pod's containers will not run again (its devices are released).
        public var isFinished: Bool { self == .Succeeded || self == .Failed }
    }

    /// `metadata.namespace`.
    public let namespace: String
    /// `metadata.name`.
    public let name: String
    /// `spec.nodeName`: empty while the pod waits for a scheduler.
    public let nodeName: String
    public let phase: Phase
    /// Accelerators by extended resource (`nvidia.com/gpu: 1`), counted as kube-scheduler counts requests.
    public let accelerators: [String: Int]
    /// `metadata.resourceVersion`: opaque, compare only for equality.
    public let resourceVersion: String
    /// The Sovereign attempt the pod runs (its ``KubernetesLabels/attemptID`` label), when Sovereign's
    /// Kubernetes executor made it: its power is the control plane's to count, not the pod watch's.
    public let attemptID: String?

    /// Pods of every namespace.
    public static let collectionPath = "/api/v1/pods"
    /// The API's kind.
    public static let kind = "Pod"

    /// Pods on a node that have not finished: what draws power at a site now. (A pod that finishes or is
    /// deleted leaves the selector, and its watch reports it deleted.)
    public static let boundAndUnfinished = ListSelector(
        fields: "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed"
    )

    /// Creates a pod.
    public init(
        namespace: String,
        name: String,
        nodeName: String,
        phase: Phase = .Running,
        accelerators: [String: Int],
        resourceVersion: String = "",
        attemptID: String? = nil
    ) {
        self.namespace = namespace
        self.name = name
        self.nodeName = nodeName
        self.phase = phase
        self.accelerators = accelerators
        self.resourceVersion = resourceVersion
        self.attemptID = attemptID
    }

    /// Decodes a `v1.Pod`: accelerator quantities that are not whole numbers are not accelerators (the API
    /// server refuses fractions of extended resources), and an unknown phase reads as `Unknown`.
    ///
    /// - Throws: `DecodingError` for a pod without `metadata.name` or of the wrong shape.
    public init(from decoder: any Decoder) throws {
        let wire = try WirePod(from: decoder)
        self.init(
            namespace: wire.metadata?.namespace ?? "default",
            name: try wire.metadata.requiredName(decoder, kind: Self.kind),
            nodeName: wire.spec?.nodeName ?? "",
            phase: wire.status?.phase.flatMap(Phase.init(rawValue:)) ?? .Unknown,
            accelerators: PodRequest.accelerators(
                containers: (wire.spec?.containers ?? []).map(\.accelerators),
                initContainers: (wire.spec?.initContainers ?? []).map(\.accelerators)
            ),
            resourceVersion: wire.metadata?.resourceVersion ?? "",
            attemptID: wire.metadata?.labels?[KubernetesLabels.attemptID]
        )
    }

    /// `namespace/name`.
    public var key: String { "\(namespace)/\(name)" }

    /// Accelerators held, all resources together.
    public var acceleratorCount: Int { accelerators.values.reduce(0, +) }

    /// Whether the pod holds its node's devices now: bound and not finished.
    public var holdsDevices: Bool { !nodeName.isEmpty && !phase.isFinished }

    /// Whether its power counts as what Kubernetes bound: it holds devices and is not one of Sovereign's own
    /// attempts (those are counted once, by the control plane, as the attempts they are).
    public var drawsUncounted: Bool { holdsDevices && attemptID == nil }

    /// Power counts change with the node, the phase, the accelerators or whose the pod is; status heartbeats
    /// do not matter.
    public func differs(from old: BoundPod) -> Bool {
        nodeName != old.nodeName || phase != old.phase || accelerators != old.accelerators
            || attemptID != old.attemptID
    }
}

// MARK: - Wire shapes

struct WirePod: Decodable {
    struct Spec: Decodable {
        var nodeName: String?
        var containers: [WireContainer]?
        var initContainers: [WireContainer]?
    }

    struct Status: Decodable {
        var phase: String?
    }

    var metadata: WireObjectMeta?
    var spec: Spec?
    var status: Status?
}

struct WireContainer: Decodable {
    struct Resources: Decodable {
        var requests: [String: String]?
        var limits: [String: String]?
    }

    var resources: Resources?

    /// Whole-number accelerator quantities (limits win, as kube-scheduler reads extended resources).
    var accelerators: [String: Int] {
        let merged = (resources?.requests ?? [:]).merging(resources?.limits ?? [:]) { _, limit in limit }
        var out: [String: Int] = [:]
        for (key, text) in merged where PodRequest.acceleratorResources.contains(key) {
            if let count = Int(text), count >= 0 { out[key] = count }
        }
        return out
    }
}
