/// A place in a file that a person can jump to: `fleet.yaml:14:7`.
public struct SourceLocation: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The file as the user named it (or as found under a directory they named).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in Unicode scalars.
    public var column: Int

    /// Makes a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// One problem found in a spec or a trace, reported like a compiler diagnostic:
/// `fleet.yaml:14:7: error: spec.power.grid.capacity: expected a power like "1.2 MW", found "lots"`.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Which validation rule found the problem; stable, for scripts and tests.
    public enum Rule: String, Sendable, Hashable, Codable, CaseIterable {
        case syntax
        case unreadableFile = "unreadable-file"
        case unknownKind = "unknown-kind"
        case unknownField = "unknown-field"
        case missingField = "missing-field"
        case wrongType = "wrong-type"
        case badValue = "bad-value"
        case badQuantity = "bad-quantity"
        case unknownJurisdiction = "unknown-jurisdiction"
        case duplicateName = "duplicate-name"
        case unknownReference = "unknown-reference"
        case residency
        case minAboveMax = "min-above-max"
        case deadlineBeforeArrival = "deadline-before-arrival"
        case noPoolFits = "no-pool-fits"
        case groupCycle = "group-cycle"
        case emptyGroup = "empty-group"
        case trace
        case noScenario = "no-scenario"
    }

    /// Where the problem is.
    public var location: SourceLocation
    /// The field path inside the document, like `spec.power.grid.capacity`; empty for whole-file problems.
    public var path: String
    /// What was expected there.
    public var expected: String
    /// What was found instead.
    public var found: String
    /// The rule that was broken.
    public var rule: Rule

    /// Makes a diagnostic.
    public init(_ rule: Rule, at location: SourceLocation, path: String, expected: String, found: String) {
        self.rule = rule
        self.location = location
        self.path = path
        self.expected = expected
        self.found = found
    }

    /// The message without its location: `spec.x: expected A, found B`.
    public var message: String {
        let body = "expected \(expected), found \(found)"
        return path.isEmpty ? body : "\(path): \(body)"
    }

    public var description: String { "\(location): error: \(message)" }
}

/// The error thrown when specs or traces are invalid: every diagnostic found, in file order.
public struct SpecError: Error, Sendable, CustomStringConvertible {
    /// All problems, sorted by location.
    public let diagnostics: [Diagnostic]

    /// Makes the error from diagnostics, which it sorts by location and de-duplicates.
    public init(_ diagnostics: [Diagnostic]) {
        var seen = Set<Diagnostic>()
        self.diagnostics = diagnostics.sorted { ($0.location, $0.path) < ($1.location, $1.path) }
            .filter { seen.insert($0).inserted }
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// Collects diagnostics while a decoder or validator walks specs, so that every problem is reported at once.
final class DiagnosticLog {
    private(set) var diagnostics: [Diagnostic] = []

    func report(_ diagnostic: Diagnostic) {
        diagnostics.append(diagnostic)
    }

    func report(_ rule: Diagnostic.Rule, at location: SourceLocation, path: String, expected: String, found: String) {
        diagnostics.append(Diagnostic(rule, at: location, path: path, expected: expected, found: found))
    }

    var isEmpty: Bool { diagnostics.isEmpty }
}
