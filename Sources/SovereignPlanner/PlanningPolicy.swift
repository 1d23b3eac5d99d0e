public import SovereignModel

/// A scheduling policy: the same framework with different plug-ins and weights.
public struct PlanningPolicy: Sendable {
    /// The policy's name on the command line.
    public let name: String
    /// Whether placements must fit each site's forecast IT budget (`min(available/PUE, cooling)`).
    public let respectsPower: Bool
    /// Whether deferrable work waits for lower-carbon steps while its deadline allows.
    public let defersToLowCarbon: Bool
    /// Filters every candidate must pass.
    public let filters: [any Filter]
    /// Scorers and their weights; with none, candidates keep the fleet's declaration order.
    public let scorers: [(scorer: any Scorer, weight: Double)]

    /// What a power-oblivious cluster scheduler does: priority then arrival order onto the first allowed
    /// pool with free accelerators, ignoring power.
    public static let greedy = PlanningPolicy(
        name: "greedy",
        respectsPower: false,
        defersToLowCarbon: false,
        filters: standardFilters,
        scorers: []
    )

    /// Plans against the power budget: pauses before shortfalls, resumes or migrates; prefers efficient,
    /// close-to-data, fast pools.
    public static let powerAware = PlanningPolicy(
        name: "power-aware",
        respectsPower: true,
        defersToLowCarbon: false,
        filters: standardFilters,
        scorers: [
            (EnergyScorer(), 1), (LocalityScorer(), 1), (ThroughputScorer(), 1), (ServedFromScorer(), 2),
        ]
    )

    /// Power-aware, and shifts deferrable work to lower-carbon steps within deadlines.
    public static let carbonAware = PlanningPolicy(
        name: "carbon-aware",
        respectsPower: true,
        defersToLowCarbon: true,
        filters: standardFilters,
        scorers: [
            (CarbonScorer(), 2), (EnergyScorer(), 1), (LocalityScorer(), 1), (ThroughputScorer(), 0.5),
            (ServedFromScorer(), 2),
        ]
    )

    /// The filters every policy applies: residency and policy rules are hard constraints, never scores.
    public static let standardFilters: [any Filter] = [
        ResidencyFilter(), DomesticOperatorFilter(), HardwareFitFilter(),
    ]

    /// Every built-in policy, in the order reports compare them.
    public static let all: [PlanningPolicy] = [greedy, powerAware, carbonAware]

    /// The built-in policy with this name.
    public static func named(_ name: String) -> PlanningPolicy? { all.first { $0.name == name } }
}
