import Foundation
public import SovereignModel
public import SovereignSimulator

/// The assessment as a person reads it on a terminal.
public enum AssessmentText: Sendable {
    /// Renders the matrix, the reasons for every fleet-wide level, the objectives and the stress tests.
    ///
    /// - Parameters:
    ///   - matrix: the assessment.
    ///   - fleet: the fleet assessed.
    ///   - stress: the uncut simulation and the stress results, with the policy name and seed.
    ///   - verbose: also list, for every site, the reasons behind each of its levels.
    public static func render(
        _ matrix: SovereigntyMatrix,
        fleet: Fleet,
        stress: StressRun?,
        verbose: Bool = true
    ) -> String {
        var out: [String] = []
        let total = matrix.sites.reduce(0) { $0 + $1.pflops }
        out.append(
            "Sovereignty of \(fleet.sites.count) site\(fleet.sites.count == 1 ? "" : "s"), "
                + "\(fleet.summary.accelerators) accelerators (\(Format.number(total, 1)) PFLOPS dense); "
                + "domestic means \(matrix.home.description); placement from \(matrix.placementBasis)"
        )
        out.append(
            "Levels are the EU Cloud Sovereignty Framework's SEAL levels: "
                + SealLevel.allCases.map { "\($0.rawValue) \($0.name)" }.joined(separator: ", ")
                + ". Each cell: level (score 0–1)."
        )
        out.append("")
        var table = [["site", "in"] + Layer.allCases.map(\.rawValue)]
        func cell(_ a: LayerAssessment) -> String {
            guard let level = a.level, let score = a.score else { return "n/a" }
            return "\(level.rawValue) (\(String(format: "%.2f", score)))"
        }
        for row in matrix.sites { table.append([row.site, row.jurisdiction] + row.layers.map(cell)) }
        table.append(["fleet", ""] + matrix.fleet.map(cell))
        out += aligned(table)
        out.append("")
        out.append(
            "Most fragile layer: \(matrix.weakest.layer.rawValue) (level \(matrix.weakest.level.rawValue), "
                + "\(matrix.weakest.level.name), score \(String(format: "%.2f", matrix.weakest.score)))"
        )
        for why in matrix.weakest.why { out.append("  - \(why)") }
        out.append("")
        out.append("Fleet-wide, layer by layer:")
        for a in matrix.fleet {
            let head = a.level.map { "level \($0.rawValue), score \(String(format: "%.2f", a.score ?? 0))" } ?? "n/a"
            out.append("  \(a.layer.rawValue): \(head)")
            for r in a.reasons { out.append("    - \(r)") }
            for f in a.facts { out.append("      · \(f)") }
        }
        if verbose {
            out.append("")
            out.append("Site by site (the facts that set each level):")
            for row in matrix.sites {
                out.append("  \(row.site) (\(row.jurisdiction), \(Format.number(row.pflops, 1)) PFLOPS):")
                for a in row.layers {
                    out.append(
                        "    \(a.layer.rawValue) \(a.level.map { "\($0.rawValue)" } ?? "n/a"): \(a.reasons.joined(separator: "; "))"
                    )
                }
            }
        }
        out.append("")
        out.append("Cloud Sovereignty Framework objectives (weight: level, score; from layers):")
        for o in matrix.objectives {
            let value =
                o.level.map { "level \($0.rawValue), score \(String(format: "%.2f", o.score ?? 0))" } ?? "not assessed"
            let layers = o.layers.isEmpty ? "" : " from \(o.layers.map(\.rawValue).joined(separator: ", "))"
            out.append("  \(o.id) \(o.name) (\(Format.percent(o.weight))): \(value)\(layers)")
        }
        let weighted = Objectives.weightedScore(matrix.objectives)
        out.append(
            "  weighted sovereignty score \(String(format: "%.2f", weighted.score)) over the "
                + "\(Format.percent(weighted.coverage)) of weight assessed; overall level "
                + "\(matrix.objectives.compactMap(\.level).min().map { "\($0.rawValue)" } ?? "n/a") (the lowest objective)"
        )
        if let stress {
            out.append("")
            out += renderStress(stress)
        }
        return out.joined(separator: "\n")
    }

    static func renderStress(
        _ stress: StressRun
    ) -> [String] {
        let r = stress.uncut.result
        var out = [
            "Stress tests (\(stress.policy) policy, seed \(stress.seed)); uncut fleet: "
                + "\(r.workloads.completed)/\(r.workloads.total) workloads completed, "
                + "\(Format.number(r.work.doneExaflop, 1))/\(Format.number(r.work.requiredExaflop, 1)) EFLOP done, "
                + "\(r.workloads.unplaceable) unplaceable"
        ]
        for x in stress.results {
            out.append("  cut \(x.label):")
            if let nothing = x.removesNothing {
                out.append("    removes nothing: \(nothing)")
                continue
            }
            out.append(
                "    lost \(x.acceleratorsLost)/\(x.acceleratorsTotal) accelerators "
                    + "(\(Format.percent(Double(x.acceleratorsLost) / Double(max(1, x.acceleratorsTotal))))), "
                    + "\(Format.number(x.pflopsLost, 1))/\(Format.number(x.pflopsTotal, 1)) PFLOPS "
                    + "(\(Format.percent(x.pflopsLost / max(1e-12, x.pflopsTotal)))), "
                    + "\(x.powerLost) of \(x.powerTotal) board power"
            )
            if !x.sitesLost.isEmpty { out.append("    sites lost: \(x.sitesLost.joined(separator: ", "))") }
            if !x.datasetsAtLostSites.isEmpty {
                out.append("    datasets held at lost sites: \(x.datasetsAtLostSites.joined(separator: ", "))")
            }
            if !x.softwareWithoutUpdates.isEmpty {
                out.append("    software left without updates: \(x.softwareWithoutUpdates.joined(separator: ", "))")
            }
            out.append(
                "    workloads completed \(x.completed.cut)/\(x.workloads) (uncut \(x.completed.uncut)); "
                    + "work done \(Format.number(x.workDone.cut, 1)) EFLOP (uncut \(Format.number(x.workDone.uncut, 1)), "
                    + "\(Format.percent(x.workDone.uncut > 0 ? x.workDone.cut / x.workDone.uncut : 1)) of it)"
                    + (x.serviceShortSteps.cut != x.serviceShortSteps.uncut
                        ? "; service steps short \(x.serviceShortSteps.cut) (uncut \(x.serviceShortSteps.uncut))" : "")
            )
            if x.newlyUnplaceable.isEmpty {
                out.append("    no workload becomes unplaceable")
            } else {
                out.append("    no longer placeable (\(x.newlyUnplaceable.count)):")
                for lost in x.newlyUnplaceable.prefix(20) { out.append("      \(lost.explanation)") }
                if x.newlyUnplaceable.count > 20 { out.append("      … and \(x.newlyUnplaceable.count - 20) more") }
            }
        }
        return out
    }

    static func aligned(_ rows: [[String]]) -> [String] {
        var widths = Array(repeating: 0, count: rows.map(\.count).max() ?? 0)
        for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { row in
            row.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }
}
