import Foundation
import SovereignModel
import SovereignTesting
import Testing

/// One validation rule: a one-place change to a valid fleet, and exactly the diagnostics it must produce.
struct RuleCase: Sendable, CustomTestStringConvertible {
    let name: String
    let target: String
    let replacement: String
    let expected: [String]

    init(_ name: String, replace target: String, with replacement: String, expect expected: [String]) {
        self.name = name
        self.target = target
        self.replacement = replacement
        self.expected = expected
    }

    var testDescription: String { name }
}

/// Every validation rule, each with a spec that breaks it and the exact diagnostic expected.
struct ValidationRuleTests {
    static let cases: [RuleCase] = [
        RuleCase(
            "syntax",
            replace: "spec: {start: 2026-03-02T00:00:00Z, horizon: 7 d, step: 1 h}",
            with: "spec: {start: 2026-03-02T00:00:00Z, horizon: 7 d, step: [1 h}",
            expect: [
                "fleet.yaml:4:61: error: expected valid YAML, found did not find expected ',' or ']' (while parsing a flow sequence at 4:57)"
            ]
        ),
        RuleCase(
            "unknown-kind",
            replace: "kind: Policy",
            with: "kind: Polcy",
            expect: [
                "fleet.yaml:66:7: error: kind: expected a kind (Scenario, JurisdictionGroup, Site, Dataset, Workload, Policy, AcceleratorModel, SoftwareComponent, Model), found \"Polcy\""
            ]
        ),
        RuleCase(
            "api-version",
            replace: "apiVersion: sovereign.dev/v1\nkind: Policy",
            with: "apiVersion: sovereign.dev/v2\nkind: Policy",
            expect: [
                "fleet.yaml:65:13: error: apiVersion: expected \"sovereign.dev/v1\", found \"sovereign.dev/v2\""
            ]
        ),
        RuleCase(
            "unknown-field",
            replace: "jurisdiction: KE\n",
            with: "jurisdiction: KE\n  colour: red\n",
            expect: [
                "fleet.yaml:16:3: error: spec.colour: expected a field of Site (jurisdiction, operator, power, cooling, storage, pools, links, kubernetes), found unknown field \"colour\""
            ]
        ),
        RuleCase(
            "missing-field",
            replace: "  jurisdiction: RW\n",
            with: "",
            expect: [
                "fleet.yaml:30:3: error: spec.jurisdiction: expected an ISO 3166-1 alpha-2 country code, found nothing"
            ]
        ),
        RuleCase(
            "bad-quantity",
            replace: "capacity: 1.2 MW",
            with: "capacity: lots",
            expect: [
                "fleet.yaml:18:22: error: spec.power.grid.capacity: expected a power like \"1.2 MW\", found \"lots\""
            ]
        ),
        RuleCase(
            "bad-unit",
            replace: "bandwidth: 10 Gbps",
            with: "bandwidth: 10 furlongs",
            expect: [
                "fleet.yaml:24:33: error: spec.links[0].bandwidth: expected a bandwidth like \"10 Gbps\" or \"2 GB/s\", found \"10 furlongs\""
            ]
        ),
        RuleCase(
            "negative",
            replace: "size: 2 TB",
            with: "size: -2 TB",
            expect: [
                "fleet.yaml:41:14: error: spec.size: expected a data size like \"80 GB\", not negative, found \"-2 TB\""
            ]
        ),
        RuleCase(
            "unknown-country",
            replace: "jurisdiction: RW",
            with: "jurisdiction: XX",
            expect: [
                "fleet.yaml:30:17: error: spec.jurisdiction: expected an ISO 3166-1 alpha-2 country code like \"KE\", found \"XX\""
            ]
        ),
        RuleCase(
            "unknown-jurisdiction-ref",
            replace: "servedFrom: [EAC]",
            with: "servedFrom: [EAX]",
            expect: [
                "fleet.yaml:63:16: error: spec.servedFrom[0]: expected an ISO 3166-1 alpha-2 code like \"KE\" or a declared JurisdictionGroup, found \"EAX\""
            ]
        ),
        RuleCase(
            "duplicate-name",
            replace: "metadata: {name: kigali-1}",
            with: "metadata: {name: nairobi-1}",
            expect: [
                "fleet.yaml:24:12: error: spec.links[0].to: expected the name of a Site, found \"kigali-1\"",
                "fleet.yaml:28:18: error: metadata.name: expected a Site name not used before (\"nairobi-1\" is at fleet.yaml:13:18), found \"nairobi-1\"",
            ]
        ),
        RuleCase(
            "duplicate-pool",
            replace: "{name: t4, accelerator",
            with: "{name: a100, accelerator",
            expect: [
                "fleet.yaml:22:14: error: spec.pools[1].name: expected a pool name not used before at this site (\"a100\" is at fleet.yaml:21:14), found \"a100\""
            ]
        ),
        RuleCase(
            "unknown-site-ref",
            replace: "site: nairobi-1",
            with: "site: nairobi-2",
            expect: [
                "fleet.yaml:41:26: error: spec.site: expected the name of a Site, found \"nairobi-2\"; did you mean \"nairobi-1\"?"
            ]
        ),
        RuleCase(
            "unknown-dataset-ref",
            replace: "datasets: [ke-health-records]",
            with: "datasets: [ke-health-record]",
            expect: [
                "fleet.yaml:49:14: error: spec.datasets[0]: expected the name of a Dataset, found \"ke-health-record\"; did you mean \"ke-health-records\"?"
            ]
        ),
        RuleCase(
            "unknown-accelerator",
            replace: "accelerator: nvidia-l4",
            with: "accelerator: nvidia-l5",
            expect: [
                "fleet.yaml:36:31: error: spec.pools[0].accelerator: expected an accelerator model from the catalog or an AcceleratorModel document, found \"nvidia-l5\"; did you mean \"nvidia-l4\"?"
            ]
        ),
        RuleCase(
            "unknown-link",
            replace: "to: kigali-1",
            with: "to: kigali-2",
            expect: [
                "fleet.yaml:24:12: error: spec.links[0].to: expected the name of a Site, found \"kigali-2\"; did you mean \"kigali-1\"?"
            ]
        ),
        RuleCase(
            "residency",
            replace: "residency: [KE]",
            with: "residency: [RW]",
            expect: [
                "fleet.yaml:41:26: error: spec.site: expected a site inside the dataset's residency [RW], found \"nairobi-1\" in KE"
            ]
        ),
        RuleCase(
            "min-above-max",
            replace: "min: 4, max: 32",
            with: "min: 40, max: 32",
            expect: [
                "fleet.yaml:51:23: error: spec.accelerators.min: expected at most max (32), found \"40\""
            ]
        ),
        RuleCase(
            "scaling-out-of-range",
            replace: "min: 4, max: 32",
            with: "min: 4, max: 32, scaling: 0.3",
            expect: [
                "fleet.yaml:51:44: error: spec.accelerators.scaling: expected a scaling efficiency per doubling of accelerators in 0.5...1, found \"0.3\""
            ]
        ),
        RuleCase(
            "deadline-before-arrival",
            replace: "deadline: 2026-03-06T00:00:00Z",
            with: "deadline: 2026-03-02T05:00:00Z",
            expect: [
                "fleet.yaml:53:13: error: spec.deadline: expected a deadline after arrival 2026-03-02T06:00:00Z, found 2026-03-02T05:00:00Z"
            ]
        ),
        RuleCase(
            "no-pool-fits-training",
            replace: "parameters: 7B",
            with: "parameters: 700B",
            expect: [
                "fleet.yaml:48:23: error: spec.model.parameters: expected a workload some pool can hold (the most any pool offers it is 2.56 TB on 32 × nvidia-a100-80gb at nairobi-1), found 700B parameters needing 11.2 TB (16 bytes/parameter for training state)"
            ]
        ),
        RuleCase(
            "no-pool-fits-inference",
            replace: "parameters: 70B",
            with: "parameters: 10T",
            expect: [
                "fleet.yaml:60:23: error: spec.model.parameters: expected a workload some pool can hold (the most any pool offers it is 5.12 TB on 64 × nvidia-a100-80gb at nairobi-1), found 10T parameters needing 6 TB (int4 weights plus KV cache)"
            ]
        ),
        RuleCase(
            "group-cycle",
            replace: "spec: {members: [KE, UG, TZ, RW]}",
            with:
                "spec: {members: [KE, UG, TZ, RW, EAX]}\n---\napiVersion: sovereign.dev/v1\nkind: JurisdictionGroup\nmetadata: {name: EAX}\nspec: {members: [EAC]}",
            expect: [
                "fleet.yaml:9:17: error: spec.members: expected groups that do not contain themselves, found EAC → EAX → EAC"
            ]
        ),
        RuleCase(
            "empty-group",
            replace: "spec: {members: [KE, UG, TZ, RW]}",
            with: "spec: {members: []}",
            expect: [
                "fleet.yaml:9:17: error: spec.members: expected at least one member, found none"
            ]
        ),
        RuleCase(
            "group-unknown-member",
            replace: "spec: {members: [KE, UG, TZ, RW]}",
            with: "spec: {members: [KE, UG, TZ, RW, ZZ]}",
            expect: [
                "fleet.yaml:9:34: error: spec.members[4]: expected an ISO 3166-1 alpha-2 code or the name of a JurisdictionGroup, found \"ZZ\""
            ]
        ),
        RuleCase(
            "group-named-like-country",
            replace: "metadata: {name: EAC}",
            with: "metadata: {name: KE}",
            expect: [
                "fleet.yaml:8:18: error: metadata.name: expected a group name that is not an ISO 3166-1 country code, found \"KE\"",
                "fleet.yaml:63:16: error: spec.servedFrom[0]: expected an ISO 3166-1 alpha-2 code like \"KE\" or a declared JurisdictionGroup, found \"EAC\"",
                "fleet.yaml:68:70: error: spec.updatesMayCross[0]: expected an ISO 3166-1 alpha-2 code like \"KE\" or a declared JurisdictionGroup, found \"EAC\"",
            ]
        ),
        RuleCase(
            "per-node",
            replace: "count: 48, perNode: 4",
            with: "count: 48, perNode: 5",
            expect: [
                "fleet.yaml:22:49: error: spec.pools[1].count: expected a multiple of perNode (5), found \"48\""
            ]
        ),
        RuleCase(
            "classification",
            replace: "classification: personal",
            with: "classification: secret",
            expect: [
                "fleet.yaml:41:70: error: spec.classification: expected one of public, internal, personal, sensitive, found \"secret\""
            ]
        ),
        RuleCase(
            "workload-type",
            replace: "type: fine-tuning",
            with: "type: finetuning",
            expect: [
                "fleet.yaml:47:9: error: spec.type: expected one of training, fine-tuning, batch-inference, inference, federated, found \"finetuning\""
            ]
        ),
        RuleCase(
            "compute-two",
            replace: "compute: {tokens: 2B}",
            with: "compute: {tokens: 2B, flops: 1e20}",
            expect: [
                "fleet.yaml:50:12: error: spec.compute: expected exactly one of tokens, flops or acceleratorHours, found tokens and flops"
            ]
        ),
        RuleCase(
            "compute-missing",
            replace: "  compute: {tokens: 2B}\n",
            with: "",
            expect: [
                "fleet.yaml:47:3: error: spec.compute: expected the compute it needs: {tokens}, {flops} or {acceleratorHours, on}, found nothing"
            ]
        ),
        RuleCase(
            "precision-on-training",
            replace: "  accelerators: {min: 4, max: 32}\n",
            with: "  accelerators: {min: 4, max: 32}\n  precision: [int8]\n",
            expect: [
                "fleet.yaml:52:14: error: spec.precision: expected precision only on inference workloads, found it on a fine-tuning workload"
            ]
        ),
        RuleCase(
            "bad-time",
            replace: "arrival: 2026-03-02T06:00:00Z",
            with: "arrival: 2026-03-32T06:00:00Z",
            expect: [
                "fleet.yaml:52:12: error: spec.arrival: expected a time in ISO 8601 UTC like \"2026-03-02T06:00:00Z\", found \"2026-03-32T06:00:00Z\""
            ]
        ),
        RuleCase(
            "no-power",
            replace: "grid: {capacity: 600 kW}",
            with: "battery: {capacity: 100 kWh, power: 50 kW}",
            expect: [
                "fleet.yaml:33:5: error: spec.power: expected a grid or solar supply (or both), found neither"
            ]
        ),
        RuleCase(
            "not-a-mapping",
            replace: "operator: {name: Konza, jurisdiction: KE}",
            with: "operator: Konza",
            expect: [
                "fleet.yaml:16:13: error: spec.operator: expected a mapping of operator fields, found \"Konza\""
            ]
        ),
        RuleCase(
            "pue",
            replace: "pue: {base: 1.35}",
            with: "pue: {base: 0.9}",
            expect: [
                "fleet.yaml:19:79: error: spec.cooling.pue.base: expected a PUE in 1...5, like 1.35, found \"0.9\""
            ]
        ),
        RuleCase(
            "two-scenarios",
            replace: "kind: Scenario\nmetadata: {name: week}",
            with:
                "kind: Scenario\nmetadata: {name: week}\nspec: {start: 2026-03-02T00:00:00Z, horizon: 7 d, step: 1 h}\n---\napiVersion: sovereign.dev/v1\nkind: Scenario\nmetadata: {name: week2}",
            expect: [
                "fleet.yaml:8:18: error: metadata.name: expected one Scenario per fleet (the first is \"week\" at fleet.yaml:3:18), found another, \"week2\""
            ]
        ),
        RuleCase(
            "link-to-self",
            replace: "to: kigali-1",
            with: "to: nairobi-1",
            expect: [
                "fleet.yaml:24:12: error: spec.links[0].to: expected a link to another site, found a link to itself"
            ]
        ),
        RuleCase(
            "bad-name",
            replace: "metadata: {name: finetune}",
            with: "metadata: {name: Fine_Tune}",
            expect: [
                "fleet.yaml:45:18: error: metadata.name: expected a lowercase name (letters, digits, '-', '.'), found \"Fine_Tune\""
            ]
        ),
        RuleCase(
            "duplicate-key",
            replace: "  jurisdiction: KE\n",
            with: "  jurisdiction: KE\n  jurisdiction: UG\n",
            expect: [
                "fleet.yaml:15:3: error: expected each field once per mapping, found repeated \"jurisdiction\""
            ]
        ),
        RuleCase(
            "min-above-largest-pool",
            replace: "min: 4, max: 32",
            with: "min: 80, max: 96",
            expect: [
                "fleet.yaml:51:23: error: spec.accelerators.min: expected at most as many accelerators as the largest pool holds (64 × nvidia-a100-80gb at nairobi-1), found \"80\""
            ]
        ),
        RuleCase(
            "duplicate-dataset-in-workload",
            replace: "datasets: [ke-health-records]",
            with: "datasets: [ke-health-records, ke-health-records]",
            expect: [
                "fleet.yaml:49:33: error: spec.datasets[1]: expected each dataset once (\"ke-health-records\" is at fleet.yaml:49:14), found \"ke-health-records\""
            ]
        ),
        RuleCase(
            "compute-on-inference",
            replace: "  servedFrom: [EAC]\n",
            with: "  servedFrom: [EAC]\n  compute: {tokens: 1B}\n",
            expect: [
                "fleet.yaml:64:12: error: spec.compute: expected no compute on an inference service (it runs for as long as it is placed), found compute on an inference workload"
            ]
        ),
        // Found by the fuzzer's campaign (Fuzz/crashes): each of these once trapped or exhausted memory.
        RuleCase(
            "horizon-overflows",
            replace: "horizon: 7 d, step: 1 h",
            with: "horizon: 1e308 d, step: 1e308 d",
            expect: [
                "fleet.yaml:4:46: error: spec.horizon: expected a duration like \"30 min\", found \"1e308 d\"",
                "fleet.yaml:4:61: error: spec.step: expected a duration like \"30 min\", found \"1e308 d\"",
            ]
        ),
        RuleCase(
            "horizon-too-long",
            replace: "horizon: 7 d, step: 1 h",
            with: "horizon: 1e20 s, step: 1e15 s",
            expect: ["fleet.yaml:4:46: error: spec.horizon: expected a horizon of at most 36525 d, found \"1e20 s\""]
        ),
        RuleCase(
            "step-too-short",
            replace: "horizon: 7 d, step: 1 h",
            with: "horizon: 7 d, step: 0.5 s",
            expect: ["fleet.yaml:4:57: error: spec.step: expected a step of at least 1 s, found \"0.5 s\""]
        ),
        RuleCase(
            "too-many-steps",
            replace: "horizon: 7 d, step: 1 h",
            with: "horizon: 36500 d, step: 1 min",
            expect: [
                "fleet.yaml:4:61: error: spec.step: expected at most 10,000,000 steps over the horizon (36500 d), found \"1 min\""
            ]
        ),
    ]

