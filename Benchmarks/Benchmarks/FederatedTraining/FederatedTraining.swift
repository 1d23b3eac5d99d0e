import Benchmark
import Foundation
import SovereignFederation

// The built-in site trainer on the bundled UCI digits (1,797 examples, 64 features, 10 classes): loading
// the gzip CSV, one local epoch of each built-in model, and an evaluation. Inputs are made once, lazily,
// in `setup`, outside the measurement.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]

/// `Examples/data/digits.csv.gz`, found from this file's location in the repository.
let digitsURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Examples/data/digits.csv.gz")

let digits = try! TrainingData.load(contentsOf: digitsURL)

func epoch(batchSize: Int) -> LocalTrainingConfiguration {
    LocalTrainingConfiguration(
        epochs: 1,
        batchSize: batchSize,
        learningRate: 0.1,
        momentum: 0.9,
        featureScaling: .divide(by: 16),
        seed: 1
    )
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(metrics: metrics, warmupIterations: 3, maxDuration: .seconds(10))

    Benchmark("load digits.csv.gz (1,797 × 65, gzip)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try TrainingData.load(contentsOf: digitsURL))
        }
    }

    let models: [(String, BuiltInModel)] = [
        ("logistic regression", .logisticRegression),
        ("MLP 32 hidden", .multilayerPerceptron(hiddenUnits: 32)),
        ("MLP 64 hidden", .multilayerPerceptron(hiddenUnits: 64)),
    ]
    for (name, model) in models {
        let start = try! model.initialWeights(features: 64, classes: 10, seed: 1)
        for batchSize in [16, 64] {
            Benchmark("train 1 epoch, \(name), batch \(batchSize), 1,797 digits", configuration: configuration) {
                benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try model.train(from: start, on: digits, configuration: epoch(batchSize: batchSize)))
                }
            } setup: {
                blackHole(digits.count)
            }
        }
        Benchmark("evaluate, \(name), 1,797 digits", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try model.evaluate(start, on: digits, featureScaling: .divide(by: 16)))
            }
        } setup: {
            blackHole(digits.count)
        }
    }
}
