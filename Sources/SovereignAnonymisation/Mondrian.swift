/// Strict multidimensional Mondrian (LeFevre, DeWitt and Ramakrishnan, ICDE 2006): the rows are split
/// recursively at the median of the quasi-identifier whose values are widest relative to its domain, as
/// long as both halves keep at least k rows (and, when asked, ℓ distinct sensitive values); the partitions
/// that cannot be split are the equivalence classes. "Strict" means no value lies on both sides of a split.
///
/// The rows live in one index array; a partition is a range of it. A split sorts that range by one
/// quasi-identifier (keys copied beside the indices, so comparisons touch contiguous memory), finds the
/// median and cuts the range in two. Each level of the recursion sorts at most every row once, and there are
/// O(log(n/k)) levels, so a run costs O(n log n · log(n/k) + n·d·log(n/k)) time for n rows and d
/// quasi-identifiers (a rejected dimension costs one more sort of the range), and O(n) memory beside the
/// table.
public struct Mondrian: Sendable {
    /// The fewest rows in a class.
    public let k: Int
    /// The fewest distinct sensitive values in a class, when the table has a sensitive column.
    public let l: Int

    /// Makes a partitioner.
    ///
    /// - Parameters:
    ///   - k: at least 1.
    ///   - l: at least 1 (1 asks for no diversity).
    public init(k: Int, l: Int = 1) {
        self.k = max(1, k)
        self.l = max(1, l)
    }

    /// The equivalence classes of `table`'s eligible rows: ranges of the returned row array, in a
    /// deterministic order. Empty when the eligible rows cannot form one class (fewer than k, or fewer than
    /// ℓ distinct sensitive values): they are all suppressed.
    ///
    /// - Complexity: O(n log n · log(n/k)) for n eligible rows (see the type's note).
    public func partition(_ table: QuasiIdentifierTable) -> (rows: [Int32], classes: [Range<Int>]) {
        var work = Work(table: table, k: k, l: l)
        guard work.acceptable(0..<work.rows.count) else { return (work.rows, []) }
        var pending = [0..<work.rows.count]
        var classes: [Range<Int>] = []
        while let range = pending.popLast() {
            if let cut = work.split(range) {
                pending.append(cut..<range.upperBound)
                pending.append(range.lowerBound..<cut)
            } else {
                classes.append(range)
            }
        }
        return (work.rows, classes)
    }
}

/// The mutable state of one partitioning: the row array and scratch space reused by every split.
private struct Work {
    let table: QuasiIdentifierTable
    let k: Int
    let l: Int
    var rows: [Int32]
    /// A range's (key, row) pairs while it is sorted.
    private var keyed: [(Double, Int32)] = []
    /// Per sensitive code, the stamp of the last diversity check that saw it.
    private var seen: [UInt32]
    private var stamp: UInt32 = 0

    init(table: QuasiIdentifierTable, k: Int, l: Int) {
        self.table = table
        self.k = k
        self.l = table.sensitive == nil ? 1 : l
        rows = table.eligibleRows
        seen = Array(repeating: 0, count: table.sensitiveLabelCount)
    }

    /// Whether a range may be a class: at least k rows and ℓ distinct sensitive values.
    mutating func acceptable(_ range: Range<Int>) -> Bool {
        guard range.count >= k else { return false }
        guard l > 1, let sensitive = table.sensitive else { return true }
        stamp &+= 1
        var distinct = 0
        for index in range {
            let code = Int(sensitive[Int(rows[index])])
            if seen[code] != stamp {
                seen[code] = stamp
                distinct += 1
                if distinct >= l { return true }
            }
        }
        return false
    }

    /// Splits `range` at a median and returns the cut, or `nil` when no quasi-identifier allows a split.
    mutating func split(_ range: Range<Int>) -> Int? {
        guard range.count >= 2 * k else { return nil }
        for column in dimensionsByWidth(range) {
            sort(range, by: column)
            if let cut = medianCut(range, column: column) { return cut }
        }
        return nil
    }

    /// The quasi-identifiers whose values in `range` are not all equal, widest (normalised) first; ties keep
    /// the method's order.
    private func dimensionsByWidth(_ range: Range<Int>) -> [Int] {
        var widths: [(width: Double, column: Int)] = []
        for (index, column) in table.columns.enumerated() {
            var low = Double.infinity
            var high = -Double.infinity
            for position in range {
                let value = column.values[Int(rows[position])]
                low = min(low, value)
                high = max(high, value)
            }
            if high > low { widths.append((column.normalisedWidth(low, high), index)) }
        }
        return widths.sorted { $0.width != $1.width ? $0.width > $1.width : $0.column < $1.column }.map(\.column)
    }

    /// Sorts the rows of `range` by one column, ties by row number (so the order is deterministic).
    private mutating func sort(_ range: Range<Int>, by column: Int) {
        let values = table.columns[column].values
        keyed.removeAll(keepingCapacity: true)
        for position in range { keyed.append((values[Int(rows[position])], rows[position])) }
        keyed.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        for (offset, pair) in keyed.enumerated() { rows[range.lowerBound + offset] = pair.1 }
    }

    /// The strict cut of a sorted range at its median value: after every row equal to the median, or else
    /// before them; `nil` when neither leaves two acceptable halves.
    private mutating func medianCut(_ range: Range<Int>, column: Int) -> Int? {
        let values = table.columns[column].values
        let median = values[Int(rows[range.lowerBound + (range.count - 1) / 2])]
        var after = range.lowerBound + (range.count - 1) / 2
        while after < range.upperBound, values[Int(rows[after])] == median { after += 1 }
        var before = range.lowerBound + (range.count - 1) / 2
        while before > range.lowerBound, values[Int(rows[before - 1])] == median { before -= 1 }
        for cut in [after, before]
        where acceptable(range.lowerBound..<cut) && acceptable(cut..<range.upperBound) {
            return cut
        }
        return nil
    }
}
