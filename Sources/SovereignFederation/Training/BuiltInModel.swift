import SovereignBase

/// The models a site can train without any code of its own: classifiers over a fixed number of numeric
/// features, trained by minibatch SGD on softmax cross-entropy.
///
/// Their tensors are named and laid out like PyTorch `nn.Linear` modules (`weight` is `[out, in]`,
/// `bias` is `[out]`), so a PyTorch script can load the same safetensors file by name (see
/// `Examples/federated/pytorch_trainer.py`).
public enum BuiltInModel: Sendable, Hashable, Codable {
    /// Multinomial logistic (softmax) regression: `linear.weight` `[classes, features]`, `linear.bias`
    /// `[classes]`.
    case logisticRegression
    /// One hidden ReLU layer: `hidden.weight` `[hiddenUnits, features]`, `hidden.bias` `[hiddenUnits]`,
    /// `output.weight` `[classes, hiddenUnits]`, `output.bias` `[classes]`.
    case multilayerPerceptron(hiddenUnits: Int)

    /// The largest number of parameters a built-in model may have (2²⁸, 1 GiB of floats).
    public static let maximumParameterCount = 1 << 28

    /// The most values one batch buffer (batch size × widest layer) may hold: 2²⁴, 64 MiB of floats.
    static let maximumBatchValues = 1 << 24

    /// The names and shapes of the model's tensors for `features` inputs and `classes` outputs, in order.
    /// - Throws: `FederationError` `.invalidConfiguration` for fewer than 1 feature, fewer than 2 classes,
    ///   a hidden width outside 1...65,536 or more than ``maximumParameterCount`` parameters.
    public func tensorShapes(features: Int, classes: Int) throws(FederationError) -> [(name: String, shape: [Int])] {
        let widths = try layerWidths(features: features, classes: classes)
        let names: [String]
        switch self {
        case .logisticRegression: names = ["linear"]
        case .multilayerPerceptron: names = ["hidden", "output"]
        }
        var shapes: [(name: String, shape: [Int])] = []
        for (name, (inputs, outputs)) in zip(names, zip(widths, widths.dropFirst())) {
            shapes.append((name + ".weight", [outputs, inputs]))
            shapes.append((name + ".bias", [outputs]))
        }
        return shapes
    }

    private func layerWidths(features: Int, classes: Int) throws(FederationError) -> [Int] {
        guard features >= 1 else {
            throw FederationError(.invalidConfiguration, "model: expected at least 1 feature, found \(features)")
        }
        guard classes >= 2 else {
            throw FederationError(.invalidConfiguration, "model: expected at least 2 classes, found \(classes)")
        }
        let widths: [Int]
        switch self {
        case .logisticRegression:
            widths = [features, classes]
        case .multilayerPerceptron(let hiddenUnits):
            guard (1...65_536).contains(hiddenUnits) else {
                throw FederationError(
                    .invalidConfiguration,
                    "model: hidden units: expected an integer from 1 to 65536, found \(hiddenUnits)"
                )
            }
            widths = [features, hiddenUnits, classes]
        }
        var count = 0
        for (inputs, outputs) in zip(widths, widths.dropFirst()) {
            let (product, overflow) = inputs.multipliedReportingOverflow(by: outputs + 1)
            count += overflow ? Self.maximumParameterCount + 1 : product
            guard count <= Self.maximumParameterCount else {
                throw FederationError(
                    .invalidConfiguration,
                    "model: expected at most \(Self.maximumParameterCount) parameters, found more for "
                        + "\(features) features and \(classes) classes"
                )
            }
        }
        return widths
    }

    /// Fresh weights drawn like PyTorch's default `nn.Linear` initialisation: every weight and bias of a
    /// layer uniform in `±1/√inputs` (the same distribution, not the same numbers as PyTorch).
    /// - Parameters:
    ///   - features: inputs per example.
    ///   - classes: the number of classes.
    ///   - seed: the same seed gives the same weights everywhere.
    /// - Throws: `FederationError` `.invalidConfiguration` as ``tensorShapes(features:classes:)`` does.
    /// - Complexity: O(parameters).
    public func initialWeights(features: Int, classes: Int, seed: UInt64) throws(FederationError) -> ModelWeights {
        var generator = SeededGenerator(seed: seed)
        var tensors: [ModelWeights.Tensor] = []
        let shapes = try tensorShapes(features: features, classes: classes)
        for (name, shape) in shapes {
            let inputs = name.hasSuffix(".weight") ? shape[1] : tensors.last!.shape[1]
            let bound = 1 / Float(inputs).squareRoot()
            let count = shape.reduce(1, *)
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count { values[i] = (2 * generator.nextUnitFloat() - 1) * bound }
            tensors.append(ModelWeights.Tensor(name: name, shape: shape, values: values))
        }
        return ModelWeights(tensors)
    }

