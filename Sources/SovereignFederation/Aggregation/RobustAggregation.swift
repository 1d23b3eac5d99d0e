/// Median, trimmed mean and Krum over kept updates, computed coordinate block by coordinate block so that
/// scratch memory is O(block × n) and the updates are read in place.
enum RobustAggregation {
    /// Scratch budget for one block of gathered values (n values per coordinate).
    static let scratchBytes = 256 * 1024

    /// Coordinates per block for n updates.
    static func blockLength(updates n: Int) -> Int {
        max(16, scratchBytes / (4 * max(n, 1)))
    }

    /// Applies `combine` to each coordinate's n values, gathered into a scratch buffer it may reorder (NaN is
    /// gathered as +∞, so that it is cut first by a trimmed mean and shows up as a non-finite result otherwise).
    static func coordinateWise(
        _ updates: [UpdateSource],
        offsets: [Int],
        global: ModelWeights,
        combine: (UnsafeMutableBufferPointer<Float>) -> Float
    ) -> [Float] {
        let n = updates.count
        let total = (offsets.last ?? 0) + (global.tensors.last?.values.count ?? 0)
        var result = [Float](repeating: 0, count: total)
        let block = blockLength(updates: n)
        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: block * n)
        defer { scratch.deallocate() }
        withExtendedLifetime(updates) {
            result.withUnsafeMutableBufferPointer { out in
                for (t, tensor) in global.tensors.enumerated() {
                    let count = tensor.values.count
                    var start = 0
                    while start < count {
                        let length = min(block, count - start)
                        // Gather: scratch[c * n + k] = update k, coordinate start + c.
                        for k in 0..<n {
                            let base = updates[k].tensorBases[t] + 4 * start
                            for c in 0..<length {
                                let value = base.loadUnaligned(fromByteOffset: 4 * c, as: Float.self)
                                scratch[c * n + k] = value.isNaN ? .infinity : value
                            }
                        }
                        for c in 0..<length {
                            let values = UnsafeMutableBufferPointer(rebasing: scratch[(c * n)..<(c * n + n)])
                            out[offsets[t] + start + c] = combine(values)
                        }
                        start += length
                    }
                }
            }
        }
        return result
    }

    /// Sorts a few values ascending, in place and without allocating (the standard library's sort allocates a
    /// merge buffer on every call): insertion sort up to 32 values, Shell sort with Ciura's gaps beyond.
    @inline(__always)
    static func sortSmall(_ values: UnsafeMutableBufferPointer<Float>) {
        let n = values.count
        for gap in shellGaps where gap < n || gap == 1 {
            guard gap == 1 || n > 32 else { continue }
            var i = gap
            while i < n {
                let value = values[i]
                var j = i
                while j >= gap && values[j - gap] > value {
                    values[j] = values[j - gap]
                    j -= gap
                }
                values[j] = value
                i += 1
            }
        }
    }

    /// Rearranges `values[lo..<hi]` so that `values[k]` holds the value of rank k, everything before it is ≤ it
    /// and everything after it is ≥ it (introselect: median-of-3 quickselect, falling back to Shell sort after
    /// 2·log₂ n rounds, so adversarial values cannot make it quadratic).
    static func select(_ values: UnsafeMutableBufferPointer<Float>, _ k: Int, _ lower: Int, _ upper: Int) {
        var lo = lower
        var hi = upper
        var budget = 2 * (Int.bitWidth - max(upper - lower, 1).leadingZeroBitCount)
        while hi - lo > 16 {
            if budget == 0 { break }
            budget -= 1
            let mid = lo + (hi - lo) / 2
            // Median of three as the pivot.
            var a = values[lo]
            var b = values[mid]
            var c = values[hi - 1]
            if a > b { swap(&a, &b) }
            if b > c { swap(&b, &c) }
            if a > b { swap(&a, &b) }
            let pivot = b
            var i = lo
            var j = hi - 1
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                hi = j + 1
            } else if k >= i {
                lo = i
            } else {
                return
            }
        }
        sortSmall(UnsafeMutableBufferPointer(rebasing: values[lo..<hi]))
    }

    /// Ciura's gap sequence (extended by ×2.25), largest first.
    static let shellGaps: [Int] = [8_906, 3_958, 1_759, 701, 301, 132, 57, 23, 10, 4, 1]

    /// Krum / Multi-Krum: the indices of the `keep` updates with the lowest scores, best first (ties to the
    /// lower index). An update's score is the sum of its squared distances to its n − f − 2 nearest other
    /// updates.
    /// - Complexity: O(parameters × n²) time, O(n²) memory besides one pass over the updates per pair.
    static func krum(
        _ updates: [UpdateSource],
        offsets: [Int],
        global: ModelWeights,
        byzantine f: Int,
        keep: Int
    ) -> [Int] {
        let n = updates.count
        var distances = [Double](repeating: 0, count: n * n)
        let block = 4096
        withExtendedLifetime(updates) {
            for (t, tensor) in global.tensors.enumerated() {
                let count = tensor.values.count
                var start = 0
                while start < count {
                    let length = min(block, count - start)
                    for i in 0..<n {
                        let a = updates[i].tensorBases[t] + 4 * start
                        for j in (i + 1)..<max(i + 1, n) {
                            let b = updates[j].tensorBases[t] + 4 * start
                            distances[i * n + j] += FoldKernels.squaredDistance(a, b, count: length)
                        }
                    }
                    start += length
                }
            }
        }
        for i in 0..<n {
            for j in 0..<i { distances[i * n + j] = distances[j * n + i] }
        }
        let neighbours = max(1, n - f - 2)
        var scores: [(score: Double, index: Int)] = []
        for i in 0..<n {
            var row = (0..<n).filter { $0 != i }.map { d -> Double in
                let value = distances[i * n + d]
                return value.isNaN ? .infinity : value
            }
            row.sort()
            scores.append((row.prefix(neighbours).reduce(0, +), i))
        }
        scores.sort { ($0.score, $0.index) < ($1.score, $1.index) }
        return scores.prefix(keep).map(\.index)
    }

    /// Σⱼ weights[j] · update j, flattened in model order.
    static func weightedMean(
        _ updates: [UpdateSource],
        weights: [Float],
        offsets: [Int],
        global: ModelWeights
    ) -> [Float] {
        let total = (offsets.last ?? 0) + (global.tensors.last?.values.count ?? 0)
        var result = [Float](repeating: 0, count: total)
        guard total > 0 else { return result }
        withExtendedLifetime(updates) {
            result.withUnsafeMutableBufferPointer { out in
                weights.withUnsafeBufferPointer { w in
                    var pointers = [UnsafeRawPointer](
                        repeating: UnsafeRawPointer(out.baseAddress!),
                        count: updates.count
                    )
                    for (t, tensor) in global.tensors.enumerated() where tensor.values.count > 0 {
                        var j = 0
                        while j < updates.count {
                            let group = min(FoldKernels.maximumGroup, updates.count - j)
                            for k in 0..<group { pointers[k] = updates[j + k].tensorBases[t] }
                            pointers.withUnsafeBufferPointer { p in
                                FoldKernels.fold(
                                    into: out.baseAddress! + offsets[t],
                                    count: tensor.values.count,
                                    sources: p.baseAddress!,
                                    weights: w.baseAddress! + j,
                                    group: group
                                )
                            }
                            j += group
                        }
                    }
                }
            }
        }
        return result
    }
}
