public import Foundation
import SovereignBase

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
    /// streamed in 64 KiB chunks through SovereignBase's CSV tokenizer, so only the parsed floats and one
    /// record's text are held in memory, never the whole text. A quoted field is never a number (a quoted
    /// header name is read without its quotes).
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
        let reader: GzipReader
        do { reader = try GzipReader(path: path) } catch { throw FederationError(.io, error.description) }
        var parser = try CSVExampleParser(name: path, options: options)
        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
        defer { chunk.deallocate() }
        while true {
            let read: Int
            do { read = try reader.read(into: chunk) } catch { throw FederationError(.io, error.description) }
            if read == 0 { break }
            try parser.consume(UnsafeBufferPointer(rebasing: chunk[0..<read]))
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

/// A streaming reader of examples: bytes go in chunk by chunk, SovereignBase's CSV tokenizer turns them into
/// records one at a time, features and labels come out; only the current record (its fields cut at 4 KiB,
/// at most one field past the first row's count) and the parsed values are held.
struct CSVExampleParser {
    /// A field's bytes past this many (after leading blanks) make it too long to be a number; messages
    /// show this many and an ellipsis.
    static let maximumFieldLength = 256
    /// The largest label: a stray huge label cannot make the model allocate a huge output layer, and
    /// every label fits an `Int32`.
    static let largestInferredLabel = 999_999

    /// What the first row settles: how many fields every row has and which one is the label.
    private struct Shape {
        let fieldCount: Int
        let labelIndex: Int
        let line: Int
    }

    private let name: String
    private let options: TrainingData.LoadOptions
    private var stream: CSVTokenizer.Stream
    /// Known once the first row has been read.
    private var shape: Shape?
    private var features: [Float] = []
    private var labels: [Int32] = []
    private var largestLabel: Int32 = -1

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
        // The first row may have as many fields as values are allowed; one more is an error either way.
        stream = CSVTokenizer.Stream(maximumFieldBytes: 1 << 12, maximumFieldCount: options.maximumValueCount)
    }

    mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>) throws(FederationError) {
        var index = 0
        while let record = stream.nextRecord(in: bytes, from: &index) { try take(record) }
    }

    mutating func finish() throws(FederationError) -> TrainingData {
        let last: CSVRecord?
        do {
            last = try stream.finish()
        } catch {
            throw FederationError(.trainingData, "\(name):\(error.line):\(error.column): \(error.message)")
        }
        if let last { try take(last) }
        guard let shape, !labels.isEmpty else {
            let found = shape == nil ? "an empty file" : "only a header row"
            throw FederationError(.trainingData, "\(name): expected at least one example, found \(found)")
        }
        let classCount = options.classCount ?? (Int(largestLabel) + 1)
        return TrainingData(
            unchecked: features,
            labels: labels,
            featureCount: shape.fieldCount - 1,
            classCount: classCount
        )
    }

    private mutating func take(_ record: CSVRecord) throws(FederationError) {
        if record.fieldCount == 1, let only = record.fields.first, Cell(only).isBlank {
            return  // a blank line
        }
        if let shape {
            try takeRow(record, shape)
        } else {
            try takeFirstRow(record)
        }
    }

    /// Reads a data row: every field a number, one of them the label.
    private mutating func takeRow(_ record: CSVRecord, _ shape: Shape) throws(FederationError) {
        guard record.fieldCount == shape.fieldCount else {
            // At the first field too many, or at the last field of a short row.
            let field = record.fields[min(shape.fieldCount, record.fields.count - 1)]
            let column = Cell(field).column
            throw FederationError(
                .trainingData,
                "\(name):\(field.line):\(column): expected \(shape.fieldCount) fields (as on line \(shape.line)), "
                    + "found \(record.fieldCount)"
            )
        }
        var label: Int32 = 0
        for index in record.fields.indices {
            // A cell is made only for a message: reading a number copies nothing.
            guard let value = Cell.number(in: record.fields[index]) else {
                throw nonNumeric(Cell(record.fields[index]), field: index)
            }
            try take(value, field: index, shape: shape, label: &label) { Cell(record.fields[index]) }
        }
        try endRow(label: label, line: record.line)
    }

    /// Reads the first row: a header, or the first example, which settles the row shape either way.
    private mutating func takeFirstRow(_ record: CSVRecord) throws(FederationError) {
        try requireRoom(for: record.fieldCount, line: record.line)
        let cells = record.fields.map(Cell.init)
        let isHeader: Bool
        switch options.header {
        case .automatic: isHeader = cells.contains { $0.value == nil }
        case .present: isHeader = true
        case .absent: isHeader = false
        }
        guard cells.count >= 2 else {
            throw FederationError(
                .trainingData,
                "\(name):\(record.line):1: expected at least 2 fields (features and a label), found 1"
            )
        }
        let shape = Shape(
            fieldCount: cells.count,
            labelIndex: try labelIndex(in: cells, isHeader: isHeader, line: record.line),
            line: record.line
        )
        self.shape = shape
        stream.maximumFieldCount = shape.fieldCount + 1  // one more, to locate a row that has too many
        guard !isHeader else { return }
        let values = cells.compactMap(\.value)
        if let bad = cells.firstIndex(where: { $0.value == nil }) { throw nonNumeric(cells[bad], field: bad) }
        var label: Int32 = 0
        for (index, (cell, value)) in zip(cells, values).enumerated() {
            try take(value, field: index, shape: shape, label: &label) { cell }
        }
        try endRow(label: label, line: record.line)
    }

    /// The label column's index among the first row's `cells`.
    private func labelIndex(in cells: [Cell], isHeader: Bool, line: Int) throws(FederationError) -> Int {
        switch options.labelColumn {
        case .last:
            return cells.count - 1
        case .index(let index):
            guard index >= 0 && index < cells.count else {
                throw FederationError(
                    .invalidConfiguration,
                    "\(name):\(line): label column: expected an index in 0..<\(cells.count), found \(index)"
                )
            }
            return index
        case .named(let labelName):
            guard isHeader, let index = cells.firstIndex(where: { $0.name == labelName }) else {
                let found = isHeader ? "none" : "no header row"
                throw FederationError(
                    .invalidConfiguration,
                    "\(name):\(line): label column: expected a header field named \(String(reflecting: labelName)), "
                        + "found \(found)"
                )
            }
            return index
        }
    }

    private func nonNumeric(_ cell: Cell, field: Int) -> FederationError {
        let found = cell.isBlank ? "an empty field" : cell.quotedText
        return FederationError(.trainingData, "\(location(cell, field: field)): expected a number, found \(found)")
    }

    private func location(_ cell: Cell, field: Int) -> String {
        "\(name):\(cell.line):\(cell.column): field \(field + 1)"
    }

    /// Takes one parsed value of an example: a feature, appended, or its `label`.
    ///
    /// - Parameter cell: the value's cell, for a message.
    private mutating func take(
        _ value: Double,
        field: Int,
        shape: Shape,
        label: inout Int32,
        cell: () -> Cell
    ) throws(FederationError) {
        guard field == shape.labelIndex else {
            // A finite Double beyond Float's range would become an infinite feature.
            let feature = Float(value)
            guard feature.isFinite else {
                throw FederationError(
                    .trainingData,
                    "\(location(cell(), field: field)): expected a number within ±\(Float.greatestFiniteMagnitude) "
                        + "(a 32-bit float), found \(format(value))"
                )
            }
            features.append(feature)
            return
        }
        let limit = options.classCount.map { $0 - 1 } ?? Self.largestInferredLabel
        guard value >= 0, value.rounded(.towardZero) == value else {
            throw FederationError(
                .trainingData,
                "\(location(cell(), field: field)): expected a label that is a non-negative integer, found \(format(value))"
            )
        }
        guard value <= Double(limit) else {
            let expected =
                options.classCount.map { "a label below the class count \($0)" }
                ?? "a label of at most \(Self.largestInferredLabel)"
            throw FederationError(
                .trainingData,
                "\(location(cell(), field: field)): expected \(expected), found \(format(value))"
            )
        }
        label = Int32(value)
    }

    private func format(_ value: Double) -> String {
        if value.rounded(.towardZero) == value && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    private mutating func endRow(label: Int32, line: Int) throws(FederationError) {
        try requireRoom(for: features.count + labels.count + 1, line: line)
        labels.append(label)
        largestLabel = max(largestLabel, label)
    }

    private func requireRoom(for values: Int, line: Int) throws(FederationError) {
        guard values <= options.maximumValueCount else {
            throw FederationError(
                .trainingData,
                "\(name):\(line): expected at most \(options.maximumValueCount) values (the load options' "
                    + "maximum value count), found more"
            )
        }
    }
}

