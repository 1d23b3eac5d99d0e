public import SovereignModel
public import SovereignSimulator

/// The assessment as a self-contained HTML page: the matrix as an SVG heatmap (sites × layers, with the
/// fleet-wide row), the reasons behind every fleet-wide level, the framework's objectives and the stress
/// tests as bars. Inline CSS and SVG only; nothing is fetched.
public enum AssessmentReport: Sendable {
    /// Cell colours by level, red (0) to green (4); grey where a layer does not apply.
    static let levelColors = ["#b2182b", "#ef8a62", "#f6d55c", "#91cf60", "#1a9850"]
    static let notApplicable = "#e4e9ef"

    private static func esc(_ text: String) -> String { SimulationReport.escape(text) }
    private static func num(_ v: Double, _ digits: Int = 1) -> String { SimulationReport.number(v, digits) }

    /// Renders the report.
    ///
    /// - Parameters:
    ///   - matrix: the assessment.
    ///   - fleet: the fleet assessed.
    ///   - stress: the uncut simulation and the stress results, with the policy name and seed.
    /// - Returns: the HTML page.
    public static func html(
        _ matrix: SovereigntyMatrix,
        fleet: Fleet,
        stress: StressRun?
    ) -> String {
        let title = "Sovereignty assessment" + (fleet.scenario.map { " — \($0.name)" } ?? "")
        var body = "<h1>\(esc(title))</h1>"
        let total = matrix.sites.reduce(0) { $0 + $1.pflops }
        body +=
            "<p class=sub>\(fleet.sites.count) sites, \(fleet.summary.accelerators) accelerators "
            + "(\(num(total, 1)) PFLOPS dense), \(fleet.workloads.count) workloads. Domestic means "
            + "\(esc(matrix.home.description)); placement from \(esc(matrix.placementBasis)). Levels are the EU Cloud "
            + "Sovereignty Framework's SEAL levels, by the weakest-link rule; the number under each level is the "
            + "continuous score (0–1) that ranks cells within a level.</p>"
        body += weakest(matrix)
        body += "<h2>The matrix</h2>"
        body += heatmap(matrix)
        body += legend()
        body += "<h2>Why each fleet-wide level</h2>"
        for a in matrix.fleet {
            let head = a.level.map { "level \($0.rawValue) — \($0.name), score \(num(a.score ?? 0, 2))" } ?? "n/a"
            body += "<h3>\(esc(a.layer.rawValue)): \(esc(head))</h3><ul class=why>"
            for r in a.reasons { body += "<li>\(esc(r))</li>" }
            for f in a.facts { body += "<li class=fact>\(esc(f))</li>" }
            body += "</ul>"
        }
        body += objectives(matrix)
        if let stress { body += stressSection(stress) }
        body += "<h2>Site by site</h2>"
        for row in matrix.sites {
            body +=
                "<details><summary>\(esc(row.site)) (\(esc(row.jurisdiction)), \(num(row.pflops, 1)) PFLOPS)</summary><ul class=why>"
            for a in row.layers {
                let level = a.level.map { "\($0.rawValue)" } ?? "n/a"
                body += "<li><b>\(esc(a.layer.rawValue)) \(level)</b>: \(esc(a.reasons.joined(separator: "; ")))</li>"
            }
            body += "</ul></details>"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
            <style>
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;margin:32px auto;max-width:1100px;padding:0 16px}
            h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 6px;border-bottom:1px solid #dde3ea;padding-bottom:4px}
            h3{font-size:15px;margin:16px 0 2px}.sub{color:#5b6b7c;margin:0 0 12px}
            table{border-collapse:collapse;width:100%}th,td{padding:6px 10px;border-bottom:1px solid #e6ebf0;text-align:left;vertical-align:top}
            thead th{background:#f3f6f9}td.num{text-align:right;white-space:nowrap}
            svg{display:block;margin:6px 0 10px}summary{cursor:pointer;font-weight:600;margin:6px 0}
            ul.why{margin:4px 0 8px;padding-left:20px}ul.why li{margin:3px 0}li.fact{color:#5b6b7c}
            .weak{background:#fdf1ee;border-left:4px solid #b2182b;padding:10px 14px;margin:12px 0}
            .legend span{display:inline-block;margin-right:14px;font-size:12px}.legend i{display:inline-block;width:14px;height:14px;margin-right:5px;vertical-align:-2px;border-radius:2px}
            </style></head><body>
            \(body)
            </body></html>
            """
    }

    static func weakest(_ matrix: SovereigntyMatrix) -> String {
        let w = matrix.weakest
        var html =
            "<div class=weak><b>Most fragile layer: \(esc(w.layer.rawValue))</b> — level \(w.level.rawValue) "
            + "(\(esc(w.level.name))), score \(num(w.score, 2)).<ul class=why>"
        for why in w.why { html += "<li>\(esc(why))</li>" }
        return html + "</ul></div>"
    }

    static func heatmap(_ matrix: SovereigntyMatrix) -> String {
        let layers = Layer.allCases
        let rows = matrix.sites.map { ($0.site, $0.jurisdiction, $0.layers) } + [("fleet", "", matrix.fleet)]
        let labelWidth = 190.0
        let cellWidth = 150.0
        let cellHeight = 38.0
        let top = 28.0
        let width = labelWidth + cellWidth * Double(layers.count) + 4
        let height = top + cellHeight * Double(rows.count) + 10
        var svg =
            "<svg viewBox=\"0 0 \(num(width)) \(num(height))\" width=\"100%\" role=\"img\" "
            + "aria-label=\"sovereignty matrix: sites by layers\" font-family=\"system-ui,sans-serif\">"
        for (j, layer) in layers.enumerated() {
            let x = labelWidth + cellWidth * (Double(j) + 0.5)
            svg +=
                "<text x=\"\(num(x))\" y=\"18\" font-size=\"13\" font-weight=\"600\" text-anchor=\"middle\">\(layer.rawValue)</text>"
        }
        for (i, (name, jurisdiction, cells)) in rows.enumerated() {
            let y = top + cellHeight * Double(i)
            let isFleet = i == rows.count - 1
            if isFleet {
                svg +=
                    "<line x1=\"0\" x2=\"\(num(width))\" y1=\"\(num(y - 0.5))\" y2=\"\(num(y - 0.5))\" stroke=\"#1d2733\" stroke-width=\"1.5\"/>"
            }
            let label = jurisdiction.isEmpty ? name : "\(name) (\(jurisdiction))"
            svg +=
                "<text x=\"4\" y=\"\(num(y + cellHeight / 2 + 5))\" font-size=\"13\"\(isFleet ? " font-weight=\"700\"" : "")>\(esc(label))</text>"
            for (j, a) in cells.enumerated() {
                let x = labelWidth + cellWidth * Double(j)
                let fill = a.level.map { levelColors[$0.rawValue] } ?? notApplicable
                let dark = a.level.map { $0.rawValue == 0 || $0.rawValue == 4 } ?? false
                let ink = dark ? "#ffffff" : "#1d2733"
                svg +=
                    "<g><title>\(esc("\(name) · \(a.layer.rawValue): " + a.reasons.joined(separator: "; ")))</title>"
                    + "<rect x=\"\(num(x + 1))\" y=\"\(num(y + 1))\" width=\"\(num(cellWidth - 2))\" height=\"\(num(cellHeight - 2))\" rx=\"3\" fill=\"\(fill)\"/>"
                let text = a.level.map { "\($0.rawValue) · \(Format.fixed(a.score ?? 0))" } ?? "n/a"
                svg +=
                    "<text x=\"\(num(x + cellWidth / 2))\" y=\"\(num(y + cellHeight / 2 + 5))\" font-size=\"13\" "
                    + "text-anchor=\"middle\" fill=\"\(ink)\"\(isFleet ? " font-weight=\"700\"" : "")>\(text)</text></g>"
            }
        }
        return svg + "</svg>"
    }

    static func legend() -> String {
        var html = "<div class=legend>"
        for level in SealLevel.allCases {
            html +=
                "<span><i style=\"background:\(levelColors[level.rawValue])\"></i>\(level.rawValue) \(esc(level.name))</span>"
        }
        html += "<span><i style=\"background:\(notApplicable)\"></i>does not apply</span>"
        return html + "</div>"
    }

    static func objectives(_ matrix: SovereigntyMatrix) -> String {
        var html =
            "<h2>Cloud Sovereignty Framework objectives</h2><table><thead><tr><th>objective</th><th>weight</th>"
            + "<th>level</th><th>score</th><th>from layers</th><th>basis</th></tr></thead><tbody>"
        for o in matrix.objectives {
            html +=
                "<tr><td>\(o.id) \(esc(o.name))</td><td class=num>\(Format.percent(o.weight))</td>"
                + "<td class=num>\(o.level.map { "\($0.rawValue)" } ?? "—")</td>"
                + "<td class=num>\(o.score.map { num($0, 2) } ?? "—")</td>"
                + "<td>\(esc(o.layers.map(\.rawValue).joined(separator: ", ")))</td><td>\(esc(o.basis))</td></tr>"
        }
        let weighted = Objectives.weightedScore(matrix.objectives)
        html +=
            "</tbody></table><p class=sub>Weighted sovereignty score \(num(weighted.score, 2)) over the "
            + "\(Format.percent(weighted.coverage)) of weight assessed.</p>"
        return html
    }

    static func stressSection(
        _ stress: StressRun
    ) -> String {
        let r = stress.uncut.result
        var html =
            "<h2>Stress tests</h2><p class=sub>\(esc(stress.policy)) policy, seed \(stress.seed). The uncut fleet "
            + "completes \(r.workloads.completed)/\(r.workloads.total) workloads and \(num(r.work.doneExaflop, 1)) of "
            + "\(num(r.work.requiredExaflop, 1)) EFLOP. Each bar is a share of the uncut fleet.</p>"
        let bars: [(String, String, (StressResult) -> Double)] = [
            ("capacity left", "#2e4057", { 1 - $0.pflopsLost / max(1e-12, $0.pflopsTotal) }),
            ("work done", "#00798c", { $0.workDone.uncut > 0 ? $0.workDone.cut / $0.workDone.uncut : 1 }),
            (
                "workloads completed", "#edae49",
                { $0.completed.uncut > 0 ? Double($0.completed.cut) / Double($0.completed.uncut) : 1 }
            ),
        ]
        let labelWidth = 150.0
        let barWidth = 760.0
        let barHeight = 16.0
        let titleHeight = 20.0
        let groupHeight = titleHeight + barHeight * Double(bars.count) + 14
        let width = labelWidth + barWidth + 60
        let height = groupHeight * Double(stress.results.count) + 22
        var svg =
            "<svg viewBox=\"0 0 \(num(width)) \(num(height))\" width=\"100%\" role=\"img\" aria-label=\"stress tests\" "
            + "font-family=\"system-ui,sans-serif\">"
        for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let x = labelWidth + barWidth * tick
            svg +=
                "<line x1=\"\(num(x))\" x2=\"\(num(x))\" y1=\"4\" y2=\"\(num(height - 16))\" stroke=\"#dde3ea\"/>"
                + "<text x=\"\(num(x))\" y=\"\(num(height - 4))\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5b6b7c\">\(Int(tick * 100))%</text>"
        }
        for (k, result) in stress.results.enumerated() {
            let y0 = groupHeight * Double(k) + 4
            let note = result.removesNothing == nil ? "" : " — removes nothing"
            svg +=
                "<text x=\"0\" y=\"\(num(y0 + 13))\" font-size=\"13\" font-weight=\"600\">cut \(esc(result.label))\(note)</text>"
            for (b, (name, color, value)) in bars.enumerated() {
                let y = y0 + titleHeight + Double(b) * barHeight
                let v = min(1, max(0, value(result)))
                svg +=
                    "<text x=\"\(num(labelWidth - 8))\" y=\"\(num(y + barHeight - 5))\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6b7c\">\(name)</text>"
                    + "<rect x=\"\(num(labelWidth))\" y=\"\(num(y))\" width=\"\(num(max(0.5, barWidth * v)))\" height=\"\(num(barHeight - 3))\" fill=\"\(color)\"/>"
                    + "<text x=\"\(num(labelWidth + barWidth * v + 4))\" y=\"\(num(y + barHeight - 5))\" font-size=\"11\">\(Format.percent(v))</text>"
            }
        }
        svg += "</svg>"
        html += svg
        html +=
            "<div class=legend>" + bars.map { "<span><i style=\"background:\($0.1)\"></i>\($0.0)</span>" }.joined()
            + "</div>"
        for result in stress.results {
            html += "<h3>cut \(esc(result.label))</h3><ul class=why>"
            if let nothing = result.removesNothing {
                html += "<li>removes nothing: \(esc(nothing))</li></ul>"
                continue
            }
            html +=
                "<li>lost \(result.acceleratorsLost)/\(result.acceleratorsTotal) accelerators, "
                + "\(num(result.pflopsLost, 1))/\(num(result.pflopsTotal, 1)) PFLOPS, \(esc("\(result.powerLost)")) of "
                + "\(esc("\(result.powerTotal)")) board power</li>"
            if !result.sitesLost.isEmpty {
                html += "<li>sites lost: \(esc(result.sitesLost.joined(separator: ", ")))</li>"
            }
            if !result.datasetsAtLostSites.isEmpty {
                html +=
                    "<li>datasets held at lost sites: \(esc(result.datasetsAtLostSites.joined(separator: ", ")))</li>"
            }
            if !result.softwareWithoutUpdates.isEmpty {
                html +=
                    "<li>software left without updates: \(esc(result.softwareWithoutUpdates.joined(separator: ", ")))</li>"
            }
            html +=
                "<li>workloads completed \(result.completed.cut)/\(result.workloads) (uncut \(result.completed.uncut)); "
                + "work done \(num(result.workDone.cut, 1)) EFLOP (uncut \(num(result.workDone.uncut, 1)))</li>"
            for lost in result.newlyUnplaceable { html += "<li class=fact>\(esc(lost.explanation))</li>" }
            html += "</ul>"
        }
        return html
    }
}
