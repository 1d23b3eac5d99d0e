import SovereignBase

/// The part of a `v1.Pod` the extender reads.
public struct PodRequest: Sendable, Hashable {
    public var namespace = "default"
    public var name = ""
    public var annotations: [String: String] = [:]
    /// `spec.priority`, when the admission controller set it.
    public var priority = 0
    /// Accelerators the pod asks for by extended resource (`nvidia.com/gpu: 8`): the larger of the app
    /// containers' sum and any one init container, as kube-scheduler counts requests.
    public var accelerators: [String: Int] = [:]

    /// `namespace/name`.
    public var qualifiedName: String { "\(namespace)/\(name)" }

    /// Extended resources that are accelerators, by device plugin.
    public static let acceleratorResources: Set<String> = [
        "nvidia.com/gpu", "amd.com/gpu", "habana.ai/gaudi", "huawei.com/Ascend910", "huawei.com/Ascend910B",
        "huawei.com/Ascend310P", "gpu.intel.com/i915", "gpu.intel.com/xe",
    ]

    /// Accelerators asked for, all resources together.
    public var acceleratorCount: Int { accelerators.values.reduce(0, +) }

    /// The accelerators a pod holds, as kube-scheduler counts requests: per resource, the larger of the app
    /// containers' sum and any one init container; resources asked for zero times are left out.
    ///
    /// - Parameters:
    ///   - containers: Each app container's accelerator requests (limits win).
    ///   - initContainers: Each init container's.
    static func accelerators(containers: [[String: Int]], initContainers: [[String: Int]]) -> [String: Int] {
        var sum: [String: Int] = [:]
        for container in containers { sum.merge(container, uniquingKeysWith: +) }
        var initMax: [String: Int] = [:]
        for container in initContainers { initMax.merge(container, uniquingKeysWith: max) }
        return sum.merging(initMax, uniquingKeysWith: max).filter { $0.value > 0 }
    }
}

/// One node of a full-mode request: what Sovereign reads, and where the whole object sits in the body.
struct NodeEntry {
    let name: String
    let labels: [String: String]
    let raw: Range<Int>
}

/// `ExtenderArgs` from `k8s.io/kube-scheduler/extender/v1`: the pod and either node objects (full mode)
/// or node names (`nodeCacheCapable`). Keys are Go field names, matched case-insensitively as Go's
/// `encoding/json` matches them; unknown keys are skipped (a newer kube-scheduler may add some).
struct ExtenderArguments {
    var pod = PodRequest()
    var nodes: [NodeEntry]?
    var nodeNames: [String]?
    let body: [UInt8]

    /// Names of the nodes asked about, in the request's order (from the same list the placements come from).
    var names: [String] { nodes?.map(\.name) ?? nodeNames ?? [] }

    /// Decodes a request body.
    ///
    /// - Throws: ``ExtenderRequestError`` naming the field and byte offset of the first problem.
    /// - Complexity: O(body bytes).
    init(body: [UInt8]) throws(ExtenderRequestError) {
        self.body = body
        if let bad = Self.firstInvalidUTF8(body) {
            throw ExtenderRequestError(
                field: "",
                offset: bad,
                expected: "UTF-8 text",
                found: "an invalid byte sequence"
            )
        }
        let (sawPod, pod, nodes, nodeNames) = try body.withUnsafeBufferPointer {
            buffer throws(ExtenderRequestError) in
            var s = JSONScanner(buffer)
            let arguments = try Self.arguments(&s)
            try s.expectEnd()
            return arguments
        }
        guard sawPod else {
            throw ExtenderRequestError(field: "Pod", offset: 0, expected: "a v1.Pod object", found: "none")
        }
        if nodes != nil, nodeNames != nil {
            throw ExtenderRequestError(
                field: "NodeNames",
                offset: 0,
                expected: "Nodes (full mode) or NodeNames (nodeCacheCapable), not both",
                found: "both"
            )
        }
        guard nodes != nil || nodeNames != nil else {
            throw ExtenderRequestError(
                field: "Nodes",
                offset: 0,
                expected: "Nodes (a v1.NodeList) or NodeNames (a list of names)",
                found: "neither"
            )
        }
        self.pod = pod
        self.nodes = nodes
        self.nodeNames = nodeNames
    }

    /// The top-level members of a request: whether it had a pod, the pod, and the nodes or node names.
    private static func arguments(
        _ s: inout JSONScanner
    ) throws(ExtenderRequestError) -> (Bool, PodRequest, [NodeEntry]?, [String]?) {
        var sawPod = false
        var pod = PodRequest()
        var nodes: [NodeEntry]?
        var nodeNames: [String]?
        var seen = Set<String>()
        try s.object { s, key throws(ExtenderRequestError) in
            let start = s.index
            // Go's decoder would keep the last of a repeated key; a request that says two things is refused.
            guard seen.insert(key.lowercased()).inserted else {
                throw s.error("each of Pod, Nodes and NodeNames at most once (\(key) again)", at: start)
            }
            switch key.lowercased() {
            case "pod":
                s.path = "Pod"
                if s.consumeNull() { return }
                pod = try Self.pod(&s)
                sawPod = true
            case "nodes":
                s.path = "Nodes"
                if s.consumeNull() { return }
                nodes = try Self.nodeList(&s)
            case "nodenames":
                s.path = "NodeNames"
                if s.consumeNull() { return }
                var names: [String] = []
                try s.array { s, _ throws(ExtenderRequestError) in names.append(try s.string()) }
                nodeNames = names
            default:
                try s.skipValue()
            }
        }
        return (sawPod, pod, nodes, nodeNames)
    }

