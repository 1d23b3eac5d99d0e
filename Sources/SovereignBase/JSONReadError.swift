/// What a ``JSONReader`` refused: where (a byte offset into the text it reads), what it expected there, and
/// what it found (the byte at `offset`, or the end of the text).
///
/// One structured error for every JSON reader in Sovereign: each caller renders it into its own error type
/// and phrasing (the ledger's `JSON byte N: expected …`, the extender's request-body errors, the safetensors
/// header's errors), so the reading is shared and the messages stay the callers' own.
public struct JSONReadError: Error, Sendable, Hashable {
    /// What the reader expected, with what a caller needs to phrase it.
    public enum Expected: Sendable, Hashable {
        /// The first byte of a value; found another byte, or the end of the text.
        case value
        /// The literal `true`, `false` or `null` whose first letter is at `offset`, spelt out.
        case literal(String)
        /// A `"` opening a string value.
        case string
        /// A `"` opening an object's key.
        case key
        /// A `:` after an object's key.
        case colon
        /// A `,` or the container's closing byte (`}` or `]`).
        case commaOrClose(UInt8)
        /// A string character; found a raw control character (below U+0020).
        case stringCharacter
        /// An escape letter after `\`; found the end of the text.
        case escape
        /// An escape (`\" \\ \/ \b \f \n \r \t \uXXXX`); the `\` is at `offset`, the letter after it.
        case validEscape
        /// Four hex digits of a `\u` escape starting at `start` (there are fewer than four when
        /// `start + 4` passes the end, and `offset` is then `start`; otherwise `offset` is the first non-digit).
        /// `lowSurrogateOf` is the offset of the high surrogate's `\` when these digits were its low half.
        case hexDigits(start: Int, lowSurrogateOf: Int?)
        /// A `\u` low surrogate escape after the high surrogate `high` escaped at `escape`; `offset` is just
        /// past the high surrogate.
        case lowSurrogateEscape(escape: Int, high: UInt32)
        /// A low surrogate (DC00–DFFF) after the high surrogate escaped at `escape`; found `low`, whose
        /// digits end at `offset`.
        case lowSurrogate(escape: Int, low: UInt32)
        /// A Unicode scalar; found a low surrogate `unit` escaped alone at `escape` (`offset` is just past it).
        case loneLowSurrogate(escape: Int, unit: UInt32)
        /// The `"` closing the string opened at `start`; found the end of the text.
        case closingQuote(start: Int)
        /// A string of valid UTF-8; the string opened at `start` (which is `offset`) holds invalid bytes.
        case utf8(start: Int)
        /// A digit of the integer part of the number starting at `numberStart`.
        case digit(numberStart: Int)
        /// No leading zero in the number starting at `numberStart`; found a digit after its `0`. `enclosing`
        /// is the closing byte of the innermost container ``JSONReader/skipValue(maximumDepth:uniqueKeys:)``
        /// had open (`nil` when the number was the value itself, or was read alone).
        case noLeadingZero(numberStart: Int, enclosing: UInt8?)
        /// A number that fits a `Double`; the number at `offset`, ending at `end`, is too large (reported by
        /// callers that convert numbers with ``JSONReader/double(in:)``).
        case finiteNumber(end: Int)
        /// A digit after the `.` of the number starting at `numberStart`.
        case fractionDigit(numberStart: Int)
        /// A digit of the exponent of the number starting at `numberStart`.
        case exponentDigit(numberStart: Int)
        /// At most `limit` levels of nesting; the container opening at `offset` is one more.
        case depth(limit: Int)
        /// Each key once in an object; found `key` (at `offset`) again.
        case uniqueKey(String)
        /// The end of the text after the value; found another byte.
        case end
    }

    /// The byte offset of the problem in the text read.
    public let offset: Int
    /// What was expected there.
    public let expected: Expected
    /// The byte found at `offset`, or `nil` at the end of the text.
    public let found: UInt8?

    /// An error at `offset`.
    @inlinable
    public init(offset: Int, expected: Expected, found: UInt8?) {
        self.offset = offset
        self.expected = expected
        self.found = found
    }
}
