public import ArgumentParser
import Foundation
import SovereignModel

/// `sovereign validate`: decode and check specs and traces, reporting every problem at once.
public struct Validate: ParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        abstract: "Check fleet specs and their traces; print a summary or every problem found.",
        discussion: """
            PATH is a spec file or a directory searched recursively for *.yaml and *.yml files. \
            Problems are printed as FILE:LINE:COLUMN: error: FIELD: expected X, found Y, and the exit status is 1.
            """
    )

    @Argument(help: "Spec files or directories.")
    public var paths: [String]

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    public init() {}

    /// The JSON shape of a validation result.
    struct Report: Encodable {
        let ok: Bool
        let summary: FleetSummary?
        let diagnostics: [DiagnosticJSON]
    }

    struct DiagnosticJSON: Encodable {
        let file: String
        let line: Int
        let column: Int
        let path: String
        let rule: String
        let expected: String
        let found: String
        let message: String

        init(_ d: Diagnostic) {
            file = d.location.file
            line = d.location.line
            column = d.location.column
            path = d.path
            rule = d.rule.rawValue
            expected = d.expected
            found = d.found
            message = d.description
        }
    }

    public func run() throws {
        do {
            let fleet = try FleetLoader(progress: TerminalProgress.lineOnStandardError(label: "reading traces"))
                .load(paths: paths)
            TerminalProgress.clear()
            switch format {
            case .text: print("ok: \(fleet.summary)")
            case .json: print(try jsonText(Report(ok: true, summary: fleet.summary, diagnostics: [])))
            }
        } catch let error as SpecError {
            TerminalProgress.clear()
            switch format {
            case .text:
                printError(error.description)
                let n = error.diagnostics.count
                printError("\(n) error\(n == 1 ? "" : "s")")
            case .json:
                print(
                    try jsonText(
                        Report(ok: false, summary: nil, diagnostics: error.diagnostics.map(DiagnosticJSON.init))
                    )
                )
            }
            throw ExitCode.failure
        }
    }
}
