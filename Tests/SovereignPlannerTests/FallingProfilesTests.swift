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

    /// Setting a value (what a fixture does) may raise it: the block's maximum follows, in that row alone.
    @Test func settingAValueRescansItsBlock() {
        var profiles = FallingProfiles<Int32>(rows: 2, steps: 40) { _, _ in 4 }
        profiles[1, 17] = 9
        #expect(profiles.maximum(1, block: 1) == 9)
        #expect(profiles.maximum(0, block: 1) == 4)
        profiles[1, 17] = 1
        #expect(profiles.maximum(1, block: 1) == 4)
        #expect(profiles.maximum(1, block: 2) == 4)
        #expect(profiles[0, 17] == 4)
    }
}
