import ArgumentParser
import Foundation
import SovereignBase
import SovereignCLI
import SovereignModel
import SovereignTesting
import Testing

/// The `sovereign` executable run end to end, with exact expected output.
struct CLITests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The built `sovereign` binary, next to the test bundle.
    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("sovereign").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return Fixtures.repositoryRoot.appendingPathComponent(".build/debug/sovereign").path
    }

    /// Runs the binary with `arguments` in `directory` to its end, on a thread of its own: a test that waits
    /// for a child process (a simulation, a ledger check) must not hold one of the cooperative threads that the
    /// networked tests running beside it need.
    static func run(_ arguments: [String], in directory: String = Fixtures.repositoryRoot.path) async throws -> Run {
        try await OwnThread.run(named: "cli-test") { try runBlocking(arguments, in: directory) }
    }

    private static func runBlocking(_ arguments: [String], in directory: String) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }

    @Test func validateContractPrintsSummary() async throws {
        let run = try await Self.run(["validate", "Tests/SovereignModelTests/Fixtures/contract"])
        #expect(run.stdout == "ok: 2 sites, 4 pools (160 accelerators), 1 dataset, 2 workloads, 1 policy\n")
        #expect(run.stderr == "")
        #expect(run.status == 0)
    }

    @Test func validateReportsEveryProblemAndFails() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = Fixtures.constantFleet
            .replacingOnce("capacity: 1.2 MW", with: "capacity: lots")
            .replacingOnce("min: 4, max: 32", with: "min: 40, max: 32")
        try broken.write(to: dir.appendingPathComponent("fleet.yaml"), atomically: true, encoding: .utf8)
        let run = try await Self.run(["validate", "fleet.yaml"], in: dir.path)
        #expect(run.status == 1)
        #expect(run.stdout == "")
        #expect(
            run.stderr == """
                fleet.yaml:18:22: error: spec.power.grid.capacity: expected a power like "1.2 MW", found "lots"
                fleet.yaml:51:23: error: spec.accelerators.min: expected at most max (32), found "40"
                2 errors

                """
        )
        let json = try await Self.run(["validate", "--format", "json", "fleet.yaml"], in: dir.path)
        #expect(json.status == 1)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(report?["ok"] as? Bool == false)
        let diagnostics = report?["diagnostics"] as? [[String: Any]]
        #expect(diagnostics?.count == 2)
        #expect(diagnostics?.first?["line"] as? Int == 18)
        #expect(diagnostics?.first?["column"] as? Int == 22)
        #expect(diagnostics?.first?["rule"] as? String == "bad-quantity")
        #expect(diagnostics?.first?["path"] as? String == "spec.power.grid.capacity")
    }

    @Test func validateJSONSummary() async throws {
        let run = try await Self.run([
            "validate", "--format", "json", "Tests/SovereignModelTests/Fixtures/contract/fleet.yaml",
        ])
        #expect(run.status == 0)
        #expect(
            run.stdout == """
                {
                  "diagnostics" : [

                  ],
                  "ok" : true,
                  "summary" : {
                    "accelerators" : 160,
                    "datasets" : 1,
                    "policies" : 1,
                    "pools" : 4,
                    "sites" : 2,
                    "workloads" : 2
                  }
                }

                """
        )
    }

    /// The ledger commands read SQLite files only: a PostgreSQL URL is refused, naming the option, without its
    /// password.
    @Test(arguments: [["ledger", "verify", "--db"], ["ledger", "prove", "inclusion", "0", "--db"]])
    func ledgerCommandsRefuseAPostgresURLWithoutItsPassword(_ command: [String]) async throws {
        let run = try await Self.run(command + ["postgres://sovereign:hunter2@127.0.0.1:5432/state"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("--db: expected the SQLite state database"))
        #expect(run.stderr.contains("postgres://sovereign:***@127.0.0.1:5432/state"))
        #expect(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"))
    }

    @Test func missingPathIsAnError() async throws {
        let run = try await Self.run(["validate", "no/such/fleet.yaml"])
        #expect(run.status == 1)
        #expect(
            run.stderr
                == "no/such/fleet.yaml:1:1: error: expected a spec file or a directory of them, found no such file or directory\n1 error\n"
        )
    }

    @Test func catalogListsBuiltInModels() async throws {
        let run = try await Self.run(["catalog"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("id") == true)
        #expect(
            lines.contains {
                $0.hasPrefix("nvidia-h100-sxm") && $0.contains("80 GB") && $0.contains("989.0") && $0.contains("700 W")
            }
        )
        #expect(lines.contains { $0.hasPrefix("huawei-ascend-910b:") && $0.contains("secondary sources only") })
        let json = try await Self.run(["catalog", "--format", "json", "Tests/SovereignModelTests/Fixtures/contract"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == AcceleratorCatalog.builtInModels.count + 1)
        #expect(entries.last?["id"] as? String == "regional-npu-v2")
        #expect(entries.last?["provenance"] as? String == "user")
        let t4 = try #require(entries.first { $0["id"] as? String == "nvidia-t4" })
        #expect(t4["denseTFLOPS"] as? Double == 65)
        #expect(t4["memoryGB"] as? Double == 16)
    }

    @Test func argumentsParse() throws {
        let command = try Sovereign.parseAsRoot(["validate", "--format", "json", "a.yaml", "dir"])
        let validate = try #require(command as? Validate)
        #expect(validate.paths == ["a.yaml", "dir"])
        #expect(validate.format == .json)
        #expect(throws: (any Error).self) { try Sovereign.parseAsRoot(["validate", "--format", "xml", "a.yaml"]) }
        #expect(throws: (any Error).self) { try Sovereign.parseAsRoot(["validate"]) }
    }

    @Test func planContractFleet() async throws {
        let run = try await Self.run(["plan", "Tests/SovereignModelTests/Fixtures/contract"])
        #expect(run.status == 0)
        #expect(
            run.stdout == """
                plan (power-aware): 2 workloads: 1 completed, 1 serving

                swahili-clinical-finetune: completed, done 2026-03-02 12:00
                  2026-03-02 06:00 – 2026-03-02 12:00  nairobi-1/a100 × 32

                citizen-services-assistant: serving, fp16
                  2026-03-02 00:00 – 2026-03-09 00:00  nairobi-1/a100 × 3

                """
        )
        let json = try await Self.run([
            "plan", "--format", "json", "--policy", "greedy", "Tests/SovereignModelTests/Fixtures/contract",
        ])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["policy"] as? String == "greedy")
        let workloads = try #require(object["workloads"] as? [[String: Any]])
        #expect(workloads.map { $0["status"] as? String } == ["completed", "serving"])
        #expect(workloads.first?["finish"] as? String == "2026-03-02T12:00:00Z")
    }

    @Test func planRejectsUnknownPolicy() async throws {
        let run = try await Self.run(["plan", "--policy", "fastest", "Tests/SovereignModelTests/Fixtures/contract"])
        #expect(run.status != 0)
        let expected = "--policy: expected one of greedy, power-aware, carbon-aware, carbon-elastic, found \"fastest\""
        #expect(run.stderr.contains(expected))
    }

    @Test func simulateJSONContractAndReport() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = dir.appendingPathComponent("report.html").path
        let run = try await Self.run(["simulate", "--format", "json", "--report", report, "Examples/east-africa"])
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let scenario = try #require(object["scenario"] as? [String: Any])
        #expect(scenario["start"] as? String == "2026-03-02T00:00:00Z")
        #expect(scenario["seed"] as? Int == 20_260_302)
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(results.map { $0["policy"] as? String } == ["greedy", "power-aware", "carbon-aware"])
        for result in results {
            for key in ["workloads", "work", "energy", "carbonKg", "events", "transfers", "violations", "wallSeconds"] {
                #expect(result[key] != nil, "missing \(key)")
            }
            let violations = try #require(result["violations"] as? [String: Int])
            #expect(violations == ["residency": 0, "power": 0, "thermal": 0])
            let work = try #require(result["work"] as? [String: Double])
            #expect(Set(work.keys) == ["requiredExaflop", "doneExaflop", "lostAcceleratorHours"])
        }
        let lost = results.map { ($0["work"] as? [String: Double])?["lostAcceleratorHours"] ?? -1 }
        #expect(lost[1] < lost[0])
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<svg"))
        #expect(html.contains("nairobi-1"))
        // Self-contained: nothing is fetched.
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("src="))
        // Same seed, same JSON (wall time aside).
        let again = try await Self.run(["simulate", "--format", "json", "Examples/east-africa"])
        func withoutWallTime(_ text: String) -> String {
            text.split(separator: "\n").filter { !$0.contains("wallSeconds") }.joined(separator: "\n")
        }
        #expect(withoutWallTime(again.stdout) == withoutWallTime(run.stdout))
    }

    /// The README shows the main command's output; it must stay what the command prints.
    @Test func readmeShowsTheMainCommandsOutput() async throws {
        let readme = try String(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent("README.md"),
            encoding: .utf8
        )
        let run = try await Self.run(["simulate", "Examples/east-africa"])
        #expect(run.status == 0)
        #expect(readme.contains("```\n" + run.stdout + "```"))
    }
}
