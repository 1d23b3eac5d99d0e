import SovereignBase

extension TraceFileReader {
    /// Reads a plain CSV trace: a header with a `time` column, then one row per time.
    func readCSV(columns: [String], log: DiagnosticLog, missing: inout [String: String]) -> [String: TraceColumn] {
        var rows = CSVTraceRows(reader: self, requested: columns, log: log)
        tokenizer.forEachLine { number, line in rows.take(number, line) }
        for (name, offered) in rows.missing { missing[name] = offered }
        rows.problems.finish { $0 }
        guard rows.headerOK, !rows.header.isEmpty else {
            if rows.header.isEmpty {
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
        guard !rows.problems.failed(""), !rows.problems.failed("time") else { return [:] }
        guard rows.times.count >= 2 else {
            log.report(
                .trace,
                at: location(line: rows.headerLine, column: 1),
                path: "",
                expected: "at least two rows of data",
                found: "\(rows.times.count)"
            )
            return [:]
        }
        let interval = Self.usualInterval(rows.times)
        let gapFound = reportGaps(rows, interval: interval)
        rows.problems.finish { $0 }
        if gapFound { return [:] }
        return rows.columns(interval: interval)
    }

    /// Reports each row that comes more than twice the usual interval after the one before it.
    ///
    /// - Returns: Whether there was any such gap.
    private func reportGaps(_ rows: CSVTraceRows, interval: Double) -> Bool {
        var gapFound = false
        let times = rows.times
        for i in 1..<times.count where times[i] - times[i - 1] > 2 * interval {
            gapFound = true
            let line = Int(rows.lines[i])
            rows.problems.report(
                key: "gap",
                Diagnostic(
                    .trace,
                    at: location(line: line, column: fields(ofLine: line)[rows.timeIndex].column),
                    path: "time",
                    expected: "rows every \(TimeSpan.seconds(interval)) (the file's usual step)",
                    found:
                        "a gap of \(TimeSpan.seconds(times[i] - times[i - 1])) after \(ISO8601.format(epochSeconds: times[i - 1]))"
                )
            )
        }
        return gapFound
    }
}

/// What reading a plain CSV trace has gathered so far, one line at a time.
private struct CSVTraceRows {
    let reader: TraceFileReader
    let requested: [String]
    let log: DiagnosticLog
    let problems: TraceFileReader.RowProblems
    var header: [String] = []
    var headerLine = 0
    var headerOK = true
    var timeIndex = -1
    var wanted: [(name: String, index: Int)] = []
    /// Requested columns the header lacks, each with what the file has instead.
    var missing: [String: String] = [:]
    var times: [Double] = []
    var values: [[Double]] = []
    var lines: [Int32] = []
    var lastTime = -Double.infinity
    /// Reused for every row, so reading allocates nothing per row.
    var fields: [CSVField] = []

    init(reader: TraceFileReader, requested: [String], log: DiagnosticLog) {
        self.reader = reader
        self.requested = requested
        self.log = log
        self.problems = TraceFileReader.RowProblems(log: log)
    }

    /// Takes one line: the header, a row, or a blank or `#` comment line to pass over.
    mutating func take(_ number: Int, _ line: ArraySlice<UInt8>) {
        guard headerOK else { return }
        if line.isEmpty || line.first == 0x23 { return }
        if header.isEmpty {
            takeHeader(number, line)
            return
        }
        CSVTokenizer.fields(of: line, into: &fields)
        guard fields.count == header.count else {
            problems.report(
                key: "",
                Diagnostic(
                    .trace,
                    at: reader.location(line: number, column: 1),
                    path: "",
                    expected: "\(header.count) fields as in the header (line \(headerLine))",
                    found: "\(fields.count)"
                )
            )
            return
        }
        guard let time = rowTime(number) else { return }
        lastTime = time
        times.append(time)
        lines.append(Int32(truncatingIfNeeded: number))
        takeValues(number)
    }

    private mutating func takeHeader(_ number: Int, _ line: ArraySlice<UInt8>) {
        header = CSVTokenizer.fields(of: line).map { $0.text.trimmingBlanks() }
        headerLine = number
        timeIndex = header.firstIndex { $0.lowercased() == "time" } ?? -1
        let offered = "columns \(header.map { "\"\($0)\"" }.joined(separator: ", "))"
        guard timeIndex >= 0 else {
            log.report(
                .trace,
                at: reader.location(line: number, column: 1),
                path: "",
                expected: "a CSV header with a \"time\" column (or a TMY3 or EPW file)",
                found: offered
            )
            headerOK = false
            return
        }
        for name in requested {
            guard let index = header.firstIndex(of: name) else {
                missing[name] = offered
                continue
            }
            wanted.append((name, index))
        }
        values = Array(repeating: [], count: wanted.count)
        for k in values.indices { values[k].reserveCapacity(reader.bytes.count / 24) }
        times.reserveCapacity(reader.bytes.count / 24)
    }

    /// The row's time, or `nil` after reporting why it is not a time after the previous row's.
    private func rowTime(_ number: Int) -> Double? {
        let timeField = fields[timeIndex]
        guard let time = ISO8601.parseEpochSeconds(timeField.bytes) else {
            problems.report(
                key: "time",
                Diagnostic(
                    .trace,
                    at: reader.location(line: number, column: timeField.column),
                    path: "time",
                    expected: "a time in ISO 8601 UTC like \"2026-03-02T00:00:00Z\"",
                    found: "\"\(timeField.text)\""
                )
            )
            return nil
        }
        guard time > lastTime else {
            problems.report(
                key: "time",
                Diagnostic(
                    .trace,
                    at: reader.location(line: number, column: timeField.column),
                    path: "time",
                    expected: "a time after the previous row's \(ISO8601.format(epochSeconds: lastTime))",
                    found: "\(ISO8601.format(epochSeconds: time))"
                )
            )
            return nil
        }
        return time
    }

    /// Appends the row's value of each wanted column (NaN, reported, where it is not a number).
    private mutating func takeValues(_ number: Int) {
        for (k, column) in wanted.enumerated() {
            let field = fields[column.index]
            if let value = DecimalParser.parse(field.bytes), value.isFinite {
                values[k].append(value)
                continue
            }
            values[k].append(.nan)
            problems.report(
                key: column.name,
                Diagnostic(
                    .trace,
                    at: reader.location(line: number, column: field.column),
                    path: column.name,
                    expected: "a number",
                    found: field.bytes.isEmpty ? "an empty value (a gap)" : "\"\(field.text)\""
                )
            )
        }
    }

    /// The wanted columns read without a problem.
    func columns(interval: Double) -> [String: TraceColumn] {
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
}
