/// How features are scaled before they enter a model, in training and in evaluation alike.
///
/// Sites of one federation must scale the same way, or their updates do not describe the same model: the
/// coordinator chooses the scaling and every site uses it. Statistics are never computed per site behind
/// the caller's back; ``standardization(of:)`` computes them only when asked, from data the caller picks
/// (a public reference sample, or statistics the sites agreed on).
public enum FeatureScaling: Sendable, Hashable, Codable {
    /// Features as they are.
    case none
    /// Every feature divided by one positive constant, like 16 for the digits' 0–16 pixel counts.
    case divide(by: Float)
    /// Feature `k` becomes `(x − mean[k]) / standardDeviation[k]`.
    case standardize(mean: [Float], standardDeviation: [Float])

    /// The per-feature mean and standard deviation (population, not sample) of `data`, as a scaling; a
    /// feature that never varies gets a standard deviation of 1.
    /// - Complexity: O(`data.features.count`).
    public static func standardization(of data: TrainingData) -> FeatureScaling {
        let d = data.featureCount
        var sum = [Double](repeating: 0, count: d)
        var sumOfSquares = [Double](repeating: 0, count: d)
        for row in 0..<data.count {
            for k in 0..<d {
                let x = Double(data.features[row * d + k])
                sum[k] += x
                sumOfSquares[k] += x * x
            }
        }
        let n = Double(max(data.count, 1))
        var mean = [Float](repeating: 0, count: d)
        var deviation = [Float](repeating: 1, count: d)
        for k in 0..<d {
            let m = sum[k] / n
            let variance = max(sumOfSquares[k] / n - m * m, 0)
            mean[k] = Float(m)
            let s = Float(variance.squareRoot())
            deviation[k] = s > 0 && s.isFinite ? s : 1
        }
        return .standardize(mean: mean, standardDeviation: deviation)
    }

    /// Checks that the scaling fits `featureCount` features and has finite, usable numbers.
    /// - Throws: `FederationError` `.invalidConfiguration` naming the problem.
    public func validate(featureCount: Int) throws(FederationError) {
        switch self {
        case .none:
            return
        case .divide(let divisor):
            guard divisor.isFinite && divisor > 0 else {
                throw FederationError(
                    .invalidConfiguration,
                    "feature scaling: divide: expected a finite positive divisor, found \(divisor)"
                )
            }
        case .standardize(let mean, let deviation):
            guard mean.count == featureCount && deviation.count == featureCount else {
                throw FederationError(
                    .invalidConfiguration,
                    "feature scaling: standardize: expected \(featureCount) means and standard deviations, "
                        + "found \(mean.count) and \(deviation.count)"
                )
            }
            if let k = mean.firstIndex(where: { !$0.isFinite }) {
                throw FederationError(
                    .invalidConfiguration,
                    "feature scaling: standardize: mean[\(k)]: expected a finite number, found \(mean[k])"
                )
            }
            if let k = deviation.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
                throw FederationError(
                    .invalidConfiguration,
                    "feature scaling: standardize: standardDeviation[\(k)]: expected a finite positive number, "
                        + "found \(deviation[k])"
                )
            }
        }
    }

    /// Copies one example's `count` features from `source` to `destination`, scaled.
    func scale(
        _ source: UnsafePointer<Float>,
        into destination: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        switch self {
        case .none:
            destination.update(from: source, count: count)
        case .divide(let divisor):
            for k in 0..<count { destination[k] = source[k] / divisor }
        case .standardize(let mean, let deviation):
            mean.withUnsafeBufferPointer { mean in
                deviation.withUnsafeBufferPointer { deviation in
                    for k in 0..<count { destination[k] = (source[k] - mean[k]) / deviation[k] }
                }
            }
        }
    }
}
