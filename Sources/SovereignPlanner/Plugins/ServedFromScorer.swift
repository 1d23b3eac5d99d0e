public import SovereignModel

/// For inference: serve users from inside the jurisdictions they are in.
public struct ServedFromScorer: Scorer {
    public let name = "served-from"

    /// Makes the scorer.
    public init() {}

    public func scores(_ workload: Workload, candidates: [FittedCandidate], context: PlanningContext) -> [Double] {
        guard !workload.servedFrom.isEmpty else { return candidates.map { _ in 1 } }
        let countries = workload.servedFrom.reduce(into: Set<String>()) {
            $0.formUnion(context.fleet.countries(of: $1))
        }
        return candidates.map { countries.contains($0.candidate.site.jurisdiction) ? 1 : 0 }
    }
}
