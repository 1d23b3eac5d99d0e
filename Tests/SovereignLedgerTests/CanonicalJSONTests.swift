import Foundation
import SovereignBase
import SovereignLedger
import SovereignTesting
import Testing

/// RFC 8785 canonical JSON for ledger entries: key order, escaping, numbers, round trips, and refusal of
/// anything that is not byte for byte canonical.
struct CanonicalJSONTests {
    static func text(_ value: JSONValue) -> String {
        String(decoding: value.canonicalJSON(), as: UTF8.self)
    }

    static func canonical(_ json: String) throws -> String {
        text(try JSONValue(json: Array(json.utf8)))
    }

    /// RFC 8785 §3.2.3: keys sort by UTF-16 code units, so U+1F600 (a surrogate pair, D83D DE00) comes
    /// before U+FB33, unlike code-point or UTF-8 order.
    @Test func keysSortByUTF16CodeUnits() throws {
        let json = """
            {"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}
            """
        let expected =
            #"{"\r":"Carriage Return","1":"One","\#u{80}":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","דּ":"Hebrew Letter Dalet With Dagesh"}"#
        #expect(try Self.canonical(json) == expected)
        #expect(Self.text(["b": [3, 1, 2], "a": ["z": 1, "y": nil]]) == #"{"a":{"y":null,"z":1},"b":[3,1,2]}"#)
    }

    /// RFC 8785 §3.2.2's example, parsed from its non-canonical form.
    @Test func rfcExample() throws {
        let json = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let expected =
            #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        #expect(try Self.canonical(json) == expected)
    }

    @Test func stringsUseMinimalEscaping() {
        let value: JSONValue = "\u{0}\u{1f}\u{8}\t\n\u{c}\r\"\\/é€😀\u{2028}\u{7f}<>&'"
        #expect(Self.text(value) == #""\u0000\u001f\b\t\n\f\r\"\\/é€😀"# + "\u{2028}\u{7f}<>&'\"")
    }

    /// RFC 8785 Appendix B: IEEE 754 bit patterns and the text ECMAScript writes for them.
    @Test(arguments: RFC8785.appendixB)
    func numbersFollowECMAScript(bits: UInt64, expected: String) throws {
        let value = Double(bitPattern: bits)
        #expect(Self.text(.number(value)) == expected)
        let parsed = try JSONValue(json: Array(expected.utf8))
        #expect(parsed == .number(value == 0 ? 0 : value))
    }

