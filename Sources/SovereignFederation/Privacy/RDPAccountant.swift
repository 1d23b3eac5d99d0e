import Foundation

/// The privacy spent so far, as an (ε, δ) guarantee.
public struct PrivacySpent: Sendable, Hashable, Codable {
    /// ε; infinite with no noise (which JSONEncoder refuses unless told how to write non-finite numbers).
    public var epsilon: Double
    /// δ, as asked for.
    public var delta: Double
    /// The Rényi order α that gave the smallest ε (NaN when every order gave an infinite one).
    public var bestOrder: Double

    /// Makes the record.
    public init(epsilon: Double, delta: Double, bestOrder: Double) {
        self.epsilon = epsilon
        self.delta = delta
        self.bestOrder = bestOrder
    }
}

/// A Rényi differential privacy accountant for the (sampled) Gaussian mechanism, as Opacus's
/// `RDPAccountant` and TF-Privacy's `compute_rdp`/`get_privacy_spent` do it (Mironov 2017; Mironov,
/// Talwar, Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism").
///
/// Each round adds the mechanism's RDP at every order (composition); ``privacySpent(delta:)`` converts to
/// (ε, δ) with the conversion of Balle et al. 2020 (Theorem 21), as Opacus 1.x does:
/// ε = min over α of rdp(α) − (log δ + log α)/(α − 1) + log((α − 1)/α).
///
/// With every site taking part in every round (sample rate q = 1) the RDP of one round is α/(2σ²); with
/// q < 1 it is log(A_α)/(α − 1), A_α from the binomial expansion at integer α and the two-sided series
/// at fractional α.
public struct RDPAccountant: Sendable, Hashable {
    /// Opacus's and TF-Privacy's default orders: 1.1, 1.2, …, 10.9, then 12, 13, …, 63.
    public static let defaultOrders: [Double] = (1..<100).map { 1 + Double($0) / 10 } + (12..<64).map(Double.init)

    /// The Rényi orders tracked, each > 1.
    public let orders: [Double]
    /// The accumulated RDP at each order.
    public private(set) var rdp: [Double]
    /// How many mechanism steps have been composed.
    public private(set) var steps = 0

    /// Makes an accountant with nothing spent.
    /// - Parameter orders: Rényi orders, each finite and > 1; the defaults unless there is a reason.
    /// - Throws: ``FederationError`` `.invalidConfiguration` for an empty list or an order ≤ 1.
    public init(orders: [Double] = RDPAccountant.defaultOrders) throws {
        guard !orders.isEmpty, orders.allSatisfy({ $0.isFinite && $0 > 1 }) else {
            throw FederationError(
                .invalidConfiguration,
                "RDP accountant: orders: expected finite values > 1, found \(orders)"
            )
        }
        self.orders = orders
        self.rdp = [Double](repeating: 0, count: orders.count)
    }

    /// Composes `steps` runs of the sampled Gaussian mechanism.
    /// - Parameters:
    ///   - noiseMultiplier: σ: noise standard deviation over the L2 sensitivity (the clip norm); ≥ 0.
    ///   - sampleRate: q: the probability each participant (site) is in a round; 0…1.
    ///   - steps: How many rounds; ≥ 0.
    /// - Throws: ``FederationError`` `.invalidConfiguration` for parameters out of range.
    public mutating func step(noiseMultiplier: Double, sampleRate: Double, steps: Int = 1) throws {
        guard noiseMultiplier.isFinite, noiseMultiplier >= 0, (0...1).contains(sampleRate), steps >= 0 else {
            throw FederationError(
                .invalidConfiguration,
                "RDP accountant: expected σ ≥ 0, 0 ≤ q ≤ 1, steps ≥ 0, found σ = \(noiseMultiplier), q = \(sampleRate), steps = \(steps)"
            )
        }
        for i in orders.indices {
            rdp[i] +=
                Double(steps) * Self.rdp(noiseMultiplier: noiseMultiplier, sampleRate: sampleRate, order: orders[i])
        }
        self.steps += steps
    }

    /// The (ε, δ) guarantee of everything composed so far.
    /// - Parameter delta: δ; 0 < δ < 1.
    /// - Returns: The smallest ε over the orders, δ and the order that gave it.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if δ is out of range.
    public func privacySpent(delta: Double) throws -> PrivacySpent {
        guard delta > 0, delta < 1 else {
            throw FederationError(.invalidConfiguration, "RDP accountant: delta: expected 0 < δ < 1, found \(delta)")
        }
        var best = PrivacySpent(epsilon: .infinity, delta: delta, bestOrder: .nan)
        for (alpha, value) in zip(orders, rdp) {
            let epsilon = value - (log(delta) + log(alpha)) / (alpha - 1) + log((alpha - 1) / alpha)
            if !epsilon.isNaN, epsilon < best.epsilon {
                best = PrivacySpent(epsilon: epsilon, delta: delta, bestOrder: alpha)
            }
        }
        return best
    }

