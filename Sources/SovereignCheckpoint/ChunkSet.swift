/// A set of chunk indices as sorted, disjoint, non-adjacent ranges: a transfer received in order is one
/// range, so what a receiver remembers stays small whatever the checkpoint's size.
public struct ChunkSet: Sendable, Hashable, Codable {
    /// The ranges, sorted, disjoint and never touching.
    public private(set) var ranges: [Range<Int>] = []

    /// An empty set.
    public init() {}

    /// Whether `index` is in the set.
    ///
    /// - Complexity: O(log ranges).
    public func contains(_ index: Int) -> Bool {
        let at = position(of: index)
        return at < ranges.count && ranges[at].contains(index)
    }

    /// Whether any index in `range` is in the set.
    ///
    /// - Complexity: O(log ranges).
    public func overlaps(_ range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return false }
        let at = position(of: range.lowerBound)
        return at < ranges.count && ranges[at].overlaps(range)
    }

    /// The number of indices in the set.
    public var count: Int { ranges.reduce(0) { $0 + $1.count } }

    /// The smallest index in `0..<limit` that is not in the set, or `nil` when all are.
    public func firstMissing(below limit: Int) -> Int? {
        guard let first = ranges.first, first.lowerBound == 0 else { return limit > 0 ? 0 : nil }
        return first.upperBound < limit ? first.upperBound : nil
    }

    /// Adds `index`, merging it with the ranges it touches.
    public mutating func insert(_ index: Int) {
        guard !contains(index) else { return }
        var at = position(of: index)
        // `position` finds the first range ending after `index`; one ending exactly at it may merge too.
        if at > 0, ranges[at - 1].upperBound == index { at -= 1 }
        var lower = index
        var upper = index + 1
        while at < ranges.count, ranges[at].lowerBound <= upper, ranges[at].upperBound >= lower {
            lower = Swift.min(lower, ranges[at].lowerBound)
            upper = Swift.max(upper, ranges[at].upperBound)
            ranges.remove(at: at)
        }
        ranges.insert(lower..<upper, at: at)
    }

    /// Removes every index in `range`.
    public mutating func remove(_ range: Range<Int>) {
        ranges = ranges.flatMap { kept -> [Range<Int>] in
            guard kept.overlaps(range) else { return [kept] }
            let before = kept.lowerBound..<Swift.max(kept.lowerBound, range.lowerBound)
            let after = Swift.min(kept.upperBound, range.upperBound)..<kept.upperBound
            return [before, after].filter { !$0.isEmpty }
        }
    }

    /// The index of the first range whose upper bound is above `index`.
    private func position(of index: Int) -> Int {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound <= index { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