    @Test func baseFleetIsValid() throws {
        let fleet = try Fixtures.load(Fixtures.constantFleet)
        #expect(fleet.summary.description == "2 sites, 3 pools (144 accelerators), 1 dataset, 2 workloads, 1 policy")
        #expect(fleet.group(named: "EAC")?.countries == ["KE", "UG", "TZ", "RW"])
        #expect(fleet.dataset(named: "ke-health-records")?.mayBeProcessed(in: "KE") == true)
        #expect(fleet.dataset(named: "ke-health-records")?.mayBeProcessed(in: "RW") == false)
        // The grid's carbon intensity falls back to the country's annual figure when the spec gives none.
        let kigali = try #require(fleet.site(named: "kigali-1"))
        #expect(kigali.power.grid?.carbonIntensity.value(at: 0).gramsPerKilowattHour == 316.327)
        #expect(kigali.operator.isDomestic(to: "RW") == false)
    }

    /// A near-miss names the declared name it most likely meant; a far miss suggests nothing.
    @Test(arguments: [
        ("nvidia-v100-32gb", "nvidia-v100-sxm2-32gb"), ("nvidia-a100-80g", "nvidia-a100-80gb"),
        ("nvidia-t4", nil), ("quantum-9000", nil),
    ])
    func aNearMissSuggestsTheNameItMeant(_ written: String, _ meant: String?) throws {
        let target = "{name: t4, accelerator: nvidia-t4"
        let broken = Fixtures.constantFleet.replacingOnce(target, with: "{name: t4, accelerator: \(written)")
        let result = Result { try Fixtures.load(broken) }
        if written == "nvidia-t4" {
            #expect(throws: Never.self) { try result.get() }
            return
        }
        let error = try #require(throws: SpecError.self) { try result.get() }
        let found = try #require(error.diagnostics.first { $0.path == "spec.pools[1].accelerator" }?.found)
        if let meant {
            #expect(found == "\"\(written)\"; did you mean \"\(meant)\"?")
        } else {
            #expect(found == "\"\(written)\"")
        }
    }

