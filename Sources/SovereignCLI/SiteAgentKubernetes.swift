import ArgumentParser
import Foundation
import Logging
import SovereignKubernetes
import SovereignModel
import SovereignServer

/// `site-agent --executor kubernetes`'s options: the cluster, the namespace, and the fleet that says each pool's
/// accelerators (for the device plugin's resource) and nodes.
struct KubernetesExecutorOptions: ParsableArguments {
    @Option(help: "The kubeconfig file (default: in-cluster, the pod's service account).")
    var kubeconfig: String?

    @Option(name: .customLong("kube-context"), help: "The kubeconfig context to use (default: its current-context).")
    var kubeContext: String?

    @Option(help: "The namespace of the attempts' Jobs and claims (default: the pod's own, else \"default\").")
    var namespace: String?

    @Option(help: "A fleet spec file or directory (repeatable): the site's pools, their accelerators and nodes.")
    var fleet: [String] = []

    @Option(name: .customLong("claim-size"), help: "Each workload's checkpoint claim, a Kubernetes quantity.")
    var claimSize = "50Gi"

    @Option(name: .customLong("storage-class"), help: "The claims' storage class (default: the cluster's).")
    var storageClass: String?

    /// The executor for `site`, and the client it holds (shut it down after the agent stops).
    ///
    /// - Throws: `ExitCode.validationFailure` (with what was expected and found on standard error) for options
    ///   that do not fit, `ExitCode.failure` for a configuration or fleet that cannot be read.
    func makeExecutor(site: String, logger: Logger) throws -> (KubernetesJobExecutor, KubernetesClient) {
        let placements = try pools(of: site)
        let namespace = try resolvedNamespace()
        guard KubernetesQuantity.bytes(claimSize) != nil else {
            printError("--claim-size: expected a Kubernetes quantity like 50Gi, found \"\(claimSize)\"")
            throw ExitCode.validationFailure
        }
        let configuration: KubernetesAPIConfiguration
        do {
            configuration =
                try kubeconfig.map { try .kubeconfig(path: $0, context: kubeContext) }
                ?? .inCluster(environment: ProcessInfo.processInfo.environment)
        } catch let error as KubernetesConfigurationError {
            printError("--kubeconfig: \(error.description)")
            throw ExitCode.failure
        }
        let client = try KubernetesClient(configuration: configuration, logger: logger)
        let executor = KubernetesJobExecutor(
            api: client,
            namespace: namespace,
            settings: .init(site: site, claimSize: claimSize, storageClass: storageClass),
            pools: placements,
            logger: logger
        )
        return (executor, client)
    }

    /// Placements of the site's pools, from `--fleet`.
    func pools(of site: String) throws -> [String: KubernetesPoolPlacement] {
        guard !fleet.isEmpty else {
            printError("--fleet: expected the fleet's spec files (the site's pools and accelerators), found none")
            throw ExitCode.validationFailure
        }
        let loaded = try loadFleetOrExit(fleet)
        guard let described = loaded.site(named: site) else {
            printError("--site: expected a site of the fleet in --fleet, found \"\(site)\"")
            throw ExitCode.validationFailure
        }
        return KubernetesPoolPlacement.table(site: described, catalog: loaded.catalog)
    }

    /// `--namespace`, else the namespace of the pod the agent runs in, else `default`.
    func resolvedNamespace() throws -> String {
        let mounted = try? String(
            contentsOfFile: KubernetesAPIConfiguration.defaultServiceAccountDirectory + "/namespace",
            encoding: .utf8
        )
        let name = namespace ?? mounted?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "default"
        guard SpecNames.isObjectName(name), !name.contains("."), name.utf8.count <= 63 else {
            printError("--namespace: expected a namespace name (a DNS-1123 label), found \"\(name)\"")
            throw ExitCode.validationFailure
        }
        return name
    }
}

extension SiteAgentCommand {
    /// Runs `body` with the executor `--executor` names (`nil`: the agent's own local one; Slurm's for the
    /// agent's workloads directory), closing the Kubernetes client afterwards.
    ///
    /// - Throws: `ExitCode.validationFailure` for Kubernetes options without `--executor kubernetes`, and what
    ///   ``KubernetesExecutorOptions/makeExecutor(site:logger:)`` and `body` throw.
    func withSiteExecutor(_ body: ((any Executor)?) async throws -> Void) async throws {
        guard executorOptions.kind == .kubernetes else {
            if let given = kubernetes.givenOption {
                let kind = executorOptions.kind.rawValue
                printError("\(given): expected --executor kubernetes with it, found --executor \(kind)")
                throw ExitCode.validationFailure
            }
            let workloads = SiteAgent.workloads(under: URL(fileURLWithPath: workDirectory, isDirectory: true))
            return try await body(executorOptions.slurmExecutor(site: site, workloads: workloads))
        }
        let (made, client) = try kubernetes.makeExecutor(site: site, logger: Logger(label: "sovereign.site-agent"))
        do {
            try await body(made)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}

extension KubernetesExecutorOptions {
    /// The first Kubernetes option given, for the error when the executor is not Kubernetes.
    var givenOption: String? {
        if kubeconfig != nil { return "--kubeconfig" }
        if kubeContext != nil { return "--kube-context" }
        if namespace != nil { return "--namespace" }
        if !fleet.isEmpty { return "--fleet" }
        if storageClass != nil { return "--storage-class" }
        return nil
    }
}
