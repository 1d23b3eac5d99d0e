import SovereignModel

extension Assessor {
    /// Software: every component each site runs (those scoped to it or fleet-wide, plus those its placed
    /// workloads name), weighted by the site's dense PFLOPS. A component is open when its licence is an
    /// OSI-approved one (``Licences``); a missing licence counts as closed, a missing origin or update
    /// jurisdiction as foreign.
    ///
    /// Caps (weakest link):
    /// - 0 when every component is closed and updated from abroad.
    /// - 1 when a driver, firmware or orchestrator is closed and updated from abroad (a foreign party can
    ///   stop or change the hardware or the cluster, and no one else may fix it), or no component is declared.
    /// - 2 when any closed component is updated from abroad, or over half the stack (by weight) is.
    /// - 3 when any component comes from abroad or is updated from abroad (open code can be forked, so the
    ///   influence is marginal).
    ///
    /// Score: weighted mean of `0.4·open + 0.3·domestic origin + 0.3·domestic updates`, critical roles twice.
    func software(sites indices: [Int], placement: Placement, fleetWide: Bool) -> LayerAssessment {
        var finding = Finding(.software)
        let uses = softwareUses(sites: indices, placement: placement)
        guard !uses.isEmpty else {
            finding.cap(
                .jurisdictional,
                "no SoftwareComponent declared for \(fleetWide ? "the fleet" : "this site"): the stack is unknown"
            )
            return finding.result(score: 0, whenNothingCaps: "")
        }
        let total = uses.reduce(0) { $0 + $1.weight }
        let foreignUpdated = uses.filter(\.foreignUpdates).reduce(0) { $0 + $1.weight } / total
        SoftwareUse.cap(uses, foreignUpdated: foreignUpdated, &finding)
        let openShare = uses.filter { !$0.closed }.reduce(0) { $0 + $1.weight } / total
        let domesticOrigin = uses.filter { !$0.foreignOrigin }.reduce(0) { $0 + $1.weight } / total
        finding.note(
            "\(Set(uses.map(\.component.name)).count) components; open \(Format.percent(openShare)), "
                + "domestic origin \(Format.percent(domesticOrigin)), updated from abroad "
                + "\(Format.percent(foreignUpdated)) (capacity-weighted, critical roles twice)"
        )
        let score = 0.4 * openShare + 0.3 * domesticOrigin + 0.3 * (1 - foreignUpdated)
        return finding.result(score: score, whenNothingCaps: "every component open, domestic and updated at home")
    }

    /// Each component each site in scope runs, once per site, weighted by the site's capacity.
    private func softwareUses(sites indices: [Int], placement: Placement) -> [SoftwareUse] {
        let byName = Dictionary(fleet.software.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var uses: [SoftwareUse] = []
        for s in indices {
            let site = fleet.sites[s]
            let domestic = home.countries(for: site)
            var names = fleet.software.filter { $0.runs(at: site.name) }.map(\.name)
            for w in placement.workloadsAt[s] ?? [] { names += fleet.workloads[w].software }
            var seen = Set<String>()
            let weight = max(pflops(site), 1e-9)
            for name in names where seen.insert(name).inserted {
                guard let component = byName[name] else { continue }
                uses.append(SoftwareUse(component, weight: weight, domestic: domestic))
            }
        }
        return uses
    }
}

/// One component run at one site, with what makes it foreign there.
struct SoftwareUse {
    let component: SoftwareComponent
    let weight: Double
    let closed: Bool
    let foreignOrigin: Bool
    let foreignUpdates: Bool

    init(_ component: SoftwareComponent, weight: Double, domestic: Set<String>) {
        self.component = component
        self.weight = weight * (component.role.isCritical ? 2 : 1)
        closed = !component.isOpenSource
        foreignOrigin = component.origin.map { !domestic.contains($0) } ?? true
        foreignUpdates = component.updatesFrom.map { !domestic.contains($0) } ?? true
    }

    /// The component as a fact: role, licence, origin and who updates it from where.
    var description: String {
        let c = component
        let licence = c.licence ?? "unknown licence"
        let origin = c.origin ?? "unknown origin"
        let updates =
            c.updatesFrom.map { "updated by \(c.updatedBy ?? "an unnamed party") from \($0)" }
            ?? "updater's jurisdiction unknown"
        return "\(c.name) (\(c.role.rawValue), \(licence), from \(origin), \(updates))"
    }

    /// The uses that `include` selects, one per component however many sites run it.
    static func distinct(_ uses: [SoftwareUse], _ include: (SoftwareUse) -> Bool) -> [SoftwareUse] {
        var seen = Set<String>()
        return uses.filter { include($0) && seen.insert($0.component.name).inserted }
    }

    /// The layer's caps, weakest first.
    static func cap(_ uses: [SoftwareUse], foreignUpdated: Double, _ finding: inout Finding) {
        if uses.allSatisfy({ $0.closed && $0.foreignUpdates }) {
            finding.cap(.noSovereignty, "every component is closed and updated from abroad")
        }
        for use in distinct(uses, { $0.closed && $0.foreignUpdates && $0.component.role.isCritical }) {
            finding.cap(
                .jurisdictional,
                "closed \(use.component.role.rawValue) updated from abroad: \(use.description)"
            )
        }
        for use in distinct(uses, { $0.closed && $0.foreignUpdates && !$0.component.role.isCritical }) {
            finding.cap(.data, "closed component updated from abroad: \(use.description)")
        }
        if foreignUpdated > 0.5 {
            finding.cap(
                .data,
                "\(Format.percent(foreignUpdated)) of the stack (capacity-weighted) is updated from abroad"
            )
        }
        for use in distinct(uses, { !$0.closed && ($0.foreignOrigin || $0.foreignUpdates) }) {
            finding.cap(.resilience, "open component from or updated from abroad: \(use.description)")
        }
    }
}
