import Foundation
import SovereignBase
public import SovereignModel

/// The simulation as `sovereign simulate --format json` writes it, for scripts: the scenario's grid and
/// seed, then one result per policy. Wall time, the one thing that differs between identical runs, is kept
/// rounded to hundredths of a second.
public struct SimulationJSON: Sendable, Encodable {
    struct ScenarioJSON: Sendable, Encodable {
        let start: String
        let horizon: String
        let step: String
        let seed: UInt64
    }

    let scenario: ScenarioJSON
    let results: [SimulationResult]

    /// The JSON form of a simulation.
    ///
    /// - Parameters:
    ///   - results: one result per policy.
    ///   - scenario: the scenario simulated.
    ///   - seed: the forecast-error seed used.
    public init(_ results: [SimulationResult], scenario: Scenario, seed: UInt64) {
        self.scenario = ScenarioJSON(
            start: ISO8601.format(epochSeconds: scenario.start.timeIntervalSince1970),
            horizon: "\(scenario.horizon)",
            step: "\(scenario.step)",
            seed: seed
        )
        self.results = results.map { result in
            var rounded = result
            rounded.wallSeconds = (result.wallSeconds * 100).rounded() / 100
            return rounded
        }
    }
}
