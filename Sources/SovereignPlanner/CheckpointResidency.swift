public import SovereignModel

/// How a checkpoint's bytes travel from one site to another.
public enum CheckpointRoute: String, Sendable, Hashable, Codable {
    /// Encrypted end to end to the destination and relayed by the control plane (agents only pull).
    case relay
    /// Fetched by the destination straight from the source agent's peer listener.
    case direct
}

/// A move of a workload's checkpoint that residency allows: the route and the jurisdictions its bytes pass
/// through, as the ledger records them.
public struct CheckpointMove: Sendable, Hashable {
    /// The workload whose checkpoint moves.
    public let workload: String
    /// The source site.
    public let from: String
    /// The destination site.
    public let to: String
    /// How the bytes travel.
    public let route: CheckpointRoute
    /// The jurisdictions the bytes pass through in order (source, the relay's when relayed and declared,
    /// destination), each once.
    public let jurisdictionsCrossed: [String]
    /// Why this route, in the planner's words.
    public let reason: String
}

/// Why a checkpoint may not move as asked, before anything moves.
public struct CheckpointRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every reason, one per dataset and site it is about.
    public let reasons: [String]

    public var description: String { reasons.joined(separator: "; ") }
}

/// Where a checkpoint may go. A checkpoint is derived from its workload's datasets, so it carries their
/// residency: every dataset must allow the country it is in. Policies may widen that with
/// `checkpointsMayCross`: a checkpoint may then move between countries that every policy naming crossings
/// lists. And a policy's `checkpointTransit: direct` keeps even its ciphertext out of a relay outside that
/// residency, so such a move goes straight from agent to agent.
public enum CheckpointResidency: Sendable {
    /// The move of `workload`'s checkpoint from `source` to `destination`, or why it is refused.
    ///
    /// - Parameters:
    ///   - workload: The workload whose checkpoint moves.
    ///   - source: The site that holds the checkpoint.
    ///   - destination: The site that would receive it.
    ///   - relayJurisdiction: The control plane's jurisdiction (`serve --jurisdiction`); `nil` when undeclared.
    ///   - fleet: The datasets and policies.
    /// - Returns: The route and the jurisdictions crossed, or the refusal naming each dataset and site.
    /// - Complexity: O(D × P) for D datasets and P policies.
    public static func move(
        _ workload: Workload,
        from source: Site,
        to destination: Site,
        relayJurisdiction: String?,
        in fleet: Fleet
    ) -> Result<CheckpointMove, CheckpointRefusal> {
        let residency = Residency(workload, from: source, in: fleet)
        let reasons = [source, destination].flatMap { residency.refusals(at: $0, checkpointOf: workload.name) }
        guard reasons.isEmpty else {
            var unique: [String] = []
            for reason in reasons where !unique.contains(reason) { unique.append(reason) }
            return .failure(CheckpointRefusal(reasons: unique))
        }
        let (route, reason) = chooseRoute(residency, relayJurisdiction: relayJurisdiction, in: fleet)
        var crossed = [source.jurisdiction]
        if route == .relay, let relayJurisdiction { crossed.append(relayJurisdiction) }
        crossed.append(destination.jurisdiction)
        var unique: [String] = []
        for country in crossed where !unique.contains(country) { unique.append(country) }
        return .success(
            CheckpointMove(
                workload: workload.name,
                from: source.name,
                to: destination.name,
                route: route,
                jurisdictionsCrossed: unique,
                reason: reason
            )
        )
    }

    /// Relay unless a policy forbids even ciphertext outside the residency and the relay is outside it (or
    /// its jurisdiction is undeclared, so it cannot be shown to be inside).
    private static func chooseRoute(
        _ residency: Residency,
        relayJurisdiction: String?,
        in fleet: Fleet
    ) -> (CheckpointRoute, String) {
        let relayed = "encrypted end to end and relayed by the control plane"
        guard let strict = fleet.policies.first(where: { $0.checkpointTransit == .direct }) else {
            return (.relay, relayed + ": only ciphertext passes through its jurisdiction")
        }
        guard let relayJurisdiction else {
            return (
                .direct,
                "policy \(strict.name) says checkpointTransit: direct and the control plane's jurisdiction is "
                    + "undeclared (serve --jurisdiction), so the destination fetches from the source agent"
            )
        }
        guard residency.allows(relayJurisdiction) else {
            return (
                .direct,
                "policy \(strict.name) says checkpointTransit: direct and the control plane is in "
                    + "\(relayJurisdiction), outside the checkpoint's residency, so the destination fetches "
                    + "from the source agent"
            )
        }
        return (.relay, relayed + " in \(relayJurisdiction), inside the checkpoint's residency")
    }

    /// A checkpoint's residency, read once for a move from `source`.
    private struct Residency {
        /// The workload's datasets (`nil` for a name the fleet does not hold).
        let datasets: [(name: String, dataset: Dataset?)]
        /// The countries every policy naming `checkpointsMayCross` lists, when the source is among them;
        /// `nil` when no widening applies.
        let widened: Set<String>?
        /// The policies that widen, with what they wrote.
        let wideners: [Policy]

        init(_ workload: Workload, from source: Site, in fleet: Fleet) {
            datasets = workload.datasets.map { ($0, fleet.dataset(named: $0)) }
            wideners = fleet.policies.filter { $0.checkpointsMayCrossCountries != nil }
            var countries: Set<String>?
            for allowed in wideners.compactMap(\.checkpointsMayCrossCountries) {
                countries = countries?.intersection(allowed) ?? allowed
            }
            widened = countries.flatMap { $0.contains(source.jurisdiction) ? $0 : nil }
        }

        /// Whether the checkpoint may be in `country`.
        func allows(_ country: String) -> Bool {
            widened?.contains(country) == true
                || datasets.allSatisfy { $0.dataset?.mayBeProcessed(in: country) == true }
        }

        /// Why the checkpoint of `workload` may not be at `site`, one reason per dataset that refuses it.
        func refusals(at site: Site, checkpointOf workload: String) -> [String] {
            guard widened?.contains(site.jurisdiction) != true else { return [] }
            return datasets.compactMap { name, dataset in
                guard let dataset else {
                    return
                        "checkpoint of \(workload) carries the residency of dataset \(name), which is not in the fleet"
                }
                guard !dataset.mayBeProcessed(in: site.jurisdiction) else { return nil }
                return "checkpoint of \(workload) carries the residency of dataset \(name) "
                    + "(\(dataset.residency.joined(separator: ","))\(wideningText)); "
                    + "site \(site.name) is in \(site.jurisdiction)"
            }
        }

        /// `, widened by checkpointsMayCross to EAC (policy P)` when a widening applies.
        private var wideningText: String {
            guard widened != nil else { return "" }
            let each = wideners.map { "\($0.checkpointsMayCross.joined(separator: ",")) (policy \($0.name))" }
            return ", widened by checkpointsMayCross to " + each.joined(separator: " and ")
        }
    }
}
