/// The label and annotation keys Sovereign reads and writes on Kubernetes objects.
public enum KubernetesLabels: Sendable {
    /// Node label: the fleet site the node belongs to.
    public static let site = "sovereign.dev/site"
    /// Node label: the accelerator pool (within its site) the node belongs to.
    public static let pool = "sovereign.dev/pool"
    /// Node label Sovereign keeps current: `ok`, `constrained` or `shedding`.
    public static let powerState = "sovereign.dev/power-state"
    /// Node label Sovereign keeps current: `ok`, `constrained` or `shedding`.
    public static let thermalState = "sovereign.dev/thermal-state"
    /// Node label Sovereign changes after it starts and whenever its site gains room, so kube-scheduler
    /// retries the pods it parked (a node update requeues them) instead of waiting out its back-off.
    public static let retry = "sovereign.dev/retry"
    /// Well-known node label of the cloud region (or, on premises, whatever the operator maps to a site).
    public static let region = "topology.kubernetes.io/region"
    /// Well-known node label of the zone within a region.
    public static let zone = "topology.kubernetes.io/zone"
    /// Pod annotation: the declared workload the pod runs.
    public static let workload = "sovereign.dev/workload"
    /// Pod annotation: comma-separated datasets the pod reads.
    public static let datasets = "sovereign.dev/datasets"
    /// Label on the Jobs and pods Sovereign's Kubernetes executor makes: the attempt's store id (its fencing
    /// epoch). Such a pod is Sovereign's own attempt, whose power the control plane already counts.
    public static let attemptID = "sovereign.dev/attempt-id"
    /// Pod annotation: the most restrictive classification of data the pod touches.
    public static let classification = "sovereign.dev/classification"
}
