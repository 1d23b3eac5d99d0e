import Foundation
import SovereignBase

/// The three trace formats Sovereign reads, told apart by their content.
public enum TraceFormat: String, Sendable, Codable {
    /// Plain CSV: a `time` column in ISO 8601 UTC and named value columns; each value holds until the next row.
    case csv
    /// NSRDB typical meteorological year (TMY3) CSV, in local standard time.
    case tmy3
    /// EnergyPlus weather (EPW), a typical year in local standard time.
    case epw
}

/// One column read from a trace file, before it is placed on a scenario's time grid.
struct TraceColumn: Sendable {
    enum Timing: Sendable {
        /// Rows at explicit UTC times (seconds since the epoch); row `i` holds until row `i + 1`.
        case timed(times: [Double], interval: Double)
        /// A typical year: 8,760 hourly values of a non-leap year in local standard time, `utcOffset` hours
        /// ahead of UTC; value `k` covers local hour `k` of the year.
        case typicalYear(utcOffsetHours: Double)
    }

    let format: TraceFormat
    let name: String
    let values: [Double]
    /// The 1-based line of each value in the file, for diagnostics.
    let lines: [Int32]
    /// The 1-based field number of the column in each line.
    let field: Int
    let timing: Timing
}

/// Reads trace files (CSV, TMY3, EPW) into columns, reporting every malformed row.
struct TraceFileReader {
    /// The file as diagnostics name it.
    let displayPath: String
    let bytes: [UInt8]

    /// Columns that TMY3 and EPW files offer, under Sovereign's names.
    static let weatherColumns = ["ghi", "temperature"]

    /// At most this many row diagnostics per column, then one summary: a broken file should not drown the output.
    static let maxRowDiagnostics = 5

    /// The file's lines and fields.
    var tokenizer: CSVTokenizer { CSVTokenizer(bytes) }

    var format: TraceFormat {
        if bytes.starts(with: Array("LOCATION,".utf8)) { return .epw }
        let lines = tokenizer.firstLines(2)
        if lines.count == 2, lines[1].starts(with: Array("Date (MM/DD/YYYY)".utf8)) { return .tmy3 }
        return .csv
    }

    /// Reads the requested columns.
    ///
    /// - Parameters:
    ///   - columns: column names as the spec gives them.
    ///   - log: where problems go; a column with any problem is not returned.
    ///   - missing: filled with the requested columns the file does not have, each with what it has instead
    ///     (reported by the caller at the spec field that asked, which the reader does not know).
    /// - Returns: the columns that were read cleanly, by name.
    /// - Complexity: O(file size).
    func read(columns: [String], log: DiagnosticLog, missing: inout [String: String]) -> [String: TraceColumn] {
        switch format {
        case .csv: return readCSV(columns: columns, log: log, missing: &missing)
        case .tmy3: return readTypicalYear(.tmy3, columns: columns, log: log, missing: &missing)
        case .epw: return readTypicalYear(.epw, columns: columns, log: log, missing: &missing)
        }
    }

    func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: displayPath, line: line, column: column)
    }

    /// Reports row problems, at most `maxRowDiagnostics` per key, then how many more there were.
    final class RowProblems {
        var counts: [String: Int] = [:]
        var lastLocation: [String: SourceLocation] = [:]
        let log: DiagnosticLog
        init(log: DiagnosticLog) { self.log = log }

        func report(key: String, _ diagnostic: Diagnostic) {
            let n = counts[key, default: 0] + 1
            counts[key] = n
            if n <= TraceFileReader.maxRowDiagnostics {
                log.report(diagnostic)
            } else {
                lastLocation[key] = diagnostic.location
            }
        }

        func finish(path: (String) -> String) {
            for (key, n) in counts.sorted(by: { $0.key < $1.key }) where n > TraceFileReader.maxRowDiagnostics {
                guard let location = lastLocation[key] else { continue }
                log.report(
                    .trace,
                    at: location,
                    path: path(key),
                    expected: "no further bad rows",
                    found: "\(n - TraceFileReader.maxRowDiagnostics) more like the ones above (last here)"
                )
            }
        }

        func failed(_ key: String) -> Bool { counts[key, default: 0] > 0 }
    }

    /// The median spacing of the rows: robust against a few irregular rows.
    static func usualInterval(_ times: [Double]) -> Double {
        var diffs = [Double]()
        diffs.reserveCapacity(times.count - 1)
        for i in 1..<times.count { diffs.append(times[i] - times[i - 1]) }
        let middle = diffs.count / 2
        var copy = diffs
        // nth_element would do; a full sort of one file's diffs is cheap next to reading it.
        copy.sort()
        return copy[middle]
    }

    /// The fields of one line, found by its number (used only on the error path).
    func fields(ofLine wanted: Int) -> [CSVField] {
        tokenizer.fields(ofLine: wanted) ?? [CSVField(raw: bytes[0..<0], column: 1)]
    }

    /// Day of a non-leap year (0-based) for a month and day; February 29 is folded onto the 28th.
    static func dayOfTypicalYear(month: Int, day: Int) -> Int? {
        let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
        guard (1...12).contains(month), day >= 1, day <= ISO8601.daysInMonth(year: 2024, month: month) else {
            return nil
        }
        return cumulative[month - 1] + min(day, month == 2 ? 28 : day) - 1
    }

    static func monthDay(ofTypicalDay day: Int) -> (Int, Int) {
        let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365]
        let month = (cumulative.lastIndex { $0 <= day } ?? 0) + 1
        return (month, day - cumulative[month - 1] + 1)
    }
}

extension Int {
    /// Parses ASCII decimal digits (blanks around them allowed), without allocating.
    init?<C: Collection>(ascii bytes: C) where C.Element == UInt8 {
        var value = 0
        var sawDigit = false
        var negative = false
        var started = false
        for b in bytes {
            if b == 0x20 { continue }
            if !started, b == 0x2D {
                negative = true
                started = true
                continue
            }
            guard b >= 0x30, b <= 0x39 else { return nil }
            started = true
            sawDigit = true
            value = value &* 10 &+ Int(b - 0x30)
            if value > 1_000_000_000 { return nil }
        }
        guard sawDigit else { return nil }
        self = negative ? -value : value
    }
}
