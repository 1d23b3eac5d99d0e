import SovereignModel
public import SovereignSimulator

/// The assessment as `--format json` writes it: the names are a contract scripts read, numbers are rounded
/// so that identical runs give identical bytes.
public struct AssessmentJSON: Sendable, Encodable {
    struct LayerJSON: Sendable, Encodable {
        let layer: String
        let level: Int?
        let levelName: String?
        let score: Double?
        let reasons: [String]
        let facts: [String]

        init(_ a: LayerAssessment) {
            layer = a.layer.rawValue
            level = a.level?.rawValue
            levelName = a.level?.name
            score = a.score.map { rounded($0, 3) }
            reasons = a.reasons
            facts = a.facts
        }
    }

    struct SiteJSON: Sendable, Encodable {
        let site: String
        let jurisdiction: String
        let pflops: Double
        let layers: [LayerJSON]
    }

    struct ObjectiveJSON: Sendable, Encodable {
        let id: String
        let name: String
        let weight: Double
        let layers: [String]
        let level: Int?
        let score: Double?
        let basis: String
    }

    struct WeakestJSON: Sendable, Encodable {
        let layer: String
        let level: Int
        let score: Double
        let why: [String]
    }

    struct RunJSON: Sendable, Encodable {
        let workloads: Int
        let completed: Int
        let unplaceable: Int
        let workDoneExaflop: Double
        let workRequiredExaflop: Double
        let serviceShortSteps: Int
    }

    struct LostJSON: Sendable, Encodable {
        let workload: String
        let explanation: String
    }

    struct ScenarioJSON: Sendable, Encodable {
        let cuts: [String]
        let removesNothing: String?
        let sitesLost: [String]
        let poolsLost: [String]
        let acceleratorsLost: Int
        let acceleratorsTotal: Int
        let pflopsLost: Double
        let pflopsTotal: Double
        let powerLostKW: Double
        let powerTotalKW: Double
        let datasetsAtLostSites: [String]
        let softwareWithoutUpdates: [String]
        let newlyUnplaceable: [LostJSON]
        let stillUnplaceable: Int
        let completed: Int
        let workDoneExaflop: Double
        let serviceShortSteps: Int
    }

    struct StressJSON: Sendable, Encodable {
        let policy: String
        let seed: UInt64
        let uncut: RunJSON
        let scenarios: [ScenarioJSON]
    }

    let home: String
    let placement: String
    let levels: [String: String]
    let sites: [SiteJSON]
    let fleet: [LayerJSON]
    let weakest: WeakestJSON
    let objectives: [ObjectiveJSON]
    let weightedScore: Double
    let weightedScoreCoverage: Double
    let stress: StressJSON?

    /// Builds the JSON view of an assessment and, when run, its stress tests.
    ///
    /// - Parameters:
    ///   - matrix: the assessment.
    ///   - stress: the uncut simulation and the stress results, with the policy name and seed.
    public init(
        _ matrix: SovereigntyMatrix,
        stress run: StressRun?
    ) {
        home = matrix.home.description
        placement = matrix.placementBasis
        levels = Dictionary(uniqueKeysWithValues: SealLevel.allCases.map { ("\($0.rawValue)", $0.name) })
        sites = matrix.sites.map {
            SiteJSON(
                site: $0.site,
                jurisdiction: $0.jurisdiction,
                pflops: rounded($0.pflops, 3),
                layers: $0.layers.map(LayerJSON.init)
            )
        }
        fleet = matrix.fleet.map(LayerJSON.init)
        weakest = WeakestJSON(
            layer: matrix.weakest.layer.rawValue,
            level: matrix.weakest.level.rawValue,
            score: rounded(matrix.weakest.score, 3),
            why: matrix.weakest.why
        )
        objectives = matrix.objectives.map {
            ObjectiveJSON(
                id: $0.id,
                name: $0.name,
                weight: $0.weight,
                layers: $0.layers.map(\.rawValue),
                level: $0.level?.rawValue,
                score: $0.score.map { rounded($0, 3) },
                basis: $0.basis
            )
        }
        let weighted = Objectives.weightedScore(matrix.objectives)
        weightedScore = rounded(weighted.score, 3)
        weightedScoreCoverage = rounded(weighted.coverage, 3)
        stress = run.map { s in
            let r = s.uncut.result
            return StressJSON(
                policy: s.policy,
                seed: s.seed,
                uncut: RunJSON(
                    workloads: r.workloads.total,
                    completed: r.workloads.completed,
                    unplaceable: r.workloads.unplaceable,
                    workDoneExaflop: rounded(r.work.doneExaflop, 4),
                    workRequiredExaflop: rounded(r.work.requiredExaflop, 4),
                    serviceShortSteps: r.serviceShortSteps
                ),
                scenarios: s.results.map { x in
                    ScenarioJSON(
                        cuts: x.cuts.map(\.description),
                        removesNothing: x.removesNothing,
                        sitesLost: x.sitesLost,
                        poolsLost: x.poolsLost,
                        acceleratorsLost: x.acceleratorsLost,
                        acceleratorsTotal: x.acceleratorsTotal,
                        pflopsLost: rounded(x.pflopsLost, 3),
                        pflopsTotal: rounded(x.pflopsTotal, 3),
                        powerLostKW: rounded(x.powerLost.watts / 1000, 3),
                        powerTotalKW: rounded(x.powerTotal.watts / 1000, 3),
                        datasetsAtLostSites: x.datasetsAtLostSites,
                        softwareWithoutUpdates: x.softwareWithoutUpdates,
                        newlyUnplaceable: x.newlyUnplaceable.map {
                            LostJSON(workload: $0.workload, explanation: $0.explanation)
                        },
                        stillUnplaceable: x.stillUnplaceable,
                        completed: x.completed.cut,
                        workDoneExaflop: rounded(x.workDone.cut, 4),
                        serviceShortSteps: x.serviceShortSteps.cut
                    )
                }
            )
        }
    }
}

/// Rounds to `digits` decimals (JSON numbers that do not wobble in the last bit between platforms).
func rounded(_ value: Double, _ digits: Int) -> Double {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return (value * scale).rounded() / scale
}
