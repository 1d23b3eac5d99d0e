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
        var items = modelUses(sites: indices, placement: placement, fleetWide: fleetWide)
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
        let byName = Dictionary(fleet.models.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var shares = ModelShares()
        var capped: [SealLevel: Set<String>] = [:]
        for item in items {
            let traits = ModelTraits(item.workload, domestic: item.home, models: byName, fleet: fleet)
            shares.add(traits, share: item.weight / total)
            for (level, text) in traits.caps(describing: item.workload, models: byName)
            where capped[level, default: []].insert(text).inserted {
                finding.cap(level, text)
            }
        }
        shares.cap(&finding)
        finding.note(
            "\(Set(items.map(\.workload.name)).count) workloads; published abroad \(Format.percent(shares.foreign)), "
                + "unknown provenance \(Format.percent(shares.unknown)) (weighted by planned accelerator-steps)"
        )
        return finding.result(
            score: shares.score,
            whenNothingCaps: "every model open, OSI-licensed, published and trained at home on home data"
        )
    }

    /// Each workload in scope with the countries that are home where it runs and its planned accelerator-steps
    /// there (fleet-wide: every site it is placed at, or where it would be at home when unplaced).
    private func modelUses(
        sites indices: [Int],
        placement: Placement,
        fleetWide: Bool
    ) -> [(workload: Workload, home: Set<String>, weight: Double)] {
        var items: [(workload: Workload, home: Set<String>, weight: Double)] = []
        guard fleetWide else {
            for s in indices {
                for w in placement.workloadsAt[s] ?? [] {
                    items.append((fleet.workloads[w], home.countries(for: fleet.sites[s]), placement.bySite[w][s] ?? 0))
                }
            }
            return items
        }
        for (w, workload) in fleet.workloads.enumerated() {
            let placed = placement.bySite[w].sorted { $0.key < $1.key }
            if placed.isEmpty {
                items.append((workload, homeOfUnplaced(workload), 0))
            } else {
                for (s, steps) in placed { items.append((workload, home.countries(for: fleet.sites[s]), steps)) }
            }
        }
        return items
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

/// What makes the model a workload runs foreign or unknown where it runs.
struct ModelTraits {
    var unknown: [String] = []
    var closedForeign = false
    var foreign = false
    var trainedAbroad = false
    var foreignData: [String] = []
    var openWeights = false
    var openLicence = false

    init(_ workload: Workload, domestic: Set<String>, models: [String: AIModel], fleet: Fleet) {
        guard let name = workload.modelName, let model = models[name] else {
            unknown = ["names no Model"]
            return
        }
        if model.weights == nil { unknown.append("weights open or closed unknown") }
        if model.origin == nil { unknown.append("publisher's jurisdiction unknown") }
        if model.trainedIn == nil { unknown.append("where it was trained unknown") }
        if model.licence == nil { unknown.append("licence unknown") }
        foreign = model.origin.map { !domestic.contains($0) } ?? true
        closedForeign = model.weights != .open && foreign
        trainedAbroad = model.trainedIn.map { !domestic.contains($0) } ?? true
        foreignData = model.externalDataFrom.filter { !domestic.contains($0) }
        for dataset in model.datasets {
            if let d = fleet.dataset(named: dataset), d.residencyCountries.isDisjoint(with: domestic) {
                foreignData.append(d.residency.joined(separator: ","))
            }
        }
        openWeights = model.weights == .open
        openLicence = model.licence.map(Licences.isOpenSource) ?? false
    }

    var trainedHome: Bool { !trainedAbroad && foreignData.isEmpty }

    /// The caps this use sets, in the order they are stated.
    func caps(describing workload: Workload, models: [String: AIModel]) -> [(SealLevel, String)] {
        let text = Self.describe(workload, models: models)
        var caps: [(SealLevel, String)] = []
        if closedForeign { caps.append((.jurisdictional, "closed weights published abroad: \(text)")) }
        if !unknown.isEmpty {
            caps.append((.data, "\(text): \(unknown.joined(separator: ", "))"))
        } else if foreign || trainedAbroad || !foreignData.isEmpty || !openLicence {
            var why: [String] = []
            if foreign { why.append("published abroad") }
            if trainedAbroad { why.append("trained abroad") }
            if !foreignData.isEmpty {
                why.append("trained on data from \(Array(Set(foreignData)).sorted().joined(separator: ", "))")
            }
            if !openLicence { why.append("licence not OSI-approved") }
            caps.append((.resilience, "\(text): \(why.joined(separator: ", "))"))
        }
        return caps
    }

    /// The model a workload runs as a fact: weights, licence, publisher and where it was trained.
    static func describe(_ workload: Workload, models: [String: AIModel]) -> String {
        guard let name = workload.modelName, let model = models[name] else {
            return "workload \(workload.name) names no Model: its provenance is unknown"
        }
        let publisher = model.publisher.map { "\($0), " } ?? ""
        let origin = model.origin ?? "unknown jurisdiction"
        return "\(name) (\(model.weights.map { "\($0.rawValue) weights" } ?? "weights unknown"), "
            + "\(model.licence ?? "licence unknown"), published by \(publisher)\(origin), "
            + "trained in \(model.trainedIn ?? "unknown"))"
    }
}

/// The weighted shares of model use that set the layer's fleet-level caps and its score.
struct ModelShares {
    var closedForeign = 0.0
    var unknown = 0.0
    var foreign = 0.0
    var score = 0.0

    mutating func add(_ t: ModelTraits, share: Double) {
        if t.closedForeign { closedForeign += share }
        if !t.unknown.isEmpty { unknown += share }
        if t.foreign { foreign += share }
        score +=
            share
            * (0.3 * (t.openWeights ? 1 : 0) + 0.2 * (t.openLicence ? 1 : 0) + 0.25 * (t.foreign ? 0 : 1)
                + 0.25 * (t.trainedHome ? 1 : 0))
    }

    func cap(_ finding: inout Finding) {
        if closedForeign >= 0.99 {
            finding.cap(
                .noSovereignty,
                "\(Format.percent(closedForeign)) of model use is closed weights published abroad"
            )
        }
        if unknown > 0.5 {
            finding.cap(.jurisdictional, "\(Format.percent(unknown)) of model use has unknown provenance")
        }
        if foreign > 0.5 {
            finding.cap(.data, "\(Format.percent(foreign)) of model use runs models published abroad")
        }
    }
}
