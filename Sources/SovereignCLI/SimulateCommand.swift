public import ArgumentParser
import Foundation
import SovereignBase
import SovereignModel
import SovereignPlanner
import SovereignSimulator

/// `sovereign simulate`: run policies over the scenario and compare what happens.
public struct SimulateCommand: ParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate the scenario under one or more policies (all by default) and compare them."
    )

    @Argument(help: "Spec files or directories.")
    public var paths: [String]

    @Option(name: .customLong("policy"), help: "A policy to run (repeatable): greedy, power-aware, carbon-aware.")
    public var policies: [String] = []

    @Option(help: "Seed for forecast errors (default: the Scenario's seed).")
    public var seed: UInt64?

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    @Option(help: "Also write a self-contained HTML report (inline SVG) to this file.")
    public var report: String?

    public init() {}

    public func validate() throws {
        let names = PlanningPolicy.all.map(\.name)
        for name in policies where PlanningPolicy.named(name) == nil {
            throw ValidationError("--policy: expected one of \(names.joined(separator: ", ")), found \"\(name)\"")
        }
    }

    struct Report: Encodable {
        struct ScenarioJSON: Encodable {
            let start: String
            let horizon: String
            let step: String
            let seed: UInt64
        }

        let scenario: ScenarioJSON
        let results: [SimulationResult]
    }

    public func run() throws {
        let fleet = try loadFleetOrExit(paths)
        guard let scenario = fleet.scenario else {
            printError("\(paths.joined(separator: " ")): error: expected a Scenario document to simulate, found none")
            throw ExitCode.failure
        }
        let chosen = policies.isEmpty ? PlanningPolicy.all : policies.compactMap(PlanningPolicy.named)
        let seed = self.seed ?? scenario.seed
        var results: [SimulationResult] = []
        var simulations: [Simulation] = []
        for (i, policy) in chosen.enumerated() {
            if TerminalProgress.isTerminal {
                FileHandle.standardError.write(Data("\rsimulating \(policy.name) (\(i + 1)/\(chosen.count))".utf8))
            }
            let clock = ContinuousClock()
            let started = clock.now
            guard let simulation = Simulator(fleet: fleet).run(policy: policy, seed: seed) else { continue }
            let elapsed = clock.now - started
            var result = simulation.result
            result.wallSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            results.append(result)
            simulations.append(simulation)
        }
        TerminalProgress.clear()
        if let report {
            let html = SimulationReport.html(fleet: fleet, runs: simulations, seed: seed)
            do {
                try html.write(toFile: report, atomically: true, encoding: .utf8)
            } catch {
                printError("\(report): error: expected a writable file, found \(error.localizedDescription)")
                throw ExitCode.failure
            }
        }
        switch format {
        case .json:
            var deterministic = results
            // Wall time is the one thing that differs between identical runs; JSON keeps it, rounded.
            for k in deterministic.indices {
                deterministic[k].wallSeconds = (deterministic[k].wallSeconds * 100).rounded() / 100
            }
            let report = Report(
                scenario: .init(
                    start: ISO8601.format(epochSeconds: scenario.start.timeIntervalSince1970),
                    horizon: "\(scenario.horizon)",
                    step: "\(scenario.step)",
                    seed: seed
                ),
                results: deterministic
            )
            print(try jsonText(report))
        case .text:
            print(ComparisonTable.render(results, scenario: scenario, seed: seed))
        }
    }
}

/// The policy comparison as an aligned table.
enum ComparisonTable {
    static func render(_ results: [SimulationResult], scenario: Scenario, seed: UInt64) -> String {
        func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
        let rows: [(String, (SimulationResult) -> String)] = [
            ("workloads completed", { "\($0.workloads.completed)/\($0.workloads.total)" }),
            ("deadlines missed", { "\($0.workloads.deadlineMissed)" }),
            ("unplaceable", { "\($0.workloads.unplaceable)" }),
            ("work done (EFLOP)", { "\(f($0.work.doneExaflop))/\(f($0.work.requiredExaflop))" }),
            ("lost accelerator-hours", { f($0.work.lostAcceleratorHours) }),
            ("interruptions (load shed)", { "\($0.events.interruptions)" }),
            (
                "pauses / resumes / migrations",
                { "\($0.events.pauses) / \($0.events.resumes) / \($0.events.migrations)" }
            ),
            ("facility energy (MWh)", { f($0.energy.facilityKWh / 1000, 2) }),
            (
                "grid / solar / battery (MWh)",
                {
                    "\(f($0.energy.gridKWh / 1000, 2)) / \(f($0.energy.solarKWh / 1000, 2)) / \(f($0.energy.batteryKWh / 1000, 2))"
                }
            ),
            ("carbon (t CO2e)", { f($0.carbonKg / 1000, 2) }),
            ("checkpoint bytes across sites (GB)", { f($0.transfers.checkpointBytesAcrossSites / 1e9) }),
            (
                "violations residency/power/thermal",
                { "\($0.violations.residency)/\($0.violations.power)/\($0.violations.thermal)" }
            ),
        ]
        let header = ["scenario \(scenario.name), seed \(seed)"] + results.map(\.policy)
        var table = [header]
        for (name, value) in rows { table.append([name] + results.map(value)) }
        var widths = Array(repeating: 0, count: header.count)
        for row in table { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return table.map { row in
            row.enumerated().map { i, cell in
                i == 0
                    ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
