import Foundation
import SovereignBase

extension FleetDecoder {
    /// A Workload document's spec, decoded part by part in the order its diagnostics are reported.
    func decodeWorkload(name: String, labels: [String: String], _ spec: SpecNode) -> WorkloadEntry {
        guard let f = spec.fields("Workload", allowed: Self.workloadFields) else {
            return WorkloadEntry(workload: nil, datasetNodes: [], acceleratorNode: nil, fitNode: nil, servedFrom: [])
        }
        let types = WorkloadType.allCases.map(\.rawValue).joined(separator: ", ")
        var parts = WorkloadParts(type: f.required("type", "a workload type (\(types))")?.choice(WorkloadType.self))
        decodeModel(f, into: &parts)
        parts.datasetNodes = decodeDatasetNames(f)
        if parts.type == .inference { refuseTrainingFields(f) }
        decodeCompute(f, into: &parts)
        decodeAccelerators(f, into: &parts)
        parts.mfu =
            f["mfu"].map { $0.fraction(in: 0.001...1, expected: "a model FLOPs utilisation in 0.001...1") } ?? 0.4
        decodeCheckpoint(f, into: &parts)
        decodeSchedule(f, into: &parts)
        decodeServing(f, into: &parts)
        parts.memoryNode = f["memory"]
        parts.memory = parts.memoryNode.map { $0.quantity(DataSize.self, positive: true) }
        parts.run = f["run"].map { decodeRun($0) }
        parts.softwareNodes = f["software"].flatMap { $0.strings(of: "SoftwareComponent names") } ?? []
        decodeWorkloadFederation(f, into: &parts)
        return parts.entry(name: name, labels: labels)
    }

    static let workloadFields = [
        "type", "model", "datasets", "compute", "accelerators", "mfu", "checkpoint", "priority", "arrival", "deadline",
        "preemptible", "precision", "demand", "servedFrom", "memory", "run", "federation", "software",
    ]

    /// `model: {name, parameters, kvCache}`.
    private func decodeModel(_ f: SpecFields, into parts: inout WorkloadParts) {
        guard let m = f.required("model", "a model {parameters}"),
            let mf = m.fields("model", allowed: ["name", "parameters", "kvCache"])
        else { return }
        if let n = mf["name"] {
            if let text = n.name("the name of a Model document") {
                parts.modelNameNode = (text, n)
            } else {
                parts.modelNameOK = false
            }
        }
        parts.parametersNode = mf.required("parameters", "a parameter count like \"7B\"")
        let parameters = parts.parametersNode?.count("a parameter count like \"7B\"")
        let kvCache = mf["kvCache"].map { $0.quantity(DataSize.self) }
        if let parameters, kvCache != .some(nil) {
            parts.model = Workload.Model(parameters: parameters, kvCache: kvCache ?? nil)
        }
    }

    /// `datasets: [...]`, each named once.
    private func decodeDatasetNames(_ f: SpecFields) -> [(String, SpecNode)] {
        let datasetNodes = f["datasets"].flatMap { $0.strings(of: "dataset names") } ?? []
        var seen: [String: SpecNode] = [:]
        for (dataset, node) in datasetNodes {
            if let earlier = seen[dataset] {
                node.report(.duplicateName, expected: "each dataset once (\"\(dataset)\" is at \(earlier.location))")
            }
            seen[dataset] = node
        }
        return datasetNodes
    }

    /// An inference service runs for as long as it is placed: it has no compute to finish and nothing to checkpoint.
    private func refuseTrainingFields(_ f: SpecFields) {
        for field in ["compute", "checkpoint"] {
            if let node = f[field] {
                node.report(
                    .badValue,
                    expected: "no \(field) on an inference service (it runs for as long as it is placed)",
                    found: "\(field) on an inference workload"
                )
            }
        }
    }