    /// An invalid group declaration is reported once, where it is, not again at every use of its name.
    @Test func anInvalidGroupDoesNotCascade() throws {
        let broken = Fixtures.constantFleet.replacingOccurrences(of: "EAC", with: "eac")
        let error = try #require(throws: SpecError.self) { try Fixtures.load(broken) }
        #expect(error.diagnostics.map(\.path) == ["metadata.name"], "\(error.diagnostics.map(\.description))")
    }

    @Test(arguments: cases)
    func rule(_ rule: RuleCase) {
        let broken = Fixtures.constantFleet.replacingOnce(rule.target, with: rule.replacement)
        #expect(Fixtures.diagnostics(broken) == rule.expected)
    }

    /// A fleet whose sites × steps would need more memory than planning may take is refused at its scenario,
    /// before any trace is resampled onto the grid; one fewer site fits.
    @Test func tooManySiteStepsAreRefusedAtTheScenario() {
        func fleet(extraSites: Int) -> String {
            let site = """
                ---
                apiVersion: sovereign.dev/v1
                kind: Site
                metadata: {name: extra-NAME}
                spec:
                  jurisdiction: RW
                  operator: {name: Example Cloud, jurisdiction: RW}
                  power: {grid: {capacity: 600 kW}}
                  cooling: {capacity: 500 kW, ambient: 24 C, pue: {base: 1.5}}
                  pools: [{name: l4, accelerator: nvidia-l4, count: 8, perNode: 8}]

                """
            return Fixtures.constantFleet.replacingOnce("horizon: 7 d, step: 1 h", with: "horizon: 365 d, step: 5 s")
                + "\n" + (1...extraSites).map { site.replacingOccurrences(of: "NAME", with: "\($0)") }.joined()
        }
        #expect(
            Fixtures.diagnostics(fleet(extraSites: 6)) == [
                "fleet.yaml:3:18: error: metadata.name: expected at most 50,000,000 site-steps (sites × steps; each holds about 200 bytes while planning): a longer step, a shorter horizon or fewer sites, found 8 sites × 6307200 steps = 50457600"
            ]
        )
        #expect(Fixtures.diagnostics(fleet(extraSites: 5)) == [])
    }

    @Test func everyRuleIsCovered() {
        // Each rule the decoder can report appears in at least one case here or in the trace tests.
        let names = Set(Self.cases.map(\.name))
        #expect(names.count == Self.cases.count)
        var rules = Set<Diagnostic.Rule>()
        for rule in Self.cases {
            let broken = Fixtures.constantFleet.replacingOnce(rule.target, with: rule.replacement)
            if case .failure(let error as SpecError) = Result(catching: { try Fixtures.load(broken) }) {
                rules.formUnion(error.diagnostics.map(\.rule))
            }
        }
        let coveredElsewhere: Set<Diagnostic.Rule> = [.trace, .noScenario, .unreadableFile]
        #expect(Set(Diagnostic.Rule.allCases).subtracting(rules).subtracting(coveredElsewhere) == [])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let broken = Fixtures.constantFleet
            .replacingOnce("capacity: 1.2 MW", with: "capacity: lots")
            .replacingOnce("jurisdiction: RW", with: "jurisdiction: XX")
            .replacingOnce("min: 4, max: 32", with: "min: 40, max: 32")
            .replacingOnce("servedFrom: [EAC]", with: "servedFrom: [EAX]")
        #expect(Fixtures.diagnostics(broken).count == 4)
    }
}
