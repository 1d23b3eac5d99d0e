import SovereignBase
import SovereignFederation
import Testing

/// Federated averaging over three sites whose label distributions differ, with the built-in trainer and
/// the weighted mean done inline (the aggregation strategies live elsewhere).
struct FederatedSimulationTests {
    /// The sites' "home" digits: A holds mostly 0–3, B mostly 3–6, C mostly 6–9.
    static let homes: [ClosedRange<Int32>] = [0...3, 3...6, 6...9]

    /// Splits `data` into three label-skewed shares: each example goes, with probability 0.8, to a site
    /// whose home range holds its label (to one of the two at random for the shared digits 3 and 6), and
    /// otherwise to one of the other sites at random. So each site sees every digit, most of them rarely.
    static func labelSkewedShares(of data: TrainingData, seed: UInt64) -> [TrainingData] {
        var generator = SeededGenerator(seed: seed)
        var shares: [[Int]] = [[], [], []]
        for (index, label) in data.labels.enumerated() {
            let home = homes.indices.filter { homes[$0].contains(label) }
            let away = homes.indices.filter { !home.contains($0) }
            let site =
                generator.nextUnitFloat() < 0.8
                ? home[generator.nextInt(below: home.count)] : away[generator.nextInt(below: away.count)]
            shares[site].append(index)
        }
        return shares.map { data.subset($0) }
    }

    /// The mean of the sites' weights, weighted by their example counts.
    static func weightedAverage(_ updates: [(weights: ModelWeights, examples: Int)]) -> ModelWeights {
        let total = Float(updates.reduce(0) { $0 + $1.examples })
        var average = updates[0].weights
        for t in average.tensors.indices {
            for i in average.tensors[t].values.indices {
                var sum: Float = 0
                for update in updates { sum += Float(update.examples) / total * update.weights.tensors[t].values[i] }
                average.tensors[t].values[i] = sum
            }
        }
        return average
    }

    @Test func sharesAreSkewedButNotDisjoint() {
        let shares = Self.labelSkewedShares(of: TrainingFixtures.digitsSplit.training, seed: 1)
        #expect(shares.reduce(0) { $0 + $1.count } == TrainingFixtures.digitsSplit.training.count)
        for (site, share) in shares.enumerated() {
            let counts = share.classCounts
            let home = counts.indices.filter { Self.homes[site].contains(Int32($0)) }.reduce(0) { $0 + counts[$1] }
            #expect(Double(home) / Double(share.count) > 0.7, "site \(site): \(counts)")
            #expect(counts.allSatisfy { $0 > 0 }, "site \(site) lacks a digit: \(counts)")
        }
    }

    @Test(arguments: [Float(0), 0.1])
    func federatedAveragingOverSkewedSitesReaches90Percent(proximalMu: Float) throws {
        let (training, test) = TrainingFixtures.digitsSplit
        let shares = Self.labelSkewedShares(of: training, seed: 1)
        let model = BuiltInModel.multilayerPerceptron(hiddenUnits: 32)
        var global = try model.initialWeights(features: 64, classes: 10, seed: 1)
        let start = try model.evaluate(global, on: test, featureScaling: .divide(by: 16))
        for round in 1...20 {
            var updates: [(weights: ModelWeights, examples: Int)] = []
            for (site, share) in shares.enumerated() {
                let configuration = LocalTrainingConfiguration(
                    epochs: 1,
                    batchSize: 16,
                    learningRate: 0.1,
                    proximalMu: proximalMu,
                    featureScaling: .divide(by: 16),
                    seed: UInt64(round * 10 + site)
                )
                updates.append((try model.train(from: global, on: share, configuration: configuration), share.count))
            }
            global = Self.weightedAverage(updates)
        }
        let end = try model.evaluate(global, on: test, featureScaling: .divide(by: 16))
        #expect(start.accuracy < 0.3)
        #expect(end.accuracy >= 0.9, "test accuracy after 20 rounds: \(end.accuracy)")
        // One site alone, trained as long, does worse on the digits it rarely sees.
        guard proximalMu == 0 else { return }
        let alone = try model.train(
            from: try model.initialWeights(features: 64, classes: 10, seed: 1),
            on: shares[0],
            configuration: .init(epochs: 20, batchSize: 16, learningRate: 0.1, featureScaling: .divide(by: 16))
        )
        #expect(try model.evaluate(alone, on: test, featureScaling: .divide(by: 16)).accuracy < end.accuracy)
    }
}
