import CZlib
public import Foundation

extension TrainingData {
    /// How to read a CSV file of examples.
    public struct LoadOptions: Sendable, Hashable, Codable {
        /// Which column holds the class label; every other column is a feature, in file order.
        public enum LabelColumn: Sendable, Hashable, Codable {
            /// The last column.
            case last
            /// The column at this zero-based index.
            case index(Int)
            /// The column whose header field is exactly this name (the file needs a header row).
            case named(String)
        }

        /// Whether the first non-blank row is a header of column names.
        public enum Header: Sendable, Hashable, Codable {
            /// A header when any field of the first row is not a number.
            case automatic
            /// The first row is a header and is skipped.
            case present
            /// There is no header; a non-numeric field in the first row is an error.
            case absent
        }

        /// Which column holds the label; the last by default.
        public var labelColumn: LabelColumn
        /// Whether there is a header row; detected by default.
        public var header: Header
        /// The number of classes (1 to 1,000,000), or `nil` for the largest label plus one. Sites of one
        /// federation must agree, so an agent passes the coordinator's number; a label at or above it is an
        /// error.
        public var classCount: Int?
        /// The most values (features and labels) the file may hold: a bound on memory, so a hostile or
        /// mistaken file (a gzip bomb) fails with an error instead of exhausting memory. 2²⁸ by default
        /// (1 GiB of floats).
        public var maximumValueCount: Int

        /// Makes options.
        public init(
            labelColumn: LabelColumn = .last,
            header: Header = .automatic,
            classCount: Int? = nil,
            maximumValueCount: Int = 1 << 28
        ) {
            self.labelColumn = labelColumn
            self.header = header
            self.classCount = classCount
            self.maximumValueCount = maximumValueCount
        }
    }

