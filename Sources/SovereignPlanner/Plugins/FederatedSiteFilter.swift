public import SovereignModel

/// Federated work planned by rounds trains where its data is: each participant only at the site that holds its
/// dataset, so the data never moves and only model updates travel (the planner plans one participant at a
/// time, each reading its one dataset). Other work passes, and so does a federated workload without a
/// `federation` section, which is placed as one unit as before.
public struct FederatedSiteFilter: Filter {
    public let name = "federated-site"

    /// Makes the filter.
    public init() {}

    /// The sites holding the workload's datasets, with their countries; `nil` when the workload is not
    /// planned by rounds.
    public struct State: Sendable {
        let sites: Set<String>?
        let jurisdictions: Set<String>?
        let rejection: Rejection
    }

    public func preFilter(_ workload: Workload, in fleet: Fleet) -> State {
        guard workload.type == .federated, workload.federation != nil else {
            return State(sites: nil, jurisdictions: nil, rejection: Rejection(filter: name, reason: ""))
        }
        let sites = Set(workload.datasets.compactMap { fleet.dataset(named: $0)?.site })
        let jurisdictions = Set(sites.compactMap { fleet.site(named: $0)?.jurisdiction })
        let held = sites.sorted().joined(separator: ",")
        let reason = "federated training stays where its data is (\(held.isEmpty ? "no site holds it" : held))"
        return State(sites: sites, jurisdictions: jurisdictions, rejection: Rejection(filter: name, reason: reason))
    }

    /// Federated work is refused outside the countries of the sites that hold its data.
    public func jurisdictions(_ state: State) -> Set<String>? { state.jurisdictions }

    /// The sites that hold the data (`nil`: not planned by rounds): the countries and the refusal follow.
    public func shape(_ state: State) -> (any Hashable & Sendable)? { [state.sites] }

    public func filter(_ state: State, _ candidate: Candidate) -> Rejection? {
        guard let sites = state.sites, !sites.contains(candidate.site.name) else { return nil }
        return state.rejection
    }
}
