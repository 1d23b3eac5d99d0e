import Foundation
import SovereignBase
import SovereignFederation
import Testing

struct BuiltInModelTests {
    static let models: [BuiltInModel] = [.logisticRegression, .multilayerPerceptron(hiddenUnits: 5)]

    /// 12 random examples of 4 features and 3 classes.
    static func smallData(seed: UInt64) throws -> TrainingData {
        var generator = SeededGenerator(seed: seed)
        let features = (0..<48).map { _ in 4 * generator.nextUnitFloat() - 2 }
        let labels = (0..<12).map { Int32($0 % 3) }
        return try TrainingData(features: features, labels: labels, featureCount: 4, classCount: 3)
    }

    @Test func tensorsAreNamedAndShapedLikePyTorchLinear() throws {
        let logistic = try BuiltInModel.logisticRegression.initialWeights(features: 64, classes: 10, seed: 1)
        #expect(logistic.tensors.map(\.name) == ["linear.weight", "linear.bias"])
        #expect(logistic.tensors.map(\.shape) == [[10, 64], [10]])
        let mlp = try BuiltInModel.multilayerPerceptron(hiddenUnits: 32).initialWeights(
            features: 64,
            classes: 10,
            seed: 1
        )
        #expect(mlp.tensors.map(\.name) == ["hidden.weight", "hidden.bias", "output.weight", "output.bias"])
        #expect(mlp.tensors.map(\.shape) == [[32, 64], [32], [10, 32], [10]])
        // nn.Linear's default: uniform in ±1/√fan_in, for weights and biases alike.
        for tensor in mlp.tensors {
            let bound: Float = tensor.name.hasPrefix("hidden") ? 1 / 8 : 1 / Float(32).squareRoot()
            #expect(tensor.values.allSatisfy { abs($0) <= bound })
            if tensor.name.hasSuffix("weight") {
                #expect(tensor.values.max()! > bound * 0.9 && tensor.values.min()! < -bound * 0.9)
            }
        }
        #expect(try BuiltInModel.logisticRegression.initialWeights(features: 64, classes: 10, seed: 1) == logistic)
        #expect(try BuiltInModel.logisticRegression.initialWeights(features: 64, classes: 10, seed: 2) != logistic)
    }