    /// The RDP at order α of one run of the sampled Gaussian mechanism.
    /// - Parameters:
    ///   - noiseMultiplier: σ ≥ 0 (0 gives infinity).
    ///   - sampleRate: q in 0…1 (0 gives 0, 1 gives α/(2σ²)).
    ///   - order: α > 1.
    public static func rdp(noiseMultiplier sigma: Double, sampleRate q: Double, order alpha: Double) -> Double {
        if q == 0 { return 0 }
        if sigma == 0 { return .infinity }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        if alpha.isInfinite { return .infinity }
        let logA =
            alpha.rounded() == alpha
            ? logAInteger(q: q, sigma: sigma, alpha: Int(alpha)) : logAFractional(q: q, sigma: sigma, alpha: alpha)
        return logA / (alpha - 1)
    }

    /// log A_α for integer α: log Σ_i C(α, i) q^i (1 − q)^(α − i) exp((i² − i)/(2σ²)).
    static func logAInteger(q: Double, sigma: Double, alpha: Int) -> Double {
        var logA = -Double.infinity
        for i in 0...alpha {
            let logCoefficient =
                logBinomial(Double(alpha), i) + Double(i) * log(q) + Double(alpha - i) * log(1 - q)
            logA = logAdd(logA, logCoefficient + Double(i * i - i) / (2 * sigma * sigma))
        }
        return logA
    }

    /// log A_α for fractional α: the two series of Mironov, Talwar and Zhang (Section 3.3), summed until
    /// both terms fall below e^-30, as Opacus does.
    static func logAFractional(q: Double, sigma: Double, alpha: Double) -> Double {
        var logA0 = -Double.infinity
        var logA1 = -Double.infinity
        let z0 = sigma * sigma * log(1 / q - 1) + 0.5
        var coefficient = 1.0  // C(α, i), built up as a product
        var i = 0
        // A hard cap keeps a pathological σ from looping for ever; the terms fall fast long before it.
        while i < 100_000 {
            let x = Double(i)
            let j = alpha - x
            let logCoefficient = log(abs(coefficient))
            let logT0 = logCoefficient + x * log(q) + j * log(1 - q)
            let logT1 = logCoefficient + j * log(q) + x * log(1 - q)
            let logE0 = log(0.5) + logErfc((x - z0) / (2.0.squareRoot() * sigma))
            let logE1 = log(0.5) + logErfc((z0 - j) / (2.0.squareRoot() * sigma))
            let logS0 = logT0 + (x * x - x) / (2 * sigma * sigma) + logE0
            let logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1
            if coefficient > 0 {
                logA0 = logAdd(logA0, logS0)
                logA1 = logAdd(logA1, logS1)
            } else {
                logA0 = logSubtract(logA0, logS0)
                logA1 = logSubtract(logA1, logS1)
            }
            coefficient *= (alpha - x) / (x + 1)
            i += 1
            if max(logS0, logS1) < -30 { break }
        }
        return logAdd(logA0, logA1)
    }

    static func logBinomial(_ n: Double, _ k: Int) -> Double {
        lgamma(n + 1) - lgamma(Double(k) + 1) - lgamma(n - Double(k) + 1)
    }

    static func logAdd(_ x: Double, _ y: Double) -> Double {
        let (a, b) = (min(x, y), max(x, y))
        if a == -.infinity { return b }
        return log1p(exp(a - b)) + b
    }

    /// log(e^x − e^y) for x ≥ y; as Opacus, x itself when the difference overflows, −∞ when equal.
    static func logSubtract(_ x: Double, _ y: Double) -> Double {
        if y == -.infinity { return x }
        if x <= y { return -.infinity }
        let d = expm1(x - y)
        return d.isInfinite ? x : log(d) + y
    }

    /// log(erfc(x)), accurate where erfc underflows (an asymptotic series beyond x = 25).
    static func logErfc(_ x: Double) -> Double {
        if x < 25 { return log(erfc(x)) }
        let inverse = 1 / (x * x)
        let series = 1 - inverse / 2 + 3 * inverse * inverse / 4 - 15 * inverse * inverse * inverse / 8
        return -x * x - log(x) - 0.5 * log(Double.pi) + log(series)
    }
}
