import SovereignBase

/// A site's labelled examples for classification: `count` rows of `featureCount` floats and one class
/// label each, what the built-in trainer trains on and evaluates against.
///
/// Load one from a CSV file with ``load(contentsOf:options:)``; split and shuffle with a seed.
public struct TrainingData: Sendable, Hashable {
    /// The features, `count × featureCount` floats in row-major order (example after example).
    public let features: [Float]
    /// One label per example, each in `0..<classCount`.
    public let labels: [Int32]
    /// Features per example.
    public let featureCount: Int
    /// The number of classes the labels are drawn from. A site may hold no example of some classes; the
    /// federation's sites must agree on this number, so the coordinator passes it.
    public let classCount: Int

    /// Makes data from features and labels.
    /// - Parameters:
    ///   - features: `labels.count × featureCount` floats, row-major; all finite.
    ///   - labels: one label per example, each in `0..<classCount`.
    ///   - featureCount: features per example, at least 1.
    ///   - classCount: the number of classes, at least 1.
    /// - Throws: `FederationError` `.trainingData` when the counts do not fit together, a feature is not
    ///   finite or a label is out of range.
    /// - Complexity: O(`features.count`).
    public init(features: [Float], labels: [Int32], featureCount: Int, classCount: Int) throws(FederationError) {
        guard featureCount >= 1 else {
            throw FederationError(.trainingData, "training data: expected at least 1 feature, found \(featureCount)")
        }
        guard classCount >= 1 else {
            throw FederationError(.trainingData, "training data: expected at least 1 class, found \(classCount)")
        }
        let (expected, overflow) = labels.count.multipliedReportingOverflow(by: featureCount)
        guard !overflow, expected == features.count else {
            throw FederationError(
                .trainingData,
                "training data: expected \(labels.count) × \(featureCount) features, found \(features.count)"
            )
        }
        if let index = features.firstIndex(where: { !$0.isFinite }) {
            throw FederationError(
                .trainingData,
                "training data: example \(index / featureCount), feature \(index % featureCount): "
                    + "expected a finite number, found \(features[index])"
            )
        }
        if let index = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw FederationError(
                .trainingData,
                "training data: example \(index): expected a label in 0..<\(classCount), found \(labels[index])"
            )
        }
        self.init(unchecked: features, labels: labels, featureCount: featureCount, classCount: classCount)
    }

    init(unchecked features: [Float], labels: [Int32], featureCount: Int, classCount: Int) {
        self.features = features
        self.labels = labels
        self.featureCount = featureCount
        self.classCount = classCount
    }

    /// The number of examples.
    public var count: Int { labels.count }

    /// How many examples each class has, `classCount` long.
    /// - Complexity: O(`count`).
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// The examples at `indices`, in that order (an index may repeat).
    /// - Precondition: every index is in `0..<count`.
    /// - Complexity: O(number of indices × `featureCount`).
    public func subset(_ indices: some Sequence<Int>) -> TrainingData {
        var newFeatures: [Float] = []
        var newLabels: [Int32] = []
        newFeatures.reserveCapacity(indices.underestimatedCount * featureCount)
        newLabels.reserveCapacity(indices.underestimatedCount)
        for index in indices {
            precondition(index >= 0 && index < count, "subset: index \(index) is outside 0..<\(count)")
            newFeatures.append(contentsOf: features[(index * featureCount)..<((index + 1) * featureCount)])
            newLabels.append(labels[index])
        }
        return TrainingData(
            unchecked: newFeatures,
            labels: newLabels,
            featureCount: featureCount,
            classCount: classCount
        )
    }

    /// The examples in a random order drawn from `seed` (the same seed gives the same order everywhere).
    /// - Complexity: O(`features.count`).
    public func shuffled(seed: UInt64) -> TrainingData {
        var order = Array(0..<count)
        var generator = SeededGenerator(seed: seed)
        generator.shuffle(&order)
        return subset(order)
    }

    /// Splits the examples at random into a training and a test part.
    /// - Parameters:
    ///   - testFraction: the share of examples that go to the test part, in `0...1`; the test part holds
    ///     `(count × testFraction).rounded()` examples.
    ///   - seed: the seed of the shuffle; the same seed gives the same split everywhere.
    /// - Returns: both parts, each in shuffled order.
    /// - Precondition: `testFraction` is in `0...1`.
    /// - Complexity: O(`features.count`).
    public func split(testFraction: Double, seed: UInt64) -> (training: TrainingData, test: TrainingData) {
        precondition((0...1).contains(testFraction), "split: test fraction \(testFraction) is outside 0...1")
        var order = Array(0..<count)
        var generator = SeededGenerator(seed: seed)
        generator.shuffle(&order)
        let testCount = Int((Double(count) * testFraction).rounded())
        return (subset(order[testCount...]), subset(order[..<testCount]))
    }
}
