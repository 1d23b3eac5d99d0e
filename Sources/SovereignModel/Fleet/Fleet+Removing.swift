extension Site {
    /// The same site with only some of its pools and links.
    func keeping(pools: [AcceleratorPool], links: [NetworkLink]) -> Site {
        // Everything else about the site (its Kubernetes topology, labels, …) stays as it is.
        var site = self
        site.pools = pools
        site.links = links
        return site
    }
}

extension Fleet {
    /// The fleet after losing accelerators: what remains when a supplier, an operator or a country is cut off.
    ///
    /// Pools for which `keepPool` is false are gone; a site left with no pool, or for which `keepSite` is
    /// false, is gone with its links. Datasets, workloads and policies stay as they are: the planner decides
    /// what can still run.
    ///
    /// - Parameters:
    ///   - keepSite: whether a site survives.
    ///   - keepPool: whether a pool at a surviving site survives.
    /// - Returns: the smaller fleet.
    /// - Complexity: O(sites + pools + links).
    public func removing(
        sitesWhere removeSite: (Site) -> Bool,
        poolsWhere removePool: (Site, AcceleratorPool) -> Bool
    ) -> Fleet {
        var kept: [Site] = []
        for site in sites where !removeSite(site) {
            let pools = site.pools.filter { !removePool(site, $0) }
            if !pools.isEmpty { kept.append(site.keeping(pools: pools, links: site.links)) }
        }
        let names = Set(kept.map(\.name))
        kept = kept.map { $0.keeping(pools: $0.pools, links: $0.links.filter { names.contains($0.to) }) }
        return Fleet(
            scenario: scenario,
            groups: groups,
            sites: kept,
            datasets: datasets,
            workloads: workloads,
            policies: policies,
            userAccelerators: userAccelerators,
            software: software,
            models: models
        )
    }
}
