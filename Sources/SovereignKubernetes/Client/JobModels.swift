// The `batch/v1` Job, `v1` PersistentVolumeClaim and `v1` Pod fields Sovereign writes and reads. Requests are
// typed values encoded with their keys sorted; responses decode only the fields read (the rest is skipped).

/// `metadata` of an object Sovereign creates.
public struct ObjectMetadata: Codable, Sendable, Hashable {
    /// `metadata.name` (DNS-1123).
    public var name: String
    /// `metadata.labels`.
    public var labels: [String: String]

    /// Makes object metadata.
    public init(name: String, labels: [String: String]) {
        self.name = name
        self.labels = labels
    }
}

/// A `batch/v1` Job to create.
public struct JobManifest: Encodable, Sendable, Hashable {
    /// Always `batch/v1`.
    public let apiVersion = "batch/v1"
    /// Always `Job`.
    public let kind = "Job"
    /// Its name and labels.
    public var metadata: ObjectMetadata
    /// `spec`.
    public var spec: Spec

    /// Makes a Job.
    public init(metadata: ObjectMetadata, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    /// `spec` of a Job: one pod, not retried by Kubernetes.
    public struct Spec: Encodable, Sendable, Hashable {
        /// Failed pods Kubernetes retries itself (Sovereign's attempts retry instead: 0).
        public var backoffLimit: Int
        /// The pod.
        public var template: PodTemplate

        /// Makes a Job spec.
        public init(backoffLimit: Int, template: PodTemplate) {
            self.backoffLimit = backoffLimit
            self.template = template
        }
    }

    /// `spec.template`.
    public struct PodTemplate: Encodable, Sendable, Hashable {
        /// The pod's labels (its name is the Job controller's).
        public var metadata: Labels
        /// The pod's spec.
        public var spec: PodSpec

        /// Makes a pod template.
        public init(labels: [String: String], spec: PodSpec) {
            self.metadata = Labels(labels: labels)
            self.spec = spec
        }
    }

    /// Metadata holding only labels.
    public struct Labels: Encodable, Sendable, Hashable {
        /// `labels`.
        public var labels: [String: String]
    }
}

/// `v1.PodSpec`, the fields a Job's pod uses.
public struct PodSpec: Encodable, Sendable, Hashable {
    /// `Never` for a Job whose failures Sovereign retries.
    public var restartPolicy: String
    /// Seconds between SIGTERM and SIGKILL when the pod is deleted.
    public var terminationGracePeriodSeconds: Int
    /// The containers (one).
    public var containers: [Container]
    /// The volumes the containers mount.
    public var volumes: [Volume]
    /// Which nodes may run it.
    public var affinity: Affinity?

    /// Makes a pod spec.
    public init(
        restartPolicy: String,
        terminationGracePeriodSeconds: Int,
        containers: [Container],
        volumes: [Volume],
        affinity: Affinity?
    ) {
        self.restartPolicy = restartPolicy
        self.terminationGracePeriodSeconds = terminationGracePeriodSeconds
        self.containers = containers
        self.volumes = volumes
        self.affinity = affinity
    }

    /// `v1.Container`.
    public struct Container: Encodable, Sendable, Hashable {
        /// DNS-1123 label, unique in the pod.
        public var name: String
        /// The OCI image reference.
        public var image: String
        /// Arguments to the image's entrypoint; `nil` keeps the image's own command.
        public var args: [String]?
        /// Environment variables, sorted by name.
        public var env: [EnvVar]
        /// Device-plugin limits, like `nvidia.com/gpu: "8"`; `nil` when it asks for none.
        public var resources: Resources?
        /// Where volumes are mounted.
        public var volumeMounts: [VolumeMount]

        /// Makes a container.
        public init(
            name: String,
            image: String,
            args: [String]?,
            env: [EnvVar],
            resources: Resources?,
            volumeMounts: [VolumeMount]
        ) {
            self.name = name
            self.image = image
            self.args = args
            self.env = env
            self.resources = resources
            self.volumeMounts = volumeMounts
        }
    }

