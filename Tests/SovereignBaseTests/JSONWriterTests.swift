import SovereignBase
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

    @Test(
        arguments: [
            (0x0000_0000_0000_0000, "0"), (0x8000_0000_0000_0000, "0"), (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"), (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
            (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"), (0x4340_0000_0000_0000, "9007199254740992"),
            (0xc340_0000_0000_0000, "-9007199254740992"), (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"), (0x44b5_2d02_c7e1_4af6, "1e+23"),
            (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"), (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
            (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"), (0x444b_1ae4_d6e2_ef50, "1e+21"),
            (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"), (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
            (0x41b3_de43_5555_5553, "333333333.3333332"), (0x41b3_de43_5555_5554, "333333333.33333325"),
            (0x41b3_de43_5555_5555, "333333333.3333333"), (0x41b3_de43_5555_5556, "333333333.3333334"),
            (0x41b3_de43_5555_5557, "333333333.33333343"), (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
            (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
        ] as [(UInt64, String)]
    )
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
