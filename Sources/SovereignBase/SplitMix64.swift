import Foundation

/// Sovereign's seeded random generator for simulations, random fleets and benchmark fleets (SplitMix64):
/// the same seed gives the same numbers on every platform and Swift version. It also fills the state of
/// ``SeededGenerator``. Nothing in Sovereign uses the global generator.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Makes a generator from a seed.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform draw in the open interval (0, 1).
    public mutating func nextUnit() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }

    /// A standard normal draw (Box–Muller).
    public mutating func nextGaussian() -> Double {
        let u = nextUnit()
        let v = nextUnit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