    @Test(arguments: models)
    func gradientsMatchFiniteDifferences(model: BuiltInModel) throws {
        let data = try Self.smallData(seed: 3)
        let weights = try model.initialWeights(features: 4, classes: 3, seed: 4)
        let anchor = try model.initialWeights(features: 4, classes: 3, seed: 5)
        let configuration = LocalTrainingConfiguration(
            weightDecay: 0.03,
            proximalMu: 0.7,
            featureScaling: .divide(by: 2)
        )
        let (_, gradient) = try model.objective(at: weights, on: data, configuration: configuration, anchor: anchor)
        let epsilon: Float = 1e-3
        var checked = 0
        for (t, tensor) in weights.tensors.enumerated() {
            for i in tensor.values.indices {
                var plus = weights
                plus.tensors[t].values[i] += epsilon
                var minus = weights
                minus.tensors[t].values[i] -= epsilon
                let lossPlus = try model.objective(at: plus, on: data, configuration: configuration, anchor: anchor)
                    .loss
                let lossMinus = try model.objective(at: minus, on: data, configuration: configuration, anchor: anchor)
                    .loss
                let numeric = (lossPlus - lossMinus) / Double(2 * epsilon)
                let analytic = Double(gradient.tensors[t].values[i])
                #expect(
                    abs(numeric - analytic) <= 2e-3 + 1e-2 * abs(analytic),
                    "\(tensor.name)[\(i)]: numeric \(numeric), analytic \(analytic)"
                )
                checked += 1
            }
        }
        #expect(checked == weights.parameterCount)
    }

    @Test func proximalTermAddsMuTimesTheDistanceToTheAnchor() throws {
        let model = BuiltInModel.logisticRegression
        let data = try Self.smallData(seed: 3)
        let weights = try model.initialWeights(features: 4, classes: 3, seed: 4)
        let anchor = try model.initialWeights(features: 4, classes: 3, seed: 5)
        let plain = try model.objective(at: weights, on: data, configuration: .init(), anchor: anchor)
        let proximal = try model.objective(at: weights, on: data, configuration: .init(proximalMu: 2), anchor: anchor)
        var squaredDistance = 0.0
        for (w, a) in zip(weights.tensors, anchor.tensors) {
            for (x, y) in zip(w.values, a.values) {
                squaredDistance += Double(x - y) * Double(x - y)
            }
        }
        #expect(abs(proximal.loss - plain.loss - squaredDistance) < 1e-6)
        let expected = zip(weights.tensors[0].values, anchor.tensors[0].values).map { 2 * ($0 - $1) }
        let added = zip(proximal.gradient.tensors[0].values, plain.gradient.tensors[0].values).map { $0 - $1 }
        #expect(zip(expected, added).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test(arguments: [BuiltInModel.logisticRegression, .multilayerPerceptron(hiddenUnits: 16)])
    func trainingLowersTheLossAndIsDeterministic(model: BuiltInModel) throws {
        let data = TrainingFixtures.digitsSplit.training.subset(0..<300)
        let start = try model.initialWeights(features: 64, classes: 10, seed: 9)
        let configuration = LocalTrainingConfiguration(
            epochs: 2,
            batchSize: 16,
            learningRate: 0.05,
            momentum: 0.9,
            weightDecay: 1e-4,
            featureScaling: .divide(by: 16),
            seed: 11
        )
        let trained = try model.train(from: start, on: data, configuration: configuration)
        let before = try model.evaluate(start, on: data, featureScaling: .divide(by: 16))
        let after = try model.evaluate(trained, on: data, featureScaling: .divide(by: 16))
        #expect(after.meanLoss < before.meanLoss * 0.6, "loss \(before.meanLoss) → \(after.meanLoss)")
        #expect(after.accuracy > before.accuracy)
        #expect(try model.train(from: start, on: data, configuration: configuration) == trained)
        var reseeded = configuration
        reseeded.seed = 12
        #expect(try model.train(from: start, on: data, configuration: reseeded) != trained)
    }

    @Test func largerMuKeepsTheLocalModelCloserToTheGlobalOne() throws {
        let model = BuiltInModel.multilayerPerceptron(hiddenUnits: 16)
        let data = TrainingFixtures.digitsSplit.training.subset(0..<200)
        let global = try model.initialWeights(features: 64, classes: 10, seed: 1)
        func distance(mu: Float) throws -> Double {
            let configuration = LocalTrainingConfiguration(
                epochs: 2,
                learningRate: 0.1,
                proximalMu: mu,
                featureScaling: .divide(by: 16)
            )
            let local = try model.train(from: global, on: data, configuration: configuration)
            var sum = 0.0
            for (w, g) in zip(local.tensors, global.tensors) {
                for (x, y) in zip(w.values, g.values) { sum += Double(x - y) * Double(x - y) }
            }
            return sum.squareRoot()
        }
        let free = try distance(mu: 0)
        let held = try distance(mu: 1)
        let tight = try distance(mu: 5)
        #expect(free > held && held > tight)
    }

    @Test(arguments: [
        (
            BuiltInModel.logisticRegression,
            LocalTrainingConfiguration(epochs: 5, batchSize: 16, learningRate: 0.2, momentum: 0.9)
        ),
        (
            BuiltInModel.multilayerPerceptron(hiddenUnits: 32),
            LocalTrainingConfiguration(epochs: 5, batchSize: 16, learningRate: 0.1, momentum: 0.9)
        ),
    ])
    func centralisedTrainingOnDigitsReaches95Percent(
        model: BuiltInModel,
        configuration: LocalTrainingConfiguration
    ) throws {
        let (training, test) = TrainingFixtures.digitsSplit
        var configuration = configuration
        configuration.featureScaling = .divide(by: 16)
        configuration.seed = 3
        let start = try model.initialWeights(features: 64, classes: 10, seed: 7)
        let trained = try model.train(from: start, on: training, configuration: configuration)
        let evaluation = try model.evaluate(trained, on: test, featureScaling: .divide(by: 16))
        #expect(evaluation.count == 359)
        #expect(evaluation.accuracy >= 0.95, "\(model): test accuracy \(evaluation.accuracy)")
    }

    @Test func weightsThatDoNotFitAreRejectedByName() throws {
        let model = BuiltInModel.multilayerPerceptron(hiddenUnits: 8)
        let data = try Self.smallData(seed: 1)
        var weights = try model.initialWeights(features: 4, classes: 3, seed: 1)
        weights.tensors[2] = .init(zeros: "output.weight", shape: [3, 7])
        #expect(
            throws: FederationError(
                .incompatibleUpdate,
                "model weights: tensor 2: expected output.weight [3, 8], found output.weight [3, 7]"
            )
        ) {
            try model.train(from: weights, on: data, configuration: .init())
        }
        let logistic = try BuiltInModel.logisticRegression.initialWeights(features: 4, classes: 3, seed: 1)
        #expect(
            throws: FederationError(
                .incompatibleUpdate,
                "model weights: expected 4 tensors (hidden.weight [8, 4], hidden.bias [8], output.weight [3, 8], "
                    + "output.bias [3]), found 2 (linear.weight [3, 4], linear.bias [3])"
            )
        ) {
            try model.evaluate(logistic, on: data)
        }
        var poisoned = logistic
        poisoned.tensors[1].values[2] = .nan
        #expect(
            throws: FederationError(
                .incompatibleUpdate,
                "model weights: linear.bias[2]: expected a finite number, found nan"
            )
        ) {
            try BuiltInModel.logisticRegression.evaluate(poisoned, on: data)
        }
        #expect(
            throws: FederationError(
                .invalidConfiguration,
                "model: hidden units: expected an integer from 1 to 65536, found 0"
            )
        ) {
            try BuiltInModel.multilayerPerceptron(hiddenUnits: 0).initialWeights(features: 4, classes: 3, seed: 1)
        }
    }

    @Test func divergenceIsAnErrorNotNaNWeights() throws {
        let model = BuiltInModel.multilayerPerceptron(hiddenUnits: 8)
        let data = TrainingFixtures.digitsSplit.training.subset(0..<64)
        let start = try model.initialWeights(features: 64, classes: 10, seed: 1)
        let error = #expect(throws: FederationError.self) {
            try model.train(from: start, on: data, configuration: .init(epochs: 20, learningRate: 1e30))
        }
        #expect(error?.code == .trainingData)
        #expect(error?.message.hasPrefix("local training: ") == true)
    }

    static let badConfigurations: [(LocalTrainingConfiguration, String)] = [
        (.init(epochs: 0), "local training: epochs: expected an integer from 1 to 10000, found 0"),
        (.init(batchSize: 0), "local training: batchSize: expected an integer from 1 to 65536, found 0"),
        (.init(learningRate: -1), "local training: learningRate: expected a finite positive number, found -1.0"),
        (.init(momentum: 1), "local training: momentum: expected a number in [0, 1), found 1.0"),
        (.init(weightDecay: .nan), "local training: weightDecay: expected a finite number ≥ 0, found nan"),
        (.init(proximalMu: -0.5), "local training: proximalMu: expected a finite number ≥ 0, found -0.5"),
    ]

    @Test(arguments: badConfigurations)
    func configurationValidationNamesTheField(configuration: LocalTrainingConfiguration, message: String) {
        #expect(throws: FederationError(.invalidConfiguration, message)) { try configuration.validate() }
    }

    @Test func configurationRoundTripsThroughJSONAndDecodingValidates() throws {
        let configuration = LocalTrainingConfiguration(
            epochs: 3,
            batchSize: 8,
            learningRate: 0.5,
            momentum: 0.9,
            weightDecay: 1e-4,
            proximalMu: 0.01,
            featureScaling: .standardize(mean: [1, 2], standardDeviation: [3, 4]),
            seed: 99
        )
        let json = try JSONEncoder().encode(configuration)
        #expect(try JSONDecoder().decode(LocalTrainingConfiguration.self, from: json) == configuration)
        let partial = try JSONDecoder().decode(LocalTrainingConfiguration.self, from: Data(#"{"epochs": 2}"#.utf8))
        #expect(partial == LocalTrainingConfiguration(epochs: 2))
        #expect(
            throws: FederationError(
                .invalidConfiguration,
                "local training: epochs: expected an integer from 1 to 10000, found -2"
            )
        ) {
            try JSONDecoder().decode(LocalTrainingConfiguration.self, from: Data(#"{"epochs": -2}"#.utf8))
        }
        let model = BuiltInModel.multilayerPerceptron(hiddenUnits: 64)
        #expect(try JSONDecoder().decode(BuiltInModel.self, from: JSONEncoder().encode(model)) == model)
    }

    @Test func standardizationUsesTheStatisticsItIsGiven() throws {
        let data = try TrainingData(
            features: [1, 10, 3, 10, 5, 10],
            labels: [0, 1, 0],
            featureCount: 2,
            classCount: 2
        )
        let scaling = FeatureScaling.standardization(of: data)
        guard case .standardize(let mean, let deviation) = scaling else {
            Issue.record("expected a standardization, found \(scaling)")
            return
        }
        #expect(mean == [3, 10])
        #expect(abs(deviation[0] - Float(8.0 / 3).squareRoot()) < 1e-6)
        #expect(deviation[1] == 1)
        #expect(
            throws: FederationError(
                .invalidConfiguration,
                "feature scaling: standardize: expected 2 means and standard deviations, found 1 and 1"
            )
        ) {
            try BuiltInModel.logisticRegression.evaluate(
                BuiltInModel.logisticRegression.initialWeights(features: 2, classes: 2, seed: 0),
                on: data,
                featureScaling: .standardize(mean: [0], standardDeviation: [1])
            )
        }
    }
}
