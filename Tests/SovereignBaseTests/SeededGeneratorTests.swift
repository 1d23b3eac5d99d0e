import SovereignBase
import Testing

/// Seeded outputs are pinned: simulations, random fleets, golden files and training runs depend on them.
struct SeededGeneratorTests {
    @Test func splitMix64IsPinned() {
        var generator = SplitMix64(seed: 42)
        #expect(generator.next() == 0xbdd7_3226_2feb_6e95)
        #expect(generator.next() == 0x28ef_e333_b266_f103)
        #expect(generator.next() == 0x4752_6757_130f_9f52)
    }

    @Test func xoshiroIsPinnedAndFilledBySplitMix64() {
        var generator = SeededGenerator(seed: 42)
        #expect(generator.next() == 0x1578_0b2e_0c2e_c716)
        #expect(generator.next() == 0x6104_d986_6d11_3a7e)
        #expect(generator.next() == 0xae17_5332_39e4_99a1)
        var zero = SeededGenerator(seed: 0)
        #expect(zero.next() == 0x99ec_5f36_cb75_f2b4)
        #expect(zero.next() == 0xbf6e_1f78_4956_452a)
    }

    @Test func boundedDrawsStayInRange() {
        var generator = SeededGenerator(seed: 7)
        for bound in 1...200 {
            let draw = generator.nextInt(below: bound)
            #expect((0..<bound).contains(draw))
        }
        var unit = SplitMix64(seed: 7)
        for _ in 0..<1000 {
            let u = unit.nextUnit()
            #expect(u > 0 && u < 1)
        }
    }

    @Test func shuffleIsAReproduciblePermutation() {
        var first = SeededGenerator(seed: 3)
        var second = SeededGenerator(seed: 3)
        var a = Array(0..<50)
        var b = Array(0..<50)
        first.shuffle(&a)
        second.shuffle(&b)
        #expect(a == b)
        #expect(a.sorted() == Array(0..<50))
        #expect(a != Array(0..<50))
    }
}
