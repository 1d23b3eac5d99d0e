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

    var format: TraceFormat {
        if bytes.starts(with: Array("LOCATION,".utf8)) { return .epw }
        let lines = firstLines(2)
        if lines.count == 2, lines[1].starts(with: Array("Date (MM/DD/YYYY)".utf8)) { return .tmy3 }
        return .csv
    }

    private func firstLines(_ count: Int) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i < bytes.count, result.count < count {
            if bytes[i] == 0x0A {
                result.append(Self.trimCR(bytes[start..<i]))
                start = i + 1
            }
            i += 1
        }
        if result.count < count, start < bytes.count { result.append(Self.trimCR(bytes[start..<bytes.count])) }
        return result
    }

    static func trimCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == 0x0D ? line.dropLast() : line
    }

    /// Splits one CSV line into fields, honouring double quotes; returns each field's bytes and 1-based column.
    static func fields(of line: ArraySlice<UInt8>) -> [(bytes: ArraySlice<UInt8>, column: Int)] {
        var result: [(bytes: ArraySlice<UInt8>, column: Int)] = []
        fields(of: line, into: &result)
        return result
    }

    /// Splits one CSV line into `result`, reusing its storage: reading a year of rows then allocates
    /// nothing per row.
    static func fields(of line: ArraySlice<UInt8>, into result: inout [(bytes: ArraySlice<UInt8>, column: Int)]) {
        result.removeAll(keepingCapacity: true)
        var i = line.startIndex
        var fieldStart = i
        var inQuotes = false
        while i < line.endIndex {
            let b = line[i]
            if b == 0x22 {
                inQuotes.toggle()
            } else if b == 0x2C, !inQuotes {
                result.append((unquote(line[fieldStart..<i]), fieldStart - line.startIndex + 1))
                fieldStart = i + 1
            }
            i += 1
        }
        result.append((unquote(line[fieldStart..<line.endIndex]), fieldStart - line.startIndex + 1))
    }

    static func unquote(_ field: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        if field.count >= 2, field.first == 0x22, field.last == 0x22 { return field.dropFirst().dropLast() }
        return field
    }

    /// Iterates over lines with their 1-based numbers, without copying.
    func forEachLine(_ body: (Int, ArraySlice<UInt8>) -> Void) {
        var start = 0
        var number = 1
        bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            let count = buffer.count
            while i < count {
                if buffer[i] == 0x0A {
                    body(number, Self.trimCR(bytes[start..<i]))
                    number += 1
                    start = i + 1
                }
                i += 1
            }
        }
        if start < bytes.count { body(number, Self.trimCR(bytes[start..<bytes.count])) }
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

    private func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: displayPath, line: line, column: column)
    }

    /// Reports row problems, at most `maxRowDiagnostics` per key, then how many more there were.
    private final class RowProblems {
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

    private func readCSV(
        columns: [String],
        log: DiagnosticLog,
        missing: inout [String: String]
    ) -> [String: TraceColumn] {
        var header: [String] = []
        var headerLine = 0
        var timeIndex = -1
        var wanted: [(name: String, index: Int)] = []
        var times: [Double] = []
        var values: [[Double]] = []
        var lines: [Int32] = []
        let problems = RowProblems(log: log)
        var headerOK = true
        var lastTime = -Double.infinity
        var fields: [(bytes: ArraySlice<UInt8>, column: Int)] = []

        forEachLine { number, line in
            guard headerOK else { return }
            if line.isEmpty || line.first == 0x23 { return }  // blank lines and # comments
            if header.isEmpty {
                header = Self.fields(of: line).map { String(decoding: $0.bytes, as: UTF8.self).trimmingBlanks() }
                headerLine = number
                timeIndex = header.firstIndex { $0.lowercased() == "time" } ?? -1
                if timeIndex < 0 {
                    log.report(
                        .trace,
                        at: location(line: number, column: 1),
                        path: "",
                        expected: "a CSV header with a \"time\" column (or a TMY3 or EPW file)",
                        found: "columns \(header.map { "\"\($0)\"" }.joined(separator: ", "))"
                    )
                    headerOK = false
                    return
                }
                for name in columns {
                    guard let index = header.firstIndex(of: name) else {
                        missing[name] = "columns \(header.map { "\"\($0)\"" }.joined(separator: ", "))"
                        continue
                    }
                    wanted.append((name, index))
                }
                values = Array(repeating: [], count: wanted.count)
                for k in values.indices { values[k].reserveCapacity(bytes.count / 24) }
                times.reserveCapacity(bytes.count / 24)
                return
            }
            Self.fields(of: line, into: &fields)
            guard fields.count == header.count else {
                problems.report(
                    key: "",
                    Diagnostic(
                        .trace,
                        at: location(line: number, column: 1),
                        path: "",
                        expected: "\(header.count) fields as in the header (line \(headerLine))",
                        found: "\(fields.count)"
                    )
                )
                return
            }
            let timeField = fields[timeIndex]
            guard let time = ISO8601.parseEpochSeconds(timeField.bytes) else {
                problems.report(
                    key: "time",
                    Diagnostic(
                        .trace,
                        at: location(line: number, column: timeField.column),
                        path: "time",
                        expected: "a time in ISO 8601 UTC like \"2026-03-02T00:00:00Z\"",
                        found: "\"\(String(decoding: timeField.bytes, as: UTF8.self))\""
                    )
                )
                return
            }
            guard time > lastTime else {
                problems.report(
                    key: "time",
                    Diagnostic(
                        .trace,
                        at: location(line: number, column: timeField.column),
                        path: "time",
                        expected: "a time after the previous row's \(ISO8601.format(epochSeconds: lastTime))",
                        found: "\(ISO8601.format(epochSeconds: time))"
                    )
                )
                return
            }
            lastTime = time
            times.append(time)
            lines.append(Int32(truncatingIfNeeded: number))
            for (k, column) in wanted.enumerated() {
                let field = fields[column.index]
                if let value = DecimalParser.parse(field.bytes), value.isFinite {
                    values[k].append(value)
                } else {
                    values[k].append(.nan)
                    problems.report(
                        key: column.name,
                        Diagnostic(
                            .trace,
                            at: location(line: number, column: field.column),
                            path: column.name,
                            expected: "a number",
                            found: field.bytes.isEmpty
                                ? "an empty value (a gap)" : "\"\(String(decoding: field.bytes, as: UTF8.self))\""
                        )
                    )
                }
            }
        }
        problems.finish { $0 }
        guard headerOK, !header.isEmpty else {
            if header.isEmpty {
                log.report(
                    .trace,
                    at: location(line: 1, column: 1),
                    path: "",
                    expected: "a CSV header line",
                    found: "an empty file"
                )
            }
            return [:]
        }
        guard !problems.failed(""), !problems.failed("time") else { return [:] }
        guard times.count >= 2 else {
            log.report(
                .trace,
                at: location(line: headerLine, column: 1),
                path: "",
                expected: "at least two rows of data",
                found: "\(times.count)"
            )
            return [:]
        }
        let interval = Self.usualInterval(times)
        var gapFound = false
        for i in 1..<times.count where times[i] - times[i - 1] > 2 * interval {
            gapFound = true
            problems.report(
                key: "gap",
                Diagnostic(
                    .trace,
                    at: location(line: Int(lines[i]), column: self.fields(ofLine: Int(lines[i]))[timeIndex].column),
                    path: "time",
                    expected: "rows every \(TimeSpan.seconds(interval)) (the file's usual step)",
                    found:
                        "a gap of \(TimeSpan.seconds(times[i] - times[i - 1])) after \(ISO8601.format(epochSeconds: times[i - 1]))"
                )
            )
        }
        problems.finish { $0 }
        if gapFound { return [:] }
        var result: [String: TraceColumn] = [:]
        for (k, column) in wanted.enumerated() where !problems.failed(column.name) {
            result[column.name] = TraceColumn(
                format: .csv,
                name: column.name,
                values: values[k],
                lines: lines,
                field: column.index + 1,
                timing: .timed(times: times, interval: interval)
            )
        }
        return result
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
    func fields(ofLine wanted: Int) -> [(bytes: ArraySlice<UInt8>, column: Int)] {
        var result: [(bytes: ArraySlice<UInt8>, column: Int)] = []
        forEachLine { number, line in
            if number == wanted { result = Self.fields(of: line) }
        }
        return result.isEmpty ? [(bytes[0..<0], 1)] : result
    }

    /// Day of a non-leap year (0-based) for a month and day; February 29 is folded onto the 28th.
    static func dayOfTypicalYear(month: Int, day: Int) -> Int? {
        let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
        guard (1...12).contains(month), day >= 1, day <= ISO8601.daysInMonth(year: 2024, month: month) else {
            return nil
        }
        return cumulative[month - 1] + min(day, month == 2 ? 28 : day) - 1
    }

    private func readTypicalYear(
        _ format: TraceFormat,
        columns: [String],
        log: DiagnosticLog,
        missing: inout [String: String]
    ) -> [String: TraceColumn] {
        var offsetHours: Double?
        var fieldOfColumn: [String: Int] = [:]
        var dateField = 0
        var timeField = 1
        var headerLines = 0
        var hourly: [String: [Double]] = [:]
        var lineOf: [Int32] = Array(repeating: 0, count: 8760)
        let problems = RowProblems(log: log)
        let missingMarker: [String: Double] = format == .epw ? ["ghi": 9999, "temperature": 99.9] : [:]
        var fields: [(bytes: ArraySlice<UInt8>, column: Int)] = []

        for name in columns where !Self.weatherColumns.contains(name) {
            let what = format == .epw ? "an EPW" : "a TMY3"
            missing[name] = "\(what) file, which offers \(Self.weatherColumns.joined(separator: " and "))"
        }
        let wanted = columns.filter { Self.weatherColumns.contains($0) }
        for name in wanted { hourly[name] = Array(repeating: .nan, count: 8760) }

        forEachLine { number, line in
            if format == .epw {
                if number == 1 {
                    let fields = Self.fields(of: line)
                    if fields.count >= 10, let tz = DecimalParser.parse(fields[8].bytes), abs(tz) <= 14 {
                        offsetHours = tz
                    } else {
                        log.report(
                            .trace,
                            at: location(line: 1, column: 1),
                            path: "LOCATION",
                            expected: "an EPW LOCATION line with a time zone (field 9) within ±14 h",
                            found: "\"\(String(decoding: line.prefix(80), as: UTF8.self))\""
                        )
                    }
                    fieldOfColumn = ["temperature": 6, "ghi": 13]
                    return
                }
                if number <= 8 {
                    headerLines = number
                    return
                }
            } else {
                if number == 1 {
                    let fields = Self.fields(of: line)
                    if fields.count >= 4, let tz = DecimalParser.parse(fields[3].bytes), abs(tz) <= 14 {
                        offsetHours = tz
                    } else {
                        log.report(
                            .trace,
                            at: location(line: 1, column: 1),
                            path: "",
                            expected: "a TMY3 station line with a UTC offset (field 4)",
                            found: "\"\(String(decoding: line.prefix(80), as: UTF8.self))\""
                        )
                    }
                    return
                }
                if number == 2 {
                    let names = Self.fields(of: line).map { String(decoding: $0.bytes, as: UTF8.self) }
                    dateField = names.firstIndex(of: "Date (MM/DD/YYYY)") ?? 0
                    timeField = names.firstIndex(of: "Time (HH:MM)") ?? 1
                    if let ghi = names.firstIndex(of: "GHI (W/m^2)") { fieldOfColumn["ghi"] = ghi }
                    if let t = names.firstIndex(of: "Dry-bulb (C)") { fieldOfColumn["temperature"] = t }
                    for name in wanted where fieldOfColumn[name] == nil {
                        log.report(
                            .trace,
                            at: location(line: 2, column: 1),
                            path: "",
                            expected: "a TMY3 header with the column for \(name)",
                            found: "none"
                        )
                    }
                    headerLines = 2
                    return
                }
            }
            if line.isEmpty { return }
            Self.fields(of: line, into: &fields)
            var month = 0
            var day = 0
            var hour = 0
            if format == .epw {
                guard fields.count >= 14, let m = Int(ascii: fields[1].bytes), let d = Int(ascii: fields[2].bytes),
                    let h = Int(ascii: fields[3].bytes)
                else {
                    problems.report(
                        key: "",
                        Diagnostic(
                            .trace,
                            at: location(line: number, column: 1),
                            path: "",
                            expected: "an EPW data row (year, month, day, hour, minute, ... at least 14 fields)",
                            found: "\(fields.count) fields"
                        )
                    )
                    return
                }
                (month, day, hour) = (m, d, h)
            } else {
                let date = fields.count > dateField ? Array(fields[dateField].bytes) : []
                let time = fields.count > timeField ? Array(fields[timeField].bytes) : []
                guard date.count == 10, time.count == 5, let m = Int(ascii: date[0..<2]),
                    let d = Int(ascii: date[3..<5]),
                    let h = Int(ascii: time[0..<2])
                else {
                    problems.report(
                        key: "",
                        Diagnostic(
                            .trace,
                            at: location(line: number, column: 1),
                            path: "",
                            expected: "a TMY3 row starting MM/DD/YYYY,HH:MM",
                            found: "\"\(String(decoding: line.prefix(20), as: UTF8.self))\""
                        )
                    )
                    return
                }
                (month, day, hour) = (m, d, h)
            }
            if month == 2, day == 29 { return }  // leap-year rows: the typical year has 365 days
            guard let doy = Self.dayOfTypicalYear(month: month, day: day), (1...24).contains(hour) else {
                problems.report(
                    key: "",
                    Diagnostic(
                        .trace,
                        at: location(line: number, column: 1),
                        path: "",
                        expected: "a valid month, day and hour 1...24",
                        found: "month \(month), day \(day), hour \(hour)"
                    )
                )
                return
            }
            let slot = doy * 24 + hour - 1
            lineOf[slot] = Int32(truncatingIfNeeded: number)
            for name in wanted {
                guard let index = fieldOfColumn[name], index < fields.count else { continue }
                let field = fields[index]
                let value = DecimalParser.parse(field.bytes)
                if let value, value.isFinite, value != missingMarker[name] {
                    hourly[name]![slot] = value
                } else {
                    problems.report(
                        key: name,
                        Diagnostic(
                            .trace,
                            at: location(line: number, column: field.column),
                            path: name,
                            expected: "a number",
                            found: value == nil
                                ? "\"\(String(decoding: field.bytes, as: UTF8.self))\""
                                : "the missing-value marker \(formatNumber(value!))"
                        )
                    )
                }
            }
        }
        problems.finish { $0 }
        guard let offsetHours, !problems.failed("") else { return [:] }
        if let missing = lineOf.firstIndex(of: 0) {
            let (month, day) = Self.monthDay(ofTypicalDay: missing / 24)
            log.report(
                .trace,
                at: location(line: max(headerLines, 1), column: 1),
                path: "",
                expected: "8,760 hourly rows covering a whole year",
                found: "no row for \(month)/\(day) hour \(missing % 24 + 1)"
            )
            return [:]
        }
        var result: [String: TraceColumn] = [:]
        for name in wanted where !problems.failed(name) {
            guard let field = fieldOfColumn[name] else { continue }
            result[name] = TraceColumn(
                format: format,
                name: name,
                values: hourly[name]!,
                lines: lineOf,
                field: field + 1,
                timing: .typicalYear(utcOffsetHours: offsetHours)
            )
        }
        return result
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