    /// `compute: {tokens | flops | acceleratorHours, on}`, required for everything but inference.
    private func decodeCompute(_ f: SpecFields, into parts: inout WorkloadParts) {
        guard let c = f["compute"],
            let cf = c.fields("compute", allowed: ["tokens", "flops", "acceleratorHours", "on"])
        else {
            if f.has("compute") {
                parts.computeOK = false
            } else if let type = parts.type, type != .inference {
                _ = f.required("compute", "the compute it needs: {tokens}, {flops} or {acceleratorHours, on}")
                parts.computeOK = false
            }
            return
        }
        let given = ["tokens", "flops", "acceleratorHours"].filter { cf.has($0) }
        if given.count != 1 {
            c.report(
                .badValue,
                expected: "exactly one of tokens, flops or acceleratorHours",
                found: given.isEmpty ? "none" : given.joined(separator: " and ")
            )
            parts.computeOK = false
        } else if let t = cf["tokens"] {
            parts.compute = t.count("a token count like \"2B\"").map { .tokens($0) }
        } else if let fl = cf["flops"] {
            parts.compute = fl.count("a FLOP count like 8.4e19").map { .flops($0) }
        } else if let h = cf["acceleratorHours"] {
            let hours = h.number(in: 0.000_001...1e12, expected: "accelerator-hours above zero")
            let onNode = cf.required("on", "the accelerator model those hours were measured on")
            let on = onNode?.string()
            if let on, let onNode { parts.acceleratorNode = (on, onNode) }
            if let hours, let on { parts.compute = .acceleratorHours(hours, on: on) }
        }
        if cf.has("on"), !cf.has("acceleratorHours"), let node = cf["on"] {
            node.report(.badValue, expected: "\"on\" only together with acceleratorHours", found: "\"on\" alone")
            parts.computeOK = false
        }
        parts.computeOK = parts.computeOK && parts.compute != nil
    }

    /// `accelerators: {min, max, scaling}`.
    private func decodeAccelerators(_ f: SpecFields, into parts: inout WorkloadParts) {
        guard let a = f["accelerators"], let af = a.fields("accelerators", allowed: ["min", "max", "scaling"])
        else {
            if f.has("accelerators") { parts.acceleratorsOK = false }
            return
        }
        let minNode = af["min"]
        parts.acceleratorsMinNode = minNode
        let min = minNode.map { $0.integer(in: 1...10_000_000, expected: "at least 1 accelerator") } ?? 1
        let max = af.required("max", "the most accelerators it may use")?.integer(
            in: 1...10_000_000,
            expected: "at least 1 accelerator"
        )
        if let min, let max, min > max, let minNode {
            minNode.report(.minAboveMax, expected: "at most max (\(max))")
            parts.acceleratorsOK = false
        }
        let scaling =
            af["scaling"].map {
                $0.fraction(in: 0.5...1, expected: "a scaling efficiency per doubling of accelerators in 0.5...1")
            } ?? 1
        if scaling == nil { parts.acceleratorsOK = false }
        if let min, let max, let scaling, parts.acceleratorsOK {
            parts.accelerators = Workload.AcceleratorRange(min: min, max: max, scaling: scaling)
        }
        parts.acceleratorsOK = parts.acceleratorsOK && parts.accelerators != nil
    }

    /// `checkpoint: {every, size, replicate}`.
    private func decodeCheckpoint(_ f: SpecFields, into parts: inout WorkloadParts) {
        guard let c = f["checkpoint"], let cf = c.fields("checkpoint", allowed: ["every", "size", "replicate"])
        else {
            if f.has("checkpoint") { parts.checkpointOK = false }
            return
        }
        let every = cf.required("every", TimeSpan.expectation)?.quantity(TimeSpan.self, positive: true)
        let size = cf["size"].map { $0.quantity(DataSize.self, positive: true) }
        let replicate = cf["replicate"].map {
            $0.integer(in: 0...16, expected: "a number of extra copies in 0...16")
        }
        if let every, size != .some(nil), replicate != .some(nil) {
            var checkpoint = Workload.Checkpointing(every: every, size: size ?? nil)
            checkpoint.replicate = (replicate ?? nil) ?? 0
            parts.checkpoint = checkpoint
        }
        parts.checkpointOK = parts.checkpoint != nil
    }

    /// `priority`, `arrival`, `deadline` (after arrival) and `preemptible` (inference services are not, by default).
    private func decodeSchedule(_ f: SpecFields, into parts: inout WorkloadParts) {
        parts.priority = f["priority"].map { $0.integer(in: 0...1_000_000, expected: "a priority in 0...1000000") } ?? 0
        parts.arrival = f["arrival"].map { $0.instant() }
        let deadlineNode = f["deadline"]
        parts.deadline = deadlineNode.map { $0.instant() }
        if let arrival = parts.arrival ?? nil, let deadline = parts.deadline ?? nil, deadline <= arrival,
            let deadlineNode
        {
            deadlineNode.report(
                .deadlineBeforeArrival,
                expected: "a deadline after arrival \(ISO8601.format(epochSeconds: arrival.timeIntervalSince1970))",
                found: ISO8601.format(epochSeconds: deadline.timeIntervalSince1970)
            )
        }
        parts.preemptible = f["preemptible"].map { $0.bool() } ?? .some(parts.type.map { $0 != .inference } ?? true)
    }

