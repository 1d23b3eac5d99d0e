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

/// A strict JSON reader for exactly the header's shape: bounded depth, no floats or negative integers where
/// sizes go, duplicate keys rejected, every error with its byte offset in the file.
private struct HeaderParser {
    let bytes: UnsafeRawBufferPointer
    let source: String
    var index = 0

    init(bytes: UnsafeRawBufferPointer, source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// The current position as a byte offset in the file (the header starts at byte 8).
    var offset: Int { 8 + index }

    func fail(_ message: String, at position: Int? = nil) -> FederationError {
        FederationError(.malformedSafetensors, "\(source): byte \(8 + (position ?? index)): header: \(message)")
    }

    func describeCurrent() -> String {
        guard index < bytes.count else { return "the end of the header" }
        let byte = bytes[index]
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

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

    mutating func parseHeader() throws -> ([String: String], [RawEntry]) {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
            throw fail("expected the header to begin with '{', found \(describeCurrent())")
        }
        index += 1
        var metadata: [String: String]?
        var entries: [RawEntry] = []
        var names: Set<String> = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
        } else {
            repeat {
                skipWhitespace()
                let keyOffset = index
                let key = try parseString()
                try expect(UInt8(ascii: ":"), "':' after key \"\(key)\"")
                guard names.insert(key).inserted else {
                    throw fail("expected unique keys, found \"\(key)\" twice", at: keyOffset)
                }
                if key == "__metadata__" {
                    metadata = try parseMetadata()
                } else {
                    entries.append(try parseEntry(name: key, position: entries.count))
                }
            } while try nextOrClose(UInt8(ascii: "}"), "'}'")
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
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return result
        }
        repeat {
            skipWhitespace()
            let keyOffset = index
            let key = try parseString()
            try expect(UInt8(ascii: ":"), "':' after __metadata__ key \"\(key)\"")
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw fail("__metadata__.\(key): expected a string value, found \(describeCurrent())")
            }
            let value = try parseString()
            guard result.updateValue(value, forKey: key) == nil else {
                throw fail("__metadata__: expected unique keys, found \"\(key)\" twice", at: keyOffset)
            }
        } while try nextOrClose(UInt8(ascii: "}"), "'}' closing __metadata__")
        return result
    }

    mutating func parseNullIfPresent() throws -> Bool {
        guard index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n") else { return false }
        guard bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == UInt8(ascii: "l"),
            bytes[index + 3] == UInt8(ascii: "l")
        else { throw fail("expected null, found \(describeCurrent())") }
        index += 4
        return true
    }

    mutating func parseEntry(name: String, position: Int) throws -> RawEntry {
        let entryOffset = index
        try expect(UInt8(ascii: "{"), "tensor \(name) to be an object {\"dtype\", \"shape\", \"data_offsets\"}")
        var dtype: SafetensorsDType?
        var shape: [Int]?
        var offsets: [Int]?
        var seen: Set<String> = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
        } else {
            repeat {
                skipWhitespace()
                let keyOffset = index
                let key = try parseString()
                try expect(UInt8(ascii: ":"), "':' after \(name).\(key)")
                guard seen.insert(key).inserted else {
                    throw fail("tensor \(name): expected unique fields, found \"\(key)\" twice", at: keyOffset)
                }
                skipWhitespace()
                switch key {
                case "dtype":
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
                    dtype = parsed
                case "shape":
                    shape = try parseSizes(field: "\(name).shape", count: nil)
                case "data_offsets":
                    offsets = try parseSizes(field: "\(name).data_offsets", count: 2)
                default:
                    // The reference ignores unknown fields; so do we, after checking they are valid JSON.
                    try skipValue(depth: 3)
                }
            } while try nextOrClose(UInt8(ascii: "}"), "'}' closing tensor \(name)")
        }
        guard let dtype else { throw fail("tensor \(name): expected a dtype field, found none", at: entryOffset) }
        guard let shape else { throw fail("tensor \(name): expected a shape field, found none", at: entryOffset) }
        guard let offsets else {
            throw fail("tensor \(name): expected a data_offsets field, found none", at: entryOffset)
        }
        return RawEntry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1], position: position)
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
            let digits = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            throw fail("\(field): expected an integer of at most \(Int.max), found \(digits)", at: start)
        }
        return value
    }

    /// Skips any JSON value, bounded in depth.
    mutating func skipValue(depth: Int) throws {
        guard depth <= HeaderSafetensorsLimits.maximumDepth else {
            throw fail("expected JSON nested at most \(HeaderSafetensorsLimits.maximumDepth) deep, found deeper")
        }
        skipWhitespace()
        guard index < bytes.count else { throw fail("expected a value, found the end of the header") }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            _ = try parseString()
        case UInt8(ascii: "{"):
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return
            }
            var keys: Set<String> = []
            repeat {
                skipWhitespace()
                let keyOffset = index
                let key = try parseString()
                guard keys.insert(key).inserted else {
                    throw fail("expected unique keys, found \"\(key)\" twice", at: keyOffset)
                }
                try expect(UInt8(ascii: ":"), "':'")
                try skipValue(depth: depth + 1)
            } while try nextOrClose(UInt8(ascii: "}"), "'}'")
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return
            }
            repeat { try skipValue(depth: depth + 1) } while try nextOrClose(UInt8(ascii: "]"), "']'")
        case UInt8(ascii: "t"): try skipLiteral("true")
        case UInt8(ascii: "f"): try skipLiteral("false")
        case UInt8(ascii: "n"): try skipLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw fail("expected a JSON value, found \(describeCurrent())")
        }
    }

    mutating func skipLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count,
            (0..<count).allSatisfy({ bytes[index + $0] == literal.utf8Start[$0] })
        else { throw fail("expected \(literal), found \(describeCurrent())") }
        index += count
    }

    mutating func skipNumber() throws {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits() -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                index += 1
            }
            return index - from
        }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0 else { throw fail("expected a number, found \(describeCurrent())", at: start) }
        if integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0") {
            throw fail("expected a JSON number, found a leading zero", at: start)
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw fail("expected digits after '.', found \(describeCurrent())") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits() > 0 else { throw fail("expected exponent digits, found \(describeCurrent())") }
        }
    }

    /// A JSON string at the cursor, unescaped, validated as UTF-8 (lone surrogates rejected).
    mutating func parseString() throws -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            throw fail("expected a string, found \(describeCurrent())")
        }
        let start = index
        index += 1
        var raw: [UInt8] = []
        var hasEscapes = false
        let contentStart = index
        while true {
            guard index < bytes.count else { throw fail("expected a closing '\"' for the string", at: start) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 {
                throw fail("expected no control characters in a string, found byte 0x\(String(byte, radix: 16))")
            }
            if byte == UInt8(ascii: "\\") {
                if !hasEscapes {
                    hasEscapes = true
                    raw.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[contentStart..<index]))
                }
                index += 1
                guard index < bytes.count else { throw fail("expected an escape, found the end of the header") }
                let escape = bytes[index]
                index += 1
                if let unescaped = JSONEscape.simple(escape) {
                    raw.append(unescaped)
                    continue
                }
                guard escape == UInt8(ascii: "u") else {
                    throw fail("expected a JSON escape, found '\\\(Character(Unicode.Scalar(escape)))'", at: index - 2)
                }
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    else { throw fail("expected a low surrogate after \\u\(String(scalar, radix: 16))") }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw fail("expected a low surrogate, found \\u\(String(low, radix: 16))")
                    }
                    scalar = JSONEscape.combine(high: scalar, low: low)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("expected a character, found a lone low surrogate \\u\(String(scalar, radix: 16))")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                raw.append(contentsOf: Array(String(Character(unicode)).utf8))
                continue
            }
            if hasEscapes { raw.append(byte) }
            index += 1
        }
        let content: UnsafeRawBufferPointer =
            hasEscapes ? UnsafeRawBufferPointer(start: nil, count: 0) : .init(rebasing: bytes[contentStart..<index])
        index += 1
        let decoded: String? =
            hasEscapes
            ? raw.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
            : String(validating: content, as: UTF8.self)
        guard let decoded else { throw fail("expected UTF-8 text in the string, found invalid bytes", at: start) }
        return decoded
    }

    mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("expected 4 hex digits after \\u, found the end") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Hex.value(bytes[index]) else {
                throw fail("expected a hex digit after \\u, found \(describeCurrent())")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}

private enum HeaderSafetensorsLimits {
    static let maximumDepth = SafetensorsHeader.maximumDepth
}
