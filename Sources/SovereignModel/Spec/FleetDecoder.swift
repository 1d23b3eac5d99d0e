import Foundation
import Yams

/// Decodes spec documents into a fleet and checks everything that spans documents: names, references,
/// jurisdictions, residency, memory fit and traces.
final class FleetDecoder {
    let log: DiagnosticLog
    let traces = TraceRequests()

    /// A decoded object with the node of its name, for duplicate and reference diagnostics.
    struct Declared<Value> {
        let name: String
        let nameNode: SpecNode
        let value: Value
    }

    struct SiteEntry {
        let name: String
        let jurisdiction: String?
        let operatorCountry: (home: String, parent: String?)?
        let pools: [(pool: AcceleratorPool, accelerator: SpecNode)]
        let links: [(to: String, node: SpecNode)]
        /// The site's Kubernetes topology and where it was written, for the check that no node maps to two sites.
        var kubernetes: (topology: KubernetesTopology, node: SpecNode)? = nil
        let build: (ResolvedTraces) -> Site?
    }

    /// A Policy's fields as written; groups are expanded once every group is known.
    struct PolicyEntry {
        let domesticOperatorFor: Set<Classification>
        let updatesMayCross: [String]
        let checkpointsMayCross: [String]
        let checkpointTransit: CheckpointTransit
        /// `anonymised`, when the policy says what anonymised data may do.
        var anonymised: AnonymisedEntry? = nil
    }

    struct DatasetEntry {
        let siteNode: SpecNode?
        let residency: [(String, SpecNode)]
        let make: (Set<String>) -> Dataset?
        /// `residency` as written, for the derived-dataset check.
        var residencyNode: SpecNode? = nil
        /// `derivedFrom`, when the dataset is derived.
        var derived: DerivedEntry? = nil
    }

    struct WorkloadEntry {
        let workload: Workload?
        let datasetNodes: [(String, SpecNode)]
        let acceleratorNode: (String, SpecNode)?
        let fitNode: SpecNode?
        let servedFrom: [(String, SpecNode)]
        /// `accelerators.min` when given, to check that some pool is that large.
        var minNode: SpecNode? = nil
        /// `federation.coordinator` when given, to check that the site exists.
        var coordinatorNode: (String, SpecNode)? = nil
        /// `model.parameters`, to check it against the named Model's.
        var parametersNode: SpecNode? = nil
        /// `model.name` when given, to check that the Model exists.
        var modelNameNode: (String, SpecNode)? = nil
        /// `software` entries, to check that each SoftwareComponent exists.
        var softwareNodes: [(String, SpecNode)] = []
    }

    struct GroupEntry {
        let members: [(String, SpecNode)]
        let membersNode: SpecNode?
    }

    var scenarios: [Declared<Scenario?>] = []
    var groups: [Declared<GroupEntry>] = []
    var sites: [Declared<SiteEntry>] = []
    var datasets: [Declared<DatasetEntry>] = []
    var workloads: [Declared<WorkloadEntry>] = []
    var policies: [Declared<PolicyEntry?>] = []
    var accelerators: [Declared<AcceleratorModel?>] = []
    var software: [Declared<SoftwareEntry>] = []
    var models: [Declared<ModelEntry>] = []
    /// Jurisdictions that may name a group; checked once all groups are known.
    var jurisdictionReferences: [(code: String, node: SpecNode)] = []
    /// Names of group declarations already reported as invalid: references to them report nothing more.
    var rejectedGroups: Set<String> = []

    let progress: FleetLoader.Progress?

    /// Files whose documents came from outside (a request body): they may not name trace files.
    let untrustedFiles: Set<String>

    /// What the decoded documents declare, once ``decode(_:)`` found them valid.
    private(set) var declared: DeclaredFleet?

    init(
        log: DiagnosticLog,
        progress: FleetLoader.Progress? = nil,
        untrustedFiles: Set<String> = []
    ) {
        self.log = log
        self.progress = progress
        self.untrustedFiles = untrustedFiles
    }

    // MARK: Documents

