public import SovereignModel

/// Every dataset the workload reads may be processed in the site's country: a hard constraint.
public struct ResidencyFilter: Filter {
    public let name = "residency"

    /// Makes the filter.
    public init() {}

    /// The countries every dataset allows, and each dataset's refusal, worded once per workload.
    public struct State: Sendable {
        /// Countries where all the datasets may be processed; `nil` when the workload reads none.
        let allowed: Set<String>?
        /// Per dataset in the workload's order: where it may be processed (`nil`: unknown) and its refusal.
        let datasets: [(countries: Set<String>?, rejection: Rejection)]
        /// The datasets' names in the workload's order: all the rest follows from them (and the fleet).
        let names: [String]
    }

    public func preFilter(_ workload: Workload, in fleet: Fleet) -> State {
        guard !workload.datasets.isEmpty else { return State(allowed: nil, datasets: [], names: []) }
        var allowed: Set<String>?
        var datasets: [(countries: Set<String>?, rejection: Rejection)] = []
        for name in workload.datasets {
            guard let dataset = fleet.dataset(named: name) else {
                datasets.append((nil, Rejection(filter: self.name, reason: "dataset \(name) unknown")))
                allowed = []
                continue
            }
            let residency = dataset.residency.joined(separator: ",")
            let reason = "outside residency \(residency) (dataset \(name))"
            datasets.append((dataset.residencyCountries, Rejection(filter: self.name, reason: reason)))
            allowed = allowed.map { $0.intersection(dataset.residencyCountries) } ?? dataset.residencyCountries
        }
        return State(allowed: allowed, datasets: datasets, names: workload.datasets)
    }

    /// Every candidate outside the countries all the datasets allow is refused.
    public func jurisdictions(_ state: State) -> Set<String>? { state.allowed }

    /// It refuses a candidate only for its country: every one in the countries all the datasets allow passes.
    public func passesInside(_ state: State) -> Bool { true }

    /// Workloads reading the same datasets, in the same order, are refused alike.
    public func shape(_ state: State) -> (any Hashable & Sendable)? { state.names }

    public func filter(_ state: State, _ candidate: Candidate) -> Rejection? {
        guard let allowed = state.allowed, !allowed.contains(candidate.site.jurisdiction) else { return nil }
        // The first dataset, in the workload's order, that refuses the site is the one explained.
        let refusing = state.datasets.first { $0.countries?.contains(candidate.site.jurisdiction) != true }
        return refusing?.rejection
    }
}
