import SovereignBase
import Testing

/// Reads `text` with `body`, giving back what it returned or the reader's refusal.
private func read<T>(
    _ text: String,
    validatingUTF8: Bool = true,
    _ body: (inout JSONReader) throws(JSONReadError) -> T
) -> Result<T, JSONReadError> {
    Array(text.utf8).withUnsafeBufferPointer { buffer in
        var reader = JSONReader(buffer, validatesUTF8: validatingUTF8)
        return Result { () throws(JSONReadError) in try body(&reader) }
    }
}

/// The refusal of skipping `text` as one whole document, or `nil` when it is accepted.
private func refusal(_ text: String, maximumDepth: Int = 64, uniqueKeys: Bool = false) -> JSONReadError? {
    let result = read(text) { reader throws(JSONReadError) in
        try reader.skipValue(maximumDepth: maximumDepth, uniqueKeys: uniqueKeys)
        try reader.expectEnd()
    }
    guard case .failure(let error) = result else { return nil }
    return error
}

@Suite struct JSONReaderTests {
    @Test func stringsAreUnescapedWithSurrogatePairs() throws {
        let text = #""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00z""#
        let string = try read(text) { reader throws(JSONReadError) in try reader.readString() }.get()
        #expect(string == "a\"\\/\u{8}\u{c}\n\r\té😀z")
        #expect(try read(#""plain""#) { reader throws(JSONReadError) in try reader.readString() }.get() == "plain")
    }

    @Test func stringRefusalsNameTheirPlace() {
        let cases: [(String, JSONReadError.Expected, Int)] = [
            ("x", .string, 0),
            ("\"a\u{1}\"", .stringCharacter, 2),
            (#""a\"#, .escape, 3),
            (#""a\x""#, .validEscape, 2),
            (#""\u12"#, .hexDigits(start: 3, lowSurrogateOf: nil), 3),
            (#""\u12G4""#, .hexDigits(start: 3, lowSurrogateOf: nil), 5),
            (#""\udc00""#, .loneLowSurrogate(escape: 1, unit: 0xDC00), 7),
            (#""\ud800x""#, .lowSurrogateEscape(escape: 1, high: 0xD800), 7),
            (#""\ud800\u0041""#, .lowSurrogate(escape: 1, low: 0x41), 13),
            (#""\ud800\u00""#, .hexDigits(start: 9, lowSurrogateOf: 1), 9),
            (#""abc"#, .closingQuote(start: 0), 4),
        ]
        for (text, expected, offset) in cases {
            let result = read(text) { reader throws(JSONReadError) in try reader.readString() }
            #expect(throws: JSONReadError(offset: offset, expected: expected, found: Array(text.utf8).element(offset)))
            {
                try result.get()
            }
        }
    }

    @Test func invalidUTF8IsRefusedOnlyWhenAsked() throws {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x22]
        let strict = bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            return Result { () throws(JSONReadError) in try reader.readString() }
        }
        #expect(throws: JSONReadError(offset: 0, expected: .utf8(start: 0), found: 0x22)) { try strict.get() }
        let lax = bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer, validatesUTF8: false)
            return Result { () throws(JSONReadError) in try reader.readString() }
        }
        #expect(try lax.get() == "a\u{FFFD}")
    }

    @Test func numbersFollowTheStrictGrammar() throws {
        for text in ["0", "-0", "12", "-3.25", "1e9", "1E+2", "2.5e-3"] {
            let range = try read(text) { reader throws(JSONReadError) in try reader.readNumber() }.get()
            #expect(range == 0..<text.utf8.count, "\(text)")
        }
        let cases: [(String, JSONReadError.Expected, Int)] = [
            ("-", .digit(numberStart: 0), 1),
            ("-x", .digit(numberStart: 0), 1),
            ("01", .noLeadingZero(numberStart: 0, enclosing: nil), 1),
            ("1.", .fractionDigit(numberStart: 0), 2),
            ("1.e3", .fractionDigit(numberStart: 0), 2),
            ("1e", .exponentDigit(numberStart: 0), 2),
            ("1e+", .exponentDigit(numberStart: 0), 3),
        ]
        for (text, expected, offset) in cases {
            let result = read(text) { reader throws(JSONReadError) in try reader.readNumber() }
            #expect(throws: JSONReadError(offset: offset, expected: expected, found: Array(text.utf8).element(offset)))
            {
                try result.get()
            }
        }
    }

    @Test func numbersConvert() throws {
        let values = try read("[-9223372036854775808, 42, 1.5, 1e400, 9223372036854775808]") {
            reader throws(JSONReadError) in
            var ranges: [Range<Int>] = []
            reader.position += 1
            while reader.peek() != UInt8(ascii: "]") {
                ranges.append(try reader.readNumber())
                if reader.peek() == UInt8(ascii: ",") { reader.position += 1 }
                reader.skipWhitespace()
            }
            return ranges.map { (reader.integer(in: $0), reader.double(in: $0)) }
        }.get()
        #expect(values.map(\.0) == [Int.min, 42, nil, nil, nil])
        #expect(values.map(\.1) == [-9_223_372_036_854_775_808, 42, 1.5, nil, 9_223_372_036_854_775_808])
    }

    @Test func skippedValuesGiveTheirByteRanges() throws {
        let text = #"  {"a": [1, {"b": null}], "c": "\u00e9"} "#
        let range = try read(text) { reader throws(JSONReadError) in try reader.skipValue(maximumDepth: 4) }.get()
        #expect(range == 2..<(text.utf8.count - 1))
        let literal = try read(" true") { reader throws(JSONReadError) in try reader.skipValue(maximumDepth: 0) }.get()
        #expect(literal == 1..<5)
    }

    @Test func skipRefusalsNameTheirPlace() {
        let cases: [(String, JSONReadError.Expected, Int)] = [
            ("", .value, 0),
            ("[1,]", .value, 3),
            ("{\"a\":1,}", .key, 7),
            ("{\"a\" 1}", .colon, 5),
            ("[1 2]", .commaOrClose(UInt8(ascii: "]")), 3),
            ("{\"a\":1", .commaOrClose(UInt8(ascii: "}")), 6),
            ("[tru]", .literal("true"), 1),
            ("[01]", .noLeadingZero(numberStart: 1, enclosing: UInt8(ascii: "]")), 2),
            ("{\"a\":1,\"a\":2}", .uniqueKey("a"), 7),
            ("[[[]]]", .depth(limit: 2), 2),
            ("[1] [2]", .end, 4),
        ]
        for (text, expected, offset) in cases {
            let error = refusal(text, maximumDepth: 2, uniqueKeys: true)
            #expect(error == JSONReadError(offset: offset, expected: expected, found: Array(text.utf8).element(offset)))
        }
        #expect(refusal("{\"a\":1,\"a\":2}", uniqueKeys: false) == nil)
        #expect(refusal("[[]]", maximumDepth: 2) == nil)
    }

    @Test func deepNestingIsRefusedWithoutRecursion() {
        let depth = 100_000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(refusal(text, maximumDepth: depth) == nil)
        #expect(refusal(text, maximumDepth: depth - 1)?.expected == .depth(limit: depth - 1))
    }
}

extension [UInt8] {
    /// The byte at `offset`, or `nil` past the end.
    fileprivate func element(_ offset: Int) -> UInt8? { offset < count ? self[offset] : nil }
}
