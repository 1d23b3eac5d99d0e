import Dispatch
import Foundation
import SovereignBase
import Yams

/// What a trace measures, with the range its values must fall in.
enum TraceKind: String, Sendable {
    case availability, irradiance, temperature, carbonIntensity

    var range: ClosedRange<Double> {
        switch self {
        case .availability: return 0...1
        case .irradiance: return 0...2000
        case .temperature: return -90...60
        case .carbonIntensity: return 0...3000
        }
    }

    var expectation: String {
        switch self {
        case .availability: return "an availability fraction in 0...1"
        case .irradiance: return "an irradiance in 0...2000 W/m²"
        case .temperature: return "a temperature in -90...60 °C"
        case .carbonIntensity: return "a carbon intensity in 0...3000 g/kWh"
        }
    }
}

/// A time-varying field as decoded: a constant, or a request for a trace column.
enum SignalDraft<Value: PhysicalQuantity> {
    case constant(Value)
    case trace(id: Int, file: String, column: String)

    func resolve(_ traces: ResolvedTraces) -> Signal<Value> {
        switch self {
        case .constant(let value): return .constant(value)
        case .trace(let id, let file, let column):
            // Unresolved only when a diagnostic was already reported, and then the fleet is never returned.
            guard let values = traces.values[id], let format = traces.formats[id] else { return .constant(.zero) }
            return .series(values, source: TraceSource(file: file, column: column, format: format))
        }
    }
}

/// Trace columns placed on the grid, by request id.
struct ResolvedTraces {
    var values: [Int: [Double]] = [:]
    var formats: [Int: TraceFormat] = [:]
}

/// The trace columns the specs ask for, gathered while decoding and read once all specs are decoded.
final class TraceRequests {
    struct Request: Sendable, Hashable {
        let id: Int
        let path: String
        let column: String
        let kind: TraceKind
        /// Where the spec names the trace, and the field path there.
        let location: SourceLocation
        let fieldPath: String
    }

    private(set) var requests: [Request] = []

    func add(path: String, column: String, kind: TraceKind, node: SpecNode) -> Int {
        requests.append(
            Request(
                id: requests.count,
                path: path,
                column: column,
                kind: kind,
                location: node.location,
                fieldPath: node.path
            )
        )
        return requests.count - 1
    }

