public import SovereignModel

/// Facility energy per unit of work: accelerator efficiency × the site's mean PUE. Best = 1.
public struct EnergyScorer: Scorer {
    public let name = "energy"

    /// Makes the scorer.
    public init() {}

    /// Facility joules per FLOP on the candidate: board power at training utilisation × mean PUE ÷ peak FLOPS.
    static func joulesPerFLOP(_ c: Candidate, context: PlanningContext) -> Double {
        let pue = context.meanPUE[c.siteIndex]
        return c.model.power.watts * PhysicalModel.trainingUtilisation * pue / (c.model.tflops * 1e12)
    }

    public func scores(_ workload: Workload, candidates: [FittedCandidate], context: PlanningContext) -> [Double] {
        let costs = candidates.map { Self.joulesPerFLOP($0.candidate, context: context) }
        let best = costs.min() ?? 1
        return costs.map { best / $0 }
    }
}
