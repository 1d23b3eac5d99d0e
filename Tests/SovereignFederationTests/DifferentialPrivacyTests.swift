import Foundation
import SovereignBase
import Testing

@testable import SovereignFederation

struct DifferentialPrivacyTests {
    static func weights(_ a: [Float], _ b: [Float]) -> ModelWeights {
        ModelWeights([.init(name: "w", shape: [a.count], values: a), .init(name: "b", shape: [b.count], values: b)])
    }

    @Test func clippingUsesTheNormOverAllTensors() {
        var update = Self.weights([3, 0, 0], [0, 4])
        #expect(DifferentialPrivacy.l2Norm(update) == 5)
        #expect(DifferentialPrivacy.clip(&update, to: 1) == 5)
        #expect(DifferentialPrivacy.l2Norm(update) <= 1)
        #expect(abs(update.tensors[0].values[0] - 0.6) < 1e-6)
        #expect(abs(update.tensors[1].values[1] - 0.8) < 1e-6)
        var small = Self.weights([0.1], [0.2])
        #expect(abs(DifferentialPrivacy.clip(&small, to: 1) - 0.05.squareRoot()) < 1e-7)
        #expect(small == Self.weights([0.1], [0.2]))
        var broken = Self.weights([.nan], [1])
        #expect(DifferentialPrivacy.clip(&broken, to: 1).isNaN)
        #expect(broken == Self.weights([0], [0]))
    }

    @Test func clippedNormNeverExceedsTheBound() {
        var generator = SecAggGenerator(seed: 4)
        for _ in 0..<200 {
            let a = (0..<1000).map { _ in Float.random(in: -10...10, using: &generator) }
            var update = Self.weights(a, [1])
            let bound = Double.random(in: 0.01...50, using: &generator)
            DifferentialPrivacy.clip(&update, to: bound)
            #expect(DifferentialPrivacy.l2Norm(update) <= bound)
        }
    }

    @Test func gaussianNoiseHasTheRightMomentsAndIsReproducible() {
        var generator = SecAggGenerator(seed: 12)
        let z = GaussianNoise.samples(1_000_001, using: &generator)
        let mean = z.reduce(0, +) / Double(z.count)
        let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(z.count - 1)
        let fourth = z.reduce(0) { $0 + pow($1 - mean, 4) } / Double(z.count) / (variance * variance)
        // Standard errors at 10^6 samples: mean 0.001, variance 0.0014, kurtosis 0.005.
        #expect(abs(mean) < 0.005)
        #expect(abs(variance - 1) < 0.007)
        #expect(abs(fourth - 3) < 0.03)
        // Tail mass beyond 2σ: 4.55%.
        let tail = Double(z.filter { abs($0) > 2 }.count) / Double(z.count)
        #expect(abs(tail - 0.0455) < 0.002)
        // Beyond 3.5σ (past the ziggurat's base layer at 3.44σ): 4.65·10^-4, about 465 ± 22 samples.
        let farTail = Double(z.filter { abs($0) > 3.5 }.count) / Double(z.count)
        #expect(abs(farTail - 4.65e-4) < 1e-4)
        var again = SecAggGenerator(seed: 12)
        #expect(GaussianNoise.samples(100, using: &again) == Array(z.prefix(100)))
        var other = SecAggGenerator(seed: 13)
        #expect(GaussianNoise.samples(100, using: &other) != Array(z.prefix(100)))
    }

    @Test func centralNoisesTheSumAndLocalNoisesTheUpdate() throws {
        let central = try DifferentialPrivacy(mode: .central, clipNorm: 2, noiseMultiplier: 0.5, delta: 1e-5)
        let local = try DifferentialPrivacy(mode: .local, clipNorm: 2, noiseMultiplier: 0.5, delta: 1e-5)
        var generator = SecAggGenerator(seed: 1)
        let zeros = ModelWeights([.init(zeros: "w", shape: [200_000])])
        var update = zeros
        #expect(central.privatiseUpdate(&update, using: &generator) == 0)
        #expect(update == zeros)
        #expect(local.privatiseUpdate(&update, using: &generator) == 0)
        let spread = DifferentialPrivacy.l2Norm(update) / (200_000.0).squareRoot()
        #expect(abs(spread - 1) < 0.01)  // σ·C = 1
        var sum = zeros
        local.noiseAggregate(&sum, using: &generator)
        #expect(sum == zeros)
        central.noiseAggregate(&sum, using: &generator)
        #expect(abs(DifferentialPrivacy.l2Norm(sum) / (200_000.0).squareRoot() - 1) < 0.01)
    }

