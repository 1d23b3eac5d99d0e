import SovereignBase
import Testing

@testable import SovereignPlanner

struct ScoreOrderTests {
    /// Scores drawn from a few values (so most tie), both zeros, infinities and negatives, in lengths around the
    /// sizes a cycle ranks: the radix order is the one comparing (score descending, index ascending) gives.
    @Test(arguments: 0..<200)
    func ordersAsComparisonsDo(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        let values: [Double] = [0, -0.0, 1, 0.5, 2.25, 1e-300, -1e-300, -3, .infinity, -.infinity, 1.0000000000000002]
        let count = Int.random(in: 0...1_200, using: &random)
        let distinct = Int.random(in: 1...values.count, using: &random)
        let scores = (0..<count).map { _ -> Double in
            // Half the seeds mix in scores that rarely tie, as weighted sums of scorers do.
            seed.isMultiple(of: 2)
                ? values[Int.random(in: 0..<distinct, using: &random)] : Double.random(in: -1...5, using: &random)
        }
        #expect(ScoreOrder.descending(scores) == ScoreOrder.compared(scores))
    }

    /// The order of a few hand-made scores: higher first, equal scores (both zeros too) by index.
    @Test func putsHigherFirstAndTiesByIndex() {
        #expect(ScoreOrder.descending([0.5, 2, -0.0, 2, 0, -1, .infinity]) == [6, 1, 3, 0, 2, 4, 5])
    }

    /// Every key orders as its score: a higher score has a lower key, equal scores (both zeros) one key.
    @Test func keysOrderAsScores() {
        let scores: [Double] = [-.infinity, -2, -1e-300, -0.0, 0, 1e-300, 1, 3, .infinity]
        for (a, b) in zip(scores, scores.dropFirst()) {
            if a == b {
                #expect(ScoreOrder.descendingKey(a) == ScoreOrder.descendingKey(b))
            } else {
                #expect(ScoreOrder.descendingKey(a) > ScoreOrder.descendingKey(b))
            }
        }
    }

    /// With a NaN among the scores the order is the comparisons' (a NaN has no place by value).
    @Test func orderWithNaNIsTheComparedOne() {
        let scores: [Double] = [1, .nan, 3, 0, .nan, 3]
        #expect(ScoreOrder.descending(scores) == ScoreOrder.compared(scores))
    }
}
