/// What a fleet's own spec documents declare that a submitted Workload is checked against, decoded once: the
/// names a workload may refer to (sites, datasets, groups, Models, SoftwareComponents, accelerator models), the
/// largest pool of each accelerator model for the memory-fit check, and where each of the fleet's own workloads
/// is declared (a submission may not take one's name).
///
/// Plain values, no parsed YAML: a server keeps one and decodes submissions against it on any thread, at once,
/// and a submission's cost does not grow with the fleet (``FleetLoader/decodeSubmission(_:against:)``).
public struct DeclaredFleet: Sendable {
    /// The largest pool of one accelerator model, and its site.
    struct LargestPool: Sendable {
        let model: AcceleratorModel
        let count: Int
        let site: String
    }

    /// A Model document's parameter count and where it is written, for a workload that names the Model.
    struct DeclaredModel: Sendable {
        let parameters: Double?
        let parametersAt: SourceLocation?
    }

    /// The fleet's workloads by name, with where each name is written.
    let workloads: [String: SourceLocation]
    let siteNames: Set<String>
    /// Every declared dataset name, including those whose spec did not decode (each is reported once, where it is).
    let datasetNames: Set<String>
    /// Each JurisdictionGroup's countries.
    let groupCountries: [String: Set<String>]
    let catalog: AcceleratorCatalog
    /// The largest pool of each accelerator model in the catalog, by model: memory fit is monotone in the
    /// accelerator count, so these are the only pools the fit check needs.
    let largestPools: [LargestPool]
    /// Models by name (the first of a repeated name).
    let models: [String: DeclaredModel]
    let softwareNames: Set<String>
}

extension FleetDecoder {
    /// What this decoder's documents declare, once their groups are expanded and the catalog is known.
    ///
    /// - Complexity: O(sites × pools + documents).
    func declarations(groupCountries: [String: Set<String>], catalog: AcceleratorCatalog) -> DeclaredFleet {
        var largest: [String: (count: Int, site: String)] = [:]
        for site in sites {
            for (pool, _) in site.value.pools where catalog[pool.accelerator] != nil {
                if pool.count > largest[pool.accelerator]?.count ?? 0 {
                    largest[pool.accelerator] = (pool.count, site.name)
                }
            }
        }
        let largestPools = largest.sorted { $0.key < $1.key }.compactMap { id, best in
            catalog[id].map { DeclaredFleet.LargestPool(model: $0, count: best.count, site: best.site) }
        }
        var modelByName: [String: DeclaredFleet.DeclaredModel] = [:]
        for declared in models where modelByName[declared.name] == nil {
            modelByName[declared.name] = DeclaredFleet.DeclaredModel(
                parameters: declared.value.model?.parameters,
                parametersAt: declared.value.parametersNode?.location
            )
        }
        return DeclaredFleet(
            workloads: Dictionary(
                workloads.map { ($0.name, $0.nameNode.location) },
                uniquingKeysWith: { first, _ in first }
            ),
            siteNames: Set(sites.map(\.name)),
            datasetNames: Set(datasets.map(\.name)),
            groupCountries: groupCountries,
            catalog: catalog,
            largestPools: largestPools,
            models: modelByName,
            softwareNames: Set(software.map(\.name))
        )
    }
}
