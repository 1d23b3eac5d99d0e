import SovereignModel

extension Assessor {
    /// Operations: who runs each site and whom they answer to, weighted by dense PFLOPS. For one site:
    /// 4 when the operator and its ultimate parent are at home in the site's own country; 3 when they are
    /// at home but in another country of the home bloc (`--home EU`); 2 when the operator is local but its
    /// parent is foreign (indirect foreign control, e.g. a subsidiary of a US provider under the CLOUD Act);
    /// 1 when the operator itself is foreign (local law applies only formally); 0 when a foreign operator
    /// runs a site outside the home jurisdiction.
    ///
    /// Fleet-wide caps: 0 when at least 99% of capacity is at sites outside home run by foreign operators;
    /// 1 when over half is run by foreign operators; 2 when over 10% is, or over half answers to a foreign
    /// parent; 3 when any capacity does either or sits outside the site's own country's control.
    ///
    /// Score: `1 − 0.5·foreign-operated − 0.4·foreign-parented − 0.1·bloc-not-national` (capacity shares).
    func operations(sites indices: [Int]) -> LayerAssessment {
        var finding = Finding(.operations)
        var shares = OperatorShares()
        for s in indices {
            let site = fleet.sites[s]
            let control = operatorControl(of: site)
            shares.add(control, site: site.name, weight: max(pflops(site), 1e-9))
            if indices.count == 1, let (level, text) = control.siteCap { finding.cap(level, text) }
        }
        guard shares.total > 0 else { return Finding.notApplicable(.operations, "no site") }
        if indices.count > 1 { shares.cap(&finding) }
        finding.note(
            "foreign-operated \(Format.percent(shares.operated)), foreign parent \(Format.percent(shares.parented)) of capacity"
        )
        let sites = indices.map { fleet.sites[$0] }
        let nothing =
            sites.count == 1
            ? "\(sites[0].name) is run by \(sites[0].operator.name), at home in \(sites[0].jurisdiction) with no foreign parent"
            : "every site run by an operator at home in the site's country, with no foreign parent"
        let score = 1 - 0.5 * shares.operated - 0.4 * shares.parented - 0.1 * shares.bloc
        return finding.result(score: score, whenNothingCaps: nothing)
    }

    /// Whom a site's operator answers to, seen from the site's home.
    private func operatorControl(of site: Site) -> OperatorControl {
        let domestic = home.countries(for: site)
        let op = site.operator
        let parent = op.parentJurisdiction ?? op.jurisdiction
        let label = home.label(for: site)
        if !domestic.contains(op.jurisdiction) {
            let text =
                "\(site.name) is run by \(op.name), at home in \(op.jurisdiction)"
                + (op.parentJurisdiction.map { " (parent in \($0))" } ?? "") + ", not \(label)"
            guard domestic.contains(site.jurisdiction) else {
                return .foreignOutsideHome("\(text); the site itself is in \(site.jurisdiction), outside \(label)")
            }
            return .foreignOperator(text)
        }
        if !domestic.contains(parent) {
            return .foreignParent(
                "\(site.name)'s operator \(op.name) is at home in \(op.jurisdiction) but its ultimate parent "
                    + "answers to \(parent)"
            )
        }
        if op.jurisdiction != site.jurisdiction || parent != site.jurisdiction {
            return .bloc(
                "\(site.name) (\(site.jurisdiction)) is run by \(op.name) from \(op.jurisdiction)"
                    + (parent != op.jurisdiction ? " (parent in \(parent))" : "") + ", inside \(label)"
            )
        }
        return .national
    }
}

/// Whom one site's operator answers to, with the fact that caps a one-site assessment.
enum OperatorControl {
    /// A foreign operator runs a site outside home.
    case foreignOutsideHome(String)
    /// A foreign operator runs a site at home.
    case foreignOperator(String)
    /// A local operator answers to a foreign parent.
    case foreignParent(String)
    /// Run from another country of the home bloc.
    case bloc(String)
    /// Operator and parent at home in the site's own country.
    case national

    var siteCap: (SealLevel, String)? {
        switch self {
        case .foreignOutsideHome(let text): (.noSovereignty, text)
        case .foreignOperator(let text): (.jurisdictional, text)
        case .foreignParent(let text): (.data, text)
        case .bloc(let text): (.resilience, text)
        case .national: nil
        }
    }
}

/// Capacity shares by operator control, with the sites in each, for the fleet-wide caps.
struct OperatorShares {
    var total = 0.0
    var outsideForeign = 0.0
    var foreignOperated = 0.0
    var foreignParent = 0.0
    var blocOnly = 0.0
    var foreignSites: [String] = []
    var parentedSites: [String] = []
    var blocSites: [String] = []

    var operated: Double { foreignOperated / total }
    var parented: Double { foreignParent / total }
    var bloc: Double { blocOnly / total }

    mutating func add(_ control: OperatorControl, site: String, weight: Double) {
        total += weight
        switch control {
        case .foreignOutsideHome, .foreignOperator:
            foreignOperated += weight
            foreignParent += weight
            foreignSites.append(site)
            if case .foreignOutsideHome = control { outsideForeign += weight }
        case .foreignParent:
            foreignParent += weight
            parentedSites.append(site)
        case .bloc:
            blocOnly += weight
            blocSites.append(site)
        case .national:
            break
        }
    }

    /// The fleet-wide caps, weakest first.
    func cap(_ finding: inout Finding) {
        if outsideForeign / total >= 0.99 {
            finding.cap(
                .noSovereignty,
                "\(Format.percent(outsideForeign / total)) of capacity is outside home, run by foreign operators"
            )
        }
        let operatedText =
            "\(Format.percent(operated)) of capacity run by foreign operators (\(Format.list(foreignSites)))"
        if operated > 0.5 {
            finding.cap(.jurisdictional, operatedText)
        } else if operated > 0.1 {
            finding.cap(.data, operatedText)
        } else if operated > 0 {
            finding.cap(.resilience, operatedText)
        }
        let parentText =
            "\(Format.percent(parented)) of capacity run by operators answering to a foreign parent "
            + "(\(Format.list(foreignSites + parentedSites)))"
        if parented > 0.5 {
            finding.cap(.data, parentText)
        } else if parented > 0 {
            finding.cap(.resilience, parentText)
        }
        if bloc > 0 {
            finding.cap(
                .resilience,
                "\(Format.percent(bloc)) of capacity run from another country of the home bloc (\(Format.list(blocSites)))"
            )
        }
    }
}