    @Test func configurationIsValidated() throws {
        for (c, sigma, delta, field) in [
            (0.0, 1.0, 1e-5, "clipNorm"), (-1, 1, 1e-5, "clipNorm"), (.nan, 1, 1e-5, "clipNorm"),
            (1, -0.1, 1e-5, "noiseMultiplier"), (1, .infinity, 1e-5, "noiseMultiplier"),
            (1, 1, 0, "delta"), (1, 1, 1, "delta"), (1, 1, -1e-5, "delta"),
        ] {
            let error = #expect(throws: FederationError.self) {
                try DifferentialPrivacy(mode: .central, clipNorm: c, noiseMultiplier: sigma, delta: delta)
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains(field) == true)
        }
        let config = try DifferentialPrivacy(mode: .local, clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5)
        #expect(try JSONDecoder().decode(DifferentialPrivacy.self, from: JSONEncoder().encode(config)) == config)
        #expect(config.noiseStandardDeviation == 1.1)
    }
}

struct RDPAccountantTests {
    @Test func defaultOrdersAreOpacuss() {
        let orders = RDPAccountant.defaultOrders
        #expect(orders.count == 99 + 52)
        #expect(orders.first == 1.1)
        #expect(orders[98] == 10.9)
        #expect(orders[99] == 12)
        #expect(orders.last == 63)
    }

    /// With q = 1 the mechanism is the plain Gaussian: RDP α/(2σ²) per round, and ε is the minimum of
    /// T·α/(2σ²) + log((α−1)/α) − (log δ + log α)/(α − 1), computed here term by term.
    @Test func fullParticipationMatchesTheClosedForm() throws {
        for (sigma, steps, delta) in [(1.0, 10, 1e-5), (5.0, 100, 1e-5), (0.7, 3, 1e-6)] {
            var accountant = try RDPAccountant()
            for _ in 0..<steps { try accountant.step(noiseMultiplier: sigma, sampleRate: 1) }
            for (alpha, value) in zip(accountant.orders, accountant.rdp) {
                #expect(abs(value - Double(steps) * alpha / (2 * sigma * sigma)) < 1e-9 * value)
            }
            let closed = RDPAccountant.defaultOrders.map { alpha in
                (
                    Double(steps) * alpha / (2 * sigma * sigma) + log((alpha - 1) / alpha) - (log(delta) + log(alpha))
                        / (alpha - 1),
                    alpha
                )
            }.min { $0.0 < $1.0 }!
            let spent = try accountant.privacySpent(delta: delta)
            #expect(abs(spent.epsilon - closed.0) < 1e-12)
            #expect(spent.bestOrder == closed.1)
            #expect(spent.delta == delta)
        }
    }

