import SovereignModel

/// The quasi-identifiers of every row, column by column: what Mondrian partitions, and all of a table it
/// holds in memory.
///
/// A numeric column holds its numbers; a categorical column holds each row's label as its rank among the
/// column's distinct labels in byte order (so splits are deterministic and a class's labels are a set of
/// ranks). Row numbers are `Int32`: up to 2³¹ − 1 rows.
///
/// Memory: 8 bytes per row per quasi-identifier, 4 per row for a sensitive column, plus each categorical
/// column's distinct labels once.
public struct QuasiIdentifierTable: Sendable {
    /// One column's values and, for a categorical column, its labels in rank order.
    public struct Column: Sendable {
        /// Per row: the number, or the label's rank.
        public var values: [Double]
        /// The labels in rank order, for a categorical column; `nil` for a numeric one.
        public var labels: [String]?
        /// The smallest and largest value over the rows Mondrian partitions.
        public var domain: ClosedRange<Double>

        /// Makes a column.
        public init(values: [Double], labels: [String]?, domain: ClosedRange<Double>) {
            self.values = values
            self.labels = labels
            self.domain = domain
        }

        /// The normalised width of `range`: 0 for one value, 1 for the whole domain.
        func normalisedWidth(_ low: Double, _ high: Double) -> Double {
            let span = domain.upperBound - domain.lowerBound
            return span > 0 ? (high - low) / span : 0
        }
    }

    /// The quasi-identifier columns, in the method's order.
    public var columns: [Column]
    /// Per row, the sensitive column's label as a code, when the method asks for ℓ-diversity.
    public var sensitive: [Int32]?
    /// How many distinct sensitive labels there are.
    public var sensitiveLabelCount: Int
    /// The rows that take part: those with every numeric quasi-identifier present.
    public var eligibleRows: [Int32]
    /// How many rows the table has (eligible or not).
    public var rowCount: Int

    /// Makes a table from columns already filled.
    public init(
        columns: [Column],
        sensitive: [Int32]? = nil,
        sensitiveLabelCount: Int = 0,
        eligibleRows: [Int32],
        rowCount: Int
    ) {
        self.columns = columns
        self.sensitive = sensitive
        self.sensitiveLabelCount = sensitiveLabelCount
        self.eligibleRows = eligibleRows
        self.rowCount = rowCount
    }
}

/// Builds a ``QuasiIdentifierTable`` one row at a time, as the input streams past.
struct QuasiIdentifierTableBuilder {
    private var values: [[Double]]
    private var kinds: [Anonymisation.QuasiIdentifier.Kind]
    /// Per categorical column: label → first-seen code.
    private var codes: [[String: Int32]]
    private var sensitiveCodes: [String: Int32] = [:]
    private var sensitive: [Int32]?
    private var eligible: [Int32] = []
    private var rowCount = 0

    init(kinds: [Anonymisation.QuasiIdentifier.Kind], diversity: Bool) {
        self.kinds = kinds
        values = Array(repeating: [], count: kinds.count)
        codes = Array(repeating: [:], count: kinds.count)
        sensitive = diversity ? [] : nil
    }

    /// Adds a row. A numeric value is `nil` when the field is empty: the row is then suppressed.
    mutating func append(numbers: [Double?], labels: [String?], sensitiveLabel: String?) {
        var complete = true
        for column in kinds.indices {
            switch kinds[column] {
            case .numeric:
                values[column].append(numbers[column] ?? .nan)
                if numbers[column] == nil { complete = false }
            case .categorical:
                let label = labels[column] ?? ""
                let next = Int32(codes[column].count)
                values[column].append(Double(codes[column][label, default: next]))
                if codes[column][label] == nil { codes[column][label] = next }
            }
        }
        if let sensitiveLabel {
            let next = Int32(sensitiveCodes.count)
            sensitive?.append(sensitiveCodes[sensitiveLabel, default: next])
            if sensitiveCodes[sensitiveLabel] == nil { sensitiveCodes[sensitiveLabel] = next }
        }
        if complete { eligible.append(Int32(rowCount)) }
        rowCount += 1
    }

    /// The table: categorical codes replaced by ranks in byte order, domains over the eligible rows.
    func finish() -> QuasiIdentifierTable {
        var columns: [QuasiIdentifierTable.Column] = []
        for column in kinds.indices {
            var columnValues = values[column]
            var labels: [String]? = nil
            if kinds[column] == .categorical {
                let sorted = codes[column].keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                var rankOfCode = [Double](repeating: 0, count: sorted.count)
                let rankOfLabel = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
                for (label, code) in codes[column] { rankOfCode[Int(code)] = Double(rankOfLabel[label] ?? 0) }
                for row in columnValues.indices { columnValues[row] = rankOfCode[Int(columnValues[row])] }
                labels = sorted
            }
            var low = Double.infinity
            var high = -Double.infinity
            for row in eligible {
                low = min(low, columnValues[Int(row)])
                high = max(high, columnValues[Int(row)])
            }
            let domain = low <= high ? low...high : 0...0
            columns.append(QuasiIdentifierTable.Column(values: columnValues, labels: labels, domain: domain))
        }
        return QuasiIdentifierTable(
            columns: columns,
            sensitive: sensitive,
            sensitiveLabelCount: sensitiveCodes.count,
            eligibleRows: eligible,
            rowCount: rowCount
        )
    }
}
