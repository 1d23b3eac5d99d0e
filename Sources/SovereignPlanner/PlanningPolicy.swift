public import SovereignModel

/// A scheduling policy: the same framework with different plug-ins and weights.
public struct PlanningPolicy: Sendable {
    /// The policy's name on the command line.
    public let name: String
    /// Filters every candidate must pass, in the order their refusals are reported.
    public let filters: [any Filter]
    /// Sizers applied, after scoring, to each candidate that passed (inference capacity).
    let sizers: [any Sizer]
    /// Limits the walk applies at every step (the power budget).
    let limits: [any StepLimit]
    /// Plug-ins that choose when deferrable work runs within its window (lower-carbon steps); the first
    /// that shifts a walk decides it.
    let shifting: [any TimeShifting]
    /// Scorers and their weights; with none, candidates keep the fleet's declaration order.
    public let scorers: [(scorer: any Scorer, weight: Double)]

    /// Whether placements must fit each site's forecast IT budget (`min(available/PUE, cooling)`).
    public var respectsPower: Bool { limits.contains { $0 is PowerBudget } }

    /// What a power-oblivious cluster scheduler does: priority then arrival order onto the first allowed
    /// pool with free accelerators, ignoring power.
    public static let greedy = PlanningPolicy(
        name: "greedy",
        filters: standardFilters,
        sizers: [InferenceCapacity()],
        limits: [],
        shifting: [],
        scorers: []
    )

    /// Plans against the power budget: pauses before shortfalls, resumes or migrates; prefers efficient,
    /// close-to-data, fast pools.
    public static let powerAware = PlanningPolicy(
        name: "power-aware",
        filters: standardFilters,
        sizers: [InferenceCapacity()],
        limits: [PowerBudget()],
        shifting: [],
        scorers: [
            (EnergyScorer(), 1), (LocalityScorer(), 1), (ThroughputScorer(), 1), (ServedFromScorer(), 2),
        ]
    )

    /// Power-aware, and shifts deferrable work to its lowest-carbon steps within deadlines, pauses priced.
    public static let carbonAware = PlanningPolicy(
        name: "carbon-aware",
        filters: standardFilters,
        sizers: [InferenceCapacity()],
        limits: [PowerBudget()],
        shifting: [CarbonShifting()],
        scorers: [
            (CarbonScorer(), 2), (EnergyScorer(), 1), (LocalityScorer(), 1), (ThroughputScorer(), 0.5),
            (ServedFromScorer(), 2),
        ]
    )

    /// Carbon-aware, and work that may vary its width (`accelerators: {min, max}`) runs wider in clean steps
    /// and narrower in dirty ones (``ElasticCarbonShifting``); the rest as carbon-aware. Chosen by name, not
    /// among ``all``, so that the reports comparing policies stay like for like with rigid work.
    public static let carbonElastic = PlanningPolicy(
        name: "carbon-elastic",
        filters: standardFilters,
        sizers: [InferenceCapacity()],
        limits: [PowerBudget()],
        shifting: [ElasticCarbonShifting(), CarbonShifting()],
        scorers: carbonAware.scorers
    )

    /// The filters every policy applies: residency and policy rules are hard constraints, never scores;
    /// federated training stays at its data's sites; hardware fit also sizes what passes.
    public static let standardFilters: [any Filter] = [
        ResidencyFilter(), DomesticOperatorFilter(), FederatedSiteFilter(), HardwareFitFilter(),
    ]

    /// Every built-in policy, in the order reports compare them.
    public static let all: [PlanningPolicy] = [greedy, powerAware, carbonAware]

    /// Every policy a user may name: ``all`` and the elastic one.
    public static let choosable: [PlanningPolicy] = all + [carbonElastic]

    /// The built-in policy with this name.
    public static func named(_ name: String) -> PlanningPolicy? { choosable.first { $0.name == name } }

    /// The filters prepared for one workload's scheduling cycle.
    public func preparedFilters(for workload: Workload, in fleet: Fleet) -> [PreparedFilter] {
        filters.map { $0.prepared(for: workload, in: fleet) }
    }
}