    func decode(_ documents: [SpecDocument]) -> Fleet? {
        // Most documents of a large fleet are workloads, each entry hundreds of bytes: growing the array by
        // doubling would move them all again at every doubling.
        workloads.reserveCapacity(documents.count)
        for document in documents { decodeDocument(document.root) }
        return finish()
    }

    /// Decodes submitted Workload documents and checks them against what the fleet's own documents declared, as
    /// ``decode(_:)`` of the fleet's documents and these together would, without decoding the fleet's again.
    ///
    /// - Returns: the workloads that decoded, or nil when anything was reported.
    func decodeSubmission(_ documents: [SpecDocument], against fleet: DeclaredFleet) -> [Workload]? {
        for document in documents { decodeDocument(document.root) }
        checkJurisdictionReferences(fleet.groupCountries)
        checkWorkloads(against: fleet, taken: fleet.workloads)
        guard log.isEmpty else { return nil }
        return workloads.compactMap(\.value.workload)
    }

    private func decodeDocument(_ root: SpecNode) {
        if root.isNull { return }  // an empty document between two `---`
        guard
            let envelope = root.fields(
                "a Sovereign document",
                allowed: ["apiVersion", "kind", "metadata", "spec"]
            )
        else { return }
        if let version = envelope.required("apiVersion", "apiVersion \(FleetLoader.apiVersion)") {
            if version.scalarText != FleetLoader.apiVersion {
                version.report(.badValue, expected: "\"\(FleetLoader.apiVersion)\"")
            }
        }
        let kinds = FleetLoader.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let kindNode = envelope.required("kind", "a kind (\(kinds))") else { return }
        guard let kindText = kindNode.scalarText, let kind = FleetLoader.Kind(rawValue: kindText) else {
            kindNode.report(.unknownKind, expected: "a kind (\(kinds))")
            return
        }
        guard let metadataNode = envelope.required("metadata", "metadata with a name"),
            let metadata = metadataNode.fields("metadata", allowed: ["name", "labels", "annotations"])
        else { return }
        let nameNode = metadata.required("name", "a name")
        let name: String?
        switch kind {
        case .JurisdictionGroup:
            name = nameNode?.string().flatMap { text in
                guard SpecNames.isGroupName(text) else {
                    nameNode?.report(.badValue, expected: "an uppercase group name like \"EAC\" or \"EU\"")
                    rejectedGroups.insert(text)
                    return nil
                }
                guard Country.named(text) == nil || text.count != 2 else {
                    nameNode?.report(
                        .badValue,
                        expected: "a group name that is not an ISO 3166-1 country code"
                    )
                    return nil
                }
                return text
            }
        default:
            name = nameNode?.name()
        }
        let labels = metadata["labels"].flatMap { stringMap($0) } ?? [:]
        if let annotations = metadata["annotations"] { _ = stringMap(annotations) }
        guard let specNode = envelope.required("spec", "a spec for the \(kind.rawValue)") else { return }
        guard let name, let nameNode else {
            // Still decode the spec so that its own problems are reported too.
            decodeSpec(kind, name: "", nameNode: specNode, labels: labels, spec: specNode, keep: false)
            return
        }
        decodeSpec(kind, name: name, nameNode: nameNode, labels: labels, spec: specNode, keep: true)
    }

    private func decodeSpec(
        _ kind: FleetLoader.Kind,
        name: String,
        nameNode: SpecNode,
        labels: [String: String],
        spec: SpecNode,
        keep: Bool
    ) {
        switch kind {
        case .Scenario:
            let value = decodeScenario(name: name, spec)
            if keep { scenarios.append(Declared(name: name, nameNode: nameNode, value: value)) }
        case .JurisdictionGroup:
            let value = decodeGroup(spec)
            if keep { groups.append(Declared(name: name, nameNode: nameNode, value: value)) }
        case .Site:
            let value = decodeSite(name: name, labels: labels, spec)
            if keep { sites.append(Declared(name: name, nameNode: nameNode, value: value)) }
        case .Dataset:
            let value = decodeDataset(name: name, spec)
            if keep { datasets.append(Declared(name: name, nameNode: nameNode, value: value)) }
        case .Workload:
            let value = decodeWorkload(name: name, labels: labels, spec)
            if keep { workloads.append(Declared(name: name, nameNode: nameNode, value: value)) }
        case .Policy:
            let value = decodePolicy(spec)
            if keep { policies.append(Declared(name: name, nameNode: nameNode, value: value)) }
        case .AcceleratorModel:
            let value = decodeAcceleratorModel(name: name, spec)
            if keep { accelerators.append(Declared(name: name, nameNode: nameNode, value: value)) }
        case .SoftwareComponent:
            let value = decodeSoftware(name: name, spec)
            if keep { software.append(Declared(name: name, nameNode: nameNode, value: value)) }
        case .Model:
            let value = decodeModel(name: name, spec)
            if keep { models.append(Declared(name: name, nameNode: nameNode, value: value)) }
        }
    }

