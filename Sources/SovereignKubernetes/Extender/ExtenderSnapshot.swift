public import SovereignModel
public import SovereignPlanner

/// Where a Kubernetes node sits in the fleet, or why it sits nowhere.
public enum NodePlacement: Sendable, Hashable {
    /// The node is part of a pool: the index into ``ExtenderSnapshot/candidates``.
    case pool(Int)
    /// The node maps to no pool, and why.
    case outside(String)
}

/// Everything the extender and the node labeller read, frozen at one control-loop pass: the fleet's
/// pools as planner candidates, the planning context, each site's IT budget over the horizon, what runs
/// there, and the site conditions derived from them. Immutable, so request handlers read it without
/// waiting for the control loop.
public struct ExtenderSnapshot: Sendable {
    public let fleet: Fleet
    /// Workloads a pod may name (the fleet's and those submitted to the control plane), by name.
    public let workloads: [String: Workload]
    /// The filters and scorers the planner uses.
    public let policy: PlanningPolicy
    public let grid: TimeGrid
    /// IT power the site may draw at each plan step (`min(supply/PUE, cooling)`), and what each term allows.
    public let budgets: [SiteBudget]
    /// IT power of what Sovereign runs at each site now, watts.
    public let running: [Double]
    /// What pods Kubernetes bound hold: accelerators by pool, IT power by site (none until the pod watch
    /// reports; see ``with(bound:)``).
    public private(set) var bound: BoundLoad
    /// Every pool of the fleet, in declaration order.
    public let candidates: [Candidate]
    let context: PlanningContext
    /// Places nodes in the fleet by their labels.
    public let locator: NodeLocator
    /// Power and thermal condition by site index, of what Sovereign runs and what Kubernetes bound together.
    public private(set) var power: [SiteCondition]
    public private(set) var thermal: [SiteCondition]
    /// IT power each site needs to run all its accelerators, watts.
    public let nameplate: [Double]

    /// The extender's view of a control-plane pass, judged with `policy` (the control plane's own).
    ///
    /// - Complexity: O(pools + sites × steps).
    public init(_ snapshot: ControlSnapshot, policy: PlanningPolicy) {
        self.init(
            fleet: snapshot.fleet,
            workloads: snapshot.workloads,
            policy: policy,
            grid: snapshot.grid,
            budgets: snapshot.budgets,
            running: snapshot.running
        )
    }

    /// Freezes the state of one control-loop pass.
    ///
    /// - Parameters:
    ///   - fleet: The fleet.
    ///   - workloads: Workloads pods may name.
    ///   - policy: The planner's policy (its filters and scorers).
    ///   - grid: The planning grid; step 0 holds now.
    ///   - budgets: Site budgets on `grid`, by site index.
    ///   - running: IT power Sovereign runs at each site now, watts, by site index.
    ///   - bound: What pods Kubernetes bound hold (none when not given).
    /// - Complexity: O(pools + sites × steps).
    public init(
        fleet: Fleet,
        workloads: [String: Workload],
        policy: PlanningPolicy,
        grid: TimeGrid,
        budgets: [SiteBudget],
        running: [Double],
        bound: BoundLoad? = nil
    ) {
        self.fleet = fleet
        self.workloads = workloads
        self.policy = policy
        self.grid = grid
        self.budgets = budgets
        self.running = running
        var candidates: [Candidate] = []
        var poolIndex: [String: [String: Int]] = [:]
        for (s, site) in fleet.sites.enumerated() {
            for pool in site.pools {
                guard let model = fleet.catalog[pool.accelerator] else { continue }
                poolIndex[site.name, default: [:]][pool.name] = candidates.count
                candidates.append(
                    Candidate(siteIndex: s, poolIndex: candidates.count, site: site, pool: pool, model: model)
                )
            }
        }
        self.candidates = candidates
        locator = NodeLocator(fleet: fleet, poolIndex: poolIndex)
        nameplate = fleet.sites.map { SiteCondition.nameplate(of: $0, catalog: fleet.catalog) }
        context = PlanningContext(fleet: fleet, grid: grid, budgets: budgets)
        self.bound = bound ?? BoundLoad(pools: candidates.count, sites: fleet.sites.count)
        (power, thermal) = ([], [])
        (power, thermal) = conditions()
    }

    /// The same pass with what Kubernetes bound replaced: the site conditions follow it.
    ///
    /// - Complexity: O(sites × steps).
    public func with(bound: BoundLoad) -> ExtenderSnapshot {
        var copy = self
        copy.bound = bound
        (copy.power, copy.thermal) = copy.conditions()
        return copy
    }

