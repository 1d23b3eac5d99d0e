/// How the extender answers kube-scheduler, fixed when `serve` starts.
public struct ExtenderOptions: Sendable, Hashable {
    /// The oldest kube-scheduler that reads `FailedAndUnresolvableNodes` (added to `ExtenderFilterResult` in
    /// Kubernetes 1.21); an older one drops the field, and `kubectl describe` shows no reason for those nodes.
    public static let minimumSchedulerVersion = "1.21"

    /// Also list every node of `FailedAndUnresolvableNodes` in `FailedNodes`, with the same reason, for a
    /// kube-scheduler older than ``minimumSchedulerVersion``. A 1.21 or later scheduler keeps the
    /// unresolvable verdict (`FailedAndUnresolvableNodes` takes precedence when a node is in both), so the
    /// only cost is bytes; an older one sees the reasons but may try to preempt for such nodes.
    public var unresolvableAlsoFailed: Bool
    /// Whether scores spread pods over pools, pack them, or ignore how full pools are.
    public var fill: FillPolicy

    /// Options with the given compatibility switch (off by default) and fill policy (`ignore` by default).
    public init(unresolvableAlsoFailed: Bool = false, fill: FillPolicy = .ignore) {
        self.unresolvableAlsoFailed = unresolvableAlsoFailed
        self.fill = fill
    }

    /// What `serve` tells the operator when the extender listens: the kube-scheduler version it needs, and
    /// what these options do about an older one.
    public var startNote: String {
        let requirement =
            "scheduler extender: needs kube-scheduler \(Self.minimumSchedulerVersion) or later, which reads "
            + "FailedAndUnresolvableNodes (residency, policy and hardware refusals)"
        if unresolvableAlsoFailed {
            return requirement
                + "; those nodes are listed in FailedNodes too (--extender-unresolvable-as-failed), so an older "
                + "scheduler shows their reasons"
        }
        return requirement
            + "; an older one shows no reason for them (add --extender-unresolvable-as-failed to list them in "
            + "FailedNodes too)"
    }
}

/// How `prioritize` weighs how full each pool is (`--extender-fill`). The planner's scorers see a pool's
/// hardware, energy, carbon and data locality, never how much of it pods already hold, so on their own they
/// send every pod to the same best pool. A fill policy adds one term, weighted as much as all the planner's
/// scorers together, from the pod watch: the pool's fill `f` (accelerators held by bound pods over the pool's
/// count, at most 1) and its site's power headroom `h` (IT room left now over the IT limit, 0...1).
public enum FillPolicy: String, Sendable, Hashable, CaseIterable {
    /// The planner's scores alone (the default: scores as before fill was known).
    case ignore
    /// Emptier pools at sites with more power headroom first: `(1 − f + h) / 2`. Spreads load, keeps every
    /// site's power margin, and keeps whole nodes free nowhere.
    case spread
    /// Fuller pools first: `f`. Keeps other pools (and their nodes) whole for large pods, and idle pools
    /// can be powered down.
    case pack

    /// The fill term in 0...1.
    func score(fill f: Double, headroom h: Double) -> Double {
        switch self {
        case .ignore: 0
        case .spread: (1 - f + h) / 2
        case .pack: f
        }
    }
}
