public import Foundation
import SovereignBase
public import SovereignModel

/// Paths and specs that several test targets share.
public enum Fixtures: Sendable {
    /// The repository's root directory, found from this source file's place in it.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SovereignTesting
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()

    /// `Tests/SovereignModelTests/Fixtures/<name>`.
    public static func path(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/SovereignModelTests/Fixtures/\(name)").path
    }

    /// `Examples/<name>`.
    public static func example(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("Examples/\(name)").path
    }

    /// A complete fleet with constants only (no trace files), for rule tests that mutate one line.
    /// A Kenyan Site document whose grid availability names a trace file: what a hostile submission sends
    /// to make a server read a file of its own (the document ends with `---`, ready for another).
    public static func siteNamingTrace(_ path: String) -> String {
        """
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: probe-1}
        spec:
          jurisdiction: KE
          operator: {name: op, jurisdiction: KE}
          power:
            grid: {capacity: 1 MW, availability: {file: \(path), column: level}}
          cooling: {capacity: 1 MW, ambient: 20 C, pue: {base: 1.2}}
          pools:
            - {name: gpu, accelerator: nvidia-a100-80gb, count: 8}
        ---

        """
    }

    public static let constantFleet = """
        apiVersion: sovereign.dev/v1
        kind: Scenario
        metadata: {name: week}
        spec: {start: 2026-03-02T00:00:00Z, horizon: 7 d, step: 1 h}
        ---
        apiVersion: sovereign.dev/v1
        kind: JurisdictionGroup
        metadata: {name: EAC}
        spec: {members: [KE, UG, TZ, RW]}
        ---
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: nairobi-1}
        spec:
          jurisdiction: KE
          operator: {name: Konza, jurisdiction: KE}
          power:
            grid: {capacity: 1.2 MW, availability: 0.95, carbonIntensity: 88 g/kWh}
          cooling: {capacity: 900 kW, designAmbient: 32 C, ambient: 24 C, pue: {base: 1.35}}
          pools:
            - {name: a100, accelerator: nvidia-a100-80gb, count: 64, perNode: 8}
            - {name: t4, accelerator: nvidia-t4, count: 48, perNode: 4}
          links:
            - {to: kigali-1, bandwidth: 10 Gbps}
        ---
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: kigali-1}
        spec:
          jurisdiction: RW
          operator: {name: Example Cloud, jurisdiction: RW, parentJurisdiction: US}
          power:
            grid: {capacity: 600 kW}
          cooling: {capacity: 500 kW, ambient: 24 C, pue: {base: 1.5}}
          pools:
            - {name: l4, accelerator: nvidia-l4, count: 32, perNode: 8}
        ---
        apiVersion: sovereign.dev/v1
        kind: Dataset
        metadata: {name: ke-health-records}
        spec: {size: 2 TB, site: nairobi-1, residency: [KE], classification: personal}
        ---
        apiVersion: sovereign.dev/v1
        kind: Workload
        metadata: {name: finetune}
        spec:
          type: fine-tuning
          model: {parameters: 7B}
          datasets: [ke-health-records]
          compute: {tokens: 2B}
          accelerators: {min: 4, max: 32}
          arrival: 2026-03-02T06:00:00Z
          deadline: 2026-03-06T00:00:00Z
        ---
        apiVersion: sovereign.dev/v1
        kind: Workload
        metadata: {name: assistant}
        spec:
          type: inference
          model: {parameters: 70B}
          precision: [fp16, int8, int4]
          demand: {tokensPerSecond: 1500}
          servedFrom: [EAC]
        ---
        apiVersion: sovereign.dev/v1
        kind: Policy
        metadata: {name: national-rules}
        spec: {domesticOperatorFor: [personal, sensitive], updatesMayCross: [EAC]}

        """

