import Foundation
import SovereignAssessment
import SovereignModel
import SovereignPlanner
import SovereignSimulator
import SovereignTesting
import Testing

@Suite struct ExampleTests {
    static let examples = ["east-africa", "europe"]

    func matrix(_ example: String, home: String? = nil) throws -> (Fleet, SovereigntyMatrix) {
        let fleet = try FleetLoader().load(paths: [Fixtures.example(example)])
        let homeValue = home.map { Home.jurisdiction($0, countries: fleet.countries(of: $0)) } ?? .eachSitesCountry
        let plan = Planner(policy: .powerAware).plan(fleet)
        return (fleet, Assessor(fleet: fleet, home: homeValue, plan: plan).assess())
    }

    @Test(arguments: examples)
    func everyLevelOfTheBundledExamplesIsExplained(_ example: String) throws {
        let (fleet, matrix) = try matrix(example)
        #expect(matrix.sites.count == fleet.sites.count)
        #expect(fleet.software.count >= 5)
        #expect(!fleet.models.isEmpty)
        #expect(fleet.workloads.allSatisfy { $0.modelName != nil })
        for row in matrix.sites {
            #expect(row.layers.map(\.layer) == Layer.allCases)
            for cell in row.layers {
                #expect(!cell.reasons.isEmpty, "\(row.site) \(cell.layer)")
                #expect(cell.reasons.allSatisfy { !$0.isEmpty })
            }
            // Compute, software and operations apply at every site that has accelerators.
            for layer in [Layer.compute, .software, .operations] {
                #expect(row.layers.first { $0.layer == layer }?.level != nil, "\(row.site) \(layer)")
            }
        }
        for cell in matrix.fleet {
            #expect(cell.level != nil, "\(cell.layer)")
            #expect(cell.score != nil)
            #expect(!cell.reasons.isEmpty)
        }
    }

    /// The data layer counts anonymised derivatives and says where their pseudonym keys are; a key held outside
    /// the source's residency caps the layer at 3.
    @Test func theDataLayerCountsAnonymisedDerivativesAndWhereTheirKeysAre() throws {
        let (fleet, matrix) = try matrix("east-africa")
        let data = try #require(matrix.fleet.first { $0.layer == .data })
        #expect(
            data.facts.contains(
                "1 anonymised derivative: ke-clinical-notes-anonymised from ke-clinical-notes (k = 10, ℓ = 2, "
                    + "pseudonym key held in KE)"
            )
        )
        #expect(!(data.reasons + data.facts).contains { $0.contains("'s pseudonym key is held") })
        // The same fleet with the clinical notes' keys held abroad.
        let moved = fleet.datasets.map { dataset in
            var copy = dataset
            if dataset.name == "ke-clinical-notes" { copy.keysHeldIn = "US" }
            return copy
        }
        let abroad = Fleet(
            scenario: fleet.scenario,
            groups: fleet.groups,
            sites: fleet.sites,
            datasets: moved,
            workloads: fleet.workloads,
            policies: fleet.policies,
            userAccelerators: fleet.userAccelerators,
            software: fleet.software,
            models: fleet.models
        )
        let plan = Planner(policy: .powerAware).plan(abroad)
        let reassessed = Assessor(fleet: abroad, home: .eachSitesCountry, plan: plan).assess()
        let cell = try #require(reassessed.fleet.first { $0.layer == .data })
        #expect(
            (cell.reasons + cell.facts).contains {
                $0.contains("ke-clinical-notes-anonymised's pseudonym key is held in US, outside its source")
            }
        )
    }

    @Test func eastAfricaReadsAsExpected() throws {
        let (_, matrix) = try matrix("east-africa")
        let levels = Dictionary(uniqueKeysWithValues: matrix.fleet.map { ($0.layer, $0.level) })
        // Kigali's operator answers to a US parent: operations cannot be full.
        let kigali = try #require(matrix.sites.first { $0.site == "kigali-1" })
        #expect(kigali.layers.first { $0.layer == .operations }?.level == .data)
        // Dar es Salaam runs Huawei's closed driver, updated from China.
        let dar = try #require(matrix.sites.first { $0.site == "dar-1" })
        let software = try #require(dar.layers.first { $0.layer == .software })
        #expect(software.level == .jurisdictional)
        #expect(software.reasons.contains { $0.contains("ascend-hdk") })
        // NVIDIA's closed GSP firmware caps software fleet-wide, and that is the weakest layer.
        #expect(levels[.software] == .jurisdictional)
        #expect(matrix.weakest.layer == .software)
        #expect(matrix.weakest.why.contains { $0.contains("nvidia-gsp-firmware") })
    }

    @Test func readWithTheUnionAsHomeEuropeIsWeakestInCompute() throws {
        let (_, matrix) = try matrix("europe", home: "EU")
        #expect(matrix.home.description == "EU")
        let compute = try #require(matrix.fleet.first { $0.layer == .compute })
        #expect(compute.level == .noSovereignty)
        #expect(compute.reasons.contains { $0.contains("US EAR ECCN 3A090.a") })
        #expect(matrix.weakest.layer == .compute)
        // Every operator is at home in the EU.
        #expect(matrix.fleet.first { $0.layer == .operations }?.level == .full)
    }

    @Test func sameInputsAndSeedGiveTheSameBytes() async throws {
        func render() async throws -> (String, String, String) {
            let (fleet, matrix) = try matrix("east-africa")
            let scenarios = StressTest.scenarios([Cut(.vendor, "NVIDIA"), Cut(.operatorJurisdiction, "US")])
            let run = try #require(await StressTest.run(fleet, scenarios: scenarios, policy: .powerAware, seed: 3))
            let stress = StressRun(policy: "power-aware", seed: 3, uncut: run.uncut, results: run.results)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let json = String(decoding: try encoder.encode(AssessmentJSON(matrix, stress: stress)), as: UTF8.self)
            return (
                json, AssessmentText.render(matrix, fleet: fleet, stress: stress),
                AssessmentReport.html(matrix, fleet: fleet, stress: stress)
            )
        }
        let first = try await render()
        let second = try await render()
        #expect(first.0 == second.0)
        #expect(first.1 == second.1)
        #expect(first.2 == second.2)
        #expect(first.0.contains("\"newlyUnplaceable\""))
    }

    @Test func theReportIsSelfContained() throws {
        let (fleet, matrix) = try matrix("east-africa")
        let html = AssessmentReport.html(matrix, fleet: fleet, stress: nil)
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("aria-label=\"sovereignty matrix: sites by layers\""))
        for site in fleet.sites { #expect(html.contains(">\(site.name) (\(site.jurisdiction))</text>")) }
        for external in ["<script", "src=", "url(", "http://", "https://", "<link"] {
            #expect(!html.contains(external), "\(external)")
        }
    }
}
