import Foundation
import SovereignModel
import SovereignTesting
import Testing

/// A submission decoded against the declarations kept from the fleet's documents
/// (``FleetLoader/decodeSubmission(_:against:)``) gives what decoding the fleet's documents and the submission
/// together gives: the same workloads when it is valid, the same diagnostics (where, what was expected, what was
/// found) when it is not.
struct SubmissionDecodeTests {
    /// The East-African example's spec files, named by their paths so that their traces resolve.
    static let sources = Result {
        try FleetLoader.specFiles(in: [Fixtures.repositoryRoot.appendingPathComponent("Examples/east-africa").path])
            .map { (file: $0, text: try String(contentsOfFile: $0, encoding: .utf8)) }
    }
    static let declared = Result { try FleetLoader().loadDeclared(sources: try sources.get()).declared }

    /// What the kept declarations give for `document`: the workloads, or the diagnostics.
    static func kept(_ document: String) throws -> [Workload] {
        try FleetLoader.decodeSubmission((file: "request body", text: document), against: try declared.get())
    }

    /// What decoding the fleet's documents and `document` together gives: the workloads the fleet did not declare.
    static func full(_ document: String) throws -> [Workload] {
        let sources = try sources.get()
        let own = Set(try FleetLoader().load(sources: sources).workloads.map(\.name))
        let submission = (file: "request body", text: document)
        return try FleetLoader().load(sources: sources, submission: submission, kinds: [.Workload]).workloads
            .filter { !own.contains($0.name) }
    }

