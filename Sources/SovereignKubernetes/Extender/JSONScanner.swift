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

/// A forward-only reader over JSON bytes: decodes the few fields the extender reads, validates and skips
/// everything else without building it, and remembers byte ranges so full-mode node objects can be echoed
/// as they came. Every malformed input is an ``ExtenderRequestError``; nothing recurses on the input's
/// nesting (skipping keeps an explicit stack), so no body can exhaust the call stack.
struct JSONScanner {
    let bytes: [UInt8]
    var index = 0
    /// The field being read, for errors.
    var path = ""

    /// What a `\\u` escape of a UTF-16 surrogate must be.
    static let surrogateExpectation = "a surrogate \\uD800–\\uDBFF followed by \\uDC00–\\uDFFF (a whole character)"

    /// Nesting beyond which a body is refused (Kubernetes objects nest a few dozen levels at most).
    static let maximumDepth = 512

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    // MARK: Errors

    func error(_ expected: String, at offset: Int? = nil) -> ExtenderRequestError {
        let at = offset ?? index
        let found: String
        if at >= bytes.count {
            found = "the end of the body"
        } else {
            let end = min(bytes.count, at + 16)
            let text = String(decoding: bytes[at..<end], as: UTF8.self)
            found = "\"\(text.unicodeScalars.map { $0.value < 0x20 ? "�" : String($0) }.joined())\""
        }
        return ExtenderRequestError(field: path, offset: at, expected: expected, found: found)
    }

    // MARK: Tokens

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(ExtenderRequestError) {
        guard peek() == byte else { throw error(what) }
        index += 1
    }

    /// Consumes `null` if it is next.
    mutating func consumeNull() -> Bool {
        guard peek() == UInt8(ascii: "n"), index + 4 <= bytes.count, bytes[index + 1] == UInt8(ascii: "u"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    /// Fails unless only whitespace is left.
    mutating func expectEnd() throws(ExtenderRequestError) {
        path = ""
        guard peek() == nil else { throw error("the end of the JSON document") }
    }

    // MARK: Strings

    /// A JSON string, unescaped.
    mutating func string() throws(ExtenderRequestError) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw error("a string") }
        let start = index + 1
        // Fast path: no escapes (names, labels, most values), scanned without bounds checks.
        let (end, plain) = bytes.withUnsafeBufferPointer { buffer -> (Int, Bool) in
            var i = start
            while i < buffer.count {
                let b = buffer[i]
                if b == UInt8(ascii: "\"") { return (i, true) }
                if b == UInt8(ascii: "\\") || b < 0x20 { return (i, false) }
                i += 1
            }
            return (i, false)
        }
        if plain {
            index = end + 1
            return bytes.withUnsafeBufferPointer {
                String(decoding: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self)
            }
        }
        var i = end
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                index = i + 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw error("a string without raw control characters", at: i) }
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < bytes.count else { break }
            if let unescaped = JSONEscape.simple(bytes[i + 1]) {
                out.append(unescaped)
            } else if bytes[i + 1] == UInt8(ascii: "u") {
                var scalar = try hex4(at: i + 2)
                let escape = i
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 7 < bytes.count, bytes[i + 2] == UInt8(ascii: "\\"),
                    bytes[i + 3] == UInt8(ascii: "u")
                {
                    let low = try hex4(at: i + 4)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = JSONEscape.combine(high: scalar, low: low)
                        i += 6
                    }
                }
                guard let decoded = Unicode.Scalar(scalar) else {
                    throw error(Self.surrogateExpectation, at: escape)
                }
                out.append(contentsOf: Array(String(Character(decoded)).utf8))
            } else {
                throw error("a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: i)
            }
            i += 2
        }
        throw error("a closing quote", at: bytes.count)
    }

    private func hex4(at offset: Int) throws(ExtenderRequestError) -> UInt32 {
        guard let unit = Hex.utf16Unit(bytes, at: offset) else { throw error("four hex digits", at: offset) }
        return unit
    }

    // MARK: Numbers

    /// A JSON number as an integer; fractions and out-of-range values are errors.
    mutating func integer(_ what: String) throws(ExtenderRequestError) -> Int {
        guard let first = peek(), first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39) else {
            throw error(what)
        }
        let range = try skipValue()
        guard let value = Int(String(decoding: bytes[range], as: UTF8.self)) else {
            throw error(what, at: range.lowerBound)
        }
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
            index += 1
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
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
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
            index += 1
            return
        }
        var n = 0
        while true {
            path = "\(outer)[\(n)]"
            try body(&self, n)
            n += 1
            path = outer
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
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

    /// Validates and skips one value of any kind without building it; returns its byte range.
    ///
    /// - Complexity: O(bytes of the value); memory O(nesting depth).
    @discardableResult
    mutating func skipValue() throws(ExtenderRequestError) -> Range<Int> {
        guard peek() != nil else { throw error("a JSON value") }
        let start = index
        let outcome = bytes.withUnsafeBufferPointer { buffer in
            var skipper = JSONSkipper(bytes: buffer, index: start)
            return skipper.skip()
        }
        switch outcome {
        case .success(let end):
            index = end
            return start..<end
        case .failure(let failure):
            throw error(failure.expected, at: failure.offset)
        }
    }
}