    /// `v1.EnvVar` with a literal value.
    public struct EnvVar: Encodable, Sendable, Hashable {
        /// The variable's name.
        public var name: String
        /// Its value.
        public var value: String

        /// Makes a variable.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `v1.ResourceRequirements` with limits only (for extended resources, requests default to the limits).
    public struct Resources: Encodable, Sendable, Hashable {
        /// Resource name to quantity.
        public var limits: [String: String]

        /// Makes resource limits.
        public init(limits: [String: String]) { self.limits = limits }
    }

    /// `v1.VolumeMount`.
    public struct VolumeMount: Encodable, Sendable, Hashable {
        /// The volume's name.
        public var name: String
        /// The absolute path in the container.
        public var mountPath: String

        /// Makes a mount.
        public init(name: String, mountPath: String) {
            self.name = name
            self.mountPath = mountPath
        }
    }

    /// `v1.Volume` backed by a PersistentVolumeClaim.
    public struct Volume: Encodable, Sendable, Hashable {
        /// The volume's name in the pod.
        public var name: String
        /// The claim.
        public var persistentVolumeClaim: ClaimSource

        /// Makes a volume on a claim.
        public init(name: String, claimName: String) {
            self.name = name
            self.persistentVolumeClaim = ClaimSource(claimName: claimName)
        }
    }

    /// `v1.PersistentVolumeClaimVolumeSource`.
    public struct ClaimSource: Encodable, Sendable, Hashable {
        /// The claim's name, in the pod's namespace.
        public var claimName: String
    }

    /// `v1.Affinity` with a required node affinity: the pod runs only on nodes matching one of the terms.
    public struct Affinity: Encodable, Sendable, Hashable {
        /// `nodeAffinity`.
        public var nodeAffinity: NodeAffinity

        /// Makes an affinity to nodes matching any of `terms` (each term: all its requirements).
        public init(nodeSelectorTerms terms: [[NodeSelectorRequirement]]) {
            nodeAffinity = NodeAffinity(
                requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(
                    nodeSelectorTerms: terms.map { NodeSelectorTerm(matchExpressions: $0) }
                )
            )
        }
    }

    /// `v1.NodeAffinity`.
    public struct NodeAffinity: Encodable, Sendable, Hashable {
        /// Hard requirement at scheduling.
        public var requiredDuringSchedulingIgnoredDuringExecution: NodeSelector
    }

    /// `v1.NodeSelector`.
    public struct NodeSelector: Encodable, Sendable, Hashable {
        /// ORed terms.
        public var nodeSelectorTerms: [NodeSelectorTerm]
    }

    /// `v1.NodeSelectorTerm`.
    public struct NodeSelectorTerm: Encodable, Sendable, Hashable {
        /// ANDed requirements.
        public var matchExpressions: [NodeSelectorRequirement]
    }

    /// `v1.NodeSelectorRequirement` with the `In` operator.
    public struct NodeSelectorRequirement: Encodable, Sendable, Hashable {
        /// The node label's key.
        public var key: String
        /// `In`.
        public var `operator`: String
        /// Values the label may have.
        public var values: [String]

        /// Requires the node label `key` to be one of `values`.
        public init(key: String, in values: [String]) {
            self.key = key
            self.operator = "In"
            self.values = values
        }
    }
}

/// A `v1` PersistentVolumeClaim to create.
public struct PersistentVolumeClaimManifest: Encodable, Sendable, Hashable {
    /// Always `v1`.
    public let apiVersion = "v1"
    /// Always `PersistentVolumeClaim`.
    public let kind = "PersistentVolumeClaim"
    /// Its name and labels.
    public var metadata: ObjectMetadata
    /// `spec`.
    public var spec: Spec

