import Benchmark
import SovereignBase
import SovereignFederation

// Secure aggregation and differential privacy at 25M parameters: one site's masking (9 pairwise masks
// and its self mask, as in a 10-site round), one mask stream alone, the coordinator's unmasking with and
// without a dropped site, quantisation and Gaussian noise.
//
// Rounds are prepared in the closure outside the measured span (key exchange and shares take
// milliseconds); only the named step is measured.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]

let parameters = 25_000_000
let siteCount = 10

/// SplitMix64: the same keys and inputs every run.
struct Generator: RandomNumberGenerator {
    var state: UInt64 = 2026
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

let sites = (1...siteCount).map { "site-\($0 < 10 ? "0" : "")\($0)" }
let updateValues: [Float] = {
    var generator = Generator()
    return (0..<parameters).map { _ in Float(Int64(bitPattern: generator.next()) % 1000) / 1000 }
}()
let quantisation = try! Quantisation(clip: 1, sites: siteCount)
let quantisedUpdate = quantisation.quantise(updateValues)

/// A round run through phase 1 for every site: clients ready to mask, the coordinator ready for inputs.
func preparedRound(_ generator: inout Generator) throws -> (
    [SecureAggregationClient], SecureAggregationCoordinator, [String: SecureAggregation.ShareBundle]
) {
    let setup = try SecureAggregation.Setup(
        session: "benchmark", sites: sites, threshold: siteCount / 2 + 1, vectorLength: parameters)
    var clients = try sites.map { try SecureAggregationClient(site: $0, setup: setup) }
    var coordinator = try SecureAggregationCoordinator(setup: setup)
    for i in clients.indices { try coordinator.receive(try clients[i].advertiseKeys(using: &generator)) }
    let directory = try coordinator.keyDirectory()
    for i in clients.indices { try coordinator.receive(try clients[i].shareKeys(directory, using: &generator)) }
    let bundles = try coordinator.shareBundles()
    return (clients, coordinator, bundles)
}

let benchmarks: @Sendable () -> Void = {
    let slow = Benchmark.Configuration(
        metrics: metrics, warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 5)

    Benchmark("mask stream, 25M words (one neighbour)", configuration: slow) { benchmark in
        var vector = quantisedUpdate
        let seed = (0..<32).map { UInt8($0) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try MaskGenerator.apply(seed: seed, to: &vector) }
        benchmark.stopMeasurement()
        blackHole(vector)
    }

    Benchmark("site masked input, 25M, 10 sites (9 pairwise + self mask)", configuration: slow) { benchmark in
        var generator = Generator()
        for _ in benchmark.scaledIterations {
            var (clients, _, bundles) = try preparedRound(&generator)
            var input = quantisedUpdate
            input[0] &+= 1  // a private copy, so the copy is not measured
            benchmark.startMeasurement()
            let message = try clients[0].maskedInput(bundles[sites[0]]!, input: input)
            benchmark.stopMeasurement()
            blackHole(message)
        }
    }

    for dropped in [0, 1] {
        Benchmark("coordinator unmask, 25M, 10 sites, \(dropped) dropped", configuration: slow) { benchmark in
            var generator = Generator()
            for _ in benchmark.scaledIterations {
                var (clients, coordinator, bundles) = try preparedRound(&generator)
                for i in 0..<(siteCount - dropped) {
                    try coordinator.receive(try clients[i].maskedInput(bundles[sites[i]]!, input: quantisedUpdate))
                }
                let request = try coordinator.unmaskRequest()
                for i in 0..<(siteCount - dropped) { try coordinator.receive(try clients[i].unmask(request)) }
                benchmark.startMeasurement()
                let result = try coordinator.aggregate()
                benchmark.stopMeasurement()
                blackHole(result)
            }
        }
    }

    Benchmark("quantise 25M floats", configuration: slow) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(quantisation.quantise(updateValues)) }
    }

    Benchmark("Gaussian noise on 25M floats", configuration: slow) { benchmark in
        var values = updateValues
        var generator = Generator()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            GaussianNoise.add(to: &values, standardDeviation: 0.01, using: &generator)
        }
        benchmark.stopMeasurement()
        blackHole(values)
    }

    Benchmark("clip 25M floats (L2 over all tensors)", configuration: slow) { benchmark in
        let weights = ModelWeights([.init(name: "w", shape: [parameters], values: updateValues)])
        for _ in benchmark.scaledIterations {
            var copy = weights
            copy.tensors[0].values[0] += 1
            blackHole(DifferentialPrivacy.clip(&copy, to: 1))
        }
    }
}
