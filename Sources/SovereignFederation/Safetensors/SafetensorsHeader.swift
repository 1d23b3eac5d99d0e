import SovereignBase

/// One tensor in a safetensors file's table: its name, dtype, shape and where its bytes are.
public struct SafetensorsTensorInfo: Sendable, Hashable {
    /// The tensor's name (its key in the header).
    public let name: String
    /// The element type.
    public let dtype: SafetensorsDType
    /// The shape, outermost dimension first; `[]` is a scalar, a zero dimension an empty tensor.
    public let shape: [Int]
    /// The tensor's bytes, relative to the start of the data section (the byte after the header).
    public let byteRange: Range<Int>

    /// The number of elements: the product of the shape (1 for a scalar).
    public var elementCount: Int { byteRange.count / dtype.byteSize }
}

/// The validated header of a safetensors buffer.
struct SafetensorsHeader: Sendable {
    /// `__metadata__`, empty when absent or `null`.
    var metadata: [String: String]
    /// The tensors, sorted by data offsets (so they tile the data section in order).
    var tensors: [SafetensorsTensorInfo]
    /// The header's length N; the data section starts at byte 8 + N.
    var headerLength: Int

    /// The largest header accepted, as in the reference implementation (100 MB).
    static let maximumLength = 100_000_000
    /// The deepest JSON nesting accepted (serde_json's default recursion limit).
    static let maximumDepth = 128

    /// Parses and validates the header of a whole safetensors buffer, with the reference implementation's
    /// rules, and a few stricter ones it documents but does not enforce (the header must start with `{`;
    /// duplicate keys are rejected anywhere instead of the last one winning).
    ///
    /// - Parameters:
    ///   - buffer: The whole file.
    ///   - source: What to call the buffer in error messages (a path).
    /// - Throws: ``FederationError`` `.malformedSafetensors` naming the byte offset or tensor, what was expected
    ///   and what was found.
    /// - Complexity: O(N + t log t) for an N-byte header with t tensors; memory O(N).
    static func parse(_ buffer: UnsafeRawBufferPointer, source: String) throws -> SafetensorsHeader {
        func fail(_ message: String) -> FederationError {
            FederationError(.malformedSafetensors, "\(source): \(message)")
        }
        guard buffer.count >= 8 else {
            throw fail("byte 0: expected an 8-byte little-endian header length, found a \(buffer.count)-byte file")
        }
        let declared = buffer.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard declared <= UInt64(maximumLength) else {
            throw fail("byte 0: expected a header length of at most \(maximumLength) bytes, found \(declared)")
        }
        let n = Int(declared)
        guard 8 + n <= buffer.count else {
            throw fail(
                "byte 0: header length \(n) runs past the end of the file: expected at most \(buffer.count - 8), "
                    + "found \(n)"
            )
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: buffer[8..<(8 + n)])
        var parser = HeaderParser(bytes: headerBytes, source: source)
        let (metadata, entries) = try parser.parseHeader()

        // Sort by offsets as the reference does, then require the ranges to tile the data section.
        let sorted = entries.sorted { ($0.begin, $0.end, $0.position) < ($1.begin, $1.end, $1.position) }
        let dataLength = buffer.count - 8 - n
        var expectedBegin = 0
        var tensors: [SafetensorsTensorInfo] = []
        tensors.reserveCapacity(sorted.count)
        for entry in sorted {
            tensors.append(try entry.validated(expectedBegin: expectedBegin, dataLength: dataLength, source: source))
            expectedBegin = entry.end
        }
        guard expectedBegin == dataLength else {
            throw fail(
                "byte \(8 + n + expectedBegin): the tensors cover \(expectedBegin) bytes of data but the data section "
                    + "holds \(dataLength): expected no trailing bytes (incomplete metadata)"
            )
        }
        return SafetensorsHeader(metadata: metadata, tensors: tensors, headerLength: n)
    }
}

/// A tensor entry as read, before the table is validated.
private struct RawEntry {
    var name: String
    var dtype: SafetensorsDType
    var shape: [Int]
    var begin: Int
    var end: Int
    var position: Int