/// Where and what a skipped value got wrong.
struct JSONSkipFailure: Error {
    let offset: Int
    let expected: String
}

/// Validates one JSON value over raw bytes (RFC 8259 grammar; strings' escapes checked, UTF-8 checked
/// beforehand by the caller) with an explicit stack: the hot path of full-mode requests, which skip
/// everything of each node object but its name and labels.
struct JSONSkipper {
    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int

    private mutating func whitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func string() -> JSONSkipFailure? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            return JSONSkipFailure(offset: index, expected: "a key string")
        }
        var i = index + 1
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                index = i + 1
                return nil
            }
            if b < 0x20 { return JSONSkipFailure(offset: i, expected: "a string without raw control characters") }
            if b == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { break }
                switch bytes[i + 1] {
                case let letter where JSONEscape.simple(letter) != nil:
                    i += 2
                case UInt8(ascii: "u"):
                    guard let unit = hex4(at: i + 2) else {
                        return JSONSkipFailure(offset: i + 2, expected: "four hex digits")
                    }
                    // Surrogates only in pairs: Go's encoder never writes a lone one, and strict readers
                    // (Foundation's) refuse them, so an echoed node object must not carry one.
                    if (0xDC00..<0xE000).contains(unit) {
                        return JSONSkipFailure(offset: i, expected: JSONScanner.surrogateExpectation)
                    }
                    if (0xD800..<0xDC00).contains(unit) {
                        guard i + 12 <= bytes.count, bytes[i + 6] == UInt8(ascii: "\\"),
                            bytes[i + 7] == UInt8(ascii: "u"),
                            let low = hex4(at: i + 8), (0xDC00..<0xE000).contains(low)
                        else { return JSONSkipFailure(offset: i, expected: JSONScanner.surrogateExpectation) }
                        i += 12
                    } else {
                        i += 6
                    }
                default:
                    return JSONSkipFailure(
                        offset: i,
                        expected: "a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"
                    )
                }
                continue
            }
            i += 1
        }
        return JSONSkipFailure(offset: bytes.count, expected: "a closing quote")
    }

    private func hex4(at offset: Int) -> UInt32? { Hex.utf16Unit(bytes, at: offset) }

    private mutating func number() -> JSONSkipFailure? {
        let start = index
        func digits(_ i: inout Int) -> Int {
            let s = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - s
        }
        var i = index
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits(&i) == 0 {
            return JSONSkipFailure(offset: start, expected: "a number")
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&i) > 0 else { return JSONSkipFailure(offset: i, expected: "digits after the decimal point") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&i) > 0 else { return JSONSkipFailure(offset: i, expected: "digits in the exponent") }
        }
        index = i
        return nil
    }

    private mutating func literal(_ text: StaticString) -> JSONSkipFailure? {
        let count = text.utf8CodeUnitCount
        let matches =
            index + count <= bytes.count
            && text.withUTF8Buffer { literal in (0..<count).allSatisfy { bytes[index + $0] == literal[$0] } }
        guard matches else { return JSONSkipFailure(offset: index, expected: "a JSON value") }
        index += count
        return nil
    }

    private mutating func keyAndColon() -> JSONSkipFailure? {
        whitespace()
        if let failure = string() { return failure }
        whitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
            return JSONSkipFailure(offset: index, expected: "':' after a key")
        }
        index += 1
        return nil
    }

    /// Skips one value starting at `index`: the index just past it, or what was wrong.
    mutating func skip() -> Result<Int, JSONSkipFailure> {
        var stack: [UInt8] = []
        var expectingValue = true
        while true {
            if expectingValue {
                whitespace()
                guard index < bytes.count else {
                    return .failure(JSONSkipFailure(offset: index, expected: "a JSON value"))
                }
                var failure: JSONSkipFailure?
                switch bytes[index] {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    let closer = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    index += 1
                    guard stack.count < JSONScanner.maximumDepth else {
                        return .failure(
                            JSONSkipFailure(offset: index - 1, expected: "nesting under \(JSONScanner.maximumDepth)")
                        )
                    }
                    whitespace()
                    if index < bytes.count, bytes[index] == closer {
                        index += 1
                    } else {
                        stack.append(closer)
                        if closer == UInt8(ascii: "}"), let failure = keyAndColon() { return .failure(failure) }
                        continue
                    }
                case UInt8(ascii: "\""): failure = string()
                case UInt8(ascii: "t"): failure = literal("true")
                case UInt8(ascii: "f"): failure = literal("false")
                case UInt8(ascii: "n"): failure = literal("null")
                default: failure = number()
                }
                if let failure { return .failure(failure) }
                expectingValue = false
            }
            guard let closer = stack.last else { return .success(index) }
            whitespace()
            guard index < bytes.count else {
                let what = closer == UInt8(ascii: "}") ? "',' or '}' in an object" : "',' or ']' in an array"
                return .failure(JSONSkipFailure(offset: index, expected: what))
            }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                if closer == UInt8(ascii: "}"), let failure = keyAndColon() { return .failure(failure) }
                expectingValue = true
            case closer:
                index += 1
                stack.removeLast()
            default:
                let what = closer == UInt8(ascii: "}") ? "',' or '}' in an object" : "',' or ']' in an array"
                return .failure(JSONSkipFailure(offset: index, expected: what))
            }
        }
    }
}