    /// Checks that `weights` are this model's tensors for `features` and `classes`: the same names and
    /// shapes in order, every value finite.
    /// - Throws: `FederationError` `.incompatibleUpdate` naming the first tensor that differs, or
    ///   `.invalidConfiguration` as ``tensorShapes(features:classes:)`` does.
    /// - Complexity: O(parameters).
    public func validate(_ weights: ModelWeights, features: Int, classes: Int) throws(FederationError) {
        let expected = try tensorShapes(features: features, classes: classes)
        func describe(_ shapes: [(String, [Int])]) -> String {
            shapes.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        }
        guard weights.tensors.count == expected.count else {
            throw FederationError(
                .incompatibleUpdate,
                "model weights: expected \(expected.count) tensors (\(describe(expected))), found "
                    + "\(weights.tensors.count) (\(describe(weights.tensors.map { ($0.name, $0.shape) })))"
            )
        }
        for (index, (tensor, shape)) in zip(weights.tensors, expected).enumerated() {
            guard tensor.name == shape.name && tensor.shape == shape.shape else {
                throw FederationError(
                    .incompatibleUpdate,
                    "model weights: tensor \(index): expected \(shape.name) \(shape.shape), found "
                        + "\(tensor.name) \(tensor.shape)"
                )
            }
            if let i = tensor.values.firstIndex(where: { !$0.isFinite }) {
                throw FederationError(
                    .incompatibleUpdate,
                    "model weights: \(tensor.name)[\(i)]: expected a finite number, found \(tensor.values[i])"
                )
            }
        }
    }

    /// Trains the model locally from the round's global weights: `configuration.epochs` passes of minibatch
    /// SGD over `data` in an order drawn from `configuration.seed`, with momentum, weight decay and FedProx's
    /// proximal term towards `global` as configured.
    ///
    /// Deterministic: the same weights, data and configuration give bit-identical weights on one machine.
    /// - Parameters:
    ///   - global: the weights to start from, which are also the proximal term's anchor.
    ///   - data: the site's examples; the model has `data.featureCount` inputs and `data.classCount` outputs.
    ///   - configuration: epochs, batch size, learning rate, momentum, weight decay, μ, scaling and seed.
    /// - Returns: the weights after training, with the same names and shapes. Weight them in aggregation
    ///   by `data.count`.
    /// - Throws: `FederationError` `.invalidConfiguration` for a bad configuration, `.incompatibleUpdate` when
    ///   `global` does not fit the model and data, `.trainingData` for empty data or when training diverges
    ///   (a non-finite loss: lower the learning rate).
    /// - Complexity: O(epochs × examples × parameters) time; O(batch size × widest layer + parameters) memory.
    public func train(
        from global: ModelWeights,
        on data: TrainingData,
        configuration: LocalTrainingConfiguration
    ) throws(FederationError) -> ModelWeights {
        try configuration.validate()
        let network = try prepare(global, data, configuration.featureScaling)
        let n = data.count
        let batchSize = min(configuration.batchSize, n)
        let widest = network.layers.map { max($0.inputs, $0.outputs) }.max()!
        guard batchSize * widest <= Self.maximumBatchValues else {
            throw FederationError(
                .invalidConfiguration,
                "local training: batchSize: expected at most \(Self.maximumBatchValues / widest) for a layer "
                    + "\(widest) wide (\(Self.maximumBatchValues) values per batch buffer), found \(batchSize)"
            )
        }
        let workspace = DenseWorkspace(network: network, batchCapacity: batchSize)
        var parameters = global.tensors.flatMap(\.values)
        let anchor = configuration.proximalMu > 0 ? parameters : []
        var velocity = [Float](repeating: 0, count: configuration.momentum > 0 ? parameters.count : 0)
        var gradient = [Float](repeating: 0, count: parameters.count)
        var order = Array(0..<n)
        var generator = SeededGenerator(seed: configuration.seed)
        let step = SGDStep(configuration)
        for epoch in 1...configuration.epochs {
            generator.shuffle(&order)
            var start = 0
            while start < n {
                let count = min(batchSize, n - start)
                let lossSum = run(
                    workspace,
                    &parameters,
                    &gradient,
                    lossScale: 1 / Float(count),
                    data,
                    order,
                    start,
                    count,
                    configuration.featureScaling
                )
                guard lossSum.isFinite else {
                    throw FederationError(
                        .trainingData,
                        "local training: the loss became \(lossSum) in epoch \(epoch) at example \(start); "
                            + "expected a finite loss — lower the learning rate or scale the features"
                    )
                }
                step.apply(&parameters, gradient: &gradient, velocity: &velocity, anchor: anchor)
                start += count
            }
        }
        if let i = parameters.firstIndex(where: { !$0.isFinite }) {
            throw FederationError(
                .trainingData,
                "local training: parameter \(i) became \(parameters[i]); expected finite weights — lower the "
                    + "learning rate or scale the features"
            )
        }
        return unflatten(parameters, like: global)
    }

