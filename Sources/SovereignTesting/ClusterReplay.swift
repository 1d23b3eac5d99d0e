public import Foundation
public import SovereignModel

/// The real Alibaba GPU cluster of Examples/data/cluster (1,213 nodes, 8,152 pods; alibaba/clusterdata
/// cluster-trace-gpu-v2023, CC BY 4.0) recast as a sovereign fleet, with its nodes and pods as the JSON
/// kube-scheduler would send an extender.
///
/// The trace has no places, so the nodes are split in contiguous blocks over `sites` sites in four East
/// African countries (every fourth site run by a foreign-owned operator, every fifth on a weak grid), each
/// block's nodes pooled by GPU model and GPUs per node. Pods keep their real GPU, CPU and memory requests
/// and, by a seeded draw, read a Kenyan or Ugandan dataset, an EAC-wide one, or declare personal data, or
/// ask nothing of the fleet. The trace's undisclosed GPU models G2 and G3 are declared with T4-class and
/// V100-class figures (an assumption of this replay only); P100 is declared from NVIDIA's PCIe datasheet.
public struct ClusterReplay: Sendable {
    /// A node of the cluster.
    public struct Node: Sendable {
        public let name: String
        public let site: String
        public let country: String
        public let domesticOperator: Bool
        public let gpus: Int
        public let labels: [String: String]
        /// The `v1.Node` object.
        public let json: String
    }

    /// A pod of the trace.
    public struct Pod: Sendable {
        public let name: String
        public let gpus: Int
        public let annotations: [String: String]
        /// The `v1.Pod` object.
        public let json: String
    }

    /// The fleet spec (one YAML text).
    public let fleetYAML: String
    public let nodes: [Node]
    public let pods: [Pod]
    /// Countries each dataset may be processed in.
    public let residency: [String: Set<String>]

    static let countries = ["KE", "UG", "TZ", "RW"]
    static let catalogIDs = [
        "P100": "nvidia-p100-pcie", "G2": "alibaba-g2", "G3": "alibaba-g3", "T4": "nvidia-t4",
        "V100M16": "nvidia-v100-sxm2-16gb", "V100M32": "nvidia-v100-sxm2-32gb", "A10": "nvidia-a10",
    ]