    static func workload(_ name: String, _ spec: String) -> String {
        """
        apiVersion: sovereign.dev/v1
        kind: Workload
        metadata: {name: \(name), labels: {team: bench}}
        spec:
        \(spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    static let training = workload(
        "bench-1",
        """
        type: fine-tuning
        model: {parameters: 100M}
        datasets: [tz-government-correspondence]
        compute: {flops: 1e18}
        accelerators: {min: 8, max: 8}
        priority: 10
        run: {command: ["true"], gracePeriod: 20 s, attempts: 3}
        """
    )

    static let valid: [String] = [
        training,
        workload(
            "maternal-health-again",
            """
            type: federated
            model: {name: eac-maternal-health-1b, parameters: 1.1B}
            datasets: [ke-clinical-notes, ug-clinical-notes, tz-clinical-notes]
            compute: {tokens: 3.6B}
            accelerators: {min: 4, max: 16}
            checkpoint: {every: 1 h}
            deadline: 2026-03-08T00:00:00Z
            federation: {coordinator: nairobi-1, rounds: 100, minSites: 2, roundTimeout: 1 h}
            """
        ),
        workload(
            "embeddings-on-a6000",
            """
            type: batch-inference
            model: {name: multilingual-e5-base, parameters: 278M}
            datasets: [eac-swahili-web-corpus]
            software: [kiswahili-text-pipeline]
            precision: [fp32, bf16]
            compute: {acceleratorHours: 12, on: nvidia-rtx-a6000}
            accelerators: {max: 16}
            """
        ),
        workload(
            "advisor-service",
            """
            type: inference
            model: {parameters: 8B}
            precision: [int8]
            demand: {tokensPerSecond: 500}
            servedFrom: [EAC, KE]
            accelerators: {max: 8}
            """
        ),
        training + "\n---\n" + training.replacingOccurrences(of: "name: bench-1", with: "name: bench-2"),
    ]

    @Test(arguments: valid) func aValidSubmissionDecodesToWhatTheFullDecodeGives(document: String) throws {
        let kept = try Self.kept(document)
        #expect(!kept.isEmpty)
        #expect(kept == (try Self.full(document)))
    }

    /// Every refusal, with its diagnostics as the full decode gives them: one or two cases per cross-document check,
    /// and the checks a document makes alone.
    static let refused: [(document: String, expected: [String])] = [
        (
            training.replacingOccurrences(of: "[tz-government-correspondence]", with: "[tz-goverment-correspondence]"),
            [
                #"request body:7:14: error: spec.datasets[0]: expected the name of a Dataset, found "tz-goverment-correspondence"; did you mean "tz-government-correspondence"?"#
            ]
        ),
        (
            training.replacingOccurrences(of: "name: bench-1", with: "name: swahili-lm-7b-pretrain"),
            [
                #"request body:3:18: error: metadata.name: expected a Workload name not used before ("swahili-lm-7b-pretrain" is at Examples/east-africa/workloads.yaml:11:9), found "swahili-lm-7b-pretrain""#
            ]
        ),
        (
            training + "\n---\n" + training,
            [
                #"request body:15:18: error: metadata.name: expected a Workload name not used before ("bench-1" is at request body:3:18), found "bench-1""#
            ]
        ),
        (
            workload(
                "advisor-service",
                """
                type: inference
                model: {parameters: 8B}
                demand: {tokensPerSecond: 500}
                servedFrom: [EAU, KE]
                """
            ),
            [
                #"request body:8:16: error: spec.servedFrom[0]: expected an ISO 3166-1 alpha-2 code like "KE" or a declared JurisdictionGroup, found "EAU""#
            ]
        ),
        (
            training.replacingOccurrences(of: "type: fine-tuning", with: "type: federated")
                .replacingOccurrences(
                    of: #"run: {command: ["true"], gracePeriod: 20 s, attempts: 3}"#,
                    with: "federation: {coordinator: nairobi-2, rounds: 3}"
                ),
            [
                #"request body:11:29: error: spec.federation.coordinator: expected the name of a Site, found "nairobi-2"; did you mean "nairobi-1"?"#
            ]
        ),
        (
            training.replacingOccurrences(
                of: "compute: {flops: 1e18}",
                with: "compute: {acceleratorHours: 5, on: nvidia-v100}"
            ),
            [
                #"request body:8:38: error: spec.compute.on: expected an accelerator model from the catalog or an AcceleratorModel document, found "nvidia-v100"; did you mean "nvidia-v100-sxm2-16gb"?"#
            ]
        ),
        (
            training.replacingOccurrences(of: "model: {parameters: 100M}", with: "model: {parameters: 2T}"),
            [
                "request body:6:23: error: spec.model.parameters: expected a workload some pool can hold (the most any pool offers it is 3.072 TB on 8 × cpu-x86-64 at nairobi-1), found 2T parameters needing 32 TB (16 bytes/parameter for training state)"
            ]
        ),
        (
            training.replacingOccurrences(of: "{min: 8, max: 8}", with: "{min: 5000, max: 5000}"),
            [
                #"request body:9:23: error: spec.accelerators.min: expected at most as many accelerators as the largest pool holds (256 × nvidia-a100-80gb at nairobi-1), found "5000""#
            ]
        ),
        (
            training.replacingOccurrences(of: "{parameters: 100M}", with: "{name: swahili-lm-8b, parameters: 8B}"),
            [
                #"request body:6:17: error: spec.model.name: expected the name of a Model, found "swahili-lm-8b"; did you mean "swahili-lm-7b"?"#
            ]
        ),
        (
            training.replacingOccurrences(of: "{parameters: 100M}", with: "{name: swahili-lm-7b, parameters: 8B}"),
            [
                #"request body:6:44: error: spec.model.parameters: expected the parameter count of Model "swahili-lm-7b" (7B, at Examples/east-africa/inventory.yaml:104:15), found 8B"#
            ]
        ),
        (
            training.replacingOccurrences(of: "priority: 10", with: "software: [pytorch, tensorflow]"),
            [
                #"request body:10:23: error: spec.software[1]: expected the name of a SoftwareComponent, found "tensorflow""#
            ]
        ),
        (
            training.replacingOccurrences(of: "[tz-government-correspondence]", with: "[nowhere]")
                .replacingOccurrences(of: "priority: 10", with: "colour: blue"),
            [
                #"request body:7:14: error: spec.datasets[0]: expected the name of a Dataset, found "nowhere""#,
                #"request body:10:3: error: spec.colour: expected a field of Workload (type, model, datasets, compute, accelerators, mfu, checkpoint, priority, arrival, deadline, preemptible, precision, demand, servedFrom, memory, run, federation, software), found unknown field "colour""#,
            ]
        ),
        (
            training.replacingOccurrences(of: "kind: Workload", with: "kind: Dataset"),
            [
                #"request body:2:7: error: kind: expected a Workload document (the fleet itself changes only in its spec files), found "Dataset""#
            ]
        ),
        (
            "{not yaml: [",
            [
                "request body:2:1: error: expected valid YAML, found did not find expected node content (while parsing a flow node at 2:1)"
            ]
        ),
    ]

    @Test(arguments: refused) func aRefusedSubmissionIsRefusedWithTheFullDecodesDiagnostics(
        document: String,
        expected: [String]
    ) throws {
        let error = try #require(throws: SpecError.self) { try Self.kept(document) }
        let full = try #require(throws: SpecError.self) { try Self.full(document) }
        #expect(error.diagnostics == full.diagnostics)
        // The fleet's files are named by their paths in this checkout.
        let root = Fixtures.repositoryRoot.path + "/"
        #expect(error.diagnostics.map { $0.description.replacingOccurrences(of: root, with: "") } == expected)
    }
}