    /// Makes a claim for `storage` (a quantity like `50Gi`) in `storageClassName` (the cluster's default when `nil`).
    public init(metadata: ObjectMetadata, storage: String, storageClassName: String?) {
        self.metadata = metadata
        self.spec = Spec(
            accessModes: ["ReadWriteOnce"],
            resources: .init(requests: ["storage": storage]),
            storageClassName: storageClassName
        )
    }

    /// `v1.PersistentVolumeClaimSpec`.
    public struct Spec: Encodable, Sendable, Hashable {
        /// `ReadWriteOnce`: one node at a time, as one attempt at a time needs.
        public var accessModes: [String]
        /// The storage requested.
        public var resources: Requests
        /// The storage class, when not the cluster's default.
        public var storageClassName: String?
    }

    /// `v1.VolumeResourceRequirements` with requests only.
    public struct Requests: Encodable, Sendable, Hashable {
        /// `storage: QUANTITY`.
        public var requests: [String: String]
    }
}

/// The part of a `batch/v1` Job Sovereign reads.
public struct KubernetesJob: Sendable, Hashable, Decodable {
    /// `metadata`.
    public var metadata: ObjectMetadataRead
    /// `status`.
    public var status: Status?

    /// Makes a Job as read (for tests and fakes).
    public init(name: String, labels: [String: String], status: Status?) {
        self.metadata = ObjectMetadataRead(name: name, labels: labels)
        self.status = status
    }

    /// `status` of a Job.
    public struct Status: Sendable, Hashable, Decodable {
        /// Pods running now.
        public var active: Int?
        /// Pods that succeeded.
        public var succeeded: Int?
        /// Pods that failed.
        public var failed: Int?
        /// `Complete`, `Failed`, `SuccessCriteriaMet`, `FailureTarget`, `Suspended`.
        public var conditions: [Condition]?

        /// Makes a status.
        public init(active: Int? = nil, succeeded: Int? = nil, failed: Int? = nil, conditions: [Condition]? = nil) {
            self.active = active
            self.succeeded = succeeded
            self.failed = failed
            self.conditions = conditions
        }
    }

    /// A Job condition.
    public struct Condition: Sendable, Hashable, Decodable {
        /// Its type.
        public var type: String
        /// `True`, `False` or `Unknown`.
        public var status: String
        /// `BackoffLimitExceeded`, `DeadlineExceeded`, ...
        public var reason: String?
        /// The controller's words.
        public var message: String?

        /// Makes a condition.
        public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
            self.type = type
            self.status = status
            self.reason = reason
            self.message = message
        }
    }
}

/// The `metadata` fields Sovereign reads of a Job, pod or claim.
public struct ObjectMetadataRead: Sendable, Hashable, Decodable {
    /// `metadata.name`.
    public var name: String
    /// `metadata.labels`.
    public var labels: [String: String]?
    /// Set once the object is being deleted.
    public var deletionTimestamp: String?

    /// Makes metadata as read.
    public init(name: String, labels: [String: String]?, deletionTimestamp: String? = nil) {
        self.name = name
        self.labels = labels
        self.deletionTimestamp = deletionTimestamp
    }
}

/// The part of a `v1` Pod Sovereign reads.
public struct KubernetesPod: Sendable, Hashable, Decodable {
    /// `metadata`.
    public var metadata: ObjectMetadataRead
    /// `status`.
    public var status: Status?

    /// Makes a pod as read (for tests and fakes).
    public init(metadata: ObjectMetadataRead, status: Status?) {
        self.metadata = metadata
        self.status = status
    }

    /// `status` of a pod.
    public struct Status: Sendable, Hashable, Decodable {
        /// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
        public var phase: String?
        /// Why the pod is in its phase: `Evicted`, `DeadlineExceeded`, `Preempting`, ...
        public var reason: String?
        /// The kubelet's words.
        public var message: String?
        /// One per container.
        public var containerStatuses: [ContainerStatus]?