    /// Reads examples from a numeric CSV file, plain or gzip-compressed.
    ///
    /// Each row is one example: numbers separated by commas, one column the label (a non-negative integer),
    /// the rest features. Fields may be padded with spaces; lines may end in `\n` or `\r\n`; blank lines are
    /// skipped. A gzip file is recognised by its magic bytes (`1f 8b`) and decompressed with zlib. The file is
    /// streamed in 64 KiB chunks, so only the parsed floats are held in memory, never the text.
    /// - Parameters:
    ///   - url: a file URL.
    ///   - options: the label column, the header and the class count.
    /// - Returns: the examples in file order.
    /// - Throws: `FederationError` `.io` when the file cannot be opened or read (or the gzip stream is
    ///   corrupt or truncated), `.trainingData` with `path:line:column` for a non-numeric field, a wrong
    ///   number of fields, a label that is not a non-negative integer or not below the class count, an
    ///   empty file or too many values; `.invalidConfiguration` for options that do not fit the file.
    /// - Complexity: O(file size) time; O(number of values) memory.
    public static func load(
        contentsOf url: URL,
        options: LoadOptions = LoadOptions()
    ) throws(FederationError)
        -> TrainingData
    {
        let path = url.path
        guard url.isFileURL else {
            throw FederationError(.io, "\(url.absoluteString): expected a file URL")
        }
        guard let file = gzopen(path, "rb") else {
            throw FederationError(.io, "\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 17)
        var parser = try CSVExampleParser(name: path, options: options)
        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
        defer { chunk.deallocate() }
        while true {
            let read = gzread(file, chunk.baseAddress, UInt32(chunk.count))
            var errorNumber: Int32 = 0
            if read < 0 {
                let message = gzerror(file, &errorNumber).map { String(cString: $0) } ?? "unknown error"
                throw FederationError(.io, "\(path): cannot read: \(message)")
            }
            if read == 0 {
                _ = gzerror(file, &errorNumber)
                if errorNumber == Z_BUF_ERROR {
                    throw FederationError(.io, "\(path): expected a complete gzip stream, found it truncated")
                }
                break
            }
            try parser.consume(UnsafeBufferPointer(rebasing: chunk[0..<Int(read)]))
        }
        return try parser.finish()
    }

    /// Reads examples from CSV text in memory, with the same rules and messages as
    /// ``load(contentsOf:options:)`` (no gzip).
    /// - Parameters:
    ///   - csv: the CSV bytes (UTF-8 or ASCII).
    ///   - name: the name messages give for the text, like a file name.
    ///   - options: the label column, the header and the class count.
    /// - Throws: `FederationError` as ``load(contentsOf:options:)`` does.
    /// - Complexity: O(`csv.count`).
    public static func parse(
        csv: some Sequence<UInt8>,
        name: String,
        options: LoadOptions = LoadOptions()
    ) throws(FederationError) -> TrainingData {
        var parser = try CSVExampleParser(name: name, options: options)
        let bytes = Array(csv)
        try bytes.withUnsafeBufferPointer { (buffer) throws(FederationError) in try parser.consume(buffer) }
        return try parser.finish()
    }
}

/// A streaming CSV parser: bytes go in chunk by chunk, features and labels come out; nothing but the
/// current field (at most 256 bytes) and the first row's values is buffered.
struct CSVExampleParser {
    private static let maximumFieldLength = 256
    /// The largest label: a stray huge label cannot make the model allocate a huge output layer, and
    /// every label fits an `Int32`.
    static let largestInferredLabel = 999_999

    private let name: String
    private let options: TrainingData.LoadOptions

    private var line = 1
    private var column = 0
    private var cell: [UInt8] = []
    private var cellColumn = 1
    private var cellTooLong = false
    private var field = 0

    /// Known once the first row has ended.
    private var fieldCount: Int?
    private var labelIndex = 0
    private var firstRowLine = 0
    private var sawHeader = false

    private var firstRowValues: [Double?] = []
    private var firstRowColumns: [Int] = []
    private var firstNonNumeric: FederationError?
    private var namedLabelIndex: Int?

    private var features: [Float] = []
    private var labels: [Int32] = []
    private var largestLabel: Int32 = -1
    private var pendingLabel: Int32 = 0
    private var rowError: FederationError?
    private var extraFieldColumn: Int?

    init(name: String, options: TrainingData.LoadOptions) throws(FederationError) {
        self.name = name
        self.options = options
        if let classCount = options.classCount, !(1...(Self.largestInferredLabel + 1)).contains(classCount) {
            throw FederationError(
                .invalidConfiguration,
                "\(name): class count: expected an integer from 1 to \(Self.largestInferredLabel + 1), found \(classCount)"
            )
        }
        if options.maximumValueCount < 2 {
            throw FederationError(
                .invalidConfiguration,
                "\(name): maximum value count: expected at least 2, found \(options.maximumValueCount)"
            )
        }
        cell.reserveCapacity(Self.maximumFieldLength)
    }

    mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>) throws(FederationError) {
        for byte in bytes {
            column += 1
            switch byte {
            case UInt8(ascii: "\n"):
                try endLine()
                line += 1
                column = 0
                cellColumn = 1
            case UInt8(ascii: ","):
                try endCell()
                field += 1
                cellColumn = column + 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                if cell.isEmpty && !cellTooLong {
                    cellColumn = column + 1
                } else {
                    append(byte)
                }
            default:
                append(byte)
            }
        }
    }

    mutating func finish() throws(FederationError) -> TrainingData {
        try endLine()
        guard !labels.isEmpty else {
            let found = fieldCount == nil ? "an empty file" : "only a header row"
            throw FederationError(.trainingData, "\(name): expected at least one example, found \(found)")
        }
        let classCount = options.classCount ?? (Int(largestLabel) + 1)
        return TrainingData(
            unchecked: features,
            labels: labels,
            featureCount: fieldCount! - 1,
            classCount: classCount
        )
    }

    private mutating func append(_ byte: UInt8) {
        if cell.count < Self.maximumFieldLength {
            cell.append(byte)
        } else {
            cellTooLong = true
        }
    }

    private mutating func endLine() throws(FederationError) {
        trimCell()
        if field == 0 && cell.isEmpty && !cellTooLong {
            return  // a blank line
        }
        try endCell()
        try endRow()
        field = 0
        rowError = nil
        extraFieldColumn = nil
    }

    private mutating func trimCell() {
        while let last = cell.last,
            last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") || last == UInt8(ascii: "\r")
        {
            cell.removeLast()
        }
    }

    private var location: String { "\(name):\(line):\(cellColumn): field \(field + 1)" }

    private var cellText: String {
        let text = String(decoding: cell, as: UTF8.self)
        return cellTooLong ? String(reflecting: text + "…") : String(reflecting: text)
    }

    private mutating func endCell() throws(FederationError) {
        trimCell()
        defer {
            cell.removeAll(keepingCapacity: true)
            cellTooLong = false
        }
        let value = cellTooLong ? nil : parseNumber(cell)
        guard let fieldCount else {
            try requireRoom(for: firstRowValues.count + 1)
            firstRowValues.append(value)
            firstRowColumns.append(cellColumn)
            if value == nil && firstNonNumeric == nil {
                firstNonNumeric = nonNumericError()
            }
            if case .named(let labelName) = options.labelColumn, namedLabelIndex == nil,
                cell.elementsEqual(labelName.utf8)
            {
                namedLabelIndex = field
            }
            return
        }
        guard field < fieldCount else {
            if extraFieldColumn == nil { extraFieldColumn = cellColumn }
            return
        }
        guard rowError == nil else { return }
        guard let value else {
            rowError = nonNumericError()
            return
        }
        accept(value)
    }

    private func nonNumericError() -> FederationError {
        let found = cell.isEmpty && !cellTooLong ? "an empty field" : cellText
        return FederationError(.trainingData, "\(location): expected a number, found \(found)")
    }

    /// Takes one parsed value of a data row at `field`.
    private mutating func accept(_ value: Double) {
        guard field == labelIndex else {
            // A finite Double beyond Float's range would become an infinite feature.
            let feature = Float(value)
            guard feature.isFinite else {
                rowError = FederationError(
                    .trainingData,
                    "\(location): expected a number within ±\(Float.greatestFiniteMagnitude) (a 32-bit float), "
                        + "found \(format(value))"
                )
                return
            }
            features.append(feature)
            return
        }
        let limit = options.classCount.map { $0 - 1 } ?? Self.largestInferredLabel
        guard value >= 0, value.rounded(.towardZero) == value else {
            rowError = FederationError(
                .trainingData,
                "\(location): expected a label that is a non-negative integer, found \(format(value))"
            )
            return
        }
        guard value <= Double(limit) else {
            let expected =
                options.classCount.map { "a label below the class count \($0)" }
                ?? "a label of at most \(Self.largestInferredLabel)"
            rowError = FederationError(.trainingData, "\(location): expected \(expected), found \(format(value))")
            return
        }
        pendingLabel = Int32(value)
    }

    private func format(_ value: Double) -> String {
        if value.rounded(.towardZero) == value && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    private mutating func endRow() throws(FederationError) {
        guard let fieldCount else { return try endFirstRow() }
        let found = field + 1
        if found != fieldCount {
            let column = extraFieldColumn ?? cellColumn
            throw FederationError(
                .trainingData,
                "\(name):\(line):\(column): expected \(fieldCount) fields (as on line \(firstRowLine)), found \(found)"
            )
        }
        if let rowError { throw rowError }
        try requireRoom(for: features.count + labels.count + 1)
        labels.append(pendingLabel)
        largestLabel = max(largestLabel, pendingLabel)
    }

    private mutating func endFirstRow() throws(FederationError) {
        let count = field + 1
        let isHeader: Bool
        switch options.header {
        case .automatic: isHeader = firstNonNumeric != nil
        case .present: isHeader = true
        case .absent: isHeader = false
        }
        guard count >= 2 else {
            throw FederationError(
                .trainingData,
                "\(name):\(line):1: expected at least 2 fields (features and a label), found 1"
            )
        }
        switch options.labelColumn {
        case .last:
            labelIndex = count - 1
        case .index(let index):
            guard index >= 0 && index < count else {
                throw FederationError(
                    .invalidConfiguration,
                    "\(name):\(line): label column: expected an index in 0..<\(count), found \(index)"
                )
            }
            labelIndex = index
        case .named(let labelName):
            guard isHeader, let index = namedLabelIndex else {
                let found = isHeader ? "none" : "no header row"
                throw FederationError(
                    .invalidConfiguration,
                    "\(name):\(line): label column: expected a header field named \(String(reflecting: labelName)), "
                        + "found \(found)"
                )
            }
            labelIndex = index
        }
        fieldCount = count
        firstRowLine = line
        sawHeader = isHeader
        defer {
            firstRowValues = []
            firstRowColumns = []
        }
        guard !isHeader else { return }
        if let firstNonNumeric { throw firstNonNumeric }
        let lastCellColumn = cellColumn
        for (index, value) in firstRowValues.enumerated() {
            field = index
            cellColumn = firstRowColumns[index]
            accept(value!)
            if let rowError { throw rowError }
        }
        field = count - 1
        cellColumn = lastCellColumn
        try endRow()
    }

    private func requireRoom(for values: Int) throws(FederationError) {
        guard values <= options.maximumValueCount else {
            throw FederationError(
                .trainingData,
                "\(name):\(line): expected at most \(options.maximumValueCount) values (the load options' "
                    + "maximum value count), found more"
            )
        }
    }
}

private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22,
]

/// Parses a finite decimal number, or returns nil. Plain decimals with at most 15 significant digits
/// take an exact fast path (an integer below 2⁵³ divided by an exact power of ten rounds correctly);
/// anything else (exponents, long mantissas) goes through the standard library's correctly rounded parser.
private func parseNumber(_ bytes: [UInt8]) -> Double? {
    var index = 0
    var negative = false
    if index < bytes.count && (bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+")) {
        negative = bytes[index] == UInt8(ascii: "-")
        index += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var fractionDigits = 0
    var sawPoint = false
    var fastPath = true
    while index < bytes.count {
        let byte = bytes[index]
        if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
            if digits < 15 {
                mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                if mantissa > 0 { digits += 1 }
                if sawPoint { fractionDigits += 1 }
            } else {
                fastPath = false
                break
            }
        } else if byte == UInt8(ascii: ".") && !sawPoint {
            sawPoint = true
        } else {
            fastPath = false
            break
        }
        index += 1
    }
    let hasDigit = bytes.contains { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    if fastPath && hasDigit && fractionDigits < powersOfTen.count {
        let value = Double(mantissa) / powersOfTen[fractionDigits]
        return negative ? -value : value
    }
    // `Double(String)` stops at a NUL byte, so "1\0x" would read as 1.
    guard hasDigit, !bytes.contains(0), let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite
    else { return nil }
    return value
}
