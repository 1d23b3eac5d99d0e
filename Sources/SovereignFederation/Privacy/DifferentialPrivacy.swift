/// Differential privacy for federated updates: each update is clipped to an L2 norm C over all its
/// tensors and Gaussian noise N(0, (σ·C)²) is added — by the coordinator to the aggregate sum (central;
/// with secure aggregation the sites clip and the coordinator noises the sum before dividing) or by each
/// site to its own clipped update (local).
///
/// The privacy spent over rounds is tracked by ``RDPAccountant``.
public struct DifferentialPrivacy: Sendable, Hashable, Codable {
    /// Who adds the noise.
    public enum Mode: String, Sendable, Hashable, Codable {
        /// The coordinator noises the sum of the clipped updates once per round.
        case central
        /// Each site noises its own clipped update.
        case local
    }

    /// Who adds the noise.
    public var mode: Mode
    /// C: the L2 bound every update is clipped to, over all its tensors together; > 0.
    public var clipNorm: Double
    /// σ: the noise's standard deviation in units of `clipNorm`; ≥ 0 (0 gives no privacy).
    public var noiseMultiplier: Double
    /// δ: the target failure probability of the (ε, δ) guarantee; 0 < δ < 1.
    public var delta: Double

    /// Makes and checks a configuration.
    /// - Throws: ``FederationError`` `.invalidConfiguration` naming the bad field.
    public init(mode: Mode, clipNorm: Double, noiseMultiplier: Double, delta: Double) throws {
        self.mode = mode
        self.clipNorm = clipNorm
        self.noiseMultiplier = noiseMultiplier
        self.delta = delta
        try validate()
    }

    /// Checks the fields (a decoded configuration has not been checked yet).
    /// - Throws: ``FederationError`` `.invalidConfiguration` naming the bad field.
    public func validate() throws {
        guard clipNorm.isFinite, clipNorm > 0 else {
            throw FederationError(
                .invalidConfiguration,
                "differential privacy: clipNorm: expected a finite value > 0, found \(clipNorm)"
            )
        }
        guard noiseMultiplier.isFinite, noiseMultiplier >= 0 else {
            throw FederationError(
                .invalidConfiguration,
                "differential privacy: noiseMultiplier: expected a finite value ≥ 0, found \(noiseMultiplier)"
            )
        }
        guard delta > 0, delta < 1 else {
            throw FederationError(
                .invalidConfiguration,
                "differential privacy: delta: expected 0 < delta < 1, found \(delta)"
            )
        }
    }

    /// σ·C: the standard deviation of the noise added to each coordinate of a sum (central) or an
    /// update (local).
    public var noiseStandardDeviation: Double { noiseMultiplier * clipNorm }

    /// Clips `update` to `clipNorm` and, in local mode, adds this site's noise.
    /// - Parameters:
    ///   - update: The site's update (Δ, or nᵢΔᵢ with a public bound on nᵢ folded into `clipNorm`).
    ///   - generator: The noise source (local mode only; 32 bytes are drawn to key the noise stream).
    /// - Returns: The update's L2 norm before clipping.
    /// - Complexity: O(parameters).
    @discardableResult
    public func privatiseUpdate(
        _ update: inout ModelWeights,
        using generator: inout some RandomNumberGenerator
    )
        -> Double
    {
        let norm = Self.clip(&update, to: clipNorm)
        if mode == .local, noiseMultiplier > 0 {
            GaussianNoise.add(to: &update, standardDeviation: noiseStandardDeviation, using: &generator)
        }
        return norm
    }

    /// In central mode, adds N(0, (σ·C)²) to every coordinate of the sum of clipped updates (before it is
    /// divided into an average); in local mode does nothing, the sites having noised already.
    /// - Complexity: O(parameters).
    public func noiseAggregate(_ sum: inout ModelWeights, using generator: inout some RandomNumberGenerator) {
        if mode == .central, noiseMultiplier > 0 {
            GaussianNoise.add(to: &sum, standardDeviation: noiseStandardDeviation, using: &generator)
        }
    }

    /// The L2 norm over all tensors of `weights`, accumulated in double precision.
    /// - Complexity: O(parameters).
    public static func l2Norm(_ weights: ModelWeights) -> Double {
        var sum = 0.0
        for tensor in weights.tensors {
            tensor.values.withUnsafeBufferPointer { values in
                // Eight partial sums so the loop vectorises and rounding stays small.
                var partial = SIMD8<Double>()
                var k = 0
                while k + 8 <= values.count {
                    let v = SIMD8<Double>(
                        Double(values[k]),
                        Double(values[k + 1]),
                        Double(values[k + 2]),
                        Double(values[k + 3]),
                        Double(values[k + 4]),
                        Double(values[k + 5]),
                        Double(values[k + 6]),
                        Double(values[k + 7])
                    )
                    partial += v * v
                    k += 8
                }
                while k < values.count {
                    sum += Double(values[k]) * Double(values[k])
                    k += 1
                }
                sum += partial.sum()
            }
        }
        return sum.squareRoot()
    }

    /// Scales `weights` so its L2 norm over all tensors is at most `norm`.
    /// - Parameters:
    ///   - weights: The update to clip in place.
    ///   - norm: The bound; > 0.
    /// - Returns: The L2 norm before clipping (infinite or NaN if a value was; such an update is zeroed,
    ///   which is within any bound).
    /// - Complexity: O(parameters).
    @discardableResult
    public static func clip(_ weights: inout ModelWeights, to norm: Double) -> Double {
        let before = l2Norm(weights)
        guard before.isFinite else {
            for i in weights.tensors.indices {
                weights.tensors[i].values = [Float](repeating: 0, count: weights.tensors[i].values.count)
            }
            return before
        }
        if before > norm {
            let factor = Float(norm / before)
            for i in weights.tensors.indices {
                weights.tensors[i].values.withUnsafeMutableBufferPointer { values in
                    for k in values.indices { values[k] *= factor }
                }
            }
            // Float rounding may leave the norm a hair above the bound; shrink by one ulp-scale step if so.
            if l2Norm(weights) > norm {
                for i in weights.tensors.indices {
                    weights.tensors[i].values.withUnsafeMutableBufferPointer { values in
                        for k in values.indices { values[k] *= 1 - Float.ulpOfOne * 4 }
                    }
                }
            }
        }
        return before
    }
}
