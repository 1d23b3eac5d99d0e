import SovereignModel

/// Accelerators of a pool held by work the control plane did not start (pods Kubernetes bound: see
/// `KubernetesNodes`). The control loop plans around them as it plans around its own running attempts, and
/// counts their power when it decides what to shed; it cannot pause them, so it sheds its own work first.
public struct HeldAccelerators: Sendable, Hashable {
    /// Site index in the fleet.
    public let site: Int
    /// The pool's name at that site.
    public let pool: String
    public let accelerators: Int

    /// Accelerators held at a pool.
    public init(site: Int, pool: String, accelerators: Int) {
        self.site = site
        self.pool = pool
        self.accelerators = accelerators
    }

    /// IT power they draw at full use, watts (nothing for a pool or accelerator the fleet does not know).
    func watts(in fleet: Fleet) -> Double {
        guard fleet.sites.indices.contains(site),
            let pool = fleet.sites[site].pools.first(where: { $0.name == self.pool }),
            let model = fleet.catalog[pool.accelerator]
        else { return 0 }
        return PhysicalModel.runningPower(model: model, count: accelerators)
    }
}

extension ControlPlane {
    /// Replaces what work the control plane did not start holds; the next pass plans and sheds around it.
    public func setHeldAccelerators(_ held: [HeldAccelerators]) {
        self.held = held
    }
}
