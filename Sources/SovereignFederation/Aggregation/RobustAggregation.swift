/// Median, trimmed mean and Krum over kept updates, computed coordinate block by coordinate block so that
/// scratch memory is O(block × n) and the updates are read in place.
enum RobustAggregation {
    /// Scratch budget for one block of gathered values (n values per coordinate).
    static let scratchBytes = 256 * 1024

    /// Coordinates per block for n updates.
    static func blockLength(updates n: Int) -> Int {
        max(16, scratchBytes / (4 * max(n, 1)))
    }

    /// Applies `combine` to each coordinate's n values, sorted ascending (NaN counted as +∞, so that it is cut
    /// first by a trimmed mean and shows up as a non-finite result otherwise).
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
                            sortSmall(values)
                            out[offsets[t] + start + c] = combine(values)
                        }
                        start += length
                    }
                }
            }
        }
        return result
    }

    /// Sorts a few values ascending: insertion sort up to 32, the standard library's sort beyond.
    @inline(__always)
    static func sortSmall(_ buffer: UnsafeMutableBufferPointer<Float>) {
        var values = buffer
        let n = values.count
        guard n > 32 else {
            var i = 1
            while i < n {
                let value = values[i]
                var j = i - 1
                while j >= 0 && values[j] > value {
                    values[j + 1] = values[j]
                    j -= 1
                }
                values[j + 1] = value
                i += 1
            }
            return
        }
        values.sort()
    }

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
