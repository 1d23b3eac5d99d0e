public import SovereignModel
public import SovereignPlanner
public import SovereignSimulator

/// One complete assessment: the matrix and, when cuts are given, the stress tests, computed concurrently.
public struct Assessment: Sendable {
    /// The matrix.
    public let matrix: SovereigntyMatrix
    /// The stress tests, when cuts were given and the fleet has a Scenario: the policy and seed they ran
    /// under, the uncut simulation and one result per scenario.
    public let stress: StressRun?

    /// Plans the fleet and assesses it while the stress tests simulate, all in one task group.
    ///
    /// - Parameters:
    ///   - fleet: the fleet.
    ///   - home: what counts as domestic.
    ///   - exportControl: classifications overriding the catalog's, by accelerator id.
    ///   - policy: the planning policy, for placement and stress tests.
    ///   - cuts: the cuts; ``StressTest/scenarios(_:)`` says which scenarios they make.
    ///   - seed: the forecast-error seed of the stress tests.
    /// - Returns: the assessment.
    /// - Complexity: one plan and the matrix (linear in pools, datasets, placements and software × sites),
    ///   plus one simulation per scenario and one for the uncut fleet, at most as wide as the machine.
    public static func run(
        _ fleet: Fleet,
        home: Home = .eachSitesCountry,
        exportControl: [String: ExportControl] = [:],
        policy: PlanningPolicy,
        cuts: [Cut],
        seed: UInt64
    ) async -> Assessment {
        async let matrix = Assessor(
            fleet: fleet,
            home: home,
            exportControl: exportControl,
            plan: Planner(policy: policy).plan(fleet)
        ).assess()
        let stress: StressRun?
        if cuts.isEmpty {
            stress = nil
        } else if let run = await StressTest.run(
            fleet,
            scenarios: StressTest.scenarios(cuts),
            policy: policy,
            seed: seed
        ) {
            stress = StressRun(policy: policy.name, seed: seed, uncut: run.uncut, results: run.results)
        } else {
            stress = nil
        }
        return Assessment(matrix: await matrix, stress: stress)
    }
}

/// Stress tests as they ran: the policy and forecast-error seed, the uncut fleet's simulation and one result per
/// scenario.
public struct StressRun: Sendable {
    /// The planning policy's name.
    public let policy: String
    /// The forecast-error seed.
    public let seed: UInt64
    /// The uncut fleet's simulation.
    public let uncut: Simulation
    /// One result per scenario, in order.
    public let results: [StressResult]

    /// Makes a run's record.
    public init(policy: String, seed: UInt64, uncut: Simulation, results: [StressResult]) {
        self.policy = policy
        self.seed = seed
        self.uncut = uncut
        self.results = results
    }
}
