import SovereignBase
import Testing

struct CSVTokenizerTests {
    static func lines(_ text: String) -> [(Int, String)] {
        var result: [(Int, String)] = []
        CSVTokenizer(Array(text.utf8)).forEachLine { number, line in
            result.append((number, String(decoding: line, as: UTF8.self)))
        }
        return result
    }

    @Test func numbersLinesAndDropsCarriageReturns() {
        let lines = Self.lines("time,a\r\n\r\n2026,1\nlast")
        #expect(lines.map(\.0) == [1, 2, 3, 4])
        #expect(lines.map(\.1) == ["time,a", "", "2026,1", "last"])
        #expect(Self.lines("a\n").map(\.1) == ["a"])
        #expect(Self.lines("").isEmpty)
    }

    @Test func splitsFieldsWithTheirColumns() {
        let fields = CSVTokenizer.fields(of: Array("time, 12.5,,\"a,b\",x".utf8)[...])
        #expect(fields.map(\.text) == ["time", " 12.5", "", "a,b", "x"])
        #expect(fields.map(\.column) == [1, 6, 12, 13, 19])
    }

    @Test func findsALineByNumber() {
        let csv = CSVTokenizer(Array("h1,h2\n1,2\n3,4\n".utf8))
        #expect(csv.fields(ofLine: 3)?.map(\.text) == ["3", "4"])
        #expect(csv.fields(ofLine: 4) == nil)
        #expect(csv.firstLines(5).count == 3)
    }

    @Test func locatesAFieldByLineAndColumn() {
        let csv = CSVTokenizer(Array("time,watts\n2026-03-02T00:00:00Z,lots\n".utf8))
        var found: [(line: Int, column: Int, text: String)] = []
        csv.forEachLine { number, line in
            for field in CSVTokenizer.fields(of: line) where field.text == "lots" {
                found.append((number, field.column, field.text))
            }
        }
        #expect(found.count == 1)
        #expect(found.first?.line == 2)
        #expect(found.first?.column == 22)
    }
}