        /// Makes a pod status.
        public init(
            phase: String?,
            reason: String? = nil,
            message: String? = nil,
            containerStatuses: [ContainerStatus]? = nil
        ) {
            self.phase = phase
            self.reason = reason
            self.message = message
            self.containerStatuses = containerStatuses
        }
    }

    /// `v1.ContainerStatus`, its state only.
    public struct ContainerStatus: Sendable, Hashable, Decodable {
        /// The container's name.
        public var name: String
        /// Its state now.
        public var state: ContainerState?

        /// Makes a container status.
        public init(name: String, state: ContainerState?) {
            self.name = name
            self.state = state
        }
    }

    /// `v1.ContainerState`: one of its members is set.
    public struct ContainerState: Sendable, Hashable, Decodable {
        /// Set while it waits to start (pulling its image, or `CrashLoopBackOff`, `ErrImagePull`, ...).
        public var waiting: Waiting?
        /// Set when it ended.
        public var terminated: Terminated?

        /// Makes a container state.
        public init(waiting: Waiting? = nil, terminated: Terminated? = nil) {
            self.waiting = waiting
            self.terminated = terminated
        }
    }

    /// `v1.ContainerStateWaiting`.
    public struct Waiting: Sendable, Hashable, Decodable {
        /// `ContainerCreating`, `ErrImagePull`, `ImagePullBackOff`, `CreateContainerConfigError`, ...
        public var reason: String?
        /// The kubelet's words.
        public var message: String?

        /// Makes a waiting state.
        public init(reason: String?, message: String? = nil) {
            self.reason = reason
            self.message = message
        }
    }

    /// `v1.ContainerStateTerminated`.
    public struct Terminated: Sendable, Hashable, Decodable {
        /// The container's exit code.
        public var exitCode: Int32
        /// The signal that ended it, when the runtime says.
        public var signal: Int32?
        /// `Completed`, `Error`, `OOMKilled`, `ContainerCannotRun`, ...
        public var reason: String?
        /// The runtime's words.
        public var message: String?

        /// Makes a terminated state.
        public init(exitCode: Int32, signal: Int32? = nil, reason: String? = nil, message: String? = nil) {
            self.exitCode = exitCode
            self.signal = signal
            self.reason = reason
            self.message = message
        }
    }
}

/// The part of a `v1` PersistentVolumeClaim Sovereign reads.
public struct KubernetesPersistentVolumeClaim: Sendable, Hashable, Decodable {
    /// `metadata`.
    public var metadata: ObjectMetadataRead
    /// `status`.
    public var status: Status?

    /// Makes a claim as read (for tests and fakes).
    public init(metadata: ObjectMetadataRead, status: Status?) {
        self.metadata = metadata
        self.status = status
    }

    /// `status` of a claim.
    public struct Status: Sendable, Hashable, Decodable {
        /// `Pending`, `Bound` or `Lost`.
        public var phase: String?
        /// The bound volume's size, like `storage: 50Gi`.
        public var capacity: [String: String]?

        /// Makes a claim's status.
        public init(phase: String?, capacity: [String: String]?) {
            self.phase = phase
            self.capacity = capacity
        }
    }
}

/// A Kubernetes resource quantity (`50Gi`, `1.5T`, `500M`, `1e9`) as bytes.
public enum KubernetesQuantity: Sendable {
    static let binary: [(String, Double)] = [
        ("Ki", 0x1p10), ("Mi", 0x1p20), ("Gi", 0x1p30), ("Ti", 0x1p40), ("Pi", 0x1p50), ("Ei", 0x1p60),
    ]
    static let decimal: [(String, Double)] = [
        ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18),
    ]

    /// The bytes a quantity stands for, rounded up; `nil` when it is not a quantity or does not fit.
    ///
    /// - Parameter text: A quantity as the API server writes it.
    public static func bytes(_ text: String) -> Int64? {
        let (number, scale) =
            (binary + decimal).first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) }
            ?? (text, 1)
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let bytes = (value * scale).rounded(.up)
        return bytes < 0x1p63 ? Int64(bytes) : nil
    }
}
