public import Foundation
public import SovereignModel

/// Seeded random fleets for property tests: a few sites in a few countries with grids that fail for
/// hours at a time, datasets with residency, and a mix of workloads.
public enum RandomFleet: Sendable {
    /// Writes a random fleet (specs and traces) into `directory` and loads it.
    public static func make(seed: UInt64, in directory: URL) throws -> Fleet {
        var rng = SplitMix64(seed: seed)
        var yaml = """
            apiVersion: sovereign.dev/v1
            kind: Scenario
            metadata: {name: day}
            spec: {start: 2026-03-02T00:00:00Z, horizon: 1 d, step: 15 min, seed: \(seed)}
            ---
            apiVersion: sovereign.dev/v1
            kind: JurisdictionGroup
            metadata: {name: EAC}
            spec: {members: [KE, RW, UG, TZ]}

            """
        let sites = try siteDocuments(&rng, into: &yaml, traces: directory)
        let datasetCount = Int.random(in: 1...4, using: &rng)
        for d in 0..<datasetCount { yaml += datasetDocument(d, sites: sites, &rng) }
        if Bool.random(using: &rng) {
            yaml += """
                ---
                apiVersion: sovereign.dev/v1
                kind: Policy
                metadata: {name: rules}
                spec: {domesticOperatorFor: [personal, sensitive]}

                """
        }
        for w in 0..<Int.random(in: 2...12, using: &rng) { yaml += workloadDocument(w, datasets: datasetCount, &rng) }
        let specPath = directory.appendingPathComponent("fleet.yaml")
        try yaml.write(to: specPath, atomically: true, encoding: .utf8)
        return try FleetLoader().load(paths: [specPath.path])
    }

    static let countries = ["KE", "RW", "UG", "TZ"]
    static let accelerators = [
        "nvidia-a100-80gb", "nvidia-t4", "nvidia-l4", "nvidia-h100-sxm", "nvidia-v100-sxm2-32gb",
    ]
    static let steps = 96  // one day at 15 minutes

    /// Two to five Site documents, each with a grid trace written beside the spec.
    private static func siteDocuments(
        _ rng: inout SplitMix64,
        into yaml: inout String,
        traces directory: URL
    ) throws -> [(name: String, country: String)] {
        var sites: [(name: String, country: String)] = []
        for s in 0..<Int.random(in: 2...5, using: &rng) {
            let name = "site-\(s)"
            let country = countries[Int.random(in: 0..<countries.count, using: &rng)]
            sites.append((name, country))
            try outageTrace(&rng).write(
                to: directory.appendingPathComponent("\(name).csv"),
                atomically: true,
                encoding: .utf8
            )
            yaml += siteDocument(s, name: name, country: country, sites: sites, &rng)
        }
        return sites
    }

    /// A grid that is out for a random stretch of hours: the shortfalls the planner must plan around.
    private static func outageTrace(_ rng: inout SplitMix64) -> String {
        var csv = "time,available\n"
        let outageStart = Int.random(in: 0..<steps, using: &rng)
        let outageLength = Int.random(in: 0...40, using: &rng)
        let outageLevel = Double(Int.random(in: 0...5, using: &rng)) / 10
        for t in 0...(steps + 4) {
            let seconds = 1_772_409_600 + t * 900
            let value = (t >= outageStart && t < outageStart + outageLength) ? outageLevel : 1.0
            csv += "\(ISO8601.format(epochSeconds: Double(seconds))),\(value)\n"
        }
        return csv
    }

    private static func siteDocument(
        _ s: Int,
        name: String,
        country: String,
        sites: [(name: String, country: String)],
        _ rng: inout SplitMix64
    ) -> String {
        var pools = ""
        for p in 0..<Int.random(in: 1...3, using: &rng) {
            let accelerator = accelerators[Int.random(in: 0..<accelerators.count, using: &rng)]
            let count = [4, 8, 16, 32, 64][Int.random(in: 0..<5, using: &rng)]
            pools += "    - {name: p\(p), accelerator: \(accelerator), count: \(count)}\n"
        }
        let links = sites.filter { $0.name != name && Bool.random(using: &rng) }
            .map { "    - {to: \($0.name), bandwidth: \([1, 10, 40][Int.random(in: 0..<3, using: &rng)]) Gbps}" }
        let parentLine = Bool.random(using: &rng) ? ", parentJurisdiction: US" : ""
        var yaml = """
            ---
            apiVersion: sovereign.dev/v1
            kind: Site
            metadata: {name: \(name)}
            spec:
              jurisdiction: \(country)
              operator: {name: Op \(s), jurisdiction: \(country)\(parentLine)}
              power:
                grid: {capacity: \(Int.random(in: 5...60, using: &rng)) kW, availability: {file: \(name).csv, column: available}}
              cooling: {capacity: \(Int.random(in: 10...60, using: &rng)) kW, ambient: 25 C, pue: {base: 1.3, perDegree: 0.01}}
              pools:
            \(pools)
            """
        if !links.isEmpty { yaml += "  links:\n" + links.joined(separator: "\n") + "\n" }
        return yaml
    }

    private static func datasetDocument(
        _ d: Int,
        sites: [(name: String, country: String)],
        _ rng: inout SplitMix64
    ) -> String {
        let home = sites[Int.random(in: 0..<sites.count, using: &rng)]
        let residency = Bool.random(using: &rng) ? "[\(home.country)]" : "[EAC]"
        let classification = ["public", "internal", "personal", "sensitive"][Int.random(in: 0..<4, using: &rng)]
        return """
            ---
            apiVersion: sovereign.dev/v1
            kind: Dataset
            metadata: {name: data-\(d)}
            spec: {size: \(Int.random(in: 1...500, using: &rng)) GB, site: \(home.name), residency: \(residency), classification: \(classification)}

            """
    }

    private static func workloadDocument(_ w: Int, datasets: Int, _ rng: inout SplitMix64) -> String {
        let dataset = "data-\(Int.random(in: 0..<datasets, using: &rng))"
        let arrival = ISO8601.format(epochSeconds: 1_772_409_600 + Double(Int.random(in: 0..<48, using: &rng) * 900))
        let priority = Int.random(in: 0...100, using: &rng)
        if Int.random(in: 0..<4, using: &rng) == 0 {
            return """
                ---
                apiVersion: sovereign.dev/v1
                kind: Workload
                metadata: {name: serve-\(w)}
                spec: {type: inference, model: {parameters: \(Int.random(in: 1...30, using: &rng))B}, precision: [fp16, int8], demand: {tokensPerSecond: \(Int.random(in: 10...400, using: &rng))}, servedFrom: [EAC], priority: \(priority)}

                """
        }
        let preemptible = Int.random(in: 0..<4, using: &rng) != 0
        let deadline = ISO8601.format(epochSeconds: 1_772_409_600 + Double(Int.random(in: 50...96, using: &rng) * 900))
        return """
            ---
            apiVersion: sovereign.dev/v1
            kind: Workload
            metadata: {name: train-\(w)}
            spec: {type: fine-tuning, model: {parameters: \(Int.random(in: 1...8, using: &rng))B}, datasets: [\(dataset)], compute: {tokens: \(Int.random(in: 200...4000, using: &rng))M}, accelerators: {min: 1, max: \(Int.random(in: 4...32, using: &rng))}, priority: \(priority), arrival: \(arrival), deadline: \(deadline), preemptible: \(preemptible), checkpoint: {every: 30 min}}

            """
    }
}
