/// Fixed-point encoding of clipped real vectors as 32-bit words for secure aggregation, chosen so that the
/// sum over all sites cannot wrap around mod 2^32.
///
/// Each value is clipped to [−clip, clip], multiplied by ``scale`` and rounded to an integer q with
/// |q| ≤ ⌊(2^31 − 1) / sites⌋, stored as the two's-complement bit pattern. A sum of at most `sites` such
/// words, read back as a signed 32-bit integer, is exact; ``dequantiseSum(_:)`` divides it by the scale.
///
/// Error: round-to-nearest is off by at most 1/(2·scale) per value, so a sum over m sites is within
/// m/(2·scale) of the sum of the clipped values (stochastic rounding: below m/scale, and unbiased); with
/// clip 1 and 10 sites, scale ≈ 2.1·10^8 and the bound is 2.3·10^-8 — below float32's own resolution.
/// NaN counts as 0.
public struct Quantisation: Sendable, Hashable, Codable {
    /// Values are clipped elementwise to [−clip, clip].
    public let clip: Double
    /// The most inputs that may be summed.
    public let sites: Int
    /// Integer steps per unit: ⌊(2^31 − 1) / sites⌋ / clip.
    public let scale: Double
    /// The largest |q| of one quantised value: ⌊(2^31 − 1) / sites⌋.
    public let bound: Int32

    /// Makes the encoding for sums of up to `sites` vectors with values in [−clip, clip].
    /// - Parameters:
    ///   - clip: The clipping bound; finite and > 0.
    ///   - sites: The most vectors to be summed; 1…2^20 (so each value keeps at least 11 bits).
    /// - Throws: ``FederationError`` `.invalidConfiguration` naming the bad parameter.
    public init(clip: Double, sites: Int) throws {
        guard clip.isFinite, clip > 0 else {
            throw FederationError(
                .invalidConfiguration,
                "quantisation: clip: expected a finite value > 0, found \(clip)"
            )
        }
        guard (1...(1 << 20)).contains(sites) else {
            throw FederationError(.invalidConfiguration, "quantisation: sites: expected 1…1048576, found \(sites)")
        }
        self.clip = clip
        self.sites = sites
        self.bound = Int32(Int(Int32.max) / sites)
        self.scale = Double(bound) / clip
    }

    @inlinable @inline(__always)
    func scaled(_ value: Double) -> Double {
        value.isNaN ? 0 : min(max(value, -clip), clip) * scale
    }

    @inlinable @inline(__always)
    func word(_ q: Double) -> UInt32 {
        UInt32(bitPattern: Int32(min(max(q, -Double(bound)), Double(bound))))
    }

    /// Clips and rounds each value to the nearest step.
    /// - Returns: One word per value.
    /// - Complexity: O(values.count).
    @inlinable
    public func quantise<Values: Collection>(_ values: Values) -> [UInt32] where Values.Element: BinaryFloatingPoint {
        values.map { word(scaled(Double($0)).rounded()) }
    }

    /// Clips and rounds each value stochastically: up with probability equal to the fraction, so the
    /// expected word is exactly the scaled value.
    /// - Parameter generator: The source of the rounding decisions.
    /// - Returns: One word per value.
    /// - Complexity: O(values.count).
    @inlinable
    public func quantise<Values: Collection>(
        _ values: Values,
        using generator: inout some RandomNumberGenerator
    ) -> [UInt32] where Values.Element: BinaryFloatingPoint {
        values.map { value in
            let q = scaled(Double(value))
            let floor = q.rounded(.down)
            // 53 random bits give a uniform double in [0, 1).
            let u = Double(generator.next() >> 11) * 0x1p-53
            return word(u < q - floor ? floor + 1 : floor)
        }
    }

    /// Decodes a sum of at most `sites` quantised vectors.
    /// - Returns: The sum of the clipped values, to within the error stated above.
    /// - Complexity: O(sum.count).
    @inlinable
    public func dequantiseSum(_ sum: [UInt32]) -> [Float] {
        sum.map { Float(Double(Int32(bitPattern: $0)) / scale) }
    }

    /// Decodes a sum of at most `sites` quantised vectors in double precision.
    /// - Complexity: O(sum.count).
    @inlinable
    public func dequantiseSumAsDouble(_ sum: [UInt32]) -> [Double] {
        sum.map { Double(Int32(bitPattern: $0)) / scale }
    }
}
