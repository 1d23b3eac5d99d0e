import SovereignModel

extension Assessor {
    /// Classification weights for the by-classification shares: each step up doubles what exposure costs.
    static let classificationWeight: [Classification: Double] = [
        .public: 1, .internal: 2, .personal: 4, .sensitive: 8,
    ]

    /// Data: for every dataset held or processed in scope, whether the operators that hold and process it are
    /// controlled from inside its residency (operator and ultimate parent), and where its keys are. A dataset's
    /// home is its residency. Shares are taken by size and by classification (public 1, internal 2,
    /// personal 4, sensitive 8), and the score averages both.
    ///
    /// Caps (weakest link):
    /// - 0 when at least 99% (by size) is held by operators controlled from outside its residency, with keys
    ///   outside it or unknown.
    /// - 1 when a personal or sensitive dataset is held or processed under foreign control with its keys
    ///   outside its residency or unknown, or over half (by size) is held under foreign control.
    /// - 2 when over half (by size) has keys outside its residency or unknown, a personal or sensitive dataset
    ///   does, or over 10% is held or processed under foreign control.
    /// - 3 when any dataset has keys outside its residency or unknown, or is held or processed under foreign
    ///   control.
    func data(sites indices: [Int], placement: Placement, fleetWide: Bool) -> LayerAssessment {
        var finding = Finding(.data)
        let items = dataExposures(sites: indices, placement: placement, fleetWide: fleetWide)
        guard !items.isEmpty else {
            return Finding.notApplicable(.data, "no dataset held or processed here")
        }
        let shares = DataShares(items)
        capData(items, shares, &finding)
        finding.note(
            "\(items.count) dataset\(items.count == 1 ? "" : "s"), "
                + "\(Format.number(shares.totalSize / 1e12, 2)) TB; under foreign control "
                + "\(Format.percent(shares.underForeign.size)) by size, \(Format.percent(shares.underForeign.classes)) "
                + "by classification; keys abroad or unknown \(Format.percent(shares.keys.size)) by size, "
                + "\(Format.percent(shares.keys.classes)) by classification"
        )
        noteDerivatives(items, &finding)
        if !placement.planned {
            finding.note("where data is processed is not assessed: no plan (no Scenario)")
        }
        let bySize = 0.5 * (1 - shares.underForeign.size) + 0.5 * (1 - shares.keys.size)
        let byClass = 0.5 * (1 - shares.underForeign.classes) + 0.5 * (1 - shares.keys.classes)
        return finding.result(
            score: (bySize + byClass) / 2,
            whenNothingCaps:
                "every dataset held and processed by operators controlled from inside its residency, keys held there"
        )
    }

    /// Anonymised derivatives in scope: what each is made from, to what k, and where its pseudonym key is (the
    /// source's keys); a key outside the source's residency lets pseudonyms be reversed from abroad, which
    /// caps at 3.
    private func noteDerivatives(_ items: [DataExposure], _ finding: inout Finding) {
        let derived = items.compactMap { item in item.dataset.derivedFrom.map { (item.dataset, $0) } }
        guard !derived.isEmpty else { return }
        var described: [String] = []
        for (dataset, derivation) in derived {
            let source = fleet.dataset(named: derivation.source)
            let key = source?.keysHeldIn
            let l = derivation.anonymisation.diversity.map { ", ℓ = \($0.l)" } ?? ""
            described.append(
                "\(dataset.name) from \(derivation.source) (k = \(derivation.anonymisation.k)\(l), "
                    + "pseudonym key held in \(key ?? "an unknown place"))"
            )
            if let source, key.map({ !source.residencyCountries.contains($0) }) ?? true {
                finding.cap(
                    .resilience,
                    "anonymised dataset \(dataset.name)'s pseudonym key is held \(key.map { "in \($0)" } ?? "where unknown"), "
                        + "outside its source \(source.name)'s residency"
                )
            }
        }
        finding.note(
            "\(derived.count) anonymised derivative\(derived.count == 1 ? "" : "s"): "
                + described.joined(separator: "; ")
        )
    }

    /// Every dataset held or processed in scope, with who controls it from where.
    private func dataExposures(sites indices: [Int], placement: Placement, fleetWide: Bool) -> [DataExposure] {
        let inScope = Set(indices)
        var items: [DataExposure] = []
        for dataset in fleet.datasets {
            let holder = fleet.siteIndex(named: dataset.site)
            let processing = placement.processedAt[dataset.name] ?? []
            let relevant = fleetWide || holder.map(inScope.contains) == true || !processing.isDisjoint(with: inScope)
            guard relevant else { continue }
            let home = dataset.residencyCountries
            func foreign(_ s: Int) -> Bool {
                let op = fleet.sites[s].operator
                return !home.contains(op.jurisdiction) || !home.contains(op.parentJurisdiction ?? op.jurisdiction)
            }
            items.append(
                DataExposure(
                    dataset: dataset,
                    heldForeign: holder.map(foreign) ?? true,
                    processedForeign: processing.sorted().filter(foreign).map { fleet.sites[$0].name },
                    keysAbroad: dataset.keysHeldIn.map { !home.contains($0) } ?? true
                )
            )
        }
        return items
    }

