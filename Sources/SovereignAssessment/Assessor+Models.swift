import SovereignModel

extension Assessor {
    /// Models: for every workload in scope, the `Model` it names: open weights or not, its licence, who
    /// published it and where, where it was trained and on what. Weighted by the accelerator-steps the plan
    /// gives the workload (equal weights when nothing is placed). A workload that names no model, or a model
    /// that leaves a field out, counts as unknown, and unknown as foreign.
    ///
    /// Caps (weakest link):
    /// - 0 when at least 99% of the weight runs closed-weight models published abroad.
    /// - 1 when any closed-weight model published abroad runs, or over half the weight is of unknown
    ///   provenance.
    /// - 2 when any model's provenance is unknown, or over half the weight runs models published abroad.
    /// - 3 when any model is published abroad, trained abroad or on data from abroad, or is under a licence
    ///   that is not OSI-approved.
    ///
    /// Score: weighted mean of `0.3·open weights + 0.2·open licence + 0.25·published at home +
    /// 0.25·trained at home on home data`.
    func models(sites indices: [Int], placement: Placement, fleetWide: Bool) -> LayerAssessment {
        var finding = Finding(.models)
        let byName = Dictionary(fleet.models.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var items: [(workload: Workload, home: Set<String>, weight: Double)] = []
        if fleetWide {
            for (w, workload) in fleet.workloads.enumerated() {
                let placed = placement.bySite[w].sorted { $0.key < $1.key }
                if placed.isEmpty {
                    items.append((workload, homeOfUnplaced(workload), 0))
                } else {
                    for (s, steps) in placed { items.append((workload, home.countries(for: fleet.sites[s]), steps)) }
                }
            }
        } else {
            for s in indices {
                for w in placement.workloadsAt[s] ?? [] {
                    items.append((fleet.workloads[w], home.countries(for: fleet.sites[s]), placement.bySite[w][s] ?? 0))
                }
            }
        }
        guard !items.isEmpty else {
            return Finding.notApplicable(
                .models,
                placement.planned ? "no workload runs here in the plan" : "no plan (no Scenario): nothing placed here"
            )
        }
        var total = items.reduce(0) { $0 + $1.weight }
        if total == 0 {
            items = items.map { ($0.workload, $0.home, 1) }
            total = Double(items.count)
        }
        struct Traits {
            var unknown: [String] = []
            var closedForeign = false
            var foreign = false
            var trainedAbroad = false
            var foreignData: [String] = []
            var openWeights = false
            var openLicence = false
        }
        func traits(_ workload: Workload, _ domestic: Set<String>) -> Traits {
            var t = Traits()
            guard let name = workload.modelName, let model = byName[name] else {
                t.unknown = ["names no Model"]
                return t
            }
            if model.weights == nil { t.unknown.append("weights open or closed unknown") }
            if model.origin == nil { t.unknown.append("publisher's jurisdiction unknown") }
            if model.trainedIn == nil { t.unknown.append("where it was trained unknown") }
            if model.licence == nil { t.unknown.append("licence unknown") }
            t.foreign = model.origin.map { !domestic.contains($0) } ?? true
            t.closedForeign = model.weights != .open && t.foreign
            t.trainedAbroad = model.trainedIn.map { !domestic.contains($0) } ?? true
            t.foreignData = model.externalDataFrom.filter { !domestic.contains($0) }
            for dataset in model.datasets {
                if let d = fleet.dataset(named: dataset), d.residencyCountries.isDisjoint(with: domestic) {
                    t.foreignData.append(d.residency.joined(separator: ","))
                }
            }
            t.openWeights = model.weights == .open
            t.openLicence = model.licence.map(Licences.isOpenSource) ?? false
            return t
        }
        func describe(_ workload: Workload) -> String {
            guard let name = workload.modelName, let model = byName[name] else {
                return "workload \(workload.name) names no Model: its provenance is unknown"
            }
            let publisher = model.publisher.map { "\($0), " } ?? ""
            let origin = model.origin ?? "unknown jurisdiction"
            return "\(name) (\(model.weights.map { "\($0.rawValue) weights" } ?? "weights unknown"), "
                + "\(model.licence ?? "licence unknown"), published by \(publisher)\(origin), "
                + "trained in \(model.trainedIn ?? "unknown"))"
        }
        var closedForeignWeight = 0.0
        var unknownWeight = 0.0
        var foreignWeight = 0.0
        var score = 0.0
        var capped: [SealLevel: Set<String>] = [:]
        func cap(_ level: SealLevel, _ text: String) {
            if capped[level, default: []].insert(text).inserted { finding.cap(level, text) }
        }
        for item in items {
            let t = traits(item.workload, item.home)
            let share = item.weight / total
            if t.closedForeign { closedForeignWeight += share }
            if !t.unknown.isEmpty { unknownWeight += share }
            if t.foreign { foreignWeight += share }
            let trainedHome = !t.trainedAbroad && t.foreignData.isEmpty
            score +=
                share
                * (0.3 * (t.openWeights ? 1 : 0) + 0.2 * (t.openLicence ? 1 : 0) + 0.25 * (t.foreign ? 0 : 1)
                    + 0.25 * (trainedHome ? 1 : 0))
            let text = describe(item.workload)
            if t.closedForeign { cap(.jurisdictional, "closed weights published abroad: \(text)") }
            if !t.unknown.isEmpty {
                cap(.data, "\(text): \(t.unknown.joined(separator: ", "))")
            } else if t.foreign || t.trainedAbroad || !t.foreignData.isEmpty || !t.openLicence {
                var why: [String] = []
                if t.foreign { why.append("published abroad") }
                if t.trainedAbroad { why.append("trained abroad") }
                if !t.foreignData.isEmpty {
                    why.append("trained on data from \(Array(Set(t.foreignData)).sorted().joined(separator: ", "))")
                }
                if !t.openLicence { why.append("licence not OSI-approved") }
                cap(.resilience, "\(text): \(why.joined(separator: ", "))")
            }
        }
        if closedForeignWeight >= 0.99 {
            finding.cap(
                .noSovereignty,
                "\(Format.percent(closedForeignWeight)) of model use is closed weights published abroad"
            )
        }
        if unknownWeight > 0.5 {
            finding.cap(.jurisdictional, "\(Format.percent(unknownWeight)) of model use has unknown provenance")
        }
        if foreignWeight > 0.5 {
            finding.cap(.data, "\(Format.percent(foreignWeight)) of model use runs models published abroad")
        }
        finding.note(
            "\(Set(items.map(\.workload.name)).count) workloads; published abroad \(Format.percent(foreignWeight)), "
                + "unknown provenance \(Format.percent(unknownWeight)) (weighted by planned accelerator-steps)"
        )
        return finding.result(
            score: score,
            whenNothingCaps: "every model open, OSI-licensed, published and trained at home on home data"
        )
    }

    /// Where an unplaced workload would be at home: the home of the site holding its first dataset, else every
    /// country the fleet's sites count as home.
    private func homeOfUnplaced(_ workload: Workload) -> Set<String> {
        if let name = workload.datasets.first, let dataset = fleet.dataset(named: name),
            let site = fleet.site(named: dataset.site)
        {
            return home.countries(for: site)
        }
        return fleet.sites.reduce(into: Set<String>()) { $0.formUnion(home.countries(for: $1)) }
    }
}