    /// Reads every requested file once (in parallel), checks rows, coverage and ranges, and places each
    /// column on the grid.
    ///
    /// - Complexity: O(total trace rows + requests × grid steps); files are read concurrently.
    func resolve(
        grid: TimeGrid?,
        scenarioDeclared: Bool,
        log: DiagnosticLog,
        progress: FleetLoader.Progress? = nil
    ) -> ResolvedTraces {
        guard !requests.isEmpty else { return ResolvedTraces() }
        guard let grid else {
            // A Scenario that is there but broken has its own diagnostics; traces wait for it to be fixed.
            if scenarioDeclared { return ResolvedTraces() }
            for request in requests {
                log.report(
                    .noScenario,
                    at: request.location,
                    path: request.fieldPath,
                    expected: "a Scenario document (start, horizon, step) to place this trace on",
                    found: "none"
                )
            }
            return ResolvedTraces()
        }
        var grouped: [String: [Request]] = [:]
        var order: [String] = []
        for request in requests {
            if grouped[request.path] == nil { order.append(request.path) }
            grouped[request.path, default: []].append(request)
        }
        let jobs = order.map { (path: $0, requests: grouped[$0]!) }
        let outcomes = FileOutcomes(count: jobs.count)
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            let job = jobs[index]
            let outcome = Self.resolveFile(path: job.path, requests: job.requests, grid: grid)
            let done = outcomes.set(index, outcome)
            progress?(done, jobs.count)
        }
        var resolved = ResolvedTraces()
        for outcome in outcomes.all {
            for diagnostic in outcome.diagnostics { log.report(diagnostic) }
            resolved.values.merge(outcome.values) { first, _ in first }
            for id in outcome.values.keys { resolved.formats[id] = outcome.format }
        }
        return resolved
    }

    struct FileOutcome: Sendable {
        var values: [Int: [Double]] = [:]
        var diagnostics: [Diagnostic] = []
        var format: TraceFormat = .csv
    }

    /// Results of concurrent file reads, each slot written by exactly one iteration.
    final class FileOutcomes: @unchecked Sendable {
        private var slots: [FileOutcome]
        private var filled = 0
        private let lock = NSLock()
        init(count: Int) { slots = Array(repeating: FileOutcome(), count: count) }
        /// Stores one file's outcome and returns how many are stored now.
        func set(_ index: Int, _ outcome: FileOutcome) -> Int {
            lock.withLock {
                slots[index] = outcome
                filled += 1
                return filled
            }
        }
        var all: [FileOutcome] { lock.withLock { slots } }
    }

    private static func resolveFile(path: String, requests: [Request], grid: TimeGrid) -> FileOutcome {
        var outcome = FileOutcome()
        let displayPath = path
        guard let data = FileManager.default.contents(atPath: path) else {
            for request in requests {
                outcome.diagnostics.append(
                    Diagnostic(
                        .trace,
                        at: request.location,
                        path: request.fieldPath,
                        expected: "a readable trace file",
                        found: "no file at \(displayPath)"
                    )
                )
            }
            return outcome
        }
        let reader = TraceFileReader(displayPath: displayPath, bytes: [UInt8](data))
        let log = DiagnosticLog()
        outcome.format = reader.format
        var missing: [String: String] = [:]
        let columns = reader.read(columns: Array(Set(requests.map(\.column))).sorted(), log: log, missing: &missing)
        var rangeChecked = Set<String>()
        var placed: [String: [Double]] = [:]
        for request in requests {
            if let offered = missing[request.column] {
                log.report(
                    .trace,
                    at: request.location,
                    path: request.fieldPath,
                    expected: "a column named \"\(request.column)\" in \(displayPath)",
                    found: offered
                )
            }
            guard let column = columns[request.column] else { continue }
            // Ranges: every row of the file, once per column and kind.
            if rangeChecked.insert("\(request.column)|\(request.kind.rawValue)").inserted {
                guard checkRange(column, of: request, reader: reader, log: log) else { continue }
            } else if !column.values.allSatisfy(request.kind.range.contains) {
                continue
            }
            if let values = placed[request.column] ?? place(column, for: request, on: grid, path: displayPath, log: log)
            {
                placed[request.column] = values
                outcome.values[request.id] = values
            }
        }
        outcome.diagnostics += log.diagnostics
        return outcome
    }

    /// Whether every row of `column` is in the range `request`'s kind allows; reports the first rows that are not
    /// (at their line and column in the file) and how many more there are.
    private static func checkRange(
        _ column: TraceColumn,
        of request: Request,
        reader: TraceFileReader,
        log: DiagnosticLog
    ) -> Bool {
        var bad = 0
        for (row, value) in column.values.enumerated() where !request.kind.range.contains(value) {
            bad += 1
            guard bad <= TraceFileReader.maxRowDiagnostics else { continue }
            let line = Int(column.lines[row])
            let fields = reader.fields(ofLine: line)
            let charColumn = column.field - 1 < fields.count ? fields[column.field - 1].column : 1
            log.report(
                .trace,
                at: SourceLocation(file: reader.displayPath, line: line, column: charColumn),
                path: request.column,
                expected: "\(request.kind.expectation) (for \(request.fieldPath) at \(request.location))",
                found: formatNumber(value, maxFractionDigits: 4)
            )
        }
        if bad > TraceFileReader.maxRowDiagnostics {
            log.report(
                .trace,
                at: SourceLocation(file: reader.displayPath, line: 1, column: 1),
                path: request.column,
                expected: request.kind.expectation,
                found: "\(bad - TraceFileReader.maxRowDiagnostics) more rows out of range"
            )
        }
        return bad == 0
    }

    /// The column's values on the scenario's grid: a typical year unfolded over the scenario, or a timed trace
    /// averaged onto it; nil (reported) when a timed trace does not cover the scenario.
    private static func place(
        _ column: TraceColumn,
        for request: Request,
        on grid: TimeGrid,
        path displayPath: String,
        log: DiagnosticLog
    ) -> [Double]? {
        switch column.timing {
        case .typicalYear(let offset):
            let unfolded = TraceResampler.unfoldTypicalYear(
                column.values,
                utcOffsetHours: offset,
                from: grid.start,
                to: grid.end
            )
            return TraceResampler.average(
                times: unfolded.times,
                values: unfolded.values,
                lastInterval: 3600,
                onto: grid
            )
        case .timed(let times, let interval):
            let first = times[0]
            let last = times[times.count - 1] + interval
            guard first <= grid.start, last >= grid.end else {
                log.report(
                    .trace,
                    at: request.location,
                    path: request.fieldPath,
                    expected:
                        "a trace covering the scenario, \(ISO8601.format(epochSeconds: grid.start)) to \(ISO8601.format(epochSeconds: grid.end))",
                    found:
                        "\(displayPath) covering \(ISO8601.format(epochSeconds: first)) to \(ISO8601.format(epochSeconds: last))"
                )
                return nil
            }
            return TraceResampler.average(times: times, values: column.values, lastInterval: interval, onto: grid)
        }
    }
}

/// Resolving trace paths against the spec file that names them.
enum TracePaths {
    /// The path to open: absolute paths as given, relative ones from the spec file's directory.
    static func resolve(_ relative: String, specFile: String) -> String {
        if relative.hasPrefix("/") { return normalize(relative) }
        let directory = (specFile as NSString).deletingLastPathComponent
        return normalize(directory.isEmpty ? relative : directory + "/" + relative)
    }

    /// Collapses `.` and `dir/..` components so diagnostics show a clean path.
    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}

extension FleetDecoder {
    /// A constant with units, or `{file, column}` naming a trace column.
    func signal<Q: PhysicalQuantity>(_ node: SpecNode, as kind: TraceKind) -> SignalDraft<Q>? {
        if case .mapping = node.node {
            guard !untrustedFiles.contains(node.file) else {
                // Opening it would let whoever sent the document read, or probe for, the server's files.
                node.report(
                    .badValue,
                    expected: "\(Q.expectation) (a submitted document may not name files on the server)",
                    found: "a trace reference"
                )
                return nil
            }
            guard let f = node.fields("trace reference", allowed: ["file", "column"]) else { return nil }
            let file = f.required("file", "a trace file path, relative to this spec")?.string()
            let column = f.required("column", "a column name in the trace file")?.string()
            guard let file, let column else { return nil }
            let path = TracePaths.resolve(file, specFile: node.file)
            let id = traces.add(path: path, column: column, kind: kind, node: node)
            return .trace(id: id, file: path, column: column)
        }
        let value: Q?
        if Q.self == Temperature.self {
            value = node.temperature() as? Q
        } else {
            guard let text = node.scalarText, let parsed = Q.parse(text) else {
                node.report(.badQuantity, expected: "\(Q.expectation) or a trace {file, column}")
                return nil
            }
            value = parsed
        }
        guard let value else { return nil }
        guard kind.range.contains(value.baseValue) else {
            node.report(.badValue, expected: kind.expectation)
            return nil
        }
        return .constant(value)
    }
}
