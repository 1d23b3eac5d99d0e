import SovereignModel

/// Small fleets written as spec text, one document per piece, so that each test says only what it varies.
struct FleetText {
    var documents: [String] = [
        """
        apiVersion: sovereign.dev/v1
        kind: Scenario
        metadata: {name: day}
        spec: {start: 2026-03-02T00:00:00Z, horizon: 1 d, step: 1 h, seed: 7}
        """,
        """
        apiVersion: sovereign.dev/v1
        kind: JurisdictionGroup
        metadata: {name: EU}
        spec: {members: [DE, FR, IT, NL]}
        """,
        """
        apiVersion: sovereign.dev/v1
        kind: AcceleratorModel
        metadata: {name: domestic-npu}
        spec: {vendor: Lingxi, memory: 64 GB, tflops: 320, bandwidth: 1.6 TB/s, power: 400 W, origin: CN, fabricatedIn: CN, exportControl: none}
        """,
        """
        apiVersion: sovereign.dev/v1
        kind: AcceleratorModel
        metadata: {name: fr-npu}
        spec: {vendor: Lutece, memory: 96 GB, tflops: 1069.6, bandwidth: 2 TB/s, power: 500 W, origin: FR, fabricatedIn: TW, exportControl: none}
        """,
    ]

    /// A site with the given pools (`accelerator: count`), in `country`, run by an operator at home in
    /// `operatorHome` with an optional foreign parent.
    mutating func site(
        _ name: String,
        in country: String,
        pools: [(String, Int)],
        operatorHome: String? = nil,
        parent: String? = nil
    ) {
        let parentText = parent.map { ", parentJurisdiction: \($0)" } ?? ""
        let poolText = pools.enumerated().map { k, p in "    - {name: p\(k), accelerator: \(p.0), count: \(p.1)}" }
            .joined(separator: "\n")
        documents.append(
            """
            apiVersion: sovereign.dev/v1
            kind: Site
            metadata: {name: \(name)}
            spec:
              jurisdiction: \(country)
              operator: {name: Operator of \(name), jurisdiction: \(operatorHome ?? country)\(parentText)}
              power:
                grid: {capacity: 5 MW, carbonIntensity: 100 g/kWh}
              cooling: {capacity: 5 MW, ambient: 20 C, pue: {base: 1.2}}
              pools:
            \(poolText)
            """
        )
    }

    mutating func dataset(
        _ name: String,
        at site: String,
        residency: String,
        classification: String = "public",
        size: String = "100 GB",
        keys: String? = nil
    ) {
        let keysText = keys.map { ", keys: {jurisdiction: \($0)}" } ?? ""
        documents.append(
            """
            apiVersion: sovereign.dev/v1
            kind: Dataset
            metadata: {name: \(name)}
            spec: {size: \(size), site: \(site), residency: [\(residency)], classification: \(classification)\(keysText)}
            """
        )
    }

    /// A fine-tune of a 1B model on `dataset`, naming `model` and `software` when given.
    mutating func workload(_ name: String, dataset: String?, model: String? = nil, software: [String] = []) {
        let modelName = model.map { "name: \($0), " } ?? ""
        let datasets = dataset.map { "  datasets: [\($0)]\n" } ?? ""
        let softwareText = software.isEmpty ? "" : "  software: [\(software.joined(separator: ", "))]\n"
        documents.append(
            """
            apiVersion: sovereign.dev/v1
            kind: Workload
            metadata: {name: \(name)}
            spec:
              type: fine-tuning
              model: {\(modelName)parameters: 1B}
            \(datasets)\(softwareText)  compute: {tokens: 200M}
              accelerators: {min: 1, max: 8}
            """
        )
    }

    mutating func software(
        _ name: String,
        role: String,
        licence: String?,
        origin: String?,
        updatesFrom: String?,
        sites: [String] = []
    ) {
        var fields = ["role: \(role)"]
        if let licence { fields.append("licence: \(licence)") }
        if let origin { fields.append("origin: \(origin)") }
        if let updatesFrom { fields.append("updates: {by: Vendor of \(name), jurisdiction: \(updatesFrom)}") }
        if !sites.isEmpty { fields.append("sites: [\(sites.joined(separator: ", "))]") }
        documents.append(
            """
            apiVersion: sovereign.dev/v1
            kind: SoftwareComponent
            metadata: {name: \(name)}
            spec: {\(fields.joined(separator: ", "))}
            """
        )
    }

    mutating func model(
        _ name: String,
        weights: String,
        licence: String,
        publisher: String,
        trainedIn: String
    ) {
        documents.append(
            """
            apiVersion: sovereign.dev/v1
            kind: Model
            metadata: {name: \(name)}
            spec: {parameters: 1B, weights: \(weights), licence: \(licence), publisher: {name: P, jurisdiction: \(publisher)}, trainedIn: \(trainedIn)}
            """
        )
    }

    var text: String { documents.joined(separator: "\n---\n") + "\n" }

    func load() throws -> Fleet {
        try FleetLoader().load(sources: [(file: "fleet.yaml", text: text)])
    }
}
