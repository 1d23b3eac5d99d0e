import SovereignBase
import SovereignTesting
import Testing

struct JSONStringTests {
    static let awkward = "\u{0}\u{1f}\u{8}\t\n\u{c}\r\"\\/é€😀\u{2028}\u{7f}<>&'"

    @Test func allNamedEscapesAsECMAScriptAndSerde() {
        #expect(
            JSONString.quoted(Self.awkward, escapes: .allNamed)
                == #""\u0000\u001f\b\t\n\f\r\"\\/é€😀"# + "\u{2028}\u{7f}<>&'\""
        )
    }

    @Test func whitespaceNamedEscapesAsTheExtenderWrites() {
        #expect(
            JSONString.quoted(Self.awkward, escapes: .whitespaceNamed)
                == #""\u0000\u001f\u0008\t\n\u000c\r\"\\/é€😀"# + "\u{2028}\u{7f}<>&'\""
        )
    }

    @Test func plainTextIsCopied() {
        var output = Array("x".utf8)
        JSONString.write("node-7.example", to: &output)
        #expect(String(decoding: output, as: UTF8.self) == "x\"node-7.example\"")
        #expect(JSONString.quoted("") == "\"\"")
    }
}

/// RFC 8785 Appendix B's vectors, as the ledger's canonical JSON tests check them through `JSONValue`.
struct CanonicalJSONTests {
    static func number(_ value: Double) -> String {
        var output: [UInt8] = []
        CanonicalJSON.writeNumber(value, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    @Test(arguments: RFC8785.appendixB)
    func numbersFollowECMAScript(bits: UInt64, expected: String) {
        #expect(Self.number(Double(bitPattern: bits)) == expected)
    }

    @Test func nonFiniteNumbersAreNull() {
        #expect(Self.number(.infinity) == "null")
        #expect(Self.number(.nan) == "null")
    }

    @Test func keysSortByUTF16CodeUnits() {
        // U+FB33 is one UTF-16 unit; U+1F600 is a surrogate pair starting 0xD83D, so it sorts first.
        let keys = ["\u{FB33}", "😀", "b", "a", "A"]
        #expect(keys.sorted(by: CanonicalJSON.keyPrecedes) == ["A", "a", "b", "😀", "\u{FB33}"])
    }
}

struct JSONEscapeTests {
    @Test func oneLetterEscapesStandForTheirBytes() {
        let letters = Array(#""\/bfnrt"#.utf8)
        #expect(letters.map(JSONEscape.simple) == [0x22, 0x5C, 0x2F, 0x08, 0x0C, 0x0A, 0x0D, 0x09])
        #expect(JSONEscape.simple(UInt8(ascii: "u")) == nil)
        #expect(JSONEscape.simple(UInt8(ascii: "x")) == nil)
        #expect(JSONEscape.simple(UInt8(ascii: "'")) == nil)
    }

    @Test func surrogatePairsCombine() {
        #expect(JSONEscape.combine(high: 0xD83D, low: 0xDE00) == 0x1F600)
        #expect(JSONEscape.combine(high: 0xD800, low: 0xDC00) == 0x10000)
        #expect(JSONEscape.combine(high: 0xDBFF, low: 0xDFFF) == 0x10FFFF)
    }
}