    /// `precision`, `demand` and `servedFrom`: what only inference workloads state.
    private func decodeServing(_ f: SpecFields, into parts: inout WorkloadParts) {
        decodePrecision(f, into: &parts)
        decodeDemand(f, into: &parts)
        if let s = f["servedFrom"] {
            if let type = parts.type, type != .inference {
                s.report(
                    .badValue,
                    expected: "servedFrom only on inference (serving) workloads",
                    found: "it on a \(type.rawValue) workload"
                )
            } else {
                parts.servedFrom = jurisdictions(s, what: "jurisdictions") ?? []
            }
        }
    }

    /// `precision: [fp16, int8, ...]`, on inference and batch inference only.
    private func decodePrecision(_ f: SpecFields, into parts: inout WorkloadParts) {
        guard let p = f["precision"] else { return }
        if let type = parts.type, type != .inference, type != .batchInference {
            p.report(
                .badValue,
                expected: "precision only on inference workloads",
                found: "it on a \(type.rawValue) workload"
            )
            parts.precisionOK = false
        } else if let items = p.list(of: "precisions") {
            for item in items {
                if let value = item.choice(Precision.self) {
                    parts.precision.append(value)
                } else {
                    parts.precisionOK = false
                }
            }
        } else {
            parts.precisionOK = false
        }
    }

    /// `demand: {tokensPerSecond}`, required on inference services and refused elsewhere.
    private func decodeDemand(_ f: SpecFields, into parts: inout WorkloadParts) {
        guard let d = f["demand"] else {
            if parts.type == .inference {
                _ = f.required("demand", "the demand it must serve: {tokensPerSecond}")
                parts.demandOK = false
            }
            return
        }
        if let type = parts.type, type != .inference {
            d.report(
                .badValue,
                expected: "demand only on inference (serving) workloads",
                found: "it on a \(type.rawValue) workload"
            )
            parts.demandOK = false
        } else if let df = d.fields("demand", allowed: ["tokensPerSecond"]) {
            parts.tokensPerSecond = df.required("tokensPerSecond", "tokens per second the service must sustain")?
                .number(in: 0.000_001...1e12, expected: "tokens per second above zero")
            parts.demandOK = parts.tokensPerSecond != nil
        } else {
            parts.demandOK = false
        }
    }

    /// `federation: {...}` on federated workloads only, which have no `run` (their sites run `sovereign agent`).
    private func decodeWorkloadFederation(_ f: SpecFields, into parts: inout WorkloadParts) {
        if let node = f["federation"] {
            if let type = parts.type, type != .federated {
                node.report(
                    .badValue,
                    expected: "federation only on federated workloads",
                    found: "it on a \(type.rawValue) workload"
                )
                parts.federation = .some(nil)
            } else {
                let decoded = decodeFederation(node, participants: parts.datasetNodes.count)
                parts.federation = .some(decoded.federation)
                parts.coordinatorNode = decoded.coordinator
            }
        }
        if let node = f["run"], parts.type == .federated {
            node.report(
                .badValue,
                expected: "no run on a federated workload (its sites run `sovereign agent`)",
                found: "run on a federated workload"
            )
        }
    }

    /// `run: {command: [...], env: {...}, gracePeriod: 60 s, attempts: 3}`: how the control plane starts it.
    /// `run: {command, image, env, gracePeriod, attempts}`: `command` is required unless an `image` is given (the
    /// image's own command runs then); with an image it is the container's arguments.
    func decodeRun(_ node: SpecNode) -> Workload.Run? {
        guard let f = node.fields("run", allowed: ["command", "image", "env", "gracePeriod", "attempts"]) else {
            return nil
        }
        let image = f["image"].map(decodeImage)
        let command = decodeCommand(f, imageGiven: image != nil)
        var environment: [String: String]? = [:]
        if let e = f["env"] {
            environment = stringMap(e)
            for key in environment?.keys.sorted() ?? [] where key.hasPrefix("SOVEREIGN_") {
                e.report(
                    .badValue,
                    expected: "no SOVEREIGN_* variables (the server sets them)",
                    found: "\"\(key)\""
                )
                environment = nil
            }
        }
        let grace =
            f["gracePeriod"].map { $0.quantity(TimeSpan.self, positive: true) } ?? Workload.Run.defaultGracePeriod
        let attempts =
            f["attempts"].map { $0.integer(in: 1...1000, expected: "1 to 1000 attempts") }
            ?? Workload.Run.defaultMaxAttempts
        guard let command, image != .some(nil), let environment, let grace, let attempts else { return nil }
        return Workload.Run(
            command: command,
            image: image ?? nil,
            environment: environment,
            gracePeriod: grace,
            maxAttempts: attempts
        )
    }

