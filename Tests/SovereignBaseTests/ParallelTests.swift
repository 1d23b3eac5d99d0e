import Synchronization
import Testing

@testable import SovereignBase

struct ParallelTests {
    /// The ranges cover 0..<count exactly once, in order, none empty, each starting on the alignment, and
    /// never more of them than workers or than `count / grain`.
    @Test(arguments: [
        (0, 1, 1, 2), (1, 1, 1, 2), (5, 1, 1, 8), (100, 10, 1, 4), (99, 50, 1, 4), (1_000_001, 16_384, 16_384, 2),
        (1_000_001, 16_384, 16_384, 3), (16_384, 16_384, 16_384, 2), (70_000, 1, 16_384, 16),
    ])
    func rangesCoverTheIndicesOnceAligned(count: Int, grain: Int, alignment: Int, workers: Int) {
        let ranges = Parallel.ranges(count: count, grain: grain, alignment: alignment, workers: workers)
        #expect(ranges.flatMap { Array($0) } == Array(0..<count))
        #expect(ranges.allSatisfy { !$0.isEmpty && $0.lowerBound % alignment == 0 })
        #expect(ranges.count <= max(1, min(workers, count / grain)))
        #expect(count == 0 || !ranges.isEmpty)
    }

    @Test func enoughWorkForEveryWorkerIsSplitEvenly() {
        let ranges = Parallel.ranges(count: 1_000_000, grain: 1_000, workers: 4)
        #expect(ranges.map(\.count) == [250_000, 250_000, 250_000, 250_000])
    }

    /// Every index is visited exactly once however the ranges run.
    @Test func forEachRangeVisitsEveryIndexOnce() {
        let visits = Mutex([Int](repeating: 0, count: 100_003))
        Parallel.forEachRange(count: 100_003, grain: 1_000) { range in
            visits.withLock { counts in
                for index in range { counts[index] += 1 }
            }
        }
        #expect(visits.withLock { $0.allSatisfy { $0 == 1 } })
    }
}
