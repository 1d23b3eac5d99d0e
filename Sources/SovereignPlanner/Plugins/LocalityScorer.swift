public import SovereignModel

/// Data locality: time to bring the workload's datasets to the site over the links (0 when they are there).
public struct LocalityScorer: Scorer {
    public let name = "locality"

    /// Makes the scorer.
    public init() {}

    /// Seconds to move every dataset not at `site` over a direct link; infinite without one.
    public static func transferSeconds(_ w: Workload, to site: Site, fleet: Fleet) -> Double {
        transferSeconds(origins(of: w, in: fleet), to: site.name, fleet: fleet)
    }

    /// Where each of the workload's datasets is (its site's index, `nil` when unknown) and its size, looked up
    /// once per workload; the datasets a fleet does not know are left out, as they cost nothing to move.
    static func origins(of w: Workload, in fleet: Fleet) -> [(site: String, index: Int?, size: DataSize)] {
        w.datasets.compactMap { name in
            guard let dataset = fleet.dataset(named: name) else { return nil }
            return (dataset.site, fleet.siteIndex(named: dataset.site), dataset.size)
        }
    }

    /// Seconds to move the datasets at `origins` to the site named `site`, reading only the origins' links
    /// (never copying a whole `Site`).
    static func transferSeconds(
        _ origins: [(site: String, index: Int?, size: DataSize)],
        to site: String,
        fleet: Fleet
    ) -> Double {
        var seconds = 0.0
        for origin in origins where origin.site != site {
            guard let index = origin.index, let link = fleet.sites[index].links.first(where: { $0.to == site }) else {
                return .infinity
            }
            seconds += link.bandwidth.transferTime(of: origin.size).seconds
        }
        return seconds
    }

    public func scores(_ workload: Workload, candidates: [FittedCandidate], context: PlanningContext) -> [Double] {
        let origins = Self.origins(of: workload, in: context.fleet)
        return candidates.map {
            let hours = Self.transferSeconds(origins, to: $0.candidate.site.name, fleet: context.fleet) / 3600
            return hours.isFinite ? 1 / (1 + hours) : 0
        }
    }
}
