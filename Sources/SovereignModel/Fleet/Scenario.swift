public import Foundation

/// The time frame of a plan or simulation: when it starts, how long it runs, and its step.
public struct Scenario: Sendable, Hashable {
    /// The scenario's name.
    public let name: String
    /// The first instant.
    public let start: Date
    /// How long the scenario lasts.
    public let horizon: TimeSpan
    /// The length of one planning step; traces are averaged onto it.
    public let step: TimeSpan
    /// Relative error of power and weather forecasts against what happens (simulation), e.g. 0.10.
    public let forecastError: Double
    /// Seed for everything random in a simulation (forecast errors); same seed, same results.
    public let seed: UInt64

    /// Makes a scenario.
    public init(name: String, start: Date, horizon: TimeSpan, step: TimeSpan, forecastError: Double, seed: UInt64) {
        self.name = name
        self.start = start
        self.horizon = horizon
        self.step = step
        self.forecastError = forecastError
        self.seed = seed
    }

    /// The scenario's time grid.
    public var grid: TimeGrid { TimeGrid(start: start, horizon: horizon, step: step) }
}

/// A named group of jurisdictions (`EU`, `EAC`), which may include other groups.
public struct JurisdictionGroup: Sendable, Hashable {
    /// The group's name, e.g. `EAC`.
    public let name: String
    /// Members as written: ISO 3166-1 alpha-2 codes or names of other groups.
    public let members: [String]
    /// Every country the group contains, with nested groups expanded.
    public let countries: Set<String>
}
