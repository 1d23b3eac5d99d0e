import SovereignFederation
import SovereignLedger
import SovereignModel
import SovereignPlanner

// The federation's ledger events, worked out from a workload's runtime: the jurisdictions a model or an
// update moves between, the strategy, secure aggregation and differential privacy in force.
extension LedgerEvent.FederationStart {
    /// The start of `runtime`'s workload with its initial model.
    init(_ runtime: FederationRuntime, modelSHA256: String) {
        let federation = runtime.federation
        self.init(
            workload: runtime.name,
            coordinator: federation.coordinator,
            sites: runtime.participants.map(\.site),
            datasets: runtime.participants.map(\.dataset),
            rounds: federation.rounds,
            strategy: federation.strategy.name,
            secureAggregation: federation.secureAggregation != nil,
            modelSHA256: modelSHA256
        )
    }
}

extension LedgerEvent.ModelTransfer {
    /// Round `round`'s global `model` going to `site`.
    init(_ runtime: FederationRuntime, round: Int, site: String, model: GlobalModel) {
        self.init(
            workload: runtime.name,
            round: round,
            site: site,
            to: runtime.jurisdictions[site] ?? "",
            from: runtime.coordinatorJurisdiction,
            bytes: model.bytes.count,
            sha256: model.sha256
        )
    }
}

extension LedgerEvent.UpdateArrival {
    /// `site`'s update for `round`'s `attempt` arriving, as `commit` describes it and with the digest of what
    /// arrived; a `masked` update's example count is not known.
    init(
        _ runtime: FederationRuntime,
        round: Int,
        attempt: Int,
        site: String,
        commit: UpdateCommit,
        sha256: String,
        masked: Bool
    ) {
        self.init(
            workload: runtime.name,
            round: round,
            attempt: attempt,
            site: site,
            dataset: runtime.dataset(of: site) ?? "",
            from: runtime.jurisdictions[site] ?? "",
            to: runtime.coordinatorJurisdiction,
            bytes: commit.bytes,
            sha256: sha256,
            secureAggregation: runtime.federation.secureAggregation != nil,
            privacy: runtime.privacy.map {
                LedgerEvent.UpdatePrivacy(clipNorm: $0.clipNorm, noiseMultiplier: $0.noiseMultiplier, mode: $0.mode)
            },
            examples: masked ? nil : commit.examples,
            preClipNorm: commit.preClipNorm
        )
    }
}

extension LedgerEvent.RoundSummary {
    /// Round `round`'s `attempt` closed with the updates of `sites` out of `roster`, making the model
    /// `modelSHA256`, with `epsilon` spent so far under differential privacy.
    init(
        _ runtime: FederationRuntime,
        round: Int,
        attempt: Int,
        sites: [String],
        roster: [String],
        modelSHA256: String,
        epsilon: Double?
    ) {
        var spent: LedgerEvent.PrivacySpent?
        if let privacy = runtime.privacy, let epsilon {
            spent = LedgerEvent.PrivacySpent(epsilon: epsilon, delta: privacy.delta, mode: privacy.mode)
        }
        self.init(
            workload: runtime.name,
            round: round,
            attempt: attempt,
            sites: sites,
            dropped: roster.filter { !sites.contains($0) },
            modelSHA256: modelSHA256,
            strategy: runtime.federation.strategy.name,
            secureAggregation: runtime.federation.secureAggregation != nil,
            spent: spent
        )
    }
}

extension LedgerEvent.FederationCompletion {
    /// `runtime`'s workload done with its final model, with `epsilon` spent under differential privacy.
    init(_ runtime: FederationRuntime, modelSHA256: String, epsilon: Double?) {
        self.init(
            workload: runtime.name,
            rounds: runtime.federation.rounds,
            modelSHA256: modelSHA256,
            epsilon: epsilon
        )
    }
}
