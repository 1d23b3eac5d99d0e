import SovereignModel

/// The plan as a person reads it on a terminal (`sovereign plan`).
public enum PlanText: Sendable {
    /// Renders a summary line, then every workload: its status, its segments, the events between them and
    /// why it could not be placed in full.
    ///
    /// - Parameter plan: the plan.
    /// - Returns: The text, lines joined by `\n`, without a final newline.
    public static func render(_ plan: Plan) -> String {
        var lines = [summary(plan)]
        for workload in plan.workloads {
            lines.append("")
            lines += self.lines(workload, grid: plan.grid)
        }
        return lines.joined(separator: "\n")
    }

    /// `plan (policy): N workloads: 2 completed, 1 unplaceable`, statuses in a fixed order.
    private static func summary(_ plan: Plan) -> String {
        var counts: [PlacementStatus: Int] = [:]
        for w in plan.workloads { counts[w.status, default: 0] += 1 }
        let summary = [
            PlacementStatus.completed, .serving, .deadlineMissed, .unfinished, .short, .unplaceable, .notArrived,
            .waiting,
        ]
        .compactMap { s in counts[s].map { "\($0) \(s.rawValue)" } }
        .joined(separator: ", ")
        return "plan (\(plan.policy)): \(plan.workloads.count) workloads: \(summary)"
    }

    /// One workload's head line, segments, events (starts and finishes aside) and explanation.
    private static func lines(_ w: WorkloadPlan, grid: TimeGrid) -> [String] {
        var head = "\(w.name): \(w.status.rawValue)"
        if let finish = w.finishStep { head += ", done \(grid.label(at: finish))" }
        if let precision = w.precision, w.requiredFLOPs == nil { head += ", \(precision.rawValue)" }
        var lines = [head]
        for s in w.segments {
            lines.append(
                "  \(grid.label(at: s.start)) – \(grid.label(at: s.end))  \(s.site)/\(s.pool) × \(s.accelerators)"
            )
        }
        for e in w.events where e.kind != .start && e.kind != .finish {
            let detail = e.detail.isEmpty ? "" : " (\(e.detail))"
            lines.append("  \(grid.label(at: e.step))  \(e.kind.rawValue) at \(e.site)\(detail)")
        }
        for step in w.after { lines.append("  after: \(step.summary)") }
        if let explanation = w.explanation { lines.append("  why: \(explanation)") }
        return lines
    }
}
