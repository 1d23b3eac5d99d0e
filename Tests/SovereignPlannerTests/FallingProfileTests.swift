import Testing

@testable import SovereignPlanner

struct FallingProfileTests {
    /// After many takes, in an order that hits each block's maximum and its other steps alike, every value is
    /// what subtracting one by one gives and every block's maximum is its steps' largest value.
    @Test func keepsEachBlocksMaximumAsValuesFall() {
        let count = 100  // six whole blocks and a partial one
        var values = (0..<count).map { Double(($0 * 37) % 23) + 10 }
        var profile = FallingProfile(values)
        for i in 0..<2_000 {
            let t = (i * 7_919) % count
            let amount = Double((i * 31) % 5) * 0.5
            values[t] -= amount
            profile.subtract(amount, at: t)
        }
        let size = FallingProfile<Double>.blockSize
        for t in 0..<count { #expect(profile[t] == values[t]) }
        for b in 0..<(count + size - 1) / size {
            let block = values[(b * size)..<min(count, (b + 1) * size)]
            #expect(profile.maximum(block: b) == block.max())
        }
    }

    /// Setting a value (what a fixture does) may raise it: the block's maximum follows.
    @Test func settingAValueRescansItsBlock() {
        var profile = FallingProfile([Int32](repeating: 4, count: 40))
        profile[17] = 9
        #expect(profile.maximum(block: 1) == 9)
        profile[17] = 1
        #expect(profile.maximum(block: 1) == 4)
        #expect(profile.maximum(block: 2) == 4)
    }
}
