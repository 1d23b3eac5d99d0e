public import SovereignModel

/// Carbon per unit of work: energy per FLOP × the site's mean supply carbon intensity. Best = 1.
public struct CarbonScorer: Scorer {
    public let name = "carbon"

    /// Makes the scorer.
    public init() {}

    public func scores(_ workload: Workload, candidates: [FittedCandidate], context: PlanningContext) -> [Double] {
        let costs = candidates.map {
            EnergyScorer.joulesPerFLOP($0.candidate, context: context)
                * max(1, context.meanCarbon[$0.candidate.siteIndex])
        }
        let best = costs.min() ?? 1
        return costs.map { best / $0 }
    }
}