    /// IT power drawn at site `s` now: what Sovereign runs and what Kubernetes bound, watts.
    public func draw(site s: Int) -> Double { running[s] + (bound.watts.indices.contains(s) ? bound.watts[s] : 0) }

    /// How full pool `c` is: accelerators bound pods hold over its count, at most 1.
    public func fill(pool c: Int) -> Double {
        let count = candidates[c].pool.count
        guard count > 0, bound.accelerators.indices.contains(c) else { return 0 }
        return min(1, Double(bound.accelerators[c]) / Double(count))
    }

    /// Site `s`'s power headroom now: IT room left beside ``draw(site:)`` over its IT limit, 0...1.
    public func headroom(site s: Int) -> Double {
        let limit = budgets[s].itLimit(at: 0)
        guard limit > 0 else { return 0 }
        return min(1, max(0, (limit - draw(site: s)) / limit))
    }

    /// Each site's power and thermal condition under ``draw(site:)``.
    private func conditions() -> (power: [SiteCondition], thermal: [SiteCondition]) {
        let both = fleet.sites.indices.map { s in
            SiteCondition.of(budget: budgets[s], running: draw(site: s), nameplate: nameplate[s])
        }
        return (both.map(\.power), both.map(\.thermal))
    }

    /// The labels Sovereign keeps on a node of `site`.
    public func labels(forSite site: Int) -> [String: String] {
        [KubernetesLabels.powerState: power[site].rawValue, KubernetesLabels.thermalState: thermal[site].rawValue]
    }

    /// Where a node with these labels sits (see ``NodeLocator/locate(labels:)``).
    public func locate(labels: [String: String]) -> NodePlacement { locator.locate(labels: labels) }
}

/// Places Kubernetes nodes in the fleet by their labels. It depends on the fleet alone (fixed for a
/// server's life), so a node's place can be computed once when its labels change.
public struct NodeLocator: Sendable {
    let fleet: Fleet
    /// Candidate index by site and pool name.
    let poolIndex: [String: [String: Int]]
    /// Sites by the Kubernetes region they map, for nodes without a site label.
    let regions: [String: [Int]]

    init(fleet: Fleet, poolIndex: [String: [String: Int]]) {
        self.fleet = fleet
        self.poolIndex = poolIndex
        var regions: [String: [Int]] = [:]
        for (s, site) in fleet.sites.enumerated() {
            if let region = site.kubernetes?.region { regions[region, default: []].append(s) }
        }
        self.regions = regions
    }

    /// Where a node with these labels sits: `sovereign.dev/site` (else the site whose Kubernetes topology
    /// holds the node's region and zone), then `sovereign.dev/pool` (else the site's pool in the node's
    /// zone, else the site's only pool).
    public func locate(labels: [String: String]) -> NodePlacement {
        let siteIndex: Int
        if let named = labels[KubernetesLabels.site] {
            guard let index = fleet.siteIndex(named: named) else {
                return .outside("\(KubernetesLabels.site)=\(named) is not a site of the fleet")
            }
            siteIndex = index
        } else if let region = labels[KubernetesLabels.region] {
            let zone = labels[KubernetesLabels.zone]
            guard
                let index = regions[region]?.first(where: {
                    fleet.sites[$0].kubernetes?.contains(region: region, zone: zone) == true
                })
            else {
                return .outside("no site of the fleet maps region \(region)\(zone.map { " zone \($0)" } ?? "")")
            }
            siteIndex = index
        } else {
            return .outside("the node has no \(KubernetesLabels.site) or \(KubernetesLabels.region) label")
        }
        let site = fleet.sites[siteIndex]
        let siteName = site.name
        guard let pools = poolIndex[siteName] else {
            return .outside("site \(siteName) has no pool with a known accelerator")
        }
        if let named = labels[KubernetesLabels.pool] {
            guard let index = pools[named] else {
                return .outside("\(KubernetesLabels.pool)=\(named) is not a pool of site \(siteName)")
            }
            return .pool(index)
        }
        if let zone = labels[KubernetesLabels.zone], let pool = site.pools.first(where: { $0.kubernetesZone == zone }),
            let index = pools[pool.name]
        {
            return .pool(index)
        }
        if site.pools.count == 1, let index = pools[site.pools[0].name] { return .pool(index) }
        return .outside(
            "site \(siteName) has \(site.pools.count) pools and the node has no \(KubernetesLabels.pool) label"
        )
    }

}
