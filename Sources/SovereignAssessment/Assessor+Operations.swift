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
        var total = 0.0
        var outsideForeign = 0.0
        var foreignOperated = 0.0
        var foreignParent = 0.0
        var blocOnly = 0.0
        var foreignSites: [String] = []
        var parentedSites: [String] = []
        var blocSites: [String] = []
        for s in indices {
            let site = fleet.sites[s]
            let domestic = home.countries(for: site)
            let op = site.operator
            let parent = op.parentJurisdiction ?? op.jurisdiction
            let weight = max(pflops(site), 1e-9)
            total += weight
            let label = home.label(for: site)
            if !domestic.contains(op.jurisdiction) {
                foreignOperated += weight
                foreignParent += weight
                foreignSites.append(site.name)
                let text =
                    "\(site.name) is run by \(op.name), at home in \(op.jurisdiction)"
                    + (op.parentJurisdiction.map { " (parent in \($0))" } ?? "") + ", not \(label)"
                if !domestic.contains(site.jurisdiction) {
                    outsideForeign += weight
                    if indices.count == 1 {
                        finding.cap(
                            .noSovereignty,
                            "\(text); the site itself is in \(site.jurisdiction), outside \(label)"
                        )
                    }
                } else if indices.count == 1 {
                    finding.cap(.jurisdictional, text)
                }
            } else if !domestic.contains(parent) {
                foreignParent += weight
                parentedSites.append(site.name)
                if indices.count == 1 {
                    finding.cap(
                        .data,
                        "\(site.name)'s operator \(op.name) is at home in \(op.jurisdiction) but its ultimate parent "
                            + "answers to \(parent)"
                    )
                }
            } else if op.jurisdiction != site.jurisdiction || parent != site.jurisdiction {
                blocOnly += weight
                blocSites.append(site.name)
                if indices.count == 1 {
                    finding.cap(
                        .resilience,
                        "\(site.name) (\(site.jurisdiction)) is run by \(op.name) from \(op.jurisdiction)"
                            + (parent != op.jurisdiction ? " (parent in \(parent))" : "") + ", inside \(label)"
                    )
                }
            }
        }
        guard total > 0 else { return Finding.notApplicable(.operations, "no site") }
        let operated = foreignOperated / total
        let parented = foreignParent / total
        let bloc = blocOnly / total
        if indices.count > 1 {
            if outsideForeign / total >= 0.99 {
                finding.cap(
                    .noSovereignty,
                    "\(Format.percent(outsideForeign / total)) of capacity is outside home, run by foreign operators"
                )
            }
            let operatedText =
                "\(Format.percent(operated)) of capacity run by foreign operators (\(Format.list(foreignSites)))"
            let parentText =
                "\(Format.percent(parented)) of capacity run by operators answering to a foreign parent "
                + "(\(Format.list(foreignSites + parentedSites)))"
            if operated > 0.5 {
                finding.cap(.jurisdictional, operatedText)
            } else if operated > 0.1 {
                finding.cap(.data, operatedText)
            } else if operated > 0 {
                finding.cap(.resilience, operatedText)
            }
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
        finding.note(
            "foreign-operated \(Format.percent(operated)), foreign parent \(Format.percent(parented)) of capacity"
        )
        let sites = indices.map { fleet.sites[$0] }
        let nothing =
            sites.count == 1
            ? "\(sites[0].name) is run by \(sites[0].operator.name), at home in \(sites[0].jurisdiction) with no foreign parent"
            : "every site run by an operator at home in the site's country, with no foreign parent"
        return finding.result(score: 1 - 0.5 * operated - 0.4 * parented - 0.1 * bloc, whenNothingCaps: nothing)
    }
}