    func stringMap(_ node: SpecNode) -> [String: String]? {
        guard case .mapping(let mapping) = node.node else {
            node.report(.wrongType, expected: "a mapping of strings")
            return nil
        }
        var result: [String: String] = [:]
        for (key, value) in mapping {
            guard let k = key.scalar?.string, let v = value.scalar?.string else {
                node.child(value, key: key.scalar?.string ?? "?").report(.wrongType, expected: "a string")
                continue
            }
            result[k] = v
        }
        return result
    }

    // MARK: Jurisdictions

    /// A field that must hold a country code (groups are not allowed: a site is in one country).
    func country(_ node: SpecNode) -> String? {
        guard let code = node.string("an ISO 3166-1 alpha-2 country code like \"KE\"") else { return nil }
        guard Country.named(code) != nil, code == code.uppercased() else {
            node.report(.unknownJurisdiction, expected: "an ISO 3166-1 alpha-2 country code like \"KE\"")
            return nil
        }
        return code
    }

    /// A list of jurisdictions, each a country code or a group name (checked once groups are known).
    func jurisdictions(_ node: SpecNode, what: String) -> [(String, SpecNode)]? {
        guard let items = node.strings(of: what) else { return nil }
        jurisdictionReferences += items.map { (code: $0.0, node: $0.1) }
        return items
    }

    // MARK: Cross-document checks