    /// Sites named as in the recorded kube-scheduler bodies (`sovereign.dev/site: a` and `b`: Kenya with a
    /// domestic operator, Rwanda with a US-owned one), a site mapped by Kubernetes region and zones, a
    /// personal Kenyan dataset, two declared workloads and a domestic-operator policy: the extender's tests
    /// and fuzz target.
    public static let kubernetesFleet = """
        apiVersion: sovereign.dev/v1
        kind: Scenario
        metadata: {name: day}
        spec: {start: 2026-11-22T00:00:00Z, horizon: 1 d, step: 1 h}
        ---
        apiVersion: sovereign.dev/v1
        kind: JurisdictionGroup
        metadata: {name: EAC}
        spec: {members: [KE, UG, TZ, RW]}
        ---
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: a}
        spec:
          jurisdiction: KE
          operator: {name: Konza, jurisdiction: KE}
          power:
            grid: {capacity: 1.2 MW, carbonIntensity: 88 g/kWh}
          cooling: {capacity: 900 kW, ambient: 24 C, pue: {base: 1.35}}
          pools:
            - {name: h100, accelerator: nvidia-h100-sxm, count: 16, perNode: 8}
        ---
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: b}
        spec:
          jurisdiction: RW
          operator: {name: Example Cloud, jurisdiction: RW, parentJurisdiction: US}
          power:
            grid: {capacity: 600 kW, carbonIntensity: 400 g/kWh}
          cooling: {capacity: 500 kW, ambient: 24 C, pue: {base: 1.6}}
          pools:
            - {name: l4, accelerator: nvidia-l4, count: 32, perNode: 8}
        ---
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: c}
        spec:
          jurisdiction: UG
          operator: {name: Kampala DC, jurisdiction: UG}
          kubernetes: {region: ug-central, zones: [ug-central-1a, ug-central-1b]}
          power:
            grid: {capacity: 800 kW, carbonIntensity: 50 g/kWh}
          cooling: {capacity: 700 kW, ambient: 24 C, pue: {base: 1.3}}
          pools:
            - {name: a100, accelerator: nvidia-a100-80gb, count: 16, perNode: 8, kubernetes: {zone: ug-central-1a}}
            - {name: t4, accelerator: nvidia-t4, count: 16, perNode: 4, kubernetes: {zone: ug-central-1b}}
        ---
        apiVersion: sovereign.dev/v1
        kind: Dataset
        metadata: {name: ke-health-records}
        spec: {size: 2 TB, site: a, residency: [KE], classification: personal}
        ---
        apiVersion: sovereign.dev/v1
        kind: Dataset
        metadata: {name: eac-open-text}
        spec: {size: 1 TB, site: c, residency: [EAC], classification: public}
        ---
        apiVersion: sovereign.dev/v1
        kind: Workload
        metadata: {name: finetune}
        spec:
          type: fine-tuning
          model: {parameters: 7B}
          datasets: [ke-health-records]
          compute: {tokens: 2B}
          accelerators: {min: 8, max: 16}
        ---
        apiVersion: sovereign.dev/v1
        kind: Workload
        metadata: {name: giant}
        spec:
          type: training
          model: {parameters: 60B}
          compute: {tokens: 2B}
        ---
        apiVersion: sovereign.dev/v1
        kind: Policy
        metadata: {name: national-rules}
        spec: {domesticOperatorFor: [personal, sensitive], updatesMayCross: [EAC]}

        """

    /// One site whose grid is out from 02:00 to 08:00 (steps 8–31 of a day at 15 minutes) under a
    /// fine-tuning job that checkpoints every `checkpointEvery`: the planner must pause around the outage.
    public static func outageFleet(
        in dir: URL,
        forecastError: Double = 0,
        checkpointEvery: String = "30 min"
    ) throws
        -> Fleet
    {
        var csv = "time,available\n"
        for t in 0...100 {
            let value = (t >= 8 && t < 32) ? 0.0 : 1.0
            csv += "\(ISO8601.format(epochSeconds: 1_772_409_600 + Double(t) * 900)),\(value)\n"
        }
        try csv.write(to: dir.appendingPathComponent("grid.csv"), atomically: true, encoding: .utf8)
        let yaml = """
            apiVersion: sovereign.dev/v1
            kind: Scenario
            metadata: {name: day}
            spec: {start: 2026-03-02T00:00:00Z, horizon: 1 d, step: 15 min, forecastError: \(forecastError)}
            ---
            apiVersion: sovereign.dev/v1
            kind: Site
            metadata: {name: s}
            spec:
              jurisdiction: KE
              operator: {name: Op, jurisdiction: KE}
              power: {grid: {capacity: 12 kW, availability: {file: grid.csv, column: available}}}
              cooling: {capacity: 100 kW, ambient: 20 C, pue: {base: 1.2}}
              pools: [{name: a100, accelerator: nvidia-a100-80gb, count: 32}]
            ---
            apiVersion: sovereign.dev/v1
            kind: Workload
            metadata: {name: job}
            spec:
              type: fine-tuning
              model: {parameters: 1B}
              compute: {tokens: 30B}
              accelerators: {max: 32}
              checkpoint: {every: \(checkpointEvery)}

            """
        try yaml.write(to: dir.appendingPathComponent("fleet.yaml"), atomically: true, encoding: .utf8)
        return try FleetLoader().load(paths: [dir.appendingPathComponent("fleet.yaml").path])
    }

    /// Loads YAML text as one spec file named `fleet.yaml`.
    public static func load(_ yaml: String, file: String = "fleet.yaml") throws -> Fleet {
        try FleetLoader().load(sources: [(file: file, text: yaml)])
    }

    /// The diagnostics loading `yaml` produces, as printed lines (empty when it loads).
    public static func diagnostics(_ yaml: String, file: String = "fleet.yaml") -> [String] {
        do {
            _ = try load(yaml, file: file)
            return []
        } catch let error as SpecError {
            return error.diagnostics.map(\.description)
        } catch {
            return ["unexpected error: \(error)"]
        }
    }

    /// A fresh temporary directory, removed by the caller with `FileManager.removeItem`.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sovereign-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension String {
    /// The text with exactly one occurrence of `target` replaced; traps if `target` is missing, so a test
    /// whose mutation no longer applies fails loudly instead of testing nothing.
    public func replacingOnce(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { preconditionFailure("fixture does not contain \(target)") }
        return replacingCharacters(in: range, with: replacement)
    }
}
