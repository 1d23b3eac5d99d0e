import SovereignAnonymisation
import SovereignBase
import Testing

@Suite struct MondrianTests {
    /// A table of numeric quasi-identifiers from a seeded generator.
    static func table(rows: Int, columns: Int, seed: UInt64) -> QuasiIdentifierTable {
        var generator = SeededGenerator(seed: seed)
        let built = (0..<columns).map { _ in
            let values = (0..<rows).map { _ in Double(generator.nextInt(below: 100)) }
            return QuasiIdentifierTable.Column(values: values, labels: nil, domain: 0...99)
        }
        return QuasiIdentifierTable(columns: built, eligibleRows: (0..<rows).map { Int32($0) }, rowCount: rows)
    }

    @Test(arguments: [(2, 1), (5, 2), (10, 3), (25, 5)])
    func everyClassHoldsAtLeastKRowsAndNoValueSpansTwoClasses(k: Int, columns: Int) {
        let table = Self.table(rows: 1_000, columns: columns, seed: UInt64(k * 31 + columns))
        let (rows, classes) = Mondrian(k: k).partition(table)
        #expect(classes.map(\.count).reduce(0, +) == 1_000)
        #expect(Set(rows).count == 1_000)
        #expect(classes.allSatisfy { $0.count >= k })
        // Strict: the classes' boxes do not overlap (any two are apart on some quasi-identifier).
        let boxes = classes.map { range in
            table.columns.map { column in
                let values = rows[range].map { column.values[Int($0)] }
                return (values.min() ?? 0)...(values.max() ?? 0)
            }
        }
        for i in boxes.indices {
            for j in boxes.indices where j > i {
                #expect(zip(boxes[i], boxes[j]).contains { !$0.overlaps($1) }, "classes \(i) and \(j) overlap")
            }
        }
    }

    @Test func oneQuasiIdentifierSplitsDownToItsDistinctValues() {
        // 100 values, each on about 10 rows: every value whose rows reach k becomes its own class.
        let table = Self.table(rows: 1_000, columns: 1, seed: 5)
        let counts = Dictionary(grouping: table.columns[0].values, by: { $0 }).mapValues(\.count)
        let (_, classes) = Mondrian(k: 2).partition(table)
        #expect(counts.values.allSatisfy { $0 >= 4 })
        #expect(classes.count == counts.count)
    }

    @Test func fewerRowsThanKFormNoClass() {
        let (_, classes) = Mondrian(k: 10).partition(Self.table(rows: 9, columns: 2, seed: 1))
        #expect(classes.isEmpty)
    }

    @Test func diversityKeepsLDistinctSensitiveValuesInEveryClass() {
        var table = Self.table(rows: 600, columns: 2, seed: 7)
        var generator = SeededGenerator(seed: 8)
        table.sensitive = (0..<600).map { _ in Int32(generator.nextInt(below: 4)) }
        table.sensitiveLabelCount = 4
        let (rows, classes) = Mondrian(k: 5, l: 3).partition(table)
        #expect(!classes.isEmpty)
        for range in classes {
            let distinct = Set(rows[range].map { table.sensitive?[Int($0)] ?? -1 })
            #expect(distinct.count >= 3)
        }
    }

    @Test func theSameTableGivesTheSameClasses() {
        let table = Self.table(rows: 2_000, columns: 4, seed: 42)
        let first = Mondrian(k: 10).partition(table)
        let second = Mondrian(k: 10).partition(table)
        #expect(first.rows == second.rows)
        #expect(first.classes == second.classes)
    }
}
