import Foundation
import SovereignModel
import SovereignTesting
import Testing

/// Documents that come from outside (an API request body) are admitted by kind before anything in them is
/// decoded, and never make the loader open a file.
struct SubmissionTests {
    static let site = Fixtures.siteNamingTrace("/etc/passwd")

    @Test func aKindOutsideTheAdmittedOnesIsRefusedAtItsKindAlone() throws {
        let error = try #require(throws: SpecError.self) {
            try FleetLoader().load(sources: [], submission: (file: "request body", text: Self.site), kinds: [.Workload])
        }
        #expect(error.diagnostics.count == 1)
        let only = try #require(error.diagnostics.first)
        #expect(only.path == "kind")
        #expect(only.rule == .unknownKind)
        #expect(only.location == SourceLocation(file: "request body", line: 2, column: 7))
        #expect(only.description.contains("expected a Workload document"))
        #expect(!only.description.contains("passwd"))
    }

    /// Even a kind that is admitted may not name a trace file when it comes from outside.
    @Test func aSubmittedTraceReferenceIsRefusedWithoutBeingOpened() throws {
        let error = try #require(throws: SpecError.self) {
            try FleetLoader().load(sources: [], submission: (file: "request body", text: Self.site), kinds: [.Site])
        }
        let trace = try #require(error.diagnostics.first { $0.path == "spec.power.grid.availability" })
        #expect(trace.description.contains("a submitted document may not name files on the server"))
        #expect(!error.diagnostics.contains { $0.description.contains("root:") || $0.description.contains("no file") })
    }

    @Test(arguments: [
        ("nairobi-1", true), ("a.b-c.d", true), ("x", true), ("0", true),
        ("..", false), (".", false), ("a..b", false), (".a", false), ("a.", false), ("a.-b", false),
        ("a-.b", false), ("-a", false), ("A", false), ("a/b", false), ("", false),
        (String(repeating: "a", count: 254), false),
    ])
    func objectNamesAreDNS1123Subdomains(name: String, valid: Bool) throws {
        let document = """
            apiVersion: sovereign.dev/v1
            kind: Scenario
            metadata: {name: "\(name)"}
            spec: {start: 2026-03-02T00:00:00Z, horizon: 1 d, step: 1 h}
            """
        let result = Result { try FleetLoader().load(sources: [(file: "f.yaml", text: document)]) }
        if valid {
            #expect(throws: Never.self) { try result.get() }
        } else {
            let error = try #require(throws: SpecError.self) { try result.get() }
            #expect(error.diagnostics.contains { $0.path == "metadata.name" }, "\(name)")
        }
    }
}
