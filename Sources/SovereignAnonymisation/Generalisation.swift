/// What each released row's quasi-identifiers become: per class, one generalised text per quasi-identifier,
/// and the information it loses.
struct Generalisation {
    /// Per row: its class, or -1 when the row is suppressed.
    let classOfRow: [Int32]
    /// Per class, per quasi-identifier: the generalised text (`30..39`, `college|hs`, or the one value).
    let texts: [[String]]
    /// Per class: its size.
    let sizes: [Int]
    /// Per quasi-identifier: the normalised certainty penalty summed over released rows.
    let penalties: [Double]

    /// Generalises every class of `partition` over `table`.
    ///
    /// - Complexity: O(n·d) for n rows and d quasi-identifiers.
    init(table: QuasiIdentifierTable, rows: [Int32], classes: [Range<Int>]) {
        var classOfRow = [Int32](repeating: -1, count: table.rowCount)
        var texts: [[String]] = []
        var sizes: [Int] = []
        var penalties = [Double](repeating: 0, count: table.columns.count)
        texts.reserveCapacity(classes.count)
        for (index, range) in classes.enumerated() {
            for position in range { classOfRow[Int(rows[position])] = Int32(index) }
            var classTexts: [String] = []
            for (column, qi) in table.columns.enumerated() {
                let (text, penalty) = Self.generalise(qi, rows: rows[range])
                classTexts.append(text)
                penalties[column] += penalty * Double(range.count)
            }
            texts.append(classTexts)
            sizes.append(range.count)
        }
        self.classOfRow = classOfRow
        self.texts = texts
        self.sizes = sizes
        self.penalties = penalties
    }

    /// One class's text for one quasi-identifier and its normalised certainty penalty (Xu et al., KDD 2006):
    /// a range's width over the domain's for a number; for labels, 0 for one label, else the share of the
    /// column's labels the set holds.
    static func generalise(
        _ column: QuasiIdentifierTable.Column,
        rows: ArraySlice<Int32>
    ) -> (text: String, penalty: Double) {
        guard let labels = column.labels else {
            var low = Double.infinity
            var high = -Double.infinity
            for row in rows {
                low = min(low, column.values[Int(row)])
                high = max(high, column.values[Int(row)])
            }
            let text = low == high ? format(low) : "\(format(low))..\(format(high))"
            return (text, column.normalisedWidth(low, high))
        }
        var present = [Bool](repeating: false, count: labels.count)
        for row in rows { present[Int(column.values[Int(row)])] = true }
        let held = labels.indices.filter { present[$0] }
        let penalty = held.count > 1 ? Double(held.count) / Double(labels.count) : 0
        return (held.map { labels[$0] }.joined(separator: "|"), penalty)
    }

    /// A number as written in a generalisation: an integer without a fraction, else Swift's shortest form.
    static func format(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
