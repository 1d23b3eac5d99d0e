/// The order a scheduling cycle ranks candidates in: by descending score, ties in index order.
///
/// Every unbounded workload orders about a thousand scores, so the order is made by a stable radix sort over
/// byte keys that order as the scores do (a few passes over the scores, no comparisons), which gives what
/// sorting by (score descending, index ascending) gives: that order is total, so any way of making it agrees.
/// Both zeros are one score there (they compare equal), so a key is made of the score plus zero. Scores with
/// a NaN (which compares neither higher nor lower) are ordered by comparisons, as before.
enum ScoreOrder {
    /// Indices of `scores` by descending score, equal scores in ascending index order.
    ///
    /// - Complexity: O(n) for n scores (8 passes at most), O(n log n) when some score is NaN.
    static func descending(_ scores: [Double]) -> [Int] {
        guard scores.count > 1, !scores.contains(where: \.isNaN) else { return compared(scores) }
        var keys = scores.map(descendingKey)
        var order = Array(scores.indices)
        var keysOut = keys
        var orderOut = order
        for shift in stride(from: 0, to: UInt64.bitWidth, by: 8) {
            guard pass(shift, keys, order, into: &keysOut, &orderOut) else { continue }
            swap(&keys, &keysOut)
            swap(&order, &orderOut)
        }
        return order
    }

    /// A key whose ascending order is the score's descending order, with both zeros one key.
    static func descendingKey(_ score: Double) -> UInt64 {
        let bits = (score + 0).bitPattern
        let signBit: UInt64 = 1 << 63
        // Negative scores: flip every bit; positive ones: set the sign bit. That orders keys as the scores;
        // flipping the result orders them the other way.
        let ascending = bits & signBit != 0 ? ~bits : bits | signBit
        return ~ascending
    }

    /// One stable counting pass on the byte of each key at `shift`, or `false` (nothing written) when every key
    /// has the same byte there and the pass would leave the order as it is.
    private static func pass(
        _ shift: Int,
        _ keys: [UInt64],
        _ order: [Int],
        into keysOut: inout [UInt64],
        _ orderOut: inout [Int]
    ) -> Bool {
        var starts = [Int](repeating: 0, count: 257)
        for key in keys { starts[Int(truncatingIfNeeded: key >> UInt64(shift)) & 0xff + 1] += 1 }
        guard !starts.contains(keys.count) else { return false }
        for d in 1...256 { starts[d] += starts[d - 1] }
        for i in keys.indices {
            let d = Int(truncatingIfNeeded: keys[i] >> UInt64(shift)) & 0xff
            keysOut[starts[d]] = keys[i]
            orderOut[starts[d]] = order[i]
            starts[d] += 1
        }
        return true
    }

    /// The same order by comparisons: what scores with a NaN are ordered by.
    static func compared(_ scores: [Double]) -> [Int] {
        // Scores sorted beside their indices, not looked up through a captured array per comparison.
        var order = scores.enumerated().map { (score: $0.element, index: $0.offset) }
        order.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        return order.map(\.index)
    }
}
