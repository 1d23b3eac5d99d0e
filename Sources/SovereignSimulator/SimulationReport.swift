public import SovereignModel
import SovereignPlanner

/// A self-contained HTML report (inline SVG and CSS, nothing fetched) comparing policies on one scenario.
public enum SimulationReport: Sendable {
    static let colors = ["#d1495b", "#00798c", "#edae49", "#66a182", "#2e4057", "#8d96a3"]

    /// Escapes text for HTML element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A number for SVG coordinates and labels: at most `digits` decimals, no trailing `.0`.
    public static func number(_ v: Double, _ digits: Int = 1) -> String {
        let scale = [1.0, 10, 100, 1000][min(digits, 3)]
        let r = (v * scale).rounded() / scale
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// Renders the report.
    ///
    /// - Parameters:
    ///   - fleet: the fleet simulated.
    ///   - runs: one simulation per policy, in the order to show them.
    ///   - seed: the forecast seed.
    public static func html(fleet: Fleet, runs: [Simulation], seed: UInt64) -> String {
        guard let scenario = fleet.scenario else { return "" }
        let grid = scenario.grid
        var body = ""
        body += "<h1>Sovereign — \(escape(scenario.name))</h1>"
        body +=
            "<p class=sub>\(grid.label(at: 0)) to \(grid.label(at: grid.count)) UTC, step \(scenario.step), "
            + "forecast error \(number(scenario.forecastError * 100)) %, seed \(seed). \(fleet.sites.count) sites, "
            + "\(fleet.summary.accelerators) accelerators, \(fleet.workloads.count) workloads.</p>"
        body += comparison(runs)
        body +=
            "<h2>Power at each site</h2><p class=sub>Facility power the site could draw (grid × availability "
            + "+ solar + battery, grey) and what each policy drew. Red ticks: load shed.</p>"
        for (s, site) in fleet.sites.enumerated() {
            body += powerChart(site: site, index: s, runs: runs, grid: grid)
        }
        body += "<h2>When and where work ran</h2>"
        for (k, run) in runs.enumerated() {
            body += "<details\(k == 0 ? "" : "") open><summary>\(escape(run.result.policy))</summary>"
            body += gantt(fleet: fleet, run: run, grid: grid)
            body += "</details>"
        }
        body += "<h2>What could not be placed, and why</h2>"
        var explained = Set<String>()
        var items = ""
        for run in runs {
            for w in run.initialPlan.workloads {
                guard let e = w.explanation, explained.insert(e).inserted else { continue }
                items += "<li><b>\(escape(run.result.policy))</b>: \(escape(e))</li>"
            }
        }
        body += items.isEmpty ? "<p>Every workload was placed.</p>" : "<ul class=why>\(items)</ul>"
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Sovereign — \(escape(scenario.name))</title>
            <style>
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;margin:32px auto;max-width:1000px;padding:0 16px}
            h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 4px;border-bottom:1px solid #dde3ea;padding-bottom:4px}
            .sub{color:#5b6b7c;margin:0 0 12px}table{border-collapse:collapse;width:100%}
            th,td{padding:6px 10px;border-bottom:1px solid #e6ebf0;text-align:right}th:first-child,td:first-child{text-align:left}
            thead th{background:#f3f6f9}td.best{font-weight:600;color:#00798c}
            svg{display:block;margin:6px 0 14px}summary{cursor:pointer;font-weight:600;margin:8px 0}
            .legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:3px;margin-right:5px;vertical-align:middle}
            ul.why li{margin:4px 0}
            </style></head><body>
            \(body)
            </body></html>
            """
    }

    /// A comparison row: its name, its value, whether higher is better, and its decimals.
    typealias ComparisonRow = (String, @Sendable (SimulationResult) -> Double, Bool, Int)

    /// Rows shown only when the fleet has federated workloads planned by rounds.
    static let roundRows: [ComparisonRow] = [
        ("Federated rounds completed", { Double($0.rounds?.completed ?? 0) }, true, 0),
        ("Federated site dropouts", { Double($0.rounds?.dropouts ?? 0) }, false, 0),
    ]

    static func comparison(_ runs: [Simulation]) -> String {
        let base: [ComparisonRow] = [
            ("Workloads completed", { Double($0.workloads.completed) }, true, 0),
            ("Deadlines missed", { Double($0.workloads.deadlineMissed) }, false, 0),
            ("Work done (EFLOP)", { $0.work.doneExaflop }, true, 1),
            ("Work lost (accelerator-hours)", { $0.work.lostAcceleratorHours }, false, 1),
            ("Interruptions (load shed)", { Double($0.events.interruptions) }, false, 0),
            ("Planned pauses", { Double($0.events.pauses) }, false, 0),
            ("Migrations", { Double($0.events.migrations) }, false, 0),
            ("Facility energy (MWh)", { $0.energy.facilityKWh / 1000 }, false, 2),
            (
                "Solar share (%)", { $0.energy.facilityKWh > 0 ? 100 * $0.energy.solarKWh / $0.energy.facilityKWh : 0 },
                true, 1
            ),
            ("Carbon (t CO₂e)", { $0.carbonKg / 1000 }, false, 2),
            (
                "Residency / power / thermal violations",
                { Double($0.violations.residency + $0.violations.power + $0.violations.thermal) }, false, 0
            ),
        ]
        let rows = base + (runs.contains { $0.result.rounds != nil } ? roundRows : [])
        var html = "<h2>Policies compared</h2><table><thead><tr><th></th>"
        for run in runs { html += "<th>\(escape(run.result.policy))</th>" }
        html += "</tr></thead><tbody>"
        for (name, value, higherIsBetter, digits) in rows {
            let values = runs.map { value($0.result) }
            let best = higherIsBetter ? values.max() : values.min()
            html += "<tr><td>\(name)</td>"
            for v in values {
                let mark = values.count > 1 && v == best && Set(values).count > 1 ? " class=best" : ""
                html += "<td\(mark)>\(number(v, digits))</td>"
            }
            html += "</tr>"
        }
        return html + "</tbody></table>"
    }

    static func powerChart(site: Site, index s: Int, runs: [Simulation], grid: TimeGrid) -> String {
        let width = 960.0
        let height = 150.0
        let left = 56.0
        let plotWidth = width - left - 8
        let top = 22.0
        let plotHeight = height - top - 26
        let available = runs.first?.sites[s].available ?? StepValues([])
        let peak = max(1, (runs.flatMap { $0.sites[s].used } + available).max() ?? 1)
        func x(_ t: Int) -> Double { left + plotWidth * Double(t) / Double(max(1, grid.count)) }
        func y(_ w: Double) -> Double { top + plotHeight * (1 - w / peak) }
        var svg =
            "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" role=\"img\" aria-label=\"power at \(escape(site.name))\">"
        svg +=
            "<text x=\"0\" y=\"14\" font-size=\"12\" font-weight=\"600\">\(escape(site.name)) (\(site.jurisdiction))</text>"
        var area = "M\(number(x(0), 1)),\(number(y(0), 1))"
        for (t, w) in available.enumerated() {
            area += " L\(number(x(t), 1)),\(number(y(w), 1)) L\(number(x(t + 1), 1)),\(number(y(w), 1))"
        }
        area += " L\(number(x(grid.count), 1)),\(number(y(0), 1)) Z"
        svg += "<path d=\"\(area)\" fill=\"#e4e9ef\"/>"
        for (k, run) in runs.enumerated() {
            var line = ""
            for (t, w) in run.sites[s].used.enumerated() {
                line +=
                    (t == 0 ? "M" : " L")
                    + "\(number(x(t), 1)),\(number(y(w), 1)) L\(number(x(t + 1), 1)),\(number(y(w), 1))"
            }
            svg +=
                "<path d=\"\(line)\" fill=\"none\" stroke=\"\(colors[k % colors.count])\" stroke-width=\"1.4\" opacity=\"0.9\"/>"
            for (t, shed) in run.sites[s].shed.enumerated() where shed {
                svg +=
                    "<rect x=\(number(x(t), 1)) y=\"\(Int(height - 20))\" width=\(number(max(1, x(t + 1) - x(t)), 1)) height=\"5\" fill=\"\(colors[k % colors.count])\"/>"
            }
        }
        svg +=
            "<text x=\"\(Int(left - 6))\" y=\(Int(y(peak) + 4)) font-size=\"10\" text-anchor=\"end\">\(number(peak / 1000)) kW</text>"
        svg += "<text x=\"\(Int(left - 6))\" y=\(Int(y(0))) font-size=\"10\" text-anchor=\"end\">0</text>"
        let days = Int((grid.step * Double(grid.count)) / 86_400)
        if days >= 1 {
            for d in 0...days {
                let t = Int(Double(d) * 86_400 / grid.step)
                guard t <= grid.count else { continue }
                svg +=
                    "<line x1=\(number(x(t), 1)) x2=\(number(x(t), 1)) y1=\"\(Int(top))\" y2=\"\(Int(top + plotHeight))\" stroke=\"#c9d2dc\" stroke-dasharray=\"2,3\"/>"
                if d < days {
                    svg +=
                        "<text x=\(number(x(t) + 3, 1)) y=\"\(Int(height - 4))\" font-size=\"10\" fill=\"#5b6b7c\">\(grid.label(at: t).prefix(10))</text>"
                }
            }
        }
        svg += "</svg>"
        var legend = "<div class=legend><span><i style=\"background:#c9d2dc;height:10px\"></i>available</span>"
        for (k, run) in runs.enumerated() {
            legend +=
                "<span><i style=\"background:\(colors[k % colors.count])\"></i>\(escape(run.result.policy))</span>"
        }
        return svg + legend + "</div>"
    }

    static func gantt(fleet: Fleet, run: Simulation, grid: TimeGrid) -> String {
        var steps: [Int: [(Int, Int)]] = [:]
        for e in run.executed { steps[e.workload, default: []] += e.steps.map { ($0, e.site) } }
        let rows = fleet.workloads.indices
        let rowHeight = 18.0
        let left = 210.0
        let width = 960.0
        let plotWidth = width - left - 8
        let height = Double(rows.count) * rowHeight + 26
        func x(_ t: Int) -> Double { left + plotWidth * Double(t) / Double(max(1, grid.count)) }
        var svg =
            "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" role=\"img\" aria-label=\"workloads over time\">"
        for (r, w) in fleet.workloads.enumerated() {
            let top = Double(r) * rowHeight + 4
            svg += "<text x=\"0\" y=\"\(number(top + 12, 1))\" font-size=\"11\">\(escape(w.name))</text>"
            svg +=
                "<line x1=\(Int(left)) x2=\(Int(width - 8)) y1=\(number(top + rowHeight / 2, 1)) y2=\(number(top + rowHeight / 2, 1)) stroke=\"#eef1f4\"/>"
            // A federated workload trains at several sites at once: one thin lane per site, round ends ticked.
            let federated = w.type == .federated
            let sites = federated ? Array(Set((steps[r] ?? []).map(\.1))).sorted() : []
            let lane = (rowHeight - 6) / Double(max(1, sites.count))
            var runs: [(start: Int, end: Int, site: Int)] = []
            for (t, s) in (steps[r] ?? []).sorted(by: { federated ? ($0.1, $0.0) < ($1.1, $1.0) : $0.0 < $1.0 }) {
                if let last = runs.last, last.end == t, last.site == s {
                    runs[runs.count - 1].end = t + 1
                } else {
                    runs.append((t, t + 1, s))
                }
            }
            for seg in runs {
                let y = top + 3 + lane * Double(sites.firstIndex(of: seg.site) ?? 0)
                let height = federated ? number(lane, 1) : "\(Int(rowHeight - 6))"
                svg +=
                    "<rect x=\(number(x(seg.start), 1)) y=\"\(number(y, 1))\" width=\(number(max(1, x(seg.end) - x(seg.start)), 1)) height=\"\(height)\" rx=\"2\" fill=\"\(colors[(seg.site + 1) % colors.count])\"><title>\(escape(w.name)) at \(escape(fleet.sites[seg.site].name)), \(grid.label(at: seg.start))–\(grid.label(at: seg.end))</title></rect>"
            }
            svg += roundTicks(run.rounds.filter { $0.workload == r }, top: top, height: rowHeight, x: x, grid: grid)
            if runs.isEmpty {
                svg +=
                    "<text x=\"\(Int(left + 4))\" y=\"\(number(top + 12, 1))\" font-size=\"10\" fill=\"#8d96a3\">did not run</text>"
            }
        }
        svg += "</svg>"
        var legend = "<div class=legend>"
        for (s, site) in fleet.sites.enumerated() {
            legend +=
                "<span><i style=\"background:\(colors[(s + 1) % colors.count]);height:10px\"></i>\(escape(site.name))</span>"
        }
        return svg + legend + "</div>"
    }

    /// One tick per closed round of a federated workload: dark when it closed with its quorum, red when not.
    static func roundTicks(
        _ rounds: [RoundOutcome],
        top: Double,
        height: Double,
        x: (Int) -> Double,
        grid: TimeGrid
    )
        -> String
    {
        rounds.map { round in
            let what =
                round.completed
                ? "round closed with " + round.sites.joined(separator: ", ") : "round short of its quorum"
            return
                "<line x1=\(number(x(round.step), 1)) x2=\(number(x(round.step), 1)) y1=\"\(number(top + 1, 1))\" y2=\"\(number(top + height - 1, 1))\" stroke=\"\(round.completed ? "#1f2933" : "#d64545")\" stroke-width=\"0.6\"><title>\(grid.label(at: round.step)): \(escape(what))</title></line>"
        }.joined()
    }
}
