public import ArgumentParser
import Foundation
import SovereignBase
import SovereignModel
import SovereignPlanner

/// `sovereign plan`: where and when every workload runs, or why it cannot.
public struct PlanCommand: ParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Place and time every workload under residency, hardware, power and cooling limits."
    )

    @Argument(help: "Spec files or directories.")
    public var paths: [String]

    @Option(help: "Policy: greedy, power-aware or carbon-aware.")
    public var policy: String = "power-aware"

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    @Option(help: "Write the plan to this file instead of standard output.")
    public var output: String?

    public init() {}

    public func validate() throws {
        guard PlanningPolicy.named(policy) != nil else {
            let names = PlanningPolicy.all.map(\.name).joined(separator: ", ")
            throw ValidationError("--policy: expected one of \(names), found \"\(policy)\"")
        }
    }

    public func run() throws {
        let fleet = try loadFleetOrExit(paths)
        guard let plan = Planner(policy: PlanningPolicy.named(policy)!).plan(fleet) else {
            printError("\(paths.joined(separator: " ")): error: expected a Scenario document to plan over, found none")
            throw ExitCode.failure
        }
        let text = format == .json ? try jsonText(PlanJSON(plan)) : PlanText.render(plan)
        if let output {
            do {
                try (text + "\n").write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                printError("\(output): error: expected a writable file, found \(error.localizedDescription)")
                throw ExitCode.failure
            }
        } else {
            print(text)
        }
    }
}

/// The plan as a person reads it.
enum PlanText {
    static func render(_ plan: Plan) -> String {
        var lines: [String] = []
        var counts: [PlacementStatus: Int] = [:]
        for w in plan.workloads { counts[w.status, default: 0] += 1 }
        let summary = [
            PlacementStatus.completed, .serving, .deadlineMissed, .unfinished, .short, .unplaceable, .notArrived,
        ]
        .compactMap { s in counts[s].map { "\($0) \(s.rawValue)" } }
        .joined(separator: ", ")
        lines.append("plan (\(plan.policy)): \(plan.workloads.count) workloads: \(summary)")
        for w in plan.workloads {
            lines.append("")
            var head = "\(w.name): \(w.status.rawValue)"
            if let finish = w.finishStep { head += ", done \(plan.grid.label(at: finish))" }
            if let precision = w.precision, w.requiredFLOPs == nil { head += ", \(precision.rawValue)" }
            lines.append(head)
            for s in w.segments {
                lines.append(
                    "  \(plan.grid.label(at: s.start)) – \(plan.grid.label(at: s.end))  \(s.site)/\(s.pool) × \(s.accelerators)"
                )
            }
            for e in w.events where e.kind != .start && e.kind != .finish {
                let detail = e.detail.isEmpty ? "" : " (\(e.detail))"
                lines.append("  \(plan.grid.label(at: e.step))  \(e.kind.rawValue) at \(e.site)\(detail)")
            }
            if let explanation = w.explanation { lines.append("  why: \(explanation)") }
        }
        return lines.joined(separator: "\n")
    }
}

/// The plan as JSON, for scripts.
struct PlanJSON: Encodable {
    struct SegmentJSON: Encodable {
        let site: String
        let pool: String
        let accelerators: Int
        let start: String
        let end: String
    }

    struct EventJSON: Encodable {
        let kind: String
        let time: String
        let site: String
        let detail: String
    }

    struct WorkloadJSON: Encodable {
        let name: String
        let status: String
        let precision: String?
        let requiredExaflop: Double?
        let plannedExaflop: Double
        let finish: String?
        let segments: [SegmentJSON]
        let events: [EventJSON]
        let explanation: String?
    }

    let policy: String
    let workloads: [WorkloadJSON]

    init(_ plan: Plan) {
        func iso(_ step: Int) -> String {
            ISO8601.format(epochSeconds: plan.grid.start + Double(step) * plan.grid.step)
        }
        policy = plan.policy
        workloads = plan.workloads.map { w in
            WorkloadJSON(
                name: w.name,
                status: w.status.rawValue,
                precision: w.precision?.rawValue,
                requiredExaflop: w.requiredFLOPs.map { $0 / 1e18 },
                plannedExaflop: w.plannedFLOPs / 1e18,
                finish: w.finishStep.map(iso),
                segments: w.segments.map {
                    SegmentJSON(
                        site: $0.site,
                        pool: $0.pool,
                        accelerators: $0.accelerators,
                        start: iso($0.start),
                        end: iso($0.end)
                    )
                },
                events: w.events.map {
                    EventJSON(kind: $0.kind.rawValue, time: iso($0.step), site: $0.site, detail: $0.detail)
                },
                explanation: w.explanation
            )
        }
    }
}