    /// Reference values from Opacus 1.6.0's `opacus/accountants/analysis/rdp.py`:
    /// `r = compute_rdp(q=q, noise_multiplier=σ, steps=T, orders=DEFAULT_ALPHAS)` then
    /// `get_privacy_spent(orders=DEFAULT_ALPHAS, rdp=r, delta=δ)`, with DEFAULT_ALPHAS as in
    /// `RDPAccountant.DEFAULT_ALPHAS`; `rdp[k]` are entries of `r` (orders 1.5, 2.5 and 32).
    @Test(arguments: [
        (0.01, 1.1, 1000, 1e-5, 1.7117700912203435, 9.6, 0.09554528557684942, 0.16207740933199663, 8469.416433675926),
        (
            256.0 / 60000, 1.1, 14062, 1e-5, 2.5965558689607486, 8.1, 0.24580073024322605, 0.4128331840729882,
            106733.22852440657
        ),
        (0.1, 0.8, 50, 1e-5, 9.233989368735447, 2.7, 1.1652523124860183, 2.9043785541858327, 1131.1568984261137),
        (0.5, 2.0, 100, 1e-6, 16.78161210440571, 2.7, 4.981937763232103, 8.862984552430168, 328.4938620537329),
        (1.0, 1.0, 10, 1e-5, 19.05359753163139, 2.5, 7.5, 12.5, 160.0),
        (1.0, 5.0, 100, 1e-5, 10.725509696418232, 3.3, 3.0, 5.0, 64.0),
        (0.2, 1.5, 1, 1e-5, 1.4124697325167588, 9.0, 0.015879133227391436, 0.029024050601048054, 5.449760134617435),
    ])
    func sampledGaussianMatchesOpacus(
        q: Double,
        sigma: Double,
        steps: Int,
        delta: Double,
        epsilon: Double,
        bestOrder: Double,
        rdp15: Double,
        rdp25: Double,
        rdp32: Double
    ) throws {
        var accountant = try RDPAccountant()
        try accountant.step(noiseMultiplier: sigma, sampleRate: q, steps: steps)
        let spent = try accountant.privacySpent(delta: delta)
        #expect(abs(spent.epsilon - epsilon) < 1e-9 * epsilon)
        #expect(spent.bestOrder == bestOrder)
        let rdp = accountant.rdp
        #expect(abs(rdp[4] - rdp15) < 1e-9 * rdp15)
        #expect(abs(rdp[14] - rdp25) < 1e-9 * rdp25)
        #expect(abs(rdp[119] - rdp32) < 1e-9 * rdp32)
    }

    /// Single orders from Opacus's `_compute_rdp(q, σ, α)`.
    @Test func singleOrdersMatchOpacus() {
        for (q, sigma, alpha, expected) in [
            (0.01, 1.1, 1.5, 9.554528557684942e-05), (0.01, 1.1, 32.0, 8.469416433675926),
            (0.3, 0.7, 2.7, 1.0213792035328664), (0.05, 4.0, 63.0, 0.006400866872627433),
            (0.99, 1.0, 3.3, 1.6370351565388688),
        ] {
            let value = RDPAccountant.rdp(noiseMultiplier: sigma, sampleRate: q, order: alpha)
            #expect(abs(value - expected) < 1e-9 * expected, "q \(q) σ \(sigma) α \(alpha): \(value)")
        }
    }

    @Test func edgeCasesAndComposition() throws {
        var accountant = try RDPAccountant()
        try accountant.step(noiseMultiplier: 1, sampleRate: 0, steps: 5)
        #expect(accountant.rdp.allSatisfy { $0 == 0 })
        try accountant.step(noiseMultiplier: 1.3, sampleRate: 0.1, steps: 3)
        var once = try RDPAccountant()
        for _ in 0..<3 { try once.step(noiseMultiplier: 1.3, sampleRate: 0.1) }
        #expect(zip(once.rdp, accountant.rdp).allSatisfy { abs($0 - $1) <= 1e-12 * $0 })
        #expect(once.steps == 3)
        var noiseless = try RDPAccountant()
        try noiseless.step(noiseMultiplier: 0, sampleRate: 1)
        #expect(try noiseless.privacySpent(delta: 1e-5).epsilon == .infinity)
        #expect(throws: FederationError.self) { try accountant.step(noiseMultiplier: -1, sampleRate: 1) }
        #expect(throws: FederationError.self) { try accountant.step(noiseMultiplier: 1, sampleRate: 1.5) }
        #expect(throws: FederationError.self) { try accountant.privacySpent(delta: 0) }
        #expect(throws: FederationError.self) { try RDPAccountant(orders: [1, 2]) }
        // More rounds never spend less.
        var growing = try RDPAccountant()
        var last = 0.0
        for _ in 0..<20 {
            try growing.step(noiseMultiplier: 1.1, sampleRate: 0.3)
            let epsilon = try growing.privacySpent(delta: 1e-5).epsilon
            #expect(epsilon > last)
            last = epsilon
        }
    }
}
