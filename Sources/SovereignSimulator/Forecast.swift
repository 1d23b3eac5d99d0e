import SovereignBase
public import SovereignModel

/// What the planner believes about each site's supply: the actual traces perturbed by a seeded forecast
/// error (a first-order autoregressive multiplier, so errors persist for hours as weather errors do).
public enum Forecast: Sendable {
    /// Correlation of the error from one step to the next.
    public static let persistence = 0.9

    /// One budget per site, with supply scaled by `1 + e(t)`, `e` an AR(1) process of standard deviation
    /// `relativeError`. Without error the budgets are the traces' (their runs); with it the scaled supply
    /// differs at every step, so it is kept dense (one value a step).
    public static func budgets(_ fleet: Fleet, grid: TimeGrid, relativeError: Double, seed: UInt64) -> [SiteBudget] {
        fleet.sites.enumerated().map { index, site in
            guard relativeError > 0 else { return SiteBudget(site: site, grid: grid) }
            var rng = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
            var error = 0.0
            let innovation = relativeError * (1 - persistence * persistence).squareRoot()
            var scale = StepValues.Builder()
            for _ in 0..<grid.count {
                error = persistence * error + innovation * rng.nextGaussian()
                scale.append(max(0, 1 + error))
            }
            return SiteBudget(site: site, grid: grid, supplyScale: scale.build())
        }
    }
}
