import SovereignBase
import Testing

@testable import SovereignPlanner

/// The step choices of carbon shifting against brute force on small windows.
struct StepSelectionTests {
    /// A small random window: costs in 0..<10 (often equal, as hourly carbon on shorter steps is), about one
    /// step in five not eligible.
    struct Window {
        let cost: [Double]
        let eligible: [Bool]
        let k: Int
        let fraction: Double

        init(_ rng: inout SeededGenerator) {
            let n = 1 + rng.nextInt(below: 10)
            cost = (0..<n).map { _ in Double(rng.nextInt(below: 10)) }
            eligible = (0..<n).map { _ in rng.nextInt(below: 5) > 0 }
            k = 1 + rng.nextInt(below: n)
            fraction = [0, 0.1, 0.5, 2][rng.nextInt(below: 4)]
        }

        var pause: [Double] { cost.map { $0 * fraction } }

        /// Carbon of running `steps` (ascending): their costs, a pause after each piece but the last and a
        /// resume before each piece but the first.
        func carbon(_ steps: [Int]) -> Double {
            var total = steps.reduce(0) { $0 + cost[$1] }
            for (a, b) in zip(steps, steps.dropFirst()) where b != a + 1 {
                total += (cost[a] + cost[b]) * fraction
            }
            return total
        }

        /// Every choice of `k` eligible steps, ascending.
        var choices: [[Int]] {
            let indices = cost.indices.filter { eligible[$0] }
            return (0..<(1 << indices.count)).compactMap { mask in
                let chosen = indices.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element)
                return chosen.count == k ? chosen : nil
            }
        }
    }

    @Test(arguments: 0..<4)
    func pricedPausesMatchBruteForce(block: UInt64) throws {
        var rng = SeededGenerator(seed: 1800 + block)
        for _ in 0..<500 {
            let w = Window(&rng)
            let choices = w.choices
            let chosen = StepSelection.cheapestRuns(
                w.cost,
                eligible: w.eligible,
                count: w.k,
                pause: w.pause,
                resume: w.pause
            )
            guard let best = choices.map(w.carbon).min() else {
                #expect(chosen == nil)
                continue
            }
            let steps = try #require(chosen)
            #expect(steps.count == w.k && steps.allSatisfy { w.eligible[$0] })
            #expect(abs(w.carbon(steps) - best) < 1e-9, "\(w)")
            let fewest = choices.filter { abs(w.carbon($0) - best) < 1e-9 }.map(StepSelection.pieces).min()
            #expect(StepSelection.pieces(steps) == fewest, "\(w)")
        }
    }

    @Test func freePausesEqualTheCleanestSteps() throws {
        var rng = SeededGenerator(seed: 18)
        for _ in 0..<2000 {
            let w = Window(&rng)
            let zero = [Double](repeating: 0, count: w.cost.count)
            let runs = StepSelection.cheapestRuns(w.cost, eligible: w.eligible, count: w.k, pause: zero, resume: zero)
            let cleanest = StepSelection.cheapest(w.cost, eligible: w.eligible, count: w.k)
            #expect((runs == nil) == (cleanest == nil))
            guard let runs, let cleanest else { continue }
            let sum = { (steps: [Int]) in steps.reduce(0) { $0 + w.cost[$1] } }
            #expect(sum(runs) == sum(cleanest))
            #expect(StepSelection.pieces(runs) <= StepSelection.pieces(cleanest))
        }
    }

    @Test func aRealPauseCostMakesFewerLongerRuns() throws {
        // Clean and dirty steps alternate: free pauses take every clean one, priced ones run straight through.
        let cost = (0..<12).map { $0 % 2 == 0 ? 100.0 : 300.0 }
        let eligible = [Bool](repeating: true, count: 12)
        let free = try #require(StepSelection.cheapest(cost, eligible: eligible, count: 6))
        #expect(free == [0, 2, 4, 6, 8, 10])
        let io = cost.map { $0 * 2 }
        let priced = try #require(
            StepSelection.cheapestRuns(cost, eligible: eligible, count: 6, pause: io, resume: io)
        )
        #expect(StepSelection.pieces(priced) == 1)
    }

    @Test func theCleanestWindowMatchesBruteForce() {
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<2000 {
            let w = Window(&rng)
            let starts = (0...(w.cost.count - w.k)).filter { s in (s..<s + w.k).allSatisfy { w.eligible[$0] } }
            let sum = { (s: Int) in (s..<s + w.k).reduce(0) { $0 + w.cost[$1] } }
            let best = starts.min { sum($0) != sum($1) ? sum($0) < sum($1) : $0 < $1 }
            #expect(StepSelection.cheapestWindow(w.cost, eligible: w.eligible, length: w.k) == best, "\(w)")
        }
    }

    @Test func piecesCountRuns() {
        #expect(StepSelection.pieces([]) == 0)
        #expect(StepSelection.pieces([3]) == 1)
        #expect(StepSelection.pieces([1, 2, 3, 7, 8, 10]) == 3)
    }
}