    /// The entry as a table row, when its data offsets begin at `expectedBegin`, hold exactly its shape's
    /// bytes and stay inside the data section.
    ///
    /// - Throws: ``FederationError`` `.malformedSafetensors` naming the tensor.
    func validated(expectedBegin: Int, dataLength: Int, source: String) throws -> SafetensorsTensorInfo {
        guard begin == expectedBegin, end >= begin else {
            let found = "[\(begin), \(end)]"
            if end < begin {
                throw Self.fail(
                    source,
                    "tensor \(name): expected data_offsets [begin, end] with begin ≤ end, found \(found)"
                )
            }
            let what = begin < expectedBegin ? "overlaps the previous tensor" : "leaves a hole before it"
            throw Self.fail(
                source,
                "tensor \(name): data_offsets \(what): expected it to begin at \(expectedBegin), "
                    + "found \(found)"
            )
        }
        var elements = 1
        for dimension in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw Self.fail(source, "tensor \(name): shape \(shape) overflows when multiplied out")
            }
            elements = product
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw Self.fail(source, "tensor \(name): shape \(shape) × \(dtype.byteSize) bytes overflows")
        }
        guard end - begin == byteCount else {
            throw Self.fail(
                source,
                "tensor \(name): expected \(byteCount) bytes for \(dtype.rawValue) \(shape), "
                    + "found data_offsets [\(begin), \(end)] (\(end - begin) bytes)"
            )
        }
        guard end <= dataLength else {
            throw Self.fail(
                source,
                "tensor \(name): expected data_offsets inside the \(dataLength)-byte data section, "
                    + "found [\(begin), \(end)]"
            )
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    private static func fail(_ source: String, _ message: String) -> FederationError {
        FederationError(.malformedSafetensors, "\(source): \(message)")
    }
}

/// The header's shape read with the shared ``JSONReader``: bounded depth, no floats or negative integers
/// where sizes go, duplicate keys rejected, every error with its byte offset in the file.
private struct HeaderParser {
    var reader: JSONReader
    let source: String

    init(bytes: UnsafeRawBufferPointer, source: String) {
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        self.reader = JSONReader(UnsafeBufferPointer(start: base, count: bytes.count))
        self.source = source
    }

    var bytes: UnsafeBufferPointer<UInt8> { reader.bytes }

    var index: Int {
        get { reader.position }
        set { reader.position = newValue }
    }

    func fail(_ message: String, at position: Int? = nil) -> FederationError {
        FederationError(.malformedSafetensors, "\(source): byte \(8 + (position ?? index)): header: \(message)")
    }