    /// The layer's caps, weakest first.
    private func capData(_ items: [DataExposure], _ shares: DataShares, _ finding: inout Finding) {
        func names(_ include: (DataExposure) -> Bool) -> String {
            Format.list(items.filter(include).map(\.dataset.name))
        }
        if shares.heldAndKeys.size >= 0.99 {
            finding.cap(
                .noSovereignty,
                "\(Format.percent(shares.heldAndKeys.size)) of data (by size) held by operators controlled from outside "
                    + "its residency, keys outside it or unknown"
            )
        }
        for item in items where item.sensitive && item.underForeignControl && item.keysAbroad {
            finding.cap(.jurisdictional, control(item))
        }
        if shares.held.size > 0.5 {
            finding.cap(
                .jurisdictional,
                "\(Format.percent(shares.held.size)) of data (by size) held by operators controlled from outside its "
                    + "residency (\(names { $0.heldForeign }))"
            )
        }
        if shares.keys.size > 0.5 {
            finding.cap(
                .data,
                "keys outside the residency or unknown for \(Format.percent(shares.keys.size)) of data by size "
                    + "(\(names { $0.keysAbroad }))"
            )
        }
        for item in items where item.sensitive && item.keysAbroad {
            let keys = item.dataset.keysHeldIn.map { "held in \($0)" } ?? "held where unknown"
            finding.cap(
                .data,
                "\(item.dataset.classification.rawValue) dataset \(item.dataset.name) has its keys \(keys)"
            )
        }
        if shares.underForeign.size > 0.1 {
            finding.cap(
                .data,
                "\(Format.percent(shares.underForeign.size)) of data (by size) held or processed under foreign control "
                    + "(\(names { $0.underForeignControl }))"
            )
        }
        for item in items where item.keysAbroad || item.underForeignControl {
            finding.cap(.resilience, control(item))
        }
    }

    /// Who holds and processes a dataset under foreign control, and where its keys are.
    private func control(_ item: DataExposure) -> String {
        var parts: [String] = []
        if item.heldForeign {
            let op = fleet.site(named: item.dataset.site)?.operator
            parts.append(
                "held at \(item.dataset.site) by \(op?.name ?? "an unknown operator")"
                    + (op.map { " (answers to \($0.parentJurisdiction ?? $0.jurisdiction))" } ?? "")
            )
        }
        if !item.processedForeign.isEmpty {
            parts.append("processed at \(Format.list(item.processedForeign)) under a foreign-controlled operator")
        }
        parts.append(item.dataset.keysHeldIn.map { "keys held in \($0)" } ?? "keys held where unknown")
        return "\(item.dataset.name) (\(item.dataset.classification.rawValue), residency "
            + "\(item.dataset.residency.joined(separator: ","))): \(parts.joined(separator: ", "))"
    }
}

/// One dataset in scope: whether a foreign-controlled operator holds or processes it, and whether its keys are
/// outside its residency.
struct DataExposure {
    let dataset: Dataset
    let heldForeign: Bool
    let processedForeign: [String]
    let keysAbroad: Bool

    var underForeignControl: Bool { heldForeign || !processedForeign.isEmpty }
    var sensitive: Bool { dataset.classification >= .personal }
    var classWeight: Double { Assessor.classificationWeight[dataset.classification] ?? 1 }
}

/// Shares of the datasets in scope, by size and by classification weight.
struct DataShares {
    typealias Share = (size: Double, classes: Double)
    let totalSize: Double
    let held: Share
    let underForeign: Share
    let keys: Share
    let heldAndKeys: Share

    init(_ items: [DataExposure]) {
        let totalSize = items.reduce(0) { $0 + $1.dataset.size.bytes }
        let totalClass = items.reduce(0) { $0 + $1.classWeight }
        func share(_ include: (DataExposure) -> Bool) -> Share {
            let size = items.filter(include).reduce(0) { $0 + $1.dataset.size.bytes }
            let classes = items.filter(include).reduce(0) { $0 + $1.classWeight }
            return (totalSize > 0 ? size / totalSize : 0, totalClass > 0 ? classes / totalClass : 0)
        }
        self.totalSize = totalSize
        held = share { $0.heldForeign }
        underForeign = share { $0.underForeignControl }
        keys = share { $0.keysAbroad }
        heldAndKeys = share { $0.heldForeign && $0.keysAbroad }
    }
}
