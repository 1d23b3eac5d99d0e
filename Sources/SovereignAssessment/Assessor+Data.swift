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
        let inScope = Set(indices)
        let processedAt = placement.processedAt
        struct Item {
            let dataset: Dataset
            let heldForeign: Bool
            let processedForeign: [String]
            let keysAbroad: Bool
        }
        var items: [Item] = []
        for dataset in fleet.datasets {
            let holder = fleet.siteIndex(named: dataset.site)
            let processing = processedAt[dataset.name] ?? []
            let relevant = fleetWide || holder.map(inScope.contains) == true || !processing.isDisjoint(with: inScope)
            guard relevant else { continue }
            let home = dataset.residencyCountries
            func foreign(_ s: Int) -> Bool {
                let op = fleet.sites[s].operator
                return !home.contains(op.jurisdiction) || !home.contains(op.parentJurisdiction ?? op.jurisdiction)
            }
            let processingForeign = processing.sorted().filter(foreign).map { fleet.sites[$0].name }
            items.append(
                Item(
                    dataset: dataset,
                    heldForeign: holder.map(foreign) ?? true,
                    processedForeign: processingForeign,
                    keysAbroad: dataset.keysHeldIn.map { !home.contains($0) } ?? true
                )
            )
        }
        guard !items.isEmpty else {
            return Finding.notApplicable(.data, "no dataset held or processed here")
        }
        let totalSize = items.reduce(0) { $0 + $1.dataset.size.bytes }
        let totalClass = items.reduce(0) { $0 + Self.classificationWeight[$1.dataset.classification]! }
        func share(_ include: (Item) -> Bool) -> (size: Double, classes: Double) {
            let size = items.filter(include).reduce(0) { $0 + $1.dataset.size.bytes }
            let classes = items.filter(include).reduce(0) { $0 + Self.classificationWeight[$1.dataset.classification]! }
            return (totalSize > 0 ? size / totalSize : 0, totalClass > 0 ? classes / totalClass : 0)
        }
        let held = share { $0.heldForeign }
        let underForeign = share { $0.heldForeign || !$0.processedForeign.isEmpty }
        let keys = share { $0.keysAbroad }
        let heldAndKeys = share { $0.heldForeign && $0.keysAbroad }
        func names(_ include: (Item) -> Bool) -> String {
            Format.list(items.filter(include).map(\.dataset.name))
        }
        func control(_ item: Item) -> String {
            var parts: [String] = []
            if item.heldForeign {
                let site = fleet.site(named: item.dataset.site)
                let op = site?.operator
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
        let sensitive: (Item) -> Bool = { $0.dataset.classification >= .personal }
        if heldAndKeys.size >= 0.99 {
            finding.cap(
                .noSovereignty,
                "\(Format.percent(heldAndKeys.size)) of data (by size) held by operators controlled from outside "
                    + "its residency, keys outside it or unknown"
            )
        }
        for item in items
        where sensitive(item) && (item.heldForeign || !item.processedForeign.isEmpty) && item.keysAbroad {
            finding.cap(.jurisdictional, control(item))
        }
        if held.size > 0.5 {
            finding.cap(
                .jurisdictional,
                "\(Format.percent(held.size)) of data (by size) held by operators controlled from outside its residency "
                    + "(\(names { $0.heldForeign }))"
            )
        }
        if keys.size > 0.5 {
            finding.cap(
                .data,
                "keys outside the residency or unknown for \(Format.percent(keys.size)) of data by size "
                    + "(\(names { $0.keysAbroad }))"
            )
        }
        for item in items where sensitive(item) && item.keysAbroad {
            let keys = item.dataset.keysHeldIn.map { "held in \($0)" } ?? "held where unknown"
            finding.cap(
                .data,
                "\(item.dataset.classification.rawValue) dataset \(item.dataset.name) has its keys \(keys)"
            )
        }
        if underForeign.size > 0.1 {
            finding.cap(
                .data,
                "\(Format.percent(underForeign.size)) of data (by size) held or processed under foreign control "
                    + "(\(names { $0.heldForeign || !$0.processedForeign.isEmpty }))"
            )
        }
        for item in items where item.keysAbroad || item.heldForeign || !item.processedForeign.isEmpty {
            finding.cap(.resilience, control(item))
        }
        finding.note(
            "\(items.count) dataset\(items.count == 1 ? "" : "s"), "
                + "\(Format.number(totalSize / 1e12, 2)) TB; under foreign control \(Format.percent(underForeign.size)) "
                + "by size, \(Format.percent(underForeign.classes)) by classification; keys abroad or unknown "
                + "\(Format.percent(keys.size)) by size, \(Format.percent(keys.classes)) by classification"
        )
        if !placement.planned {
            finding.note("where data is processed is not assessed: no plan (no Scenario)")
        }
        let bySize = 0.5 * (1 - underForeign.size) + 0.5 * (1 - keys.size)
        let byClass = 0.5 * (1 - underForeign.classes) + 0.5 * (1 - keys.classes)
        return finding.result(
            score: (bySize + byClass) / 2,
            whenNothingCaps:
                "every dataset held and processed by operators controlled from inside its residency, keys held there"
        )
    }
}
