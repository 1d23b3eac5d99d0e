import Logging
import ServiceLifecycle
import SovereignKubernetes

/// The node watch and the node labeller, as one service of `sovereign serve --kubernetes`: the watch keeps
/// the extender's node directory current (node-cache requests name nodes only), and the labeller keeps
/// `sovereign.dev/power-state` and `sovereign.dev/thermal-state` on the fleet's nodes equal to what the last
/// control-loop pass says, so kube-scheduler retries the pods it parked when a site's conditions change.
struct KubernetesNodes: Service {
    let client: KubernetesClient
    let watcher: NodeWatcher
    let labeller: NodeLabeller
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
            onChange: { nodes in directory.replace(with: nodes.map { (name: $0.name, labels: $0.labels) }) }
        )
        let labeller = NodeLabeller(
            client: client,
            watcher: watcher,
            logger: logger,
            desired: { node in extender.current.desiredLabels(forNode: node.labels) }
        )
        await plane.observePlans { _ in labeller.refresh() }
        return KubernetesNodes(client: client, watcher: watcher, labeller: labeller, logger: logger)
    }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await watcher.run() }
                    group.addTask { try await labeller.run() }
                }
            }
        } catch is CancellationError {
            // Shutting down.
        }
        try await client.shutdown()
    }
}
