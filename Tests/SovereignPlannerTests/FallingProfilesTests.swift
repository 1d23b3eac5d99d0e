import SovereignBase
import Testing

@testable import SovereignPlanner

struct FallingProfilesTests {
    /// After many takes over several rows, in an order that hits each block's maximum and its other steps alike,
    /// every value is what subtracting one by one gives and every block's maximum is its steps' largest value.
    @Test func keepsEachBlocksMaximumAsValuesFall() {
        let rows = 3
        let count = 100  // six whole blocks and a partial one
        var values: [[Double]] = []
        for r in 0..<rows {
            values.append((0..<count).map { (t: Int) -> Double in Double((t * 37 + r * 11) % 23) + 10 })
        }
        var profiles = FallingProfiles(rows: rows, steps: count) { r, t in values[r][t] }
        for i in 0..<6_000 {
            let r = i % rows
            let t = (i * 7_919) % count
            let amount = Double((i * 31) % 5) * 0.5
            values[r][t] -= amount
            profiles.subtract(amount, r, at: t)
        }
        let size = FallingProfiles<Double>.blockSize
        for r in 0..<rows {
            for t in 0..<count { #expect(profiles[r, t] == values[r][t]) }
            for b in 0..<(count + size - 1) / size {
                let block = values[r][(b * size)..<min(count, (b + 1) * size)]
                #expect(profiles.maximum(r, block: b) == block.max())
            }
        }
    }

    /// A trial's takes are undone exactly (the old bits put back, nothing added back) with every block's maximum,
    /// and trials nest: an inner trial kept is still undone when the outer one rolls back.
    @Test func aTrialRollsBackToTheBitsItStartedFrom() {
        var profiles = FallingProfiles<Double>(rows: 2, steps: 40) { r, t in Double(t % 7) + 0.1 * Double(r) }
        profiles.subtract(0.3, 1, at: 5)
        let start = (0..<2).map { r in (0..<40).map { profiles[r, $0].bitPattern } }
        let maxima = (0..<2).map { r in (0..<3).map { profiles.maximum(r, block: $0) } }
        let outer = profiles.mark()
        profiles.subtract(6, 0, at: 6)  // the two steps that hold block 0's maximum
        profiles.subtract(6, 0, at: 13)
        let inner = profiles.mark()
        profiles.subtract(0.1, 1, at: 33)
        profiles.subtract(0.2, 1, at: 33)
        profiles.keep(inner)
        let kept = profiles.mark()
        profiles.subtract(1, 0, at: 20)
        profiles.rollBack(to: kept)
        #expect(profiles[0, 20] == 6)
        #expect(profiles.maximum(0, block: 0) == 5)
        profiles.rollBack(to: outer)
        #expect((0..<2).map { r in (0..<40).map { profiles[r, $0].bitPattern } } == start)
        #expect((0..<2).map { r in (0..<3).map { profiles.maximum(r, block: $0) } } == maxima)
        profiles.subtract(1, 0, at: 0)  // no trial open: nothing remembered, nothing to undo
        #expect(profiles[0, 0] == -1)
    }

    /// Setting a value (what a fixture does) may raise it: the block's maximum follows, in that row alone.
    @Test func settingAValueRescansItsBlock() {
        var profiles = FallingProfiles<Int32>(rows: 2, steps: 40) { _, _ in 4 }
        profiles[1, 17] = 9
        #expect(profiles.maximum(1, block: 1) == 9)
        #expect(profiles.maximum(0, block: 1) == 4)
        profiles[1, 17] = 1
        #expect(profiles.maximum(1, block: 1) == 4)
        #expect(profiles.minimum(1, block: 1) == 1)
        #expect(profiles.maximum(1, block: 2) == 4)
        #expect(profiles[0, 17] == 4)
    }

    /// Takes over ranges of steps (within a block, across blocks, whole blocks, the partial last block) leave
    /// every value bit for bit what subtracting step by step gives, with every block's maximum and least value
    /// its steps' largest and least, on seeded random values and amounts; and a trial of range takes rolls back
    /// to the bits it started from, minima included.
    @Test(arguments: 0..<20)
    func rangeTakesMatchStepByStepSubtraction(seed: UInt64) throws {
        var rng = SeededGenerator(seed: 1800 + seed)
        let rows = 3
        let count = 16 * Int.random(in: 1...6, using: &rng) + Int.random(in: 0..<16, using: &rng)
        var values = (0..<rows).map { _ in (0..<count).map { _ in Double.random(in: 50...100, using: &rng) } }
        var profiles = FallingProfiles(rows: rows, steps: count) { r, t in values[r][t] }
        var mark: Int?
        var marked: (values: [[UInt64]], maxima: [[Double]], minima: [[Double]])?
        for i in 0..<400 {
            if i == 200 {
                mark = profiles.mark()
                marked = snapshot(profiles, rows: rows, count: count)
            }
            let r = Int.random(in: 0..<rows, using: &rng)
            let start = Int.random(in: 0..<count, using: &rng)
            let end = Int.random(in: (start + 1)...min(count, start + 40), using: &rng)
            let amount = Double.random(in: 0...0.3, using: &rng)
            for t in start..<end { values[r][t] -= amount }
            profiles.subtract(amount, r, steps: start..<end)
            expectProfiles(profiles, equal: values)
        }
        profiles.rollBack(to: try #require(mark))
        let back = snapshot(profiles, rows: rows, count: count)
        #expect(back.values == marked?.values)
        #expect(back.maxima == marked?.maxima)
        #expect(back.minima == marked?.minima)
    }

    /// Every value of `profiles` is the plain array's, bit for bit, and every block's maximum and least value
    /// are the largest and least of its steps.
    func expectProfiles(_ profiles: FallingProfiles<Double>, equal values: [[Double]]) {
        let size = FallingProfiles<Double>.blockSize
        for (r, row) in values.enumerated() {
            #expect((0..<row.count).map { profiles[r, $0].bitPattern } == row.map(\.bitPattern))
            for b in 0..<(row.count + size - 1) / size {
                let block = row[(b * size)..<min(row.count, (b + 1) * size)]
                #expect(profiles.maximum(r, block: b) == block.max())
                #expect(profiles.minimum(r, block: b) == block.min())
            }
        }
    }

    func snapshot(
        _ profiles: FallingProfiles<Double>,
        rows: Int,
        count: Int
    ) -> (values: [[UInt64]], maxima: [[Double]], minima: [[Double]]) {
        let blocks = (count + FallingProfiles<Double>.blockSize - 1) / FallingProfiles<Double>.blockSize
        return (
            (0..<rows).map { r in (0..<count).map { profiles[r, $0].bitPattern } },
            (0..<rows).map { r in (0..<blocks).map { profiles.maximum(r, block: $0) } },
            (0..<rows).map { r in (0..<blocks).map { profiles.minimum(r, block: $0) } }
        )
    }
}
