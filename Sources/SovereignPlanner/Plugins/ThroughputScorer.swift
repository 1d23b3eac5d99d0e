public import SovereignModel

/// Deadline slack: faster pools finish sooner. Best = 1 (the fastest the workload may use, at its fit's
/// widest; a candidate that does not fit scores 0).
public struct ThroughputScorer: Scorer {
    public let name = "throughput"

    /// Makes the scorer.
    public init() {}

    public func scores(_ workload: Workload, candidates: [FittedCandidate], context: PlanningContext) -> [Double] {
        let speeds = candidates.map {
            PhysicalModel.throughput(workload, tflops: $0.candidate.model.tflops, count: $0.fit?.max ?? 0)
        }
        let best = speeds.max() ?? 1
        return speeds.map { best > 0 ? $0 / best : 0 }
    }
}
