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

    /// The cleanest `k` eligible steps as carbon shifting chose them before it chose over stretches: every
    /// eligible step sorted by cost, then index.
    static func sortedCheapest(_ cost: [Double], eligible: [Bool], count k: Int) -> [Int]? {
        let candidates = cost.indices.filter { eligible[$0] }
        guard candidates.count >= k else { return nil }
        return candidates.sorted { cost[$0] != cost[$1] ? cost[$0] < cost[$1] : $0 < $1 }.prefix(k).sorted()
    }

    /// ``StepSelection/cheapest(_:count:eligible:)`` over `cost` cut into stretches of one step each, as steps.
    static func cheapest(_ cost: [Double], eligible: [Bool], count k: Int) -> [Int]? {
        let stretches = cost.indices.map { StepSelection.Stretch(steps: $0..<$0 + 1, cost: cost[$0]) }
        let chosen = StepSelection.cheapest(stretches, count: k) { steps, _ in
            steps.filter { eligible[$0] }.map { $0..<$0 + 1 }
        }
        return chosen.map { $0.flatMap { Array($0) } }
    }

    /// Random runs of a few cost levels (ties within and across runs, -0.0 beside 0.0), cut into stretches at
    /// the runs' ends and at random inside them, listed in a random order, with ineligible stretches of steps:
    /// the choice over stretches is the choice over sorted steps, and its runs are joined.
    @Test(arguments: 0..<4)
    func stretchesChooseTheSortedSteps(block: UInt64) throws {
        var rng = SeededGenerator(seed: 1818 + block)
        for _ in 0..<500 {
            let n = 1 + rng.nextInt(below: 200)
            var cost: [Double] = []
            var eligible: [Bool] = []
            var cuts: Set<Int> = [0]
            while cost.count < n {
                let length = min(n - cost.count, 1 + rng.nextInt(below: 40))
                cuts.insert(cost.count)
                cost += repeatElement([-0.0, 0, 1, 2, 2.5][rng.nextInt(below: 5)], count: length)
            }
            while eligible.count < n {
                let length = min(n - eligible.count, 1 + rng.nextInt(below: 30))
                eligible += repeatElement(rng.nextInt(below: 3) > 0, count: length)
            }
            for _ in 0..<rng.nextInt(below: 5) { cuts.insert(rng.nextInt(below: n)) }
            let bounds = cuts.sorted() + [n]
            var stretches = zip(bounds, bounds.dropFirst()).map {
                StepSelection.Stretch(steps: $0..<$1, cost: cost[$0])
            }
            rng.shuffle(&stretches)
            let k = 1 + rng.nextInt(below: n)
            // Each look gives its first `most` eligible steps and, at random, some after them.
            let chosen = StepSelection.cheapest(stretches, count: k) { steps, most in
                let all = steps.filter { eligible[$0] }
                return StepSelection.runs(Array(all.prefix(most + rng.nextInt(below: 3))))
            }
            let expected = Self.sortedCheapest(cost, eligible: eligible, count: k)
            #expect(chosen.map { $0.flatMap { Array($0) } } == expected, "n \(n), k \(k)")
            if let chosen {
                #expect(chosen == StepSelection.runs(chosen.flatMap { Array($0) }), "runs joined: \(chosen)")
            }
        }
    }

    @Test func freePausesEqualTheCleanestSteps() throws {
        var rng = SeededGenerator(seed: 18)
        for _ in 0..<2000 {
            let w = Window(&rng)
            let zero = [Double](repeating: 0, count: w.cost.count)
            let runs = StepSelection.cheapestRuns(w.cost, eligible: w.eligible, count: w.k, pause: zero, resume: zero)
            let cleanest = Self.cheapest(w.cost, eligible: w.eligible, count: w.k)
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
        let free = try #require(Self.cheapest(cost, eligible: eligible, count: 6))
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
