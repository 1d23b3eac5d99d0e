import SovereignAssessment
import SovereignModel
import SovereignPlanner
import Testing

/// One fleet built to land at one level of one layer.
struct LevelCase: Sendable, CustomTestStringConvertible {
    let name: String
    let layer: Layer
    let level: SealLevel
    /// Read with this jurisdiction as home (each site's own country when nil).
    var home: String? = nil
    /// A fact the reasons must mention.
    let because: String
    let build: @Sendable (inout FleetText) -> Void

    var testDescription: String { "\(layer.rawValue) \(level.rawValue): \(name)" }
}

func assess(_ text: FleetText, home: String? = nil) throws -> SovereigntyMatrix {
    let fleet = try text.load()
    let homeValue = home.map { Home.jurisdiction($0, countries: fleet.countries(of: $0)) } ?? .eachSitesCountry
    return Assessor(fleet: fleet, home: homeValue, plan: Planner(policy: .powerAware).plan(fleet)).assess()
}

@Suite struct LevelTests {
    static let cases: [LevelCase] = [
        // Compute.
        LevelCase(
            name: "only US export-controlled parts",
            layer: .compute,
            level: .noSovereignty,
            because: "US EAR ECCN 3A090.a"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-a100-80gb", 64)])
        },
        LevelCase(
            name: "89% designed in the US",
            layer: .compute,
            level: .jurisdictional,
            because: "89% of accelerator capacity designed in US"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-a100-80gb", 64), ("huawei-ascend-910b", 8)])
        },
        LevelCase(
            name: "55% US, 45% home-designed",
            layer: .compute,
            level: .data,
            because: "of accelerator capacity designed in US, vendor HHI"
        ) {
            $0.site("fr-1", in: "FR", pools: [("fr-npu", 10), ("amd-mi300x", 10)])
        },
        LevelCase(
            name: "one domestic vendor",
            layer: .compute,
            level: .resilience,
            because: "the largest designed at home"
        ) {
            $0.site("cn-1", in: "CN", pools: [("huawei-ascend-910b", 64)])
        },
        LevelCase(name: "two domestic vendors", layer: .compute, level: .full, because: "100% of capacity designed") {
            $0.site("cn-1", in: "CN", pools: [("huawei-ascend-910b", 64), ("domestic-npu", 64)])
        },
        // Operations.
        LevelCase(
            name: "foreign operator outside home",
            layer: .operations,
            level: .noSovereignty,
            home: "EU",
            because: "outside EU"
        ) {
            $0.site("ch-1", in: "CH", pools: [("nvidia-l4", 8)], operatorHome: "US")
        },
        LevelCase(
            name: "foreign operator",
            layer: .operations,
            level: .jurisdictional,
            because: "at home in US, not KE"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)], operatorHome: "US")
        },
        LevelCase(
            name: "local subsidiary of a foreign parent",
            layer: .operations,
            level: .data,
            because: "answers to US"
        ) {
            $0.site("rw-1", in: "RW", pools: [("nvidia-l4", 8)], parent: "US")
        },
        LevelCase(
            name: "operator from another bloc country",
            layer: .operations,
            level: .resilience,
            home: "EU",
            because: "inside EU"
        ) {
            $0.site("de-1", in: "DE", pools: [("nvidia-l4", 8)], operatorHome: "FR")
        },
        LevelCase(name: "domestic operator", layer: .operations, level: .full, because: "no foreign parent") {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
        },
        // Data.
        LevelCase(
            name: "held under foreign control, keys abroad",
            layer: .data,
            level: .noSovereignty,
            because: "keys outside it"
        ) {
            $0.site("rw-1", in: "RW", pools: [("nvidia-l4", 8)], parent: "US")
            $0.dataset("records", at: "rw-1", residency: "RW", keys: "US")
        },
        LevelCase(
            name: "personal data under foreign control",
            layer: .data,
            level: .jurisdictional,
            because: "records (personal"
        ) {
            $0.site("rw-1", in: "RW", pools: [("nvidia-l4", 8)], parent: "US")
            $0.dataset("records", at: "rw-1", residency: "RW", classification: "personal", keys: "US")
            $0.dataset("corpus", at: "rw-1", residency: "RW", size: "10 TB", keys: "RW")
        },
        LevelCase(
            name: "keys unknown for all data",
            layer: .data,
            level: .data,
            because: "keys outside the residency or unknown for 100%"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
            $0.dataset("corpus", at: "ke-1", residency: "KE")
        },
        LevelCase(
            name: "keys unknown for a small dataset",
            layer: .data,
            level: .resilience,
            because: "keys held where unknown"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
            $0.dataset("corpus", at: "ke-1", residency: "KE", size: "900 GB", keys: "KE")
            $0.dataset("notes", at: "ke-1", residency: "KE", size: "100 GB")
        },
        LevelCase(name: "held and keyed at home", layer: .data, level: .full, because: "keys held there") {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
            $0.dataset("corpus", at: "ke-1", residency: "KE", keys: "KE")
        },
        // Software.
        LevelCase(
            name: "closed and foreign throughout",
            layer: .software,
            level: .noSovereignty,
            because: "every component is closed"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
            $0.software("cuda", role: "runtime", licence: "proprietary", origin: "US", updatesFrom: "US")
        },
        LevelCase(
            name: "closed foreign driver",
            layer: .software,
            level: .jurisdictional,
            because: "closed driver updated from abroad"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
            $0.software("gpu-driver", role: "driver", licence: "proprietary", origin: "US", updatesFrom: "US")
            $0.software("scheduler", role: "orchestrator", licence: "Apache-2.0", origin: "KE", updatesFrom: "KE")
        },
        LevelCase(
            name: "no software declared",
            layer: .software,
            level: .jurisdictional,
            because: "the stack is unknown"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
        },
        LevelCase(
            name: "closed foreign runtime",
            layer: .software,
            level: .data,
            because: "closed component updated from abroad"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
            $0.software("cuda", role: "runtime", licence: "proprietary", origin: "US", updatesFrom: "US")
            $0.software("scheduler", role: "orchestrator", licence: "Apache-2.0", origin: "KE", updatesFrom: "KE")
        },
        LevelCase(
            name: "open foreign framework",
            layer: .software,
            level: .resilience,
            because: "open component from or updated from abroad"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
            $0.software("pytorch", role: "framework", licence: "BSD-3-Clause", origin: "US", updatesFrom: "US")
            $0.software("scheduler", role: "orchestrator", licence: "Apache-2.0", origin: "KE", updatesFrom: "KE")
        },
        LevelCase(name: "open and domestic", layer: .software, level: .full, because: "every component open") {
            $0.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
            $0.software("scheduler", role: "orchestrator", licence: "Apache-2.0", origin: "KE", updatesFrom: "KE")
        },
        // Models.
        LevelCase(
            name: "closed foreign model",
            layer: .models,
            level: .noSovereignty,
            because: "closed weights published abroad"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-a100-80gb", 8)])
            $0.dataset("corpus", at: "ke-1", residency: "KE", keys: "KE")
            $0.model("m", weights: "closed", licence: "proprietary", publisher: "US", trainedIn: "US")
            $0.workload("tune", dataset: "corpus", model: "m")
        },
        LevelCase(name: "no model named", layer: .models, level: .jurisdictional, because: "unknown provenance") {
            $0.site("ke-1", in: "KE", pools: [("nvidia-a100-80gb", 8)])
            $0.dataset("corpus", at: "ke-1", residency: "KE", keys: "KE")
            $0.workload("tune", dataset: "corpus")
        },
        LevelCase(name: "open foreign model", layer: .models, level: .data, because: "runs models published abroad") {
            $0.site("ke-1", in: "KE", pools: [("nvidia-a100-80gb", 8)])
            $0.dataset("corpus", at: "ke-1", residency: "KE", keys: "KE")
            $0.model("m", weights: "open", licence: "Apache-2.0", publisher: "US", trainedIn: "US")
            $0.workload("tune", dataset: "corpus", model: "m")
        },
        LevelCase(
            name: "domestic model, licence not OSI",
            layer: .models,
            level: .resilience,
            because: "licence not OSI-approved"
        ) {
            $0.site("ke-1", in: "KE", pools: [("nvidia-a100-80gb", 8)])
            $0.dataset("corpus", at: "ke-1", residency: "KE", keys: "KE")
            $0.model("m", weights: "open", licence: "llama3.1", publisher: "KE", trainedIn: "KE")
            $0.workload("tune", dataset: "corpus", model: "m")
        },
        LevelCase(name: "open domestic model", layer: .models, level: .full, because: "every model open") {
            $0.site("ke-1", in: "KE", pools: [("nvidia-a100-80gb", 8)])
            $0.dataset("corpus", at: "ke-1", residency: "KE", keys: "KE")
            $0.model("m", weights: "open", licence: "Apache-2.0", publisher: "KE", trainedIn: "KE")
            $0.workload("tune", dataset: "corpus", model: "m")
        },
    ]

    @Test(arguments: cases)
    func landsAtItsLevel(_ c: LevelCase) throws {
        var text = FleetText()
        c.build(&text)
        let matrix = try assess(text, home: c.home)
        let site = try #require(matrix.sites.first)
        let cell = try #require(site.layers.first { $0.layer == c.layer })
        #expect(cell.level == c.level, "\(cell.reasons)")
        #expect(cell.reasons.contains { $0.contains(c.because) }, "\(cell.reasons)")
        // One site: the fleet-wide row says the same.
        let fleet = try #require(matrix.fleet.first { $0.layer == c.layer })
        #expect(fleet.level == c.level, "\(fleet.reasons)")
        if c.level != .full {
            #expect(cell.reasons.allSatisfy { $0.hasPrefix("capped at \(c.level.rawValue): ") })
        }
    }

    @Test func theWeakestLayerIsNamedWithItsReasons() throws {
        var text = FleetText()
        text.site("cn-1", in: "CN", pools: [("huawei-ascend-910b", 64), ("domestic-npu", 64)])
        text.dataset("corpus", at: "cn-1", residency: "CN")
        text.software("stack", role: "orchestrator", licence: "Apache-2.0", origin: "CN", updatesFrom: "CN")
        text.model("m", weights: "open", licence: "Apache-2.0", publisher: "CN", trainedIn: "CN")
        text.workload("tune", dataset: "corpus", model: "m")
        let matrix = try assess(text)
        #expect(matrix.fleet.map(\.level) == [.full, .data, .full, .full, .full])
        #expect(matrix.weakest.layer == .data)
        #expect(matrix.weakest.level == .data)
        #expect(matrix.weakest.why.first?.contains("keys outside the residency or unknown") == true)
    }

    @Test func amongEqualLevelsTheLowerScoreIsWeakest() throws {
        // Compute and operations both at 1; compute scores lower (every part US-designed and controlled
        // would be 0, so a little Ascend keeps it at 1).
        var text = FleetText()
        text.site("ke-1", in: "KE", pools: [("nvidia-a100-80gb", 64), ("huawei-ascend-910b", 8)], operatorHome: "US")
        text.software("stack", role: "orchestrator", licence: "Apache-2.0", origin: "KE", updatesFrom: "KE")
        let matrix = try assess(text)
        let compute = try #require(matrix.fleet.first { $0.layer == .compute })
        let operations = try #require(matrix.fleet.first { $0.layer == .operations })
        #expect(compute.level == .jurisdictional)
        #expect(operations.level == .jurisdictional)
        let lower: Layer = (compute.score ?? 0) < (operations.score ?? 0) ? .compute : .operations
        #expect(matrix.weakest.layer == lower)
        #expect(matrix.weakest.why.last?.hasPrefix("lowest score among the layers at level 1") == true)
    }

    @Test func unknownExportControlCountsAsForeignAndSaysSo() throws {
        var text = FleetText()
        text.documents.append(
            """
            apiVersion: sovereign.dev/v1
            kind: AcceleratorModel
            metadata: {name: mystery-gpu}
            spec: {vendor: Mystery, memory: 80 GB, tflops: 500, bandwidth: 2 TB/s, power: 500 W, origin: KE, fabricatedIn: KE}
            """
        )
        text.site("ke-1", in: "KE", pools: [("mystery-gpu", 8), ("domestic-npu", 1)])
        let matrix = try assess(text)
        let compute = try #require(matrix.fleet.first { $0.layer == .compute })
        #expect(compute.level == .data)
        #expect(compute.reasons.contains { $0.contains("of unknown status (mystery-gpu") })
    }

    @Test func overridingTheCatalogsExportControlChangesTheLevel() throws {
        var text = FleetText()
        text.site("ke-1", in: "KE", pools: [("nvidia-a100-80gb", 64)])
        let fleet = try text.load()
        let plan = Planner(policy: .powerAware).plan(fleet)
        let catalogue = Assessor(fleet: fleet, plan: plan).assess()
        let overridden = Assessor(fleet: fleet, exportControl: ["nvidia-a100-80gb": .unlisted], plan: plan).assess()
        #expect(catalogue.fleet[0].level == .noSovereignty)
        #expect(overridden.fleet[0].level == .jurisdictional)
    }

    @Test func objectivesTakeTheFrameworksWeightsAndTheWeakestOfTheirLayers() throws {
        var text = FleetText()
        text.site("rw-1", in: "RW", pools: [("nvidia-l4", 8)], parent: "US")
        let matrix = try assess(text)
        #expect(matrix.objectives.map(\.id) == (1...8).map { "SOV-\($0)" })
        #expect(matrix.objectives.map(\.weight) == [0.15, 0.10, 0.10, 0.15, 0.20, 0.15, 0.10, 0.05])
        let strategic = matrix.objectives[0]
        #expect(strategic.level == .data)  // operations: the parent answers to US
        // No dataset and no model: SOV-3 (data & AI) has nothing to stand on; SOV-8 is never assessed.
        #expect(matrix.objectives[2].level == nil)
        #expect(matrix.objectives[7].level == nil)
        #expect(abs(Objectives.weightedScore(matrix.objectives).coverage - 0.85) < 1e-9)
    }

    @Test func withoutAScenarioThePlanDependentFactsSayWhyTheyAreMissing() throws {
        var text = FleetText()
        text.documents.removeFirst()  // the Scenario
        text.site("ke-1", in: "KE", pools: [("nvidia-a100-80gb", 8)])
        text.dataset("corpus", at: "ke-1", residency: "KE", keys: "KE")
        text.model("m", weights: "closed", licence: "proprietary", publisher: "US", trainedIn: "US")
        text.workload("tune", dataset: "corpus", model: "m")
        let fleet = try text.load()
        #expect(fleet.scenario == nil)
        let matrix = Assessor(fleet: fleet, plan: Planner(policy: .powerAware).plan(fleet)).assess()
        #expect(matrix.placementBasis.hasPrefix("no plan"))
        let siteModels = try #require(matrix.sites.first?.layers.first { $0.layer == .models })
        #expect(siteModels.level == nil)
        #expect(siteModels.reasons == ["no plan (no Scenario): nothing placed here"])
        // Fleet-wide, the declared model still counts, each workload weighing the same.
        #expect(matrix.fleet.first { $0.layer == .models }?.level == .noSovereignty)
        let data = try #require(matrix.fleet.first { $0.layer == .data })
        #expect(data.facts.contains("where data is processed is not assessed: no plan (no Scenario)"))
    }
}