    /// The trace's rows.
    static func rows(_ file: String) throws -> [[String]] {
        let url = Fixtures.repositoryRoot.appendingPathComponent("Examples/data/cluster/\(file)")
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Builds the replay.
    ///
    /// - Parameters:
    ///   - nodeCount: Nodes to make (the trace's 1,213 by default; more repeat the trace's nodes with new names).
    ///   - sites: How many sites the nodes are split over.
    ///   - seed: Seeds the pods' annotations.
    public static func alibaba(nodeCount: Int? = nil, sites: Int = 12, seed: UInt64 = 1) throws -> ClusterReplay {
        let nodeRows = try rows("openb_node_list_gpu_node.csv")
        let podRows = try rows("openb_pod_list_default.csv")
        let layout = NodeLayout(rows: nodeRows, count: nodeCount ?? nodeRows.count, sites: sites)
        var yaml = fleetHeader
        for s in 0..<sites { yaml += layout.siteDocument(s) }
        yaml += datasetDocuments
        return ClusterReplay(
            fleetYAML: yaml,
            nodes: layout.nodes,
            pods: makePods(podRows, seed: seed),
            residency: ["ke-patient-records": ["KE"], "ug-tax-filings": ["UG"], "eac-crop-imagery": Set(countries)]
        )
    }

    /// The replay fleet's Scenario, group, the trace's accelerator models and the policy.
    static let fleetHeader = """
        apiVersion: sovereign.dev/v1
        kind: Scenario
        metadata: {name: replay}
        spec: {start: 2023-07-01T00:00:00Z, horizon: 1 d, step: 1 h}
        ---
        apiVersion: sovereign.dev/v1
        kind: JurisdictionGroup
        metadata: {name: EAC}
        spec: {members: [KE, UG, TZ, RW]}
        ---
        apiVersion: sovereign.dev/v1
        kind: AcceleratorModel
        metadata: {name: nvidia-p100-pcie}
        spec: {vendor: NVIDIA, displayName: Tesla P100 PCIe 16GB, memory: 16 GB, tflops: 18.7, bandwidth: 732 GB/s, power: 250 W, origin: US, fabricatedIn: TW, year: 2016, note: "NVIDIA Tesla P100 PCIe datasheet (FP16, no tensor cores)"}
        ---
        apiVersion: sovereign.dev/v1
        kind: AcceleratorModel
        metadata: {name: alibaba-g2}
        spec: {vendor: Undisclosed, displayName: G2 (Alibaba trace), memory: 16 GB, tflops: 65, bandwidth: 320 GB/s, power: 70 W, origin: CN, note: "undisclosed model in cluster-trace-gpu-v2023; T4-class figures assumed for the extender replay"}
        ---
        apiVersion: sovereign.dev/v1
        kind: AcceleratorModel
        metadata: {name: alibaba-g3}
        spec: {vendor: Undisclosed, displayName: G3 (Alibaba trace), memory: 32 GB, tflops: 125, bandwidth: 900 GB/s, power: 300 W, origin: CN, note: "undisclosed model in cluster-trace-gpu-v2023; V100-class figures assumed for the extender replay"}
        ---
        apiVersion: sovereign.dev/v1
        kind: Policy
        metadata: {name: national-rules}
        spec: {domesticOperatorFor: [personal, sensitive], updatesMayCross: [EAC]}

        """

    /// The datasets the pods' annotations name.
    static let datasetDocuments = """
        ---
        apiVersion: sovereign.dev/v1
        kind: Dataset
        metadata: {name: ke-patient-records}
        spec: {size: 4 TB, site: site-0, residency: [KE], classification: personal}
        ---
        apiVersion: sovereign.dev/v1
        kind: Dataset
        metadata: {name: ug-tax-filings}
        spec: {size: 1 TB, site: site-1, residency: [UG], classification: internal}
        ---
        apiVersion: sovereign.dev/v1
        kind: Dataset
        metadata: {name: eac-crop-imagery}
        spec: {size: 20 TB, site: site-2, residency: [EAC], classification: public}

        """

    /// The trace's pods, each annotated (seeded) with datasets or a classification, or nothing.
    private static func makePods(_ podRows: [[String]], seed: UInt64) -> [Pod] {
        var rng = SplitMix64(seed: seed)
        var pods: [Pod] = []
        for (i, row) in podRows.enumerated() {
            let gpus = Int(row[3]) ?? 0
            var annotations: [String: String] = [:]
            let draw = Double.random(in: 0..<1, using: &rng)
            switch draw {
            case ..<0.30: annotations["sovereign.dev/datasets"] = "ke-patient-records"
            case ..<0.45: annotations["sovereign.dev/datasets"] = "ug-tax-filings"
            case ..<0.60: annotations["sovereign.dev/datasets"] = "eac-crop-imagery"
            case ..<0.70: annotations["sovereign.dev/classification"] = "personal"
            case ..<0.75: annotations["sovereign.dev/datasets"] = "eac-crop-imagery,ug-tax-filings"
            default: break
            }
            let json = podJSON(
                name: row[0],
                index: i,
                annotations: annotations,
                cpuMilli: row[1],
                memoryMiB: row[2],
                gpus: gpus,
                qos: row[6]
            )
            pods.append(Pod(name: row[0], gpus: gpus, annotations: annotations, json: json))
        }
        return pods
    }

    /// The trace's nodes split in order over the sites, and the pools they make at each site (by GPU product and
    /// GPUs per node, in order of first appearance).
    struct NodeLayout {
        struct PoolShape {
            let model: String
            let perNode: Int
            var nodes: Int
        }
        var nodes: [Node] = []
        var pools: [[String: PoolShape]]
        var poolOrder: [[String]]

        init(rows nodeRows: [[String]], count n: Int, sites: Int) {
            pools = Array(repeating: [:], count: sites)
            poolOrder = Array(repeating: [], count: sites)
            for i in 0..<n { add(i, row: nodeRows[i % nodeRows.count], rows: nodeRows.count, count: n, sites: sites) }
        }

        private mutating func add(_ i: Int, row: [String], rows: Int, count n: Int, sites: Int) {
            let gpus = Int(row[3]) ?? 1
            let model = catalogIDs[row[4]] ?? "nvidia-t4"
            let s = i * sites / n
            let site = "site-\(s)"
            let pool = "\(row[4].lowercased())-\(gpus)g"
            if pools[s][pool] == nil { poolOrder[s].append(pool) }
            pools[s][pool, default: PoolShape(model: model, perNode: gpus, nodes: 0)].nodes += 1
            let name = i < rows ? row[0] : "\(row[0])-\(i / rows)"
            let labels = [
                "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                "nvidia.com/gpu.product": row[4], "sovereign.dev/site": site, "sovereign.dev/pool": pool,
            ]
            let json = nodeJSON(name: name, index: i, labels: labels, cpuMilli: row[1], memoryMiB: row[2], gpus: gpus)
            nodes.append(
                Node(
                    name: name,
                    site: site,
                    country: countries[s % countries.count],
                    domesticOperator: s % 4 != 3,
                    gpus: gpus,
                    labels: labels,
                    json: json
                )
            )
        }

        /// Site `s` with its pools; every fourth site's operator answers to a US parent, every fifth has 2 kW.
        func siteDocument(_ s: Int) -> String {
            let country = countries[s % countries.count]
            let foreign = s % 4 == 3 ? ", parentJurisdiction: US" : ""
            let grid = s % 5 == 4 ? "2 kW" : "2 MW"
            var yaml = """
                ---
                apiVersion: sovereign.dev/v1
                kind: Site
                metadata: {name: site-\(s)}
                spec:
                  jurisdiction: \(country)
                  operator: {name: Operator \(s), jurisdiction: \(country)\(foreign)}
                  power: {grid: {capacity: \(grid), carbonIntensity: \(100 + 37 * s % 400) g/kWh}}
                  cooling: {capacity: 2 MW, ambient: 25 C, pue: {base: \(1.2 + Double(s % 5) / 10)}}
                  pools:

                """
            for name in poolOrder[s] {
                guard let p = pools[s][name] else { continue }
                yaml +=
                    "    - {name: \(name), accelerator: \(p.model), count: \(p.nodes * p.perNode), perNode: \(p.perNode)}\n"
            }
            return yaml
        }
    }

    /// An `ExtenderArgs` body for `pod` and `nodes`, as kube-scheduler writes it in either mode.
    public func arguments(_ pod: Pod, nodes: [Node], nodeCacheCapable: Bool) -> [UInt8] {
        var text = "{\"Pod\":\(pod.json),"
        if nodeCacheCapable {
            text += "\"Nodes\":null,\"NodeNames\":["
            text += nodes.map { "\"\($0.name)\"" }.joined(separator: ",")
            text += "]}"
        } else {
            text += "\"Nodes\":{\"metadata\":{},\"items\":["
            text += nodes.map(\.json).joined(separator: ",")
            text += "]},\"NodeNames\":null}"
        }
        return Array(text.utf8)
    }

    static func quote(_ map: [String: String]) -> String {
        "{" + map.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    static func uid(_ index: Int, _ salt: Int) -> String {
        var g = SplitMix64(seed: UInt64(index) &* 2_654_435_761 &+ UInt64(salt))
        let a = g.next()
        let b = g.next()
        let hex = String(format: "%016llx%016llx", a, b)
        let c = Array(hex)
        return
            "\(String(c[0..<8]))-\(String(c[8..<12]))-\(String(c[12..<16]))-\(String(c[16..<20]))-\(String(c[20..<32]))"
    }

    static func nodeJSON(
        name: String,
        index: Int,
        labels: [String: String],
        cpuMilli: String,
        memoryMiB: String,
        gpus: Int
    ) -> String {
        let cpu = (Int(cpuMilli) ?? 0) / 1000
        let resources =
            "{\"cpu\":\"\(cpu)\",\"ephemeral-storage\":\"1967310512Ki\",\"hugepages-1Gi\":\"0\",\"hugepages-2Mi\":\"0\",\"memory\":\"\(memoryMiB)Mi\",\"nvidia.com/gpu\":\"\(gpus)\",\"pods\":\"110\"}"
        return """
            {"metadata":{"name":"\(name)","uid":"\(uid(index, 1))","resourceVersion":"\(1000 + index)","creationTimestamp":"2023-06-30T08:00:00Z","labels":\(quote(labels)),"annotations":{"node.alpha.kubernetes.io/ttl":"0","volumes.kubernetes.io/controller-managed-attach-detach":"true"}},"spec":{"podCIDR":"10.\(index / 256 % 256).\(index % 256).0/24","podCIDRs":["10.\(index / 256 % 256).\(index % 256).0/24"]},"status":{"capacity":\(resources),"allocatable":\(resources),"conditions":[{"type":"MemoryPressure","status":"False","lastHeartbeatTime":"2023-07-01T00:00:00Z","lastTransitionTime":"2023-06-30T08:00:00Z","reason":"KubeletHasSufficientMemory","message":"kubelet has sufficient memory available"},{"type":"DiskPressure","status":"False","lastHeartbeatTime":"2023-07-01T00:00:00Z","lastTransitionTime":"2023-06-30T08:00:00Z","reason":"KubeletHasNoDiskPressure","message":"kubelet has no disk pressure"},{"type":"PIDPressure","status":"False","lastHeartbeatTime":"2023-07-01T00:00:00Z","lastTransitionTime":"2023-06-30T08:00:00Z","reason":"KubeletHasSufficientPID","message":"kubelet has sufficient PID available"},{"type":"Ready","status":"True","lastHeartbeatTime":"2023-07-01T00:00:00Z","lastTransitionTime":"2023-06-30T08:00:10Z","reason":"KubeletReady","message":"kubelet is posting ready status"}],"addresses":[{"type":"InternalIP","address":"10.\(index / 256 % 256).\(index % 256).1"},{"type":"Hostname","address":"\(name)"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},"nodeInfo":{"machineID":"\(uid(index, 2).replacingOccurrences(of: "-", with: ""))","systemUUID":"\(uid(index, 3))","bootID":"\(uid(index, 4))","kernelVersion":"5.10.134-13.an8.x86_64","osImage":"Alibaba Cloud Linux 3","containerRuntimeVersion":"containerd://1.6.20","kubeletVersion":"v1.26.3","kubeProxyVersion":"v1.26.3","operatingSystem":"linux","architecture":"amd64"},"images":[{"names":["nvcr.io/nvidia/k8s-device-plugin@sha256:\(uid(index, 5).replacingOccurrences(of: "-", with: ""))","nvcr.io/nvidia/k8s-device-plugin:v0.14.0"],"sizeBytes":126578114},{"names":["registry.k8s.io/pause:3.9"],"sizeBytes":321520}]}}
            """
    }

    static func podJSON(
        name: String,
        index: Int,
        annotations: [String: String],
        cpuMilli: String,
        memoryMiB: String,
        gpus: Int,
        qos: String
    ) -> String {
        let gpu = gpus > 0 ? ",\"nvidia.com/gpu\":\"\(gpus)\"" : ""
        let limits = gpus > 0 ? "\"limits\":{\"nvidia.com/gpu\":\"\(gpus)\"}," : ""
        return """
            {"metadata":{"name":"\(name)","namespace":"default","uid":"\(uid(index, 6))","resourceVersion":"\(20000 + index)","creationTimestamp":"2023-07-01T00:00:00Z","labels":{"app":"openb","qos":"\(qos)"},"annotations":\(quote(annotations))},"spec":{"containers":[{"name":"main","image":"registry.invalid/openb/worker:2023","resources":{\(limits)"requests":{"cpu":"\(cpuMilli)m","memory":"\(memoryMiB)Mi"\(gpu)}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default","securityContext":{},"schedulerName":"sovereign-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{"phase":"Pending","qosClass":"Burstable"}}
            """
    }
}
