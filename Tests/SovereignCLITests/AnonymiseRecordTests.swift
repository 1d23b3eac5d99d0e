import Foundation
import NIOHTTP1
import SovereignTesting
import Testing

/// `sovereign anonymise --control-plane`: a run at the source's site is recorded in a live server's ledger,
/// and the work that waited for the derivative is released; a run claimed at a site outside the source's
/// residency is refused before anything is read.
@Suite(.timeLimit(.minutes(5)))
struct AnonymiseRecordTests {
    /// The ANES spec (see ``AnonymiseCLITests``) plus a runnable job on the derivative.
    static func spec(in directory: URL) throws -> String {
        let path = try AnonymiseCLITests.spec(k: 10, minK: 10, in: directory)
        let job = """
            ---
            apiVersion: sovereign.dev/v1
            kind: Workload
            metadata: {name: tune-survey}
            spec:
              type: fine-tuning
              model: {parameters: 1B}
              datasets: [survey-anonymised]
              compute: {tokens: 100M}
              accelerators: {min: 1, max: 8}
              run: {command: [sleep, "60"], gracePeriod: 1 s}

            """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(job.utf8))
        try handle.close()
        return path
    }

    static func key(in directory: URL) throws -> String {
        let key = try AnonymiseCLITests.keyFile(repeating: "ab", mode: 0o600, in: directory)
        return key
    }

    @Test func aRecordedRunReleasesTheWorkThatWaitedForIt() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = try Self.spec(in: directory)
        let server = try ServeTests.Server(db: directory.appendingPathComponent("state.sqlite").path, specs: [spec])
        defer { server.stop() }
        func detail() async throws -> String {
            ((try await server.workload("tune-survey"))["workload"] as? [String: Any])?["detail"] as? String ?? ""
        }
        try await server.wait("the job to wait for its derivative") {
            try await detail().contains("waits for survey-anonymised")
        }
        #expect(try await server.state("tune-survey") == "pending")
        #expect(try await detail().contains("has not produced it yet"))

        let run = try await CLITests.run([
            "anonymise", spec, "--dataset", "survey-anonymised", "--input", AnonymiseCLITests.anes,
            "--output", directory.appendingPathComponent("out.csv").path, "--key-file", try Self.key(in: directory),
            "--control-plane", server.url, "--token", server.token,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("recorded at \(server.url) as ledger entry "), "\(run.stderr)")
        try await server.wait("the job to start") { try await server.state("tune-survey") != "pending" }
        let (status, ledger) = try await server.request(.GET, "/v1/ledger/entries?limit=1000")
        #expect(status == 200)
        #expect(ledger.contains("\"dataset.derived\""))
        #expect(ledger.contains("\"derivationEntry\""))
    }

    @Test func aSiteOutsideTheSourcesResidencyIsRefusedBeforeAnythingIsRead() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = try Self.spec(in: directory)
        let output = directory.appendingPathComponent("out.csv").path
        let run = try await CLITests.run([
            "anonymise", spec, "--dataset", "survey-anonymised", "--input", AnonymiseCLITests.anes,
            "--output", output, "--key-file", try Self.key(in: directory), "--site", "kigali-1",
        ])
        #expect(run.status == 1)
        #expect(
            run.stderr
                == "--site: expected a site inside ke-health-records's residency (KE), found kigali-1 in RW\n"
        )
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// `plan --awaiting` plans as if a derivative had not been made: its work waits and says for what; a raw
    /// dataset named there is refused with the derived ones listed.
    @Test func planAwaitingADerivativeHoldsItsWork() async throws {
        let run = try await CLITests.run(["plan", "Examples/east-africa", "--awaiting", "ke-clinical-notes-anonymised"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("12 workloads: 9 completed, 2 serving, 1 waiting\n"))
        #expect(
            run.stdout.contains(
                """
                eac-icd-coding-3b-train: waiting
                  after: anonymisation ke-clinical-notes → ke-clinical-notes-anonymised at nairobi-1 (inside KE)
                  why: eac-icd-coding-3b-train: waits for ke-clinical-notes-anonymised: anonymisation \
                ke-clinical-notes → ke-clinical-notes-anonymised at nairobi-1 (inside KE) has not produced it yet

                """
            )
        )
        let raw = try await CLITests.run(["plan", "Examples/east-africa", "--awaiting", "ke-clinical-notes"])
        #expect(raw.status == 1)
        #expect(
            raw.stderr
                == "--awaiting: expected a derived Dataset (one with spec.derivedFrom: "
                + "ke-clinical-notes-anonymised), found \"ke-clinical-notes\"\n"
        )
    }
}
