import Crypto
import Foundation
import SovereignBase
public import SovereignKubernetes
public import SovereignModel

/// Where an accelerator pool's attempts run in a cluster: the device plugin's resource that counts its
/// accelerators and the node labels that pick its nodes.
public struct KubernetesPoolPlacement: Sendable, Hashable {
    /// The extended resource the pool's device plugin advertises (`nvidia.com/gpu`), or `nil` for accelerators
    /// no plugin counts (the attempt then asks for none and relies on node affinity alone).
    public var resource: String?
    /// Node selector terms, ORed; each term's requirements ANDed.
    public var nodeSelectorTerms: [[PodSpec.NodeSelectorRequirement]]

    /// Makes a placement.
    public init(resource: String?, nodeSelectorTerms: [[PodSpec.NodeSelectorRequirement]]) {
        self.resource = resource
        self.nodeSelectorTerms = nodeSelectorTerms
    }

    /// The device plugin resource of an accelerator vendor: NVIDIA's, AMD's, Intel Gaudi's (Habana) and Huawei
    /// Ascend's plugins; `nil` for a vendor without one.
    ///
    /// - Parameter vendor: ``AcceleratorModel/vendor``, as the catalog spells it (case does not matter).
    public static func deviceResource(vendor: String) -> String? {
        switch vendor.lowercased() {
        case "nvidia": "nvidia.com/gpu"
        case "amd": "amd.com/gpu"
        case "intel", "habana": "habana.ai/gaudi"
        case "huawei": "huawei.com/Ascend910"
        default: nil
        }
    }

    /// Every pool of `site`, placed on the nodes the scheduler extender and node labeller count as the pool's:
    /// those labelled `sovereign.dev/site` and `sovereign.dev/pool`, or, for a site mapped by Kubernetes
    /// topology, those in the pool's zone (or the site's region, when the site has one pool).
    ///
    /// - Returns: placements by pool name.
    public static func table(site: Site, catalog: AcceleratorCatalog) -> [String: KubernetesPoolPlacement] {
        var table: [String: KubernetesPoolPlacement] = [:]
        for pool in site.pools {
            var terms = [
                [
                    PodSpec.NodeSelectorRequirement(key: KubernetesLabels.site, in: [site.name]),
                    PodSpec.NodeSelectorRequirement(key: KubernetesLabels.pool, in: [pool.name]),
                ]
            ]
            if let topology = site.kubernetes, let zones = pool.zoneList ?? site.onlyZone(of: pool, topology) {
                terms.append([
                    PodSpec.NodeSelectorRequirement(key: KubernetesLabels.region, in: [topology.region]),
                    PodSpec.NodeSelectorRequirement(key: KubernetesLabels.zone, in: zones),
                ])
            }
            let vendor = catalog[pool.accelerator]?.vendor ?? ""
            table[pool.name] = KubernetesPoolPlacement(
                resource: deviceResource(vendor: vendor),
                nodeSelectorTerms: terms
            )
        }
        return table
    }
}

extension Site {
    /// The zones of a site's only pool (every zone of its topology): `nil` for a site of several pools, whose
    /// pools are told apart by their own zones or labels.
    fileprivate func onlyZone(of pool: AcceleratorPool, _ topology: KubernetesTopology) -> [String]? {
        guard pools.count == 1, !topology.zones.isEmpty else { return nil }
        return topology.zones
    }
}

extension AcceleratorPool {
    fileprivate var zoneList: [String]? { kubernetesZone.map { [$0] } }
}

/// The Kubernetes objects of one attempt, built as values: its Job and its workload's checkpoint claim.
public struct KubernetesAttemptJob: Sendable, Hashable {
    /// The Job to create.
    public var job: JobManifest
    /// The workload's claim, made once and kept across attempts.
    public var claim: PersistentVolumeClaimManifest

    /// Where the claim is mounted in the container (`SOVEREIGN_CHECKPOINT_DIR`).
    public static let checkpointDirectory = "/sovereign/checkpoint"
    /// The container's name.
    public static let containerName = "workload"
    /// The value of `app.kubernetes.io/managed-by` on everything the executor makes.
    public static let manager = "sovereign-site-agent"
    /// Label: the attempt's store id (its fencing epoch).
    public static let attemptIDLabel = KubernetesLabels.attemptID
    /// Label: the workload's attempt number.
    public static let attemptLabel = "sovereign.dev/attempt"
    /// Label: the manager.
    public static let managedByLabel = "app.kubernetes.io/managed-by"

    /// How the objects are sized and named.
    public struct Settings: Sendable, Hashable {
        /// The site the agent runs for (`SOVEREIGN_SITE`, and a label on every object).
        public var site: String
        /// Each checkpoint claim's size, a Kubernetes quantity like `50Gi`.
        public var claimSize: String
        /// The claims' storage class; the cluster's default when `nil`.
        public var storageClass: String?

        /// Makes settings.
        public init(site: String, claimSize: String = "50Gi", storageClass: String? = nil) {
            self.site = site
            self.claimSize = claimSize
            self.storageClass = storageClass
        }
    }

