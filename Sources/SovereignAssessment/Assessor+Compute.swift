import SovereignModel

extension Assessor {
    /// Compute: who designs and fabricates the accelerators (by dense PFLOPS), how concentrated the vendors
    /// are (Herfindahl–Hirschman index of capacity shares, 0...1), and how much capacity a foreign
    /// government's export rules govern.
    ///
    /// Caps (weakest link):
    /// - 0 when at least 99% of capacity is designed abroad *and* export-controlled abroad: a foreign
    ///   government alone decides whether the fleet gets parts, spares and replacements.
    /// - 1 when one foreign country designs at least 80% of capacity.
    /// - 2 when over half the capacity is export-controlled abroad (or of unknown status), one foreign country
    ///   designs at least half, or the vendor HHI is above 0.5 with the largest vendor designing abroad.
    /// - 3 when over 10% is designed abroad, over half is fabricated abroad (or at an unknown fab), any
    ///   capacity is export-controlled abroad, or the HHI is above 0.18 (the 2023 US Merger Guidelines'
    ///   "highly concentrated") with the largest vendor designing abroad, or above 0.5 with it at home.
    ///
    /// Score: `0.35·(1 − designed abroad) + 0.25·(1 − controlled abroad) + 0.25·(1 − HHI) +
    /// 0.15·(1 − fabricated abroad)`.
    func compute(sites indices: [Int]) -> LayerAssessment {
        var finding = Finding(.compute)
        var capacity = ComputeCapacity()
        for s in indices {
            let site = fleet.sites[s]
            let domestic = home.countries(for: site)
            for pool in site.pools {
                guard let model = fleet.catalog[pool.accelerator] else { continue }
                capacity.add(pflops(pool), of: model, control: control(of: model), domestic: domestic)
            }
        }
        let total = capacity.total
        guard total > 0 else { return Finding.notApplicable(.compute, "no accelerator capacity") }
        let hhi = capacity.byVendor.values.reduce(0) { $0 + ($1 / total) * ($1 / total) }
        let vendors = ComputeCapacity.largestFirst(capacity.byVendor).map {
            "\($0.key) \(Format.percent($0.value / total))"
        }
        let designShare = capacity.designedAbroad / total
        let fabShare = capacity.fabricatedAbroad / total
        let hhiText = "vendor HHI \(Format.number(hhi)) (\(vendors.joined(separator: ", ")))"
        capCompute(capacity, hhi: hhi, hhiText: hhiText, &finding)
        let controlled = capacity.controlledShare
        finding.note(
            "\(Format.number(total, 1)) PFLOPS dense; designed abroad \(Format.percent(designShare)), "
                + "fabricated abroad \(Format.percent(fabShare)), export-controlled abroad \(Format.percent(controlled))"
        )
        let score = 0.35 * (1 - designShare) + 0.25 * (1 - controlled) + 0.25 * (1 - hhi) + 0.15 * (1 - fabShare)
        return finding.result(
            score: score,
            whenNothingCaps:
                "\(Format.percent(1 - designShare)) of capacity designed and \(Format.percent(1 - fabShare)) "
                + "fabricated at home, none export-controlled abroad, \(hhiText)"
        )
    }

    /// The layer's caps, weakest first: design abroad with export control, one foreign designer, export control,
    /// vendor concentration, fabrication abroad.
    private func capCompute(_ capacity: ComputeCapacity, hhi: Double, hhiText: String, _ finding: inout Finding) {
        let total = capacity.total
        let designShare = capacity.designedAbroad / total
        let controlled = capacity.controlledShare
        let controlText = describeControl(capacity.controlledAbroad, unknown: capacity.controlUnknown, total: total)
        if designShare >= 0.99, controlled >= 0.99 {
            finding.cap(
                .noSovereignty,
                "\(Format.percent(designShare)) of accelerator capacity designed abroad and "
                    + "\(Format.percent(controlled)) export-controlled abroad (\(controlText)); \(hhiText)"
            )
        }
        if let (country, designed) = ComputeCapacity.largestFirst(capacity.foreignDesign).first {
            let share = designed / total
            let text = "\(Format.percent(share)) of accelerator capacity designed in \(country), \(hhiText)"
            if share >= 0.8 {
                finding.cap(.jurisdictional, text)
            } else if share >= 0.5 {
                finding.cap(.data, text)
            } else if designShare > 0.1 {
                finding.cap(.resilience, "\(Format.percent(designShare)) of accelerator capacity designed abroad")
            }
        }
        if controlled > 0.5 {
            finding.cap(.data, "\(Format.percent(controlled)) of capacity export-controlled abroad (\(controlText))")
        } else if controlled > 0 {
            finding.cap(
                .resilience,
                "\(Format.percent(controlled)) of capacity export-controlled abroad (\(controlText))"
            )
        }
        capConcentration(capacity, hhi: hhi, hhiText: hhiText, &finding)
        let fabShare = capacity.fabricatedAbroad / total
        if fabShare > 0.5 {
            let unknown =
                capacity.fabUnknown > 0 ? " (\(Format.percent(capacity.fabUnknown / total)) at an unknown fab)" : ""
            finding.cap(.resilience, "\(Format.percent(fabShare)) of capacity fabricated abroad\(unknown)")
        }
    }

