import SovereignFederation
import SovereignModel
import SovereignPlanner

/// What a federated workload's spec becomes at run time: the trainer the sites run, the server's
/// aggregation strategy, differential privacy, and the jurisdictions updates travel between, worked out
/// once when the coordinator takes the workload on.
package struct FederationRuntime: Sendable {
    /// The workload's name.
    let name: String
    /// The spec's federation section.
    let federation: Federation
    /// The sites and their datasets.
    let participants: [FederationParticipant]
    /// What each site trains, as the tasks carry it.
    let trainer: TrainerSettings
    /// Differential privacy, when the spec asks for it.
    let privacy: DifferentialPrivacy?
    /// The server-side aggregation.
    let strategy: AggregationStrategy
    /// The seed of the initial model and of the sites' local training.
    let seed: UInt64
    /// The country of the coordinating site (empty when the fleet does not name it).
    let coordinatorJurisdiction: String
    /// Each participant's country, as the fleet states it.
    let jurisdictions: [String: String]

    /// Translates a federated workload's spec.
    ///
    /// - Parameters:
    ///   - name: The workload.
    ///   - federation: Its federation section.
    ///   - participants: The sites ``FederationCheck`` accepted.
    ///   - fleet: The fleet that names the sites' jurisdictions.
    /// - Throws: ``FederationError`` when the privacy settings are out of their domain or there is no trainer.
    init(name: String, federation: Federation, participants: [FederationParticipant], fleet: Fleet) throws {
        self.name = name
        self.federation = federation
        self.participants = participants
        let seed = Self.seed(of: name)
        self.seed = seed
        guard let trainer = Self.trainer(federation, seed: seed) else {
            throw FederationError(
                .invalidConfiguration,
                "\(name): spec.federation.trainer: expected the model its sites train, found none"
            )
        }
        self.trainer = trainer
        privacy = try federation.privacy.map {
            try DifferentialPrivacy(
                mode: $0.mode == .central ? .central : .local,
                clipNorm: $0.clipNorm,
                noiseMultiplier: $0.noiseMultiplier,
                delta: $0.delta
            )
        }
        strategy = Self.strategy(federation.strategy)
        coordinatorJurisdiction = fleet.site(named: federation.coordinator)?.jurisdiction ?? ""
        jurisdictions = Dictionary(
            participants.map { ($0.site, fleet.site(named: $0.site)?.jurisdiction ?? "") },
            uniquingKeysWith: { first, _ in first }
        )
    }

    /// The dataset `site` trains on, if it takes part.
    func dataset(of site: String) -> String? { participants.first { $0.site == site }?.dataset }

    /// Whether `site` takes part.
    func includes(_ site: String) -> Bool { participants.contains { $0.site == site } }

    /// The model every run starts from, before any round.
    ///
    /// - Throws: ``FederationError`` when the trainer's shape is invalid.
    func initialWeights() throws -> ModelWeights {
        try trainer.model.initialWeights(features: trainer.features, classes: trainer.classes, seed: seed)
    }

    /// The settings of the sites' local training.
    static func trainer(_ federation: Federation, seed: UInt64) -> TrainerSettings? {
        guard let t = federation.trainer else { return nil }
        let model: BuiltInModel
        switch t.model {
        case .logisticRegression: model = .logisticRegression
        case .mlp(let hidden): model = .multilayerPerceptron(hiddenUnits: hidden)
        }
        let local = LocalTrainingConfiguration(
            epochs: t.epochs,
            batchSize: t.batchSize,
            learningRate: Float(t.learningRate),
            momentum: Float(t.momentum),
            proximalMu: Float(federation.strategy.proximalMu),
            featureScaling: t.featureScale == 1 ? .none : .divide(by: Float(t.featureScale)),
            seed: seed
        )
        return TrainerSettings(model: model, features: t.features, classes: t.classes, local: local)
    }

    /// The aggregation strategy a spec's strategy names.
    static func strategy(_ s: Federation.Strategy) -> AggregationStrategy {
        switch s {
        case .fedAvg: return .fedAvg
        case .fedProx(let mu): return .fedProx(mu: mu)
        case .fedAvgM(let lr, let m): return .fedAvgM(serverLearningRate: lr, momentum: m)
        case .fedAdam(let lr, let b1, let b2, let tau):
            return .fedAdam(serverLearningRate: lr, beta1: b1, beta2: b2, tau: tau)
        case .fedMedian: return .fedMedian
        case .trimmedMean(let beta): return .trimmedMean(beta: beta)
        case .krum(let f, let keep): return .krum(byzantine: f, keep: keep)
        }
    }

    /// A seed from the workload's name (FNV-1a), so the initial model is reproducible.
    package static func seed(of name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }
}