    /// What makes an attempt impossible to express as a Job.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        /// What was expected and what was found.
        public let description: String
    }

    /// Builds an attempt's Job and claim.
    ///
    /// - Throws: ``Refusal`` when the workload names no image or the pool has no placement.
    public init(
        _ attempt: AttemptRecord,
        run: Workload.Run,
        placement: KubernetesPoolPlacement?,
        settings: Settings
    ) throws {
        guard let image = run.image else {
            throw Refusal(
                description: "\(attempt.workload): expected run.image (a Kubernetes site runs containers), found "
                    + "only run.command"
            )
        }
        guard let placement else {
            throw Refusal(
                description: "\(attempt.workload): expected pool \(attempt.pool) in the fleet the agent was given "
                    + "for site \(settings.site) (--fleet), found no such pool"
            )
        }
        let labels = Self.labels(attempt, site: settings.site)
        let claimName = Self.claimName(attempt.workload)
        let container = PodSpec.Container(
            name: Self.containerName,
            image: image,
            args: run.command.isEmpty ? nil : run.command,
            env: Self.environment(attempt, run: run),
            resources: placement.resource.flatMap { resource in
                attempt.accelerators > 0 ? PodSpec.Resources(limits: [resource: String(attempt.accelerators)]) : nil
            },
            volumeMounts: [PodSpec.VolumeMount(name: "checkpoint", mountPath: Self.checkpointDirectory)]
        )
        let pod = PodSpec(
            restartPolicy: "Never",
            terminationGracePeriodSeconds: max(0, Int(run.gracePeriod.seconds.rounded(.up))),
            containers: [container],
            volumes: [PodSpec.Volume(name: "checkpoint", claimName: claimName)],
            affinity: placement.nodeSelectorTerms.isEmpty
                ? nil : PodSpec.Affinity(nodeSelectorTerms: placement.nodeSelectorTerms)
        )
        job = JobManifest(
            metadata: ObjectMetadata(
                name: Self.jobName(workload: attempt.workload, number: attempt.number),
                labels: labels
            ),
            spec: JobManifest.Spec(backoffLimit: 0, template: JobManifest.PodTemplate(labels: labels, spec: pod))
        )
        claim = PersistentVolumeClaimManifest(
            metadata: ObjectMetadata(
                name: claimName,
                labels: Self.workloadLabels(attempt.workload, site: settings.site)
            ),
            storage: settings.claimSize,
            storageClassName: settings.storageClass
        )
    }

    /// The variables the local executor sets too, after the workload's own (which may not set `SOVEREIGN_*`).
    static func environment(_ attempt: AttemptRecord, run: Workload.Run) -> [PodSpec.EnvVar] {
        var variables = run.environment
        variables["SOVEREIGN_WORKLOAD"] = attempt.workload
        variables["SOVEREIGN_CHECKPOINT_DIR"] = checkpointDirectory
        variables["SOVEREIGN_ATTEMPT"] = String(attempt.number)
        variables["SOVEREIGN_SITE"] = attempt.site
        variables["SOVEREIGN_ACCELERATORS"] = String(attempt.accelerators)
        if attempt.resume { variables["SOVEREIGN_RESUME"] = "1" }
        return variables.sorted { $0.key < $1.key }.map { PodSpec.EnvVar(name: $0.key, value: $0.value) }
    }

    /// The labels of an attempt's Job and pod.
    static func labels(_ attempt: AttemptRecord, site: String) -> [String: String] {
        var labels = workloadLabels(attempt.workload, site: site)
        labels[attemptLabel] = String(attempt.number)
        labels[attemptIDLabel] = String(attempt.id ?? 0)
        return labels
    }

    /// The labels of everything the executor makes for a workload.
    static func workloadLabels(_ workload: String, site: String) -> [String: String] {
        [
            managedByLabel: manager,
            KubernetesLabels.site: labelValue(site),
            KubernetesLabels.workload: labelValue(workload),
        ]
    }

    /// The selector of everything the executor makes for `site`.
    static func siteSelector(_ site: String) -> String {
        "\(managedByLabel)=\(manager),\(KubernetesLabels.site)=\(labelValue(site))"
    }

    /// `sov-WORKLOAD-aNUMBER`: deterministic, a DNS-1123 label of at most 63 characters (a long workload name is
    /// cut and keeps 8 hex digits of its SHA-256, so two long names do not collide).
    public static func jobName(workload: String, number: Int) -> String {
        dnsLabel(prefix: "sov-", workload, suffix: "-a\(number)")
    }

    /// `sov-WORKLOAD-checkpoint`, the workload's claim.
    public static func claimName(_ workload: String) -> String {
        dnsLabel(prefix: "sov-", workload, suffix: "-checkpoint")
    }

    /// A label value (at most 63 characters, alphanumeric at both ends) standing for `text`.
    static func labelValue(_ text: String) -> String { text.utf8.count <= 63 ? text : shortened(text, to: 63) }

    static func dnsLabel(prefix: String, _ name: String, suffix: String) -> String {
        // A workload name is a DNS-1123 subdomain: its dots are not allowed in a label.
        let base = name.replacingOccurrences(of: ".", with: "-")
        let room = 63 - prefix.utf8.count - suffix.utf8.count
        let middle = base.utf8.count <= room && base == name ? base : shortened(name, to: room)
        return prefix + middle + suffix
    }

    /// `text` cut to leave room for `-` and 8 hex digits of its SHA-256, ending alphanumeric.
    static func shortened(_ text: String, to length: Int) -> String {
        let digest = Hex.encode(Array(Array(SHA256.hash(data: Array(text.utf8))).prefix(4)))
        var head = String(text.replacingOccurrences(of: ".", with: "-").prefix(max(0, length - 9)))
        while let last = head.last, !(last.isLetter || last.isNumber) { head.removeLast() }
        return head.isEmpty ? digest : head + "-" + digest
    }
}
