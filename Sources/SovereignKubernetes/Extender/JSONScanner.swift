import SovereignBase

/// What was wrong with an extender request body: where (the field path and byte offset), what was
/// expected and what was found. Answered as 400.
public struct ExtenderRequestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field path, e.g. `Pod.metadata.annotations`.
    public let field: String
    /// Byte offset into the body.
    public let offset: Int
    /// What the extender expected there.
    public let expected: String
    /// What it found.
    public let found: String

    public var description: String {
        "request body: byte \(offset): \(field.isEmpty ? "" : "\(field): ")expected \(expected), found \(found)"
    }
}

/// The extender's reader of request bodies over the shared ``JSONReader``: decodes the few fields the
/// extender reads, validates and skips everything else without building it, and remembers byte ranges so
/// full-mode node objects can be echoed as they came. Every malformed input is an ``ExtenderRequestError``
/// with the field path; nothing recurses on the input's nesting (skipping keeps an explicit stack), so no
/// body can exhaust the call stack. The body's UTF-8 is checked beforehand, so strings are not checked again.
struct JSONScanner {
    var reader: JSONReader
    /// The field being read, for errors.
    var path = ""

    /// What a `\\u` escape of a UTF-16 surrogate must be.
    static let surrogateExpectation = "a surrogate \\uD800–\\uDBFF followed by \\uDC00–\\uDFFF (a whole character)"

    /// Nesting beyond which a skipped value is refused (Kubernetes objects nest a few dozen levels at most).
    static let maximumDepth = 512

    /// A scanner over a body whose UTF-8 has been checked.
    init(_ bytes: UnsafeBufferPointer<UInt8>) { reader = JSONReader(bytes, validatesUTF8: false) }

    /// The offset of the next byte to read.
    var index: Int { reader.position }

    // MARK: Errors

