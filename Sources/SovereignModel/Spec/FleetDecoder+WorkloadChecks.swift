extension FleetDecoder {
    /// Checks this decoder's workloads against what a fleet declares: names unique (and not among `taken`), every
    /// dataset, site, accelerator model, Model and SoftwareComponent named is declared, and some pool can hold each.
    ///
    /// One implementation for both paths: a whole fleet checks its own workloads against its own declarations
    /// (`taken` empty), a submission checks its workloads against the declarations kept from the fleet's documents.
    ///
    /// - Complexity: O(workloads × (references + accelerator models)), independent of the fleet's sites and datasets.
    func checkWorkloads(against fleet: DeclaredFleet, taken: [String: SourceLocation]) {
        checkUnique(workloads.map { ($0.name, $0.nameNode) }, kind: "Workload", after: taken)
        for workload in workloads {
            checkReferences(workload.value, against: fleet)
            checkModel(workload.value, against: fleet)
            checkFit(workload.value, in: fleet.largestPools)
        }
    }

    /// The datasets, coordinator site, accelerator model and SoftwareComponents a workload names.
    private func checkReferences(_ entry: WorkloadEntry, against fleet: DeclaredFleet) {
        // Declared names, not only those that decoded cleanly: a broken dataset is reported once, where it is.
        for (name, node) in entry.datasetNodes where !fleet.datasetNames.contains(name) {
            node.reportUnknown("the name of a Dataset", among: fleet.datasetNames)
        }
        if let (site, node) = entry.coordinatorNode, !fleet.siteNames.contains(site) {
            node.reportUnknown("the name of a Site", among: fleet.siteNames)
        }
        if let (id, node) = entry.acceleratorNode, fleet.catalog[id] == nil {
            node.reportUnknown(
                "an accelerator model from the catalog or an AcceleratorModel document",
                among: fleet.catalog.models.map(\.id)
            )
        }
        for (name, node) in entry.softwareNodes where !fleet.softwareNames.contains(name) {
            node.reportUnknown("the name of a SoftwareComponent", among: fleet.softwareNames)
        }
    }

    /// The Model a workload names exists, and its parameter count is the workload's.
    private func checkModel(_ entry: WorkloadEntry, against fleet: DeclaredFleet) {
        guard let (name, node) = entry.modelNameNode else { return }
        guard let model = fleet.models[name] else {
            node.reportUnknown("the name of a Model", among: fleet.models.keys)
            return
        }
        if let declared = model.parameters, let w = entry.workload,
            abs(declared - w.model.parameters) > 1e-9 * declared, let parametersNode = entry.parametersNode
        {
            parametersNode.report(
                .badValue,
                expected:
                    "the parameter count of Model \"\(name)\" (\(CountText.format(declared)), at \(model.parametersAt?.description ?? "its spec"))",
                found: CountText.format(w.model.parameters)
            )
        }
    }

    /// Some pool is large enough for `accelerators.min`, and some pool can hold the workload's memory.
    private func checkFit(_ entry: WorkloadEntry, in candidates: [DeclaredFleet.LargestPool]) {
        guard let w = entry.workload, let fitNode = entry.fitNode, !candidates.isEmpty else { return }
        if let range = w.accelerators, let minNode = entry.minNode,
            let largest = candidates.max(by: { $0.count < $1.count }), largest.count < range.min
        {
            minNode.report(
                .noPoolFits,
                expected:
                    "at most as many accelerators as the largest pool holds (\(largest.count) × \(largest.model.id) at \(largest.site))"
            )
        }
        let precisions = w.type.trains ? [nil] : w.acceptedPrecisions.map { Optional($0) }
        let demand = precisions.map { w.memoryDemand(at: $0) }.min() ?? w.memoryDemand()
        var best: (capacity: DataSize, text: String)?
        for candidate in candidates {
            let n = min(w.accelerators?.max ?? candidate.count, candidate.count)
            let capacity = candidate.model.memory * Double(n)
            if best == nil || capacity > best!.capacity {
                best = (capacity, "\(n) × \(candidate.model.id) at \(candidate.site)")
            }
        }
        guard let best, best.capacity < demand else { return }
        fitNode.report(
            .noPoolFits,
            expected:
                "a workload some pool can hold (the most any pool offers it is \(best.capacity) on \(best.text))",
            found: "\(CountText.format(w.model.parameters)) parameters needing \(demand) (\(memoryBasis(of: w)))"
        )
    }

    /// How a workload's memory demand was reckoned, for the fit diagnostic.
    private func memoryBasis(of w: Workload) -> String {
        if w.memory != nil { return "as declared" }
        if w.type.trains {
            return "\(formatNumber(Workload.trainingBytesPerParameter)) bytes/parameter for training state"
        }
        let p = w.acceptedPrecisions.min { $0.bytesPerParameter < $1.bytesPerParameter } ?? .fp16
        return "\(p.rawValue) weights plus KV cache"
    }
}
