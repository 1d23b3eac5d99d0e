/// One field of a CSV record: its bytes as written, where it starts and whether it was quoted.
public struct CSVField: Sendable, Equatable {
    /// The field as written (its quotes, if quoted, included; the record's line ending not), at most the
    /// stream's ``CSVTokenizer/Stream/maximumFieldBytes``.
    public var raw: ArraySlice<UInt8>
    /// The 1-based line of the field's first byte (its opening quote, if quoted).
    public var line: Int
    /// The 1-based byte column of the field's first byte (its opening quote, if quoted) in its line.
    public var column: Int
    /// Whether the field is wholly inside double quotes (`"1,5"`), so its commas and line breaks are its own.
    public var isQuoted: Bool
    /// Whether bytes past the stream's ``CSVTokenizer/Stream/maximumFieldBytes`` were dropped from `raw`.
    public var isTruncated: Bool

    /// Makes a field.
    public init(raw: ArraySlice<UInt8>, line: Int = 1, column: Int, isQuoted: Bool = false, isTruncated: Bool = false) {
        self.raw = raw
        self.line = line
        self.column = column
        self.isQuoted = isQuoted
        self.isTruncated = isTruncated
    }

    /// The field's bytes without its surrounding quotes, without copying; a doubled quote inside a quoted
    /// field stays doubled here (``text`` reads it as one).
    public var bytes: ArraySlice<UInt8> {
        guard isQuoted else { return raw }
        return isTruncated ? raw.dropFirst() : raw.dropFirst().dropLast()
    }

    /// The field's text: quotes removed, a doubled quote read as one, invalid UTF-8 repaired.
    public var text: String {
        let value = bytes
        guard isQuoted, value.contains(CSVGrammar.quote) else { return String(decoding: value, as: UTF8.self) }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(value.count)
        var previousWasQuote = false
        for byte in value {
            if byte == CSVGrammar.quote, previousWasQuote {
                previousWasQuote = false
                continue
            }
            previousWasQuote = byte == CSVGrammar.quote
            unescaped.append(byte)
        }
        return String(decoding: unescaped, as: UTF8.self)
    }
}

/// One CSV record: its fields, in order, and where it starts.
public struct CSVRecord: Sendable, Equatable {
    /// The 1-based line the record starts on (a quoted field may carry it over later lines).
    public var line: Int
    /// The record's fields, up to the stream's ``CSVTokenizer/Stream/maximumFieldCount``.
    public var fields: [CSVField]
    /// How many fields the record has, counting those past the stream's limit that `fields` does not keep.
    public var fieldCount: Int

    /// Makes a record.
    public init(line: Int, fields: [CSVField], fieldCount: Int) {
        self.line = line
        self.fields = fields
        self.fieldCount = fieldCount
    }
}

/// A CSV input that ends inside a quoted field, with where that field opens.
public struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case unterminatedQuote
    }

    private let code: Code
    /// The 1-based line of the problem.
    public let line: Int
    /// The 1-based byte column of the problem in its line.
    public let column: Int

    /// An input that ended inside the quoted field opening at `line`:`column`.
    static func unterminatedQuote(line: Int, column: Int) -> CSVError {
        CSVError(code: .unterminatedQuote, line: line, column: column)
    }

    /// What was expected and what was found, without the location.
    public var message: String {
        switch code {
        case .unterminatedQuote:
            "expected a closing double quote for the field that opens here, found the end of the input"
        }
    }

    /// `line:column: message`, for a reader to prefix with its file name.
    public var description: String { "\(line):\(column): \(message)" }
}

/// The field grammar every CSV reader in Sovereign shares (RFC 4180, leniently), one byte at a time.
///
/// A field that starts with a double quote runs to the matching closing quote; inside it, commas and line
/// feeds are the field's own and a doubled quote is a quote. Bytes after a closing quote make the field an
/// unquoted one (`"a"b` is the three bytes as written). Elsewhere a quote is an ordinary byte, a comma ends
/// a field and a line feed ends a record; a carriage return before that line feed belongs to neither.
struct CSVGrammar: Sendable {
    static let quote: UInt8 = 0x22
    static let comma: UInt8 = 0x2C
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D

    /// Where in a field the grammar is.
    enum State: Sendable {
        /// Before a field's first byte.
        case fieldStart
        /// Inside a field that did not start with a quote.
        case unquoted
        /// Inside quotes.
        case quoted
        /// Just after a quote inside quotes: the closing one, or the first of a doubled pair.
        case quoteInQuoted
        /// After a closing quote, a carriage return: the start of a CRLF line ending, or of more bytes.
        case closedThenCR
    }

    /// What one byte did.
    enum Step: Sendable {
        /// It belongs to the current field (a line feed here is inside quotes).
        case content
        /// It is the comma that ends the current field.
        case fieldEnd
        /// It is the line feed that ends the current field and record.
        case recordEnd
    }

    private(set) var state = State.fieldStart

    /// Whether the input stopped here would leave a quoted field open.
    var isInsideQuotes: Bool { state == .quoted }

    /// Whether the field ending here (by a comma, a line ending or the end of the input) is quoted.
    var fieldIsQuoted: Bool { state == .quoteInQuoted || state == .closedThenCR }

