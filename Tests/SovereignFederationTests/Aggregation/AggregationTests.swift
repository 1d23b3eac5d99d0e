import Foundation
import SovereignBase
import SovereignFederation
import Testing

/// Straightforward reference computations in Double, to check the optimized ones against.
private enum Reference {
    static func flat(_ w: ModelWeights) -> [Double] { w.tensors.flatMap { $0.values.map(Double.init) } }

    static func weightedMean(_ updates: [ModelWeights], _ examples: [Int]) -> [Double] {
        let total = Double(examples.reduce(0, +))
        var sum = [Double](repeating: 0, count: flat(updates[0]).count)
        for (update, n) in zip(updates, examples) {
            for (i, v) in flat(update).enumerated() { sum[i] += Double(n) * v }
        }
        return sum.map { $0 / total }
    }

    static func perCoordinate(_ updates: [ModelWeights], _ combine: ([Double]) -> Double) -> [Double] {
        let flats = updates.map(flat)
        return (0..<flats[0].count).map { i in combine(flats.map { $0[i] }.sorted()) }
    }

    static func median(_ sorted: [Double]) -> Double {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    static func trimmedMean(_ sorted: [Double], beta: Double) -> Double {
        let cut = Int(beta * Double(sorted.count))
        let kept = sorted[cut..<(sorted.count - cut)]
        return kept.reduce(0, +) / Double(kept.count)
    }

    /// Krum scores exactly as Flower computes them.
    static func krumScores(_ updates: [ModelWeights], f: Int) -> [Double] {
        let flats = updates.map(flat)
        let n = flats.count
        return (0..<n).map { i in
            let distances = (0..<n).filter { $0 != i }.map { j in
                zip(flats[i], flats[j]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            }
            return distances.sorted().prefix(max(1, n - f - 2)).reduce(0, +)
        }
    }
}

private let shapes: [(String, [Int])] = [
    ("dense.weight", [5, 7]), ("dense.bias", [7]), ("big", [3, 41]), ("empty", [0, 2]),
]

private func expectClose(
    _ found: ModelWeights,
    _ expected: [Double],
    tolerance: Double = 1e-5,
    _ comment: Comment? = nil
) {
    let values = Reference.flat(found)
    #expect(values.count == expected.count)
    let worst = zip(values, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    #expect(worst <= tolerance, comment)
}

private func updates(_ count: Int, seed: UInt64) -> (global: ModelWeights, deltas: [ModelWeights], examples: [Int]) {
    var rng = SeededGenerator(seed: seed)
    let global = randomWeights(shapes, using: &rng)
    let deltas = (0..<count).map { _ in randomWeights(shapes, using: &rng) }
    let examples = (0..<count).map { _ in Int.random(in: 1...500, using: &rng) }
    return (global, deltas, examples)
}

struct AggregationTests {
    @Test(arguments: [1, 7, 8, 13, 20])
    func fedAvgMatchesTheWeightedMeanFromMappedFiles(sites: Int) throws {
        let (global, deltas, examples) = updates(sites, seed: UInt64(sites))
        try withTemporaryDirectory { directory in
            var aggregator = try RoundAggregator(strategy: .fedAvg, global: global)
            for (i, delta) in deltas.enumerated() {
                let path = "\(directory)/site\(i).safetensors"
                try Safetensors.write(delta, to: path)
                try aggregator.fold(try SafetensorsFile(path: path), examples: examples[i])
            }
            #expect(aggregator.updateCount == sites)
            #expect(aggregator.totalExamples == examples.reduce(0, +))
            let mean = try aggregator.aggregateDelta()
            expectClose(mean, Reference.weightedMean(deltas, examples))
            var state = ServerOptimizerState()
            let next = try aggregator.finish(state: &state)
            expectClose(next, zip(Reference.flat(global), Reference.weightedMean(deltas, examples)).map(+))
            #expect(state.round == 1)
        }
    }

    @Test func batchOneAtATimeInMemoryAndSecureSumAllAgree() throws {
        let (global, deltas, examples) = updates(11, seed: 99)
        let files = try deltas.map { try SafetensorsFile(bytes: try Safetensors.encode($0)) }
        var batch = try RoundAggregator(strategy: .fedAvg, global: global)
        try batch.fold(Array(zip(files, examples)).map { (update: $0.0, examples: $0.1) })
        var single = try RoundAggregator(strategy: .fedProx(mu: 0.01), global: global)
        for (file, n) in zip(files, examples) { try single.fold(file, examples: n) }
        var memory = try RoundAggregator(strategy: .fedAvg, global: global)
        for (delta, n) in zip(deltas, examples) { try memory.fold(delta, examples: n) }
        // Secure aggregation hands over Σ nᵢΔᵢ of a group of sites and Σ nᵢ.
        var secure = try RoundAggregator(strategy: .fedAvg, global: global)
        var sum = [Float](repeating: 0, count: global.parameterCount)
        for (delta, n) in zip(deltas.prefix(6), examples.prefix(6)) {
            for (i, v) in delta.tensors.flatMap(\.values).enumerated() { sum[i] += Float(n) * v }
        }
        try secure.foldSum(sum, totalExamples: examples.prefix(6).reduce(0, +))
        for (file, n) in zip(files.suffix(5), examples.suffix(5)) { try secure.fold(file, examples: n) }

        let expected = Reference.weightedMean(deltas, examples)
        for var aggregator in [batch, single, memory, secure] { expectClose(try aggregator.aggregateDelta(), expected) }
    }

    @Test func copiesOfAnAggregatorDoNotShareTheirSum() throws {
        let (global, deltas, examples) = updates(3, seed: 5)
        var first = try RoundAggregator(strategy: .fedAvg, global: global)
        try first.fold(deltas[0], examples: examples[0])
        var second = first
        try second.foldSum(
            deltas[1].tensors.flatMap { $0.values.map { $0 * Float(examples[1]) } },
            totalExamples: examples[1]
        )
        expectClose(try first.aggregateDelta(), Reference.weightedMean([deltas[0]], [examples[0]]))
        expectClose(try second.aggregateDelta(), Reference.weightedMean(Array(deltas[0...1]), Array(examples[0...1])))
    }

    @Test func fedAvgMAndFedAdamFollowTheirRecurrencesAcrossRoundsThroughPersistedState() throws {
        for strategy in [
            AggregationStrategy.fedAvgM(serverLearningRate: 0.7, momentum: 0.9),
            .fedAdam(serverLearningRate: 0.05, beta1: 0.8, beta2: 0.95, tau: 1e-3),
        ] {
            var (global, _, _) = updates(1, seed: 1)
            var referenceWeights = Reference.flat(global)
            var m = [Double](repeating: 0, count: referenceWeights.count)
            var v = m
            var state = ServerOptimizerState()
            for round in 0..<4 {
                let (_, deltas, examples) = updates(5, seed: 1000 + UInt64(round))
                var aggregator = try RoundAggregator(strategy: strategy, global: global)
                for (delta, n) in zip(deltas, examples) { try aggregator.fold(delta, examples: n) }
                // The state travels through safetensors between rounds, as the coordinator persists it.
                state = try ServerOptimizerState(
                    safetensors: try SafetensorsFile(bytes: try state.encoded()),
                    matching: global
                )
                global = try aggregator.finish(state: &state)

                let mean = Reference.weightedMean(deltas, examples)
                for i in referenceWeights.indices {
                    switch strategy {
                    case .fedAvgM(let eta, let beta):
                        m[i] = beta * m[i] + mean[i]
                        referenceWeights[i] += eta * m[i]
                    case .fedAdam(let eta, let b1, let b2, let tau):
                        m[i] = b1 * m[i] + (1 - b1) * mean[i]
                        v[i] = b2 * v[i] + (1 - b2) * mean[i] * mean[i]
                        referenceWeights[i] += eta * m[i] / (v[i].squareRoot() + tau)
                    default: Issue.record("unexpected strategy")
                    }
                }
                expectClose(global, referenceWeights, tolerance: 1e-4, "\(strategy) round \(round)")
                #expect(state.round == round + 1)
            }
            expectClose(try #require(state.firstMoment), m, tolerance: 1e-4)
            if case .fedAdam = strategy { expectClose(try #require(state.secondMoment), v, tolerance: 1e-4) }
        }
    }

    @Test(arguments: [1, 2, 5, 6, 9, 10, 33, 64])
    func medianMatchesTheReferenceForOddAndEvenCounts(sites: Int) throws {
        let (global, deltas, examples) = updates(sites, seed: 40 + UInt64(sites))
        var aggregator = try RoundAggregator(strategy: .fedMedian, global: global)
        for (i, (delta, n)) in zip(deltas, examples).enumerated() {
            if i % 2 == 0 {
                try aggregator.fold(try SafetensorsFile(bytes: try Safetensors.encode(delta)), examples: n)
            } else {
                try aggregator.fold(delta, examples: n)
            }
        }
        expectClose(try aggregator.aggregateDelta(), Reference.perCoordinate(deltas, Reference.median), tolerance: 1e-6)
    }

    @Test(arguments: [(0.0, 5), (0.1, 10), (0.2, 7), (0.25, 8), (0.49, 9), (0.3, 40)])
    func trimmedMeanMatchesTheReference(beta: Double, sites: Int) throws {
        let (global, deltas, examples) = updates(sites, seed: 70 + UInt64(sites))
        var aggregator = try RoundAggregator(strategy: .trimmedMean(beta: beta), global: global)
        for (delta, n) in zip(deltas, examples) { try aggregator.fold(delta, examples: n) }
        expectClose(
            try aggregator.aggregateDelta(),
            Reference.perCoordinate(deltas) { Reference.trimmedMean($0, beta: beta) },
            tolerance: 1e-5
        )
    }

    /// Many ties (values from a set of 3) exercise the selection's equal-to-pivot paths.
    @Test(arguments: [17, 50, 51])
    func medianAndTrimmedMeanHandleTies(sites: Int) throws {
        var rng = SeededGenerator(seed: UInt64(sites))
        let global = ModelWeights([.init(zeros: "w", shape: [300])])
        let deltas = (0..<sites).map { _ in
            ModelWeights([
                .init(
                    name: "w",
                    shape: [300],
                    values: (0..<300).map { _ in Float(Int.random(in: -1...1, using: &rng)) }
                )
            ])
        }
        for strategy in [AggregationStrategy.fedMedian, .trimmedMean(beta: 0.3)] {
            var aggregator = try RoundAggregator(strategy: strategy, global: global)
            for delta in deltas { try aggregator.fold(delta, examples: 1) }
            let expected =
                strategy == .fedMedian
                ? Reference.perCoordinate(deltas, Reference.median)
                : Reference.perCoordinate(deltas) { Reference.trimmedMean($0, beta: 0.3) }
            expectClose(try aggregator.aggregateDelta(), expected, tolerance: 1e-6)
        }
    }

    @Test func trimmedMeanCutsPlantedExtremes() throws {
        let global = ModelWeights([.init(zeros: "w", shape: [2])])
        var aggregator = try RoundAggregator(strategy: .trimmedMean(beta: 0.2), global: global)
        for values: [Float] in [[1, 1], [2, 2], [3, 3], [1000, -1000], [-1000, 1000]] {
            try aggregator.fold(ModelWeights([.init(name: "w", shape: [2], values: values)]), examples: 1)
        }
        #expect(try aggregator.aggregateDelta().tensors[0].values == [2, 2])
    }

    @Test func krumPicksOutPlantedOutliers() throws {
        var rng = SeededGenerator(seed: 8)
        let global = randomWeights(shapes, using: &rng)
        let center = randomWeights(shapes, using: &rng)
        var deltas: [ModelWeights] = []
        for i in 0..<9 {
            let scale: Float = [2, 6].contains(i) ? 40 : 0.05  // sites 2 and 6 are Byzantine
            deltas.append(
                ModelWeights(
                    center.tensors.map { t in
                        .init(
                            name: t.name,
                            shape: t.shape,
                            values: t.values.map { $0 + scale * Float.random(in: -1...1, using: &rng) }
                        )
                    }
                )
            )
        }
        let examples = (0..<9).map { 10 * ($0 + 1) }
        let scores = Reference.krumScores(deltas, f: 2)
        let ranking = scores.indices.sorted { (scores[$0], $0) < (scores[$1], $1) }

        var krum = try RoundAggregator(strategy: .krum(byzantine: 2, keep: 1), global: global)
        for (delta, n) in zip(deltas, examples) { try krum.fold(delta, examples: n) }
        let single = try krum.aggregateDelta()
        #expect(krum.selected == [ranking[0]])
        #expect(single == deltas[ranking[0]])

        var multi = try RoundAggregator(strategy: .krum(byzantine: 2, keep: 5), global: global)
        for (delta, n) in zip(deltas, examples) {
            try multi.fold(try SafetensorsFile(bytes: try Safetensors.encode(delta)), examples: n)
        }
        let averaged = try multi.aggregateDelta()
        let chosen = try #require(multi.selected)
        #expect(chosen == Array(ranking.prefix(5)))
        #expect(!chosen.contains(2) && !chosen.contains(6))
        expectClose(averaged, Reference.weightedMean(chosen.map { deltas[$0] }, chosen.map { examples[$0] }))
    }

    @Test func invalidParametersAreRejected() throws {
        let global = ModelWeights([.init(zeros: "w", shape: [2])])
        let cases: [(AggregationStrategy, String)] = [
            (.trimmedMean(beta: 0.5), "trimmedMean: expected beta in [0, 0.5), found 0.5"),
            (.trimmedMean(beta: -0.1), "trimmedMean: expected beta in [0, 0.5), found -0.1"),
            (.fedProx(mu: -1), "fedProx: expected mu ≥ 0, found -1.0"),
            (.fedAvgM(serverLearningRate: 1, momentum: 1), "fedAvgM: expected momentum in [0, 1), found 1.0"),
            (
                .fedAdam(serverLearningRate: 0, beta1: 0.9, beta2: 0.99, tau: 1e-9),
                "fedAdam: expected serverLearningRate > 0, found 0.0"
            ),
            (
                .fedAdam(serverLearningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 0),
                "fedAdam: expected tau > 0, found 0.0"
            ),
            (.krum(byzantine: -1, keep: 1), "krum: expected byzantine ≥ 0, found -1"),
            (.krum(byzantine: 1, keep: 0), "krum: expected keep ≥ 1, found 0"),
        ]
        for (strategy, message) in cases {
            let error = #expect(throws: FederationError.self) {
                try RoundAggregator(strategy: strategy, global: global)
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message == message)
        }

        let update = ModelWeights([.init(name: "w", shape: [2], values: [1, 2])])
        var krum = try RoundAggregator(strategy: .krum(byzantine: 1, keep: 1), global: global)
        for _ in 0..<4 { try krum.fold(update, examples: 1) }
        let krumError = #expect(throws: FederationError.self) { try krum.aggregateDelta() }
        #expect(krumError?.message == "krum: expected more than 2f + 2 = 4 updates for f = 1, found 4")
        var multi = try RoundAggregator(strategy: .krum(byzantine: 1, keep: 5), global: global)
        for _ in 0..<5 { try multi.fold(update, examples: 1) }
        let keepError = #expect(throws: FederationError.self) { try multi.aggregateDelta() }
        #expect(keepError?.message == "krum: expected keep ≤ n − f = 4, found keep = 5")

        var zero = try RoundAggregator(strategy: .fedAvg, global: global)
        try zero.fold(update, examples: 0)
        let zeroError = #expect(throws: FederationError.self) { try zero.aggregateDelta() }
        #expect(zeroError?.message == "1 updates with 0 examples in all: expected a positive total weight")

        var empty = try RoundAggregator(strategy: .fedMedian, global: global)
        let emptyError = #expect(throws: FederationError.self) { try empty.aggregateDelta() }
        #expect(emptyError?.message == "aggregation: expected at least 1 update, found none")

        var negative = try RoundAggregator(strategy: .fedAvg, global: global)
        let negativeError = #expect(throws: FederationError.self) { try negative.fold(update, examples: -3) }
        #expect(negativeError?.message == "update 0: expected an example count ≥ 0, found -3")

        var robust = try RoundAggregator(strategy: .fedMedian, global: global)
        let sumError = #expect(throws: FederationError.self) { try robust.foldSum([1, 2], totalExamples: 2) }
        #expect(sumError?.code == .invalidConfiguration)
        var mean = try RoundAggregator(strategy: .fedAvg, global: global)
        let lengthError = #expect(throws: FederationError.self) { try mean.foldSum([1, 2, 3], totalExamples: 2) }
        #expect(lengthError?.message == "secure-aggregation sum: expected 2 values (the model's parameters), found 3")
    }

    @Test func incompatibleUpdatesAreRejectedNamingTheTensor() throws {
        let global = ModelWeights([.init(zeros: "w", shape: [2, 2]), .init(zeros: "b", shape: [2])])
        var aggregator = try RoundAggregator(strategy: .fedAvg, global: global)
        let reshaped = try SafetensorsFile(
            bytes: try Safetensors.encode(
                ModelWeights([.init(zeros: "w", shape: [4]), .init(zeros: "b", shape: [2])])
            ),
            source: "site-a.safetensors"
        )
        let shapeError = #expect(throws: FederationError.self) { try aggregator.fold(reshaped, examples: 1) }
        #expect(shapeError?.code == .incompatibleUpdate)
        #expect(shapeError?.message == "site-a.safetensors: tensor w: expected shape [2, 2], found [4]")

        let half = try SafetensorsFile(
            bytes: try Safetensors.encode([
                try SafetensorsTensor(name: "w", dtype: .f16, shape: [2, 2], data: [UInt8](repeating: 0, count: 8)),
                try SafetensorsTensor(name: "b", shape: [2], floats: [0, 0]),
            ]),
            source: "site-b"
        )
        let dtypeError = #expect(throws: FederationError.self) { try aggregator.fold(half, examples: 1) }
        #expect(dtypeError?.message == "site-b: tensor w: expected dtype F32, found F16")

        let memoryError = #expect(throws: FederationError.self) {
            try aggregator.fold(
                ModelWeights([.init(zeros: "b", shape: [2]), .init(zeros: "w", shape: [2, 2])]),
                examples: 1
            )
        }
        #expect(memoryError?.message == "update 0: expected the model's tensors, found tensor b where w was expected")
        #expect(aggregator.updateCount == 0)

        var state = ServerOptimizerState()
        state.firstMoment = ModelWeights([.init(zeros: "w", shape: [2, 2])])
        let stateError = #expect(throws: FederationError.self) {
            try AggregationStrategy.fedAvgM().apply(meanDelta: global, to: global, state: &state)
        }
        #expect(
            stateError?.message
                == "server optimizer state: firstMoment: expected the model's tensors, found no tensor b"
        )
    }

    @Test func nonFiniteUpdatesAreCaughtAtTheEnd() throws {
        let global = ModelWeights([.init(zeros: "w", shape: [3])])
        var aggregator = try RoundAggregator(strategy: .fedAvg, global: global)
        try aggregator.fold(ModelWeights([.init(name: "w", shape: [3], values: [1, .nan, 0])]), examples: 2)
        let error = #expect(throws: FederationError.self) { try aggregator.aggregateDelta() }
        #expect(
            error?.message.hasPrefix("aggregate of 1 updates: tensor w element 1: expected a finite value, found nan")
                == true
        )

        // A median of five where one site sends NaN still yields the honest median.
        var median = try RoundAggregator(strategy: .fedMedian, global: global)
        for values: [Float] in [[1, 1, 1], [2, 2, 2], [.nan, 3, 3], [4, 4, 4], [5, 5, 5]] {
            try median.fold(ModelWeights([.init(name: "w", shape: [3], values: values)]), examples: 1)
        }
        #expect(try median.aggregateDelta().tensors[0].values == [4, 3, 3])
    }

    @Test func strategiesRoundTripThroughCodable() throws {
        let all: [AggregationStrategy] = [
            .fedAvg, .fedProx(mu: 0.01), .fedAvgM(), .fedAdam(), .fedMedian, .trimmedMean(beta: 0.1),
            .krum(byzantine: 2, keep: 3),
        ]
        let decoded = try JSONDecoder().decode([AggregationStrategy].self, from: JSONEncoder().encode(all))
        #expect(decoded == all)
        #expect(all.map(\.isStreaming) == [true, true, true, true, false, false, false])
    }

    @Test func optimizerStateRejectsForeignFiles() throws {
        let global = ModelWeights([.init(zeros: "w", shape: [2])])
        let foreign = try SafetensorsFile(bytes: try Safetensors.encode(global), source: "state.safetensors")
        let error = #expect(throws: FederationError.self) {
            try ServerOptimizerState(safetensors: foreign, matching: global)
        }
        #expect(
            error?.message == "state.safetensors: expected metadata format \"sovereign-server-optimizer\", found none"
        )

        var state = ServerOptimizerState()
        state.round = 3
        state.firstMoment = ModelWeights([.init(name: "w", shape: [2], values: [1, 2])])
        let other = ModelWeights([.init(zeros: "w", shape: [3])])
        let shapeError = #expect(throws: FederationError.self) {
            try ServerOptimizerState(
                safetensors: try SafetensorsFile(bytes: try state.encoded(), source: "s"),
                matching: other
            )
        }
        #expect(shapeError?.message == "s: tensor m/w: expected shape [3], found [2]")
        #expect(
            try ServerOptimizerState(safetensors: try SafetensorsFile(bytes: try state.encoded()), matching: global)
                == state
        )
    }
}
