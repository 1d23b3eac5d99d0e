public import SovereignModel

/// Data locality: time to bring the workload's datasets to the site over the links (0 when they are there).
public struct LocalityScorer: Scorer {
    public let name = "locality"

    /// Makes the scorer.
    public init() {}

    /// Seconds to move every dataset not at `site` over a direct link; infinite without one.
    public static func transferSeconds(_ w: Workload, to site: Site, fleet: Fleet) -> Double {
        var seconds = 0.0
        for name in w.datasets {
            guard let dataset = fleet.dataset(named: name), dataset.site != site.name else { continue }
            let link = fleet.site(named: dataset.site)?.links.first { $0.to == site.name }
            guard let link else { return .infinity }
            seconds += link.bandwidth.transferTime(of: dataset.size).seconds
        }
        return seconds
    }

    public func scores(_ workload: Workload, candidates: [FittedCandidate], context: PlanningContext) -> [Double] {
        candidates.map {
            let hours = Self.transferSeconds(workload, to: $0.candidate.site, fleet: context.fleet) / 3600
            return hours.isFinite ? 1 / (1 + hours) : 0
        }
    }
}
