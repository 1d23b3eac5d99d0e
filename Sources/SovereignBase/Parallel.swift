import Dispatch
import Foundation

/// Work split across the machine's cores: the one way Sovereign runs a loop over an index range in parallel.
public enum Parallel: Sendable {
    /// Runs `body` on disjoint contiguous ranges that together cover `0..<count`, one range per worker, all at
    /// once; returns when every range is done.
    ///
    /// There are at most as many workers as active cores, and never more than `count / grain`, so a small
    /// count runs on the caller's thread alone (the last range may be shorter than the others). Every range
    /// starts at a multiple of `alignment`. The caller's thread blocks until all are done.
    /// - Parameters:
    ///   - count: The number of indices.
    ///   - grain: The fewest indices worth a worker of their own.
    ///   - alignment: What every range's start is a multiple of.
    ///   - body: What to do with one range; it runs concurrently with itself on other ranges.
    public static func forEachRange(count: Int, grain: Int, alignment: Int = 1, _ body: @Sendable (Range<Int>) -> Void)
    {
        let parts = ranges(count: count, grain: grain, alignment: alignment)
        guard parts.count > 1 else {
            parts.first.map(body)
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts.count) { body(parts[$0]) }
    }

    /// The ranges ``forEachRange(count:grain:alignment:_:)`` runs for `workers` available cores: as even as
    /// `alignment` allows, none empty (`workers` defaults to the active cores).
    /// - Complexity: O(workers).
    public static func ranges(
        count: Int,
        grain: Int,
        alignment: Int = 1,
        workers: Int? = nil
    ) -> [Range<Int>] {
        guard count > 0 else { return [] }
        let cores = workers ?? ProcessInfo.processInfo.activeProcessorCount
        let parts = max(1, min(cores, count / max(1, grain)))
        let step = max(1, alignment)
        let size = ((count + parts - 1) / parts + step - 1) / step * step
        return stride(from: 0, to: count, by: size).map { $0..<min(count, $0 + size) }
    }
}
