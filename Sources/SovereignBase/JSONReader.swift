/// A forward-only, strict RFC 8259 JSON reader over UTF-8 bytes, the one tokenizer under every JSON reader
/// in Sovereign (the ledger's `JSONValue`, the Kubernetes extender's request bodies, safetensors headers).
///
/// It reads one token at a time at ``position`` and builds nothing it is not asked for: strings (escapes and
/// surrogate pairs checked, UTF-8 checked when ``validatesUTF8``), numbers as byte ranges (with
/// ``integer(in:)`` and ``double(in:)`` to convert them), literals, and whole values skipped with an explicit
/// stack (``skipValue(maximumDepth:uniqueKeys:)``), returning their byte ranges so a caller can echo them as
/// they came. Every refusal is a ``JSONReadError`` naming the byte offset.
///
/// The reader borrows its bytes: use it inside `withUnsafeBufferPointer`.
///
/// ```swift
/// try bytes.withUnsafeBufferPointer { buffer throws(JSONReadError) in
///     var reader = JSONReader(buffer)
///     let range = try reader.skipValue(maximumDepth: 64, uniqueKeys: false)
///     try reader.expectEnd()
/// }
/// ```
@frozen
public struct JSONReader {
    /// The text being read.
    public let bytes: UnsafeBufferPointer<UInt8>
    /// The offset of the next byte to read.
    public var position: Int
    /// Whether strings must be valid UTF-8 (a caller that checked the whole text beforehand passes `false`).
    public let validatesUTF8: Bool

    /// A reader at the start of `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 JSON text; it must outlive the reader.
    ///   - validatesUTF8: Whether to refuse strings that are not valid UTF-8 (``JSONReadError/Expected/utf8(start:)``);
    ///     when `false`, invalid bytes are decoded as U+FFFD.
    @inlinable
    public init(_ bytes: UnsafeBufferPointer<UInt8>, validatesUTF8: Bool = true) {
        self.bytes = bytes
        self.position = 0
        self.validatesUTF8 = validatesUTF8
    }

    // MARK: Bytes and errors

    /// An error expecting `expected` at `offset` (by default ``position``), with the byte found there.
    @inlinable
    public func error(_ expected: JSONReadError.Expected, at offset: Int? = nil) -> JSONReadError {
        let at = offset ?? position
        return JSONReadError(offset: at, expected: expected, found: at >= 0 && at < bytes.count ? bytes[at] : nil)
    }

    /// Moves past JSON white space (space, tab, line feed, carriage return).
    @inlinable
    public mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// The next byte after white space (which is skipped), or `nil` at the end of the text.
    @inlinable
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    /// Fails with ``JSONReadError/Expected/end`` unless only white space is left.
    @inlinable
    public mutating func expectEnd() throws(JSONReadError) {
        guard peek() == nil else { throw error(.end) }
    }

    /// Reads `word` (`true`, `false` or `null`) at ``position``.
    ///
    /// - Throws: ``JSONReadError/Expected/literal(_:)`` at its first byte, without moving.
    @inlinable
    public mutating func readLiteral(_ word: StaticString) throws(JSONReadError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error(.literal(word.description)) }
        for k in 0..<count where bytes[position + k] != word.utf8Start[k] {
            throw error(.literal(word.description))
        }
        position += count
    }

    /// Consumes `null` when it is next (after white space); `false`, without moving past the white space'
    /// end, when it is not.
    @inlinable
    public mutating func consumeNull() -> Bool {
        guard peek() == UInt8(ascii: "n"), position + 4 <= bytes.count, bytes[position + 1] == UInt8(ascii: "u"),
            bytes[position + 2] == UInt8(ascii: "l"), bytes[position + 3] == UInt8(ascii: "l")
        else { return false }
        position += 4
        return true
    }

    // MARK: Numbers

    /// Reads a number at ``position`` (RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
    ///
    /// - Returns: The number's byte range, for ``integer(in:)``, ``double(in:)`` or the caller's own reading.
    /// - Throws: ``JSONReadError/Expected/digit(numberStart:)``, ``JSONReadError/Expected/noLeadingZero(numberStart:enclosing:)``,
    ///   ``JSONReadError/Expected/fractionDigit(numberStart:)`` or ``JSONReadError/Expected/exponentDigit(numberStart:)``
    ///   at the byte that breaks the grammar.
    @inlinable
    public mutating func readNumber() throws(JSONReadError) -> Range<Int> {
        let start = position
        var i = start
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, Self.isDigit(bytes[i]) else { throw error(.digit(numberStart: start), at: i) }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, Self.isDigit(bytes[i]) {
                throw error(.noLeadingZero(numberStart: start, enclosing: nil), at: i)
            }
        } else {
            i = skipDigits(from: i)
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < bytes.count, Self.isDigit(bytes[i]) else {
                throw error(.fractionDigit(numberStart: start), at: i)
            }
            i = skipDigits(from: i)
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, Self.isDigit(bytes[i]) else {
                throw error(.exponentDigit(numberStart: start), at: i)
            }
            i = skipDigits(from: i)
        }
        position = i
        return start..<i
    }

    /// The integer a number's bytes spell (`-?[0-9]+`), or `nil` when they have a fraction or an exponent,
    /// or it does not fit an `Int`.
    @inlinable
    public func integer(in range: Range<Int>) -> Int? {
        var i = range.lowerBound
        let negative = i < range.upperBound && bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < range.upperBound else { return nil }
        var value = 0
        while i < range.upperBound {
            let byte = bytes[i]
            guard Self.isDigit(byte) else { return nil }
            let digit = Int(byte &- UInt8(ascii: "0"))
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) =
                negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !overflow, !overflow2 else { return nil }
            value = sum
            i += 1
        }
        return value
    }

    /// The `Double` nearest a number's bytes, or `nil` when it is too large to be finite.
    @inlinable
    public func double(in range: Range<Int>) -> Double? {
        guard let value = Double(text(in: range)), value.isFinite else { return nil }
        return value
    }

    /// The bytes of `range` as text (decoded as UTF-8, invalid bytes as U+FFFD).
    @inlinable
    public func text(in range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Whether `byte` is an ASCII digit.
    @inlinable
    public static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    @inlinable
    func skipDigits(from start: Int) -> Int {
        var i = start
        while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
        return i
    }
}

/// A reader borrows bytes it does not own, so it stays where they are.
@available(*, unavailable)
extension JSONReader: Sendable {}
