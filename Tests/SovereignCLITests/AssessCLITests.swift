import Foundation
import SovereignTesting
import Testing

/// `sovereign assess` end to end.
struct AssessCLITests {
    @Test func badCutsAreRejectedNamingTheFlag() async throws {
        let run = try await CLITests.run(["assess", "--cut", "colour=red", "Examples/east-africa"])
        #expect(run.status != 0)
        #expect(
            run.stderr.contains(
                "--cut: expected KIND=VALUE with KIND one of vendor, designer, fabricator, operator-jurisdiction, site, jurisdiction, found \"colour\" in \"colour=red\""
            )
        )
        let country = try await CLITests.run(["assess", "--cut", "designer=America", "Examples/east-africa"])
        #expect(country.status != 0)
        #expect(
            country.stderr.contains(
                "--cut designer=: expected an ISO 3166-1 alpha-2 country code like US, found \"America\""
            )
        )
    }

    @Test func problemsOnlyTheFleetCanRevealAreAllReportedAndFail() async throws {
        let run = try await CLITests.run([
            "assess", "--cut", "jurisdiction=ECOWAS", "--home", "ASEAN", "--export-control", "nvidia-z1=none",
            "Examples/east-africa",
        ])
        #expect(run.status == 1)
        #expect(run.stdout == "")
        #expect(
            run.stderr == """
                error: --cut jurisdiction=: expected a country code or one of this fleet's JurisdictionGroups (EAC), found "ECOWAS"
                error: --export-control nvidia-z1=: expected an accelerator id from the catalog (see `sovereign catalog`), found "nvidia-z1"
                error: --home: expected a country code like KE or one of this fleet's JurisdictionGroups (EAC), found "ASEAN"

                """
        )
    }

    @Test func brokenInventoryIsLocatedAndFails() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = Fixtures.constantFleet.replacingOccurrences(
            of: "model: {parameters: 7B}",
            with: "model: {name: missing-model, parameters: 7B}"
        )
        try broken.write(to: dir.appendingPathComponent("fleet.yaml"), atomically: true, encoding: .utf8)
        let run = try await CLITests.run(["assess", "fleet.yaml"], in: dir.path)
        #expect(run.status == 1)
        #expect(
            run.stderr == """
                fleet.yaml:48:17: error: spec.model.name: expected the name of a Model, found "missing-model"
                1 error

                """
        )
    }

    @Test func jsonWithStressTestsIsStableAndComplete() async throws {
        let arguments = [
            "assess", "--format", "json", "--cut", "vendor=Huawei", "--cut", "operator-jurisdiction=US",
            "Examples/east-africa",
        ]
        let run = try await CLITests.run(arguments)
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        for key in [
            "home", "placement", "levels", "sites", "fleet", "weakest", "objectives", "weightedScore", "stress",
        ] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let stress = try #require(object["stress"] as? [String: Any])
        let scenarios = try #require(stress["scenarios"] as? [[String: Any]])
        #expect(
            scenarios.map { $0["cuts"] as? [String] } == [
                ["vendor=Huawei"], ["operator-jurisdiction=US"], ["vendor=Huawei", "operator-jurisdiction=US"],
            ]
        )
        #expect(scenarios[0]["sitesLost"] as? [String] == [])
        #expect(scenarios[1]["sitesLost"] as? [String] == ["kigali-1"])
        #expect(scenarios[0]["acceleratorsLost"] as? Int == 128)
        let again = try await CLITests.run(arguments)
        #expect(again.stdout == run.stdout)
    }

    @Test func textNamesTheWeakestLayerAndTheReportIsWritten() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = dir.appendingPathComponent("assessment.html").path
        let run = try await CLITests.run(["assess", "--cut", "designer=US", "--report", report, "Examples/east-africa"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Most fragile layer: software (level 1"))
        #expect(run.stdout.contains("  cut designer=US:"))
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("aria-label=\"stress tests\""))
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("src="))
    }

    /// The README shows the matrix and the weakest layer `assess` prints for the bundled example.
    @Test func readmeShowsWhatAssessPrints() async throws {
        let run = try await CLITests.run([
            "assess", "Examples/east-africa", "--cut", "vendor=NVIDIA", "--cut", "operator-jurisdiction=US",
        ])
        #expect(run.status == 0)
        let readme = try String(
            contentsOfFile: Fixtures.repositoryRoot.appendingPathComponent("README.md").path,
            encoding: .utf8
        )
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let shown = lines[3..<14].joined(separator: "\n")
        #expect(shown.hasPrefix("site       in  compute"))
        #expect(readme.contains("```\n" + shown + "\n```"), "README's assess excerpt differs from:\n\(shown)")
    }

    /// The catalog says which parts are export-controlled: what the compute layer counts.
    @Test func catalogShowsExportControl() async throws {
        let run = try await CLITests.run(["catalog"])
        #expect(run.status == 0)
        #expect(
            run.stdout.contains(
                "export-controlled (US EAR ECCN 3A090.a): nvidia-l40s, nvidia-a100-40gb, nvidia-a100-80gb, nvidia-h100-sxm, nvidia-h200-sxm, amd-mi250x, amd-mi300x, intel-gaudi2, intel-gaudi3\n"
            )
        )
        let json = try await CLITests.run(["catalog", "--format", "json", "Examples/east-africa"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let control = Dictionary(
            uniqueKeysWithValues: entries.map { ($0["id"] as? String ?? "", $0["exportControl"] as? String) }
        )
        #expect(control["nvidia-h100-sxm"] == "US EAR ECCN 3A090.a")
        #expect(control["nvidia-t4"] == "none")
        #expect(control["nvidia-rtx-a6000"] == "none")
    }
}
