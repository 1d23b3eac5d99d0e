import SovereignBase

extension TraceFileReader {
    /// Reads a typical year (TMY3 or EPW): a station line with the UTC offset, header lines, then 8,760
    /// hourly rows in local standard time.
    func readTypicalYear(
        _ format: TraceFormat,
        columns: [String],
        log: DiagnosticLog,
        missing: inout [String: String]
    ) -> [String: TraceColumn] {
        for name in columns where !Self.weatherColumns.contains(name) {
            let what = format == .epw ? "an EPW" : "a TMY3"
            missing[name] = "\(what) file, which offers \(Self.weatherColumns.joined(separator: " and "))"
        }
        var rows = TypicalYearRows(
            reader: self,
            format: format,
            log: log,
            wanted: columns.filter(Self.weatherColumns.contains)
        )
        tokenizer.forEachLine { number, line in rows.take(number, line) }
        rows.problems.finish { $0 }
        guard let offsetHours = rows.offsetHours, !rows.problems.failed("") else { return [:] }
        if let missing = rows.lineOf.firstIndex(of: 0) {
            let (month, day) = Self.monthDay(ofTypicalDay: missing / 24)
            log.report(
                .trace,
                at: location(line: max(rows.headerLines, 1), column: 1),
                path: "",
                expected: "8,760 hourly rows covering a whole year",
                found: "no row for \(month)/\(day) hour \(missing % 24 + 1)"
            )
            return [:]
        }
        return rows.columns(utcOffsetHours: offsetHours)
    }
}

/// What reading a typical-year trace has gathered so far, one line at a time.
private struct TypicalYearRows {
    let reader: TraceFileReader
    let format: TraceFormat
    let log: DiagnosticLog
    let wanted: [String]
    let problems: TraceFileReader.RowProblems
    /// Values that mean "missing" in the format (EPW's 9999 and 99.9).
    let missingMarker: [String: Double]
    var offsetHours: Double?
    var fieldOfColumn: [String: Int] = [:]
    var dateField = 0
    var timeField = 1
    var headerLines = 0
    var hourly: [String: [Double]] = [:]
    var lineOf: [Int32] = Array(repeating: 0, count: 8760)
    /// Reused for every row, so reading allocates nothing per row.
    var fields: [CSVField] = []

    init(reader: TraceFileReader, format: TraceFormat, log: DiagnosticLog, wanted: [String]) {
        self.reader = reader
        self.format = format
        self.log = log
        self.wanted = wanted
        self.problems = TraceFileReader.RowProblems(log: log)
        self.missingMarker = format == .epw ? ["ghi": 9999, "temperature": 99.9] : [:]
        for name in wanted { hourly[name] = Array(repeating: .nan, count: 8760) }
    }

    /// Takes one line: a header line, or an hourly row.
    mutating func take(_ number: Int, _ line: ArraySlice<UInt8>) {
        let isHeader = format == .epw ? takeEPWHeader(number, line) : takeTMY3Header(number, line)
        if isHeader || line.isEmpty { return }
        CSVTokenizer.fields(of: line, into: &fields)
        guard let (month, day, hour) = format == .epw ? epwTime(number) : tmy3Time(number, line) else { return }
        if month == 2, day == 29 { return }  // leap-year rows: the typical year has 365 days
        guard let doy = TraceFileReader.dayOfTypicalYear(month: month, day: day), (1...24).contains(hour) else {
            reportRow(
                number,
                expected: "a valid month, day and hour 1...24",
                found: "month \(month), day \(day), hour \(hour)"
            )
            return
        }
        let slot = doy * 24 + hour - 1
        lineOf[slot] = Int32(truncatingIfNeeded: number)
        takeValues(number, slot: slot)
    }

    /// Reads EPW's LOCATION line (the time zone in field 9) and passes over its other seven header lines.
    ///
    /// - Returns: Whether `number` is a header line.
    private mutating func takeEPWHeader(_ number: Int, _ line: ArraySlice<UInt8>) -> Bool {
        if number == 1 {
            let fields = CSVTokenizer.fields(of: line)
            if fields.count >= 10, let tz = DecimalParser.parse(fields[8].bytes), abs(tz) <= 14 {
                offsetHours = tz
            } else {
                log.report(
                    .trace,
                    at: reader.location(line: 1, column: 1),
                    path: "LOCATION",
                    expected: "an EPW LOCATION line with a time zone (field 9) within ±14 h",
                    found: "\"\(String(decoding: line.prefix(80), as: UTF8.self))\""
                )
            }
            fieldOfColumn = ["temperature": 6, "ghi": 13]
            return true
        }
        guard number <= 8 else { return false }
        headerLines = number
        return true
    }

