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
        var i = start
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                index = i + 1
                return String(decoding: bytes[start..<i], as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("a string without raw control characters", at: i) }
            i += 1
        }
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
            switch bytes[i + 1] {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(at: i + 2)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 7 < bytes.count, bytes[i + 2] == UInt8(ascii: "\\"),
                    bytes[i + 3] == UInt8(ascii: "u")
                {
                    let low = try hex4(at: i + 4)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
            default:
                throw error("a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: i)
            }
            i += 2
        }
        throw error("a closing quote", at: bytes.count)
    }

    private func hex4(at offset: Int) throws(ExtenderRequestError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("four hex digits", at: offset) }
        var value: UInt32 = 0
        for b in bytes[offset..<offset + 4] {
            let digit: UInt32
            switch b {
            case 0x30...0x39: digit = UInt32(b - 0x30)
            case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
            default: throw error("four hex digits", at: offset)
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Skips a string, validating it; returns nothing.
    private mutating func skipString() throws(ExtenderRequestError) {
        var i = index + 1
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                index = i + 1
                return
            }
            if b < 0x20 { throw error("a string without raw control characters", at: i) }
            if b == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { break }
                switch bytes[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    _ = try hex4(at: i + 2)
                    i += 6
                default:
                    throw error("a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: i)
                }
                continue
            }
            i += 1
        }
        throw error("a closing quote", at: bytes.count)
    }

    // MARK: Numbers and literals

    /// A JSON number's text, validated against the grammar.
    private mutating func numberRange() throws(ExtenderRequestError) -> Range<Int> {
        let start = index
        var i = index
        func digits(_ i: inout Int) -> Int {
            let s = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - s
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits(&i) == 0 {
            throw error("a number", at: start)
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&i) > 0 else { throw error("digits after the decimal point", at: i) }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&i) > 0 else { throw error("digits in the exponent", at: i) }
        }
        index = i
        return start..<i
    }

    /// A JSON number as an integer; fractions and out-of-range values are errors.
    mutating func integer(_ what: String) throws(ExtenderRequestError) -> Int {
        guard let first = peek(), first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39) else {
            throw error(what)
        }
        let start = index
        let range = try numberRange()
        guard let value = Int(String(decoding: bytes[range], as: UTF8.self)) else { throw error(what, at: start) }
        return value
    }

    private mutating func literal(_ text: StaticString) throws(ExtenderRequestError) {
        let count = text.utf8CodeUnitCount
        let matches =
            index + count <= bytes.count
            && text.withUTF8Buffer { literal in
                (0..<count).allSatisfy { bytes[index + $0] == literal[$0] }
            }
        guard matches else { throw error("a JSON value") }
        index += count
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
        // Each open container and whether the next token in it is a key (objects) or a value.
        var stack: [UInt8] = []
        var expectingValue = true
        while true {
            if expectingValue {
                guard let b = peek() else { throw error("a JSON value") }
                switch b {
                case UInt8(ascii: "{"):
                    index += 1
                    guard stack.count < Self.maximumDepth else { throw error("nesting under \(Self.maximumDepth)") }
                    if peek() == UInt8(ascii: "}") {
                        index += 1
                    } else {
                        stack.append(UInt8(ascii: "}"))
                        guard peek() == UInt8(ascii: "\"") else { throw error("a key string") }
                        try skipString()
                        try expect(UInt8(ascii: ":"), "':' after a key")
                        continue
                    }
                case UInt8(ascii: "["):
                    index += 1
                    guard stack.count < Self.maximumDepth else { throw error("nesting under \(Self.maximumDepth)") }
                    if peek() == UInt8(ascii: "]") {
                        index += 1
                    } else {
                        stack.append(UInt8(ascii: "]"))
                        continue
                    }
                case UInt8(ascii: "\""): try skipString()
                case UInt8(ascii: "t"): try literal("true")
                case UInt8(ascii: "f"): try literal("false")
                case UInt8(ascii: "n"): try literal("null")
                default: _ = try numberRange()
                }
                expectingValue = false
            }
            // After a value: close containers or move to the next element.
            guard let closer = stack.last else { return start..<index }
            switch peek() {
            case UInt8(ascii: ","):
                index += 1
                if closer == UInt8(ascii: "}") {
                    guard peek() == UInt8(ascii: "\"") else { throw error("a key string") }
                    try skipString()
                    try expect(UInt8(ascii: ":"), "':' after a key")
                }
                expectingValue = true
            case closer:
                index += 1
                stack.removeLast()
            default:
                throw error(closer == UInt8(ascii: "}") ? "',' or '}' in an object" : "',' or ']' in an array")
            }
        }
    }
}
