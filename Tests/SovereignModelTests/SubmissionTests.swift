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

/// A loader with a trace cache (what a server keeps to decode each submission with its fleet's specs) reads a
/// trace file once: loading the same specs again reuses what it read, even after the file changed on disk,
/// while a loader without the cache reads the file as it is now.
struct TraceCacheTests {
    @Test func theSameSpecsLoadedAgainDoNotReadTheirTracesAgain() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let example = dir.appendingPathComponent("east-africa")
        try FileManager.default.copyItem(
            at: Fixtures.repositoryRoot.appendingPathComponent("Examples/east-africa"),
            to: example
        )
        let loader = FleetLoader(traceCache: TraceCache())
        let first = try loader.load(paths: [example.path])
        let trace = example.appendingPathComponent("traces/nairobi-grid-loadshed.csv")
        let original = try String(contentsOf: trace, encoding: .utf8)
        // Every availability on the grid's trace becomes 0.5.
        let halved = original.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map {
            index,
            line -> String in
            guard index > 0, let comma = line.lastIndex(of: ",") else { return String(line) }
            return line[..<comma] + ",0.5"
        }
        try halved.joined(separator: "\n").write(to: trace, atomically: true, encoding: .utf8)
        let cached = try loader.load(paths: [example.path])
        let fresh = try FleetLoader().load(paths: [example.path])
        let nairobi = { (fleet: Fleet) in fleet.site(named: "nairobi-1")?.power.grid?.availability.series }
        #expect(nairobi(cached) == nairobi(first))
        #expect(nairobi(fresh) != nairobi(first))
    }

    /// A trace file that could not be used is not kept: once it is fixed, the next load reads it.
    @Test func aTraceThatFailedIsReadAgain() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let example = dir.appendingPathComponent("east-africa")
        try FileManager.default.copyItem(
            at: Fixtures.repositoryRoot.appendingPathComponent("Examples/east-africa"),
            to: example
        )
        let trace = example.appendingPathComponent("traces/nairobi-grid-loadshed.csv")
        let original = try Data(contentsOf: trace)
        try FileManager.default.removeItem(at: trace)
        let loader = FleetLoader(traceCache: TraceCache())
        #expect(throws: SpecError.self) { try loader.load(paths: [example.path]) }
        try original.write(to: trace)
        #expect(try loader.load(paths: [example.path]).site(named: "nairobi-1") != nil)
    }
}
