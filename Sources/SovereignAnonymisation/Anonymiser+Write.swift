import Crypto
import Foundation
import SovereignBase
import SovereignModel

extension Anonymiser {
    /// The second pass: every row not suppressed, each column through its method, streamed to `path`.
    ///
    /// - Parameter inputDigest: the first pass's SHA-256 of the input: a file that changed between the passes
    ///   is an error, and no output appears.
    /// - Returns: The rows written and the output's SHA-256 in hex.
    func write(
        _ input: CSVInput,
        _ layout: ColumnLayout,
        _ generalisation: Generalisation,
        inputDigest: String,
        to path: String
    ) throws(AnonymisationError) -> (rows: Int, sha256: String) {
        var digest = SHA256()
        var written = 0
        do {
            try POSIX.writeAtomically(to: path) { sink in
                var buffer: [UInt8] = []
                buffer.reserveCapacity(1 << 17)
                func flush() throws {
                    digest.update(data: buffer)
                    try buffer.withUnsafeBytes { try sink($0) }
                    buffer.removeAll(keepingCapacity: true)
                }
                CSVWrite.appendRecord(layout.outputNames, to: &buffer)
                var row = -1
                // Keyed: without the key, the seed in the report does not give the draws back.
                var noise = SeededGenerator(seed: key?.noiseSeed(noiseSeed) ?? noiseSeed)
                let reread = try input.forEachRecord { (record) throws(AnonymisationError) in
                    defer { row += 1 }
                    guard row >= 0 else { return }  // the header
                    guard row < generalisation.classOfRow.count else { throw Self.changed(input.path) }
                    let group = Int(generalisation.classOfRow[row])
                    guard group >= 0 else { return }
                    try appendRow(record, layout, generalisation.texts[group], &noise, input.path, to: &buffer)
                    written += 1
                    guard buffer.count >= 1 << 16 else { return }
                    do { try flush() } catch { throw AnonymisationError(.io, "\(path): cannot write: \(error)") }
                }
                guard reread == inputDigest else { throw Self.changed(input.path) }
                try flush()
            }
        } catch let error as AnonymisationError {
            throw error
        } catch {
            throw AnonymisationError(.io, "\(error)")
        }
        return (written, Hex.encode(digest.finalize()))
    }

    private static func changed(_ path: String) -> AnonymisationError {
        AnonymisationError(.input, "\(path): expected the same file on the second pass, found it changed")
    }

    /// Appends one output row: each kept column through its method.
    private func appendRow(
        _ record: CSVRecord,
        _ layout: ColumnLayout,
        _ generalised: [String],
        _ noise: inout SeededGenerator,
        _ path: String,
        to output: inout [UInt8]
    ) throws(AnonymisationError) {
        var first = true
        for (column, action) in layout.actions.enumerated() {
            if case .drop = action { continue }
            if !first { output.append(0x2C) }
            first = false
            let field = record.fields[column]
            switch action {
            case .keep, .drop:
                output.append(contentsOf: field.raw)  // as written, quotes and all
            case .pseudonymise:
                // The key is present: init refuses a method that pseudonymises without one.
                let pseudonym = key?.pseudonym(of: field.text.utf8, column: layout.names[column]) ?? ""
                output.append(contentsOf: pseudonym.utf8)
            case .coarsen(let granularity):
                CSVWrite.appendField(try coarsened(field, granularity, layout.names[column], path).utf8, to: &output)
            case .noise(let scale):
                CSVWrite.appendField(try noised(field, scale, &noise, layout.names[column], path).utf8, to: &output)
            case .quasiIdentifier(let index):
                CSVWrite.appendField(generalised[index].utf8, to: &output)
            }
        }
        output.append(0x0A)
    }

    private func coarsened(
        _ field: CSVField,
        _ granularity: Anonymisation.DateGranularity,
        _ column: String,
        _ path: String
    ) throws(AnonymisationError) -> String {
        let text = field.text
        if text.isEmpty { return "" }
        guard let value = ColumnTransforms.coarsen(ArraySlice(text.utf8), to: granularity) else {
            throw AnonymisationError(
                .input,
                "\(path):\(field.line):\(field.column): column \(String(reflecting: column)): expected a date like "
                    + "\"2024-03-17\", found \(AnonymisationError.unshown(text))"
            )
        }
        return value
    }

    private func noised(
        _ field: CSVField,
        _ scale: Double,
        _ generator: inout SeededGenerator,
        _ column: String,
        _ path: String
    ) throws(AnonymisationError) -> String {
        guard let value = try Self.number(field, column: column, path: path) else { return "" }
        let noisy = value + ColumnTransforms.laplace(scale: scale, using: &generator)
        return String((noisy * 1e6).rounded() / 1e6)
    }
}
