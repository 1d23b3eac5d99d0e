/// Everything Sovereign knows about a fleet: an immutable value built from validated specs, with traces
/// already placed on the scenario's time grid.
public struct Fleet: Sendable {
    /// The scenario, when the specs declare one.
    public let scenario: Scenario?
    /// Jurisdiction groups, in declaration order.
    public let groups: [JurisdictionGroup]
    /// Sites, in declaration order.
    public let sites: [Site]
    /// Datasets, in declaration order.
    public let datasets: [Dataset]
    /// Workloads, in declaration order.
    public let workloads: [Workload]
    /// Policies, in declaration order; their rules all apply.
    public let policies: [Policy]
    /// The accelerator catalog: built-in models plus the user's.
    public let catalog: AcceleratorCatalog
    /// The accelerator models the specs declare.
    public let userAccelerators: [AcceleratorModel]
    /// Software the fleet runs, in declaration order.
    public let software: [SoftwareComponent]
    /// Models the fleet's workloads train or serve, in declaration order.
    public let models: [AIModel]

    private let siteIndex: [String: Int]
    private let datasetIndex: [String: Int]
    private let workloadIndex: [String: Int]
    private let groupIndex: [String: Int]

    /// Makes a fleet from parts that are already consistent (the loader checks that).
    public init(
        scenario: Scenario?,
        groups: [JurisdictionGroup],
        sites: [Site],
        datasets: [Dataset],
        workloads: [Workload],
        policies: [Policy],
        userAccelerators: [AcceleratorModel],
        software: [SoftwareComponent] = [],
        models: [AIModel] = []
    ) {
        self.scenario = scenario
        self.groups = groups
        self.sites = sites
        self.datasets = datasets
        self.workloads = workloads
        self.policies = policies
        self.userAccelerators = userAccelerators
        self.software = software
        self.models = models
        self.catalog = .builtIn(plus: userAccelerators)
        func index(_ names: [String]) -> [String: Int] {
            Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        siteIndex = index(sites.map(\.name))
        datasetIndex = index(datasets.map(\.name))
        workloadIndex = index(workloads.map(\.name))
        groupIndex = index(groups.map(\.name))
    }

    /// The site with this name. - Complexity: O(1).
    public func site(named name: String) -> Site? { siteIndex[name].map { sites[$0] } }
    /// The index of the site with this name in ``sites``. - Complexity: O(1).
    public func siteIndex(named name: String) -> Int? { siteIndex[name] }
    /// The same fleet with other workloads (what a control plane plans: the work waiting now).
    public func replacingWorkloads(_ workloads: [Workload]) -> Fleet {
        Fleet(
            scenario: scenario,
            groups: groups,
            sites: sites,
            datasets: datasets,
            workloads: workloads,
            policies: policies,
            userAccelerators: userAccelerators,
            software: software,
            models: models
        )
    }
    /// The dataset with this name. - Complexity: O(1).
    public func dataset(named name: String) -> Dataset? { datasetIndex[name].map { datasets[$0] } }
    /// The workload with this name. - Complexity: O(1).
    public func workload(named name: String) -> Workload? { workloadIndex[name].map { workloads[$0] } }
    /// The model with this name. - Complexity: O(models).
    public func model(named name: String) -> AIModel? { models.first { $0.name == name } }
    /// The group with this name. - Complexity: O(1).
    public func group(named name: String) -> JurisdictionGroup? { groupIndex[name].map { groups[$0] } }

    /// The countries a jurisdiction as written stands for: itself for a country code, its members for a group.
    public func countries(of jurisdiction: String) -> Set<String> {
        if let group = group(named: jurisdiction) { return group.countries }
        return [jurisdiction]
    }

    /// All accelerator pools with their sites.
    public var pools: [(site: Site, pool: AcceleratorPool)] {
        sites.flatMap { site in site.pools.map { (site, $0) } }
    }

    /// Counts for the one-line summary.
    public var summary: FleetSummary {
        FleetSummary(
            sites: sites.count,
            pools: sites.reduce(0) { $0 + $1.pools.count },
            accelerators: sites.reduce(0) { $0 + $1.acceleratorCount },
            datasets: datasets.count,
            workloads: workloads.count,
            policies: policies.count
        )
    }
}

/// The counts `sovereign validate` prints.
public struct FleetSummary: Sendable, Hashable, Codable, CustomStringConvertible {
    public let sites: Int
    public let pools: Int
    public let accelerators: Int
    public let datasets: Int
    public let workloads: Int
    public let policies: Int

    /// `4 sites, 7 pools (312 accelerators), 3 datasets, 12 workloads, 1 policy`.
    public var description: String {
        func counted(_ n: Int, _ word: String, _ plural: String? = nil) -> String {
            "\(n) \(n == 1 ? word : plural ?? word + "s")"
        }
        return "\(counted(sites, "site")), \(counted(pools, "pool")) (\(counted(accelerators, "accelerator"))), "
            + "\(counted(datasets, "dataset")), \(counted(workloads, "workload")), "
            + counted(policies, "policy", "policies")
    }
}
