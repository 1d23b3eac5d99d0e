#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension JSONReader {
    /// Reads a string value at ``position``, unescaped.
    ///
    /// - Throws: ``JSONReadError/Expected/string`` unless a `"` is at ``position``, and the string errors of
    ///   ``readString(_:)``.
    @inlinable
    public mutating func readString() throws(JSONReadError) -> String {
        try readString(.string)
    }

    /// Reads a string at ``position``, unescaped: `expected` names what a missing `"` refuses
    /// (``JSONReadError/Expected/string`` or ``JSONReadError/Expected/key``).
    ///
    /// - Throws: A raw control character, a bad escape, an unpaired surrogate, no closing quote, or invalid
    ///   UTF-8 when ``validatesUTF8``.
    @inlinable
    public mutating func readString(_ expected: JSONReadError.Expected) throws(JSONReadError) -> String {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error(expected) }
        let start = position
        // Fast path: no escapes, so the string is the bytes between the quotes.
        var i = start + 1
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\"") {
                let string = try decode(UnsafeBufferPointer(rebasing: bytes[(start + 1)..<i]), start: start)
                position = i + 1
                return string
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            i += 1
        }
        return try readEscapedString(start: start, from: i)
    }

    /// The rest of a string that has an escape (or a problem) at `from`.
    @usableFromInline
    mutating func readEscapedString(start: Int, from: Int) throws(JSONReadError) -> String {
        var unescaped = Array(UnsafeBufferPointer(rebasing: bytes[(start + 1)..<from]))
        var i = from
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\"") {
                let string = try unescaped.withUnsafeBufferPointer { buffer throws(JSONReadError) in
                    try decode(buffer, start: start)
                }
                position = i + 1
                return string
            }
            if byte < 0x20 { throw error(.stringCharacter, at: i) }
            if byte != UInt8(ascii: "\\") {
                unescaped.append(byte)
                i += 1
                continue
            }
            let (scalar, next) = try readEscape(at: i)
            Self.appendUTF8(scalar, to: &unescaped)
            i = next
        }
        throw error(.closingQuote(start: start), at: bytes.count)
    }

    /// Moves past a string at ``position`` without building it, checking what ``readString(_:)`` checks
    /// but UTF-8.
    ///
    /// - Throws: `expected` unless a `"` is at ``position``, and the string errors of ``readString(_:)``.
    @inlinable
    public mutating func skipString(_ expected: JSONReadError.Expected) throws(JSONReadError) {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error(expected) }
        let start = position
        var i = start + 1
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\"") {
                position = i + 1
                return
            }
            if byte < 0x20 { throw error(.stringCharacter, at: i) }
            if byte == UInt8(ascii: "\\") {
                i = try readEscape(at: i).next
            } else {
                i += 1
            }
        }
        throw error(.closingQuote(start: start), at: bytes.count)
    }

    /// The scalar an escape at `escape` (its `\`) stands for, and the offset after it; a surrogate pair is
    /// one escape of 12 bytes.
    @usableFromInline
    func readEscape(at escape: Int) throws(JSONReadError) -> (scalar: UInt32, next: Int) {
        guard escape + 1 < bytes.count else { throw error(.escape, at: bytes.count) }
        let letter = bytes[escape + 1]
        if let simple = JSONEscape.simple(letter) { return (UInt32(simple), escape + 2) }
        guard letter == UInt8(ascii: "u") else { throw error(.validEscape, at: escape) }
        let unit = try hex4(at: escape + 2, lowSurrogateOf: nil)
        if (0xDC00..<0xE000).contains(unit) {
            throw error(.loneLowSurrogate(escape: escape, unit: unit), at: escape + 6)
        }
        guard (0xD800..<0xDC00).contains(unit) else { return (unit, escape + 6) }
        guard escape + 7 < bytes.count, bytes[escape + 6] == UInt8(ascii: "\\"), bytes[escape + 7] == UInt8(ascii: "u")
        else { throw error(.lowSurrogateEscape(escape: escape, high: unit), at: escape + 6) }
        let low = try hex4(at: escape + 8, lowSurrogateOf: escape)
        guard (0xDC00..<0xE000).contains(low) else {
            throw error(.lowSurrogate(escape: escape, low: low), at: escape + 12)
        }
        return (JSONEscape.combine(high: unit, low: low), escape + 12)
    }

    /// The UTF-16 code unit spelt by four hex digits at `start`.
    @usableFromInline
    func hex4(at start: Int, lowSurrogateOf high: Int?) throws(JSONReadError) -> UInt32 {
        guard start + 4 <= bytes.count else { throw error(.hexDigits(start: start, lowSurrogateOf: high), at: start) }
        var unit: UInt32 = 0
        for i in start..<(start + 4) {
            guard let digit = Hex.value(bytes[i]) else {
                throw error(.hexDigits(start: start, lowSurrogateOf: high), at: i)
            }
            unit = unit << 4 | UInt32(digit)
        }
        return unit
    }

    /// Appends the UTF-8 encoding of a Unicode scalar value (never a surrogate: ``readEscape(at:)`` pairs them).
    @usableFromInline
    static func appendUTF8(_ scalar: UInt32, to bytes: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            bytes.append(UInt8(scalar))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | scalar >> 6))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | scalar >> 12))
            bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        default:
            bytes.append(UInt8(0xF0 | scalar >> 18))
            bytes.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// A string of the bytes `content` (of the string opened at `start`), refusing invalid UTF-8 when
    /// ``validatesUTF8``. Decoding repairs invalid bytes with U+FFFD, so the bytes are valid exactly when
    /// decoding gives them back unchanged; this is much faster than the generic `String(validating:as:)`.
    @usableFromInline
    func decode(_ content: UnsafeBufferPointer<UInt8>, start: Int) throws(JSONReadError) -> String {
        var string = String(decoding: content, as: UTF8.self)
        guard validatesUTF8 else { return string }
        let unchanged = string.withUTF8 { decoded in
            guard decoded.count == content.count else { return false }
            guard let decodedBase = decoded.baseAddress, let contentBase = content.baseAddress else { return true }
            return memcmp(decodedBase, contentBase, content.count) == 0
        }
        guard unchanged else { throw error(.utf8(start: start), at: start) }
        return string
    }
}
