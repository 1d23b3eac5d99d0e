import SovereignBase
import SovereignModel
import Testing

@testable import SovereignPlanner

struct InTimeFirstTests {
    /// Options of the fixture's pools at seeded widths, with a window that some finish in and some do not: the
    /// in-place partition puts exactly the in-time ones first, each part in its ranked order.
    @Test(arguments: 0..<20)
    func putsInTimeOptionsFirstKeepingEachPartsOrder(seed: Int) throws {
        let f = try PluginFixture()
        let w = try f.workload("finetune")
        var random = SplitMix64(seed: UInt64(seed))
        let ranked = (0..<Int.random(in: 0...80, using: &random)).map { _ in
            Planner.Ranked(
                candidate: f.state.candidates.randomElement(using: &random)!,
                fit: Fit(precision: nil, min: 1, max: Int.random(in: 1...16, using: &random))
            )
        }
        let rates = ranked.map { PhysicalModel.throughput(w, tflops: $0.candidate.model.tflops, count: $0.maxCount) }
        let required = 1e21
        // A window the median option just finishes in: about half are in time.
        let window = required / (rates.sorted().dropFirst(rates.count / 2).first ?? 1)
        let inTime = rates.map { $0 * window >= required }
        var partitioned = ranked
        Planner.inTimeFirst(&partitioned, w, required: required, window: window)
        let expected = ranked.indices.filter { inTime[$0] } + ranked.indices.filter { !inTime[$0] }
        #expect(partitioned.map(\.candidate.poolIndex) == expected.map { ranked[$0].candidate.poolIndex })
        #expect(partitioned.map(\.maxCount) == expected.map { ranked[$0].maxCount })
        #expect(ranked.isEmpty || inTime.contains(true))
    }
}
