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
        let domesticFor = fleet.policies.reduce(into: Set<Classification>()) { $0.formUnion($1.domesticOperatorFor) }
        // Updates may cross a border only between countries that every policy naming crossings allows.
        let crossing = fleet.policies.compactMap(\.updatesMayCrossCountries)
        var participants: [FederationParticipant] = []
        var sitesSeen: [String: String] = [:]
        for name in workload.datasets {
            guard let dataset = fleet.dataset(named: name), let site = fleet.site(named: dataset.site) else {
                reasons.append(("dataset \(name) or the site holding it is not in the fleet", "spec.datasets"))
                continue
            }
            let country = site.jurisdiction
            if !dataset.mayBeProcessed(in: country) {
                reasons.append(
                    (
                        "dataset \(name) may be processed only in \(dataset.residency.joined(separator: ",")), "
                            + "but its site \(site.name) is in \(country)", "spec.datasets"
                    )
                )
            }
            if domesticFor.contains(dataset.classification), !site.operator.isDomestic(to: country) {
                reasons.append(
                    (
                        "dataset \(name) is \(dataset.classification.rawValue): a policy reserves it for domestic "
                            + "operators, but \(site.name)'s operator is at home in "
                            + "\(site.operator.parentJurisdiction ?? site.operator.jurisdiction)", "spec.datasets"
                    )
                )
            }
            if let other = sitesSeen[site.name] {
                reasons.append(
                    (
                        "datasets \(other) and \(name) are both at \(site.name): a site trains one dataset "
                            + "per federated workload", "spec.datasets"
                    )
                )
            }
            sitesSeen[site.name] = name
            if country != coordinator.jurisdiction {
                let allowed =
                    !crossing.isEmpty
                    && crossing.allSatisfy { $0.contains(country) && $0.contains(coordinator.jurisdiction) }
                if !allowed {
                    reasons.append(
                        (
                            "updates from \(site.name) (\(country)) to the coordinator \(coordinator.name) "
                                + "(\(coordinator.jurisdiction)) would cross a border "
                                + (crossing.isEmpty
                                    ? "and no policy's updatesMayCross allows any crossing"
                                    : "that a policy's updatesMayCross does not allow"),
                            "spec.federation.coordinator"
                        )
                    )
                }
            }
            participants.append(FederationParticipant(dataset: name, site: site.name, jurisdiction: country))
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
}
