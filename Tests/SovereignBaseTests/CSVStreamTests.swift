import SovereignBase
import Testing

struct CSVStreamTests {
    /// A field as the tests compare it: where, whether quoted, and its text.
    struct Seen: Equatable, CustomStringConvertible {
        let line: Int
        let column: Int
        let quoted: Bool
        let text: String

        init(_ line: Int, _ column: Int, _ quoted: Bool, _ text: String) {
            self.line = line
            self.column = column
            self.quoted = quoted
            self.text = text
        }

        init(_ field: CSVField) { self.init(field.line, field.column, field.isQuoted, field.text) }

        var description: String { "\(line):\(column)\(quoted ? " quoted" : "") \(String(reflecting: text))" }
    }

    /// Quoted commas, a quoted line break, doubled quotes, CRLF, empty fields, a quote inside an unquoted
    /// field, and a last record without a line ending.
    static let sample = Array(
        "time,\"note, with comma\",value\r\n2026,\"two\nlines\",\"say \"\"hi\"\"\"\r\n,,\n\"\"\na\"b,\"x\"y,\"end\""
            .utf8
    )

    static let sampleRecords: [(line: Int, fields: [Seen])] = [
        (1, [Seen(1, 1, false, "time"), Seen(1, 6, true, "note, with comma"), Seen(1, 25, false, "value")]),
        (2, [Seen(2, 1, false, "2026"), Seen(2, 6, true, "two\nlines"), Seen(3, 8, true, "say \"hi\"")]),
        (4, [Seen(4, 1, false, ""), Seen(4, 2, false, ""), Seen(4, 3, false, "")]),
        (5, [Seen(5, 1, true, "")]),
        (6, [Seen(6, 1, false, "a\"b"), Seen(6, 5, false, "\"x\"y"), Seen(6, 10, true, "end")]),
    ]

    /// Feeds `bytes` in the chunks that `cuts` (increasing offsets) make.
    static func records(_ bytes: [UInt8], cuts: [Int]) throws -> [CSVRecord] {
        var stream = CSVTokenizer.Stream()
        var result: [CSVRecord] = []
        var start = 0
        for end in cuts + [bytes.count] {
            let chunk = Array(bytes[start..<end])
            var index = 0
            while let record = stream.nextRecord(in: chunk, from: &index) { result.append(record) }
            start = end
        }
        if let last = try stream.finish() { result.append(last) }
        return result
    }

    @Test func wholeTextRecordsHaveLocatedQuotedFields() throws {
        let records = try CSVTokenizer(Self.sample).records()
        #expect(records.map(\.line) == Self.sampleRecords.map(\.line))
        #expect(records.map { $0.fields.map(Seen.init) } == Self.sampleRecords.map(\.fields))
        #expect(records.map(\.fieldCount) == [3, 3, 3, 1, 3])
        #expect(records[1].fields[2].raw.elementsEqual("\"say \"\"hi\"\"\"".utf8))
        #expect(records[1].fields[2].bytes.elementsEqual("say \"\"hi\"\"".utf8))
    }

    @Test func aRecordSplitAtEveryOffsetGivesTheSameRecords() throws {
        let whole = try CSVTokenizer(Self.sample).records()
        for cut in 0...Self.sample.count {
            #expect(try Self.records(Self.sample, cuts: [cut]) == whole, "cut at \(cut)")
        }
        for first in stride(from: 0, through: Self.sample.count, by: 7) {
            for second in first...Self.sample.count {
                #expect(try Self.records(Self.sample, cuts: [first, second]) == whole, "cuts at \(first), \(second)")
            }
        }
        #expect(try Self.records(Self.sample, cuts: Array(1..<Self.sample.count)) == whole)
    }