/// A field as the example reader sees it: the blanks (spaces, tabs, carriage returns) around it dropped,
/// its first 256 bytes, and its number if it is one. A quoted field is never a number.
private struct Cell {
    let field: CSVField
    /// Where the field's bytes lie in `field.raw`, blanks around them dropped, at most 256.
    let content: Range<Int>
    /// Whether the field had more than 256 bytes after its leading blanks.
    let isTooLong: Bool
    /// The field's number, if it is a finite one.
    let value: Double?

    init(_ field: CSVField) {
        self.field = field
        let raw = field.raw
        var start = raw.startIndex
        while start < raw.endIndex, Self.isBlank(raw[start]) { start += 1 }
        isTooLong = field.isTruncated || raw.endIndex - start > CSVExampleParser.maximumFieldLength
        var end = min(raw.endIndex, start + CSVExampleParser.maximumFieldLength)
        while end > start, Self.isBlank(raw[end - 1]) { end -= 1 }
        content = start..<end
        value = isTooLong ? nil : Self.number(in: field)
    }

    /// The number in `field` (blanks around it dropped), or `nil` when it holds none or is quoted or too long.
    static func number(in field: CSVField) -> Double? {
        guard !field.isQuoted, !field.isTruncated else { return nil }
        return field.raw.withUnsafeBufferPointer { bytes in
            var start = 0
            while start < bytes.count, isBlank(bytes[start]) { start += 1 }
            guard bytes.count - start <= CSVExampleParser.maximumFieldLength else { return nil }
            var end = bytes.count
            while end > start, isBlank(bytes[end - 1]) { end -= 1 }
            return parseNumber(UnsafeBufferPointer(rebasing: bytes[start..<end]))
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// The line of the field's content.
    var line: Int { field.line }
    /// Where the field's content starts, or, for a blank field, where it ends.
    var column: Int { field.column + (content.lowerBound - field.raw.startIndex) }

    /// Whether the field is empty but for blanks.
    var isBlank: Bool { content.isEmpty && !isTooLong }

    /// The field as a header name: its decoded text if quoted, else its bytes without the blanks around them.
    var name: String { field.isQuoted ? field.text : String(decoding: field.raw[content], as: UTF8.self) }

    /// The field as messages quote it, cut with an ellipsis if too long.
    var quotedText: String {
        let text = String(decoding: field.raw[content], as: UTF8.self)
        return isTooLong ? String(reflecting: text + "…") : String(reflecting: text)
    }
}

private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22,
]

/// Parses a finite decimal number, or returns nil. Plain decimals with at most 15 significant digits
/// take an exact fast path (an integer below 2⁵³ divided by an exact power of ten rounds correctly);
/// anything else (exponents, long mantissas) goes through the standard library's correctly rounded parser.
private func parseNumber(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
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
