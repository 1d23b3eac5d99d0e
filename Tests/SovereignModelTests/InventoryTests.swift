import Foundation
import SovereignModel
import SovereignTesting
import Testing

/// The inventory facts the sovereignty assessment reads: software, models, keys and export controls.
struct InventoryTests {
    static let base = Fixtures.constantFleet

    static let inventory = """
        ---
        apiVersion: sovereign.dev/v1
        kind: SoftwareComponent
        metadata: {name: cuda}
        spec:
          role: runtime
          licence: proprietary
          origin: US
          updates: {by: NVIDIA, jurisdiction: US}
          sites: [nairobi-1]
        ---
        apiVersion: sovereign.dev/v1
        kind: SoftwareComponent
        metadata: {name: kubernetes}
        spec: {role: orchestrator, licence: Apache-2.0}
        ---
        apiVersion: sovereign.dev/v1
        kind: Model
        metadata: {name: llama-8b}
        spec:
          parameters: 8B
          licence: llama3.1
          weights: open
          publisher: {name: Meta, jurisdiction: US}
          trainedIn: US
          externalData: [US]
        ---
        apiVersion: sovereign.dev/v1
        kind: AcceleratorModel
        metadata: {name: lab-gpu}
        spec: {vendor: Lab, memory: 48 GB, tflops: 150, bandwidth: 768 GB/s, power: 300 W, origin: US, exportControl: {jurisdiction: US, classification: EAR ECCN 3A090.a}}

        """

    func load(_ text: String) throws -> Fleet {
        try FleetLoader().load(sources: [(file: "fleet.yaml", text: text)])
    }

    func diagnostics(_ text: String) -> [String] {
        do {
            _ = try load(text)
            return []
        } catch let error as SpecError {
            return error.diagnostics.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func inventoryDecodesWithUnknownsLeftUnknown() throws {
        let fleet = try load(Self.base + Self.inventory)
        #expect(fleet.software.map(\.name) == ["cuda", "kubernetes"])
        let cuda = try #require(fleet.software.first)
        #expect(cuda.role == .runtime)
        #expect(cuda.updatesFrom == "US")
        #expect(cuda.runs(at: "nairobi-1"))
        #expect(!cuda.runs(at: "kigali-1"))
        #expect(!cuda.isOpenSource)
        let kubernetes = fleet.software[1]
        #expect(kubernetes.origin == nil)
        #expect(kubernetes.updatesFrom == nil)
        #expect(kubernetes.isOpenSource)
        #expect(kubernetes.runs(at: "kigali-1"))
        let model = try #require(fleet.model(named: "llama-8b"))
        #expect(model.weights == .open)
        #expect(model.origin == "US")
        #expect(model.externalDataFrom == ["US"])
        #expect(
            fleet.catalog["lab-gpu"]?.exportControl
                == .controlled(jurisdiction: "US", classification: "EAR ECCN 3A090.a")
        )
        #expect(
            fleet.catalog["nvidia-a100-80gb"]?.exportControl
                == .controlled(jurisdiction: "US", classification: "EAR ECCN 3A090.a")
        )
        #expect(fleet.catalog["nvidia-t4"]?.exportControl == .unlisted)
        #expect(fleet.datasets.allSatisfy { $0.keysHeldIn == nil })
    }

    @Test func workloadsNameTheirModelAndSoftware() throws {
        let text = (Self.base + Self.inventory)
            .replacingOccurrences(
                of: "model: {parameters: 7B}",
                with: "model: {name: llama-8b, parameters: 8B}\n  software: [cuda]"
            )
        let fleet = try load(text)
        let named = fleet.workloads.filter { $0.modelName == "llama-8b" }
        #expect(!named.isEmpty)
        #expect(named.allSatisfy { $0.software == ["cuda"] })
    }

    @Test func everyBrokenReferenceAndFieldIsReportedAtOnceWhereItIs() throws {
        let text =
            Self.base.replacingOccurrences(
                of: "classification: personal}",
                with: "classification: personal, keys: {jurisdiction: Kenya}}"
            )
                + """
                ---
                apiVersion: sovereign.dev/v1
                kind: SoftwareComponent
                metadata: {name: driver}
                spec: {role: drivers, sites: [mombasa-1], colour: green}
                ---
                apiVersion: sovereign.dev/v1
                kind: Model
                metadata: {name: m}
                spec: {parameters: 7B, weights: shared, datasets: [no-such-data]}
                ---
                apiVersion: sovereign.dev/v1
                kind: AcceleratorModel
                metadata: {name: lab-gpu}
                spec: {vendor: Lab, memory: 48 GB, tflops: 150, bandwidth: 768 GB/s, power: 300 W, origin: US, exportControl: maybe}
                ---
                apiVersion: sovereign.dev/v1
                kind: Workload
                metadata: {name: w}
                spec: {type: fine-tuning, model: {name: nope, parameters: 1B}, software: [ghost], compute: {tokens: 1B}}

                """
        let found = diagnostics(text)
        let expected = [
            "keys.jurisdiction: expected an ISO 3166-1 alpha-2 country code like \"KE\", found \"Kenya\"",
            "spec.role: expected one of orchestrator, scheduler, framework, runtime, compiler, library, driver, firmware, operating-system, monitoring, storage, network, other, found \"drivers\"",
            "spec.colour: expected a field of SoftwareComponent (role, licence, origin, updates, sites), found unknown field \"colour\"",
            "spec.sites[0]: expected the name of a Site, found \"mombasa-1\"",
            "spec.weights: expected one of open, closed, found \"shared\"",
            "spec.datasets[0]: expected the name of a Dataset, found \"no-such-data\"",
            "spec.exportControl: expected none or {jurisdiction, classification}, found \"maybe\"",
            "spec.model.name: expected the name of a Model, found \"nope\"",
            "spec.software[0]: expected the name of a SoftwareComponent, found \"ghost\"",
        ]
        for message in expected {
            #expect(
                found.contains { $0.hasPrefix("fleet.yaml:") && $0.contains(": error: ") && $0.hasSuffix(message) },
                "\(message) not in \(found)"
            )
        }
        #expect(found.count == expected.count, "\(found)")
    }

    @Test func aNamedModelsParameterCountMustAgreeWithTheWorkloads() throws {
        let text = (Self.base + Self.inventory)
            .replacingOccurrences(of: "model: {parameters: 7B}", with: "model: {name: llama-8b, parameters: 7B}")
        let found = diagnostics(text)
        #expect(!found.isEmpty)
        #expect(
            found.allSatisfy {
                $0.contains(
                    "spec.model.parameters: expected the parameter count of Model \"llama-8b\" (8B, at fleet.yaml:"
                ) && $0.hasSuffix("found 7B")
            },
            "\(found)"
        )
    }
}
