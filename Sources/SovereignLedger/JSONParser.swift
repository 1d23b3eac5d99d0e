import SovereignBase

/// Builds a ``JSONValue`` from strict RFC 8259 JSON text with the shared ``JSONReader``: no comments, no
/// trailing commas, no duplicate keys, no lone surrogates, one value and nothing after it but white space.
struct JSONParser {
    /// Deeper nesting than this is refused, so hostile input cannot exhaust the stack.
    static let maximumDepth = 256

    private var reader: JSONReader

    private init(reader: JSONReader) {
        self.reader = reader
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
        var parser = JSONParser(reader: JSONReader(buffer))
        do {
            parser.reader.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            try parser.reader.expectEnd()
            return value
        } catch {
            throw LedgerError(.malformedJSON, Self.message(error, in: buffer))
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONReadError) -> JSONValue {
        guard let byte = reader.peek() else { throw reader.error(.value) }
        switch byte {
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try reader.readString())
        case UInt8(ascii: "t"):
            try reader.readLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try reader.readLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try reader.readLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let range = try reader.readNumber()
            guard let value = reader.double(in: range) else {
                throw JSONReadError(
                    offset: range.lowerBound,
                    expected: .finiteNumber(end: range.upperBound),
                    found: byte
                )
            }
            return .number(value)
        default:
            throw reader.error(.value)
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONReadError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw reader.error(.depth(limit: Self.maximumDepth)) }
        reader.position += 1
        // Collected first, so the dictionary is made once at its final size.
        var pairs: [(key: String, value: JSONValue, offset: Int)] = []
        if reader.peek() == UInt8(ascii: "}") {
            reader.position += 1
            return .object([:])
        }
        while true {
            reader.skipWhitespace()
            let keyStart = reader.position
            let key = try reader.readString(.key)
            guard reader.peek() == UInt8(ascii: ":") else { throw reader.error(.colon) }
            reader.position += 1
            pairs.append((key, try parseValue(depth: depth), keyStart))
            switch reader.peek() {
            case UInt8(ascii: ","):
                reader.position += 1
            case UInt8(ascii: "}"):
                reader.position += 1
                return .object(try Self.members(pairs))
            default:
                throw reader.error(.commaOrClose(UInt8(ascii: "}")))
            }
        }
    }

    /// An object's members, refusing a key given twice (at its second place).
    private static func members(
        _ pairs: [(key: String, value: JSONValue, offset: Int)]
    ) throws(JSONReadError) -> [String: JSONValue] {
        var members = [String: JSONValue](minimumCapacity: pairs.count)
        for (key, value, keyStart) in pairs {
            guard members.updateValue(value, forKey: key) == nil else {
                throw JSONReadError(offset: keyStart, expected: .uniqueKey(key), found: UInt8(ascii: "\""))
            }
        }
        return members
    }

    private mutating func parseArray(depth: Int) throws(JSONReadError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw reader.error(.depth(limit: Self.maximumDepth)) }
        reader.position += 1
        var elements: [JSONValue] = []
        if reader.peek() == UInt8(ascii: "]") {
            reader.position += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(depth: depth))
            switch reader.peek() {
            case UInt8(ascii: ","):
                reader.position += 1
            case UInt8(ascii: "]"):
                reader.position += 1
                return .array(elements)
            default:
                throw reader.error(.commaOrClose(UInt8(ascii: "]")))
            }
        }
    }
}

extension JSONParser {
    /// The ledger's message for a refusal: `JSON byte N: expected …, found …`.
    static func message(_ error: JSONReadError, in bytes: UnsafeBufferPointer<UInt8>) -> String {
        let at = error.offset
        switch error.expected {
        case .lowSurrogateEscape:
            return "JSON byte \(at): expected a low surrogate escape after a high surrogate"
        case .lowSurrogate:
            return "JSON byte \(at): expected a low surrogate (\\uDC00-\\uDFFF) after a high surrogate"
        case .loneLowSurrogate:
            return "JSON byte \(at): expected a Unicode scalar, found a lone low surrogate"
        case .closingQuote(let start):
            return "JSON byte \(start): expected a closing '\"', found the end of the text"
        case .utf8(let start):
            return "JSON byte \(start): expected a string of valid UTF-8, found invalid bytes"
        case .depth(let limit):
            return "JSON byte \(at): expected at most \(limit) levels of nesting"
        case .uniqueKey(let key):
            return "JSON byte \(at): expected each key once in an object, found \(Checkpoint.quote(key)) again"
        case .finiteNumber(let end):
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[at..<end]), as: UTF8.self)
            return "JSON byte \(at): expected a number that fits a Double, found \(text)"
        case .validEscape:
            return unexpected("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: at + 1, in: bytes)
        case .hexDigits(let start, _) where start + 4 > bytes.count:
            return unexpected("4 hex digits", at: start, in: bytes)
        default:
            return unexpected(expectation(error.expected), at: at, in: bytes)
        }
    }

    /// What the ledger says it expected, for the refusals phrased `expected …, found <the byte>`.
    private static func expectation(_ expected: JSONReadError.Expected) -> String {
        switch expected {
        case .key: "a key string"
        case .colon: "':'"
        case .commaOrClose(let closer): "',' or '\(Character(Unicode.Scalar(closer)))'"
        case .stringCharacter: "a string character (control characters must be escaped)"
        case .escape: "an escape"
        case .hexDigits: "a hex digit"
        case .digit: "a digit"
        case .noLeadingZero: "no leading zero"
        case .fractionDigit: "a digit after '.'"
        case .exponentDigit: "an exponent digit"
        case .end: "the end of the text"
        default: "a value"
        }
    }

    private static func unexpected(_ expected: String, at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> String {
        let found: String
        if offset >= bytes.count {
            found = "the end of the text"
        } else {
            let byte = bytes[offset]
            found =
                byte >= 0x20 && byte < 0x7f ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(Hex.encode([byte]))"
        }
        return "JSON byte \(offset): expected \(expected), found \(found)"
    }
}