    func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "the end of the header" }
        let byte = bytes[offset]
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    func describeCurrent() -> String { describe(index) }

    /// The shared reader's refusal as the header phrases it.
    func fail(_ error: JSONReadError) -> FederationError {
        let at = error.offset
        switch error.expected {
        case .value where at >= bytes.count: return fail("expected a value, found the end of the header", at: at)
        case .literal(let word): return fail("expected \(word), found \(describe(at))", at: at)
        case .string, .key: return fail("expected a string, found \(describe(at))", at: at)
        case .colon: return fail("expected ':', found \(describe(at))", at: at)
        case .commaOrClose(let closer):
            return fail("expected ',' or '\(Character(Unicode.Scalar(closer)))', found \(describe(at))", at: at)
        case .stringCharacter:
            return fail(
                "expected no control characters in a string, found byte 0x\(String(bytes[at], radix: 16))",
                at: at
            )
        case .escape: return fail("expected an escape, found the end of the header", at: at)
        case .validEscape:
            return fail("expected a JSON escape, found '\\\(Character(Unicode.Scalar(bytes[at + 1])))'", at: at)
        case .hexDigits(let start, _) where start + 4 > bytes.count:
            return fail("expected 4 hex digits after \\u, found the end", at: start)
        case .hexDigits: return fail("expected a hex digit after \\u, found \(describe(at))", at: at)
        case .lowSurrogateEscape(_, let high):
            return fail("expected a low surrogate after \\u\(String(high, radix: 16))", at: at)
        case .lowSurrogate(_, let low):
            return fail("expected a low surrogate, found \\u\(String(low, radix: 16))", at: at)
        case .loneLowSurrogate(_, let unit):
            return fail("expected a character, found a lone low surrogate \\u\(String(unit, radix: 16))", at: at)
        case .closingQuote(let start): return fail("expected a closing '\"' for the string", at: start)
        case .utf8(let start): return fail("expected UTF-8 text in the string, found invalid bytes", at: start)
        case .digit(let start): return fail("expected a number, found \(describe(at))", at: start)
        case .noLeadingZero(let start, _): return fail("expected a JSON number, found a leading zero", at: start)
        case .fractionDigit: return fail("expected digits after '.', found \(describe(at))", at: at)
        case .exponentDigit: return fail("expected exponent digits, found \(describe(at))", at: at)
        case .depth:
            return fail("expected JSON nested at most \(SafetensorsHeader.maximumDepth) deep, found deeper", at: at)
        case .uniqueKey(let key): return fail("expected unique keys, found \"\(key)\" twice", at: at)
        case .value, .finiteNumber, .end: return fail("expected a JSON value, found \(describe(at))", at: at)
        }
    }

    /// A string at the cursor, unescaped, validated as UTF-8 (lone surrogates rejected).
    mutating func parseString() throws -> String {
        do {
            return try reader.readString()
        } catch {
            throw fail(error)
        }
    }

    mutating func skipWhitespace() { reader.skipWhitespace() }

    mutating func expect(_ byte: UInt8, _ what: String) throws {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else {
            throw fail("expected \(what), found \(describeCurrent())")
        }
        index += 1
    }

    /// Reads `,` (true) or the closing `close` (false) after a member or element.
    mutating func nextOrClose(_ close: UInt8, _ what: String) throws -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw fail("expected ',' or \(what), found the end of the header") }
        if bytes[index] == UInt8(ascii: ",") {
            index += 1
            return true
        }
        if bytes[index] == close {
            index += 1
            return false
        }
        throw fail("expected ',' or \(what), found \(describeCurrent())")
    }

    /// Reads an object's members after its `{`: each key and the `:` after it (named in an error as
    /// `':' after <keyPrefix><key>`, the key in quotes when `quoted`), then `member` with the key and its
    /// offset, which reads the value; `closing` names the `}`.
    mutating func members(
        keyPrefix: String,
        quoted: Bool,
        closing: String,
        _ member: (inout HeaderParser, String, Int) throws -> Void
    ) throws {
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        repeat {
            skipWhitespace()
            let keyOffset = index
            let key = try parseString()
            try expect(UInt8(ascii: ":"), "':' after \(keyPrefix)\(quoted ? "\"\(key)\"" : key)")
            try member(&self, key, keyOffset)
        } while try nextOrClose(UInt8(ascii: "}"), closing)
    }

    mutating func parseHeader() throws -> ([String: String], [RawEntry]) {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
            throw fail("expected the header to begin with '{', found \(describeCurrent())")
        }
        index += 1
        var metadata: [String: String]?
        var entries: [RawEntry] = []
        var names: Set<String> = []
        try members(keyPrefix: "key ", quoted: true, closing: "'}'") { parser, key, keyOffset in
            guard names.insert(key).inserted else {
                throw parser.fail("expected unique keys, found \"\(key)\" twice", at: keyOffset)
            }
            if key == "__metadata__" {
                metadata = try parser.parseMetadata()
            } else {
                entries.append(try parser.parseEntry(name: key, position: entries.count))
            }
        }
        skipWhitespace()
        guard index == bytes.count else {
            throw fail("expected only whitespace after the header's closing '}', found \(describeCurrent())")
        }
        return (metadata ?? [:], entries)
    }

    mutating func parseMetadata() throws -> [String: String]? {
        skipWhitespace()
        if try parseNullIfPresent() { return nil }
        try expect(UInt8(ascii: "{"), "__metadata__ to be an object of strings")
        var result: [String: String] = [:]
        try members(keyPrefix: "__metadata__ key ", quoted: true, closing: "'}' closing __metadata__") {
            parser,
            key,
            keyOffset in
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else {
                throw parser.fail("__metadata__.\(key): expected a string value, found \(parser.describeCurrent())")
            }
            let value = try parser.parseString()
            guard result.updateValue(value, forKey: key) == nil else {
                throw parser.fail("__metadata__: expected unique keys, found \"\(key)\" twice", at: keyOffset)
            }
        }
        return result
    }

    mutating func parseNullIfPresent() throws -> Bool {
        guard index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n") else { return false }
        guard !reader.consumeNull() else { return true }
        throw fail("expected null, found \(describeCurrent())")
    }

    mutating func parseEntry(name: String, position: Int) throws -> RawEntry {
        let entryOffset = index
        try expect(UInt8(ascii: "{"), "tensor \(name) to be an object {\"dtype\", \"shape\", \"data_offsets\"}")
        var dtype: SafetensorsDType?
        var shape: [Int]?
        var offsets: [Int]?
        var seen: Set<String> = []
        try members(keyPrefix: "\(name).", quoted: false, closing: "'}' closing tensor \(name)") {
            parser,
            key,
            keyOffset in
            guard seen.insert(key).inserted else {
                throw parser.fail("tensor \(name): expected unique fields, found \"\(key)\" twice", at: keyOffset)
            }
            parser.skipWhitespace()
            switch key {
            case "dtype": dtype = try parser.parseDType(name: name)
            case "shape": shape = try parser.parseSizes(field: "\(name).shape", count: nil)
            case "data_offsets": offsets = try parser.parseSizes(field: "\(name).data_offsets", count: 2)
            // The reference ignores unknown fields; so do we, after checking they are valid JSON.
            default: try parser.skipValue()
            }
        }
        guard let dtype else { throw fail("tensor \(name): expected a dtype field, found none", at: entryOffset) }
        guard let shape else { throw fail("tensor \(name): expected a shape field, found none", at: entryOffset) }
        guard let offsets else {
            throw fail("tensor \(name): expected a data_offsets field, found none", at: entryOffset)
        }
        return RawEntry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1], position: position)
    }

    /// Tensor `name`'s dtype, a string naming one of ``SafetensorsDType``.
    mutating func parseDType(name: String) throws -> SafetensorsDType {
        let valueOffset = index
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            throw fail("tensor \(name): dtype: expected a string, found \(describeCurrent())")
        }
        let spelling = try parseString()
        guard let parsed = SafetensorsDType(rawValue: spelling) else {
            throw fail(
                "tensor \(name): dtype: expected one of \(SafetensorsDType.spellings), found \"\(spelling)\"",
                at: valueOffset
            )
        }
        return parsed
    }

    /// An array of non-negative integers that fit in `Int`, optionally of an exact length.
    mutating func parseSizes(field: String, count: Int?) throws -> [Int] {
        skipWhitespace()
        let arrayOffset = index
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else {
            throw fail("\(field): expected an array of non-negative integers, found \(describeCurrent())")
        }
        index += 1
        var values: [Int] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
        } else {
            repeat {
                skipWhitespace()
                values.append(try parseSize(field: field))
            } while try nextOrClose(UInt8(ascii: "]"), "']' closing \(field)")
        }
        if let count, values.count != count {
            throw fail("\(field): expected \(count) integers, found \(values.count)", at: arrayOffset)
        }
        return values
    }

    mutating func parseSize(field: String) throws -> Int {
        let start = index
        guard index < bytes.count else { throw fail("\(field): expected a non-negative integer, found the end") }
        let first = bytes[index]
        if first == UInt8(ascii: "-") {
            throw fail("\(field): expected a non-negative integer, found a negative number")
        }
        guard first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") else {
            throw fail("\(field): expected a non-negative integer, found \(describeCurrent())")
        }
        var value = 0
        var overflowed = false
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let digit = Int(bytes[index] - UInt8(ascii: "0"))
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(digit)
            overflowed = overflowed || o1 || o2
            value = sum
            index += 1
        }
        if first == UInt8(ascii: "0") && index - start > 1 {
            throw fail("\(field): expected a JSON integer, found a leading zero", at: start)
        }
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
            throw fail("\(field): expected a non-negative integer, found a fraction or exponent", at: start)
        }
        if overflowed {
            let digits = reader.text(in: start..<index)
            throw fail("\(field): expected an integer of at most \(Int.max), found \(digits)", at: start)
        }
        return value
    }

    /// Skips an unknown field's value: any JSON value, nested at most ``SafetensorsHeader/maximumDepth`` deep
    /// in the header, with unique keys.
    mutating func skipValue() throws {
        do {
            try reader.skipValue(maximumDepth: SafetensorsHeader.maximumDepth - 2, uniqueKeys: true)
        } catch {
            throw fail(error)
        }
    }
}
