public import ArgumentParser
import Foundation
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

    @Option(help: "Policy: greedy, power-aware, carbon-aware or carbon-elastic.")
    public var policy: String = "power-aware"

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    @Option(help: "Write the plan to this file instead of standard output.")
    public var output: String?

    @Flag(
        help: "Also solve the LP relaxation of the time-indexed problem (GLPK) and print how far the plan is from it."
    )
    public var bound = false

    @Option(
        name: .customLong("awaiting"),
        help: "A derived dataset whose anonymisation has not run yet: work that reads it waits (repeatable)."
    )
    public var awaiting: [String] = []

    public init() {}

    public func validate() throws {
        guard PlanningPolicy.named(policy) != nil else {
            let names = PlanningPolicy.choosable.map(\.name).joined(separator: ", ")
            throw ValidationError("--policy: expected one of \(names), found \"\(policy)\"")
        }
    }

    public func run() throws {
        let fleet = try loadFleetOrExit(paths)
        for name in awaiting where fleet.dataset(named: name)?.derivedFrom == nil {
            let derived = fleet.datasets.filter { $0.derivedFrom != nil }.map(\.name)
            printError(
                "--awaiting: expected a derived Dataset (one with spec.derivedFrom: "
                    + "\(derived.isEmpty ? "none declared" : derived.joined(separator: ", "))), found \"\(name)\""
            )
            throw ExitCode.failure
        }
        let planner = Planner(policy: PlanningPolicy.named(policy)!)
        guard let plan = planner.plan(fleet, awaiting: Set(awaiting)) else {
            printError("\(paths.joined(separator: " ")): error: expected a Scenario document to plan over, found none")
            throw ExitCode.failure
        }
        let gap = bound ? try boundGap(plan, fleet: fleet) : nil
        let text =
            format == .json
            ? try jsonText(PlanJSON(plan, bound: gap)) : PlanText.render(plan) + (gap.map { "\n\n" + $0.text } ?? "")
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

    /// The plan's distance from its bound, or a located error and exit 1 when GLPK finds no optimum.
    private func boundGap(_ plan: Plan, fleet: Fleet) throws -> BoundGap {
        do {
            return try BoundGap(plan, fleet: fleet, policy: PlanningPolicy.named(policy) ?? .powerAware)
        } catch {
            printError(
                "\(paths.joined(separator: " ")): error: --bound: expected an optimal relaxation, found \(error)"
            )
            throw ExitCode.failure
        }
    }
}