    /// The model's accuracy and mean cross-entropy on `data`.
    /// - Parameters:
    ///   - weights: this model's weights for `data`'s features and classes.
    ///   - data: the examples to score.
    ///   - featureScaling: the scaling the model was trained with.
    /// - Throws: `FederationError` as ``validate(_:features:classes:)`` does; `.trainingData` for empty data.
    /// - Complexity: O(examples × parameters).
    public func evaluate(
        _ weights: ModelWeights,
        on data: TrainingData,
        featureScaling: FeatureScaling = .none
    ) throws(FederationError) -> ModelEvaluation {
        let network = try prepare(weights, data, featureScaling)
        var noGradient: [Float] = []
        let (lossSum, correct) = score(network, weights.tensors.flatMap(\.values), &noGradient, data, featureScaling)
        return ModelEvaluation(
            accuracy: Double(correct) / Double(data.count),
            meanLoss: lossSum / Double(data.count),
            count: data.count
        )
    }

    /// The full-batch objective that ``train(from:on:configuration:)`` descends, and its gradient:
    /// mean cross-entropy over `data` + `weightDecay/2·‖w‖²` + `proximalMu/2·‖w − anchor‖²`.
    /// For gradient checks and diagnostics; training itself follows minibatch gradients.
    /// - Parameters:
    ///   - weights: the point `w`.
    ///   - data: the examples.
    ///   - configuration: supplies the weight decay, μ and feature scaling.
    ///   - anchor: the proximal term's anchor (the global model); nil drops the term.
    /// - Returns: the loss and its gradient, as weights with the same names and shapes.
    /// - Throws: `FederationError` as ``train(from:on:configuration:)`` does.
    public func objective(
        at weights: ModelWeights,
        on data: TrainingData,
        configuration: LocalTrainingConfiguration,
        anchor: ModelWeights?
    ) throws(FederationError) -> (loss: Double, gradient: ModelWeights) {
        try configuration.validate()
        let network = try prepare(weights, data, configuration.featureScaling)
        let parameters = weights.tensors.flatMap(\.values)
        var gradient = [Float](repeating: 0, count: parameters.count)
        var (loss, _) = score(network, parameters, &gradient, data, configuration.featureScaling)
        loss /= Double(data.count)
        let decay = configuration.weightDecay
        for i in parameters.indices where decay > 0 {
            loss += Double(decay) / 2 * Double(parameters[i]) * Double(parameters[i])
            gradient[i] += decay * parameters[i]
        }
        if let anchor, configuration.proximalMu > 0 {
            try validate(anchor, features: data.featureCount, classes: data.classCount)
            let mu = configuration.proximalMu
            let anchorValues = anchor.tensors.flatMap(\.values)
            for i in parameters.indices {
                let difference = parameters[i] - anchorValues[i]
                loss += Double(mu) / 2 * Double(difference) * Double(difference)
                gradient[i] += mu * difference
            }
        }
        return (loss, unflatten(gradient, like: weights))
    }

    private func prepare(
        _ weights: ModelWeights,
        _ data: TrainingData,
        _ scaling: FeatureScaling
    ) throws(FederationError) -> DenseNetwork {
        guard data.count > 0 else {
            throw FederationError(.trainingData, "training data: expected at least one example, found none")
        }
        try validate(weights, features: data.featureCount, classes: data.classCount)
        try scaling.validate(featureCount: data.featureCount)
        return DenseNetwork(widths: try layerWidths(features: data.featureCount, classes: data.classCount))
    }

    /// One minibatch: zeroes `gradient`, then fills it with the batch's mean-loss gradient.
    private func run(
        _ workspace: DenseWorkspace,
        _ parameters: inout [Float],
        _ gradient: inout [Float],
        lossScale: Float,
        _ data: TrainingData,
        _ order: [Int],
        _ start: Int,
        _ count: Int,
        _ scaling: FeatureScaling
    ) -> Double {
        parameters.withUnsafeBufferPointer { parameters in
            gradient.withUnsafeMutableBufferPointer { gradient in
                gradient.update(repeating: 0)
                return data.features.withUnsafeBufferPointer { features in
                    data.labels.withUnsafeBufferPointer { labels in
                        order.withUnsafeBufferPointer { order in
                            workspace.run(
                                parameters: parameters.baseAddress!,
                                gradient: gradient.baseAddress!,
                                lossScale: lossScale,
                                features: features.baseAddress!,
                                labels: labels.baseAddress!,
                                rows: order.baseAddress! + start,
                                count: count,
                                scaling: scaling
                            ).lossSum
                        }
                    }
                }
            }
        }
    }

