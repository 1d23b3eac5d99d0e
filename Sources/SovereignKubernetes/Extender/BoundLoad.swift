import SovereignModel
import SovereignPlanner

/// What the pods Kubernetes bound to the fleet's nodes hold now: accelerators by pool and their IT power
/// by site. Sovereign did not start these pods and cannot pause them, but they draw from the same supply,
/// so the extender's power verdicts, the node labels and the scores count them (issue 17).
public struct BoundLoad: Sendable, Hashable {
    /// Accelerators held by bound pods, by pool (index into ``ExtenderSnapshot/candidates``).
    public var accelerators: [Int]
    /// IT power of those accelerators at full use, watts, by site index.
    public var watts: [Double]

    /// Nothing bound anywhere.
    public init(pools: Int, sites: Int) {
        accelerators = [Int](repeating: 0, count: pools)
        watts = [Double](repeating: 0, count: sites)
    }

    /// Counts the pods that hold devices (bound, not finished) on the pools their nodes sit in; pods on
    /// nodes outside the fleet, or on nodes the node watch has not placed, count nowhere, and so do the pods
    /// of Sovereign's own attempts (``BoundPod/attemptID``): the control plane counts those already, in the
    /// power it runs at each site.
    ///
    /// - Parameters:
    ///   - pods: The pod watch's cache.
    ///   - placements: Where each pod's node sits, in the same order (``NodeDirectory/placements(of:)``).
    ///   - snapshot: The pools and their accelerator models.
    /// - Complexity: O(pods + pools).
    public static func measure(
        _ pods: [BoundPod],
        placements: [NodePlacement?],
        in snapshot: ExtenderSnapshot
    ) -> BoundLoad {
        var load = BoundLoad(pools: snapshot.candidates.count, sites: snapshot.fleet.sites.count)
        for (pod, placement) in zip(pods, placements) where pod.drawsUncounted {
            guard case .pool(let c)? = placement else { continue }
            load.accelerators[c] += pod.acceleratorCount
        }
        for (c, candidate) in snapshot.candidates.enumerated() where load.accelerators[c] > 0 {
            load.watts[candidate.siteIndex] += PhysicalModel.runningPower(
                model: candidate.model,
                count: load.accelerators[c]
            )
        }
        return load
    }
}
