import Foundation
import SovereignTesting
import Testing

/// `sovereign anonymise` end to end: the method comes from the derived Dataset's spec, the report says what
/// was achieved, and the exit status says whether the policy's k was met.
struct AnonymiseCLITests {
    static let anes = "Tests/SovereignAnonymisationTests/Fixtures/anes96.csv"

    /// The constant fleet with the ANES table as a Kenyan source and its anonymised derivative.
    static func spec(
        k: Int,
        minK: Int,
        keep: String = "[popul, TVnews, selfLR, ClinLR, DoleLR, vote]",
        in directory: URL
    ) throws -> String {
        let yaml =
            Fixtures.constantFleet + """
                ---
                apiVersion: sovereign.dev/v1
                kind: Dataset
                metadata: {name: survey-anonymised}
                spec:
                  size: 1 GB
                  site: nairobi-1
                  residency: [EAC]
                  classification: internal
                  derivedFrom:
                    dataset: ke-health-records
                    anonymise:
                      pseudonymise: [respondent]
                      keep: \(keep)
                      quasiIdentifiers: {age: numeric, educ: numeric, income: numeric, PID: categorical}
                      k: \(k)
                ---
                apiVersion: sovereign.dev/v1
                kind: Policy
                metadata: {name: anonymised-data}
                spec: {anonymised: {minK: \(minK), mayBeProcessedIn: [EAC]}}

                """
        let path = directory.appendingPathComponent("fleet.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func anonymisesByTheSpecsMethodAndReportsWhatItAchieved() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = try Self.spec(k: 10, minK: 10, in: directory)
        let key = try Self.keyFile(repeating: "ab", mode: 0o600, in: directory)
        let output = directory.appendingPathComponent("out.csv").path
        let report = directory.appendingPathComponent("report.json").path
        let run = try await CLITests.run([
            "anonymise", spec, "--dataset", "survey-anonymised", "--input", Self.anes, "--output", output,
            "--report", report, "--key-file", key,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("survey-anonymised from ke-health-records (key held in an unknown place)\n"))
        #expect(run.stdout.contains("  rows: 944 read, 944 written, 0 suppressed\n"))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        )
        #expect(json["meetsPolicy"] as? Bool == true)
        #expect(json["requiredK"] as? Int == 10)
        let details = try #require(json["run"] as? [String: Any])
        #expect((details["kAchieved"] as? Int ?? 0) >= 10)
        #expect((details["keyID"] as? String)?.hasPrefix("hmac-sha256:") == true)
        #expect(try !String(contentsOfFile: report, encoding: .utf8).contains(String(repeating: "ab", count: 32)))
    }

    /// A 32-byte pseudonym key file (64 hex characters of `byte`) with the given permissions, in `directory`.
    static func keyFile(repeating byte: String, mode: Int, in directory: URL) throws -> String {
        let key = directory.appendingPathComponent("key").path
        try String(repeating: byte, count: 32).write(toFile: key, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: key)
        return key
    }

    @Test func exitsNonZeroWhenThePolicysKIsNotMet() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A k the table cannot reach: every row is suppressed, and nothing may be released.
        let spec = try Self.spec(k: 1_000, minK: 10, in: directory)
        let key = try Self.keyFile(repeating: "cd", mode: 0o600, in: directory)
        let output = directory.appendingPathComponent("out.csv").path
        let run = try await CLITests.run([
            "anonymise", spec, "--dataset", "survey-anonymised", "--input", Self.anes, "--output", output,
            "--key-file", key,
        ])
        #expect(run.status == 1)
        #expect(
            run.stderr.hasSuffix(
                "\(output): expected every class to hold at least 1000 rows, found k = 0 (0 rows written); "
                    + "do not release it\n"
            )
        )
    }

    @Test func namesTheDerivedDatasetsWhenAskedForARawOne() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = try Self.spec(k: 10, minK: 10, in: directory)
        let run = try await CLITests.run([
            "anonymise", spec, "--dataset", "ke-health-records", "--input", Self.anes, "--output", "/dev/null",
        ])
        #expect(run.status == 1)
        #expect(
            run.stderr
                == "--dataset: expected the name of a derived Dataset (one with spec.derivedFrom: "
                + "survey-anonymised), found \"ke-health-records\"\n"
        )
    }

    /// A key file that group or others may read is refused before anything is read or written, and says how to
    /// fix it; the key itself appears nowhere.
    @Test func aKeyFileOthersMayReadIsRefused() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = try Self.spec(k: 10, minK: 10, in: directory)
        let key = try Self.keyFile(repeating: "ef", mode: 0o644, in: directory)
        let output = directory.appendingPathComponent("out.csv").path
        let run = try await CLITests.run([
            "anonymise", spec, "--dataset", "survey-anonymised", "--input", Self.anes, "--output", output,
            "--key-file", key,
        ])
        #expect(run.status != 0)
        #expect(
            run.stderr.contains(
                "\(key): expected a key file only its owner may read (mode 0600 or 0400), found mode 644"
            )
        )
        #expect(!run.stderr.contains("efef") && !run.stdout.contains("efef"))
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// A derivative that may go further than its source carries only the columns its method names: one the
    /// spec forgets (a direct identifier, say) stops the run before anything is written.
    @Test func aColumnTheMethodDoesNotNameStopsADerivativeThatWidens() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = try Self.spec(k: 10, minK: 10, keep: "[popul, TVnews, vote]", in: directory)
        let key = try Self.keyFile(repeating: "ab", mode: 0o600, in: directory)
        let output = directory.appendingPathComponent("out.csv").path
        let run = try await CLITests.run([
            "anonymise", spec, "--dataset", "survey-anonymised", "--input", Self.anes, "--output", output,
            "--key-file", key,
        ])
        #expect(run.status == 1)
        #expect(run.stderr.contains("\(Self.anes):1:1: expected every column to be named by the method"))
        #expect(run.stderr.contains("found unnamed \"selfLR\", \"ClinLR\", \"DoleLR\""))
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