    @Test func crlfEndingsBelongToNoField() throws {
        let records = try CSVTokenizer(Array("a,b\r\n\"q\"\r\n\r\nlast,\r\n".utf8)).records()
        #expect(records.map { $0.fields.map(\.text) } == [["a", "b"], ["q"], [""], ["last", ""]])
        #expect(records[1].fields[0].isQuoted)
        #expect(records.map(\.line) == [1, 2, 3, 4])
        // A carriage return inside quotes is the field's; one after a closing quote but before more bytes too.
        let kept = try CSVTokenizer(Array("\"a\r\nb\"\r\n\"c\"\rd\n".utf8)).records()
        #expect(
            kept.map { $0.fields.map(Seen.init) } == [[Seen(1, 1, true, "a\r\nb")], [Seen(3, 1, false, "\"c\"\rd")]]
        )
    }

    @Test func anUnterminatedQuoteIsLocatedAtItsOpening() throws {
        let text = Array("a,b\n1,\"open\nstill open,\n".utf8)
        let error = try #require(throws: CSVError.self) { try CSVTokenizer(text).records() }
        #expect(error.line == 2)
        #expect(error.column == 3)
        #expect(
            error.description
                == "2:3: expected a closing double quote for the field that opens here, found the end of the input"
        )
        for cut in 0...text.count {
            #expect(throws: error) { try Self.records(text, cuts: [cut]) }
        }
    }

    @Test func theBufferNeverHoldsMoreThanOneRecord() throws {
        var generator = SeededGenerator(seed: 14)
        var text: [UInt8] = []
        var longest = 0
        for row in 0..<20_000 {
            let record = Array("\(row),\"a, \"\"b\"\"\",\(generator.nextInt(below: 1_000_000))".utf8)
            longest = max(longest, record.count)
            text += record + [0x0A]
        }
        var stream = CSVTokenizer.Stream()
        var start = 0
        var count = 0
        while start < text.count {
            let chunk = Array(text[start..<min(text.count, start + 1 + generator.nextInt(below: 200))])
            start += chunk.count
            var index = 0
            while let record = stream.nextRecord(in: chunk, from: &index) {
                #expect(record.fields.count == 3)
                count += 1
            }
            #expect(stream.bufferedByteCount <= longest)
        }
        #expect(try stream.finish() == nil)
        #expect(count == 20_000)
        #expect(stream.peakBufferedByteCount > 0 && stream.peakBufferedByteCount <= longest)
        #expect(text.count > 100 * longest)
    }

    @Test func limitsDropBytesAndFieldsButCountThem() throws {
        var stream = CSVTokenizer.Stream(maximumFieldBytes: 4, maximumFieldCount: 2)
        let text = Array("123456,\"abcdef\",x,y\r\nab,cd\r\n".utf8)
        var index = 0
        let first = try #require(stream.nextRecord(in: text, from: &index))
        #expect(first.fieldCount == 4)
        #expect(first.fields.map { String(decoding: $0.raw, as: UTF8.self) } == ["1234", "\"abc"])
        #expect(first.fields.map(\.isTruncated) == [true, true])
        #expect(first.fields.map(\.text) == ["1234", "abc"])
        #expect(first.fields[1].isQuoted)
        let second = try #require(stream.nextRecord(in: text, from: &index))
        #expect(second.fields.map(\.text) == ["ab", "cd"] && second.fieldCount == 2)
        #expect(second.fields.map(\.isTruncated) == [false, false])
        #expect(stream.nextRecord(in: text, from: &index) == nil)
        #expect(stream.peakBufferedByteCount == 8)
    }

    @Test func linesSplitWithTheSameGrammar() throws {
        let line = Array("time, 12.5,,\"a,\"\"b\"\"\",\"x\"y,\"open".utf8)
        let fields = CSVTokenizer.fields(of: line[...], line: 9)
        #expect(
            fields.map(Seen.init) == [
                Seen(9, 1, false, "time"), Seen(9, 6, false, " 12.5"), Seen(9, 12, false, ""),
                Seen(9, 13, true, "a,\"b\""), Seen(9, 23, false, "\"x\"y"), Seen(9, 28, false, "\"open"),
            ]
        )
        let closed = Array(line.dropLast(5))
        #expect(try CSVTokenizer(closed).records().first?.fields == CSVTokenizer.fields(of: closed[...]))
    }
}