    /// Concentration on one vendor matters for sovereignty when that vendor is foreign; on a domestic one it is a
    /// resilience risk only.
    private func capConcentration(_ capacity: ComputeCapacity, hhi: Double, hhiText: String, _ finding: inout Finding) {
        let largest = ComputeCapacity.largestFirst(capacity.byVendor).first?.key
        if largest.map({ capacity.foreignVendors.contains($0) }) ?? false {
            if hhi > 0.5 {
                finding.cap(.data, "\(hhiText), the largest designed abroad")
            } else if hhi > 0.18 {
                finding.cap(.resilience, "\(hhiText), the largest designed abroad")
            }
        } else if hhi > 0.5 {
            finding.cap(.resilience, "\(hhiText), the largest designed at home")
        }
    }

    private func describeControl(_ controlled: [String: Double], unknown: [String: Double], total: Double) -> String {
        var parts = controlled.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\(Format.percent($0.value / total)) \($0.key)" }
        if !unknown.isEmpty {
            let ids = unknown.keys.sorted()
            parts.append(
                "\(Format.percent(unknown.values.reduce(0, +) / total)) of unknown status (\(Format.list(ids)): "
                    + "no exportControl in the catalog, counted as controlled)"
            )
        }
        return parts.isEmpty ? "none" : parts.joined(separator: "; ")
    }
}

/// Accelerator capacity in scope (dense PFLOPS) by vendor, with how much is designed, fabricated and
/// export-controlled abroad.
struct ComputeCapacity {
    var total = 0.0
    var byVendor: [String: Double] = [:]
    var foreignVendors = Set<String>()
    var foreignDesign: [String: Double] = [:]
    var designedAbroad = 0.0
    var fabricatedAbroad = 0.0
    var fabUnknown = 0.0
    var controlledAbroad: [String: Double] = [:]
    var controlUnknown: [String: Double] = [:]

    /// A pool's capacity of accelerator `model`, at a site whose home is `domestic`.
    mutating func add(_ capacity: Double, of model: AcceleratorModel, control: ExportControl?, domestic: Set<String>) {
        total += capacity
        byVendor[model.vendor, default: 0] += capacity
        if !domestic.contains(model.designedIn) {
            foreignVendors.insert(model.vendor)
            designedAbroad += capacity
            foreignDesign[model.designedIn, default: 0] += capacity
        }
        if let fab = model.fabricatedIn {
            if !domestic.contains(fab) { fabricatedAbroad += capacity }
        } else {
            fabricatedAbroad += capacity
            fabUnknown += capacity
        }
        switch control {
        case .controlled(let jurisdiction, let classification) where !domestic.contains(jurisdiction):
            controlledAbroad["\(jurisdiction) \(classification)", default: 0] += capacity
        case .none:
            controlUnknown[model.id, default: 0] += capacity
        default:
            break
        }
    }

    /// The share of capacity export-controlled abroad, or of unknown status (counted as controlled).
    var controlledShare: Double {
        (controlledAbroad.values.reduce(0, +) + controlUnknown.values.reduce(0, +)) / total
    }

    /// Entries by value, largest first, ties by key.
    static func largestFirst(_ values: [String: Double]) -> [(key: String, value: Double)] {
        values.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
    }
}