    private func finish() -> Fleet? {
        let groupCountries = resolveGroups()
        checkJurisdictionReferences(groupCountries)
        let scenario = checkScenarios()
        let userModels = checkAcceleratorModels()
        let catalog = AcceleratorCatalog.builtIn(plus: userModels)
        checkUnique(sites.map { ($0.name, $0.nameNode) }, kind: "Site")
        checkUnique(datasets.map { ($0.name, $0.nameNode) }, kind: "Dataset")
        checkUnique(policies.map { ($0.name, $0.nameNode) }, kind: "Policy")
        let siteByName = Dictionary(sites.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        checkSites(catalog: catalog, siteByName: siteByName)
        let builtDatasets = checkDatasets(siteByName: siteByName, groupCountries: groupCountries)
        let (builtSoftware, builtModels) = checkInventory(
            siteNames: Set(sites.map(\.name)),
            datasetNames: Set(datasets.map(\.name))
        )
        let declared = declarations(groupCountries: groupCountries, catalog: catalog)
        checkWorkloads(against: declared, taken: [:])

        let resolved = traces.resolve(
            grid: scenario?.grid,
            scenarioDeclared: !scenarios.isEmpty,
            log: log,
            progress: progress
        )
        let builtSites = sites.compactMap { $0.value.build(resolved) }
        let builtGroups = groups.map { group in
            JurisdictionGroup(
                name: group.name,
                members: group.value.members.map(\.0),
                countries: groupCountries[group.name] ?? []
            )
        }
        let builtPolicies = policies.compactMap { declared -> Policy? in
            guard let entry = declared.value else { return nil }
            // Every country a list of codes and groups names; `nil` for a list the policy leaves out.
            func countries(_ written: [String]) -> Set<String>? {
                written.isEmpty
                    ? nil : written.reduce(into: Set<String>()) { $0.formUnion(groupCountries[$1] ?? [$1]) }
            }
            var policy = Policy(
                name: declared.name,
                domesticOperatorFor: entry.domesticOperatorFor,
                updatesMayCross: entry.updatesMayCross,
                updatesMayCrossCountries: countries(entry.updatesMayCross)
            )
            policy.checkpointsMayCross = entry.checkpointsMayCross
            policy.checkpointsMayCrossCountries = countries(entry.checkpointsMayCross)
            policy.checkpointTransit = entry.checkpointTransit
            policy.anonymised = entry.anonymised.map {
                AnonymisedDataRule(
                    minK: $0.minK,
                    mayBeProcessedIn: $0.mayBeProcessedIn,
                    countries: countries($0.mayBeProcessedIn) ?? []
                )
            }
            return policy
        }
        checkDerivations(builtDatasets, policies: builtPolicies)
        guard log.isEmpty else { return nil }
        self.declared = declared
        return Fleet(
            scenario: scenario,
            groups: builtGroups,
            sites: builtSites,
            datasets: builtDatasets,
            workloads: workloads.compactMap(\.value.workload),
            policies: builtPolicies,
            userAccelerators: userModels,
            software: builtSoftware,
            models: builtModels
        )
    }

    /// Reports every name used before: earlier in `names`, or among `taken` (names declared elsewhere, by where).
    func checkUnique(_ names: [(String, SpecNode)], kind: String, after taken: [String: SourceLocation] = [:]) {
        var first = taken
        for (name, node) in names {
            if let earlier = first[name] {
                node.report(
                    .duplicateName,
                    expected: "a \(kind) name not used before (\"\(name)\" is at \(earlier))"
                )
            } else {
                first[name] = node.location
            }
        }
    }

    private func checkScenarios() -> Scenario? {
        for extra in scenarios.dropFirst() {
            extra.nameNode.report(
                .duplicateName,
                expected:
                    "one Scenario per fleet (the first is \"\(scenarios[0].name)\" at \(scenarios[0].nameNode.location))",
                found: "another, \"\(extra.name)\""
            )
        }
        guard let scenario = scenarios.first?.value else { return nil }
        let siteSteps = scenario.grid.count * sites.count
        guard siteSteps <= Self.maximumSiteSteps else {
            // Planning holds several values per site and step (budgets as planned, forecast and drawn, headroom,
            // the trace series): refused here, before the traces are resampled onto the grid.
            scenarios[0].nameNode.report(
                .badValue,
                expected:
                    "at most 50,000,000 site-steps (sites × steps; each holds about 200 bytes while planning): a longer step, a shorter horizon or fewer sites",
                found:
                    "\(sites.count) sites × \(scenario.grid.count) steps = \(siteSteps)"
            )
            return nil
        }
        return scenario
    }

    private func checkAcceleratorModels() -> [AcceleratorModel] {
        var seen: [String: SpecNode] = [:]
        var models: [AcceleratorModel] = []
        for declared in accelerators {
            if AcceleratorCatalog.builtIn()[declared.name] != nil {
                declared.nameNode.report(
                    .duplicateName,
                    expected: "an AcceleratorModel name not in the built-in catalog (see `sovereign catalog`)"
                )
                continue
            }
            if let earlier = seen[declared.name] {
                declared.nameNode.report(
                    .duplicateName,
                    expected:
                        "an AcceleratorModel name not used before (\"\(declared.name)\" is at \(earlier.location))"
                )
                continue
            }
            seen[declared.name] = declared.nameNode
            if let model = declared.value { models.append(model) }
        }
        return models
    }

    /// Expands every group into countries, reporting unknown members, empty groups and cycles.
    ///
    /// - Complexity: O(groups + members): a depth-first search with memoisation.
    private func resolveGroups() -> [String: Set<String>] {
        checkUnique(groups.map { ($0.name, $0.nameNode) }, kind: "JurisdictionGroup")
        var byName: [String: Declared<GroupEntry>] = [:]
        for group in groups where byName[group.name] == nil { byName[group.name] = group }
        var resolved: [String: Set<String>] = [:]
        var onStack: [String] = []
        var reportedCycles = Set<String>()

        func expand(_ name: String) -> Set<String> {
            if let done = resolved[name] { return done }
            guard let group = byName[name] else { return [] }
            if let start = onStack.firstIndex(of: name) {
                let cycle = Array(onStack[start...]) + [name]
                let key = Set(cycle).sorted().joined(separator: ",")
                if reportedCycles.insert(key).inserted, let node = group.value.membersNode {
                    node.report(
                        .groupCycle,
                        expected: "groups that do not contain themselves",
                        found: cycle.joined(separator: " → ")
                    )
                }
                return []
            }
            onStack.append(name)
            var countries = Set<String>()
            for (member, node) in group.value.members {
                if Country.named(member) != nil, member.count == 2, member == member.uppercased() {
                    countries.insert(member)
                } else if byName[member] != nil {
                    countries.formUnion(expand(member))
                } else {
                    node.report(
                        .unknownJurisdiction,
                        expected: "an ISO 3166-1 alpha-2 code or the name of a JurisdictionGroup"
                    )
                }
            }
            onStack.removeLast()
            resolved[name] = countries
            return countries
        }

        for group in groups {
            if group.value.members.isEmpty, let node = group.value.membersNode {
                node.report(.emptyGroup, expected: "at least one member", found: "none")
            }
            _ = expand(group.name)
        }
        return resolved
    }

    func checkJurisdictionReferences(_ groupCountries: [String: Set<String>]) {
        for (code, node) in jurisdictionReferences where !rejectedGroups.contains(code) {
            let isCountry = code.count == 2 && code == code.uppercased() && Country.named(code) != nil
            if !isCountry, groupCountries[code] == nil {
                node.report(
                    .unknownJurisdiction,
                    expected: "an ISO 3166-1 alpha-2 code like \"KE\" or a declared JurisdictionGroup"
                )
            }
        }
    }

    private func checkSites(catalog: AcceleratorCatalog, siteByName: [String: SiteEntry]) {
        // A node's region and zone labels must name at most one site; sites are few, so pairs are cheap.
        var mapped: [(name: String, topology: KubernetesTopology)] = []
        for site in sites {
            guard let (topology, node) = site.value.kubernetes else { continue }
            let overlap = mapped.first { earlier in
                earlier.topology.region == topology.region
                    && (earlier.topology.zones.isEmpty || topology.zones.isEmpty
                        || !Set(earlier.topology.zones).isDisjoint(with: topology.zones))
            }
            if let overlap {
                node.report(
                    .badValue,
                    expected: "a region and zones no other site maps (nodes must belong to one site)",
                    found: "region \"\(topology.region)\" overlapping site \(overlap.name)"
                )
            } else {
                mapped.append((site.name, topology))
            }
        }
        for site in sites {
            var poolNames: [String: Int] = [:]
            for (pool, acceleratorNode) in site.value.pools {
                poolNames[pool.name, default: 0] += 1
                if catalog[pool.accelerator] == nil {
                    acceleratorNode.reportUnknown(
                        "an accelerator model from the catalog or an AcceleratorModel document",
                        among: catalog.models.map(\.id)
                    )
                }
            }
            for (to, node) in site.value.links {
                if to == site.name {
                    node.report(.badValue, expected: "a link to another site", found: "a link to itself")
                } else if siteByName[to] == nil {
                    node.reportUnknown("the name of a Site", among: siteByName.keys)
                }
            }
        }
    }

    private func checkDatasets(siteByName: [String: SiteEntry], groupCountries: [String: Set<String>]) -> [Dataset] {
        var built: [Dataset] = []
        for dataset in datasets {
            let residency = dataset.value.residency.reduce(into: Set<String>()) {
                $0.formUnion(groupCountries[$1.0] ?? [$1.0])
            }
            if let siteNode = dataset.value.siteNode, let siteName = siteNode.scalarText {
                if let site = siteByName[siteName] {
                    if let country = site.jurisdiction, !dataset.value.residency.isEmpty, !residency.contains(country) {
                        siteNode.report(
                            .residency,
                            expected:
                                "a site inside the dataset's residency [\(dataset.value.residency.map(\.0).joined(separator: ", "))]",
                            found: "\"\(siteName)\" in \(country)"
                        )
                    }
                } else {
                    siteNode.reportUnknown("the name of a Site", among: siteByName.keys)
                }
            }
            if var value = dataset.value.make(residency) {
                value.derivedFrom = dataset.value.derived?.derivation
                built.append(value)
            }
        }
        return built
    }
}
