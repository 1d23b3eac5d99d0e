import SovereignBase
import Testing

@testable import SovereignFederation

struct QuantisationTests {
    @Test func extremeValuesOnEverySiteDoNotWrap() throws {
        for n in [1, 2, 3, 10, 255, 1000] {
            let q = try Quantisation(clip: 0.5, sites: n)
            for value in [Float(0.5), -0.5, 7, -7, .infinity, -.infinity] {
                let word = q.quantise([value])[0]
                let sum = [UInt32](repeating: word, count: n).reduce(0, &+)
                let expected = Double(n) * min(max(Double(value), -0.5), 0.5)
                #expect(
                    abs(q.dequantiseSumAsDouble([sum])[0] - expected) <= Double(n) / (2 * q.scale),
                    "n \(n) value \(value)"
                )
            }
        }
    }

    @Test func roundingErrorIsWithinHalfAStep() throws {
        let q = try Quantisation(clip: 3, sites: 7)
        var generator = SecAggGenerator(seed: 3)
        let values = (0..<10_000).map { _ in Double.random(in: -3...3, using: &generator) }
        let decoded = q.dequantiseSumAsDouble(q.quantise(values))
        for (value, back) in zip(values, decoded) { #expect(abs(value - back) <= 0.5 / q.scale + 1e-15) }
        #expect(q.quantise([Double.nan]) == [0])
    }

    @Test func stochasticRoundingIsUnbiased() throws {
        // A coarse encoding (clip 1, 2^20 sites: about 2048 steps per unit) makes the rounding visible.
        let q = try Quantisation(clip: 1, sites: 1 << 20)
        var generator = SecAggGenerator(seed: 99)
        let value = 0.3 / q.scale + 17 / q.scale  // 17.3 steps
        let words = q.quantise([Double](repeating: value, count: 20_000), using: &generator)
        let steps = words.map { Double(Int32(bitPattern: $0)) }
        #expect(Set(steps) == [17, 18])
        let mean = steps.reduce(0, +) / Double(steps.count)
        // Standard error of the mean: sqrt(0.3·0.7/20000) ≈ 0.0032; allow five of them.
        #expect(abs(mean - 17.3) < 0.017)
    }

    @Test func parametersAreValidated() {
        for (clip, sites) in [(0.0, 3), (-1, 3), (.infinity, 3), (1, 0), (1, (1 << 20) + 1)] {
            let error = #expect(throws: FederationError.self) { try Quantisation(clip: clip, sites: sites) }
            #expect(error?.code == .invalidConfiguration)
        }
    }
}
