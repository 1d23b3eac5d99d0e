import Yams

extension FleetDecoder {
    /// A decoded `SoftwareComponent` with the nodes of the sites it names.
    struct SoftwareEntry {
        let component: SoftwareComponent?
        let siteNodes: [(String, SpecNode)]
    }

    /// A decoded `Model` with the nodes of the datasets it names and of its parameter count.
    struct ModelEntry {
        let model: AIModel?
        let datasetNodes: [(String, SpecNode)]
        let parametersNode: SpecNode?
    }

    // MARK: SoftwareComponent

    /// `spec: {role, licence, origin, updates: {by, jurisdiction}, sites: [...]}`; everything but the role is
    /// optional, and what is missing is unknown (the assessment counts it as a weakness).
    func decodeSoftware(name: String, _ spec: SpecNode) -> SoftwareEntry {
        guard
            let f = spec.fields("SoftwareComponent", allowed: ["role", "licence", "origin", "updates", "sites"])
        else { return SoftwareEntry(component: nil, siteNodes: []) }
        let role = f.required("role", "a role (\(roles))")?.choice(SoftwareComponent.Role.self)
        let licence = f["licence"].map { $0.string("an SPDX licence identifier like \"Apache-2.0\", or proprietary") }
        let origin = f["origin"].map { country($0) }
        var updatedBy: String?? = .some(nil)
        var updatesFrom: String?? = .some(nil)
        if let u = f["updates"], let uf = u.fields("updates", allowed: ["by", "jurisdiction"]) {
            updatedBy = uf["by"].map { $0.string("who ships updates, like \"NVIDIA\"") } ?? .some(nil)
            updatesFrom = uf["jurisdiction"].map { country($0) } ?? .some(nil)
        } else if f.has("updates") {
            updatedBy = nil
        }
        var siteNodes: [(String, SpecNode)] = []
        if let list = f["sites"]?.list(of: "site names") {
            for item in list {
                if let site = item.name() { siteNodes.append((site, item)) }
            }
        }
        guard let role, licence != .some(nil), origin != .some(nil), let updatedBy, let updatesFrom else {
            return SoftwareEntry(component: nil, siteNodes: siteNodes)
        }
        let component = SoftwareComponent(
            name: name,
            role: role,
            licence: licence ?? nil,
            origin: origin ?? nil,
            updatedBy: updatedBy,
            updatesFrom: updatesFrom,
            sites: siteNodes.map(\.0)
        )
        return SoftwareEntry(component: component, siteNodes: siteNodes)
    }

    private var roles: String { SoftwareComponent.Role.allCases.map(\.rawValue).joined(separator: ", ") }

    // MARK: Model

    /// `spec: {parameters, licence, weights: open|closed, publisher: {name, jurisdiction}, trainedIn,
    /// datasets: [...], externalData: [jurisdictions]}`; every field optional, missing ones unknown.
    func decodeModel(name: String, _ spec: SpecNode) -> ModelEntry {
        guard
            let f = spec.fields(
                "Model",
                allowed: ["parameters", "licence", "weights", "publisher", "trainedIn", "datasets", "externalData"]
            )
        else { return ModelEntry(model: nil, datasetNodes: [], parametersNode: nil) }
        let parametersNode = f["parameters"]
        let parameters = parametersNode.map { $0.count("a parameter count like \"7B\"") }
        let licence = f["licence"].map { $0.string("a licence like \"Apache-2.0\" or \"llama3.1\"") }
        let weights = f["weights"].map { $0.choice(AIModel.Weights.self) }
        var publisher: String?? = .some(nil)
        var origin: String?? = .some(nil)
        if let p = f["publisher"], let pf = p.fields("publisher", allowed: ["name", "jurisdiction"]) {
            publisher = pf["name"].map { $0.string("the publisher's name") } ?? .some(nil)
            origin = pf["jurisdiction"].map { country($0) } ?? .some(nil)
        } else if f.has("publisher") {
            publisher = nil
        }
        let trainedIn = f["trainedIn"].map { country($0) }
        let datasetNodes = f["datasets"].flatMap { $0.strings(of: "dataset names") } ?? []
        var external: [String] = []
        var externalOK = true
        if let list = f["externalData"]?.list(of: "jurisdictions the outside training data comes from") {
            for item in list {
                if let code = country(item) { external.append(code) } else { externalOK = false }
            }
        }
        guard parameters != .some(nil), licence != .some(nil), weights != .some(nil), let publisher, let origin,
            trainedIn != .some(nil), externalOK
        else { return ModelEntry(model: nil, datasetNodes: datasetNodes, parametersNode: parametersNode) }
        let model = AIModel(
            name: name,
            parameters: parameters ?? nil,
            licence: licence ?? nil,
            weights: weights ?? nil,
            publisher: publisher,
            origin: origin,
            trainedIn: trainedIn ?? nil,
            datasets: datasetNodes.map(\.0),
            externalDataFrom: external
        )
        return ModelEntry(model: model, datasetNodes: datasetNodes, parametersNode: parametersNode)
    }

    /// `exportControl: none` or `exportControl: {jurisdiction: US, classification: "EAR ECCN 3A090.a"}`.
    func decodeExportControl(_ node: SpecNode) -> ExportControl? {
        if node.scalarText == "none" { return .unlisted }
        guard node.node.mapping != nil else {
            node.report(.wrongType, expected: "none or {jurisdiction, classification}")
            return nil
        }
        guard let f = node.fields("exportControl", allowed: ["jurisdiction", "classification"]) else { return nil }
        let jurisdiction = f.required("jurisdiction", "the code of the country whose export rules list it")
            .flatMap { country($0) }
        let classification = f.required("classification", "the listing, like \"EAR ECCN 3A090.a\"")?.string()
        guard let jurisdiction, let classification else { return nil }
        return .controlled(jurisdiction: jurisdiction, classification: classification)
    }

    // MARK: Cross-document checks

    /// Names unique, and every site and dataset a SoftwareComponent or Model names is declared.
    func checkInventory(siteNames: Set<String>, datasetNames: Set<String>) -> ([SoftwareComponent], [AIModel]) {
        checkUnique(software.map { ($0.name, $0.nameNode) }, kind: "SoftwareComponent")
        checkUnique(models.map { ($0.name, $0.nameNode) }, kind: "Model")
        for declared in software {
            for (site, node) in declared.value.siteNodes where !siteNames.contains(site) {
                node.reportUnknown("the name of a Site", among: siteNames)
            }
        }
        for declared in models {
            for (dataset, node) in declared.value.datasetNodes where !datasetNames.contains(dataset) {
                node.reportUnknown("the name of a Dataset", among: datasetNames)
            }
        }
        return (software.compactMap(\.value.component), models.compactMap(\.value.model))
    }
}
