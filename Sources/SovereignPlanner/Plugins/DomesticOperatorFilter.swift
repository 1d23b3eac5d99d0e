public import SovereignModel

/// Classifications a policy reserves for domestic operators run only on sites whose operator, and its
/// parent, are at home in the site's country.
public struct DomesticOperatorFilter: Filter {
    public let name = "domestic-operator"

    /// Makes the filter.
    public init() {}

    /// The first classification the workload touches that a policy reserves, with that policy's name;
    /// `nil` when the workload may run under any operator.
    public struct State: Sendable {
        let reserved: (classification: Classification, policy: String)?
    }

    public func preFilter(_ workload: Workload, in fleet: Fleet) -> State {
        let classifications =
            (workload.classification.map { [$0] } ?? [])
            + workload.datasets.compactMap { fleet.dataset(named: $0)?.classification }
        for classification in classifications {
            if let policy = fleet.policies.first(where: { $0.domesticOperatorFor.contains(classification) }) {
                return State(reserved: (classification, policy.name))
            }
        }
        return State(reserved: nil)
    }

    /// The reserved classification and its policy's name: all a refusal depends on.
    public func shape(_ state: State) -> (any Hashable & Sendable)? {
        [state.reserved?.classification.rawValue, state.reserved?.policy]
    }

    public func filter(_ state: State, _ candidate: Candidate) -> Rejection? {
        // Asked of every candidate the workload's countries hold: only the operator is read, never a whole `Site`
        // copied (a dozen references retained and released per candidate).
        guard let reserved = state.reserved else { return nil }
        let siteOperator = candidate.site.operator
        guard !siteOperator.isDomestic(to: candidate.site.jurisdiction) else { return nil }
        let foreign = siteOperator.parentJurisdiction ?? siteOperator.jurisdiction
        return Rejection(
            filter: name,
            reason: "\(reserved.classification.rawValue) data needs a domestic operator "
                + "(\(reserved.policy); \(siteOperator.name) answers to \(foreign))"
        )
    }
}
