public import SovereignModel

/// Mean of a series over `range` (the whole series when the range is empty).
func mean(_ values: [Double], _ range: Range<Int>) -> Double {
    let r = range.isEmpty ? 0..<values.count : range
    guard !r.isEmpty else { return 0 }
    var sum = 0.0
    for i in r { sum += values[i] }
    return sum / Double(r.count)
}

/// Facility energy per unit of work: accelerator efficiency × the site's mean PUE. Best = 1.
public struct EnergyScorer: Scorer {
    public let name = "energy"
    public init() {}

    static func joulesPerFLOP(_ c: Candidate, context: PlanningContext) -> Double {
        let pue = context.meanPUE[c.siteIndex]
        return c.model.power.watts * PhysicalModel.trainingUtilisation * pue / (c.model.tflops * 1e12)
    }

    public func scores(_ workload: Workload, candidates: [Candidate], context: PlanningContext) -> [Double] {
        let costs = candidates.map { Self.joulesPerFLOP($0, context: context) }
        let best = costs.min() ?? 1
        return costs.map { best / $0 }
    }
}

/// Carbon per unit of work: energy per FLOP × the site's mean supply carbon intensity. Best = 1.
public struct CarbonScorer: Scorer {
    public let name = "carbon"
    public init() {}

    public func scores(_ workload: Workload, candidates: [Candidate], context: PlanningContext) -> [Double] {
        let costs = candidates.map {
            EnergyScorer.joulesPerFLOP($0, context: context)
                * max(1, context.meanCarbon[$0.siteIndex])
        }
        let best = costs.min() ?? 1
        return costs.map { best / $0 }
    }
}

/// Data locality: time to bring the workload's datasets to the site over the links (0 when they are there).
public struct LocalityScorer: Scorer {
    public let name = "locality"
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

    public func scores(_ workload: Workload, candidates: [Candidate], context: PlanningContext) -> [Double] {
        candidates.map {
            let hours = Self.transferSeconds(workload, to: $0.site, fleet: context.fleet) / 3600
            return hours.isFinite ? 1 / (1 + hours) : 0
        }
    }
}

/// Deadline slack: faster pools finish sooner. Best = 1 (the fastest the workload may use).
public struct ThroughputScorer: Scorer {
    public let name = "throughput"
    public init() {}

    public func scores(_ workload: Workload, candidates: [Candidate], context: PlanningContext) -> [Double] {
        let speeds = candidates.map { c -> Double in
            let n = HardwareFitFilter.fit(workload, on: c)?.max ?? 0
            return PhysicalModel.throughput(workload, model: c.model, count: n)
        }
        let best = speeds.max() ?? 1
        return speeds.map { best > 0 ? $0 / best : 0 }
    }
}

/// For inference: serve users from inside the jurisdictions they are in.
public struct ServedFromScorer: Scorer {
    public let name = "served-from"
    public init() {}

    public func scores(_ workload: Workload, candidates: [Candidate], context: PlanningContext) -> [Double] {
        guard !workload.servedFrom.isEmpty else { return candidates.map { _ in 1 } }
        let countries = workload.servedFrom.reduce(into: Set<String>()) {
            $0.formUnion(context.fleet.countries(of: $1))
        }
        return candidates.map { countries.contains($0.site.jurisdiction) ? 1 : 0 }
    }
}
