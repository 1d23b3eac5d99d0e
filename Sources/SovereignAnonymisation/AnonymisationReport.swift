public import Foundation
public import SovereignModel

/// What one anonymisation run did: the numbers a reviewer checks before the derived data may travel, and
/// what a ledger entry records (never the key, only its id).
public struct AnonymisationReport: Sendable, Hashable, Codable {
    /// A quasi-identifier's information loss.
    public struct ColumnLoss: Sendable, Hashable, Codable {
        /// The column.
        public let column: String
        /// Its normalised certainty penalty over every row (a suppressed row counts 1), from 0 to 1.
        public let ncp: Double
    }

    /// The input file.
    public let input: String
    /// The output file.
    public let output: String
    /// SHA-256 of the input's CSV bytes (after decompression), in hex.
    public let inputSHA256: String
    /// SHA-256 of the output's bytes, in hex.
    public let outputSHA256: String
    /// Data rows read.
    public let rowsIn: Int
    /// Data rows written.
    public let rowsOut: Int
    /// Rows left out: a numeric quasi-identifier was empty, or too few rows could form a class.
    public let rowsSuppressed: Int
    /// Equivalence classes over the quasi-identifiers.
    public let classes: Int
    /// The k the method asks for.
    public let kRequested: Int
    /// The smallest class written; 0 when nothing was written.
    public let kAchieved: Int
    /// The ℓ the method asks for on its sensitive column, if any.
    public let lRequested: Int?
    /// The sensitive column, if any.
    public let sensitiveColumn: String?
    /// The information lost over all quasi-identifiers, from 0 (none) to 1 (everything).
    public let ncp: Double
    /// Per quasi-identifier.
    public let ncpByColumn: [ColumnLoss]
    /// Columns removed.
    public let dropped: [String]
    /// Columns replaced by keyed pseudonyms.
    public let pseudonymised: [String]
    /// Date columns coarsened, as `column:granularity`.
    public let coarsened: [String]
    /// Columns given noise, as `column:scale`.
    public let noised: [String]
    /// The quasi-identifiers, as `column:kind`.
    public let quasiIdentifiers: [String]
    /// The pseudonym key's id, when a column is pseudonymised.
    public let keyID: String?
    /// The seed of the noise.
    public let noiseSeed: UInt64

    /// Whether the output reaches k: every written class holds at least `k` rows, and some row was written.
    public func meets(k: Int) -> Bool { rowsOut > 0 && kAchieved >= k }

    /// The report as JSON with sorted keys, numbers rounded to 6 places (identical runs, identical bytes).
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// The report for a person.
    public func text() -> String {
        var lines = [
            "anonymised \(input) → \(output)",
            "  rows: \(rowsIn) read, \(rowsOut) written, \(rowsSuppressed) suppressed",
            "  k: \(kAchieved) achieved (\(kRequested) asked) over \(classes) classes of "
                + quasiIdentifiers.joined(separator: ", "),
        ]
        if let lRequested, let sensitiveColumn {
            lines.append("  ℓ-diversity: every class holds at least \(lRequested) values of \(sensitiveColumn)")
        }
        let losses = ncpByColumn.map { "\($0.column) \(percent($0.ncp))" }.joined(separator: ", ")
        lines.append("  information loss (NCP): \(percent(ncp)) (\(losses))")
        if !dropped.isEmpty { lines.append("  dropped: \(dropped.joined(separator: ", "))") }
        if !pseudonymised.isEmpty {
            lines.append("  pseudonymised: \(pseudonymised.joined(separator: ", ")) with key \(keyID ?? "-")")
        }
        if !coarsened.isEmpty { lines.append("  dates coarsened: \(coarsened.joined(separator: ", "))") }
        if !noised.isEmpty { lines.append("  noise: \(noised.joined(separator: ", ")) (seed \(noiseSeed))") }
        lines.append("  input sha256 \(inputSHA256)")
        lines.append("  output sha256 \(outputSHA256)")
        return lines.joined(separator: "\n") + "\n"
    }

    private func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
}

extension AnonymisationReport {
    /// How a run lists the columns it handled: what the anonymiser writes into its report from the method, and
    /// what the control plane compares a report with, from its dataset's spec.
    public struct ColumnLists: Sendable, Hashable {
        public let quasiIdentifiers: [String]
        public let dropped: [String]
        public let pseudonymised: [String]
        public let coarsened: [String]
        public let noised: [String]

        /// The lists a run of `method` reports.
        public init(_ method: Anonymisation) {
            quasiIdentifiers = method.quasiIdentifiers.map { "\($0.column):\($0.kind.rawValue)" }
            dropped = method.drop
            pseudonymised = method.pseudonymise
            coarsened = method.coarsenDates.map { "\($0.column):\($0.granularity.rawValue)" }
            noised = method.noise.map { "\($0.column):\(Generalisation.format($0.scale))" }
        }

        /// The lists a report holds.
        public init(_ report: AnonymisationReport) {
            quasiIdentifiers = report.quasiIdentifiers
            dropped = report.dropped
            pseudonymised = report.pseudonymised
            coarsened = report.coarsened
            noised = report.noised
        }

        /// Each list with the report's field that holds it, sorted (a list's order carries no meaning).
        public var fields: [(field: String, names: [String])] {
            [
                ("run.quasiIdentifiers", quasiIdentifiers), ("run.dropped", dropped),
                ("run.pseudonymised", pseudonymised), ("run.coarsened", coarsened), ("run.noised", noised),
            ].map { ($0.0, $0.1.sorted()) }
        }
    }
}
