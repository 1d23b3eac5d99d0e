import Testing

@testable import SovereignPlanner

struct ExplanationTests {
    @Test func countsCopiesOfOneRefusalAndMergesEqualWords() {
        let shared = Rejection(filter: "residency", reason: "outside residency KE (dataset a)")
        // A different refusal with the same words (made per candidate) counts with the shared one.
        let alike = Rejection(filter: "residency", reason: "outside residency KE (dataset a)")
        let small = Rejection(filter: "hardware-fit", reason: "pool too small (needs ≥ 8 accelerators)")
        let other = Rejection(filter: "hardware-fit", reason: "another reason")
        var refusals = Refusals([shared, small, shared, shared, alike, other])
        refusals.add(small)
        refusals.add(shared)
        let text = Explanation.noPool("w", total: 8, refusals: refusals)
        #expect(
            text == "w: 0/8 pools fit: 5 outside residency KE (dataset a), 2 pool too small (needs ≥ 8 accelerators), "
                + "1 another reason"
        )
    }

    @Test func blockOptionsAskEachOptionOnceAndOnlyAsFarAsALookReads() {
        let options = BlockOptions()
        var asked: [Int] = []
        let mayFit: (Int) -> Bool = { r in
            asked.append(r)
            return r % 2 == 1
        }
        #expect(options.first(inBlock: 0, of: 10, mayFit: mayFit, take: { $0 == 3 ? $0 : nil }) == 3)
        #expect(asked == [0, 1, 2, 3])
        // A later look in the same block reads the options found, then asks on from where the last stopped.
        #expect(options.first(inBlock: 0, of: 10, mayFit: mayFit, take: { $0 == 7 ? $0 : nil }) == 7)
        #expect(asked == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(options.first(inBlock: 0, of: 10, mayFit: mayFit, take: { _ in nil as Int? }) == nil)
        #expect(asked == Array(0..<10))
        // A new block asks afresh.
        #expect(options.first(inBlock: 1, of: 10, mayFit: mayFit, take: { $0 }) == 1)
        #expect(asked == Array(0..<10) + [0, 1])
    }
}