    /// The offset of the first byte that does not start or continue a well-formed UTF-8 sequence (RFC 3629:
    /// no overlongs, no surrogates, nothing above U+10FFFF), or `nil`. JSON text must be UTF-8, and full-mode
    /// node objects are echoed as they came.
    ///
    /// - Complexity: O(n); ASCII runs cost one comparison per byte.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                high = 0x9F
            case 0xF0:
                length = 4
                low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                high = 0x8F
            default: return i
            }
            guard i + length <= n, bytes[i + 1] >= low, bytes[i + 1] <= high else { return i }
            for k in 2..<length where bytes[i + k] < 0x80 || bytes[i + k] > 0xBF { return i }
            i += length
        }
        return nil
    }

    private static func pod(_ s: inout JSONScanner) throws(ExtenderRequestError) -> PodRequest {
        var pod = PodRequest()
        var containers: [[String: Int]] = []
        var initContainers: [[String: Int]] = []
        try s.object { s, key throws(ExtenderRequestError) in
            switch key {
            case "metadata":
                try s.object { s, key throws(ExtenderRequestError) in
                    switch key {
                    case "name": pod.name = try s.string()
                    case "namespace": pod.namespace = try s.string()
                    case "annotations": pod.annotations = try s.stringMap()
                    default: try s.skipValue()
                    }
                }
            case "spec":
                try s.object { s, key throws(ExtenderRequestError) in
                    switch key {
                    case "priority":
                        if !s.consumeNull() { pod.priority = try s.integer("an integer priority") }
                    case "containers":
                        if s.consumeNull() { return }
                        try s.array { s, _ throws(ExtenderRequestError) in
                            containers.append(try Self.containerAccelerators(&s))
                        }
                    case "initContainers":
                        if s.consumeNull() { return }
                        try s.array { s, _ throws(ExtenderRequestError) in
                            initContainers.append(try Self.containerAccelerators(&s))
                        }
                    default: try s.skipValue()
                    }
                }
            default: try s.skipValue()
            }
        }
        pod.accelerators = PodRequest.accelerators(containers: containers, initContainers: initContainers)
        return pod
    }

    /// A container's accelerator requests: limits win (extended resources must have requests equal to limits).
    private static func containerAccelerators(_ s: inout JSONScanner) throws(ExtenderRequestError) -> [String: Int] {
        var requests: [String: Int] = [:]
        var limits: [String: Int] = [:]
        try s.object { s, key throws(ExtenderRequestError) in
            guard key == "resources", !s.consumeNull() else {
                if key != "resources" { try s.skipValue() }
                return
            }
            try s.object { s, key throws(ExtenderRequestError) in
                switch key {
                case "requests": requests = try Self.quantities(&s)
                case "limits": limits = try Self.quantities(&s)
                default: try s.skipValue()
                }
            }
        }
        return requests.merging(limits) { _, limit in limit }
    }

    /// Accelerator quantities of a resource list: whole numbers (the API server refuses fractions of
    /// extended resources), as strings or numbers.
    private static func quantities(_ s: inout JSONScanner) throws(ExtenderRequestError) -> [String: Int] {
        var out: [String: Int] = [:]
        if s.consumeNull() { return out }
        try s.object { s, key throws(ExtenderRequestError) in
            guard PodRequest.acceleratorResources.contains(key) else {
                try s.skipValue()
                return
            }
            let start = s.index
            let value: Int?
            if s.peek() == UInt8(ascii: "\"") {
                value = Int(try s.string())
            } else {
                value = try s.integer("a whole number of accelerators")
            }
            guard let value, value >= 0, value <= 1 << 20 else {
                throw s.error("a whole number of accelerators (0...1048576)", at: start)
            }
            out[key] = value
        }
        return out
    }

    private static func nodeList(_ s: inout JSONScanner) throws(ExtenderRequestError) -> [NodeEntry] {
        var nodes: [NodeEntry] = []
        try s.object { s, key throws(ExtenderRequestError) in
            guard key == "items", !s.consumeNull() else {
                if key != "items" { try s.skipValue() }
                return
            }
            try s.array { s, _ throws(ExtenderRequestError) in
                _ = s.peek()
                let start = s.index
                var name: String?
                var labels: [String: String] = [:]
                try s.object { s, key throws(ExtenderRequestError) in
                    guard key == "metadata" else {
                        try s.skipValue()
                        return
                    }
                    try s.object { s, key throws(ExtenderRequestError) in
                        switch key {
                        case "name": name = try s.string()
                        case "labels": labels = try s.stringMap()
                        default: try s.skipValue()
                        }
                    }
                }
                guard let name, !name.isEmpty else {
                    throw s.error("a node with metadata.name", at: start)
                }
                nodes.append(NodeEntry(name: name, labels: labels, raw: start..<s.index))
            }
        }
        return nodes
    }
}

/// Writes JSON bytes directly: the replies are small and hot, and their key order is kube-scheduler's.
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A JSON string literal, control characters other than `\t \n \r` as `\u00xx`.
    mutating func string(_ text: String) {
        JSONString.write(text, to: &bytes, escapes: .whitespaceNamed)
    }

    mutating func integer(_ value: Int) {
        bytes.append(contentsOf: Array(String(value).utf8))
    }

    /// `{"k":"v",...}` in the given order; each distinct value is escaped once (reasons repeat per pool).
    mutating func stringMap(_ pairs: [(String, String)]) {
        bytes.append(UInt8(ascii: "{"))
        var encoded: [String: [UInt8]] = [:]
        for (i, (k, v)) in pairs.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(k)
            bytes.append(UInt8(ascii: ":"))
            if let value = encoded[v] {
                bytes.append(contentsOf: value)
            } else {
                var one = JSONWriter(capacity: v.utf8.count + 2)
                one.string(v)
                encoded[v] = one.bytes
                bytes.append(contentsOf: one.bytes)
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }
}
