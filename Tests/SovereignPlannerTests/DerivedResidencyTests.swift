import Foundation
import SovereignModel
import SovereignPlanner
import SovereignTesting
import Testing

/// Derived (anonymised) datasets on random fleets: a raw dataset is never processed outside its residency,
/// while its derivative may be processed as far as the policy lets anonymised data go, and no further.
struct DerivedResidencyTests {
    /// A random fleet plus, for every dataset held in one country, an anonymised derivative that the policy
    /// lets be processed anywhere in the EAC, and a fine-tuning job on each raw dataset and each derivative.
    static func fleet(seed: UInt64, in directory: URL) throws -> Fleet {
        let base = try RandomFleet.make(seed: seed, in: directory)
        var yaml = try String(contentsOf: directory.appendingPathComponent("fleet.yaml"), encoding: .utf8)
        yaml += """
            ---
            apiVersion: sovereign.dev/v1
            kind: Policy
            metadata: {name: anonymised-rules}
            spec: {anonymised: {minK: 10, mayBeProcessedIn: [EAC]}}

            """
        for dataset in base.datasets where dataset.residency.count == 1 && dataset.residency != ["EAC"] {
            yaml += """
                ---
                apiVersion: sovereign.dev/v1
                kind: Dataset
                metadata: {name: \(dataset.name)-anon}
                spec:
                  size: 10 GB
                  site: \(dataset.site)
                  residency: [EAC]
                  classification: internal
                  derivedFrom:
                    dataset: \(dataset.name)
                    anonymise: {pseudonymise: [id], quasiIdentifiers: {age: numeric, district: categorical}, k: 10}
                ---
                apiVersion: sovereign.dev/v1
                kind: Workload
                metadata: {name: tune-\(dataset.name)-anon}
                spec: {type: fine-tuning, model: {parameters: 1B}, datasets: [\(dataset.name)-anon], compute: {tokens: 400M}, accelerators: {min: 1, max: 8}, priority: 60, checkpoint: {every: 30 min}}
                ---
                apiVersion: sovereign.dev/v1
                kind: Workload
                metadata: {name: tune-\(dataset.name)-raw}
                spec: {type: fine-tuning, model: {parameters: 1B}, datasets: [\(dataset.name)], compute: {tokens: 400M}, accelerators: {min: 1, max: 8}, priority: 60, checkpoint: {every: 30 min}}

                """
        }
        let path = directory.appendingPathComponent("derived.yaml")
        try yaml.write(to: path, atomically: true, encoding: .utf8)
        return try FleetLoader().load(paths: [path.path])
    }

    @Test(arguments: 0..<3)
    func rawDataStaysHomeWhileDerivedDataTravelsOnlyAsFarAsThePolicyAllows(block: UInt64) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var travelled = 0
        for seed in (block * 40)..<(block * 40 + 40) {
            let fleet = try Self.fleet(seed: seed, in: directory)
            let rule = try #require(fleet.policies.compactMap(\.anonymised).first)
            for policy in PlanningPolicy.all {
                let plan = try #require(Planner(policy: policy).plan(fleet))
                for (workload, placed) in zip(fleet.workloads, plan.workloads) {
                    for segment in placed.segments {
                        let country = fleet.sites[segment.reference.site].jurisdiction
                        for name in workload.datasets {
                            let dataset = try #require(fleet.dataset(named: name))
                            guard let derivation = dataset.derivedFrom else {
                                #expect(
                                    dataset.mayBeProcessed(in: country),
                                    "seed \(seed): \(workload.name) in \(country)"
                                )
                                continue
                            }
                            let source = try #require(fleet.dataset(named: derivation.source))
                            let allowed = source.residencyCountries.union(rule.countries)
                            #expect(allowed.contains(country), "seed \(seed): \(workload.name) in \(country)")
                            if !source.mayBeProcessed(in: country) { travelled += 1 }
                        }
                    }
                }
            }
        }
        // The derivatives did use their wider residency: a planner that held them to their source's would
        // place none of these segments.
        #expect(travelled > 0)
    }

    @Test func aDerivativeWhoseKIsBelowThePolicysMinimumMayNotTravel() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try Self.fleet(seed: 3, in: directory)
        let path = directory.appendingPathComponent("derived.yaml").path
        let yaml = try String(contentsOfFile: path, encoding: .utf8)
        try yaml.replacingOccurrences(of: "minK: 10", with: "minK: 25").write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        #expect(throws: SpecError.self) { try FleetLoader().load(paths: [path]) }
    }
}

extension DerivedResidencyTests {
    /// The East-African example: training on the anonymised clinical notes is placed outside Kenya, while
    /// every workload on the raw notes stays in Kenya.
    @Test func theExamplesTrainingOnAnonymisedNotesLeavesKenyaAndTheRawNotesNever() throws {
        let fleet = try FleetLoader().load(paths: [Fixtures.example("east-africa")])
        let plan = try #require(Planner(policy: .powerAware).plan(fleet))
        // Where a workload reads the raw notes: all its segments, or a federated workload's Kenyan participant's.
        let countries = { (name: String) -> Set<String> in
            let placed = plan.workloads.first { $0.name == name }
            let reading = (placed?.segments ?? []).filter { $0.participant.map { $0 == "ke-clinical-notes" } ?? true }
            return Set(reading.map { fleet.sites[$0.reference.site].jurisdiction })
        }
        #expect(!countries("eac-icd-coding-3b-train").isEmpty)
        #expect(!countries("eac-icd-coding-3b-train").contains("KE"))
        for workload in fleet.workloads where workload.datasets.contains("ke-clinical-notes") {
            #expect(countries(workload.name).isSubset(of: ["KE"]), "\(workload.name)")
        }
    }
}
