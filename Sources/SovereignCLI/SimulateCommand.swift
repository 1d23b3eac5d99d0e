public import ArgumentParser
import Foundation
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
        let names = PlanningPolicy.choosable.map(\.name)
        for name in policies where PlanningPolicy.named(name) == nil {
            throw ValidationError("--policy: expected one of \(names.joined(separator: ", ")), found \"\(name)\"")
        }
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
        case .json: print(try jsonText(SimulationJSON(results, scenario: scenario, seed: seed)))
        case .text: print(SimulationText.render(results, scenario: scenario, seed: seed))
        }
    }
}
