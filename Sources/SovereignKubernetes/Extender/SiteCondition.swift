public import SovereignModel

/// What a node label says about its site now: `ok`, `constrained` or `shedding`.
public enum SiteCondition: String, Sendable, Hashable, CaseIterable {
    /// The site can run all of its accelerators.
    case ok
    /// It cannot run all of them now or within the forecast.
    case constrained
    /// It cannot keep up what already runs there: work is being paused.
    case shedding

    /// A site's power and thermal condition, as the node labeller sets them: the power its supply leaves
    /// for IT after PUE, and the IT heat its cooling can reject, each against what runs there now and at
    /// every step of the budget's horizon.
    ///
    /// - Parameters:
    ///   - budget: The site's budget; step 0 holds now.
    ///   - running: IT power drawn at the site now, watts.
    ///   - nameplate: IT power the site needs to run all its accelerators, watts (``nameplate(of:catalog:)``).
    /// - Complexity: O(steps).
    public static func of(
        budget: SiteBudget,
        running: Double,
        nameplate: Double
    ) -> (
        power: SiteCondition, thermal: SiteCondition
    ) {
        let supplied = budget.supply.indices.map { budget.supply[$0] / budget.pue[$0] }
        return (
            condition(now: supplied.first ?? 0, ahead: supplied, running: running, full: nameplate),
            condition(now: budget.cooling.first ?? 0, ahead: budget.cooling, running: running, full: nameplate)
        )
    }

    /// IT power `site` needs to run every accelerator of its pools (those the catalog knows), watts.
    public static func nameplate(of site: Site, catalog: AcceleratorCatalog) -> Double {
        site.pools.reduce(0) { sum, pool in
            guard let model = catalog[pool.accelerator] else { return sum }
            return sum + PhysicalModel.runningPower(model: model, count: pool.count)
        }
    }

    /// `shedding` when what runs exceeds what the term allows now; `constrained` when the term cannot
    /// carry every accelerator of the site now or at some step of the horizon; `ok` otherwise.
    static func condition(now: Double, ahead: some Sequence<Double>, running: Double, full: Double) -> SiteCondition {
        if running > now * (1 + 1e-9) { return .shedding }
        if now < full || ahead.contains(where: { $0 < full }) { return .constrained }
        return .ok
    }
}
