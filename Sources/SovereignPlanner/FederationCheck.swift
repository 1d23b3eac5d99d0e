public import SovereignModel

/// One site of a federated workload: it trains on the dataset it holds, where the dataset lives.
public struct FederationParticipant: Sendable, Hashable, Codable {
    /// The dataset it trains on.
    public let dataset: String
    /// The site that holds the dataset and runs the training.
    public let site: String
    /// The site's country.
    public let jurisdiction: String

    /// Makes a participant.
    public init(dataset: String, site: String, jurisdiction: String) {
        self.dataset = dataset
        self.site = site
        self.jurisdiction = jurisdiction
    }
}

/// Why a federated workload may not run as declared.
public struct FederationRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every reason, one per broken rule.
    public let reasons: [String]
    /// The spec field the first reason is about.
    public let field: String

    public var description: String { reasons.joined(separator: "; ") }
}

/// The sovereignty rules of a federated workload, checked before any round: each participant trains only
/// where its dataset may be processed (and, for classifications a policy reserves, only on a domestically
/// operated site), and model updates travel only between jurisdictions every policy's `updatesMayCross`
/// allows. Raw data never moves, so these are the only movements to check.
public enum FederationCheck: Sendable {
    /// The participants of `workload`, one per dataset, or the reasons it is refused.
    ///
    /// - Complexity: O(D × P) for D datasets and P policies.
    public static func participants(
        of workload: Workload,
        in fleet: Fleet
    ) -> Result<[FederationParticipant], FederationRefusal> {
        guard workload.type == .federated, let federation = workload.federation else {
            return .failure(
                FederationRefusal(
                    reasons: ["\(workload.name) is not a federated workload with spec.federation"],
                    field: "spec.federation"
                )
            )
        }
        var reasons: [(String, String)] = []
        guard let coordinator = fleet.site(named: federation.coordinator) else {
            return .failure(
                FederationRefusal(
                    reasons: ["coordinator site \(federation.coordinator) is not in the fleet"],
                    field: "spec.federation.coordinator"
                )
            )
        }
        let rules = Rules(fleet: fleet, coordinator: coordinator)
        var participants: [FederationParticipant] = []
        var sitesSeen: [String: String] = [:]
        for name in workload.datasets {
            guard let dataset = fleet.dataset(named: name), let site = fleet.site(named: dataset.site) else {
                reasons.append(("dataset \(name) or the site holding it is not in the fleet", "spec.datasets"))
                continue
            }
            reasons += rules.reasons(dataset, at: site)
            if let other = sitesSeen[site.name] {
                reasons.append(
                    (
                        "datasets \(other) and \(name) are both at \(site.name): a site trains one dataset "
                            + "per federated workload", "spec.datasets"
                    )
                )
            }
            sitesSeen[site.name] = name
            reasons += rules.crossing(from: site)
            participants.append(FederationParticipant(dataset: name, site: site.name, jurisdiction: site.jurisdiction))
        }
        if participants.count < federation.minSites, reasons.isEmpty {
            reasons.append(
                (
                    "\(participants.count) sites cannot reach the quorum of \(federation.minSites)",
                    "spec.federation.minSites"
                )
            )
        }
        if !reasons.isEmpty {
            return .failure(FederationRefusal(reasons: reasons.map(\.0), field: reasons[0].1))
        }
        return .success(participants)
    }

    /// The fleet's rules for one federated workload, read once.
    private struct Rules {
        let coordinator: Site
        /// Classifications a policy reserves for domestic operators.
        let domesticFor: Set<Classification>
        /// Per policy naming crossings, the countries updates may cross between.
        let crossing: [Set<String>]

        init(fleet: Fleet, coordinator: Site) {
            self.coordinator = coordinator
            domesticFor = fleet.policies.reduce(into: Set<Classification>()) { $0.formUnion($1.domesticOperatorFor) }
            crossing = fleet.policies.compactMap(\.updatesMayCrossCountries)
        }

        /// Why `dataset` may not be trained at `site`: its residency, or an operator a policy does not allow.
        func reasons(_ dataset: Dataset, at site: Site) -> [(String, String)] {
            var reasons: [(String, String)] = []
            let country = site.jurisdiction
            if !dataset.mayBeProcessed(in: country) {
                reasons.append(
                    (
                        "dataset \(dataset.name) may be processed only in \(dataset.residency.joined(separator: ",")), "
                            + "but its site \(site.name) is in \(country)", "spec.datasets"
                    )
                )
            }
            if domesticFor.contains(dataset.classification), !site.operator.isDomestic(to: country) {
                reasons.append(
                    (
                        "dataset \(dataset.name) is \(dataset.classification.rawValue): a policy reserves it for "
                            + "domestic operators, but \(site.name)'s operator is at home in "
                            + "\(site.operator.parentJurisdiction ?? site.operator.jurisdiction)", "spec.datasets"
                    )
                )
            }
            return reasons
        }

        /// Why updates from `site` may not reach the coordinator: updates may cross a border only between
        /// countries that every policy naming crossings allows.
        func crossing(from site: Site) -> [(String, String)] {
            let country = site.jurisdiction
            guard country != coordinator.jurisdiction else { return [] }
            let allowed =
                !crossing.isEmpty
                && crossing.allSatisfy { $0.contains(country) && $0.contains(coordinator.jurisdiction) }
            guard !allowed else { return [] }
            return [
                (
                    "updates from \(site.name) (\(country)) to the coordinator \(coordinator.name) "
                        + "(\(coordinator.jurisdiction)) would cross a border "
                        + (crossing.isEmpty
                            ? "and no policy's updatesMayCross allows any crossing"
                            : "that a policy's updatesMayCross does not allow"),
                    "spec.federation.coordinator"
                )
            ]
        }
    }
}