    /// Summed loss and correct count over all of `data` in batches of 256; with a non-empty gradient
    /// buffer, adds the gradient of the mean loss to it.
    private func score(
        _ network: DenseNetwork,
        _ parameters: [Float],
        _ gradient: inout [Float],
        _ data: TrainingData,
        _ scaling: FeatureScaling
    ) -> (lossSum: Double, correct: Int) {
        let n = data.count
        let widest = network.layers.map { max($0.inputs, $0.outputs) }.max()!
        let batch = max(1, min(256, n, Self.maximumBatchValues / widest))
        let workspace = DenseWorkspace(network: network, batchCapacity: batch)
        let rows = Array(0..<n)
        let computeGradient = !gradient.isEmpty
        var lossSum = 0.0
        var correct = 0
        parameters.withUnsafeBufferPointer { parameters in
            gradient.withUnsafeMutableBufferPointer { gradient in
                data.features.withUnsafeBufferPointer { features in
                    data.labels.withUnsafeBufferPointer { labels in
                        rows.withUnsafeBufferPointer { rows in
                            var start = 0
                            while start < n {
                                let count = min(batch, n - start)
                                let (batchLoss, batchCorrect) = workspace.run(
                                    parameters: parameters.baseAddress!,
                                    gradient: computeGradient ? gradient.baseAddress! : nil,
                                    lossScale: 1 / Float(n),
                                    features: features.baseAddress!,
                                    labels: labels.baseAddress!,
                                    rows: rows.baseAddress! + start,
                                    count: count,
                                    scaling: scaling
                                )
                                lossSum += batchLoss
                                correct += batchCorrect
                                start += count
                            }
                        }
                    }
                }
            }
        }
        return (lossSum, correct)
    }

    private func unflatten(_ values: [Float], like weights: ModelWeights) -> ModelWeights {
        var offset = 0
        return ModelWeights(
            weights.tensors.map { tensor in
                defer { offset += tensor.values.count }
                return ModelWeights.Tensor(
                    name: tensor.name,
                    shape: tensor.shape,
                    values: Array(values[offset..<(offset + tensor.values.count)])
                )
            }
        )
    }
}

/// A model's score on some examples.
public struct ModelEvaluation: Sendable, Hashable, Codable {
    /// The share of examples whose highest-scoring class is their label, in `0...1`.
    public var accuracy: Double
    /// The mean softmax cross-entropy (natural log).
    public var meanLoss: Double
    /// The number of examples scored.
    public var count: Int

    /// Makes an evaluation.
    public init(accuracy: Double, meanLoss: Double, count: Int) {
        self.accuracy = accuracy
        self.meanLoss = meanLoss
        self.count = count
    }
}

/// The SGD update rule of `torch.optim.SGD` plus FedProx's proximal gradient.
private struct SGDStep {
    let learningRate: Float
    let momentum: Float
    let weightDecay: Float
    let mu: Float

    init(_ configuration: LocalTrainingConfiguration) {
        learningRate = configuration.learningRate
        momentum = configuration.momentum
        weightDecay = configuration.weightDecay
        mu = configuration.proximalMu
    }

    /// One step; `gradient` is used as scratch. Each case is its own loop so the compiler vectorises it;
    /// per element the arithmetic is `torch.optim.SGD`'s, in its order.
    func apply(_ parameters: inout [Float], gradient: inout [Float], velocity: inout [Float], anchor: [Float]) {
        let count = parameters.count
        let (learningRate, momentum, weightDecay, mu) = (learningRate, momentum, weightDecay, mu)
        parameters.withUnsafeMutableBufferPointer { w in
            gradient.withUnsafeMutableBufferPointer { g in
                velocity.withUnsafeMutableBufferPointer { v in
                    anchor.withUnsafeBufferPointer { a in
                        if weightDecay > 0 {
                            for i in 0..<count { g[i] += weightDecay * w[i] }
                        }
                        if mu > 0 {
                            for i in 0..<count { g[i] += mu * (w[i] - a[i]) }
                        }
                        if momentum > 0 {
                            for i in 0..<count {
                                v[i] = momentum * v[i] + g[i]
                                w[i] -= learningRate * v[i]
                            }
                        } else {
                            for i in 0..<count { w[i] -= learningRate * g[i] }
                        }
                    }
                }
            }
        }
    }
}
