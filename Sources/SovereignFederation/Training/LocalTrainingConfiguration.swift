/// How a site trains the built-in model locally in one federated round: minibatch SGD (PyTorch's
/// `torch.optim.SGD` rule) on softmax cross-entropy, with FedProx's proximal term when `proximalMu > 0`.
///
/// The update per minibatch, with `g` the gradient of the batch's mean loss, `w` the parameters and
/// `w₀` the global model the round started from:
/// `g ← g + weightDecay·w + proximalMu·(w − w₀)`; `v ← momentum·v + g`; `w ← w − learningRate·v`.
/// Decoding validates, so a configuration that arrives over the wire is always usable.
public struct LocalTrainingConfiguration: Sendable, Hashable, Codable {
    /// Passes over the site's data, 1 to 10,000.
    public var epochs: Int
    /// Examples per minibatch, 1 to 65,536; the last batch of an epoch may be smaller.
    public var batchSize: Int
    /// The SGD step size, finite and positive.
    public var learningRate: Float
    /// Heavy-ball momentum in `[0, 1)`; 0 for plain SGD.
    public var momentum: Float
    /// L2 weight decay added to the gradient (PyTorch style, on every parameter), finite, ≥ 0.
    public var weightDecay: Float
    /// FedProx's μ: the loss gains `μ/2·‖w − w₀‖²`; 0 is FedAvg's plain local training. Finite, ≥ 0.
    public var proximalMu: Float
    /// How features are scaled; pass the same to ``BuiltInModel/evaluate(_:on:featureScaling:)``.
    public var featureScaling: FeatureScaling
    /// The seed of the minibatch order. Vary it per round and per site (for example the coordinator's seed
    /// mixed with the round number), or every round visits the examples in the same order.
    public var seed: UInt64

    /// Makes a configuration; call ``validate()`` (``BuiltInModel/train(from:on:configuration:)`` does).
    public init(
        epochs: Int = 1,
        batchSize: Int = 32,
        learningRate: Float = 0.1,
        momentum: Float = 0,
        weightDecay: Float = 0,
        proximalMu: Float = 0,
        featureScaling: FeatureScaling = .none,
        seed: UInt64 = 0
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.proximalMu = proximalMu
        self.featureScaling = featureScaling
        self.seed = seed
    }

    /// Checks every field's domain.
    /// - Throws: `FederationError` `.invalidConfiguration`, like `local training: epochs: expected an
    ///   integer from 1 to 10000, found 0`.
    public func validate() throws(FederationError) {
        func fail(_ field: String, _ expected: String, _ found: String) -> FederationError {
            FederationError(.invalidConfiguration, "local training: \(field): expected \(expected), found \(found)")
        }
        guard (1...10_000).contains(epochs) else { throw fail("epochs", "an integer from 1 to 10000", "\(epochs)") }
        guard (1...65_536).contains(batchSize) else {
            throw fail("batchSize", "an integer from 1 to 65536", "\(batchSize)")
        }
        guard learningRate.isFinite && learningRate > 0 else {
            throw fail("learningRate", "a finite positive number", "\(learningRate)")
        }
        guard momentum.isFinite && momentum >= 0 && momentum < 1 else {
            throw fail("momentum", "a number in [0, 1)", "\(momentum)")
        }
        guard weightDecay.isFinite && weightDecay >= 0 else {
            throw fail("weightDecay", "a finite number ≥ 0", "\(weightDecay)")
        }
        guard proximalMu.isFinite && proximalMu >= 0 else {
            throw fail("proximalMu", "a finite number ≥ 0", "\(proximalMu)")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case epochs, batchSize, learningRate, momentum, weightDecay, proximalMu, featureScaling, seed
    }

    /// Decodes a configuration; missing fields take the defaults of ``init(epochs:batchSize:learningRate:momentum:weightDecay:proximalMu:featureScaling:seed:)``.
    /// - Throws: a `DecodingError`, or `FederationError` `.invalidConfiguration` from ``validate()``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = LocalTrainingConfiguration()
        self.init(
            epochs: try container.decodeIfPresent(Int.self, forKey: .epochs) ?? defaults.epochs,
            batchSize: try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? defaults.batchSize,
            learningRate: try container.decodeIfPresent(Float.self, forKey: .learningRate) ?? defaults.learningRate,
            momentum: try container.decodeIfPresent(Float.self, forKey: .momentum) ?? defaults.momentum,
            weightDecay: try container.decodeIfPresent(Float.self, forKey: .weightDecay) ?? defaults.weightDecay,
            proximalMu: try container.decodeIfPresent(Float.self, forKey: .proximalMu) ?? defaults.proximalMu,
            featureScaling: try container.decodeIfPresent(FeatureScaling.self, forKey: .featureScaling)
                ?? defaults.featureScaling,
            seed: try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? defaults.seed
        )
        try validate()
    }
}
