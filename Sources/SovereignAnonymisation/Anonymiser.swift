import Crypto
import Foundation
import SovereignBase
public import SovereignModel

/// Runs an ``Anonymisation`` over a CSV file (plain or gzip) in two streaming passes.
///
/// Mondrian needs every row's quasi-identifiers at once, so "bounded memory" means: the first pass streams
/// the input and keeps only the quasi-identifier columns (8 bytes per row per quasi-identifier, 4 more for a
/// sensitive column, each categorical label once); the partitioning works on an index array over them; the
/// second pass streams the input again and writes each row as it goes. The rest of a row is never held
/// beyond the record being read, so a 1M-row file with 5 quasi-identifiers needs about 60 MB whatever its
/// other columns hold. The output is written to a temporary file and renamed into place, so a failed run
/// leaves no partial output.
public struct Anonymiser: Sendable {
    /// The method.
    public let method: Anonymisation
    /// The pseudonym key; required when the method pseudonymises a column.
    public let key: PseudonymKey?
    /// The seed of the numeric noise: the same input, method, key and seed give the same output. The noise is
    /// drawn from the key and the seed together (``PseudonymKey/noiseSeed(_:)``), never from the seed alone.
    public let noiseSeed: UInt64
    /// Whether every input column must be named by the method (a derivative that may go further than its
    /// source: no column travels unless the method says it may).
    public let namesEveryColumn: Bool

    /// Makes an anonymiser.
    ///
    /// - Throws: `AnonymisationError` `.configuration` when the method pseudonymises or adds noise and there is
    ///   no key (noise drawn from a seed that the report names could be replayed and subtracted).
    public init(
        method: Anonymisation,
        key: PseudonymKey?,
        noiseSeed: UInt64 = 0,
        namesEveryColumn: Bool = false
    ) throws(AnonymisationError) {
        if key == nil, let first = method.pseudonymise.first {
            throw AnonymisationError(
                .configuration,
                "pseudonymising \(String(reflecting: first)): expected a key (--key-file), found none"
            )
        }
        if key == nil, let first = method.noise.first {
            throw AnonymisationError(
                .configuration,
                "adding noise to \(String(reflecting: first.column)): expected a key (--key-file) to draw it with, "
                    + "found none"
            )
        }
        self.method = method
        self.key = key
        self.noiseSeed = noiseSeed
        self.namesEveryColumn = namesEveryColumn
    }

    /// Anonymises `input` into `output`.
    ///
    /// - Returns: The report; check ``AnonymisationReport/meets(k:)`` before releasing the output.
    /// - Throws: `AnonymisationError` located at the file, line and column of what does not fit.
    /// - Complexity: O(n log n · log(n/k)) time for n rows (Mondrian), O(n·d) memory for d quasi-identifiers.
    public func run(input: String, output: String) throws(AnonymisationError) -> AnonymisationReport {
        let (layout, table, inputDigest) = try readQuasiIdentifiers(CSVInput(path: input))
        let mondrian = Mondrian(k: method.k, l: method.diversity?.l ?? 1)
        let (rows, classes) = mondrian.partition(table)
        let generalisation = Generalisation(table: table, rows: rows, classes: classes)
        let (written, outputDigest) = try write(
            CSVInput(path: input),
            layout,
            generalisation,
            inputDigest: inputDigest,
            to: output
        )
        return report(
            input: input,
            output: output,
            digests: (inputDigest, outputDigest),
            rowsIn: table.rowCount,
            rowsOut: written,
            generalisation: generalisation
        )
    }

    /// The first pass: the header and every row's quasi-identifiers.
    private func readQuasiIdentifiers(
        _ input: CSVInput
    ) throws(AnonymisationError) -> (ColumnLayout, QuasiIdentifierTable, String) {
        var layout: ColumnLayout?
        var builder = QuasiIdentifierTableBuilder(
            kinds: method.quasiIdentifiers.map(\.kind),
            diversity: method.diversity != nil
        )
        let digest = try input.forEachRecord { (record) throws(AnonymisationError) in
            guard let layout else {
                layout = try ColumnLayout(
                    header: record,
                    method: method,
                    path: input.path,
                    namingEveryColumn: namesEveryColumn
                )
                return
            }
            try checkWidth(record, layout, input.path)
            var numbers: [Double?] = []
            var labels: [String?] = []
            for (position, column) in layout.quasiColumns.enumerated() {
                let field = record.fields[column]
                switch method.quasiIdentifiers[position].kind {
                case .numeric:
                    numbers.append(try Self.number(field, column: layout.names[column], path: input.path))
                    labels.append(nil)
                case .categorical:
                    numbers.append(nil)
                    labels.append(field.text)
                }
            }
            builder.append(
                numbers: numbers,
                labels: labels,
                sensitiveLabel: layout.sensitiveColumn.map { record.fields[$0].text }
            )
        }
        guard let layout else {
            throw AnonymisationError(.input, "\(input.path): expected a header row, found an empty file")
        }
        return (layout, builder.finish(), digest)
    }

    private func checkWidth(_ record: CSVRecord, _ layout: ColumnLayout, _ path: String) throws(AnonymisationError) {
        guard record.fieldCount != layout.names.count else { return }
        let field = record.fields[min(layout.names.count, record.fields.count - 1)]
        throw AnonymisationError(
            .input,
            "\(path):\(field.line):\(field.column): expected \(layout.names.count) fields (as in the header on line "
                + "\(layout.headerLine)), found \(record.fieldCount)"
        )
    }

    /// A numeric field's value, `nil` when it is empty or blank.
    static func number(_ field: CSVField, column: String, path: String) throws(AnonymisationError) -> Double? {
        let bytes = field.bytes
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return nil }
        guard let value = DecimalParser.parse(bytes), value.isFinite else {
            throw AnonymisationError(
                .input,
                "\(path):\(field.line):\(field.column): column \(String(reflecting: column)): expected a number, "
                    + "found \(AnonymisationError.unshown(field.text))"
            )
        }
        return value
    }
}
