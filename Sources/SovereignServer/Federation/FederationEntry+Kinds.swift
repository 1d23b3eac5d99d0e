import SovereignFederation
import SovereignLedger
import SovereignModel
import SovereignPlanner

/// Every kind of ledger entry the federation coordinator writes, built in one place.
extension FederationEntry {
    /// A workload the coordinator refuses to run.
    static func refused(_ workload: String, reason: String) -> FederationEntry {
        FederationEntry(kind: "federation.refused", fields: ["workload": .string(workload), "reason": .string(reason)])
    }

    /// A workload the coordinator starts, with its initial model.
    static func started(_ runtime: FederationRuntime, modelSHA256: String) -> FederationEntry {
        let federation = runtime.federation
        return FederationEntry(
            kind: "federation.started",
            fields: [
                "workload": .string(runtime.name),
                "coordinator": .string(federation.coordinator),
                "sites": .array(runtime.participants.map { .string($0.site) }),
                "datasets": .array(runtime.participants.map { .string($0.dataset) }),
                "rounds": .number(Double(federation.rounds)),
                "strategy": .string(federation.strategy.name),
                "secureAggregation": .bool(federation.secureAggregation != nil),
                "modelSHA256": .string(modelSHA256),
            ]
        )
    }

    /// A round's global model going to a site.
    static func modelSent(_ runtime: FederationRuntime, round: Int, site: String, model: GlobalModel) -> FederationEntry
    {
        FederationEntry(
            kind: "federation.model-sent",
            fields: [
                "workload": .string(runtime.name), "round": .number(Double(round)), "site": .string(site),
                "to": .string(runtime.jurisdictions[site] ?? ""),
                "from": .string(runtime.coordinatorJurisdiction),
                "bytes": .number(Double(model.bytes.count)), "sha256": .string(model.sha256),
            ]
        )
    }

    /// A site's update arriving at the coordinator.
    static func update(
        _ runtime: FederationRuntime,
        round: Int,
        attempt: Int,
        site: String,
        commit: UpdateCommit,
        sha256: String,
        masked: Bool
    ) -> FederationEntry {
        var fields: [String: JSONValue] = [
            "workload": .string(runtime.name), "round": .number(Double(round)), "attempt": .number(Double(attempt)),
            "site": .string(site), "dataset": .string(runtime.dataset(of: site) ?? ""),
            "from": .string(runtime.jurisdictions[site] ?? ""),
            "to": .string(runtime.coordinatorJurisdiction),
            "bytes": .number(Double(commit.bytes)), "sha256": .string(sha256),
            "secureAggregation": .bool(runtime.federation.secureAggregation != nil),
        ]
        if let privacy = runtime.privacy {
            fields["clipNorm"] = .number(privacy.clipNorm)
            fields["noiseMultiplier"] = .number(privacy.noiseMultiplier)
            fields["privacy"] = .string(privacy.mode.rawValue)
        }
        if !masked { fields["examples"] = .number(Double(commit.examples)) }
        if let norm = commit.preClipNorm { fields["preClipNorm"] = .number(norm) }
        return FederationEntry(kind: "federation.update", fields: fields)
    }

    /// A finished round: who took part, who dropped out, the new model and the privacy spent so far.
    static func round(
        _ runtime: FederationRuntime,
        round: Int,
        attempt: Int,
        sites: [String],
        roster: [String],
        modelSHA256: String,
        epsilon: Double?
    ) -> FederationEntry {
        var fields: [String: JSONValue] = [
            "workload": .string(runtime.name),
            "round": .number(Double(round)),
            "attempt": .number(Double(attempt)),
            "sites": .array(sites.map { .string($0) }),
            "dropped": .array(roster.filter { !sites.contains($0) }.map { .string($0) }),
            "modelSHA256": .string(modelSHA256),
            "strategy": .string(runtime.federation.strategy.name),
            "secureAggregation": .bool(runtime.federation.secureAggregation != nil),
        ]
        if let privacy = runtime.privacy, let epsilon {
            fields["epsilon"] = epsilon.isFinite ? .number(epsilon) : .string("infinity")
            fields["delta"] = .number(privacy.delta)
            fields["privacy"] = .string(privacy.mode.rawValue)
        }
        return FederationEntry(kind: "federation.round", fields: fields)
    }

    /// An attempt at a round that missed its quorum.
    static func roundMissed(_ workload: String, round: Int, attempt: Int, reason: String) -> FederationEntry {
        FederationEntry(
            kind: "federation.round-missed",
            fields: [
                "workload": .string(workload), "round": .number(Double(round)),
                "attempt": .number(Double(attempt)), "reason": .string(reason),
            ]
        )
    }

    /// A workload whose rounds are all done, with its final model.
    static func completed(_ runtime: FederationRuntime, modelSHA256: String, epsilon: Double?) -> FederationEntry {
        var fields: [String: JSONValue] = [
            "workload": .string(runtime.name),
            "rounds": .number(Double(runtime.federation.rounds)),
            "modelSHA256": .string(modelSHA256),
        ]
        if let epsilon { fields["epsilon"] = .number(epsilon) }
        return FederationEntry(kind: "federation.completed", fields: fields)
    }
}