    /// Reads TMY3's station line (the UTC offset in field 4) and its column names.
    ///
    /// - Returns: Whether `number` is a header line.
    private mutating func takeTMY3Header(_ number: Int, _ line: ArraySlice<UInt8>) -> Bool {
        if number == 1 {
            let fields = CSVTokenizer.fields(of: line)
            if fields.count >= 4, let tz = DecimalParser.parse(fields[3].bytes), abs(tz) <= 14 {
                offsetHours = tz
            } else {
                log.report(
                    .trace,
                    at: reader.location(line: 1, column: 1),
                    path: "",
                    expected: "a TMY3 station line with a UTC offset (field 4)",
                    found: "\"\(String(decoding: line.prefix(80), as: UTF8.self))\""
                )
            }
            return true
        }
        guard number == 2 else { return false }
        let names = CSVTokenizer.fields(of: line).map(\.text)
        dateField = names.firstIndex(of: "Date (MM/DD/YYYY)") ?? 0
        timeField = names.firstIndex(of: "Time (HH:MM)") ?? 1
        if let ghi = names.firstIndex(of: "GHI (W/m^2)") { fieldOfColumn["ghi"] = ghi }
        if let t = names.firstIndex(of: "Dry-bulb (C)") { fieldOfColumn["temperature"] = t }
        for name in wanted where fieldOfColumn[name] == nil {
            log.report(
                .trace,
                at: reader.location(line: 2, column: 1),
                path: "",
                expected: "a TMY3 header with the column for \(name)",
                found: "none"
            )
        }
        headerLines = 2
        return true
    }

    /// An EPW row's month, day and hour, or `nil` after reporting a malformed row.
    private func epwTime(_ number: Int) -> (Int, Int, Int)? {
        guard fields.count >= 14, let m = Int(ascii: fields[1].bytes), let d = Int(ascii: fields[2].bytes),
            let h = Int(ascii: fields[3].bytes)
        else {
            reportRow(
                number,
                expected: "an EPW data row (year, month, day, hour, minute, ... at least 14 fields)",
                found: "\(fields.count) fields"
            )
            return nil
        }
        return (m, d, h)
    }

    /// A TMY3 row's month, day and hour, or `nil` after reporting a malformed row.
    private func tmy3Time(_ number: Int, _ line: ArraySlice<UInt8>) -> (Int, Int, Int)? {
        let date = fields.count > dateField ? Array(fields[dateField].bytes) : []
        let time = fields.count > timeField ? Array(fields[timeField].bytes) : []
        guard date.count == 10, time.count == 5, let m = Int(ascii: date[0..<2]), let d = Int(ascii: date[3..<5]),
            let h = Int(ascii: time[0..<2])
        else {
            reportRow(
                number,
                expected: "a TMY3 row starting MM/DD/YYYY,HH:MM",
                found: "\"\(String(decoding: line.prefix(20), as: UTF8.self))\""
            )
            return nil
        }
        return (m, d, h)
    }

    private func reportRow(_ number: Int, expected: String, found: String) {
        problems.report(
            key: "",
            Diagnostic(.trace, at: reader.location(line: number, column: 1), path: "", expected: expected, found: found)
        )
    }

    /// Stores the row's value of each wanted column at `slot`, reporting values that are not numbers or are
    /// the format's missing-value marker.
    private mutating func takeValues(_ number: Int, slot: Int) {
        for name in wanted {
            guard let index = fieldOfColumn[name], index < fields.count else { continue }
            let field = fields[index]
            let value = DecimalParser.parse(field.bytes)
            if let value, value.isFinite, value != missingMarker[name] {
                hourly[name, default: []][slot] = value
                continue
            }
            problems.report(
                key: name,
                Diagnostic(
                    .trace,
                    at: reader.location(line: number, column: field.column),
                    path: name,
                    expected: "a number",
                    found: value.map { "the missing-value marker \(formatNumber($0))" } ?? "\"\(field.text)\""
                )
            )
        }
    }

    /// The wanted columns read without a problem.
    func columns(utcOffsetHours: Double) -> [String: TraceColumn] {
        var result: [String: TraceColumn] = [:]
        for name in wanted where !problems.failed(name) {
            guard let field = fieldOfColumn[name], let values = hourly[name] else { continue }
            result[name] = TraceColumn(
                format: format,
                name: name,
                values: values,
                lines: lineOf,
                field: field + 1,
                timing: .typicalYear(utcOffsetHours: utcOffsetHours)
            )
        }
        return result
    }
}