    /// `command: [program, args...]`, required without an image; with one, absent means the image's own command.
    private func decodeCommand(_ f: SpecFields, imageGiven: Bool) -> [String]? {
        let expected =
            imageGiven
            ? "the container's arguments, like [python3, train.py]"
            : "the program and its arguments, like [python3, train.py]"
        guard let commandNode = imageGiven ? f["command"] : f.required("command", expected) else {
            return imageGiven ? [] : nil
        }
        guard let command = commandNode.strings(of: expected)?.map(\.0) else { return nil }
        if command.isEmpty {
            commandNode.report(
                .badValue,
                expected: imageGiven
                    ? "at least one argument (or no command: the image's own)" : "at least the program to run",
                found: "an empty list"
            )
            return nil
        }
        return command
    }

    /// `image: REFERENCE`, an OCI image reference.
    private func decodeImage(_ node: SpecNode) -> String? {
        let expected = "an OCI image reference like registry.example/team/train:1.4"
        guard let text = node.string(expected) else { return nil }
        if let problem = ImageReference.problem(in: text) {
            node.report(.badValue, expected: expected, found: "\"\(text)\" (\(problem))")
            return nil
        }
        return text
    }
}

/// A Workload spec's parts as they are decoded: a value and whether its field decoded (a missing optional field
/// decodes), so that one invalid field refuses the workload after every field has reported its problems.
struct WorkloadParts {
    let type: WorkloadType?
    var model: Workload.Model?
    var parametersNode: SpecNode?
    var modelNameNode: (String, SpecNode)?
    var modelNameOK = true
    var datasetNodes: [(String, SpecNode)] = []
    var compute: ComputeDemand?
    var computeOK = true
    var acceleratorNode: (String, SpecNode)?
    var accelerators: Workload.AcceleratorRange?
    var acceleratorsOK = true
    var acceleratorsMinNode: SpecNode?
    var mfu: Double?
    var checkpoint: Workload.Checkpointing?
    var checkpointOK = true
    var priority: Int?
    var arrival: Date??
    var deadline: Date??
    var preemptible: Bool?
    var precision: [Precision] = []
    var precisionOK = true
    var tokensPerSecond: Double?
    var demandOK = true
    var servedFrom: [(String, SpecNode)] = []
    var memoryNode: SpecNode?
    var memory: DataSize??
    var run: Workload.Run??
    var softwareNodes: [(String, SpecNode)] = []
    var federation: Federation?? = nil
    var coordinatorNode: (String, SpecNode)?

    init(type: WorkloadType?) { self.type = type }

    /// The decoded workload with the nodes the cross-document checks need; no workload when any part failed.
    func entry(name: String, labels: [String: String]) -> FleetDecoder.WorkloadEntry {
        guard let workload = workload(name: name, labels: labels) else {
            return FleetDecoder.WorkloadEntry(
                workload: nil,
                datasetNodes: datasetNodes,
                acceleratorNode: acceleratorNode,
                fitNode: nil,
                servedFrom: servedFrom,
                coordinatorNode: coordinatorNode,
                modelNameNode: modelNameNode,
                softwareNodes: softwareNodes
            )
        }
        return FleetDecoder.WorkloadEntry(
            workload: workload,
            datasetNodes: datasetNodes,
            acceleratorNode: acceleratorNode,
            fitNode: memoryNode ?? parametersNode,
            servedFrom: servedFrom,
            minNode: acceleratorsMinNode,
            coordinatorNode: coordinatorNode,
            parametersNode: parametersNode,
            modelNameNode: modelNameNode,
            softwareNodes: softwareNodes
        )
    }

    private func workload(name: String, labels: [String: String]) -> Workload? {
        guard let type, let model, computeOK || type == .inference, acceleratorsOK, let mfu, checkpointOK,
            let priority, arrival != .some(nil), deadline != .some(nil), let preemptible, precisionOK, demandOK,
            memory != .some(nil), run != .some(nil), federation != .some(nil), !(type == .federated && run != nil),
            modelNameOK
        else { return nil }
        var workload = Workload(
            name: name,
            labels: labels,
            type: type,
            model: model,
            datasets: datasetNodes.map(\.0),
            compute: compute,
            accelerators: accelerators,
            mfu: mfu,
            checkpoint: checkpoint,
            priority: priority,
            arrival: arrival ?? nil,
            deadline: deadline ?? nil,
            preemptible: preemptible,
            precision: precision,
            tokensPerSecond: tokensPerSecond,
            servedFrom: servedFrom.map(\.0),
            memory: memory ?? nil,
            run: run ?? nil,
            federation: federation ?? nil
        )
        workload.modelName = modelNameNode?.0
        workload.software = softwareNodes.map(\.0)
        return workload
    }
}