    func error(_ expected: String, at offset: Int? = nil) -> ExtenderRequestError {
        let at = offset ?? reader.position
        let bytes = reader.bytes
        let found: String
        if at >= bytes.count {
            found = "the end of the body"
        } else {
            let end = min(bytes.count, at + 16)
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[at..<end]), as: UTF8.self)
            found = "\"\(text.unicodeScalars.map { $0.value < 0x20 ? "�" : String($0) }.joined())\""
        }
        return ExtenderRequestError(field: path, offset: at, expected: expected, found: found)
    }

    /// The shared reader's refusal as the extender phrases it; `skipping` when it came from skipping a
    /// value (which refuses a surrogate pair with bad low digits as a whole), not from decoding a string.
    func error(_ failure: JSONReadError, skipping: Bool) -> ExtenderRequestError {
        let at = failure.offset
        switch failure.expected {
        case .value: return error(at >= reader.bytes.count ? "a JSON value" : "a number", at: at)
        case .literal: return error("a JSON value", at: at)
        case .string: return error("a string", at: at)
        case .key: return error("a key string", at: at)
        case .colon: return error("':' after a key", at: at)
        case .commaOrClose(let closer), .noLeadingZero(_, .some(let closer)):
            return error(closer == UInt8(ascii: "}") ? "',' or '}' in an object" : "',' or ']' in an array", at: at)
        case .stringCharacter: return error("a string without raw control characters", at: at)
        case .escape, .closingQuote: return error("a closing quote", at: reader.bytes.count)
        case .validEscape: return error("a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: at)
        case .hexDigits(let start, .some(let escape)) where skipping || start + 4 > reader.bytes.count:
            return error(Self.surrogateExpectation, at: escape)
        case .hexDigits(let start, _): return error("four hex digits", at: start)
        case .lowSurrogateEscape(let escape, _), .lowSurrogate(let escape, _), .loneLowSurrogate(let escape, _):
            return error(Self.surrogateExpectation, at: escape)
        case .digit(let start), .noLeadingZero(let start, nil): return error("a number", at: start)
        case .fractionDigit: return error("digits after the decimal point", at: at)
        case .exponentDigit: return error("digits in the exponent", at: at)
        case .depth(let limit): return error("nesting under \(limit)", at: at)
        case .utf8, .uniqueKey, .finiteNumber, .end: return error("a JSON value", at: at)
        }
    }

    // MARK: Tokens

    mutating func peek() -> UInt8? { reader.peek() }

    mutating func expect(_ byte: UInt8, _ what: String) throws(ExtenderRequestError) {
        guard peek() == byte else { throw error(what) }
        reader.position += 1
    }

    /// Consumes `null` if it is next.
    mutating func consumeNull() -> Bool { reader.consumeNull() }

    /// Fails unless only whitespace is left.
    mutating func expectEnd() throws(ExtenderRequestError) {
        path = ""
        guard peek() == nil else { throw error("the end of the JSON document") }
    }

    /// A JSON string, unescaped.
    mutating func string() throws(ExtenderRequestError) -> String {
        _ = peek()
        do {
            return try reader.readString()
        } catch {
            throw self.error(error, skipping: false)
        }
    }

    /// A JSON number as an integer; fractions and out-of-range values are errors.
    mutating func integer(_ what: String) throws(ExtenderRequestError) -> Int {
        guard let first = peek(), first == UInt8(ascii: "-") || JSONReader.isDigit(first) else {
            throw error(what)
        }
        let range = try skipValue()
        guard let value = reader.integer(in: range) else { throw error(what, at: range.lowerBound) }
        return value
    }

    // MARK: Structure

    /// Reads an object, calling `body` with each key; `body` must consume the key's value (``skipValue()``
    /// when it does not need it). The path grows by the key while `body` runs.
    mutating func object(
        _ body: (inout JSONScanner, String) throws(ExtenderRequestError) -> Void
    ) throws(ExtenderRequestError) {
        try expect(UInt8(ascii: "{"), "an object")
        let outer = path
        defer { path = outer }
        if peek() == UInt8(ascii: "}") {
            reader.position += 1
            return
        }
        while true {
            path = outer
            let key = try string()
            try expect(UInt8(ascii: ":"), "':' after a key")
            path = outer.isEmpty ? key : "\(outer).\(key)"
            try body(&self, key)
            path = outer
            switch peek() {
            case UInt8(ascii: ","): reader.position += 1
            case UInt8(ascii: "}"):
                reader.position += 1
                return
            default: throw error("',' or '}' in an object")
            }
        }
    }

    /// Reads an array, calling `body` for each element with the path `path[i]`.
    mutating func array(
        _ body: (inout JSONScanner, Int) throws(ExtenderRequestError) -> Void
    ) throws(ExtenderRequestError) {
        try expect(UInt8(ascii: "["), "an array")
        let outer = path
        defer { path = outer }
        if peek() == UInt8(ascii: "]") {
            reader.position += 1
            return
        }
        var n = 0
        while true {
            path = "\(outer)[\(n)]"
            try body(&self, n)
            n += 1
            path = outer
            switch peek() {
            case UInt8(ascii: ","): reader.position += 1
            case UInt8(ascii: "]"):
                reader.position += 1
                return
            default: throw error("',' or ']' in an array")
            }
        }
    }

    /// An object of string values (labels, annotations).
    mutating func stringMap() throws(ExtenderRequestError) -> [String: String] {
        if consumeNull() { return [:] }
        var map: [String: String] = [:]
        try object { s, key throws(ExtenderRequestError) in map[key] = try s.string() }
        return map
    }

    /// Validates and skips one value of any kind without building it; returns its byte range. A number
    /// with a leading zero ends before its second digit, so what follows is refused where it stands.
    ///
    /// - Complexity: O(bytes of the value); memory O(nesting depth).
    @discardableResult
    mutating func skipValue() throws(ExtenderRequestError) -> Range<Int> {
        guard peek() != nil else { throw error("a JSON value") }
        do {
            return try reader.skipValue(maximumDepth: Self.maximumDepth)
        } catch {
            guard case .noLeadingZero(let start, nil) = error.expected else { throw self.error(error, skipping: true) }
            reader.position = error.offset
            return start..<error.offset
        }
    }
}
