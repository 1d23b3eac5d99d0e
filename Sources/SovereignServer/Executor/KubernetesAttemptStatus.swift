public import SovereignKubernetes

/// How an attempt run as a Kubernetes Job is doing, decided from its Job and pods as listed (a pure mapping).
public enum KubernetesAttemptStatus: Sendable {
    /// Container waiting reasons that never clear by themselves: the attempt did not run.
    static let stuck: Set<String> = [
        "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError",
    ]
    /// Terminated reasons that add nothing to the exit status.
    static let plain: Set<String> = ["Completed", "Error"]
    /// The longest reason kept (a kubelet message can run long).
    static let reasonLimit = 200

    /// The observation of one attempt.
    ///
    /// - Parameters:
    ///   - job: Its Job, if listed.
    ///   - pods: Its pods (a Job with `backoffLimit: 0` has one, or none yet, or none any more).
    /// - Returns: `running` while a pod runs or waits to, or the Job exists without an outcome; `ended` with the
    ///   container's exit code and Kubernetes' reason (`OOMKilled`, `Evicted: ...`, `DeadlineExceeded: ...`);
    ///   `gone` when neither Job nor pod exists.
    public static func observe(job: KubernetesJob?, pods: [KubernetesPod]) -> AttemptObservation {
        if pods.contains(where: isLive) { return .running }
        if let pod = pods.first { return .ended(ended(pod)) }
        guard let job else { return .gone }
        return ended(job).map(AttemptObservation.ended) ?? .running
    }

    /// Whether a pod still runs, or waits to run (it has not reached a final phase, and nothing blocks it for good).
    static func isLive(_ pod: KubernetesPod) -> Bool {
        switch pod.status?.phase {
        case "Succeeded", "Failed": return false
        default: return stuckReason(pod) == nil
        }
    }

    /// How a pod that no longer runs ended.
    static func ended(_ pod: KubernetesPod) -> ExitStatus {
        if let reason = stuckReason(pod) { return ExitStatus(refused: reason) }
        let terminated = pod.status?.containerStatuses?.first { $0.name == KubernetesAttemptJob.containerName }?
            .state?.terminated
        var status = ExitStatus(exit: terminated?.exitCode ?? (pod.status?.phase == "Succeeded" ? 0 : nil))
        status.signal = terminated?.signal.flatMap { $0 == 0 ? nil : $0 }
        // The pod's reason (Evicted, DeadlineExceeded) explains more than its container's (Error).
        if let reason = pod.status?.reason {
            status.reason = words(reason, pod.status?.message)
        } else if let reason = terminated?.reason, !plain.contains(reason) {
            status.reason = words(reason, terminated?.message)
        }
        return status
    }

    /// How a Job without pods ended, from its conditions: `nil` while it has no outcome.
    static func ended(_ job: KubernetesJob) -> ExitStatus? {
        let conditions = (job.status?.conditions ?? []).filter { $0.status == "True" }
        if conditions.contains(where: { $0.type == "Complete" || $0.type == "SuccessCriteriaMet" }) {
            return ExitStatus(exit: 0)
        }
        guard let failed = conditions.first(where: { $0.type == "Failed" || $0.type == "FailureTarget" }) else {
            return nil
        }
        var status = ExitStatus()
        status.reason = words(failed.reason ?? "Failed", failed.message)
        return status
    }

    /// The reason a pod's container cannot start, when it never will by itself.
    static func stuckReason(_ pod: KubernetesPod) -> String? {
        for container in pod.status?.containerStatuses ?? [] {
            if let waiting = container.state?.waiting, let reason = waiting.reason, stuck.contains(reason) {
                return words(reason, waiting.message)
            }
        }
        return nil
    }

    static func words(_ reason: String, _ message: String?) -> String {
        let text = message.map { $0.isEmpty ? reason : "\(reason): \($0)" } ?? reason
        return text.count <= reasonLimit ? text : String(text.prefix(reasonLimit - 3)) + "..."
    }
}
