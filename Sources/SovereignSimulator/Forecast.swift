import Foundation
public import SovereignModel
public import SovereignPlanner

/// What the planner believes about each site's supply: the actual traces perturbed by a seeded forecast
/// error (a first-order autoregressive multiplier, so errors persist for hours as weather errors do).
public enum Forecast: Sendable {
    /// Correlation of the error from one step to the next.
    public static let persistence = 0.9

    /// One budget per site, with supply scaled by `1 + e(t)`, `e` an AR(1) process of standard deviation
    /// `relativeError`.
    public static func budgets(_ fleet: Fleet, grid: TimeGrid, relativeError: Double, seed: UInt64) -> [SiteBudget] {
        fleet.sites.enumerated().map { index, site in
            var rng = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
            var error = 0.0
            let innovation = relativeError * (1 - persistence * persistence).squareRoot()
            var scale = [Double](repeating: 1, count: grid.count)
            for t in 0..<grid.count {
                error = persistence * error + innovation * rng.nextGaussian()
                scale[t] = max(0, 1 + error)
            }
            return SiteBudget(site: site, grid: grid, supplyScale: scale)
        }
    }
}

/// SplitMix64 with a Box–Muller normal draw; the simulator's only source of randomness.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform draw in (0, 1).
    mutating func nextUnit() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }

    mutating func nextGaussian() -> Double {
        let u = nextUnit()
        let v = nextUnit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
