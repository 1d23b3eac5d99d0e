import Foundation
import SovereignFederation

/// Shared inputs of the training tests.
enum TrainingFixtures {
    /// The bundled UCI digits (Examples/data/digits.csv.gz), found from this file's real location so the
    /// tests also run from a package that links the test folder in.
    static let digitsURL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples/data/digits.csv.gz")

    /// The digits, loaded once.
    static let digits: TrainingData = try! TrainingData.load(contentsOf: digitsURL)

    /// The seeded 80/20 split the accuracy tests use.
    static let digitsSplit = digits.split(testFraction: 0.2, seed: 2026)
}