    /// Takes one byte.
    ///
    /// - Returns: Whether the byte is content, ends a field or ends a record. After `fieldEnd` and
    ///   `recordEnd` the grammar is ready for the next field, once ``fieldIsQuoted`` has been read: call
    ///   ``endField()`` then.
    @inline(__always)
    mutating func step(_ byte: UInt8) -> Step {
        switch state {
        case .fieldStart:
            if byte == Self.comma { return .fieldEnd }
            if byte == Self.lineFeed { return .recordEnd }
            state = byte == Self.quote ? .quoted : .unquoted
        case .unquoted:
            if byte == Self.comma { return .fieldEnd }
            if byte == Self.lineFeed { return .recordEnd }
        case .quoted:
            if byte == Self.quote { state = .quoteInQuoted }
        case .quoteInQuoted:
            if byte == Self.comma { return .fieldEnd }
            if byte == Self.lineFeed { return .recordEnd }
            state = byte == Self.quote ? .quoted : byte == Self.carriageReturn ? .closedThenCR : .unquoted
        case .closedThenCR:
            if byte == Self.lineFeed { return .recordEnd }
            if byte == Self.comma {
                state = .unquoted  // `"a"\r,`: the carriage return is the field's, so it is not quoted
                return .fieldEnd
            }
            state = .unquoted
        }
        return .content
    }

    /// Starts the next field, after a `fieldEnd` or `recordEnd` step or the end of the input.
    @inline(__always)
    mutating func endField() { state = .fieldStart }
}

/// Sovereign's one CSV tokenizer over a whole file in memory: lines (LF or CRLF, numbered from 1), and
/// fields located by column, without copying the file's bytes; readers locate their errors with these
/// numbers as `file:line:column` (SovereignModel's `SourceLocation`).
///
/// Fields follow the grammar the streaming ``Stream`` uses. ``records()`` reads whole records, whose quoted
/// fields may hold line breaks; the line-by-line API (``forEachLine(_:)``, ``fields(of:line:into:)``) is
/// for formats whose records are lines (traces), where a quote left open closes at the line's end.
public struct CSVTokenizer: Sendable {
    /// The whole file.
    public let bytes: [UInt8]

    /// Makes a tokenizer over a file's bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The file's records, read by a ``Stream`` fed the whole text at once.
    ///
    /// - Throws: `CSVError` when the file ends inside a quoted field.
    /// - Complexity: O(file size).
    public func records() throws(CSVError) -> [CSVRecord] {
        var stream = Stream()
        var result: [CSVRecord] = []
        var index = 0
        while let record = stream.nextRecord(in: bytes, from: &index) { result.append(record) }
        if let last = try stream.finish() { result.append(last) }
        return result
    }

    /// Calls `body` with each line's 1-based number and bytes (a trailing CR removed), without copying.
    /// A last line without a newline counts; an empty last line after the final newline does not.
    ///
    /// - Complexity: O(file size).
    public func forEachLine(_ body: (Int, ArraySlice<UInt8>) -> Void) {
        var start = 0
        var number = 1
        bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            let count = buffer.count
            while i < count {
                if buffer[i] == CSVGrammar.lineFeed {
                    body(number, Self.trimCR(bytes[start..<i]))
                    number += 1
                    start = i + 1
                }
                i += 1
            }
        }
        if start < bytes.count { body(number, Self.trimCR(bytes[start..<bytes.count])) }
    }

    /// The first `count` lines (fewer if the file has fewer), CRs removed.
    public func firstLines(_ count: Int) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i < bytes.count, result.count < count {
            if bytes[i] == CSVGrammar.lineFeed {
                result.append(Self.trimCR(bytes[start..<i]))
                start = i + 1
            }
            i += 1
        }
        if result.count < count, start < bytes.count { result.append(Self.trimCR(bytes[start..<bytes.count])) }
        return result
    }

    /// The fields of the line numbered `wanted`, or `nil` when the file has no such line (for messages
    /// about a line found earlier by number).
    public func fields(ofLine wanted: Int) -> [CSVField]? {
        var result: [CSVField]?
        forEachLine { number, line in
            if number == wanted { result = Self.fields(of: line, line: number) }
        }
        return result
    }

    /// Splits one line into fields.
    public static func fields(of line: ArraySlice<UInt8>, line number: Int = 1) -> [CSVField] {
        var result: [CSVField] = []
        fields(of: line, line: number, into: &result)
        return result
    }

    /// Splits one line (a trailing CR is not part of it) into `result`, reusing its storage: reading a
    /// year of rows then allocates nothing per row. Fields are sliced from `line`, not copied; a quote
    /// still open at the line's end makes its field an unquoted one, as written.
    ///
    /// - Parameters:
    ///   - line: the line's bytes, without its line feed.
    ///   - number: the line's 1-based number, which each field carries.
    ///   - result: emptied, then filled with the line's fields.
    public static func fields(of line: ArraySlice<UInt8>, line number: Int = 1, into result: inout [CSVField]) {
        result.removeAll(keepingCapacity: true)
        var grammar = CSVGrammar()
        var fieldStart = line.startIndex
        var i = line.startIndex
        while i < line.endIndex {
            if grammar.step(line[i]) != .content {
                result.append(field(line, fieldStart..<i, number, quoted: grammar.fieldIsQuoted))
                grammar.endField()
                fieldStart = i + 1
            }
            i += 1
        }
        let end = line[fieldStart...].last == CSVGrammar.carriageReturn ? line.endIndex - 1 : line.endIndex
        result.append(field(line, fieldStart..<end, number, quoted: grammar.fieldIsQuoted))
    }

    /// `line` without a trailing carriage return.
    public static func trimCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == CSVGrammar.carriageReturn ? line.dropLast() : line
    }

    private static func field(
        _ line: ArraySlice<UInt8>,
        _ range: Range<Int>,
        _ number: Int,
        quoted: Bool
    ) -> CSVField {
        CSVField(raw: line[range], line: number, column: range.lowerBound - line.startIndex + 1, isQuoted: quoted)
    }
}
