import SovereignBase

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict RFC 8259 JSON reader over UTF-8 bytes: no comments, no trailing commas, no duplicate keys,
/// no lone surrogates, one value and nothing after it but white space.
struct JSONParser {
    /// Deeper nesting than this is refused, so hostile input cannot exhaust the stack.
    static let maximumDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    static func parse(_ input: [UInt8]) throws(LedgerError) -> JSONValue {
        try input.withUnsafeBufferPointer { buffer throws(LedgerError) in try parse(buffer: buffer) }
    }

    static func parse(_ input: some Collection<UInt8>) throws(LedgerError) -> JSONValue {
        if let result = input.withContiguousStorageIfAvailable({ buffer in
            Result { () throws(LedgerError) in try parse(buffer: buffer) }
        }) {
            return try result.get()
        }
        let copy = Array(input)
        return try copy.withUnsafeBufferPointer { buffer throws(LedgerError) in try parse(buffer: buffer) }
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>) throws(LedgerError) -> JSONValue {
        var parser = JSONParser(bytes: buffer)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == buffer.count else { throw parser.unexpected("the end of the text") }
        return value
    }

    private mutating func parseValue(depth: Int) throws(LedgerError) -> JSONValue {
        guard position < bytes.count else { throw unexpected("a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectWord("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectWord("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectWord("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw unexpected("a value")
        }
    }

    private mutating func parseObject(depth: Int) throws(LedgerError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw error("expected at most \(Self.maximumDepth) levels of nesting") }
        position += 1
        // Collected first, so the dictionary is made once at its final size.
        var pairs: [(key: String, value: JSONValue, offset: Int)] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object([:])
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw unexpected("a key string")
            }
            let keyStart = position
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw unexpected("':'") }
            position += 1
            skipWhitespace()
            pairs.append((key, try parseValue(depth: depth), keyStart))
            skipWhitespace()
            guard position < bytes.count else { throw unexpected("',' or '}'") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "}") {
                position += 1
                var members = [String: JSONValue](minimumCapacity: pairs.count)
                for (key, value, keyStart) in pairs {
                    guard members.updateValue(value, forKey: key) == nil else {
                        throw LedgerError(
                            .malformedJSON,
                            "JSON byte \(keyStart): expected each key once in an object, found \(Checkpoint.quote(key)) again"
                        )
                    }
                }
                return .object(members)
            } else {
                throw unexpected("',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(LedgerError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw error("expected at most \(Self.maximumDepth) levels of nesting") }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw unexpected("',' or ']'") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            } else {
                throw unexpected("',' or ']'")
            }
        }
    }

    private mutating func parseString() throws(LedgerError) -> String {
        let start = position
        position += 1
        let contentStart = position
        // Fast path: no escapes, so the string is the bytes between the quotes.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[contentStart..<position])
                guard let string = Self.string(validating: slice) else {
                    throw LedgerError(
                        .malformedJSON,
                        "JSON byte \(start): expected a string of valid UTF-8, found invalid bytes"
                    )
                }
                position += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw unexpected("a string character (control characters must be escaped)") }
            position += 1
        }
        var scalars: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[contentStart..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                guard let string = scalars.withUnsafeBufferPointer({ Self.string(validating: $0) }) else {
                    throw LedgerError(
                        .malformedJSON,
                        "JSON byte \(start): expected a string of valid UTF-8, found invalid bytes"
                    )
                }
                position += 1
                return string
            }
            if byte < 0x20 { throw unexpected("a string character (control characters must be escaped)") }
            if byte != UInt8(ascii: "\\") {
                scalars.append(byte)
                position += 1
                continue
            }
            position += 1
            guard position < bytes.count else { throw unexpected("an escape") }
            let escape = bytes[position]
            position += 1
            if let unescaped = JSONEscape.simple(escape) {
                scalars.append(unescaped)
                continue
            }
            guard escape == UInt8(ascii: "u") else {
                position -= 1
                throw unexpected("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
            }
            var code = try parseHex4()
            if (0xD800...0xDBFF).contains(code) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw error("expected a low surrogate escape after a high surrogate") }
                position += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("expected a low surrogate (\\uDC00-\\uDFFF) after a high surrogate")
                }
                code = JSONEscape.combine(high: code, low: low)
            }
            guard let scalar = Unicode.Scalar(code) else {
                throw error("expected a Unicode scalar, found a lone low surrogate")
            }
            scalars.append(contentsOf: String(Character(scalar)).utf8)
        }
        throw LedgerError(.malformedJSON, "JSON byte \(start): expected a closing '\"', found the end of the text")
    }

    /// The string in `bytes`, or `nil` when they are not valid UTF-8. Decoding repairs invalid bytes
    /// with U+FFFD, so the bytes are valid exactly when decoding gives them back unchanged; this is
    /// much faster than the generic `String(validating:as:)`.
    private static func string(validating bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var string = String(decoding: bytes, as: UTF8.self)
        let unchanged = string.withUTF8 { decoded in
            decoded.count == bytes.count
                && (bytes.isEmpty || memcmp(decoded.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
        }
        return unchanged ? string : nil
    }

    private mutating func parseHex4() throws(LedgerError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw unexpected("4 hex digits") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Hex.value(bytes[position]) else { throw unexpected("a hex digit") }
            code = code << 4 | UInt32(digit)
            position += 1
        }
        return code
    }

    private mutating func parseNumber() throws(LedgerError) -> Double {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else { throw unexpected("a digit") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw unexpected("no leading zero") }
        } else {
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw unexpected("a digit after '.'") }
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else { throw unexpected("an exponent digit") }
            skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw LedgerError(.malformedJSON, "JSON byte \(start): expected a number that fits a Double, found \(text)")
        }
        return value
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func skipDigits() {
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    private mutating func expectWord(_ word: StaticString) throws(LedgerError) {
        let start = position
        for expected in UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount) {
            guard position < bytes.count, bytes[position] == expected else {
                position = start
                throw unexpected("a value")
            }
            position += 1
        }
    }

    private func unexpected(_ expected: String) -> LedgerError {
        let found: String
        if position >= bytes.count {
            found = "the end of the text"
        } else {
            let byte = bytes[position]
            found =
                byte >= 0x20 && byte < 0x7f ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(Hex.encode([byte]))"
        }
        return LedgerError(.malformedJSON, "JSON byte \(position): expected \(expected), found \(found)")
    }

    private func error(_ message: String) -> LedgerError {
        LedgerError(.malformedJSON, "JSON byte \(position): \(message)")
    }
}