    @Test func integersPrintWithoutFraction() {
        #expect(
            Self.text([1, -5, 0, 1.0, 42.5, 100, 1e15, 123_456_789_012])
                == "[1,-5,0,1,42.5,100,1000000000000000,123456789012]"
        )
        #expect(Self.text(.number(.nan)) == "null")
        #expect(Self.text(.number(-.infinity)) == "null")
        #expect(Self.text([true, false, nil, "", [], [:]]) == #"[true,false,null,"",[],{}]"#)
    }

    @Test func entryCanonicalForm() throws {
        let entry = LedgerEntry(
            sequence: 12,
            time: "2026-11-22T10:00:00.123Z",
            kind: "workload.submitted",
            fields: ["workload": "train-7b", "gpus": 64, "site": ["name": "nairobi-1", "pue": 1.25]]
        )
        let expected =
            #"{"fields":{"gpus":64,"site":{"name":"nairobi-1","pue":1.25},"workload":"train-7b"},"kind":"workload.submitted","sequence":12,"time":"2026-11-22T10:00:00.123Z"}"#
        #expect(String(decoding: entry.canonicalJSON(), as: UTF8.self) == expected)
        #expect(try LedgerEntry(canonicalJSON: Array(expected.utf8)) == entry)
        #expect(entry.leafHash == MerkleHash.leaf(Array(expected.utf8)))
    }

    /// Seeded random entries (unicode, control characters, awkward doubles, nesting) survive the round
    /// trip exactly, and re-encoding gives the same bytes.
    @Test func randomEntriesRoundTrip() throws {
        var random = TestRandom(seed: 8785)
        for sequence in 0..<2000 {
            let entry = LedgerEntry(
                sequence: sequence,
                time: "2026-01-01T00:00:00.000Z",
                kind: random.string(),
                fields: random.object(depth: 0)
            )
            let bytes = entry.canonicalJSON()
            let parsed = try LedgerEntry(canonicalJSON: bytes)
            #expect(parsed == entry)
            #expect(parsed.canonicalJSON() == bytes)
            // Foundation's parser reads the same text.
            let foundation = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
            #expect(foundation?["sequence"] as? Int == sequence)
        }
    }

    @Test func nonCanonicalEntriesAreRejected() {
        let good =
            #"{"fields":{"a":1,"b":"x"},"kind":"k","sequence":3,"time":"2026-11-22T10:00:00.123Z"}"#
        let nonCanonical = [
            (#"{"fields":{"a":1,"b":"x"}, "kind":"k","sequence":3,"time":"2026-11-22T10:00:00.123Z"}"#, "byte 26"),
            (#"{"fields":{"b":"x","a":1},"kind":"k","sequence":3,"time":"2026-11-22T10:00:00.123Z"}"#, "byte 12"),
            (#"{"fields":{"a":1.0,"b":"x"},"kind":"k","sequence":3,"time":"2026-11-22T10:00:00.123Z"}"#, "byte 16"),
            (#"{"fields":{"a":1,"b":"\u0078"},"kind":"k","sequence":3,"time":"2026-11-22T10:00:00.123Z"}"#, "byte 22"),
            (#"{"kind":"k","fields":{"a":1,"b":"x"},"sequence":3,"time":"2026-11-22T10:00:00.123Z"}"#, "byte 2"),
            (#"{"fields":{"a":1,"b":"x"},"kind":"k","sequence":3e0,"time":"2026-11-22T10:00:00.123Z"}"#, "byte 49"),
            (good + "\n", "byte \(good.utf8.count)"),
        ]
        #expect((try? LedgerEntry(canonicalJSON: Array(good.utf8))) != nil)
        for (text, offset) in nonCanonical {
            expectLedgerError(.nonCanonicalJSON, containing: offset) {
                _ = try LedgerEntry(canonicalJSON: Array(text.utf8))
            }
        }
        let notEntries = [
            #"{"fields":{},"kind":"k","sequence":3}"#,
            #"{"fields":{},"kind":"k","sequence":3,"time":"2026-11-22T10:00:00.123Z","extra":1}"#,
            #"{"fields":[],"kind":"k","sequence":3,"time":"2026-11-22T10:00:00.123Z"}"#,
            #"{"fields":{},"kind":"","sequence":3,"time":"2026-11-22T10:00:00.123Z"}"#,
            #"{"fields":{},"kind":"k","sequence":3.5,"time":"2026-11-22T10:00:00.123Z"}"#,
            #"{"fields":{},"kind":"k","sequence":-1,"time":"2026-11-22T10:00:00.123Z"}"#,
            #"{"fields":{},"kind":"k","sequence":"3","time":"2026-11-22T10:00:00.123Z"}"#,
            #"{"fields":{},"kind":"k","sequence":3,"time":"2026-11-22T10:00:00Z"}"#,
            #"{"fields":{},"kind":"k","sequence":3,"time":"2026-13-22T10:00:00.123Z"}"#,
            #"{"fields":{},"kind":"k","sequence":3,"time":"2026-11-22 10:00:00.123Z"}"#,
            #"[1]"#,
        ]
        for text in notEntries {
            expectLedgerError(.malformedEntry, containing: "ledger entry") {
                _ = try LedgerEntry(canonicalJSON: Array(text.utf8))
            }
        }
    }

    @Test func malformedJSONIsRejected() throws {
        let cases: [(String, String)] = [
            ("", "byte 0: expected a value"),
            ("[1,]", "byte 3: expected a value"),
            ("{\"a\":1,}", "byte 7: expected a key string"),
            ("[01]", "no leading zero"),
            ("[1.]", "a digit after '.'"),
            ("[-]", "expected a digit"),
            ("[1e400]", "fits a Double"),
            ("{\"a\":1,\"a\":2}", "each key once"),
            (#"["\ud800"]"#, "low surrogate"),
            (#"["\udc00"]"#, "lone low surrogate"),
            (#"["\x"]"#, "an escape"),
            ("[\"a\u{1}\"]", "control characters must be escaped"),
            ("[1] [2]", "the end of the text"),
            ("[tru]", "expected a value"),
            ("\"abc", "closing"),
            (String(repeating: "[", count: 300) + String(repeating: "]", count: 300), "levels of nesting"),
        ]
        for (text, message) in cases {
            expectLedgerError(.malformedJSON, containing: message) { _ = try JSONValue(json: Array(text.utf8)) }
        }
        expectLedgerError(.malformedJSON, containing: "valid UTF-8") { _ = try JSONValue(json: [0x22, 0xff, 0x22]) }
        #expect(try JSONValue(json: Array(" [1, \"\\u00e9\\/\", {\"k\": -0.5e1}] ".utf8)) == [1, "é/", ["k": -5]])
    }

    @Test func codableMatchesTheValue() throws {
        let value: JSONValue = ["list": [1, 2.5, "three", true, nil], "nested": ["empty": [:]]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
        #expect(try JSONValue(json: Array(data)) == value)
    }

    @Test func timesAreFormattedAsTheLedgerWritesThem() {
        #expect(LedgerEntry.formatTime(Date(timeIntervalSince1970: 1_795_341_600.123)) == "2026-11-22T10:00:00.123Z")
        #expect(LedgerEntry.formatTime(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(LedgerEntry.formatTime(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect(LedgerEntry.formatTime(Date(timeIntervalSince1970: 951_868_799.9999)) == "2000-02-29T23:59:59.999Z")
    }

    @Test func anAppendIsTimedNoEarlierThanTheEntryBeforeIt() {
        let noon = Date(timeIntervalSince1970: 1_795_341_600)
        let previous = LedgerEntry(sequence: 0, time: "2026-11-22T10:00:00.500Z", kind: "k", fields: [:])
            .canonicalJSON()
        #expect(LedgerEntry.appendTime(noon, after: nil) == "2026-11-22T10:00:00.000Z")
        #expect(LedgerEntry.appendTime(noon, after: previous) == "2026-11-22T10:00:00.500Z")
        #expect(LedgerEntry.appendTime(noon.addingTimeInterval(1), after: previous) == "2026-11-22T10:00:01.000Z")
        // A row that does not read back is the audit's to report; it does not hold the time back.
        #expect(LedgerEntry.appendTime(noon, after: Array("{\"time\":\"9999\"}".utf8)) == "2026-11-22T10:00:00.000Z")
    }
}

/// SplitMix64, for repeatable random test data.
struct TestRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func string() -> String {
        let pieces = [
            "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\u{1}", "\u{1f}", "\u{7f}", "é", "€", "😀", "\u{2028}", "דּ", "k",
        ]
        return (0..<(1 + below(8))).map { _ in pieces[below(pieces.count)] }.joined()
    }

    mutating func number() -> Double {
        switch below(4) {
        case 0: return Double(Int(truncatingIfNeeded: next()) % 1_000_000)
        case 1: return Double(below(1000)) / 8
        case 2:
            let value = Double(bitPattern: next())
            return value.isFinite ? value : 1
        default: return Double(bitPattern: next() & 0x000f_ffff_ffff_ffff | 0x3ff0_0000_0000_0000) * 1e-9
        }
    }

    mutating func value(depth: Int) -> JSONValue {
        switch below(depth > 2 ? 4 : 6) {
        case 0: return .null
        case 1: return .bool(below(2) == 0)
        case 2: return .number(number())
        case 3: return .string(string())
        case 4: return .array((0..<below(4)).map { _ in value(depth: depth + 1) })
        default: return .object(object(depth: depth + 1))
        }
    }

    mutating func object(depth: Int) -> [String: JSONValue] {
        var members: [String: JSONValue] = [:]
        for _ in 0..<below(5) { members[string()] = value(depth: depth) }
        return members
    }
}
