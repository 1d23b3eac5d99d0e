import Foundation
import SovereignBase

extension FleetDecoder {
    func decodeWorkload(name: String, labels: [String: String], _ spec: SpecNode) -> WorkloadEntry {
        let empty = WorkloadEntry(workload: nil, datasetNodes: [], acceleratorNode: nil, fitNode: nil, servedFrom: [])
        guard
            let f = spec.fields(
                "Workload",
                allowed: [
                    "type", "model", "datasets", "compute", "accelerators", "mfu", "checkpoint", "priority",
                    "arrival", "deadline", "preemptible", "precision", "demand", "servedFrom", "memory",
                    "run", "federation", "software",
                ]
            )
        else { return empty }
        let types = WorkloadType.allCases.map(\.rawValue).joined(separator: ", ")
        let type = f.required("type", "a workload type (\(types))")?.choice(WorkloadType.self)
        let isInference = type == .inference || type == .batchInference

        var model: Workload.Model?
        var parametersNode: SpecNode?
        var modelNameNode: (String, SpecNode)?
        var modelNameOK = true
        if let m = f.required("model", "a model {parameters}"),
            let mf = m.fields("model", allowed: ["name", "parameters", "kvCache"])
        {
            if let n = mf["name"] {
                if let text = n.name("the name of a Model document") {
                    modelNameNode = (text, n)
                } else {
                    modelNameOK = false
                }
            }
            parametersNode = mf.required("parameters", "a parameter count like \"7B\"")
            let parameters = parametersNode?.count("a parameter count like \"7B\"")
            let kvCache = mf["kvCache"].map { $0.quantity(DataSize.self) }
            if let parameters, kvCache != .some(nil) {
                model = Workload.Model(parameters: parameters, kvCache: kvCache ?? nil)
            }
        }

        let datasetNodes = f["datasets"].flatMap { $0.strings(of: "dataset names") } ?? []
        var seenDatasets: [String: SpecNode] = [:]
        for (dataset, node) in datasetNodes {
            if let earlier = seenDatasets[dataset] {
                node.report(.duplicateName, expected: "each dataset once (\"\(dataset)\" is at \(earlier.location))")
            }
            seenDatasets[dataset] = node
        }
        if type == .inference {
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

        var compute: ComputeDemand?
        var computeOK = true
        var acceleratorNode: (String, SpecNode)?
        if let c = f["compute"], let cf = c.fields("compute", allowed: ["tokens", "flops", "acceleratorHours", "on"]) {
            let given = ["tokens", "flops", "acceleratorHours"].filter { cf.has($0) }
            if given.count != 1 {
                c.report(
                    .badValue,
                    expected: "exactly one of tokens, flops or acceleratorHours",
                    found: given.isEmpty ? "none" : given.joined(separator: " and ")
                )
                computeOK = false
            } else if let t = cf["tokens"] {
                compute = t.count("a token count like \"2B\"").map { .tokens($0) }
            } else if let fl = cf["flops"] {
                compute = fl.count("a FLOP count like 8.4e19").map { .flops($0) }
            } else if let h = cf["acceleratorHours"] {
                let hours = h.number(in: 0.000_001...1e12, expected: "accelerator-hours above zero")
                let onNode = cf.required("on", "the accelerator model those hours were measured on")
                let on = onNode?.string()
                if let on, let onNode { acceleratorNode = (on, onNode) }
                if let hours, let on { compute = .acceleratorHours(hours, on: on) }
            }
            if cf.has("on"), !cf.has("acceleratorHours"), let node = cf["on"] {
                node.report(.badValue, expected: "\"on\" only together with acceleratorHours", found: "\"on\" alone")
                computeOK = false
            }
            computeOK = computeOK && compute != nil
        } else if f.has("compute") {
            computeOK = false
        } else if let type, type != .inference {
            _ = f.required("compute", "the compute it needs: {tokens}, {flops} or {acceleratorHours, on}")
            computeOK = false
        }

        var accelerators: Workload.AcceleratorRange?
        var acceleratorsOK = true
        var acceleratorsMinNode: SpecNode?
        if let a = f["accelerators"], let af = a.fields("accelerators", allowed: ["min", "max"]) {
            let minNode = af["min"]
            acceleratorsMinNode = minNode
            let min = minNode.map { $0.integer(in: 1...10_000_000, expected: "at least 1 accelerator") } ?? 1
            let max = af.required("max", "the most accelerators it may use")?.integer(
                in: 1...10_000_000,
                expected: "at least 1 accelerator"
            )
            if let min, let max, min > max, let minNode {
                minNode.report(.minAboveMax, expected: "at most max (\(max))")
                acceleratorsOK = false
            }
            if let min, let max, acceleratorsOK { accelerators = Workload.AcceleratorRange(min: min, max: max) }
            acceleratorsOK = acceleratorsOK && accelerators != nil
        } else if f.has("accelerators") {
            acceleratorsOK = false
        }

        let mfu = f["mfu"].map { $0.fraction(in: 0.001...1, expected: "a model FLOPs utilisation in 0.001...1") } ?? 0.4

        var checkpoint: Workload.Checkpointing?
        var checkpointOK = true
        if let c = f["checkpoint"], let cf = c.fields("checkpoint", allowed: ["every", "size"]) {
            let every = cf.required("every", TimeSpan.expectation)?.quantity(TimeSpan.self, positive: true)
            let size = cf["size"].map { $0.quantity(DataSize.self, positive: true) }
            if let every, size != .some(nil) { checkpoint = Workload.Checkpointing(every: every, size: size ?? nil) }
            checkpointOK = checkpoint != nil
        } else if f.has("checkpoint") {
            checkpointOK = false
        }

        let priority = f["priority"].map { $0.integer(in: 0...1_000_000, expected: "a priority in 0...1000000") } ?? 0
        let arrival = f["arrival"].map { $0.instant() }
        let deadlineNode = f["deadline"]
        let deadline = deadlineNode.map { $0.instant() }
        if let arrival = arrival ?? nil, let deadline = deadline ?? nil, deadline <= arrival, let deadlineNode {
            deadlineNode.report(
                .deadlineBeforeArrival,
                expected: "a deadline after arrival \(ISO8601.format(epochSeconds: arrival.timeIntervalSince1970))",
                found: ISO8601.format(epochSeconds: deadline.timeIntervalSince1970)
            )
        }
        let preemptible = f["preemptible"].map { $0.bool() } ?? .some(type.map { !($0 == .inference) } ?? true)

        var precision: [Precision] = []
        var precisionOK = true
        if let p = f["precision"] {
            if !isInference, type != nil {
                p.report(
                    .badValue,
                    expected: "precision only on inference workloads",
                    found: "it on a \(type!.rawValue) workload"
                )
                precisionOK = false
            } else if let items = p.list(of: "precisions") {
                for item in items {
                    if let value = item.choice(Precision.self) { precision.append(value) } else { precisionOK = false }
                }
            } else {
                precisionOK = false
            }
        }

        var tokensPerSecond: Double?
        var demandOK = true
        if let d = f["demand"] {
            if type != .inference, type != nil {
                d.report(
                    .badValue,
                    expected: "demand only on inference (serving) workloads",
                    found: "it on a \(type!.rawValue) workload"
                )
                demandOK = false
            } else if let df = d.fields("demand", allowed: ["tokensPerSecond"]) {
                tokensPerSecond = df.required("tokensPerSecond", "tokens per second the service must sustain")?
                    .number(in: 0.000_001...1e12, expected: "tokens per second above zero")
                demandOK = tokensPerSecond != nil
            } else {
                demandOK = false
            }
        } else if type == .inference {
            _ = f.required("demand", "the demand it must serve: {tokensPerSecond}")
            demandOK = false
        }

        var servedFrom: [(String, SpecNode)] = []
        if let s = f["servedFrom"] {
            if type != .inference, type != nil {
                s.report(
                    .badValue,
                    expected: "servedFrom only on inference (serving) workloads",
                    found: "it on a \(type!.rawValue) workload"
                )
            } else {
                servedFrom = jurisdictions(s, what: "jurisdictions") ?? []
            }
        }
        let memoryNode = f["memory"]
        let memory = memoryNode.map { $0.quantity(DataSize.self, positive: true) }

        let run = f["run"].map { decodeRun($0) }
        let softwareNodes = f["software"].flatMap { $0.strings(of: "SoftwareComponent names") } ?? []
        var federation: Federation?? = nil
        var coordinatorNode: (String, SpecNode)?
        if let node = f["federation"] {
            if let type, type != .federated {
                node.report(
                    .badValue,
                    expected: "federation only on federated workloads",
                    found: "it on a \(type.rawValue) workload"
                )
                federation = .some(nil)
            } else {
                let decoded = decodeFederation(node, participants: datasetNodes.count)
                federation = .some(decoded.federation)
                coordinatorNode = decoded.coordinator
            }
        }
        if let node = f["run"], type == .federated {
            node.report(
                .badValue,
                expected: "no run on a federated workload (its sites run `sovereign agent`)",
                found: "run on a federated workload"
            )
        }
        guard let type, let model, computeOK || type == .inference, acceleratorsOK, let mfu, checkpointOK,
            let priority, arrival != .some(nil), deadline != .some(nil), let preemptible, precisionOK, demandOK,
            memory != .some(nil), run != .some(nil), federation != .some(nil), !(type == .federated && run != nil),
            modelNameOK
        else {
            return WorkloadEntry(
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
        return WorkloadEntry(
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

    /// `run: {command: [...], env: {...}, gracePeriod: 60 s, attempts: 3}`: how the control plane starts it.
    func decodeRun(_ node: SpecNode) -> Workload.Run? {
        guard let f = node.fields("run", allowed: ["command", "env", "gracePeriod", "attempts"]) else { return nil }
        let commandNode = f.required("command", "the program and its arguments, like [python3, train.py]")
        let command = commandNode.flatMap { $0.strings(of: "the program and its arguments") }?.map(\.0)
        if let command, command.isEmpty, let commandNode {
            commandNode.report(.badValue, expected: "at least the program to run", found: "an empty list")
        }
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
        guard let command, !command.isEmpty, let environment, let grace, let attempts else { return nil }
        return Workload.Run(command: command, environment: environment, gracePeriod: grace, maxAttempts: attempts)
    }
}
