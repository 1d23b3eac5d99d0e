import Logging
import ServiceLifecycle
import SovereignKubernetes
import SovereignModel
import SovereignPlanner

/// The node watch, the pod watch and the node labeller, as one service of `sovereign serve --kubernetes`:
/// the node watch keeps the extender's node directory current (node-cache requests name nodes only); the
/// pod watch counts what pods Kubernetes bound to the fleet's nodes hold against their sites' power; and
/// the labeller keeps `sovereign.dev/power-state` and `sovereign.dev/thermal-state` on the fleet's nodes
/// equal to what the last control-loop pass and the bound pods say, so kube-scheduler retries the pods it
/// parked when a site's conditions change. What the bound pods hold also goes to the control plane, which
/// plans and sheds its own work around them (it cannot pause a pod it did not start).
struct KubernetesNodes: Service {
    let client: KubernetesClient
    let watcher: NodeWatcher
    let pods: ResourceWatcher<BoundPod>
    let labeller: NodeLabeller
    let plane: ControlPlane
    /// The latest holds of bound pods, for the control plane (only the newest matters).
    let holds: AsyncStream<[HeldAccelerators]>
    let logger: Logger

    /// Wires the watch and the labeller to an extender and to the control plane's passes.
    static func make(
        configuration: KubernetesAPIConfiguration,
        extender: Extender,
        plane: ControlPlane,
        logger: Logger
    ) async throws -> KubernetesNodes {
        let client = try KubernetesClient(configuration: configuration, logger: logger)
        let directory = extender.nodes
        let watcher = NodeWatcher(
            client: client,
            logger: logger,
            onChange: { nodes in
                directory.replace(with: nodes.map { (name: $0.name, labels: $0.labels) })
                extender.remeasureBoundPods()
            }
        )
        // A new retry value on every node after a restart, and on a site's nodes whenever it gains room.
        let retry = SchedulingRetry()
        retry.observe(extender.current)
        let (holds, hold) = AsyncStream.makeStream(of: [HeldAccelerators].self, bufferingPolicy: .bufferingNewest(1))
        let labeller = NodeLabeller(
            client: client,
            watcher: watcher,
            logger: logger,
            desired: { node in retry.labels(forNode: node.labels, in: extender.current) }
        )
        let pods = ResourceWatcher<BoundPod>(
            client: client,
            selector: BoundPod.boundAndUnfinished,
            logger: logger,
            onChange: { pods in
                extender.updateBoundPods(pods)
                let state = extender.current
                retry.observe(state)
                labeller.refresh()
                hold.yield(Self.held(state))
            }
        )
        await plane.observePlans { _ in
            retry.observe(extender.current)
            labeller.refresh()
        }
        return KubernetesNodes(
            client: client,
            watcher: watcher,
            pods: pods,
            labeller: labeller,
            plane: plane,
            holds: holds,
            logger: logger
        )
    }

    /// What the bound pods hold, by pool, for the control plane.
    static func held(_ state: ExtenderSnapshot) -> [HeldAccelerators] {
        state.candidates.enumerated().compactMap { c, candidate in
            let count = state.bound.accelerators[c]
            return count > 0
                ? HeldAccelerators(site: candidate.siteIndex, pool: candidate.pool.name, accelerators: count) : nil
        }
    }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await watcher.run() }
                    group.addTask { try await pods.run() }
                    group.addTask { try await labeller.run() }
                    group.addTask { for await held in holds { await plane.setHeldAccelerators(held) } }
                }
            }
        } catch is CancellationError {
            // Shutting down.
        }
        try await client.shutdown()
    }
}
