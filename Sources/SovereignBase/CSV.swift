/// One field of a CSV line: its bytes (without surrounding double quotes) and where it starts.
public struct CSVField: Sendable {
    /// The field's bytes, a slice of the file's, quotes removed.
    public var bytes: ArraySlice<UInt8>
    /// The 1-based byte column of the field's first byte (its opening quote, if quoted) in its line.
    public var column: Int

    /// Makes a field.
    public init(bytes: ArraySlice<UInt8>, column: Int) {
        self.bytes = bytes
        self.column = column
    }

    /// The field's text (invalid UTF-8 repaired).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Sovereign's one CSV tokenizer: lines (LF or CRLF, numbered from 1) and comma-separated fields that
/// honour double quotes, each with its column, without copying the file's bytes. Readers locate their
/// errors with these numbers as `file:line:column` (SovereignModel's `SourceLocation`).
public struct CSVTokenizer: Sendable {
    /// The whole file.
    public let bytes: [UInt8]

    /// Makes a tokenizer over a file's bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

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
                if buffer[i] == 0x0A {
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
            if bytes[i] == 0x0A {
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
            if number == wanted { result = Self.fields(of: line) }
        }
        return result
    }

    /// Splits one line into fields.
    public static func fields(of line: ArraySlice<UInt8>) -> [CSVField] {
        var result: [CSVField] = []
        fields(of: line, into: &result)
        return result
    }

    /// Splits one line into `result`, reusing its storage: reading a year of rows then allocates nothing
    /// per row. Commas inside double quotes do not split; a field wholly inside quotes loses them.
    public static func fields(of line: ArraySlice<UInt8>, into result: inout [CSVField]) {
        result.removeAll(keepingCapacity: true)
        var i = line.startIndex
        var fieldStart = i
        var inQuotes = false
        while i < line.endIndex {
            let b = line[i]
            if b == 0x22 {
                inQuotes.toggle()
            } else if b == 0x2C, !inQuotes {
                result.append(CSVField(bytes: unquote(line[fieldStart..<i]), column: fieldStart - line.startIndex + 1))
                fieldStart = i + 1
            }
            i += 1
        }
        result.append(
            CSVField(bytes: unquote(line[fieldStart..<line.endIndex]), column: fieldStart - line.startIndex + 1)
        )
    }

    /// `line` without a trailing carriage return.
    public static func trimCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == 0x0D ? line.dropLast() : line
    }

    private static func unquote(_ field: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        if field.count >= 2, field.first == 0x22, field.last == 0x22 { return field.dropFirst().dropLast() }
        return field
    }
}
